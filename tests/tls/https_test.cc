// HTTPS with mutual TLS on the real gateway (TestServer on a real port): what is accepted,
// what is refused — checked with an OpenSSL client in the test and with `openssl s_client`
// — and what the client certificate says reaching the request.
#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "gateway/audit/audit_trail.h"
#include "gateway/http/refusal_audit.h"
#include "tests/support/audit_reading.h"
#include "tests/support/test_server.h"
#include "tests/tls/tls_client.h"

namespace acp::testing {
namespace {

app::Options tlsOptions(const std::string& clientCertificates = "required") {
  app::Options o;
  o.tlsCertificate = certFile("server.crt");
  o.tlsPrivateKey = certFile("server.key");
  o.tlsCaCertificates = certFile("ca.crt");
  o.tlsClientCertificates = clientCertificates;
  o.flagsIntervalSeconds = 0;
  return o;
}

TEST(Https, AClientWithACertificateOfTheConfiguredCaIsServedOverTls13) {
  TestServer server(tlsOptions());
  TlsClient client(server.port(), asClient("X81001"));
  std::string answer = client.http("GET", "/metadata");
  EXPECT_EQ(statusOf(answer), 200) << client.error();
  EXPECT_NE(answer.find("CapabilityStatement"), std::string::npos);
  EXPECT_EQ(client.protocol(), "TLSv1.3");
}

TEST(Https, Tls12IsAcceptedWithAForwardSecretAeadSuite) {
  TestServer server(tlsOptions());
  ClientOptions o = asClient("8WB01");
  o.maxVersion = TLS1_2_VERSION;
  TlsClient client(server.port(), o);
  EXPECT_EQ(statusOf(client.http("GET", "/metadata")), 200) << client.error();
  EXPECT_EQ(client.protocol(), "TLSv1.2");
  EXPECT_EQ(client.cipher().rfind("ECDHE-", 0), 0u) << client.cipher();
  EXPECT_NE(client.cipher().find("GCM"), std::string::npos) << client.cipher();
}

TEST(Https, TlsBefore12IsRefused) {
  TestServer server(tlsOptions());
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    ClientOptions o = asClient("X81001");
    o.legacy = true;  // the client offers it; the server must say no
    o.minVersion = version;
    o.maxVersion = version;
    TlsClient client(server.port(), o);
    EXPECT_FALSE(client.handshake()) << version;
    EXPECT_NE(client.error().find("protocol version"), std::string::npos) << client.error();
  }
  // The server goes on serving.
  TlsClient ok(server.port(), asClient("X81001"));
  EXPECT_EQ(statusOf(ok.http("GET", "/metadata")), 200);
}

TEST(Https, AClientWithoutACertificateIsRefused) {
  TestServer server(tlsOptions());
  TlsClient tls13(server.port(), ClientOptions{});
  EXPECT_EQ(tls13.http("GET", "/metadata"), "");
  EXPECT_NE(tls13.error().find("certificate required"), std::string::npos) << tls13.error();
  ClientOptions o;
  o.maxVersion = TLS1_2_VERSION;
  TlsClient tls12(server.port(), o);
  EXPECT_EQ(tls12.http("GET", "/metadata"), "");
  EXPECT_NE(tls12.error().find("handshake failure"), std::string::npos) << tls12.error();
  // Each refused handshake is audited (http/refusal_audit.h): a denial from that address.
  std::vector<json::Value> refused = refusalsOnceRecorded(server, 2);
  ASSERT_EQ(refused.size(), 2u);
  for (const json::Value& e : refused) {
    const json::Value* event = &e;
    EXPECT_EQ(event->getString("outcome"), "4");
    EXPECT_EQ(event->getString("outcomeDesc"), "tls.handshake-refused");
    EXPECT_EQ(event->find("agent")->items()[0].find("network")->getString("address"), "127.0.0.1");
  }
}

TEST(Https, ACertificateFromAnotherCaIsRefused) {
  TestServer server(tlsOptions());
  for (int maxVersion : {0, TLS1_2_VERSION}) {
    ClientOptions o = asClient("X81001", /*otherCa=*/true);
    o.maxVersion = maxVersion;
    TlsClient client(server.port(), o);
    EXPECT_EQ(client.http("GET", "/metadata"), "");
    EXPECT_NE(client.error().find("unknown ca"), std::string::npos) << client.error();
  }
}

TEST(Https, AServerCertificateIsNotAcceptedAsAClientCertificate) {
  // Issued by the right CA, but its extendedKeyUsage allows serverAuth only.
  TestServer server(tlsOptions());
  ClientOptions o;
  o.certificate = certFile("server.crt");
  o.key = certFile("server.key");
  TlsClient client(server.port(), o);
  EXPECT_EQ(client.http("GET", "/metadata"), "");
  EXPECT_NE(client.error().find("unsupported certificate"), std::string::npos) << client.error();
}

TEST(Https, OptionalClientCertificates) {
  TestServer server(tlsOptions("optional"));
  TlsClient anonymous(server.port(), ClientOptions{});
  EXPECT_EQ(statusOf(anonymous.http("GET", "/metadata")), 200) << anonymous.error();
  TlsClient practice(server.port(), asClient("X81002"));
  EXPECT_EQ(statusOf(practice.http("GET", "/metadata")), 200) << practice.error();
  // A certificate that is presented must still verify.
  TlsClient stranger(server.port(), asClient("X81002", /*otherCa=*/true));
  EXPECT_EQ(stranger.http("GET", "/metadata"), "");
}

TEST(Https, RenegotiationIsRefused) {
  TestServer server(tlsOptions());
  ClientOptions o = asClient("X81001");
  o.maxVersion = TLS1_2_VERSION;  // TLS 1.3 has no renegotiation at all
  TlsClient client(server.port(), o);
  ASSERT_TRUE(client.handshake()) << client.error();
  ASSERT_EQ(SSL_renegotiate(client.ssl()), 1);
  EXPECT_NE(SSL_do_handshake(client.ssl()), 1);  // the server answers no_renegotiation
  // A new connection is served as ever.
  TlsClient next(server.port(), o);
  EXPECT_EQ(statusOf(next.http("GET", "/metadata")), 200);
}

TEST(Https, LinksUseHttpsAndLargeBodiesAndPipelinedRequestsCrossManyRecords) {
  TestServer server(tlsOptions());
  // A body of ~300 KB (about 20 TLS records): JSON whitespace around a small Patient.
  std::string body =
      R"({"resourceType":"Patient","gender":"female")" + std::string(300000, ' ') + "}";
  TlsClient writer(server.port(), asClient("8WB01"));
  std::string created = writer.http("POST", "/Patient", body);
  ASSERT_EQ(statusOf(created), 201) << created.substr(0, 400) << writer.error();
  EXPECT_NE(created.find("\r\nLocation: https://127.0.0.1/Patient/"), std::string::npos)
      << created.substr(0, 400);

  // Two requests in one write, two answers in order on the same connection.
  TlsClient reader(server.port(), asClient("X81001"));
  ASSERT_TRUE(reader.handshake()) << reader.error();
  std::string two =
      "GET /metadata HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
      "GET /Patient?_summary=count HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(reader.send(two));
  std::string answers = reader.receive();
  EXPECT_EQ(statusOf(answers), 200);
  size_t second = answers.find("HTTP/1.1 200", 10);
  ASSERT_NE(second, std::string::npos);
  EXPECT_NE(answers.find("\"total\":1", second), std::string::npos) << answers.substr(second);
}

TEST(Https, PlainHttpOnTheTlsPortGetsNoAnswer) {
  TestServer server(tlsOptions());
  auto plain = runCommand("curl -s -o /dev/null -w %{http_code} --max-time 10 http://127.0.0.1:" +
                          std::to_string(server.port()) + "/metadata");
  EXPECT_EQ(plain.output, "000") << plain.output;
  TlsClient ok(server.port(), asClient("X81001"));
  EXPECT_EQ(statusOf(ok.http("GET", "/metadata")), 200);
}

TEST(Https, AClientThatNeverCompletesTheHandshakeIsCutAtTheHeadDeadline) {
  app::Options o = tlsOptions();
  o.timeoutSeconds = 1;
  TestServer server(o);
  // A TCP connection that sends half a record header and then nothing: the server closes it
  // (EOF, no answer) at the deadline, well before the guard.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(server.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{kGuardSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ASSERT_EQ(::send(fd, "\x16\x03", 2, MSG_NOSIGNAL), 2);
  char buf[64];
  EXPECT_EQ(recv(fd, buf, sizeof buf, 0), 0);
  ::close(fd);
}

// ---- openssl s_client, as an operator would check it --------------------------------------

std::string clientArgs(const std::string& name, bool otherCa = false) {
  std::string dir = otherCa ? "other-ca/clients/" : "clients/";
  return "-cert " + certFile(dir + name + ".crt") + " -key " + certFile(dir + name + ".key");
}

TEST(HttpsSClient, Tls10And11AreRefused) {
  TestServer server(tlsOptions());
  for (const char* flag : {"-tls1", "-tls1_1"}) {
    // SECLEVEL=0: Debian's client would not even offer these otherwise.
    auto r = sClient(server.port(), std::string(flag) + " -cipher \"DEFAULT:@SECLEVEL=0\" " +
                                        clientArgs("X81001"));
    EXPECT_NE(r.output.find("alert protocol version"), std::string::npos) << flag << r.output;
    EXPECT_EQ(r.output.find("HTTP/1.1 200"), std::string::npos) << flag;
  }
}

TEST(HttpsSClient, Tls12And13AreAccepted) {
  TestServer server(tlsOptions());
  for (const char* flag : {"-tls1_2", "-tls1_3"}) {
    auto r = sClient(server.port(), std::string(flag) + " " + clientArgs("X82001"));
    EXPECT_NE(r.output.find("HTTP/1.1 200"), std::string::npos) << flag << r.output;
    EXPECT_NE(r.output.find("Verify return code: 0 (ok)"), std::string::npos) << r.output;
  }
}

TEST(HttpsSClient, ACertificateFromAnotherCaIsRefused) {
  TestServer server(tlsOptions());
  for (const char* flag : {"-tls1_2", "-tls1_3"}) {
    auto r = sClient(server.port(), std::string(flag) + " " + clientArgs("X82001", true));
    EXPECT_NE(r.output.find("alert unknown ca"), std::string::npos) << flag << r.output;
    EXPECT_EQ(r.output.find("HTTP/1.1 200"), std::string::npos) << flag;
  }
}

// ---- the certificate's organisation reaches the request ------------------------------------

// Keeps what the acp.http logger says.
class CapturingChannel : public Poco::Channel {
 public:
  void log(const Poco::Message& m) override {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_.push_back(m.getText());
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST(HttpsIdentity, TheCertificatesOdsCodeIsOnEveryRequestAlsoAfterResumption) {
  // A Gateway of its own: TestServer turns the access log off.
  std::string dir = Poco::TemporaryFile::tempName();
  Poco::File(dir).createDirectories();
  Poco::AutoPtr<CapturingChannel> channel(new CapturingChannel);
  Poco::Logger& log = Poco::Logger::get("acp.http");
  Poco::AutoPtr<Poco::Channel> previous(log.getChannel(), true);
  int previousLevel = log.getLevel();
  log.setChannel(channel);
  log.setLevel(Poco::Message::PRIO_INFORMATION);
  {
    app::Options o = tlsOptions();
    o.httpPort = o.mllpPort = 0;
    o.storeUrl = "sqlite:" + dir + "/t.db";
    o.conformanceDir = std::string(ACP_SOURCE_DIR) + "/conformance/r4";
    o.logRequests = true;
    o.authMode = "none";  // the identity here is the certificate's (tests/security: tokens)
    app::Gateway gateway(o);
    ASSERT_TRUE(gateway.start().isOk());
    TlsClient first(gateway.httpPort(), asClient("X81001"));
    ASSERT_EQ(statusOf(first.http("GET", "/metadata")), 200) << first.error();
    ClientOptions again = asClient("X81001");
    again.session = first.session();
    TlsClient resumed(gateway.httpPort(), again);
    ASSERT_EQ(statusOf(resumed.http("GET", "/Patient?_summary=count")), 200);
    EXPECT_TRUE(resumed.resumed());
    gateway.stop();
  }
  log.setChannel(previous);
  log.setLevel(previousLevel);
  Poco::File(dir).remove(true);
  std::vector<std::string> lines = channel->lines();
  auto logged = [&](const std::string& prefix) {
    for (const auto& l : lines)
      if (l.rfind(prefix, 0) == 0) return l;
    return std::string();
  };
  std::string metadata = logged("GET /metadata 200");
  std::string search = logged("GET /Patient 200");
  // "... <ms>ms org=X81001 rid=<request id>"
  EXPECT_NE(metadata.find("ms org=X81001 rid="), std::string::npos) << metadata;
  EXPECT_NE(search.find("ms org=X81001 rid="), std::string::npos) << search;
}

}  // namespace
}  // namespace acp::testing
