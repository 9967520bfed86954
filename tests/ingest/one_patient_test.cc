// One child, one Patient (gateway/ingest/person_index.h): the hospice export and the hospital
// feed about the same child, through the real server and store. Records sharing a valid NHS
// number are one Patient; a birth-date mismatch under one NHS number is linked and flagged,
// the Flag closed when the sources agree again; an NHS number that arrives later moves the
// child's records without losing history; without an NHS number nothing is joined.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gateway/ingest/person_index.h"
#include "gateway/ingest/person_resolver.h"
#include "gateway/ingest/source_ids.h"
#include "tests/ingest/fhir_reading.h"
#include "tests/ingest/hl7_messages.h"

namespace acp::testing {
namespace {

using namespace hl7;

constexpr const char* kNhs = "9992530820";  // the hospice sample's child (999 253 0820)

std::string hospiceSample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResult pushHospice(TestServer& server, const std::string& body) {
  return server.request("POST", "/$ingest/hospice", body, {{"Content-Type", "application/json"}});
}

std::vector<json::Value> entries(TestServer& server, const std::string& query) {
  HttpResult r = server.get(query);
  EXPECT_EQ(r.status, 200) << query << ": " << r.body.substr(0, 300);
  std::vector<json::Value> out;
  if (const json::Value* e = r.json.find("entry"))
    for (const json::Value& x : e->items()) out.push_back(*x.find("resource"));
  return out;
}

bool hasIdentifier(const json::Value& patient, const std::string& system, const std::string& value) {
  if (const json::Value* ids = patient.find("identifier"))
    for (const json::Value& id : ids->items())
      if (id.getString("system") == system && id.getString("value") == value) return true;
  return false;
}

// The person's Flags with this status (R4 Flag has no status search parameter).
std::vector<json::Value> flagsOf(TestServer& server, const std::string& person,
                                 const std::string& status) {
  std::vector<json::Value> out;
  for (json::Value& f : entries(server, "/Flag?patient=Patient/" + person))
    if (f.getString("status") == status) out.push_back(std::move(f));
  return out;
}

std::string linkTo(const json::Value& patient, const std::string& type) {
  if (const json::Value* links = patient.find("link"))
    for (const json::Value& l : links->items())
      if (l.getString("type") == type) return l.find("other")->getString("reference");
  return "";
}

TEST(OnePatient, TheSameNhsNumberFromTheHospiceAndTheHospitalIsOnePatient) {
  TestServer server;
  ASSERT_EQ(pushHospice(server, hospiceSample()).status, 200);
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001", kNhs))), "stored");

  auto patients = entries(server, std::string("/Patient?identifier=") + ingest::kNhsNumberSystem +
                                      "|" + kNhs);
  ASSERT_EQ(patients.size(), 1u);
  const json::Value& p = patients[0];
  const std::string person = ingest::personIdForNhsNumber(kNhs);
  EXPECT_EQ(p.getString("id"), person);
  // Each source's own number for the child is on the one Patient.
  EXPECT_TRUE(hasIdentifier(p, ingest::localIdentifierSystem("8WB01"), "WB-004471")) << json::write(p);
  EXPECT_TRUE(hasIdentifier(p, ingest::localIdentifierSystem("RX8"), "M123456")) << json::write(p);
  // The hospice's episodes and the hospital spell, and the hospice plan, are the child's.
  auto encounters = entries(server, "/Encounter?patient=Patient/" + person);
  bool hospital = false, hospice = false;
  for (const json::Value& e : encounters) {
    std::string text = json::write(e);
    hospital = hospital || text.find("S001") != std::string::npos;
    hospice = hospice || text.find("8WB01") != std::string::npos;
  }
  EXPECT_TRUE(hospital && hospice) << encounters.size() << " encounters";
  EXPECT_FALSE(entries(server, "/CarePlan?subject=Patient/" + person).empty());
  // No source patient is served as a Patient of its own.
  EXPECT_EQ(server.get("/Patient/" + patientId("M123456")).status, 404);
  EXPECT_EQ(entries(server, "/Patient").size(), 1u);
  // They agree on who the child is: no identity Flag.
  EXPECT_TRUE(entries(server, "/Flag?patient=Patient/" + person).empty());
  // Each source's Provenance names the one Patient among what it wrote.
  bool fromHospital = false;
  for (const json::Value& prov : entries(server, "/Provenance?_count=50")) {
    std::string text = json::write(prov);
    if (text.find("\"RX8\"") != std::string::npos && text.find("Patient/" + person) != std::string::npos)
      fromHospital = true;
  }
  EXPECT_TRUE(fromHospital);
}

TEST(OnePatient, ABirthDateMismatchUnderOneNhsNumberIsFlaggedAndTheFlagClosedWhenCorrected) {
  TestServer server;
  ASSERT_EQ(pushHospice(server, hospiceSample()).status, 200);
  std::string wrongDate = admission("PAS1", "M123456", "S001", kNhs);
  replace(wrongDate, "|20150314|", "|20150413|");
  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, wrongDate), &codes), "stored");
  EXPECT_TRUE(has(codes, "ingest.identity-mismatch"));

  const std::string person = ingest::personIdForNhsNumber(kNhs);
  // Still one Patient (linked, never split silently), and a Flag says why it needs a look.
  EXPECT_EQ(entries(server, std::string("/Patient?identifier=") + ingest::kNhsNumberSystem + "|" +
                                kNhs)
                .size(),
            1u);
  auto flags = flagsOf(server, person, "active");
  ASSERT_EQ(flags.size(), 1u);
  std::string text = flags[0].find("code")->getString("text");
  EXPECT_NE(text.find("2015-03-14 (8WB01)"), std::string::npos) << text;
  EXPECT_NE(text.find("2015-04-13 (RX8)"), std::string::npos) << text;
  EXPECT_EQ(flags[0].find("meta")->find("profile")->items()[0].text(),
            "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Flag");
  std::string raised = flags[0].find("period")->getString("start");
  EXPECT_FALSE(raised.empty());

  // The hospital corrects the date: the Flag is closed, not deleted.
  ASSERT_EQ(outcomeOf(send(server, a31("PAS2", "20261002090000", pid("M123456", kNhs),
                                       "20261002090000"))),
            "stored");
  EXPECT_TRUE(flagsOf(server, person, "active").empty());
  auto closed = flagsOf(server, person, "inactive");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].getString("status"), "inactive");
  EXPECT_EQ(closed[0].find("period")->getString("start"), raised);
  EXPECT_FALSE(closed[0].find("period")->getString("end").empty());
  EXPECT_EQ(onlyResource(server, "/Patient").getString("birthDate"), "2015-03-14");
}

