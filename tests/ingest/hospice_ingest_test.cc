// POST /$ingest/hospice against a real server: per-record outcomes, idempotency, rejection of
// impossible records without blocking others, NHS number checks, 1.1 exports, what is stored.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gateway/app/options.h"
#include "gateway/model/model.h"
#include "gateway/store/sql_store.h"
#include "mappings/hospice/hospice_parser.h"
#include "tests/ingest/fhir_reading.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string sample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResult push(TestServer& server, const std::string& body,
                const std::string& type = "application/json") {
  return server.request("POST", "/$ingest/hospice", body, {{"Content-Type", type}});
}

// The value[x] of the top-level parameter `name`.
std::string param(const HttpResult& r, const std::string& name) {
  for (const json::Value& p : r.json.find("parameter")->items())
    if (p.getString("name") == name) {
      for (const auto& [k, v] : p.members())
        if (k.rfind("value", 0) == 0) return v.isString() ? v.text() : v.text();
    }
  return "";
}

// The record parameters: (id, outcome, issue codes).
struct Rec {
  std::string id, outcome;
  std::vector<std::string> codes;
  std::vector<std::string> refs;
};
std::vector<Rec> records(const HttpResult& r) {
  std::vector<Rec> out;
  for (const json::Value& p : r.json.find("parameter")->items()) {
    if (p.getString("name") != "record") continue;
    Rec rec;
    for (const json::Value& part : p.find("part")->items()) {
      const std::string& n = part.getString("name");
      if (n == "id") rec.id = part.getString("valueString");
      if (n == "outcome") rec.outcome = part.getString("valueCode");
      if (n == "resource") rec.refs.push_back(part.find("valueReference")->getString("reference"));
      if (n == "issues")
        for (const json::Value& i : part.find("resource")->find("issue")->items())
          rec.codes.push_back(i.find("details")->find("coding")->items()[0].getString("code"));
    }
    out.push_back(rec);
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(HospiceIngest, TheExampleIsStoredThenUnchangedWhenResent) {
  TestServer server;
  HttpResult first = push(server, sample());
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(param(first, "stored"), "1");
  auto recs = records(first);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].id, "WB-004471");
  EXPECT_EQ(recs[0].outcome, "stored");
  // Patient, Condition, Encounter, CareTeam, CarePlan, Consent, Provenance.
  EXPECT_EQ(recs[0].refs.size(), 7u);

  HttpResult again = push(server, sample());
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(param(again, "unchanged"), "1");
  EXPECT_EQ(records(again)[0].outcome, "unchanged");
  // No second version, no second Provenance.
  EXPECT_EQ(server.get("/Provenance?_summary=count").json.find("total")->text(), "1");
  HttpResult hist = server.get("/CarePlan/_history");
  EXPECT_EQ(hist.json.find("entry")->items().size(), 1u);
}

TEST(HospiceIngest, WhatIsStoredCanBeFoundByNhsNumber) {
  TestServer server;
  ASSERT_EQ(push(server, sample()).status, 200);
  HttpResult r = server.get(
      "/CarePlan?subject:Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820"
      "&_include=CarePlan:subject");
  ASSERT_EQ(r.status, 200);
  const auto& entries = r.json.find("entry")->items();
  ASSERT_EQ(entries.size(), 2u);
  const json::Value& plan = *entries[0].find("resource");
  EXPECT_EQ(plan.getString("status"), "active");
  EXPECT_EQ(plan.find("category")->items()[0].find("coding")->items()[0].getString("code"),
            "736366004");
  // The resuscitation decision with its value, date and who decided.
  const json::Value& first = *plan.find("activity")->items()[0].find("detail");
  EXPECT_EQ(first.find("code")->find("coding")->items()[0].getString("code"), "resuscitation");
  EXPECT_NE(first.getString("description").find("GMC 7012345"), std::string::npos);
  const json::Value& patient = *entries[1].find("resource");
  EXPECT_EQ(patient.getString("birthDate"), "2015-03-14");
  EXPECT_EQ(patient.getString("gender"), "female");
  EXPECT_EQ(patient.find("address")->items()[0].getString("postalCode"), "NB3 4QT");
  const json::Value& nhs = patient.find("identifier")->items()[0];
  EXPECT_EQ(nhs.getString("value"), "9992530820");
  EXPECT_EQ(nhs.find("extension")->items()[0].find("valueCodeableConcept")->find("coding")
                ->items()[0].getString("code"),
            "01");
  EXPECT_EQ(server.get("/Consent?_summary=count").json.find("total")->text(), "1");
  EXPECT_EQ(server.get("/Encounter?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820")
                .json.find("entry")->items().size(),
            1u);
}

