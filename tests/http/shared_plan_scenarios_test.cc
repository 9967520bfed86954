// The shared plan end to end, as a GP practice lives it: the practice subscribes to the
// child's plans and Flags (a real local HTTP receiver), the partners send in their own formats,
// and each scenario checks together what the practice is told (notifications), what
// $acp-summary answers and which Flags are open.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>
#include <memory>
#include <sstream>

#include "gateway/ingest/ingest_service.h"
#include "gateway/ingest/person_index.h"
#include "gateway/ingest/source_ids.h"
#include "tests/ingest/hl7_messages.h"
#include "tests/support/acp_summary_reading.h"
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
  HttpResult community(const std::string& doc) {
    return server.request("POST", "/$ingest/community", doc,
                          {{"Content-Type", "application/xml"}});
  }
  // Waits (at most 20 s: delivery is asynchronous) until the resources notified so far satisfy
  // `done`; returns them either way (the caller's assertions then say what is missing).
  template <typename Pred>
  std::vector<json::Value> notifiedUntil(Pred done) {
    std::vector<json::Value> out;
    for (int i = 0; i < 200; ++i) {
      out.clear();
      for (const auto& r : receiver.received()) {
        json::Value v;
        json::ParseError err;
        if (json::parse(r.body, v, err)) out.push_back(std::move(v));
      }
      if (done(out)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return out;
  }
  // The summary's source (ODS code) of an item's current value, and the values differing.
  std::string currentSource(const std::string& item) { return field(item, "current", "source"); }
  std::multiset<std::string> differing(const std::string& item) {
    std::multiset<std::string> out;
    for (size_t i = 0;; ++i) {
      std::string v = field(item, "differs", "value", i);
      if (v.empty()) return out;
      out.insert(v + "@" + field(item, "differs", "source", i));
    }
  }
  std::string field(const std::string& item, const std::string& which, const std::string& name,
                    size_t index = 0) {
    HttpResult s = server.get("/Patient/$acp-summary?identifier=" + kByNhs);
    EXPECT_EQ(s.status, 200) << s.body;
    return summaryField(s.json, item, which, name, index);
  }
  // The live Patients carrying the child's NHS number.
  std::vector<json::Value> patients() {
    HttpResult r = server.get("/Patient?identifier=" + kByNhs);
    std::vector<json::Value> out;
    if (const json::Value* e = r.json.find("entry"))
      for (const json::Value& x : e->items()) out.push_back(*x.find("resource"));
    return out;
  }

  // The summary's current value (a code or text) of an item; "" when none.
  std::string current(const std::string& item) { return field(item, "current", "value"); }
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

std::string communitySample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/community/samples/example.xml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The CarePlans notified, by id (each id once).
std::set<std::string> carePlanIds(const std::vector<json::Value>& resources) {
  std::set<std::string> out;
  for (const json::Value& r : resources)
    if (r.getString("resourceType") == "CarePlan") out.insert(r.getString("id"));
  return out;
}

// The last notified version of the Flag with this code, or an empty value.
json::Value lastFlag(const std::vector<json::Value>& resources, const std::string& code) {
  json::Value last;
  for (const json::Value& r : resources)
    if (r.getString("resourceType") == "Flag" &&
        r.find("code")->find("coding")->items()[0].getString("code") == code)
      last = r;
  return last;
}

bool hasIdentifierValue(const json::Value& patient, const std::string& value) {
  if (const json::Value* ids = patient.find("identifier"))
    for (const json::Value& id : ids->items())
      if (id.getString("value") == value) return true;
  return false;
}

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
  // The A31 brings the form's CarePlan and the Flags it raises; their deliveries may arrive in
  // any order, so wait for what is asserted rather than for a count.
  auto all = practice.notifiedUntil([](const std::vector<json::Value>& got) {
    return countOf(got, "CarePlan", "1382601000000107") >= 1 &&
           lastFlag(got, "resuscitation-disagreement").isObject();
  });
  EXPECT_GE(countOf(all, "CarePlan", "1382601000000107"), 1u);
  EXPECT_EQ(lastFlag(all, "resuscitation-disagreement").getString("status"), "active");
  EXPECT_EQ(practice.current("resuscitation"), "450476008");
  EXPECT_EQ(practice.flag("resuscitation-disagreement"), "active");
}

TEST(SharedPlanScenario, TheSameChildFromAllThreeSourcesInEveryOrderGivesOneAnswer) {
  // The hospice plan (modified CPR, agreed 12/09), the community plan (modified, from 12/09)
  // and the hospital's ReSPECT form (not for CPR, 2 October): whatever the order they arrive
  // in, the practice ends with one child, the newest decision current, the other two listed as
  // differing, the disagreement flagged, and a notification of each source's plan.
  std::vector<int> order = {0, 1, 2};
  do {
    SCOPED_TRACE("order " + std::to_string(order[0]) + std::to_string(order[1]) +
                 std::to_string(order[2]));
    Practice practice;
    for (int source : order) {
      HttpResult sent =
          source == 0   ? practice.hospice(hospiceSample())
          : source == 1 ? practice.community(communitySample())
                        : practice.hl7(respectForm("EPR1", "450476008^Not for attempted CPR^SCT", "F"));
      ASSERT_EQ(sent.status, 200) << source << ": " << sent.body.substr(0, 300);
    }
    auto all = practice.notifiedUntil([](const std::vector<json::Value>& got) {
      json::Value flag = lastFlag(got, "resuscitation-disagreement");
      return carePlanIds(got).size() >= 3 && flag.isObject() &&
             json::write(flag).find("8WB01") != std::string::npos &&
             json::write(flag).find("RX9") != std::string::npos;
    });
    EXPECT_EQ(carePlanIds(all).size(), 3u);
    json::Value flag = lastFlag(all, "resuscitation-disagreement");
    ASSERT_TRUE(flag.isObject());
    EXPECT_EQ(flag.getString("status"), "active");
    for (const char* ods : {"8WB01", "RX9", "RX8"})
      EXPECT_NE(json::write(flag).find(ods), std::string::npos) << ods;

    auto patients = practice.patients();
    ASSERT_EQ(patients.size(), 1u);
    for (const char* local : {"WB-004471", "C-77120", "M123456"})
      EXPECT_TRUE(hasIdentifierValue(patients[0], local)) << local;
    EXPECT_EQ(practice.current("resuscitation"), "450476008");
    EXPECT_EQ(practice.currentSource("resuscitation"), "RX8");
    EXPECT_EQ(practice.differing("resuscitation"),
              (std::multiset<std::string>{"modified-cpr@8WB01", "modified-cpr@RX9"}));
    // Both plans that say it agree on the place of death: nothing to flag there.
    EXPECT_EQ(practice.current("preferred-place-of-death-1"), "home");
    EXPECT_EQ(practice.flag("resuscitation-disagreement"), "active");
    EXPECT_NE(practice.flag("place-of-death-disagreement"), "active");
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(SharedPlanScenario, AHospiceDnacprAgainstAHospitalAttemptCprIsFlaggedToThePractice) {
  Practice practice;
  std::string dnacpr = hospiceSample();
  replace(dnacpr, "\"decision\": \"MODIFIED\"", "\"decision\": \"DNACPR\"");
  ASSERT_EQ(practice.hospice(dnacpr).status, 200);
  practice.notified(1);
  EXPECT_EQ(practice.current("resuscitation"), "450476008");
  EXPECT_EQ(practice.flag("resuscitation-disagreement"), "none");

  ASSERT_EQ(practice.hl7(respectForm("EPR1", "450475007^For attempted CPR^SCT", "F")).status, 200);
  auto all = practice.notifiedUntil([](const std::vector<json::Value>& got) {
    return carePlanIds(got).size() >= 2 && lastFlag(got, "resuscitation-disagreement").isObject();
  });
  EXPECT_EQ(carePlanIds(all).size(), 2u);
  json::Value flag = lastFlag(all, "resuscitation-disagreement");
  ASSERT_TRUE(flag.isObject());
  EXPECT_EQ(flag.getString("status"), "active");
  // The Flag names both sources and both decisions.
  std::string text = json::write(flag);
  for (const char* s : {"8WB01", "RX8", "Not for attempted CPR", "For attempted CPR"})
    EXPECT_NE(text.find(s), std::string::npos) << s;
  // The hospital's form of 2 October is the newer decision: current, the hospice's differing.
  EXPECT_EQ(practice.current("resuscitation"), "450475007");
  EXPECT_EQ(practice.currentSource("resuscitation"), "RX8");
  EXPECT_EQ(practice.differing("resuscitation"),
            (std::multiset<std::string>{"450476008@8WB01"}));
  EXPECT_EQ(practice.flag("resuscitation-disagreement"), "active");
}

TEST(SharedPlanScenario, AMistypedNhsNumberCorrectedBringsTheFormToTheRightChild) {
  Practice practice;
  ASSERT_EQ(practice.hospice(hospiceSample()).status, 200);
  practice.notified(1);
  // The hospital types another child's (valid) NHS number: the form is that child's for now,
  // and this child's practice hears nothing of it.
  const std::string wrong = "9990810117";
  std::string mistyped = respectForm("EPR1", "450476008^Not for attempted CPR^SCT", "F");
  replace(mistyped, std::string(kNhs) + "^^^NHS^NH", wrong + "^^^NHS^NH");
  ASSERT_EQ(practice.hl7(mistyped).status, 200);
  EXPECT_EQ(practice.current("resuscitation"), "modified-cpr");
  EXPECT_EQ(practice.differing("resuscitation").size(), 0u);
  EXPECT_EQ(practice.flag("resuscitation-disagreement"), "none");
  EXPECT_EQ(carePlanIds(practice.notified(1)).size(), 1u);

  // The correction (an A31 with the right number): the hospital's form moves to this child,
  // is shown and flagged, and the practice is told of it and of the Flag.
  std::string a31 = hl7::a31("PAS1", "20261003090000", hl7::pid("M123456", kNhs),
                             "20261003090000");
  ASSERT_EQ(practice.hl7(a31).status, 200);
  auto all = practice.notifiedUntil([](const std::vector<json::Value>& got) {
    return carePlanIds(got).size() >= 2 && lastFlag(got, "resuscitation-disagreement").isObject();
  });
  EXPECT_EQ(carePlanIds(all).size(), 2u);
  EXPECT_EQ(lastFlag(all, "resuscitation-disagreement").getString("status"), "active");
  EXPECT_EQ(practice.current("resuscitation"), "450476008");
  EXPECT_EQ(practice.differing("resuscitation"),
            (std::multiset<std::string>{"modified-cpr@8WB01"}));
  auto patients = practice.patients();
  ASSERT_EQ(patients.size(), 1u);
  EXPECT_TRUE(hasIdentifierValue(patients[0], "M123456"));
  // The other child keeps no trace of the form in its summary.
  HttpResult other = practice.server.get(
      "/Patient/$acp-summary?identifier=https://fhir.nhs.uk/Id/nhs-number|" + wrong);
  if (other.status == 200) {
    EXPECT_EQ(other.body.find("450476008"), std::string::npos);
  } else {
    EXPECT_EQ(other.status, 404);
  }
}

TEST(SharedPlanScenario, AnA40MergeBringsTheDuplicatesFormToTheChildAndThePracticeIsTold) {
  Practice practice;
  ASSERT_EQ(practice.hospice(hospiceSample()).status, 200);
  practice.notified(1);
  // The hospital knows the child as M123456 (with the NHS number) and, by mistake, as a second
  // registration M999001 without one; the ReSPECT form was filed under the duplicate.
  ASSERT_EQ(practice.hl7(hl7::a31("PAS1", "20261001090000", hl7::pid("M123456", kNhs))).status,
            200);
  ASSERT_EQ(practice.hl7(hl7::respect("EPR1", "M999001", "RSP-9")).status, 200);
  EXPECT_EQ(practice.current("resuscitation"), "modified-cpr");
  EXPECT_EQ(practice.flag("resuscitation-disagreement"), "none");

  // The A40 merges the duplicate into M123456: the form is the child's now.
  ASSERT_EQ(practice.hl7(hl7::mergeMessage("PAS2", "M123456", "M999001", kNhs)).status, 200);
  auto all = practice.notifiedUntil([](const std::vector<json::Value>& got) {
    return carePlanIds(got).size() >= 2 && lastFlag(got, "resuscitation-disagreement").isObject();
  });
  EXPECT_EQ(carePlanIds(all).size(), 2u);
  EXPECT_EQ(lastFlag(all, "resuscitation-disagreement").getString("status"), "active");
  EXPECT_EQ(practice.current("resuscitation"), "450476008");
  EXPECT_EQ(practice.currentSource("resuscitation"), "RX8");
  EXPECT_EQ(practice.flag("resuscitation-disagreement"), "active");
  // One live Patient, the merged-away number kept as an old identifier.
  auto patients = practice.patients();
  ASSERT_EQ(patients.size(), 1u);
  EXPECT_TRUE(hasIdentifierValue(patients[0], "M999001"));
}

}  // namespace
}  // namespace acp::testing
