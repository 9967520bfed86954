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

// gateway.limits.maxBufferedBodyBytes: 0 (no budget) or room for one body of the largest cap.
TEST(LimitOptions, TheBodyBudgetHoldsAtLeastOneBodyOfTheLargestCap) {
  auto keys = kFiles;
  EXPECT_EQ(read(keys)->maxBufferedBodyBytes, size_t{256} * 1024 * 1024);
  keys["gateway.limits.maxBufferedBodyBytes"] = "1048576";  // below the 64 MiB ingest cap
  EXPECT_FALSE(read(keys).isOk());
  keys["gateway.limits.maxIngestBodyBytes"] = "1048576";
  keys["gateway.limits.maxBodyBytes"] = "1048576";
  ASSERT_TRUE(read(keys).isOk());
  EXPECT_EQ(read(keys)->maxBufferedBodyBytes, size_t{1048576});
  keys["gateway.limits.maxBufferedBodyBytes"] = "0";
  ASSERT_TRUE(read(keys).isOk());
  EXPECT_EQ(read(keys)->maxBufferedBodyBytes, size_t{0});
}

// gateway.notify.*: the client side of TLS for Subscription deliveries.
const std::map<std::string, std::string> kPlain = {{"gateway.http.tls", "false"},
                                                   {"gateway.mllp.tls", "false"}};

TEST(NotifyOptions, DeliveriesTrustTheSystemsCasAndRefusePlainHttpElsewhereByDefault) {
  auto o = read(kPlain);
  ASSERT_TRUE(o.isOk()) << o.status().message();
  EXPECT_EQ(o->notifyCaCertificates, "");
  EXPECT_EQ(o->notifyCertificate, "");
  EXPECT_EQ(o->notifyPrivateKey, "");
  EXPECT_FALSE(o->notifyAllowPlainHttp);
  auto keys = kPlain;
  keys["gateway.notify.caCertificates"] = "endpoint-cas.pem";
  keys["gateway.notify.certificate"] = "notify.crt";
  keys["gateway.notify.privateKey"] = "notify.key";
  keys["gateway.notify.allowPlainHttp"] = "true";
  o = read(keys);
  ASSERT_TRUE(o.isOk()) << o.status().message();
  EXPECT_EQ(o->notifyCaCertificates, "endpoint-cas.pem");
  EXPECT_EQ(o->notifyCertificate, "notify.crt");
  EXPECT_EQ(o->notifyPrivateKey, "notify.key");
  EXPECT_TRUE(o->notifyAllowPlainHttp);
}

TEST(NotifyOptions, AClientCertificateGoesWithItsKey) {
  auto keys = kPlain;
  keys["gateway.notify.certificate"] = "notify.crt";
  auto o = read(keys);
  ASSERT_FALSE(o.isOk());
  EXPECT_EQ(o.status().message().rfind("gateway.notify.certificate and gateway.notify.privateKey", 0),
            0u)
      << o.status().message();
  keys = kPlain;
  keys["gateway.notify.privateKey"] = "notify.key";
  EXPECT_FALSE(read(keys).isOk());
  keys = kPlain;
  keys["gateway.notify.allowPlainHttp"] = "perhaps";
  EXPECT_FALSE(read(keys).isOk());
  keys = kPlain;
  keys["gateway.notify.verify"] = "false";  // not a key: verification cannot be turned off
  EXPECT_FALSE(read(keys).isOk());
}

}  // namespace
}  // namespace acp::app
