// The plan Flags over the real server (plan/plan_flags.h): raised and closed by ingest in
// the partners' formats, and by the clock (an injected one) for review dates and the
// transition prompt.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>

#include "gateway/app/gateway.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/ingest/person_index.h"
#include "gateway/ingest/source_ids.h"
#include "tests/ingest/fhir_reading.h"
#include "tests/ingest/hl7_messages.h"

namespace acp::testing {
namespace {

using namespace hl7;

constexpr const char* kNhs = "9992530820";  // the hospice sample's child, born 14/03/2015

std::string hospiceSample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResult pushHospice(TestServer& server, const std::string& body) {
  return server.request("POST", "/$ingest/hospice", body, {{"Content-Type", "application/json"}});
}

std::string respectForm(const std::string& controlId, const std::string& cpr,
                        const std::string& resultStatus) {
  const std::string when = "20261002113000";
  return message({msh("ORU^R01^ORU_R01", controlId, when, "EPR"), pid("M123456", kNhs),
                  "OBR|1||RSP-1|1382601000000107^ReSPECT form^SCT|||" + when +
                      "||||||||||||||||||" + resultStatus,
                  "OBX|1|CWE|CPR^CPR recommendation^L||" + cpr + "||||||" + resultStatus});
}

// The child's Flag of this acp-flag kind (a non-object when there is none).
json::Value flagOf(TestServer& server, const std::string& kind) {
  HttpResult r = server.get("/Flag?patient=Patient/" + ingest::personIdForNhsNumber(kNhs));
  if (const json::Value* entries = r.json.find("entry"))
    for (const json::Value& e : entries->items()) {
      const json::Value* f = e.find("resource");
      if (f->getString("resourceType") != "Flag") continue;
      for (const json::Value& c : f->find("code")->find("coding")->items())
        if (c.getString("code") == kind) return *f;
    }
  return json::Value();
}

std::string statusOf(TestServer& server, const std::string& kind) {
  json::Value f = flagOf(server, kind);
  return f.isObject() ? f.getString("status") : "none";
}

// 2026-11-23T12:00:00Z and days after it.
constexpr int64_t kNov23 = 1795435200000;
constexpr int64_t kDay = 86400000;

app::Options clockedOptions(std::shared_ptr<std::atomic<int64_t>> now) {
  app::Options o;
  o.clock = [now] { return now->load(); };
  o.flagsIntervalSeconds = 0;  // the test drives the clock's sweep itself
  return o;
}

TEST(PlanFlags, SourcesDisagreeingOnCprAreFlaggedUntilTheyAgree) {
  TestServer server;
  ASSERT_EQ(pushHospice(server, hospiceSample()).status, 200);  // modified CPR
  EXPECT_EQ(statusOf(server, "resuscitation-disagreement"), "none");
  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, respectForm("EPR1", "450476008^Not for attempted CPR^SCT", "F")),
                      &codes),
            "stored");
  json::Value flag = flagOf(server, "resuscitation-disagreement");
  ASSERT_TRUE(flag.isObject());
  EXPECT_EQ(flag.getString("status"), "active");
  std::string text = flag.find("code")->getString("text");
  EXPECT_NE(text.find("RX8"), std::string::npos) << text;
  EXPECT_NE(text.find("8WB01"), std::string::npos) << text;
  EXPECT_EQ(flag.find("meta")->find("profile")->items()[0].text(),
            "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Flag");
  // The hospital corrects its form to modified CPR: the sources agree, the Flag closes.
  ASSERT_EQ(outcomeOf(send(server, respectForm("EPR2", "MODIFIED^Modified CPR^L", "C"))), "stored");
  flag = flagOf(server, "resuscitation-disagreement");
  EXPECT_EQ(flag.getString("status"), "inactive");
  EXPECT_FALSE(flag.find("period")->getString("end").empty());
  // Re-sending changes nothing: no new version of the closed Flag.
  std::string version = flag.find("meta")->getString("versionId");
  ASSERT_EQ(outcomeOf(send(server, respectForm("EPR3", "MODIFIED^Modified CPR^L", "C"))),
            "unchanged");
  EXPECT_EQ(flagOf(server, "resuscitation-disagreement").find("meta")->getString("versionId"),
            version);
}

