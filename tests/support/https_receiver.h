// HttpsReceiver — the Receiver of http_receiver.h over real TLS (Poco's SecureServerSocket on
// 127.0.0.1, OpenSSL): a Subscription's https:// rest-hook for tests. It serves the
// certificate it is given (the build's development certificates, certs/make-dev-certs.sh)
// and, with clientCa, requires a client certificate that chains to it (mutual TLS); each
// request records that certificate's CN (Received::clientCertificate).
// Poco's SSLManager plays no part: client certificates are verified by OpenSSL alone, and
// Poco's post-handshake host check (meaningless for a client) is off.
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/X509Certificate.h>
#include <openssl/ssl.h>

#include <string>

#include "tests/support/http_receiver.h"

namespace acp::testing {

struct HttpsReceiverOptions {
  std::string certificate;  // PEM: the receiver's certificate
  std::string key;          // PEM: its key
  std::string clientCa;     // PEM: "" = no client certificate asked for; else one is required
};

class HttpsReceiver : public Receiver {
 public:
  explicit HttpsReceiver(const HttpsReceiverOptions& options, int status = 200)
      : Receiver(listen(options), "https", status, &clientCertificateOf) {}

 private:
  static Poco::Net::SecureServerSocket listen(const HttpsReceiverOptions& options) {
    Poco::Net::Context::Params params;
    params.certificateFile = options.certificate;
    params.privateKeyFile = options.key;
    params.caLocation = options.clientCa;
    params.loadDefaultCAs = false;
    params.cipherList = "DEFAULT";
    int mode = options.clientCa.empty() ? SSL_VERIFY_NONE
                                        : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    params.verificationMode = static_cast<Poco::Net::Context::VerificationMode>(mode);
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    context->enableExtendedCertificateVerification(false);
    SSL_CTX_set_verify(context->sslContext(), mode, nullptr);  // OpenSSL decides, alone
    if (!options.clientCa.empty())
      SSL_CTX_set_client_CA_list(context->sslContext(),
                                 SSL_load_client_CA_file(options.clientCa.c_str()));
    return Poco::Net::SecureServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, context);
  }

  static std::string clientCertificateOf(Poco::Net::HTTPServerRequest& rq) {
    Poco::Net::SecureStreamSocket socket(
        static_cast<Poco::Net::HTTPServerRequestImpl&>(rq).socket());
    return socket.havePeerCertificate() ? socket.peerCertificate().commonName() : "";
  }
};

}  // namespace acp::testing
