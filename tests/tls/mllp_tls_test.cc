// MLLP over TLS: the listener with a real TLS context and an OpenSSL client on 127.0.0.1, and
// the hospital feed end to end through the gateway. Waits are on events with a guard.
#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "gateway/audit/audit_trail.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/mllp/frame_reader.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/tls/tls_context.h"
#include "tests/auth/auth_fixture.h"
#include "tests/support/test_server.h"
#include "tests/tls/tls_client.h"

namespace acp::testing {
namespace {

// Acknowledges every message (the ACK echoes its length and the sender's ODS code) and keeps
// the peers it saw.
class RecordingHandler : public mllp::MessageHandler {
 public:
  std::string handle(std::string_view message, const mllp::PeerInfo& peer) override {
    std::lock_guard<std::mutex> lock(mutex_);
    peers_.push_back(peer);
    return "MSH|^~\\&|ACPGW|TEST|||||ACK||P|2.4\rMSA|AA|" + std::to_string(message.size()) + "|" +
           peer.certificateOrganisation + "\r" + std::string(ackPadding_, 'x');
  }
  std::vector<mllp::PeerInfo> peers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return peers_;
  }
  void padAcks(size_t bytes) { ackPadding_ = bytes; }

 private:
  std::mutex mutex_;
  std::vector<mllp::PeerInfo> peers_;
  std::atomic<size_t> ackPadding_{0};
};

class Closures {
 public:
  std::function<void(const mllp::Event&)> sink() {
    return [this](const mllp::Event& e) {
      if (e.kind != mllp::Event::Kind::kClosed) return;
      std::lock_guard<std::mutex> lock(mutex_);
      closed_.push_back(e);
      cv_.notify_all();
    };
  }
  // The first close, waited for.
  mllp::Event first() {
    std::unique_lock<std::mutex> lock(mutex_);
    bool any = cv_.wait_for(lock, std::chrono::seconds(kGuardSeconds),
                            [this] { return !closed_.empty(); });
    return any ? closed_.front() : mllp::Event{};
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<mllp::Event> closed_;
};

std::shared_ptr<const tls::TlsContext> context(std::function<int64_t()> clock = {}) {
  tls::TlsOptions o;
  o.certificate = certFile("server.crt");
  o.privateKey = certFile("server.key");
  o.caCertificates = certFile("ca.crt");
  o.ticketKeyRotationSeconds = 60;
  o.clock = std::move(clock);
  auto created = tls::TlsContext::create(o);
  EXPECT_TRUE(created.isOk()) << created.status().message();
  return created.isOk() ? created.value() : nullptr;
}

struct Listener {
  std::shared_ptr<RecordingHandler> handler = std::make_shared<RecordingHandler>();
  Closures closures;
  std::unique_ptr<mllp::MllpListener> listener;
  explicit Listener(std::shared_ptr<const tls::TlsContext> tls, int frameTimeoutSeconds = 30) {
    mllp::MllpListenerOptions o;
    o.port = 0;
    o.workers = 2;
    o.frameTimeoutSeconds = frameTimeoutSeconds;
    o.tls = std::move(tls);
    o.onEvent = closures.sink();
    listener = std::make_unique<mllp::MllpListener>(handler, o);
    Status s = listener->start();
    EXPECT_TRUE(s.isOk()) << s.message();
  }
  int port() const { return listener->port(); }
};

// Sends one framed message; the ACK without its framing, "" when none came.
std::string sendMessage(TlsClient& client, const std::string& message) {
  if (!client.handshake() || !client.send(mllp::encodeFrame(message))) return "";
  std::string in = client.receive("\x1c\x0d");
  size_t start = in.find('\x0b');
  size_t end = in.find("\x1c\x0d");
  if (start == std::string::npos || end == std::string::npos) return "";
  return in.substr(start + 1, end - start - 1);
}

std::string msa(const std::string& ack) {
  size_t at = ack.find("MSA|");
  return at == std::string::npos ? "" : ack.substr(at, ack.find('\r', at) - at);
}

TEST(MllpTls, TheHospitalsMessageIsAcknowledgedAndItsOrganisationReachesTheHandler) {
  Listener l(context());
  TlsClient client(l.port(), asClient("RX8"));
  EXPECT_EQ(msa(sendMessage(client, "MSH|first")), "MSA|AA|9|RX8") << client.error();
  EXPECT_EQ(msa(sendMessage(client, "MSH|second")), "MSA|AA|10|RX8");
  auto peers = l.handler->peers();
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0].certificateOrganisation, "RX8");
  EXPECT_EQ(peers[0].certificateSubject,
            "CN=hospital integration engine,OU=RX8,O=Northshire University Hospitals NHS "
            "Trust,C=GB");
}