TEST(HospiceIngest, AnImpossibleRecordIsRejectedAndTheOthersStored) {
  TestServer server;
  std::string good = sample();
  // A second record: same shape, another child, born on 31/02.
  std::string doc = good;
  size_t start = doc.find("{\n    \"recordId\"");
  size_t end = doc.rfind("}]");
  ASSERT_NE(start, std::string::npos);
  std::string second = doc.substr(start, end + 1 - start);
  replace(second, "WB-004471", "WB-009999");
  replace(second, "14/03/2015", "31/02/2015");
  replace(second, "E-90021", "E-90022");
  replace(second, "ACP-2231", "ACP-9999");
  doc.insert(end + 1, ",\n" + second);
  HttpResult r = push(server, doc);
  ASSERT_EQ(r.status, 200) << r.body;
  auto recs = records(r);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].outcome, "stored");
  EXPECT_EQ(recs[1].id, "WB-009999");
  EXPECT_EQ(recs[1].outcome, "rejected");
  EXPECT_TRUE(has(recs[1].codes, "hospice.invalid-date"));
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "1");
}

// The failure parameters of GET /$ingest/failures: (id, recordId, status).
struct Failure {
  std::string id, recordId, status, replays;
};
std::vector<Failure> failures(const HttpResult& r) {
  std::vector<Failure> out;
  const json::Value* params = r.json.find("parameter");
  if (!params) return out;
  for (const json::Value& p : params->items()) {
    if (p.getString("name") != "failure") continue;
    Failure f;
    for (const json::Value& part : p.find("part")->items()) {
      const std::string& n = part.getString("name");
      if (n == "id") f.id = part.find("valueInteger")->text();
      if (n == "recordId") f.recordId = part.getString("valueString");
      if (n == "status") f.status = part.getString("valueCode");
      if (n == "replays") f.replays = part.find("valueInteger")->text();
    }
    out.push_back(f);
  }
  return out;
}

TEST(HospiceIngest, RejectedRecordsAreKeptAndCanBeReplayed) {
  TestServer server;
  std::string doc = sample();
  replace(doc, "14/03/2015", "31/02/2015");
  HttpResult r = push(server, doc);
  auto recs = records(r);
  ASSERT_EQ(recs[0].outcome, "rejected");
  EXPECT_TRUE(has(recs[0].codes, "ingest.kept"));
  auto kept = failures(server.get("/$ingest/failures"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].recordId, "WB-004471");
  EXPECT_EQ(kept[0].status, "open");
  // The kept content is the record alone, with the document's header.
  HttpResult one = server.get("/$ingest/failures/" + kept[0].id);
  ASSERT_EQ(one.status, 200);
  EXPECT_NE(one.body.find("31/02/2015"), std::string::npos);
  // Replaying unchanged content fails the same way: the failure stays open, counted.
  HttpResult replay = server.request("POST", "/$ingest/failures/" + kept[0].id + "/$replay");
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(records(replay)[0].outcome, "rejected");
  kept = failures(server.get("/$ingest/failures?status=open"));
  ASSERT_EQ(kept.size(), 1u) << "a replay does not keep a second copy";
  EXPECT_EQ(kept[0].replays, "1");
  EXPECT_EQ(server.get("/$ingest/failures/999").status, 404);
  EXPECT_EQ(server.get("/$ingest/failures/abc").status, 400);
}

