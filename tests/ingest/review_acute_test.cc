// Review of this session's acute (HL7 v2) ingest: merges, source order and explicit values,
// through POST /$ingest/hl7v2 against a real Gateway and SQLite store. Each test guards a
// defect found in review (since fixed); the comment above it says what was wrong and why it
// mattered.
#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "gateway/ingest/source_ids.h"
#include "tests/ingest/hl7_messages.h"

namespace acp::testing {
namespace {

constexpr const char* kNhsSystem = "https://fhir.nhs.uk/Id/nhs-number";

using namespace hl7;

std::string joined(const std::vector<std::string>& codes) {
  std::string out;
  for (const std::string& c : codes) out += c + " ";
  return out;
}


std::vector<std::string> nhsNumbers(const json::Value& patient) {
  std::vector<std::string> out;
  if (const json::Value* ids = patient.find("identifier"))
    for (const json::Value& id : ids->items())
      if (id.getString("system") == kNhsSystem) out.push_back(id.getString("value"));
  return out;
}

// Found in review (clinical safety; fixed) — gateway/ingest/ingest_service.cc applyMerge (the NHS number
// check, line 429) compares the NHS number of the survivor *as laid over from this message*
// with the duplicate's. An A40 whose PID-3 carries only the hospital number (common: the merge
// message identifies the survivor by MRN) replaces the stored identifier list (overlay: "a
// field that is sent replaces the element"), so the survivor's stored NHS number is gone
// before the check: the check sees "survivor has none" and instead of refusing the merge
// (ingest.merge-conflict) gives the survivor the *duplicate's* NHS number. Two children with
// different NHS numbers are merged, and one child's record now carries the other's NHS
// number — exactly what the check is documented to prevent (docs/mappings/acute.md "Merges are
// checked"). The check must use the stored survivor's NHS number as well.
TEST(ReviewAcuteMerge, AnA40WithoutTheNhsNumberInPid3StillRefusesTwoDifferentNhsNumbers) {
  TestServer server;
  const std::string survivor = patientId("M123456");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M654321", "S001", "9990548609"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS2", "M123456", "S002", "9992530820"))), "stored");
  std::vector<std::string> codes;
  std::string outcome = outcomeOf(send(server, mergeMessage("PAS3", "M123456", "M654321")), &codes);
  EXPECT_EQ(outcome, "rejected") << joined(codes);
  EXPECT_TRUE(has(codes, "ingest.merge-conflict")) << joined(codes);
  // Whatever the answer, the survivor must never end up with the other child's NHS number.
  json::Value s = server.get("/Patient/" + survivor).json;
  std::vector<std::string> nhs = nhsNumbers(s);
  EXPECT_EQ(std::count(nhs.begin(), nhs.end(), "9990548609"), 0)
      << "the survivor took the duplicate's NHS number: " << json::write(s);
}

// Found in review (fixed) — gateway/ingest/ingest_service.cc applyRecord (stale check, line 282) and
// applyMerge (line 410). Source order is applied to the A40's survivor Patient like to any
// update: when the stored survivor was written by a message with a later EVN-2 (an A31 that
// happened after the merge was recorded, or simply arrived first) and the A40 carries no
// element the stored version lacks, the survivor is left out of `finals`; applyMerge then
// finds no survivor and refuses the merge with "a merge needs two different patients"
// (ingest.merge-invalid). A merge is an event, not a newer state of the survivor: it is never
// applied (the AE'd message is kept, and replaying it fails the same way), so the duplicate's
// encounters and plans stay on the duplicate record while the PAS believes they were merged.
TEST(ReviewAcuteMerge, AMergeOlderThanTheSurvivorsLatestUpdateIsStillApplied) {
  TestServer server;
  const std::string dup = patientId("M654321"), survivor = patientId("M123456");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M654321", "S001"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS2", "M123456", "S002", "9992530820"))), "stored");
  // A demographic update of the survivor recorded after the merge (EVN-2 6 Oct) arrives first.
  // It repeats what is stored: no new version, but the survivor's order is now 6 Oct.
  ASSERT_EQ(outcomeOf(send(server, a31("PAS3", "20261006090000", pid("M123456", "9992530820")))),
            "unchanged");
  std::vector<std::string> codes;
  std::string outcome = outcomeOf(
      send(server, mergeMessage("PAS4", "M123456", "M654321", "9992530820", "20261005100000")),
      &codes);
  EXPECT_EQ(outcome, "stored") << joined(codes);
  EXPECT_FALSE(has(codes, "ingest.merge-invalid")) << joined(codes);
  HttpResult onDup = server.get("/Encounter?subject=Patient/" + dup);
  const json::Value* entries = onDup.json.find("entry");
  EXPECT_EQ(entries ? entries->items().size() : 0u, 0u)
      << "the duplicate's spell was not moved to the survivor";
}

