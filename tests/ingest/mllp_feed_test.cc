// The hospital feed end to end over a real MLLP connection: ACK AA only after the commit,
// a resent message ACKed AA without a second write, AR for what cannot be parsed, AE for
// what cannot be processed.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <sstream>

#include "tests/support/mllp_client.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string sample(const std::string& name) { return acuteSample(name); }

std::string segment(const std::string& ack, const std::string& id) { return ackSegment(ack, id); }

TEST(MllpFeed, AdmissionAndDischargeAreAcknowledgedAfterTheCommit) {
  TestServer server;
  MllpClient client(server.mllpPort());
  std::string ack = client.exchange(sample("adt-a01.hl7"));
  EXPECT_EQ(segment(ack, "MSA"), "MSA|AA|PAS0001234") << ack;
  // By the time the ACK arrived the Encounter is readable.
  EXPECT_EQ(server.get("/Encounter?_summary=count").json.find("total")->text(), "1");
  EXPECT_EQ(segment(client.exchange(sample("adt-a03.hl7")), "MSA"), "MSA|AA|PAS0001301");
  EXPECT_EQ(segment(client.exchange(sample("oru-r01-respect.hl7")), "MSA"), "MSA|AA|EPR0088812");
  EXPECT_EQ(server.get("/CarePlan?_summary=count").json.find("total")->text(), "1");
}

TEST(MllpFeed, AResentMessageIsAcknowledgedWithoutASecondWrite) {
  TestServer server;
  MllpClient client(server.mllpPort());
  ASSERT_EQ(segment(client.exchange(sample("adt-a01.hl7")), "MSA"), "MSA|AA|PAS0001234");
  // The sender timed out waiting and resends on a new connection.
  MllpClient again(server.mllpPort());
  EXPECT_EQ(segment(again.exchange(sample("adt-a01.hl7")), "MSA"), "MSA|AA|PAS0001234");
  EXPECT_EQ(server.get("/Provenance?_summary=count").json.find("total")->text(), "1");
  HttpResult history = server.get("/Encounter/_history");
  EXPECT_EQ(history.json.find("entry")->items().size(), 1u);
}

TEST(MllpFeed, NoAckWhenTheStoreCannotCommitSoTheSenderResends) {
  TestServer server;
  // Another process-level writer holds the database: the commit fails after the busy timeout.
  auto other = server.side();
  other->holdWriteLock();
  {
    MllpClient client(server.mllpPort());
    EXPECT_EQ(client.exchange(sample("adt-a01.hl7")), "") << "no ACK: the connection closes";
  }
  other->releaseWriteLock();
  other.reset();
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "0");
  EXPECT_EQ(server.get("/$ingest/failures").json.find("parameter"), nullptr)
      << "a transient failure is not kept: the message arrives again";
  // The sender resends the same message: now it is committed and acknowledged.
  MllpClient again(server.mllpPort());
  EXPECT_EQ(segment(again.exchange(sample("adt-a01.hl7")), "MSA"), "MSA|AA|PAS0001234");
}

TEST(MllpFeed, MalformedIsRejectedAndUnprocessableIsAnError) {
  TestServer server;
  MllpClient client(server.mllpPort());
  std::string ar = client.exchange("PID|1||x\r");
  EXPECT_EQ(segment(ar, "MSA").substr(0, 7), "MSA|AR|") << ar;
  EXPECT_NE(segment(ar, "ERR"), "");
  std::string a40 = sample("adt-a01.hl7");  // an A40 without its MRG segment
  a40.replace(a40.find("ADT^A01^ADT_A01"), 15, "ADT^A40^ADT_A39");
  std::string ae = client.exchange(a40);
  EXPECT_EQ(segment(ae, "MSA").substr(0, 17), "MSA|AE|PAS0001234") << ae;
  EXPECT_NE(segment(ae, "ERR"), "");
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "0");
  // Both are kept for the integration team.
  std::string failures = server.get("/$ingest/failures").body;
  EXPECT_NE(failures.find("PAS0001234"), std::string::npos);
  EXPECT_NE(failures.find("hl7.malformed"), std::string::npos);
}

TEST(MllpFeed, AMalformedMessageIsKeptWithTheIdAndSenderItsHeaderStillGives) {
  TestServer server;
  MllpClient client(server.mllpPort());
  // MSH-12 (the version) missing: AR, but MSH-4 and MSH-10 could be read.
  std::string ar = client.exchange(
      "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01^ADT_A01|PAS0009002|P\r"
      "PID|1||M1^^^RX8^MR||Hartley^Amelia||20150314|F\r");
  EXPECT_EQ(segment(ar, "MSA").substr(0, 17), "MSA|AR|PAS0009002") << ar;
  HttpResult kept = server.get("/$ingest/failures");
  std::string pushId, ods;
  for (const json::Value& p : kept.json.find("parameter")->items())
    for (const json::Value& part : p.find("part")->items()) {
      if (part.getString("name") == "pushId") pushId = part.getString("valueString");
      if (part.getString("name") == "source") ods = part.find("valueIdentifier")->getString("value");
    }
  EXPECT_EQ(pushId, "PAS0009002") << kept.body;
  EXPECT_EQ(ods, "RX8");
}

}  // namespace
}  // namespace acp::testing
