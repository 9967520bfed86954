// The shared plan end to end, as a GP practice lives it: the practice subscribes to the
// child's plans and Flags (a real local HTTP receiver), the partners send in their own formats,
// and each scenario checks together what the practice is told (notifications), what
// $acp-summary answers and which Flags are open.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>

#include "gateway/ingest/ingest_service.h"
#include "gateway/ingest/person_index.h"
#include "gateway/ingest/source_ids.h"
#include "tests/support/http_receiver.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

constexpr const char* kNhs = "9992530820";  // the hospice sample's child, born 14/03/2015
const std::string kByNhs = std::string("https://fhir.nhs.uk/Id/nhs-number|") + kNhs;

std::string hospiceSample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void replace(std::string& s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
}

// The hospital's ReSPECT form for the child (result status F, or C for a correction).
std::string respectForm(const std::string& controlId, const std::string& cpr,
                        const std::string& status) {
  const std::string when = "20261002113000";
  return "MSH|^~\\&|EPR|RX8|ACPGW|NORTHSHIRE|" + when + "||ORU^R01^ORU_R01|" + controlId +
         "|P|2.4|||AL|NE||UNICODE UTF-8\r"
         "PID|1||" + std::string(kNhs) + "^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss||20150314|F\r"
         "OBR|1||RSP-1|1382601000000107^ReSPECT form^SCT|||" + when + "||||||||||||||||||" + status +
         "\rOBX|1|CWE|CPR^CPR recommendation^L||" + cpr + "||||||" + status + "\r";
}

// A gateway with the practice subscribed to the child's CarePlans and Flags.
struct Practice {
  explicit Practice(app::Options options = {}) : server(std::move(options)) {
    for (const char* type : {"CarePlan", "Flag"}) {
      std::string sub = R"({"resourceType":"Subscription","status":"requested","reason":"P81001",
        "criteria":")" + std::string(type) + "?patient.identifier=" + kByNhs + R"(",
        "channel":{"type":"rest-hook","endpoint":")" + receiver.url() +
                        R"(","payload":"application/fhir+json"}})";
      EXPECT_EQ(server.request("POST", "/Subscription", sub).status, 201);
    }
  }
  HttpResult hospice(const std::string& doc) {
    return server.request("POST", "/$ingest/hospice", doc, {{"Content-Type", "application/json"}});
  }
  HttpResult hl7(const std::string& m) {
    return server.request("POST", "/$ingest/hl7v2", m, {{"Content-Type", "application/hl7-v2"}});
  }
  // Waits for `n` notifications in all; the resources they carried.
  std::vector<json::Value> notified(size_t n) {
    EXPECT_TRUE(receiver.waitFor(n)) << "only " << receiver.received().size() << " of " << n;
    std::vector<json::Value> out;
    for (const auto& r : receiver.received()) {
      json::Value v;
      json::ParseError err;
      if (json::parse(r.body, v, err)) out.push_back(std::move(v));
    }
    return out;
  }
  // The summary's current value (a code or text) of an item; "" when none.
  std::string current(const std::string& item) {
    HttpResult s = server.get("/Patient/$acp-summary?identifier=" + kByNhs);
    EXPECT_EQ(s.status, 200) << s.body;
    for (const json::Value& p : s.json.find("parameter")->items()) {
      if (p.getString("name") != "item") continue;
      const auto& parts = p.find("part")->items();
      if (parts[0].find("valueCoding")->getString("code") != item) continue;
      for (const json::Value& part : parts)
        if (part.getString("name") == "current")
          for (const json::Value& f : part.find("part")->items())
            if (f.getString("name") == "value") {
              if (const json::Value* cc = f.find("valueCodeableConcept"))
                return cc->find("coding")->items()[0].getString("code");
              for (const char* k : {"valueString", "valueDate", "valueCode"})
                if (const json::Value* v = f.find(k)) return v->text();
            }
    }
    return "";
  }
  std::string flag(const std::string& kind) {
    HttpResult r = server.get("/Flag?patient.identifier=" + kByNhs);
    if (const json::Value* e = r.json.find("entry"))
      for (const json::Value& x : e->items()) {
        const json::Value* f = x.find("resource");
        if (f->getString("resourceType") != "Flag") continue;
        if (f->find("code")->find("coding")->items()[0].getString("code") == kind)
          return f->getString("status");
      }
    return "none";
  }

  Receiver receiver;
  TestServer server;
};

size_t countOf(const std::vector<json::Value>& resources, const std::string& type,
               const std::string& text = "") {
  size_t n = 0;
  for (const json::Value& r : resources)
    if (r.getString("resourceType") == type &&
        (text.empty() || json::write(r).find(text) != std::string::npos))
      ++n;
  return n;
}

