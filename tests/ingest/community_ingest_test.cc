// POST /$ingest/community: the community trust's XML export through the streaming parser.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gateway/ingest/london_time.h"
#include "gateway/model/model.h"
#include "gateway/store/sql_store.h"
#include "tests/ingest/fhir_reading.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string example() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/community/samples/example.xml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResult push(TestServer& server, const std::string& body) {
  return server.request("POST", "/$ingest/community", body, {{"Content-Type", "application/xml"}});
}

std::vector<std::pair<std::string, std::string>> outcomes(const HttpResult& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const json::Value& p : r.json.find("parameter")->items()) {
    if (p.getString("name") != "record") continue;
    std::string id, outcome;
    for (const json::Value& part : p.find("part")->items()) {
      if (part.getString("name") == "id") id = part.getString("valueString");
      if (part.getString("name") == "outcome") outcome = part.getString("valueCode");
    }
    out.emplace_back(id, outcome);
  }
  return out;
}

TEST(CommunityIngest, TheExampleIsStoredOnceAndFoundByNhsNumber) {
  TestServer server;
  HttpResult r = push(server, example());
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  ASSERT_EQ(outcomes(r).size(), 1u);
  EXPECT_EQ(outcomes(r)[0], std::make_pair(std::string("C-77120"), std::string("stored")));
  // The visit's free-text note has nowhere to go in an Encounter: said, not dropped silently.
  EXPECT_NE(r.body.find("community.unused-text"), std::string::npos);
  EXPECT_NE(r.body.find("CommunityExport.Patient[0].Contact[0]"), std::string::npos);
  EXPECT_EQ(outcomes(push(server, example()))[0].second, "unchanged");
  HttpResult plans = server.get(
      "/CarePlan?subject:Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820");
  ASSERT_EQ(plans.json.find("entry")->items().size(), 1u);
  std::string plan = json::write(*plans.json.find("entry")->items()[0].find("resource"));
  for (const char* expected : {"\"status\":\"active\"", "modified-cpr", "ventilation-non-invasive-only",
                               "preferred-place-of-death-2", "\"code\":\"ccn01\"", "12A3456E",
                               "Goal: Remain at home"})
    EXPECT_NE(plan.find(expected), std::string::npos) << expected;
  EXPECT_EQ(server.get("/Encounter?_summary=count").json.find("total")->text(), "1");
  EXPECT_EQ(server.get("/Consent?_summary=count").json.find("total")->text(), "1");
  EXPECT_EQ(server.get("/CareTeam?_summary=count").json.find("total")->text(), "1");
}

TEST(CommunityIngest, OneBadPatientDoesNotBlockTheOthers) {
  TestServer server;
  std::string doc = example();
  size_t start = doc.find("<Patient ");
  size_t end = doc.find("</Patient>") + 10;
  std::string second = doc.substr(start, end - start);
  second.replace(second.find("C-77120"), 7, "C-77121");
  second.replace(second.find("CP-5512"), 7, "CP-5513");
  second.replace(second.find("V-300145"), 8, "V-300146");
  second.replace(second.find("<Gender>female</Gender>"), 23, "<Gender>robot</Gender>");
  doc.insert(end, second);
  HttpResult r = push(server, doc);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  auto o = outcomes(r);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].second, "stored");
  EXPECT_EQ(o[1], std::make_pair(std::string("C-77121"), std::string("rejected")));
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "1");
}

