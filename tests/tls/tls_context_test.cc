// TlsContext::create: the files a TLS listener needs, and the errors that stop the gateway's
// start (exit code 78) when they are missing or wrong.
#include "gateway/tls/tls_context.h"

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/tls/tls_client.h"

namespace acp::tls {
namespace {

using testing::certFile;

TlsOptions devOptions() {
  TlsOptions o;
  o.certificate = certFile("server.crt");
  o.privateKey = certFile("server.key");
  o.caCertificates = certFile("ca.crt");
  return o;
}

// A temporary file holding `text`, removed at the end of the test.
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

std::string errorOf(const TlsOptions& o) {
  auto created = TlsContext::create(o);
  if (created.isOk()) return "";
  EXPECT_EQ(created.status().code(), Status::Code::kInvalid) << created.status().message();
  return created.status().message();
}

TEST(TlsContext, TheDevelopmentCertificatesMakeAContext) {
  auto created = TlsContext::create(devOptions());
  ASSERT_TRUE(created.isOk()) << created.status().message();
  EXPECT_NE(created.value()->native(), nullptr);
  EXPECT_EQ(created.value()->describe(),
            "TLS 1.2+, client certificates required, ticket keys rotated every 3600 s");
}

TEST(TlsContext, AMissingFileIsNamedWithItsField) {
  TlsOptions o = devOptions();
  o.certificate = "/nonexistent/server.crt";
  std::string e = errorOf(o);
  EXPECT_EQ(e.rfind("certificate: cannot read /nonexistent/server.crt", 0), 0u) << e;
  EXPECT_NE(e.find("No such file"), std::string::npos) << e;

  o = devOptions();
  o.privateKey = "";
  EXPECT_EQ(errorOf(o), "privateKey: no file is configured");

  o = devOptions();
  o.caCertificates = "/nonexistent/ca.crt";
  EXPECT_EQ(errorOf(o).rfind("caCertificates: cannot read /nonexistent/ca.crt", 0), 0u);
}

TEST(TlsContext, WithoutClientCertificatesNoCaBundleIsNeeded) {
  TlsOptions o = devOptions();
  o.caCertificates = "";
  o.clientCertificates = ClientCertificates::kNone;
  auto created = TlsContext::create(o);
  ASSERT_TRUE(created.isOk()) << created.status().message();
  o.clientCertificates = ClientCertificates::kOptional;
  EXPECT_EQ(errorOf(o), "caCertificates: no file is configured");
}

TEST(TlsContext, FilesThatAreNotWhatTheyShouldBeAreRefused) {
  TempFile garbage("this is not a certificate\n");
  TlsOptions o = devOptions();
  o.certificate = garbage.path();
  std::string e = errorOf(o);
  EXPECT_EQ(e.rfind("certificate: " + garbage.path() + " holds no usable PEM certificate", 0), 0u)
      << e;

  o = devOptions();
  o.privateKey = garbage.path();
  e = errorOf(o);
  EXPECT_EQ(e.rfind("privateKey: " + garbage.path(), 0), 0u) << e;

  o = devOptions();
  o.caCertificates = garbage.path();
  e = errorOf(o);
  EXPECT_EQ(e.rfind("caCertificates: " + garbage.path(), 0), 0u) << e;
}

TEST(TlsContext, AKeyOfAnotherCertificateIsRefused) {
  TlsOptions o = devOptions();
  o.privateKey = certFile("clients/RX8.key");
  std::string e = errorOf(o);
  EXPECT_EQ(e.rfind("privateKey: " + o.privateKey + " is not the key of " + o.certificate, 0), 0u)
      << e;
}

TEST(TlsContext, AnEncryptedKeyIsRefusedWithoutAskingForAPassphrase) {
  std::string path = Poco::TemporaryFile::tempName();
  auto made = testing::runCommand(std::string(ACP_OPENSSL) + " pkey -in " + certFile("server.key") +
                                  " -aes256 -passout pass:secret -out " + path);
  ASSERT_EQ(made.exitCode, 0) << made.output;
  TlsOptions o = devOptions();
  o.privateKey = path;
  std::string e = errorOf(o);
  Poco::File(path).remove();
  EXPECT_EQ(e.rfind("privateKey: " + path + " holds no usable unencrypted PEM key", 0), 0u) << e;
}

TEST(TlsContext, ClientCertificateModes) {
  ClientCertificates mode;
  ASSERT_TRUE(parseClientCertificates("optional", mode));
  EXPECT_EQ(mode, ClientCertificates::kOptional);
  ASSERT_TRUE(parseClientCertificates("none", mode));
  EXPECT_EQ(mode, ClientCertificates::kNone);
  ASSERT_TRUE(parseClientCertificates("required", mode));
  EXPECT_EQ(mode, ClientCertificates::kRequired);
  EXPECT_FALSE(parseClientCertificates("yes", mode));
  EXPECT_STREQ(clientCertificatesName(ClientCertificates::kOptional), "optional");
}

}  // namespace
}  // namespace acp::tls