TEST(HospiceIngest, AReplayThatSucceedsClosesTheFailure) {
  TestServer server;
  // A failure kept with content that the current mapping accepts (as after a mapping fix).
  {
    auto model = model::Model::load(std::string(ACP_SOURCE_DIR) + "/conformance/r4");
    ASSERT_TRUE(model.isOk());
    auto second = store::SqlStore::open(server.storeLocation(), model.value());
    ASSERT_TRUE(second.isOk());
    store::KeptFailure f;
    f.partner = "hospice";
    f.sourceOds = "8WB01";
    f.pushId = "WB-EXP-20261101-0930";
    f.recordId = "WB-004471";
    f.contentType = "application/json";
    f.content = sample();
    f.issuesJson = R"({"resourceType":"OperationOutcome","issue":[]})";
    ASSERT_TRUE(second.value()->keep(f).isOk());
  }
  auto kept = failures(server.get("/$ingest/failures"));
  ASSERT_EQ(kept.size(), 1u);
  HttpResult replay = server.request("POST", "/$ingest/failures/" + kept[0].id + "/$replay");
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(records(replay)[0].outcome, "stored");
  EXPECT_TRUE(failures(server.get("/$ingest/failures?status=open")).empty());
  EXPECT_EQ(failures(server.get("/$ingest/failures?status=replayed")).size(), 1u);
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "1");
}

TEST(HospiceIngest, UnreadableDocumentsAreKeptToo) {
  TestServer server;
  EXPECT_EQ(push(server, "{not json").status, 400);
  auto kept = failures(server.get("/$ingest/failures"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].recordId, "");
}

TEST(HospiceIngest, AFailingNhsNumberIsNeverStoredAsAnNhsNumber) {
  TestServer server;
  std::string doc = sample();
  replace(doc, "999 253 0820", "999 665 5190");
  HttpResult r = push(server, doc);
  ASSERT_EQ(r.status, 200);
  auto recs = records(r);
  EXPECT_EQ(recs[0].outcome, "stored");
  EXPECT_TRUE(has(recs[0].codes, "hospice.invalid-nhs-number"));
  EXPECT_EQ(server.get("/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9996655190")
                .json.find("entry"),
            nullptr);
  HttpResult local = server.get("/Patient?identifier=https://acp-gateway.nhs.uk/Id/local/8WB01|WB-004471");
  ASSERT_NE(local.json.find("entry"), nullptr);
}

TEST(HospiceIngest, Version11Exports) {
  TestServer server;
  std::string doc = sample();
  replace(doc, "\"exportVersion\": \"1.2\"", "\"exportVersion\": \"1.1\"");
  replace(doc, "\"decision\": \"MODIFIED\"", "\"decision\": \"N\"");
  replace(doc, ", \"second\": \"HOSPICE\"", "");
  HttpResult r = push(server, doc);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(records(r)[0].outcome, "stored");
  HttpResult plans = server.get("/CarePlan");
  const json::Value& act = *plans.json.find("entry")->items()[0].find("resource")->find("activity");
  const json::Value& value = *act.items()[0].find("detail")->find("extension")->items()[0]
                                  .find("valueCodeableConcept");
  EXPECT_EQ(value.find("coding")->items()[0].getString("code"), "450476008");
}

// The activity of a CarePlan whose acp-item code is `item` (nullptr when absent).
const json::Value* activity(const json::Value& plan, const std::string& item) {
  const json::Value* acts = plan.find("activity");
  if (!acts) return nullptr;
  for (const json::Value& a : acts->items()) {
    const json::Value* code = a.find("detail")->find("code");
    if (code && code->find("coding") &&
        code->find("coding")->items()[0].getString("code") == item)
      return a.find("detail");
  }
  return nullptr;
}