// Found in review (fixed) — mappings/acute/acute_mapper.cc patient() (PID-29/PID-30, lines 301-310). deceased[x]
// is a choice: the mapper sets deceasedDateTime for PID-29 or deceasedBoolean for PID-30 `Y`,
// but never removes the other variant, and the overlay keeps every stored element the
// message does not carry. A date of death sent after a death indicator (the usual order: the
// ward records the death, the date follows) gives a Patient with both deceasedBoolean and
// deceasedDateTime, which R4 forbids: the message is rejected (AE) and the date of death is
// never recorded — and every later message for that patient carrying PID-29 fails the same way.
TEST(ReviewAcuteExplicitValues, ADateOfDeathSentAfterADeathIndicatorIsStored) {
  TestServer server;
  const std::string id = patientId("M123456");
  // PID-30 = Y (22 "|" after PID-8 reach PID-30).
  ASSERT_EQ(outcomeOf(send(server, a31("PAS1", "20261002090000",
                                       pid("M123456", "", std::string(22, '|') + "Y")))),
            "stored");
  ASSERT_EQ(server.get("/Patient/" + id).json.find("deceasedBoolean")->text(), "true");
  // PID-29 = date of death, PID-30 = Y.
  std::vector<std::string> codes;
  std::string outcome = outcomeOf(
      send(server, a31("PAS2", "20261003090000",
                       pid("M123456", "", std::string(21, '|') + "20261003080000|Y"))),
      &codes);
  EXPECT_EQ(outcome, "stored") << joined(codes);
  json::Value p = server.get("/Patient/" + id).json;
  EXPECT_NE(p.find("deceasedDateTime"), nullptr) << json::write(p);
  EXPECT_EQ(p.find("deceasedBoolean"), nullptr) << json::write(p);
}

// Found in review (clinical safety; fixed) — mappings/acute/acute_mapper.cc orderExtension (lines 94-107). When
// EVN-2 is not a readable HL7 TS, its digits are used as the source order anyway ("a date only
// (or unreadable): its digits"), instead of falling back to MSH-7 or refusing the message. An
// EVN-2 written day-first ("25/10/2026 10:30" → "utc-time:25102026103000", i.e. the year 2510)
// makes the stored Patient "newer" than every real message: from then on every update for that
// patient is discarded as stale (ingest.stale, answered unchanged / AA), silently, forever.
// (The opposite malformation, an ISO "2026-10-25T10:30" EVN-2, reads as 2026-00-00 and the
// message itself is silently discarded as older than everything.)
TEST(ReviewAcuteSourceOrder, AnUnreadableEventTimeDoesNotFreezeThePatient) {
  TestServer server;
  const std::string id = patientId("M123456");
  ASSERT_EQ(outcomeOf(send(server, a31("PAS1", "25/10/2026 10:30",
                                       pid("M123456", "", "|||1 Old Road^^Northby^^NB1 1AA"),
                                       "20261025103000"))),
            "stored");
  // The next day the family moves: a well-formed A31.
  std::vector<std::string> codes;
  std::string outcome = outcomeOf(
      send(server, a31("PAS2", "20261026090000",
                       pid("M123456", "", "|||2 New Street^^Northby^^NB2 2BB"), "20261026090000")),
      &codes);
  EXPECT_EQ(outcome, "stored") << joined(codes);
  EXPECT_FALSE(has(codes, "ingest.stale")) << joined(codes);
  json::Value p = server.get("/Patient/" + id).json;
  ASSERT_NE(p.find("address"), nullptr);
  EXPECT_EQ(p.find("address")->items()[0].getString("postalCode"), "NB2 2BB") << json::write(p);
}

// Found in review (upgrade; fixed) — mappings/acute/acute_mapper.cc orderExtension changed the source-order
// text from "hl7-time:<local>" (the previous release, 8c3bf5c) to "utc-time:<utc>" with no
// migration, and IngestService compares the two as plain text: every "utc-time:" value sorts
// after every "hl7-time:" value ('u' > 'h'). On a database written by the previous release the
// first message for each spell is applied whatever its time — a late admission (A01) arriving
// after the stored discharge reopens the finished spell, the exact case source order exists to
// prevent. Old values need converting (or the comparison must understand both forms).
TEST(ReviewAcuteSourceOrder, ADischargeStoredByThePreviousReleaseIsNotReopenedByALateAdmission) {
  TestServer server;
  const std::string patient = patientId("M123456");
  const std::string enc = ingest::derivedId("Encounter", "RX8", "S001");
  // What the previous release stored for the discharge (A03 of 2 Oct, local time 10:00).
  ASSERT_EQ(server.put("/Patient/" + patient,
                       R"({"resourceType":"Patient","id":")" + patient +
                           R"(","name":[{"family":"Hartley"}],"birthDate":"2015-03-14"})")
                .status / 100,
            2);
  std::string stored = R"({"resourceType":"Encounter","id":")" + enc + R"(",
      "extension":[{"url":"https://acp-gateway.nhs.uk/StructureDefinition/source-order",
                    "valueString":"hl7-time:20261002100000"}],
      "status":"finished",
      "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
      "subject":{"reference":"Patient/)" + patient + R"("},
      "period":{"start":"2026-10-01T08:50:00+01:00","end":"2026-10-02T10:00:00+01:00"}})";
  HttpResult put = server.put("/Encounter/" + enc, stored);
  ASSERT_EQ(put.status / 100, 2) << put.body;
  // The admission of 1 Oct arrives late, after the upgrade.
  send(server, admission("PAS9", "M123456", "S001", "", "20261001090000"));
  json::Value e = server.get("/Encounter/" + enc).json;
  EXPECT_EQ(e.getString("status"), "finished") << "the late admission reopened the spell: "
                                               << json::write(e);
}

}  // namespace
}  // namespace acp::testing
