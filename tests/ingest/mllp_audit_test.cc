// The audit of the hospital's HL7 v2 feed over a real MLLP connection (mappings/acute/
// hl7_feed.h): an accepted message's AuditEvent is durable by the time its AA arrives and
// names the sender, the patient and the message; AE and AR leave failure events; a message
// whose event cannot be written is neither stored nor acknowledged.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>

#include "tests/support/audit_reading.h"
#include "tests/support/mllp_client.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The served Patient's id (one child in these tests).
std::string onlyPatient(TestServer& server) {
  HttpResult r = server.get("/Patient");
  const json::Value* entries = r.json.find("entry");
  if (!entries || entries->items().size() != 1) return "";
  return entries->items()[0].find("resource")->getString("id");
}

TEST(MllpAudit, AnAcceptedMessageIsAuditedBeforeItsAck) {
  TestServer server;
  MllpClient client(server.mllpPort());
  ASSERT_EQ(ackSegment(client.exchange(acuteSample("adt-a01.hl7")), "MSA"), "MSA|AA|PAS0001234");
  auto messages = auditEvents(server, "?subtype=hl7v2");
  ASSERT_EQ(messages.size(), 1u);
  const json::Value& e = messages[0];
  EXPECT_EQ(e.getString("outcome"), "0");
  EXPECT_EQ(e.getString("action"), "C");
  EXPECT_EQ(e.find("type")->getString("code"), "110110") << "DICOM Patient Record";
  EXPECT_TRUE(contains(auditSubtypes(e), "hl7v2"));
  EXPECT_TRUE(contains(auditSubtypes(e), "create"));
  EXPECT_EQ(auditOrganisation(e), "RX8") << "the sending facility, MSH-4";
  EXPECT_EQ(auditAddress(e), "127.0.0.1");
  const std::string child = onlyPatient(server);
  ASSERT_FALSE(child.empty());
  EXPECT_EQ(auditEntities(e, "1"), std::vector<std::string>{"Patient/" + child});
  bool encounter = false;
  for (const std::string& ref : auditEntities(e, "4"))
    encounter = encounter || ref.rfind("Encounter/", 0) == 0;
  EXPECT_TRUE(encounter);
  AuditedMessage m = auditMessage(e);
  EXPECT_EQ(m.id, "PAS0001234");
  EXPECT_EQ(m.detail("MSH-10"), "PAS0001234");
  EXPECT_EQ(m.detail("MSH-9"), "ADT^A01");
  EXPECT_EQ(m.detail("MSH-4"), "RX8");
  for (const char* identifying : {"9992530820", "Hartley", "Amelia"})
    EXPECT_EQ(json::write(e).find(identifying), std::string::npos) << identifying;

  // The discharge updates the Encounter: an update, found by the child.
  ASSERT_EQ(ackSegment(client.exchange(acuteSample("adt-a03.hl7")), "MSA"), "MSA|AA|PAS0001301");
  auto aboutChild = auditEvents(server, "?subtype=hl7v2&patient=" + child);
  ASSERT_EQ(aboutChild.size(), 2u);
  EXPECT_EQ(aboutChild[0].getString("action"), "U");
  EXPECT_TRUE(contains(auditSubtypes(aboutChild[0]), "update"));
  EXPECT_EQ(auditMessage(aboutChild[0]).id, "PAS0001301");
  EXPECT_TRUE(auditChainIntact(server));
}

TEST(MllpAudit, RejectedMessagesLeaveFailureEvents) {
  TestServer server;
  MllpClient client(server.mllpPort());
  // AR: MSH-12 missing — MSH-4 and MSH-10 can still be read.
  std::string ar = client.exchange(
      "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01^ADT_A01|PAS0009002|P\r"
      "PID|1||9992530820^^^NHS^NH||Hartley^Amelia||20150314|F\r");
  ASSERT_EQ(ackSegment(ar, "MSA").substr(0, 17), "MSA|AR|PAS0009002") << ar;
  auto events = auditEvents(server, "?subtype=hl7v2&outcome=8");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].getString("outcomeDesc"), "AR: the message cannot be parsed: hl7.malformed");
  EXPECT_EQ(auditMessage(events[0]).id, "PAS0009002");
  EXPECT_EQ(auditOrganisation(events[0]), "RX8");
  EXPECT_TRUE(auditEntities(events[0], "1").empty());

  // AE: an A40 without its MRG segment reaches the store and is refused there.
  std::string a40 = acuteSample("adt-a01.hl7");
  a40.replace(a40.find("ADT^A01^ADT_A01"), 15, "ADT^A40^ADT_A39");
  ASSERT_EQ(ackSegment(client.exchange(a40), "MSA").substr(0, 17), "MSA|AE|PAS0001234");
  events = auditEvents(server, "?subtype=hl7v2&outcome=8");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(auditMessage(events[0]).id, "PAS0001234");
  EXPECT_EQ(auditMessage(events[0]).detail("MSH-9"), "ADT^A40");
  EXPECT_EQ(events[0].getString("outcomeDesc").rfind("the record was rejected", 0), 0u)
      << events[0].getString("outcomeDesc");
  for (const json::Value& e : events)
    for (const char* identifying : {"9992530820", "Hartley", "Amelia"})
      EXPECT_EQ(json::write(e).find(identifying), std::string::npos) << identifying;
  EXPECT_TRUE(auditChainIntact(server));
}

TEST(MllpAudit, AMessageWhoseEventCannotBeWrittenIsNeitherStoredNorAcknowledged) {
  TestServer server;
  auto other = server.side();
  other->refuseAuditAppends();
  {
    MllpClient client(server.mllpPort());
    EXPECT_EQ(client.exchange(acuteSample("adt-a01.hl7")), "") << "no ACK: the sender resends";
  }
  other->allowAuditAppends();
  other.reset();
  EXPECT_EQ(server.get("/Encounter?_summary=count").json.find("total")->text(), "0");
  EXPECT_TRUE(auditEvents(server, "?subtype=hl7v2").empty());
  // The resend is stored and acknowledged, with its event.
  MllpClient again(server.mllpPort());
  EXPECT_EQ(ackSegment(again.exchange(acuteSample("adt-a01.hl7")), "MSA"), "MSA|AA|PAS0001234");
  EXPECT_EQ(auditEvents(server, "?subtype=hl7v2&outcome=0").size(), 1u);
  EXPECT_TRUE(auditChainIntact(server));
}

}  // namespace
}  // namespace acp::testing