TEST(MllpTls, LargeMessagesAndAcksCrossManyRecords) {
  Listener l(context());
  l.handler->padAcks(600000);  // more than the socket buffers hold: writes wait for room
  TlsClient client(l.port(), asClient("RX8"));
  std::string message = "MSH|" + std::string(500000, 'a');
  std::string ack = sendMessage(client, message);
  EXPECT_EQ(msa(ack), "MSA|AA|" + std::to_string(message.size()) + "|RX8") << client.error();
  EXPECT_EQ(ack.size(), ack.find("\rxxx") + 1 + 600000);
}

TEST(MllpTls, NoClientCertificateNoMessage) {
  Listener l(context());
  {
    TlsClient client(l.port(), ClientOptions{});
    EXPECT_EQ(sendMessage(client, "MSH|refused"), "");
  }
  mllp::Event closed = l.closures.first();
  EXPECT_EQ(closed.reason, mllp::CloseReason::kTlsFailed);
  EXPECT_NE(closed.detail.find("certificate"), std::string::npos) << closed.detail;
  EXPECT_TRUE(l.handler->peers().empty());
}

TEST(MllpTls, ACertificateFromAnotherCaIsRefused) {
  Listener l(context());
  {
    TlsClient client(l.port(), asClient("RX8", /*otherCa=*/true));
    EXPECT_EQ(sendMessage(client, "MSH|refused"), "");
    EXPECT_NE(client.error().find("unknown ca"), std::string::npos) << client.error();
  }
  mllp::Event closed = l.closures.first();
  EXPECT_EQ(closed.reason, mllp::CloseReason::kTlsFailed);
  EXPECT_NE(closed.detail.find("unable to get local issuer certificate"), std::string::npos)
      << closed.detail;
  EXPECT_TRUE(l.handler->peers().empty());
}

TEST(MllpTls, Tls11IsRefused) {
  Listener l(context());
  ClientOptions o = asClient("RX8");
  o.legacy = true;
  o.maxVersion = TLS1_1_VERSION;
  {
    TlsClient client(l.port(), o);
    EXPECT_FALSE(client.handshake());
    EXPECT_NE(client.error().find("protocol version"), std::string::npos) << client.error();
  }
  mllp::Event closed = l.closures.first();
  EXPECT_EQ(closed.reason, mllp::CloseReason::kTlsFailed);
  EXPECT_EQ(closed.detail, "unsupported protocol");
}

TEST(MllpTls, AHandshakeThatDoesNotEndInTimeIsCut) {
  Listener l(context(), /*frameTimeoutSeconds=*/1);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(l.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::send(fd, "\x16\x03", 2, MSG_NOSIGNAL), 2);  // half a record header, then nothing
  EXPECT_EQ(l.closures.first().reason, mllp::CloseReason::kTlsHandshakeTimeout);
  ::close(fd);
}