TEST(CommunityIngest, AReplayIsJudgedByItsOwnPatientNotTheWholeDocument) {
  TestServer server;
  // The community keeps the whole document for a rejected Patient. Here the document holds
  // C-77120 (acceptable now, as after a mapping fix) and C-77121 (still rejected).
  std::string doc = example();
  size_t start = doc.find("<Patient ");
  size_t end = doc.find("</Patient>") + 10;
  std::string second = doc.substr(start, end - start);
  second.replace(second.find("C-77120"), 7, "C-77121");
  second.replace(second.find("CP-5512"), 7, "CP-5513");
  second.replace(second.find("V-300145"), 8, "V-300146");
  second.replace(second.find("<Gender>female</Gender>"), 23, "<Gender>robot</Gender>");
  doc.insert(end, second);
  {
    auto model = model::Model::load(std::string(ACP_SOURCE_DIR) + "/conformance/r4");
    ASSERT_TRUE(model.isOk());
    auto direct = store::SqlStore::open(server.storeLocation(), model.value());
    ASSERT_TRUE(direct.isOk());
    store::KeptFailure f;
    f.partner = "community";
    f.sourceOds = "RX9";
    f.pushId = "RX9-20261101-1015";
    f.recordId = "C-77120";
    f.contentType = "application/xml";
    f.content = doc;
    f.issuesJson = R"({"resourceType":"OperationOutcome","issue":[]})";
    ASSERT_TRUE(direct.value()->keep(f).isOk());
  }
  // The one kept failure's id and, after the replay, its status.
  auto only = [&](const std::string& field) {
    HttpResult list = server.get("/$ingest/failures");
    std::string value;
    for (const json::Value& p : list.json.find("parameter")->items()) {
      if (p.getString("name") != "failure") continue;
      for (const json::Value& part : p.find("part")->items()) {
        if (part.getString("name") != field) continue;
        value = field == "id" ? part.find("valueInteger")->text() : part.getString("valueCode");
      }
    }
    return value;
  };
  std::string id = only("id");
  ASSERT_FALSE(id.empty());
  HttpResult replay = server.request("POST", "/$ingest/failures/" + id + "/$replay");
  ASSERT_EQ(replay.status, 200) << replay.body;
  auto o = outcomes(replay);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].second, "stored");
  EXPECT_EQ(o[1].second, "rejected");
  // C-77120's failure is closed although the other Patient in its document still fails.
  EXPECT_EQ(only("status"), "replayed");
}

TEST(CommunityIngest, ADoctypeIsRefusedAndKept) {
  TestServer server;
  std::string doc = example();
  doc.insert(doc.find("<CommunityExport"), "<!DOCTYPE CommunityExport>\n");
  HttpResult r = push(server, doc);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.errorCode(), "community.doctype");
  EXPECT_NE(server.get("/$ingest/failures").body.find("\"community\""), std::string::npos);
}

// A schema-valid Contact/@date without a time zone is UK local time: the Encounter gets the
// Europe/London offset of that date (R4 needs a zone with a time), with a warning, instead of
// an invalid dateTime that would reject the whole Patient with its plan.
TEST(CommunityIngest, AContactTimeWithoutAZoneIsUkLocalTime) {
  TestServer server;
  std::string doc = example();
  replace(doc, "date=\"2026-10-28T14:00:00Z\"", "date=\"2026-10-28T14:00:00\"");
  // A second contact in summer time.
  replace(doc, "</Patient>",
          "<Contact id=\"V-300146\" date=\"2026-07-01T09:30:00\" minutes=\"30\" type=\"telephone\" "
          "staffRole=\"CNS\" outcome=\"attended\"/></Patient>");
  HttpResult r = push(server, doc);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  EXPECT_EQ(outcomes(r)[0].second, "stored") << r.body;
  EXPECT_NE(r.body.find("community.assumed-time-zone"), std::string::npos);
  EXPECT_EQ(at(onlyResource(server, "/Encounter?identifier=V-300145"), {"period", "start"}),
            "2026-10-28T14:00:00+00:00");
  EXPECT_EQ(at(onlyResource(server, "/Encounter?identifier=V-300146"), {"period", "start"}),
            "2026-07-01T09:30:00+01:00");
  EXPECT_EQ(onlyResource(server, "/CarePlan").getString("status"), "active");
}

