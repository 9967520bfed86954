// Client policy — the client side of TLS for the gateway's outgoing connections (today the
// Subscription deliveries, notify/delivery_tls.h): what an SSL_CTX made for connecting to
// others must do. Pure OpenSSL; whoever owns the SSL_CTX (e.g. a Poco::Net::Context) applies
// the policy to it once, before the first connection.
//
// Policy (docs/security.md, "Transport", "Outgoing connections"):
//   - TLS 1.2 at least; the same suites as the listeners (tls_context.h: kNhsCipherList for
//     TLS 1.2, kTls13CipherSuites), security level 2, no renegotiation, no compression.
//   - The peer's certificate must chain to caCertificates — those CAs only — or, when that is
//     empty, to the system's trust store (OpenSSL's default paths: /etc/ssl/certs on Debian);
//     chains of at most kVerifyDepth; the TLS-server purpose (an extendedKeyUsage, when
//     present, must allow serverAuth).
//   - Host name: the end-entity certificate's subjectAltName must name the host connected to
//     (a DNS name, wildcards only as a whole left-most label, or an IP address for an IP
//     literal); the subject's CN is never used. The host is the connection's SNI name
//     (SSL_set_tlsext_host_name, which Poco's SecureSocketImpl sets to the URL's host); a
//     connection without one is refused (fail closed).
//   - Verification failures fail the handshake; nothing can accept a refused certificate (no
//     callback consults anything else, e.g. Poco's SSLManager and its certificate handlers).
//   - certificate/privateKey (optional, both or neither): the client certificate presented to
//     a server that asks for one (mutual TLS).
// Thread-safety: applyClientPolicy() once per SSL_CTX, before use; takeRefusal() reads the
// calling thread's own record (OpenSSL verifies on the thread that runs the handshake).
// Error contract: applyClientPolicy() returns Status::invalid whose message starts with the
// field at fault ("caCertificates: ", "certificate: ", "privateKey: ") and names the file and
// the reason, as TlsContext::create() does.
#pragma once

#include <string>

#include "gateway/core/status.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace acp::tls {

struct ClientTlsOptions {
  std::string caCertificates;  // PEM: the CAs peers' certificates must chain to; "" = system's
  std::string certificate;     // PEM: the client certificate, then its intermediates; "" = none
  std::string privateKey;      // PEM, unencrypted: its key (set exactly when certificate is)
};

// Applies the policy to `ctx`, an SSL_CTX made with TLS_client_method().
Status applyClientPolicy(ssl_ctx_st* ctx, const ClientTlsOptions& options);

// "TLS 1.2+, CAs from /etc/acp/partner-cas.pem, client certificate /etc/acp/notify.crt" — for
// the start-up log.
std::string describeClientPolicy(const ClientTlsOptions& options);

// Why the last handshake on this thread refused the peer's certificate ("hostname mismatch
// for notify.example.org", "unable to get local issuer certificate at depth 1"), or "" when
// none did since the last call; the record is cleared.
std::string takeRefusal();

}  // namespace acp::tls