TEST(PlanFlags, APlanWithoutAPreferredPlaceOfDeathIsFlagged) {
  TestServer server;
  std::string doc = hospiceSample();
  replace(doc, "\"preferredPlaceOfDeath\": {\"first\": \"HOME\", \"second\": \"HOSPICE\"},", "");
  HttpResult r = pushHospice(server, doc);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(statusOf(server, "no-place-of-death"), "active");
  // Recorded in the next export: closed.
  ASSERT_EQ(pushHospice(server, hospiceSample()).status, 200);
  EXPECT_EQ(statusOf(server, "no-place-of-death"), "inactive");
}

TEST(PlanFlags, TheClockRaisesTheReviewAndTransitionPrompts) {
  auto now = std::make_shared<std::atomic<int64_t>>(kNov23);
  TestServer server(clockedOptions(now));
  ASSERT_EQ(pushHospice(server, hospiceSample()).status, 200);  // review by 12/12/2026
  EXPECT_EQ(statusOf(server, "review-overdue"), "none");
  EXPECT_EQ(statusOf(server, "transition-prompt"), "none");  // 11 years old

  // 13 December 2026: the review date has passed, with no new data at all.
  now->store(kNov23 + 20 * kDay);
  auto written = server.gateway().ingest()->refreshTimedFlags();
  ASSERT_TRUE(written.isOk()) << written.status().message();
  EXPECT_EQ(written.value(), 1);
  json::Value review = flagOf(server, "review-overdue");
  ASSERT_TRUE(review.isObject());
  EXPECT_EQ(review.getString("status"), "active");
  EXPECT_NE(review.find("code")->getString("text").find("2026-12-12"), std::string::npos);
  EXPECT_EQ(review.find("period")->getString("start").substr(0, 10), "2026-12-13");
  // Running again changes nothing.
  EXPECT_EQ(server.gateway().ingest()->refreshTimedFlags().value(), 0);
  EXPECT_EQ(statusOf(server, "transition-prompt"), "none");

  // The day before the 14th birthday: nothing yet. On 14 March 2029: the transition prompt.
  now->store(1868184000000 - kDay);  // 2029-03-13T12:00:00Z
  ASSERT_TRUE(server.gateway().ingest()->refreshTimedFlags().isOk());
  EXPECT_EQ(statusOf(server, "transition-prompt"), "none");
  now->store(1868184000000);  // 2029-03-14T12:00:00Z
  ASSERT_TRUE(server.gateway().ingest()->refreshTimedFlags().isOk());
  EXPECT_EQ(statusOf(server, "transition-prompt"), "active");
}

TEST(PlanFlags, AnAdvanceDecisionToRefuseTreatmentForAChildIsFlagged) {
  TestServer server;
  ASSERT_EQ(pushHospice(server, hospiceSample()).status, 200);
  const std::string person = ingest::personIdForNhsNumber(kNhs);
  // A plan written through the API records an ADRT for the 11-year-old.
  std::string plan = R"({"resourceType":"CarePlan","status":"active","intent":"plan",
    "category":[{"coding":[{"system":"http://snomed.info/sct","code":"736366004"}]}],
    "subject":{"reference":"Patient/)" + person + R"("},
    "activity":[{"detail":{"code":{"coding":[{"system":"https://acp-gateway.nhs.uk/CodeSystem/acp-item","code":"adrt"}]},
      "status":"in-progress","description":"Refuses ventilation"}}]})";
  HttpResult created = server.request("POST", "/CarePlan", plan);
  ASSERT_EQ(created.status, 201) << created.body;
  // API writes are picked up by the sweep (ingest raises Flags as it writes).
  ASSERT_TRUE(server.gateway().ingest()->refreshTimedFlags().isOk());
  json::Value flag = flagOf(server, "adrt-under-18");
  ASSERT_TRUE(flag.isObject());
  EXPECT_EQ(flag.getString("status"), "active");
  EXPECT_NE(flag.find("code")->getString("text").find("not valid before 18"), std::string::npos);
}

}  // namespace
}  // namespace acp::testing
