// The audit of the MLLP listener's own refusals (app/mllp_refusals.h) through the real
// gateway: an oversized frame and a connection over the cap each leave a "refused" event with
// the client's address, the code and query "MLLP" — never a byte of the message — through the
// HTTP listener's RefusalAudit (http/refusal_audit.h); normal closes and the handler's own
// failures are not refusals.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "gateway/app/mllp_refusals.h"
#include "gateway/audit/audit_event.h"
#include "tests/support/audit_reading.h"
#include "tests/support/mllp_client.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

// Sends raw bytes over MLLP's socket and reads until the listener closes; returns what came.
std::string rawMllp(int port, const std::string& bytes) {
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  s.setReceiveTimeout(Poco::Timespan(20, 0));
  if (!bytes.empty()) s.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  std::string out;
  char buf[4096];
  try {
    int n;
    while ((n = s.receiveBytes(buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  } catch (...) {
  }
  return out;  // closing our side ends the listener's lingering close: then it reports
}

// The query entity's request (base64), "" when none.
std::string queryOf(const json::Value& event) {
  if (const json::Value* es = event.find("entity"))
    for (const json::Value& e : es->items())
      if (const json::Value* r = e.find("role"); r && r->getString("code") == "24")
        return e.getString("query");
  return "";
}

TEST(MllpRefusalAudit, AnOversizedFrameLeavesARefusalEvent) {
  app::Options o;
  o.mllpMaxFrameBytes = 1024;
  TestServer server(o);
  std::string message = acuteSample("adt-a01.hl7");
  while (message.size() <= 4096) message += "NTE|1||Hartley Amelia 9992530820\r";
  EXPECT_EQ(rawMllp(server.mllpPort(), "\x0b" + message + "\x1c\x0d"), "") << "no ACK";

  auto refused = refusalsOnceRecorded(server, 1);
  ASSERT_EQ(refused.size(), 1u);
  const json::Value& e = refused[0];
  EXPECT_EQ(e.getString("outcome"), "8");
  EXPECT_EQ(e.getString("outcomeDesc"), "mllp.frame-too-large");
  EXPECT_EQ(auditAddress(e), "127.0.0.1");
  EXPECT_EQ(auditOrganisation(e), "") << "no identity was checked";
  EXPECT_EQ(queryOf(e), audit::base64Encode("MLLP"));
  EXPECT_TRUE(auditEntities(e, "1").empty());
  const std::string text = json::write(e);
  for (const char* identifying : {"9992530820", "Hartley", "Amelia", "PAS0001234", "RX8"})
    EXPECT_EQ(text.find(identifying), std::string::npos) << identifying;
  EXPECT_TRUE(auditEvents(server, "?subtype=hl7v2").empty()) << "nothing reached the feed";
  EXPECT_TRUE(auditChainIntact(server));
}

TEST(MllpRefusalAudit, AConnectionOverTheCapLeavesARefusalEvent) {
  app::Options o;
  o.mllpMaxConnections = 1;
  TestServer server(o);
  MllpClient held(server.mllpPort());  // accepted, and held open
  ASSERT_EQ(ackSegment(held.exchange(acuteSample("adt-a01.hl7")), "MSA"), "MSA|AA|PAS0001234");
  EXPECT_EQ(rawMllp(server.mllpPort(), ""), "") << "closed at once";

  auto refused = refusalsOnceRecorded(server, 1);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].getString("outcome"), "8");
  EXPECT_EQ(refused[0].getString("outcomeDesc"), "mllp.too-many-connections");
  EXPECT_EQ(auditAddress(refused[0]), "127.0.0.1");
  EXPECT_EQ(queryOf(refused[0]), audit::base64Encode("MLLP"));
}

// Which of the listener's events are refusals: the table of app/mllp_refusals.h.
TEST(MllpRefusalAudit, OnlyTheListenersRefusalsAreAudited) {
  using mllp::CloseReason;
  struct Case {
    CloseReason reason;
    const char* code;  // nullptr: not a refusal
    int outcome;
  };
  const Case cases[] = {
      {CloseReason::kPeerClosed, nullptr, 0},
      {CloseReason::kIncompleteFrame, nullptr, 0},
      {CloseReason::kFrameTooLarge, "mllp.frame-too-large", 8},
      {CloseReason::kFrameTimeout, "mllp.frame-timeout", 8},
      {CloseReason::kIdleTimeout, nullptr, 0},
      {CloseReason::kHandlerFailed, nullptr, 0},
      {CloseReason::kWriteTimeout, nullptr, 0},
      {CloseReason::kSocketError, nullptr, 0},
      {CloseReason::kStopping, nullptr, 0},
      {CloseReason::kTlsFailed, "mllp.tls-failed", 4},
      {CloseReason::kTlsHandshakeTimeout, "mllp.tls-handshake-timeout", 8},
  };
  for (const Case& c : cases) {
    mllp::Event e;
    e.kind = mllp::Event::Kind::kClosed;
    e.reason = c.reason;
    e.peer.address = "10.1.2.3";
    e.detail = "unsupported protocol";
    std::optional<http::Refusal> r = app::mllpRefusal(e);
    SCOPED_TRACE(mllp::closeReasonName(c.reason));
    ASSERT_EQ(r.has_value(), c.code != nullptr);
    if (!r) continue;
    EXPECT_EQ(r->code, c.code);
    EXPECT_EQ(r->outcome, c.outcome);
    EXPECT_EQ(r->status, 0);
    EXPECT_EQ(r->method, "MLLP");
    EXPECT_EQ(r->address, "10.1.2.3");
  }
  mllp::Event other;
  for (auto kind : {mllp::Event::Kind::kConnected, mllp::Event::Kind::kDiscardedBytes}) {
    other.kind = kind;
    EXPECT_FALSE(app::mllpRefusal(other).has_value());
  }
}

}  // namespace
}  // namespace acp::testing
