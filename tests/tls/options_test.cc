// The TLS configuration keys (app/options.h; docs/configuration.md): on by default, checked
// before anything starts.
#include "gateway/app/options.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace acp::app {
namespace {

Result<Options> read(const std::map<std::string, std::string>& keys) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
  config->setString("gateway.auth.mode", "none");  // these tests are about TLS alone
  for (const auto& [k, v] : keys) config->setString(k, v);
  return readOptions(*config);
}

const std::map<std::string, std::string> kFiles = {
    {"gateway.tls.certificate", "server.crt"},
    {"gateway.tls.privateKey", "server.key"},
    {"gateway.tls.caCertificates", "ca.crt"},
};

TEST(TlsOptions, BothListenersUseTlsByDefaultWithClientCertificatesRequired) {
  auto o = read(kFiles);
  ASSERT_TRUE(o.isOk()) << o.status().message();
  EXPECT_TRUE(o->httpTls);
  EXPECT_TRUE(o->mllpTls);
  EXPECT_EQ(o->tlsCertificate, "server.crt");
  EXPECT_EQ(o->tlsPrivateKey, "server.key");
  EXPECT_EQ(o->tlsCaCertificates, "ca.crt");
  EXPECT_EQ(o->tlsClientCertificates, "required");
  EXPECT_EQ(o->tlsTicketKeyRotationSeconds, 3600);
}

TEST(TlsOptions, TlsWithoutItsFilesIsAConfigurationError) {
  auto none = read({});
  ASSERT_FALSE(none.isOk());
  EXPECT_NE(none.status().message().find("gateway.tls.certificate"), std::string::npos);
  // One listener with TLS is enough to need them.
  auto mllpOnly = read({{"gateway.http.tls", "false"}});
  ASSERT_FALSE(mllpOnly.isOk());
  EXPECT_EQ(mllpOnly.status().message().rfind("gateway.mllp.tls is on", 0), 0u)
      << mllpOnly.status().message();
  auto noCa = read({{"gateway.tls.certificate", "a"}, {"gateway.tls.privateKey", "b"}});
  ASSERT_FALSE(noCa.isOk());
  EXPECT_EQ(noCa.status().message().rfind("gateway.tls.caCertificates", 0), 0u);
  auto withoutClients = read({{"gateway.tls.certificate", "a"},
                              {"gateway.tls.privateKey", "b"},
                              {"gateway.tls.clientCertificates", "none"}});
  EXPECT_TRUE(withoutClients.isOk()) << withoutClients.status().message();
}

TEST(TlsOptions, PlainListenersOnLoopbackNeedNoCertificate) {
  auto o = read({{"gateway.http.tls", "false"}, {"gateway.mllp.tls", "false"}});
  ASSERT_TRUE(o.isOk()) << o.status().message();
  EXPECT_FALSE(o->httpTls);
  EXPECT_FALSE(o->mllpTls);
}

TEST(TlsOptions, InvalidValuesAreRefused) {
  auto files = kFiles;
  files["gateway.tls.clientCertificates"] = "sometimes";
  EXPECT_FALSE(read(files).isOk());
  files = kFiles;
  files["gateway.tls.ticketKeyRotationSeconds"] = "-1";
  EXPECT_FALSE(read(files).isOk());
  files = kFiles;
  files["gateway.tls.ticketKeyRotationSeconds"] = "0";
  ASSERT_TRUE(read(files).isOk());
  EXPECT_EQ(read(files)->tlsTicketKeyRotationSeconds, 0);
  files = kFiles;
  files["gateway.tls.cipherList"] = "ALL";  // not a key: the policy is not configurable
  EXPECT_FALSE(read(files).isOk());
}

}  // namespace
}  // namespace acp::app
