#include "gateway/tls/tls_context.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "gateway/tls/openssl_errors.h"

namespace acp::tls {

bool parseClientCertificates(const std::string& text, ClientCertificates& out) {
  if (text == "required") {
    out = ClientCertificates::kRequired;
  } else if (text == "optional") {
    out = ClientCertificates::kOptional;
  } else if (text == "none") {
    out = ClientCertificates::kNone;
  } else {
    return false;
  }
  return true;
}

const char* clientCertificatesName(ClientCertificates mode) {
  switch (mode) {
    case ClientCertificates::kRequired:
      return "required";
    case ClientCertificates::kOptional:
      return "optional";
    case ClientCertificates::kNone:
      return "none";
  }
  return "required";
}

namespace {

// A key that asks for a passphrase is refused instead of prompting on the terminal.
int noPassphrase(char*, int, int, void*) { return 0; }

int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---- session ticket keys ----------------------------------------------------------------

struct TlsContext::TicketKeys {
  struct Key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    bool valid = false;
  };
  std::mutex mutex;
  Key current, previous;
  int64_t currentSince = 0;  // when `current` nominally became current
  int64_t periodMs = 0;
  std::function<int64_t()> clock;

  ~TicketKeys() {
    OPENSSL_cleanse(&current, sizeof current);
    OPENSSL_cleanse(&previous, sizeof previous);
  }

  static bool fresh(Key& k) {
    k.valid = RAND_bytes(k.name, sizeof k.name) == 1 && RAND_bytes(k.aes, sizeof k.aes) == 1 &&
              RAND_bytes(k.hmac, sizeof k.hmac) == 1;
    return k.valid;
  }

  // Keys change on a fixed schedule (every periodMs from the first key), applied lazily.
  void rotateIfDue(int64_t now) {
    if (!current.valid) {
      fresh(current);
      currentSince = now;
      return;
    }
    int64_t age = now - currentSince;
    if (age < periodMs) return;
    if (age < 2 * periodMs) {
      previous = current;
      currentSince += periodMs;
    } else {  // idle for more than a period: the current key is too old to keep as well
      OPENSSL_cleanse(&previous, sizeof previous);
      previous.valid = false;
      currentSince = now;
    }
    fresh(current);
  }
};

// The callback OpenSSL calls to seal (enc = 1) or open (enc = 0) a session ticket.
struct TicketCallback {
  static int run(SSL* ssl, unsigned char* keyName, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                 EVP_MAC_CTX* mac, int enc) {
    auto* self = static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    if (!self || !self->tickets_) return 0;
    TlsContext::TicketKeys& keys = *self->tickets_;
    std::lock_guard<std::mutex> lock(keys.mutex);
    keys.rotateIfDue(keys.clock ? keys.clock() : steadyMs());
    const TlsContext::TicketKeys::Key* key = nullptr;
    int found = 1;
    if (enc) {
      if (!keys.current.valid) return 0;  // no ticket this time
      key = &keys.current;
      std::memcpy(keyName, key->name, sizeof key->name);
      if (RAND_bytes(iv, 16) != 1) return -1;
    } else {
      if (keys.current.valid && std::memcmp(keyName, keys.current.name, 16) == 0) {
        key = &keys.current;
      } else if (keys.previous.valid && std::memcmp(keyName, keys.previous.name, 16) == 0) {
        key = &keys.previous;
        found = 2;  // accepted, and a ticket under the current key is issued
      } else {
        return 0;  // unknown or expired key: a full handshake
      }
    }
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(
        OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key->hmac), sizeof key->hmac);
    params[1] =
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
    params[2] = OSSL_PARAM_construct_end();
    int ok = enc ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv)
                 : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv);
    if (ok != 1 || EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
    return found;
  }
};

// ---- the context --------------------------------------------------------------------------

TlsContext::TlsContext(TlsOptions options) : options_(std::move(options)) {}

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