// The acp-decision-value of an activity detail.
const json::Value* decisionValue(const json::Value& detail) {
  const json::Value* ext = detail.find("extension");
  if (!ext) return nullptr;
  for (const json::Value& e : ext->items())
    if (e.getString("url") ==
        "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-value")
      return e.find("valueCodeableConcept");
  return nullptr;
}

// Clinical safety: a resuscitation decision the export version does not define (MODIFIED is
// 1.2 only) is never stored in part, and never leaves the plan active without it: the record
// is rejected and kept for the integration team.
TEST(HospiceIngest, AResuscitationDecisionTheVersionDoesNotDefineRejectsTheRecord) {
  TestServer server;
  std::string doc = sample();
  replace(doc, "\"exportVersion\": \"1.2\"", "\"exportVersion\": \"1.1\"");
  HttpResult r = push(server, doc);
  ASSERT_EQ(r.status, 200) << r.body;
  auto recs = records(r);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].outcome, "rejected");
  EXPECT_TRUE(has(recs[0].codes, "hospice.unknown-code"));
  EXPECT_TRUE(has(recs[0].codes, "ingest.kept"));
  EXPECT_EQ(server.get("/CarePlan?_summary=count").json.find("total")->text(), "0");
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "0");
  ASSERT_EQ(failures(server.get("/$ingest/failures")).size(), 1u);

  // An unknown decision in 1.2, and a decision missing beside its details: the same.
  for (const char* decision : {"\"decision\": \"PARTIAL\"", "\"decision\": null"}) {
    std::string other = sample();
    replace(other, "\"decision\": \"MODIFIED\"", decision);
    HttpResult o = push(server, other);
    EXPECT_EQ(records(o)[0].outcome, "rejected") << decision;
  }
  EXPECT_EQ(server.get("/CarePlan?_summary=count").json.find("total")->text(), "0");
}

// Other 1.2 content in a 1.1 export is used as 1.2 defines it, with a warning: the second
// place of death is kept, STEP_DOWN keeps its meaning.
TEST(HospiceIngest, OtherVersion12ContentInA11ExportIsUsedWithAWarning) {
  TestServer server;
  std::string doc = sample();
  replace(doc, "\"exportVersion\": \"1.2\"", "\"exportVersion\": \"1.1\"");
  replace(doc, "\"decision\": \"MODIFIED\"", "\"decision\": \"N\"");
  replace(doc, "\"type\": \"SHORT_BREAK\"", "\"type\": \"STEP_DOWN\"");
  HttpResult r = push(server, doc);
  ASSERT_EQ(r.status, 200) << r.body;
  auto recs = records(r);
  EXPECT_EQ(recs[0].outcome, "stored");
  EXPECT_TRUE(has(recs[0].codes, "hospice.version-content"));
  EXPECT_FALSE(has(recs[0].codes, "hospice.unused-field"));
  json::Value plan = onlyResource(server, "/CarePlan");
  const json::Value* second = activity(plan, "preferred-place-of-death-2");
  ASSERT_NE(second, nullptr) << json::write(plan);
  ASSERT_NE(decisionValue(*second), nullptr);
  EXPECT_NE(json::write(*decisionValue(*second)).find(R"("code":"hospice")"), std::string::npos);
  json::Value enc = onlyResource(server, "/Encounter");
  EXPECT_NE(json::write(enc).find("step-down"), std::string::npos) << json::write(enc);
}

