// HL7 v2 merges (ADT^A40), resends recognised by MSH-10, and explicit nulls, through
// POST /$ingest/hl7v2 against a real gateway and SQLite store.
#include <gtest/gtest.h>

#include <initializer_list>

#include "gateway/ingest/person_index.h"
#include "gateway/ingest/source_ids.h"
#include "tests/ingest/hl7_messages.h"

namespace acp::testing {
namespace {

using namespace hl7;

size_t count(TestServer& server, const std::string& query) {
  HttpResult r = server.get(query);
  const json::Value* entries = r.json.find("entry");
  return entries ? entries->items().size() : 0;
}

std::string linkOf(const json::Value& patient, std::string* type = nullptr) {
  const json::Value* links = patient.find("link");
  if (!links || links->items().size() != 1) return "";
  if (type) *type = links->items()[0].getString("type");
  return links->items()[0].find("other")->getString("reference");
}

TEST(AcuteMerge, A40MovesTheDuplicatesDataToTheSurvivorAndLinksThem) {
  TestServer server;
  // The duplicate has no NHS number: it is a person of its own (its source id). The survivor
  // has one: the person is the NHS number's.
  const std::string dup = patientId("M654321");
  const std::string survivor = ingest::personIdForNhsNumber("9992530820");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M654321", "S001"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, respect("EPR1", "M654321", "RSP-1"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS2", "M123456", "S002", "9992530820"))), "stored");
  ASSERT_EQ(count(server, "/Encounter?subject=Patient/" + dup), 1u);

  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, mergeMessage("PAS3", "M123456", "M654321")), &codes), "stored");
  EXPECT_TRUE(has(codes, "ingest.merged"));
  // Nothing refers to the duplicate any more; the survivor has both spells and the plan.
  EXPECT_EQ(count(server, "/Encounter?subject=Patient/" + dup), 0u);
  EXPECT_EQ(count(server, "/CarePlan?subject=Patient/" + dup), 0u);
  EXPECT_EQ(count(server, "/Encounter?subject=Patient/" + survivor), 2u);
  EXPECT_EQ(count(server, "/CarePlan?subject=Patient/" + survivor), 1u);
  // The duplicate stays (its hospital number still finds it) but points to the survivor.
  HttpResult d = server.get("/Patient/" + dup);
  ASSERT_EQ(d.status, 200);
  std::string type;
  EXPECT_EQ(linkOf(d.json, &type), "Patient/" + survivor);
  EXPECT_EQ(type, "replaced-by");
  EXPECT_EQ(d.json.find("active")->text(), "false");
  HttpResult s = server.get("/Patient/" + survivor);
  EXPECT_EQ(linkOf(s.json, &type), "Patient/" + dup);
  EXPECT_EQ(type, "replaces");
  // One Provenance names every version the merge wrote.
  HttpResult prov = server.get("/Provenance?_count=100");
  std::string merged;  // the merge's Provenance: the one with the most targets
  for (const json::Value& e : prov.json.find("entry")->items()) {
    std::string targets = json::write(*e.find("resource")->find("target"));
    if (targets.size() > merged.size()) merged = targets;
  }
  // Survivor, duplicate, the spell and the plan (and the Flags the merge moved or raised).
  for (const std::string& ref : {"Patient/" + survivor, "Patient/" + dup})
    EXPECT_NE(merged.find(ref), std::string::npos) << ref;
  EXPECT_NE(merged.find("Encounter/"), std::string::npos);
  EXPECT_NE(merged.find("CarePlan/"), std::string::npos);

  // The merge resent (a lost ACK): answered without a second write.
  std::string before = server.get("/Patient/" + dup).json.find("meta")->getString("versionId");
  codes.clear();
  EXPECT_EQ(outcomeOf(send(server, mergeMessage("PAS3", "M123456", "M654321")), &codes),
            "unchanged");
  EXPECT_TRUE(has(codes, "ingest.resent"));
  // The same merge under a new control id: nothing left to move, nothing written either.
  EXPECT_EQ(outcomeOf(send(server, mergeMessage("PAS4", "M123456", "M654321"))), "unchanged");
  EXPECT_EQ(server.get("/Patient/" + dup).json.find("meta")->getString("versionId"), before);
}

