// The client side of TLS (tls/client_policy.h) as Subscription deliveries use it
// (notify/delivery_tls.h): the protocol floor and verification it sets, and the errors that
// stop the gateway's start (exit code 78) when gateway.notify.* files are missing or wrong.
// Its behaviour against real endpoints is tests/tls/notify_tls_test.cc's.
#include "gateway/tls/client_policy.h"

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <fstream>
#include <string>

#include "gateway/notify/delivery_tls.h"
#include "tests/tls/tls_client.h"

namespace acp::tls {
namespace {

using testing::certFile;

class TempFile {
 public:
  explicit TempFile(const std::string& text) : path_(Poco::TemporaryFile::tempName()) {
    std::ofstream(path_) << text;
  }
  ~TempFile() { Poco::File(path_).remove(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string errorOf(const ClientTlsOptions& o) {
  auto made = notify::makeDeliveryContext(o);
  if (made.isOk()) return "";
  EXPECT_EQ(made.status().code(), Status::Code::kInvalid) << made.status().message();
  return made.status().message();
}

TEST(ClientPolicy, TheContextVerifiesPeersAndSpeaksTls12AtLeast) {
  for (const ClientTlsOptions& o :
       {ClientTlsOptions{}, ClientTlsOptions{certFile("ca.crt"), "", ""},
        ClientTlsOptions{certFile("ca.crt"), certFile("clients/service-operator.crt"),
                         certFile("clients/service-operator.key")}}) {
    auto made = notify::makeDeliveryContext(o);
    ASSERT_TRUE(made.isOk()) << made.status().message();
    SSL_CTX* ctx = made.value()->sslContext();
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER, SSL_VERIFY_PEER);
    EXPECT_NE(SSL_CTX_get_verify_callback(ctx), nullptr);  // ours: the host name check
    EXPECT_EQ(SSL_CTX_get_security_level(ctx), 2);
    EXPECT_EQ(SSL_CTX_get0_certificate(ctx) != nullptr, !o.certificate.empty());
  }
  EXPECT_EQ(describeClientPolicy({}),
            "TLS 1.2+, CAs from the system's trust store, no client certificate");
  EXPECT_EQ(describeClientPolicy({"cas.pem", "me.crt", "me.key"}),
            "TLS 1.2+, CAs from cas.pem, client certificate me.crt");
}

TEST(ClientPolicy, AMissingOrUnusableFileIsNamedWithItsField) {
  std::string e = errorOf({"/nonexistent/cas.pem", "", ""});
  EXPECT_EQ(e.rfind("caCertificates: cannot read /nonexistent/cas.pem", 0), 0u) << e;
  TempFile notPem("not a certificate\n");
  e = errorOf({notPem.path(), "", ""});
  EXPECT_EQ(e.rfind("caCertificates: " + notPem.path() + " holds no usable PEM certificate", 0),
              0u)
      << e;
  e = errorOf({"", "/nonexistent/me.crt", certFile("clients/service-operator.key")});
  EXPECT_EQ(e.rfind("certificate: cannot read /nonexistent/me.crt", 0), 0u) << e;
  e = errorOf({"", certFile("clients/service-operator.crt"), certFile("clients/RX8.key")});
  EXPECT_EQ(e.rfind("privateKey: ", 0), 0u) << e;
  EXPECT_NE(e.find("is not the key of"), std::string::npos) << e;
  e = errorOf({"", certFile("clients/service-operator.crt"), ""});
  EXPECT_EQ(e.rfind("privateKey: ", 0), 0u) << e;
  e = errorOf({"", "", certFile("clients/service-operator.key")});
  EXPECT_EQ(e.rfind("certificate: ", 0), 0u) << e;
}

}  // namespace
}  // namespace acp::tls