// Unknown place codes are clinical decisions: kept with the code as text, never dropped.
TEST(HospiceIngest, UnknownCodesAreKeptAsText) {
  TestServer server;
  std::string doc = sample();
  replace(doc, "\"preferredPlaceOfCare\": \"HOME\"", "\"preferredPlaceOfCare\": \"CARE_HOME\"");
  replace(doc, "\"second\": \"HOSPICE\"", "\"second\": \"GRANDPARENTS\"");
  replace(doc, "\"relationship\": \"mother\"", "\"relationship\": \"aunt\"");
  HttpResult r = push(server, doc);
  ASSERT_EQ(r.status, 200) << r.body;
  auto recs = records(r);
  EXPECT_EQ(recs[0].outcome, "stored");
  EXPECT_TRUE(has(recs[0].codes, "hospice.unmapped-code"));
  json::Value plan = onlyResource(server, "/CarePlan");
  EXPECT_EQ(plan.getString("status"), "active");
  using Item = std::pair<const char*, const char*>;
  for (auto [item, text] : {Item{"preferred-place-of-care", "CARE_HOME"},
                            Item{"preferred-place-of-death-2", "GRANDPARENTS"}}) {
    const json::Value* a = activity(plan, item);
    ASSERT_NE(a, nullptr) << item;
    const json::Value* v = decisionValue(*a);
    ASSERT_NE(v, nullptr) << item;
    EXPECT_EQ(v->getString("text"), text);
    EXPECT_EQ(v->find("coding"), nullptr) << "an unknown code is never given a coding";
  }
  std::string patient = json::write(onlyResource(server, "/Patient"));
  EXPECT_NE(patient.find(R"("relationship":[{"text":"aunt"})"), std::string::npos) << patient;
}

// There is no FHIR element for the place of death: said, not dropped silently.
TEST(HospiceIngest, ThePlaceOfDeathIsReportedAsNotMapped) {
  TestServer server;
  std::string doc = sample();
  replace(doc, "\"episodes\": [",
          "\"deceased\": {\"date\": \"30/10/2026\", \"place\": \"HOSPICE\"},\n    \"episodes\": [");
  HttpResult r = push(server, doc);
  ASSERT_EQ(r.status, 200) << r.body;
  auto recs = records(r);
  EXPECT_EQ(recs[0].outcome, "stored");
  EXPECT_TRUE(has(recs[0].codes, "hospice.unused-field"));
  EXPECT_NE(r.body.find("records[0].deceased.place"), std::string::npos);
  EXPECT_EQ(onlyResource(server, "/Patient").getString("deceasedDateTime"), "2026-10-30");
}

// Source order: every resource of a record carries it, so an older record (older plan
// version, older lastModified) overwrites nothing — neither the plan nor the key worker,
// patient, diagnoses or episodes.
TEST(HospiceIngest, AnOlderRecordNeverOverwritesNewerData) {
  TestServer server;
  ASSERT_EQ(push(server, sample()).status, 200);  // version 3, lastModified 16:02 UTC
  std::string older = sample();
  replace(older, "\"version\": 3", "\"version\": 2");
  // 17:01 at +01:00 is 16:01 UTC: older, although its text sorts higher.
  replace(older, "2026-10-30T16:02:00+00:00", "2026-10-30T17:01:00+01:00");
  replace(older, "\"name\": \"Jo Patel\"", "\"name\": \"Anna Green\"");
  replace(older, "12 Orchard Way", "1 Old Road");
  replace(older, "Spinal muscular atrophy type 1\"", "SMA\"");
  replace(older, "\"end\": \"2026-10-23T15:00:00+01:00\",", "");
  HttpResult r = push(server, older);
  ASSERT_EQ(r.status, 200) << r.body;
  auto recs = records(r);
  EXPECT_EQ(recs[0].outcome, "unchanged");
  EXPECT_TRUE(has(recs[0].codes, "ingest.stale"));
  for (const char* type :
       {"Patient", "Condition", "Encounter", "CareTeam", "CarePlan", "Consent"}) {
    HttpResult hist = server.get(std::string("/") + type + "/_history");
    EXPECT_EQ(hist.json.find("entry")->items().size(), 1u) << type << " was overwritten";
  }
  EXPECT_NE(server.get("/CareTeam").body.find("Jo Patel"), std::string::npos);
  EXPECT_NE(server.get("/Patient").body.find("12 Orchard Way"), std::string::npos);

  // A newer record is applied to all of them.
  std::string newer = sample();
  replace(newer, "2026-10-30T16:02:00+00:00", "2026-10-31T09:00:00Z");
  replace(newer, "\"name\": \"Jo Patel\"", "\"name\": \"Anna Green\"");
  HttpResult n = push(server, newer);
  EXPECT_EQ(records(n)[0].outcome, "stored");
  EXPECT_NE(server.get("/CareTeam").body.find("Anna Green"), std::string::npos);
  // The orders are kept beside the resources, not in them.
  EXPECT_EQ(server.get("/Patient").body.find("source-order"), std::string::npos);
  EXPECT_EQ(server.get("/CarePlan").body.find("source-order"), std::string::npos);
}