TEST(OnePatient, AnNhsNumberArrivingLaterMovesTheChildsRecordsWithoutLosingHistory) {
  TestServer server;
  const std::string source = patientId("M123456");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001"))), "stored");
  // Without an NHS number the hospital's record is a Patient of its own.
  EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + source).size(), 1u);

  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, a31("PAS2", "20261002090000", pid("M123456", kNhs),
                                       "20261002090000")),
                      &codes),
            "stored");
  EXPECT_TRUE(has(codes, "ingest.person-moved"));
  const std::string person = ingest::personIdForNhsNumber(kNhs);
  EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + source).size(), 0u);
  EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + person).size(), 1u);
  HttpResult moved = server.get("/Patient/" + source);
  ASSERT_EQ(moved.status, 200);
  EXPECT_EQ(moved.json.find("active")->text(), "false");
  EXPECT_EQ(linkTo(moved.json, "replaced-by"), "Patient/" + person);
  HttpResult now = server.get("/Patient/" + person);
  ASSERT_EQ(now.status, 200);
  EXPECT_EQ(linkTo(now.json, "replaces"), "Patient/" + source);
  EXPECT_TRUE(hasIdentifier(now.json, ingest::localIdentifierSystem("RX8"), "M123456"));
  // Nothing lost: the first version of the hospital's Patient is still readable.
  EXPECT_EQ(server.get("/Patient/" + source + "/_history/1").status, 200);

  // Later messages without the NHS number stay with the child's Patient.
  ASSERT_EQ(outcomeOf(send(server, admission("PAS3", "M123456", "S002", "", "20261003090000"))),
            "stored");
  EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + person).size(), 2u);
  EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + source).size(), 0u);
}

TEST(OnePatient, WithoutAnNhsNumberTwoSourcesAreNeverJoinedOnDemographics) {
  TestServer server;
  std::string doc = hospiceSample();
  replace(doc, "\"nhsNumber\": \"999 253 0820\", \"nhsNumberVerified\": true,", "");
  ASSERT_EQ(pushHospice(server, doc).status, 200);
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001"))), "stored");
  // Same name, same birth date: two Patients all the same.
  EXPECT_EQ(entries(server, "/Patient?family=Hartley&birthdate=2015-03-14").size(), 2u);
}

TEST(OnePatient, AStaleHospitalRecordStillPointsItsDataAtTheChild) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, a31("PAS1", "20261005090000", pid("M123456", kNhs),
                                       "20261005090000"))),
            "stored");
  // An older admission arrives late: the Patient is not rewritten, the spell is stored, on
  // the child's Patient (never on the hospital's source id, which is not served).
  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, admission("PAS2", "M123456", "S001", kNhs)), &codes), "stored");
  EXPECT_TRUE(has(codes, "ingest.stale"));
  const std::string person = ingest::personIdForNhsNumber(kNhs);
  EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + person).size(), 1u);
  EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + patientId("M123456")).size(), 0u);
}

}  // namespace
}  // namespace acp::testing