TEST(AcuteMerge, AMessageForAMergedAwayNumberIsRejectedAndKept) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M654321", "S001"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, mergeMessage("PAS2", "M123456", "M654321"))), "stored");
  // A late spell under the old number would land on the inactive duplicate.
  std::vector<std::string> codes;
  EXPECT_EQ(outcomeOf(send(server, admission("PAS3", "M654321", "S009")), &codes), "rejected");
  EXPECT_TRUE(has(codes, "ingest.merged-away"));
  EXPECT_EQ(server.get("/Encounter/" + ingest::derivedId("Encounter", "RX8", "S009")).status, 404);
  EXPECT_EQ(server.get("/Encounter/" + ingest::derivedId("Encounter", "RX8", "S001")).status, 200);
  EXPECT_NE(server.get("/$ingest/failures").body.find("PAS3"), std::string::npos);
}

TEST(AcuteMerge, TwoPatientsWithDifferentNhsNumbersAreNeverMerged) {
  TestServer server;
  const std::string dup = ingest::personIdForNhsNumber("9990548609");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M654321", "S001", "9990548609"))), "stored");
  std::vector<std::string> codes;
  EXPECT_EQ(outcomeOf(send(server, mergeMessage("PAS2", "M123456", "M654321", "9992530820")),
                      &codes),
            "rejected");
  EXPECT_TRUE(has(codes, "ingest.merge-conflict"));
  // Nothing was written: the duplicate keeps its spell, the survivor does not exist.
  EXPECT_EQ(count(server, "/Encounter?subject=Patient/" + dup), 1u);
  EXPECT_EQ(server.get("/Patient/" + patientId("M123456")).status, 404);
  // Kept for the integration team to look at.
  EXPECT_NE(server.get("/$ingest/failures").body.find("PAS2"), std::string::npos);
}

TEST(AcuteMerge, TheSurvivorTakesTheDuplicatesNhsNumberWhenItHasNone) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M654321", "S001", "9992530820"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, mergeMessage("PAS2", "M123456", "M654321"))), "stored");
  HttpResult found =
      server.get("/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820&active:not=false");
  ASSERT_EQ(found.json.find("entry")->items().size(), 1u) << found.body;
  // Both hospital numbers are that child's: the one Patient of the NHS number, with the
  // survivor's hospital number.
  const json::Value& person = *found.json.find("entry")->items()[0].find("resource");
  EXPECT_EQ(person.getString("id"), ingest::personIdForNhsNumber("9992530820"));
  EXPECT_NE(json::write(person).find("M123456"), std::string::npos);
}

TEST(AcuteMerge, MalformedMergesAreRejectedAndAnUnknownDuplicateIsSaid) {
  TestServer server;
  std::vector<std::string> codes;
  std::string noMrg = message({msh("ADT^A40^ADT_A39", "PAS1", "20261005100000"), pid("M123456")});
  EXPECT_EQ(outcomeOf(send(server, noMrg), &codes), "rejected");
  EXPECT_TRUE(has(codes, "hl7.required"));
  codes.clear();
  EXPECT_EQ(outcomeOf(send(server, mergeMessage("PAS2", "M123456", "M123456")), &codes), "rejected");
  EXPECT_TRUE(has(codes, "hl7.invalid-merge"));
  codes.clear();
  EXPECT_EQ(outcomeOf(send(server, mergeMessage("PAS3", "M123456", "M999999")), &codes), "stored");
  EXPECT_TRUE(has(codes, "ingest.merge-unknown-duplicate"));
  EXPECT_EQ(server.get("/Patient/" + patientId("M999999")).status, 404);
}

TEST(AcuteResend, ARepeatedControlIdFromTheSameSenderIsNeverAppliedTwice) {
  TestServer server;
  const std::string id = patientId("M123456");
  std::string a01 = admission("PAS1", "M123456", "S001");
  ASSERT_EQ(outcomeOf(send(server, a01)), "stored");
  // Someone corrects the name through the API; the old message arrives again (its ACK was
  // lost): it must not undo the correction.
  HttpResult p = server.get("/Patient/" + id);
  json::Value patient = p.json;
  patient.erase("meta");
  patient.find("name")->items()[0].set("family", json::Value::makeString("Hartley-Jones"));
  ASSERT_EQ(server.put("/Patient/" + id, json::write(patient)).status, 200);
  std::vector<std::string> codes;
  EXPECT_EQ(outcomeOf(send(server, a01), &codes), "unchanged");
  EXPECT_TRUE(has(codes, "ingest.resent"));
  EXPECT_EQ(server.get("/Patient/" + id).json.find("name")->items()[0].getString("family"),
            "Hartley-Jones");
  // The same control id from another sending application is another message.
  std::string other = a01;
  other.replace(other.find("|PAS|"), 5, "|EPR|");
  EXPECT_EQ(outcomeOf(send(server, other)), "stored");
}