TEST(HospiceIngest, AnUnreadableLastModifiedRejectsTheRecord) {
  TestServer server;
  std::string doc = sample();
  replace(doc, "2026-10-30T16:02:00+00:00", "yesterday");
  auto recs = records(push(server, doc));
  EXPECT_EQ(recs[0].outcome, "rejected");
  EXPECT_TRUE(has(recs[0].codes, "hospice.invalid-date"));
}

TEST(HospiceIngest, AKeyWorkerIsKeptWithoutAPlan) {
  TestServer server;
  std::string doc = sample();
  size_t from = doc.find(",\n    \"advanceCarePlan\"");
  size_t to = doc.find(",\n    \"episodes\"");
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  doc.erase(from, to - from);
  ASSERT_EQ(records(push(server, doc))[0].outcome, "stored");
  EXPECT_EQ(server.get("/CarePlan?_summary=count").json.find("total")->text(), "0");
  EXPECT_NE(server.get("/CareTeam").body.find("Jo Patel"), std::string::npos);
}

TEST(HospiceIngest, DateTimesWithoutAZoneAreUkLocalTime) {
  using mappings::hospice::fhirDateTimeFromIso;
  using mappings::hospice::utcStampFromIso;
  bool assumed = false;
  EXPECT_EQ(fhirDateTimeFromIso("2026-07-01T09:30:00", &assumed), "2026-07-01T09:30:00+01:00");
  EXPECT_TRUE(assumed);
  EXPECT_EQ(fhirDateTimeFromIso("2026-12-01T09:30", &assumed), "2026-12-01T09:30:00+00:00");
  EXPECT_EQ(fhirDateTimeFromIso("2026-10-20T10:00:00+0100", &assumed), "2026-10-20T10:00:00+01:00");
  EXPECT_FALSE(assumed);
  EXPECT_EQ(fhirDateTimeFromIso("2026-10-20T10:00:00.25Z"), "2026-10-20T10:00:00.25Z");
  EXPECT_EQ(fhirDateTimeFromIso("2026-10-20"), "2026-10-20");
  EXPECT_EQ(fhirDateTimeFromIso("2026-02-30T10:00:00Z"), "");
  EXPECT_EQ(fhirDateTimeFromIso("20/10/2026"), "");
  // British Summer Time 2026: 29 March 01:00 UTC to 25 October 01:00 UTC.
  EXPECT_EQ(utcStampFromIso("2026-03-29T00:30:00"), "20260329003000");
  EXPECT_EQ(utcStampFromIso("2026-03-29T02:30:00"), "20260329013000");
  EXPECT_EQ(utcStampFromIso("2026-10-25T00:30:00"), "20261024233000");
  EXPECT_EQ(utcStampFromIso("2026-10-25T03:00:00"), "20261025030000");
  EXPECT_EQ(utcStampFromIso("2026-01-01T00:30:00+01:00"), "20251231233000");
  EXPECT_EQ(utcStampFromIso("2026-10-30T17:01:00+01:00"), "20261030160100");
}

// An episode time without a zone is valid R4 after mapping (not a rejected record).
TEST(HospiceIngest, AnEpisodeTimeWithoutAZoneIsStored) {
  TestServer server;
  std::string doc = sample();
  replace(doc, "2026-10-20T10:00:00+01:00", "2026-10-20T10:00:00");
  HttpResult r = push(server, doc);
  auto recs = records(r);
  ASSERT_EQ(recs[0].outcome, "stored") << r.body;
  EXPECT_TRUE(has(recs[0].codes, "hospice.assumed-time-zone"));
  EXPECT_EQ(at(onlyResource(server, "/Encounter"), {"period", "start"}),
            "2026-10-20T10:00:00+01:00");
}

