// TlsContext — the server side of TLS for the gateway's listeners (http/http_server.h and
// mllp/mllp_listener.h): one OpenSSL SSL_CTX built from TlsOptions, shared by every connection
// of both. Per-connection work is tls_connection.h's.
//
// Policy (docs/security.md, "Transport"; ../shared/reference/security.md):
//   - TLS 1.2 at least; TLS 1.3 whenever the client offers it. SSL 3, TLS 1.0 and 1.1 are
//     refused in the handshake (alert protocol_version).
//   - TLS 1.2 cipher suites: the NHS list kNhsCipherList (forward secret, AES; in practice
//     AES-GCM with ECDHE or DHE), in the server's order of preference. TLS 1.3: AES-256-GCM,
//     ChaCha20-Poly1305, AES-128-GCM. Security level 2 (RSA keys of 2048 bits and more, no
//     SHA-1 signatures). No compression.
//   - No renegotiation of any kind (SSL_OP_NO_RENEGOTIATION).
//   - Client certificates (ClientCertificates): kRequired — the handshake fails unless the
//     client presents a certificate that verifies against caCertificates (and only those: the
//     system's trust store is never used); kOptional — a certificate is asked for, and one
//     that is presented must verify; kNone — none is asked for. Verification is strict:
//     X509_V_FLAG_X509_STRICT and the TLS-client purpose (an extendedKeyUsage, when present,
//     must allow clientAuth), a chain of at most kVerifyDepth certificates.
//   - Resumption by stateless session tickets only (no server-side session cache). The ticket
//     keys are random, held in memory only, and rotated every ticketKeyRotationSeconds: a
//     ticket is accepted while its key is the current or the previous one (so for one to two
//     periods) and is renewed when its key is the previous one. A resumed session keeps the
//     client certificate it was verified with. 0 turns tickets, and so resumption, off.
// Thread-safety: create() once; the context is then used from any number of threads.
// Error contract: create() returns Status::invalid whose message starts with the field at
// fault ("certificate: ", "privateKey: ", "caCertificates: ") and names the file and the
// reason: missing or unreadable, not PEM, an encrypted key, a key that does not belong to
// the certificate, an expired certificate, a CA bundle holding no certificate.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gateway/core/status.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace acp::tls {

// The NHS's TLS 1.2 cipher list (../shared/reference/security.md).
inline constexpr const char* kNhsCipherList = "AESGCM+EECDH:AESGCM+EDH:AES256+EECDH:AES256+EDH";
inline constexpr const char* kTls13CipherSuites =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
inline constexpr int kVerifyDepth = 5;

enum class ClientCertificates { kRequired, kOptional, kNone };
// "required", "optional", "none"; false for anything else.
bool parseClientCertificates(const std::string& text, ClientCertificates& out);
const char* clientCertificatesName(ClientCertificates mode);

struct TlsOptions {
  std::string certificate;     // PEM: the server's certificate, then its intermediates
  std::string privateKey;      // PEM, unencrypted: the certificate's key
  std::string caCertificates;  // PEM: the CAs that issue client certificates (unused for kNone)
  ClientCertificates clientCertificates = ClientCertificates::kRequired;
  int ticketKeyRotationSeconds = 3600;  // 0 = no session tickets (no resumption)
  // Milliseconds on any monotonic scale, for the ticket key rotation; tests inject one.
  // Empty: std::chrono::steady_clock.
  std::function<int64_t()> clock;
};

class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* native() const { return ctx_; }
  const TlsOptions& options() const { return options_; }
  // "TLS 1.2+, client certificates required" — for the start-up log.
  std::string describe() const;

 private:
  struct TicketKeys;
  explicit TlsContext(TlsOptions options);
  friend struct TicketCallback;

  TlsOptions options_;
  ssl_ctx_st* ctx_ = nullptr;
  std::unique_ptr<TicketKeys> tickets_;
};

}  // namespace acp::tls