Result<std::shared_ptr<TlsContext>> TlsContext::create(const TlsOptions& options) {
  ERR_clear_error();
  std::shared_ptr<TlsContext> self(new TlsContext(options));
  for (Status s :
       {readableFile("certificate", options.certificate), readableFile("privateKey", options.privateKey),
        options.clientCertificates == ClientCertificates::kNone
            ? Status::ok()
            : readableFile("caCertificates", options.caCertificates)})
    if (!s.isOk()) return s;
  if (options.ticketKeyRotationSeconds < 0)
    return Status::invalid("ticketKeyRotationSeconds: must not be negative");

  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return Status::internal("cannot create a TLS context: " + opensslError());
  self->ctx_ = ctx;
  SSL_CTX_set_app_data(ctx, self.get());
  SSL_CTX_set_default_passwd_cb(ctx, noPassphrase);

  // Protocol and suites.
  SSL_CTX_set_security_level(ctx, 2);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kNhsCipherList) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13CipherSuites) != 1)
    return Status::internal("cannot set the TLS protocol policy: " + opensslError());
  SSL_CTX_set_dh_auto(ctx, 1);  // the EDH suites of the NHS list
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Non-blocking use (tls_connection.h): partial writes, a retried write may come from a moved
  // buffer, and idle connections give their record buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);

  // The server's certificate and key.
  if (SSL_CTX_use_certificate_chain_file(ctx, options.certificate.c_str()) != 1)
    return Status::invalid("certificate: " + options.certificate +
                           " holds no usable PEM certificate (" + opensslError() + ")");
  if (SSL_CTX_use_PrivateKey_file(ctx, options.privateKey.c_str(), SSL_FILETYPE_PEM) != 1)
    return Status::invalid("privateKey: " + options.privateKey +
                           " holds no usable unencrypted PEM key (" + opensslError() + ")");
  if (SSL_CTX_check_private_key(ctx) != 1)
    return Status::invalid("privateKey: " + options.privateKey + " is not the key of " +
                           options.certificate + " (" + opensslError() + ")");
  if (X509* own = SSL_CTX_get0_certificate(ctx)) {
    if (X509_cmp_current_time(X509_get0_notAfter(own)) <= 0)
      return Status::invalid("certificate: " + options.certificate + " has expired");
  }

  // Client certificates: only the configured CAs are trusted.
  if (options.clientCertificates != ClientCertificates::kNone) {
    if (SSL_CTX_load_verify_locations(ctx, options.caCertificates.c_str(), nullptr) != 1)
      return Status::invalid("caCertificates: " + options.caCertificates +
                             " holds no usable PEM certificate (" + opensslError() + ")");
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.caCertificates.c_str());
    if (!names || sk_X509_NAME_num(names) == 0) {
      if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
      ERR_clear_error();
      return Status::invalid("caCertificates: " + options.caCertificates + " holds no certificate");
    }
    SSL_CTX_set_client_CA_list(ctx, names);  // sent in the CertificateRequest
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
    SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    SSL_CTX_set_verify_depth(ctx, kVerifyDepth);
    SSL_CTX_set_verify(ctx,
                       options.clientCertificates == ClientCertificates::kRequired
                           ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                           : SSL_VERIFY_PEER,
                       nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }

  // Sessions: stateless tickets under rotated keys, no server-side cache. The session id
  // context is what lets a session verified with a client certificate be resumed.
  static const unsigned char kSessionContext[] = "acp-gateway";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (options.ticketKeyRotationSeconds > 0) {
    self->tickets_ = std::make_unique<TicketKeys>();
    self->tickets_->periodMs = options.ticketKeyRotationSeconds * 1000LL;
    self->tickets_->clock = options.clock;
    SSL_CTX_set_timeout(ctx, options.ticketKeyRotationSeconds);  // the lifetime hint
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &TicketCallback::run);
  } else {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  ERR_clear_error();
  return self;
}

std::string TlsContext::describe() const {
  return std::string("TLS 1.2+, client certificates ") +
         clientCertificatesName(options_.clientCertificates) +
         (options_.ticketKeyRotationSeconds > 0
              ? ", ticket keys rotated every " + std::to_string(options_.ticketKeyRotationSeconds) +
                    " s"
              : ", no session tickets");
}

}  // namespace acp::tls