TEST(SharedPlanScenario, ASupersedingReSpectFormReplacesTheDecisionEverywhere) {
  Practice practice;
  ASSERT_EQ(practice.hospice(hospiceSample()).status, 200);
  auto first = practice.notified(1);
  EXPECT_EQ(countOf(first, "CarePlan"), 1u);
  EXPECT_EQ(practice.current("resuscitation"), "modified-cpr");

  // The hospital's form says not for CPR: a disagreement, the practice told of the form and
  // of the Flag.
  ASSERT_EQ(practice.hl7(respectForm("EPR1", "450476008^Not for attempted CPR^SCT", "F")).status, 200);
  auto second = practice.notified(3);
  EXPECT_EQ(countOf(second, "CarePlan", "1382601000000107"), 1u);
  EXPECT_EQ(countOf(second, "Flag", "resuscitation-disagreement"), 1u);
  EXPECT_EQ(practice.current("resuscitation"), "450476008");
  EXPECT_EQ(practice.flag("resuscitation-disagreement"), "active");

  // The form is corrected to modified CPR: the new version is current, the Flag closes, and
  // the practice is told of both.
  ASSERT_EQ(practice.hl7(respectForm("EPR2", "MODIFIED^Modified CPR^L", "C")).status, 200);
  auto third = practice.notified(5);
  EXPECT_EQ(countOf(third, "CarePlan", "1382601000000107"), 2u);
  EXPECT_EQ(countOf(third, "Flag", "\"inactive\""), 1u);
  EXPECT_EQ(practice.current("resuscitation"), "modified-cpr");
  EXPECT_EQ(practice.flag("resuscitation-disagreement"), "inactive");
}

TEST(SharedPlanScenario, AWithdrawnPlanIsNoLongerCurrentAndThePracticeIsTold) {
  Practice practice;
  ASSERT_EQ(practice.hospice(hospiceSample()).status, 200);
  practice.notified(1);
  EXPECT_EQ(practice.current("preferred-place-of-death-1"), "home");
  std::string withdrawn = hospiceSample();
  replace(withdrawn, "\"status\": \"AGREED\"", "\"status\": \"WITHDRAWN\"");
  replace(withdrawn, "\"version\": 3", "\"version\": 4");
  ASSERT_EQ(practice.hospice(withdrawn).status, 200);
  auto all = practice.notified(2);
  EXPECT_EQ(countOf(all, "CarePlan", "\"revoked\""), 1u);
  EXPECT_EQ(practice.current("preferred-place-of-death-1"), "");
  EXPECT_EQ(practice.current("resuscitation"), "");
  // No active plan: no planning prompts either.
  EXPECT_NE(practice.flag("no-place-of-death"), "active");
}

TEST(SharedPlanScenario, AReviewDatePassingIsFlaggedAndThePracticeIsTold) {
  auto now = std::make_shared<std::atomic<int64_t>>(int64_t{1795435200000});  // 2026-11-23
  app::Options options;
  options.clock = [now] { return now->load(); };
  options.flagsIntervalSeconds = 0;
  Practice practice(options);
  ASSERT_EQ(practice.hospice(hospiceSample()).status, 200);  // review by 12/12/2026
  practice.notified(1);
  EXPECT_EQ(practice.current("review-date"), "2026-12-12");
  EXPECT_EQ(practice.flag("review-overdue"), "none");
  now->store(int64_t{1795435200000} + 20 * int64_t{86400000});  // 13 December
  ASSERT_TRUE(practice.server.gateway().ingest()->refreshTimedFlags().isOk());
  auto all = practice.notified(2);
  EXPECT_EQ(countOf(all, "Flag", "review-overdue"), 1u);
  EXPECT_EQ(practice.flag("review-overdue"), "active");
}

TEST(SharedPlanScenario, AnNhsNumberArrivingLaterBringsTheHospitalRecordToTheChild) {
  Practice practice;
  ASSERT_EQ(practice.hospice(hospiceSample()).status, 200);
  practice.notified(1);
  // The hospital's form arrives first without the NHS number: it is not the child's yet, so
  // the practice (subscribed by NHS number) is not told and the summary does not show it.
  std::string anonymous = respectForm("EPR1", "450476008^Not for attempted CPR^SCT", "F");
  replace(anonymous, std::string(kNhs) + "^^^NHS^NH~", "");
  ASSERT_EQ(practice.hl7(anonymous).status, 200);
  EXPECT_EQ(practice.current("resuscitation"), "modified-cpr");
  // The NHS number follows (an A31): the form is the child's now — re-pointed, shown, flagged,
  // and the practice is told.
  std::string a31 = "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261003090000||ADT^A31^ADT_A05|PAS1|P|2.4|||AL|NE||UNICODE UTF-8\r"
                    "EVN|A31|20261003090000\r"
                    "PID|1||" + std::string(kNhs) + "^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss||20150314|F\r";
  ASSERT_EQ(practice.hl7(a31).status, 200);
  auto all = practice.notified(3);
  EXPECT_GE(countOf(all, "CarePlan", "1382601000000107"), 1u);
  EXPECT_EQ(practice.current("resuscitation"), "450476008");
  EXPECT_EQ(practice.flag("resuscitation-disagreement"), "active");
}

}  // namespace
}  // namespace acp::testing