TEST(MllpTls, SessionsResumeWithTheirIdentityUntilTheirTicketKeyIsTwoRotationsOld) {
  auto now = std::make_shared<std::atomic<int64_t>>(1000000);
  Listener l(context([now] { return now->load(); }));  // keys rotate every 60 s
  Session first;
  {
    TlsClient c(l.port(), asClient("RX8"));
    ASSERT_EQ(msa(sendMessage(c, "MSH|1")), "MSA|AA|5|RX8") << c.error();
    EXPECT_FALSE(c.resumed());
    first = c.session();
  }
  auto resume = [&](const Session& s, bool& resumed) {
    ClientOptions o = asClient("RX8");
    o.session = s;
    TlsClient c(l.port(), o);
    std::string ack = msa(sendMessage(c, "MSH|2"));
    resumed = c.resumed();
    EXPECT_EQ(ack, "MSA|AA|5|RX8") << c.error();  // the identity survives resumption
    return c.session();
  };
  bool resumed = false;
  resume(first, resumed);
  EXPECT_TRUE(resumed);
  now->fetch_add(60 * 1000);  // one rotation: the first key is the previous one
  Session renewed = resume(first, resumed);
  EXPECT_TRUE(resumed);
  now->fetch_add(60 * 1000);  // two: the first key is gone, the renewed ticket's is previous
  resume(first, resumed);
  EXPECT_FALSE(resumed);
  resume(renewed, resumed);
  EXPECT_TRUE(resumed);
  EXPECT_EQ(l.handler->peers().back().certificateOrganisation, "RX8");
}

// The hospital's sample ADT^A01.
std::string adtA01() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/acute/samples/adt-a01.hl7");
  std::stringstream sample;
  sample << in.rdbuf();
  return sample.str();
}

TEST(MllpTls, TheHospitalFeedThroughTheGatewayAcknowledgesAfterTheCommit) {
  app::Options o;
  o.tlsCertificate = certFile("server.crt");
  o.tlsPrivateKey = certFile("server.key");
  o.tlsCaCertificates = certFile("ca.crt");
  o.flagsIntervalSeconds = 0;
  TestServer server(o);
  const std::string sample = adtA01();
  TlsClient client(server.mllpPort(), asClient("RX8"));
  EXPECT_EQ(msa(sendMessage(client, sample)), "MSA|AA|PAS0001234") << client.error();
  // A sender without a certificate gets nothing.
  TlsClient anonymous(server.mllpPort(), ClientOptions{});
  EXPECT_EQ(sendMessage(anonymous, sample), "");
}

// A registry whose source systems are the hospital (RX8) and the community trust (RX9); the
// GP practice X81001 is a client too, but not a source.
std::string writeRegistry() {
  std::string registry = Poco::TemporaryFile::tempName() + ".json";
  std::string jwks = auth::testing::jwksText({auth::testing::jwkWithKid(auth::testing::ecKey(), "k1")});
  auto client = [&](const char* id, const char* org, const char* role) {
    return std::string(R"({"clientId":")") + id + R"(","organisation":")" + org +
           R"(","role":")" + role + R"(","scopes":"system/*.cruds","jwks":)" + jwks + "}";
  };
  std::ofstream f(registry);
  f << R"({"clients": [)" << client("hospital", "RX8", "source-system") << ","
    << client("community", "RX9", "source-system") << ","
    << client("castle-street", "X81001", "gp-practice") << "]}";
  return registry;
}

// The gateway as deployed (tokens, both listeners over mutual TLS) with `registry`.
app::Options smartOptions(const std::string& registry) {
  app::Options o;
  o.tlsCertificate = certFile("server.crt");
  o.tlsPrivateKey = certFile("server.key");
  o.tlsCaCertificates = certFile("ca.crt");
  o.flagsIntervalSeconds = 0;
  o.authClients = registry;
  o.baseUrl = "https://127.0.0.1:8443";
  return o;
}