TEST(HospiceIngest, AnOlderPlanVersionNeverOverwritesANewerOne) {
  TestServer server;
  ASSERT_EQ(push(server, sample()).status, 200);  // version 3
  std::string older = sample();
  replace(older, "\"version\": 3", "\"version\": 2");
  replace(older, "\"decision\": \"MODIFIED\"", "\"decision\": \"FULL\"");
  HttpResult r = push(server, older);
  auto recs = records(r);
  EXPECT_TRUE(has(recs[0].codes, "ingest.stale"));
  std::string plan = server.get("/CarePlan").body;
  EXPECT_NE(plan.find("modified-cpr"), std::string::npos) << "version 3's decision stays current";
  EXPECT_EQ(plan.find("450475007"), std::string::npos);
  EXPECT_EQ(server.get("/CarePlan/_history").json.find("entry")->items().size(), 1u);
}

TEST(HospiceIngest, SupersededPlansAreNeverActive) {
  TestServer server;
  std::string doc = sample();
  replace(doc, "\"status\": \"AGREED\"", "\"status\": \"SUPERSEDED\"");
  ASSERT_EQ(push(server, doc).status, 200);
  HttpResult plans = server.get("/CarePlan?status=active");
  EXPECT_EQ(plans.json.find("entry"), nullptr);
  EXPECT_EQ(server.get("/CarePlan?status=revoked").json.find("entry")->items().size(), 1u);
}

TEST(HospiceIngest, TheCapabilityStatementListsTheIngestOperations) {
  TestServer server;
  std::string body = server.get("/metadata").body;
  for (const char* op : {"OperationDefinition/ingest-hospice", "OperationDefinition/ingest-failures",
                         "OperationDefinition/ingest-replay"})
    EXPECT_NE(body.find(op), std::string::npos) << op;
}

TEST(HospiceIngest, PushesHaveTheirOwnBodyCap) {
  app::Options o;
  o.maxBodyBytes = 2048;
  o.maxIngestBodyBytes = 1 << 20;
  TestServer server(o);
  std::string doc = sample();  // ~3.5 KB, with padding well over 2 KiB
  doc.insert(doc.size() - 2, std::string(4096, ' '));
  EXPECT_EQ(push(server, doc).status, 200);
  std::string patient = R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">)" +
                        std::string(4096, 'x') + R"(</div>"}})";
  EXPECT_EQ(server.post("/Patient", patient).status, 413);
  // Over the push cap: refused from the head, before any body byte is read.
  Poco::Net::StreamSocket s(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(server.port())));
  std::string head = "POST /$ingest/hospice HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 2097152\r\n\r\n";
  s.sendBytes(head.data(), static_cast<int>(head.size()));
  char buf[512];
  int n = s.receiveBytes(buf, sizeof buf);
  ASSERT_GT(n, 12);
  EXPECT_EQ(std::string(buf, 12), "HTTP/1.1 413");
}

TEST(HospiceIngest, DocumentLevelErrors) {
  TestServer server;
  HttpResult notJson = push(server, "{not json");
  EXPECT_EQ(notJson.status, 400);
  EXPECT_EQ(notJson.errorCode(), "hospice.not-json");
  std::string doc = sample();
  replace(doc, "\"exportVersion\": \"1.2\"", "\"exportVersion\": \"2.0\"");
  EXPECT_EQ(push(server, doc).errorCode(), "hospice.unsupported-version");
  EXPECT_EQ(push(server, sample(), "application/xml").status, 415);
  EXPECT_EQ(server.request("POST", "/$ingest/nobody", "{}", {{"Content-Type", "application/json"}}).status,
            404);
  EXPECT_EQ(server.get("/$ingest/hospice").status, 405);
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "0");
}

}  // namespace
}  // namespace acp::testing