TEST(AcuteNulls, AnExplicitNullRemovesTheValueAndAnAbsentFieldKeepsIt) {
  TestServer server;
  const std::string id = patientId("M123456");
  std::string a28 = message({msh("ADT^A28^ADT_A05", "PAS1", "20261001090000"),
                             "EVN|A28|20261001090000",
                             pid("M123456", "", "|||12 Orchard Way^^Northby^^NB3 4QT||07700 900123"),
                             "PD1|||Castle Street Surgery^^X81001"});
  ASSERT_EQ(outcomeOf(send(server, a28)), "stored");
  json::Value p = server.get("/Patient/" + id).json;
  ASSERT_NE(p.find("telecom"), nullptr);
  ASSERT_NE(p.find("address"), nullptr);
  ASSERT_NE(p.find("generalPractitioner"), nullptr);
  // A31: the phone number deleted (""), the address not sent, the practice deleted.
  std::string a31 = message({msh("ADT^A31^ADT_A05", "PAS2", "20261002090000"),
                             "EVN|A31|20261002090000", pid("M123456", "", "|||||\"\""),
                             "PD1|||\"\""});
  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, a31), &codes), "stored");
  p = server.get("/Patient/" + id).json;
  EXPECT_EQ(p.find("telecom"), nullptr);
  EXPECT_EQ(p.find("generalPractitioner"), nullptr);
  ASSERT_NE(p.find("address"), nullptr);
  EXPECT_EQ(p.find("address")->items()[0].getString("postalCode"), "NB3 4QT");
}

TEST(AcuteLabels, ASecurityLabelSetThroughTheApiSurvivesTheNextMessage) {
  TestServer server;
  const std::string id = patientId("M123456");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001"))), "stored");
  json::Value p = server.get("/Patient/" + id).json;
  json::Value label;
  json::ParseError err;
  json::parse(R"([{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}])",
              label, err);
  p.find("meta")->set("security", label);
  ASSERT_EQ(server.put("/Patient/" + id, json::write(p)).status, 200);
  std::string a31 = message({msh("ADT^A31^ADT_A05", "PAS2", "20261002090000"),
                             "EVN|A31|20261002090000", pid("M123456", "", "|||||07700 900999")});
  ASSERT_EQ(outcomeOf(send(server, a31)), "stored");
  json::Value after = server.get("/Patient/" + id).json;
  EXPECT_EQ(after.find("telecom")->items()[0].getString("value"), "07700 900999");
  ASSERT_NE(after.find("meta")->find("security"), nullptr);
  EXPECT_EQ(after.find("meta")->find("security")->items()[0].getString("code"), "R");
}

TEST(AcuteOrder, AMessageThatOnlyConfirmsTheRecordMakesNoVersionButStillCountsAsNewer) {
  TestServer server;
  const std::string id = patientId("M123456");
  ASSERT_EQ(outcomeOf(send(server, message({msh("ADT^A28^ADT_A05", "PAS1", "20261001090000"),
                                             "EVN|A28|20261001090000",
                                             pid("M123456", "", "|||||07700 900111")}))),
            "stored");
  // 3 Oct: the same demographics again — nothing new to write.
  EXPECT_EQ(outcomeOf(send(server, message({msh("ADT^A31^ADT_A05", "PAS3", "20261003090000"),
                                             "EVN|A31|20261003090000",
                                             pid("M123456", "", "|||||07700 900111")}))),
            "unchanged");
  EXPECT_EQ(server.get("/Patient/" + id).json.find("meta")->getString("versionId"), "1");
  // 2 Oct, arriving late, with another phone number: older than what the 3 Oct message
  // confirmed, so not applied.
  std::vector<std::string> codes;
  EXPECT_EQ(outcomeOf(send(server, message({msh("ADT^A31^ADT_A05", "PAS2", "20261002090000"),
                                             "EVN|A31|20261002090000",
                                             pid("M123456", "", "|||||07700 900222")})),
                      &codes),
            "unchanged");
  EXPECT_TRUE(has(codes, "ingest.stale"));
  EXPECT_EQ(server.get("/Patient/" + id).json.find("telecom")->items()[0].getString("value"),
            "07700 900111");
}

TEST(AcuteSegments, SegmentsOutsideTheInterfaceAreReported) {
  TestServer server;
  std::string a28 = message({msh("ADT^A28^ADT_A05", "PAS1", "20261001090000"),
                             "EVN|A28|20261001090000", pid("M123456"), "AL1|1||PEANUT",
                             "ZXY|1|local", "ZXY|2|local"});
  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, a28), &codes), "stored");
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "hl7.unused-segment"), 2);  // AL1, ZXY once
}

}  // namespace
}  // namespace acp::testing