// An xs:date may carry a zone; a FHIR date cannot: the date alone is stored.
TEST(CommunityIngest, DatesWithAZoneAreStoredAsDates) {
  TestServer server;
  std::string doc = example();
  replace(doc, "<BirthDate>2015-03-14</BirthDate>", "<BirthDate>2015-03-14Z</BirthDate>");
  replace(doc, "<ReviewDate>2026-12-12</ReviewDate>", "<ReviewDate>2026-12-12+01:00</ReviewDate>");
  HttpResult r = push(server, doc);
  ASSERT_EQ(outcomes(r)[0].second, "stored") << r.body;
  EXPECT_EQ(onlyResource(server, "/Patient").getString("birthDate"), "2015-03-14");
  EXPECT_NE(server.get("/CarePlan").body.find("\"valueDate\":\"2026-12-12\""), std::string::npos);
}

// Source order: the plan by its version, everything else by the export's @generated time,
// so an older export (re-sent late) never overwrites the Patient, caseload or contacts.
TEST(CommunityIngest, AnOlderExportNeverOverwritesNewerData) {
  TestServer server;
  ASSERT_EQ(outcomes(push(server, example()))[0].second, "stored");  // 2026-11-01T10:15:00Z
  std::string older = example();
  // 10:14 at +00:00 is before 10:15Z; 11:14 at +01:00 is 10:14 UTC.
  replace(older, "generated=\"2026-11-01T10:15:00Z\"", "generated=\"2026-11-01T11:14:00+01:00\"");
  replace(older, "12 Orchard Way", "1 Old Road");
  replace(older, "minutes=\"45\"", "minutes=\"20\"");
  replace(older, "from=\"2022-05-01\"", "from=\"2021-05-01\"");
  HttpResult r = push(server, older);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  EXPECT_EQ(outcomes(r)[0].second, "unchanged") << r.body;
  EXPECT_NE(r.body.find("ingest.stale"), std::string::npos);
  for (const char* type : {"Patient", "CareTeam", "Encounter"})
    EXPECT_EQ(server.get(std::string("/") + type + "/_history").json.find("entry")->items().size(),
              1u)
        << type << " was overwritten";
  EXPECT_NE(server.get("/Patient").body.find("12 Orchard Way"), std::string::npos);
  // The order is kept beside the resource, not in it.
  EXPECT_EQ(server.get("/Patient").body.find("source-order"), std::string::npos);

  std::string newer = older;
  replace(newer, "generated=\"2026-11-01T11:14:00+01:00\"", "generated=\"2026-11-02T10:15:00\"");
  HttpResult n = push(server, newer);
  EXPECT_EQ(outcomes(n)[0].second, "stored") << n.body;
  EXPECT_NE(n.body.find("community.assumed-time-zone"), std::string::npos);  // @generated
  EXPECT_NE(server.get("/Patient").body.find("1 Old Road"), std::string::npos);
  EXPECT_EQ(at(onlyResource(server, "/Encounter"), {"length", "value"}), "20");
}

TEST(CommunityIngest, LondonTime) {
  namespace london = ingest::london;
  EXPECT_EQ(london::lastSunday(2026, 3), 29);
  EXPECT_EQ(london::lastSunday(2026, 10), 25);
  EXPECT_EQ(london::lastSunday(2024, 3), 31);
  EXPECT_EQ(london::lastSunday(2027, 10), 31);
  EXPECT_FALSE(london::summerTime(2026, 3, 29, 0));
  EXPECT_TRUE(london::summerTime(2026, 3, 29, 2));
  EXPECT_TRUE(london::summerTime(2026, 10, 25, 1));
  EXPECT_FALSE(london::summerTime(2026, 10, 25, 2));
  EXPECT_EQ(london::offsetText(60), "+01:00");
  EXPECT_EQ(london::offsetText(-330), "-05:30");
  EXPECT_EQ(london::utcStamp(2026, 1, 1, 0, 30, 5, 60), "20251231233005");
  EXPECT_EQ(london::utcStamp(2024, 2, 28, 23, 30, 0, -60), "20240229003000");
}

}  // namespace
}  // namespace acp::testing
