#include "gateway/tls/client_policy.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gateway/tls/openssl_errors.h"
#include "gateway/tls/tls_context.h"

namespace acp::tls {

namespace {

thread_local std::string tRefusal;  // takeRefusal()'s record, per handshaking thread

int noPassphrase(char*, int, int, void*) { return 0; }

bool isIpLiteral(const char* host) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host);
  if (!ip) return false;
  ASN1_OCTET_STRING_free(ip);
  return true;
}

// OpenSSL's verification of the chain, then the host name check on the end-entity
// certificate. Nothing overrides a failure.
int verifyPeer(int preverifyOk, X509_STORE_CTX* store) {
  int depth = X509_STORE_CTX_get_error_depth(store);
  if (!preverifyOk) {
    if (tRefusal.empty())
      tRefusal = std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(store))) +
                 " at depth " + std::to_string(depth);
    return 0;
  }
  if (depth != 0) return 1;
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const char* host = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : nullptr;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  if (!host || !*host || !cert) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
    tRefusal = "no host name to check the certificate against";
    return 0;
  }
  bool ip = isIpLiteral(host);
  bool matches =
      ip ? X509_check_ip_asc(cert, host, 0) == 1
         : X509_check_host(cert, host, 0,
                           X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
                               X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                           nullptr) == 1;
  if (!matches) {
    X509_STORE_CTX_set_error(store,
                             ip ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH);
    tRefusal = std::string("the certificate's subjectAltName does not name ") + host;
    return 0;
  }
  return 1;
}

}  // namespace

Status applyClientPolicy(ssl_ctx_st* ctx, const ClientTlsOptions& options) {
  ERR_clear_error();
  if (!ctx) return Status::internal("no TLS client context");
  if (options.certificate.empty() != options.privateKey.empty())
    return Status::invalid(options.certificate.empty()
                               ? "certificate: a privateKey is configured without its certificate"
                               : "privateKey: a certificate is configured without its key");
  if (!options.caCertificates.empty())
    if (Status s = readableFile("caCertificates", options.caCertificates); !s.isOk()) return s;
  if (!options.certificate.empty()) {
    for (Status s : {readableFile("certificate", options.certificate),
                     readableFile("privateKey", options.privateKey)})
      if (!s.isOk()) return s;
  }

  // Protocol and suites: the listeners' policy.
  SSL_CTX_set_security_level(ctx, 2);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kNhsCipherList) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13CipherSuites) != 1)
    return Status::internal("cannot set the TLS protocol policy: " + opensslError());
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_default_passwd_cb(ctx, noPassphrase);

  // Whom to trust: the configured CAs only, or the system's.
  if (!options.caCertificates.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.caCertificates.c_str(), nullptr) != 1)
      return Status::invalid("caCertificates: " + options.caCertificates +
                             " holds no usable PEM certificate (" + opensslError() + ")");
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Status::invalid("caCertificates: the system's trusted CAs cannot be loaded (" +
                           opensslError() + ")");
  }
  SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  SSL_CTX_set_verify_depth(ctx, kVerifyDepth);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verifyPeer);

  // The client certificate, for servers that ask for one.
  if (!options.certificate.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.certificate.c_str()) != 1)
      return Status::invalid("certificate: " + options.certificate +
                             " holds no usable PEM certificate (" + opensslError() + ")");
    if (SSL_CTX_use_PrivateKey_file(ctx, options.privateKey.c_str(), SSL_FILETYPE_PEM) != 1) {
      std::string why = opensslError();
      if (why.find("mismatch") != std::string::npos)  // read, but another certificate's
        return Status::invalid("privateKey: " + options.privateKey + " is not the key of " +
                               options.certificate + " (" + why + ")");
      return Status::invalid("privateKey: " + options.privateKey +
                             " holds no usable unencrypted PEM key (" + why + ")");
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
      return Status::invalid("privateKey: " + options.privateKey + " is not the key of " +
                             options.certificate + " (" + opensslError() + ")");
    if (X509* own = SSL_CTX_get0_certificate(ctx))
      if (X509_cmp_current_time(X509_get0_notAfter(own)) <= 0)
        return Status::invalid("certificate: " + options.certificate + " has expired");
  }
  ERR_clear_error();
  return Status::ok();
}

std::string describeClientPolicy(const ClientTlsOptions& options) {
  return std::string("TLS 1.2+, CAs from ") +
         (options.caCertificates.empty() ? "the system's trust store" : options.caCertificates) +
         (options.certificate.empty() ? ", no client certificate"
                                      : ", client certificate " + options.certificate);
}

std::string takeRefusal() {
  std::string out;
  out.swap(tRefusal);
  return out;
}

}  // namespace acp::tls