TEST(MllpTls, WithTokensOnAMessageIsAcceptedOnlyFromItsOwnOrganisationsCertificate) {
  // gateway.auth.mode=smart (a registry and a base URL): MSH-4 must be the ODS code of the
  // connection's client certificate.
  std::string registry = writeRegistry();
  TestServer server(smartOptions(registry));
  const std::string sample = adtA01();
  // The hospital's own certificate: accepted.
  TlsClient hospital(server.mllpPort(), asClient("RX8"));
  EXPECT_EQ(msa(sendMessage(hospital, sample)), "MSA|AA|PAS0001234") << hospital.error();
  // The community trust's certificate sending as the hospital (MSH-4 RX8): refused before
  // anything is applied, with an ERR on MSH-4 saying why.
  std::string forged = sample;
  size_t at = forged.find("PAS0001234");
  ASSERT_NE(at, std::string::npos);
  forged.replace(at, 10, "PAS0009999");
  TlsClient community(server.mllpPort(), asClient("RX9"));
  std::string ack = sendMessage(community, forged);
  EXPECT_EQ(msa(ack).rfind("MSA|AR|PAS0009999", 0), 0u) << ack;
  EXPECT_NE(ack.find("ERR|"), std::string::npos);
  EXPECT_NE(ack.find("client certificate"), std::string::npos) << ack;
  // Both are audited, the sender named by its certificate (read from the trail in-process:
  // its HTTP route needs a privacy officer's token).
  auto events = server.gateway().audit()->search({{"subtype", "hl7v2"}}, "https://x");
  ASSERT_TRUE(events.isOk()) << events.status().message();
  const json::Value* entries = events.value().find("entry");
  ASSERT_NE(entries, nullptr);
  ASSERT_EQ(entries->items().size(), 2u);
  auto organisationOf = [](const json::Value& event) {
    return event.find("agent")->items()[0].find("who")->find("identifier")->getString("value");
  };
  const json::Value& refused = *entries->items()[0].find("resource");  // newest first
  const json::Value& accepted = *entries->items()[1].find("resource");
  EXPECT_EQ(refused.getString("outcome"), "4") << "a denial: the wrong organisation";
  EXPECT_EQ(organisationOf(refused), "RX9") << "the certificate's, not MSH-4's";
  EXPECT_NE(json::write(refused).find("\"MSH-4\",\"valueString\":\"RX8\""), std::string::npos)
      << json::write(refused);
  EXPECT_EQ(accepted.getString("outcome"), "0");
  EXPECT_EQ(organisationOf(accepted), "RX8");
  Poco::File(registry).remove();
}

// Only a registered source system may use the feed, and what a stranger sends is not kept:
// a GP practice's certificate (even with MSH-4 its own) and an unreadable message that does
// not name the certificate's organisation are refused, and the failure list stays empty.
TEST(MllpTls, WithTokensOnlyASourceSystemsCertificateMayUseTheFeedOrFillItsFailures) {
  std::string registry = writeRegistry();
  TestServer server(smartOptions(registry));
  const std::string sample = adtA01();
  std::string asGp = sample;
  size_t at = asGp.find("|RX8|");
  ASSERT_NE(at, std::string::npos);
  asGp.replace(at, 5, "|X81001|");
  TlsClient gp(server.mllpPort(), asClient("X81001"));
  std::string ack = sendMessage(gp, asGp);
  EXPECT_EQ(msa(ack).rfind("MSA|AR|", 0), 0u) << ack;
  EXPECT_NE(ack.find("ERR|"), std::string::npos) << ack;
  // Garbage from a GP, and garbage from the community trust naming no sender.
  TlsClient gp2(server.mllpPort(), asClient("X81001"));
  EXPECT_NE(sendMessage(gp2, "MSH|^~\\&|X|X81001|||x\rPID|1||x\r").find("|AR|"), std::string::npos);
  TlsClient community(server.mllpPort(), asClient("RX9"));
  EXPECT_NE(sendMessage(community, "PID|1||x\r").find("|AR|"), std::string::npos);
  // Nothing stored, nothing kept; each refusal audited.
  auto failures = server.gateway().ingest()->failures()->list("", 10, 0);
  ASSERT_TRUE(failures.isOk()) << failures.status().message();
  EXPECT_TRUE(failures.value().empty());
  auto events = server.gateway().audit()->search({{"subtype", "hl7v2"}}, "https://x");
  ASSERT_TRUE(events.isOk());
  ASSERT_NE(events.value().find("entry"), nullptr);
  EXPECT_EQ(events.value().find("entry")->items().size(), 3u);
  // The community trust's own unreadable message that names it is kept for its team.
  TlsClient community2(server.mllpPort(), asClient("RX9"));
  EXPECT_NE(sendMessage(community2, "MSH|^~\\&|CIS|RX9|||x\rPID|1||x\r").find("|AR|"),
            std::string::npos);
  auto kept = server.gateway().ingest()->failures()->list("", 10, 0);
  ASSERT_TRUE(kept.isOk());
  EXPECT_EQ(kept.value().size(), 1u);
  Poco::File(registry).remove();
}

}  // namespace
}  // namespace acp::testing
