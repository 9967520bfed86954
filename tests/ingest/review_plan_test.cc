// Adversarial clinical-safety review of $acp-summary and the plan Flags, over the real server
// fed in the partners' own formats (docs/acp-summary.md; plan/acp_summary.h, plan/plan_flags.h,
// ingest/plan_flag_refresh.h). Each test states the safety rule it checks; a failing test is a
// defect on the current code, its expectation the behaviour the rules ask for.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>

#include "gateway/app/gateway.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/ingest/person_index.h"
#include "gateway/ingest/plan_flag_refresh.h"
#include "gateway/ingest/source_ids.h"
#include "tests/ingest/fhir_reading.h"
#include "tests/ingest/hl7_messages.h"

namespace acp::testing {
namespace {

using namespace hl7;

constexpr const char* kNhs = "9992530820";  // the samples' child, born 14/03/2015

std::string file(const std::string& relative) {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
std::string hospiceSample() { return file("mappings/hospice/samples/example-1.2.json"); }
std::string communitySample() { return file("mappings/community/samples/example.xml"); }

HttpResult pushHospice(TestServer& server, const std::string& body) {
  return server.request("POST", "/$ingest/hospice", body, {{"Content-Type", "application/json"}});
}
HttpResult pushCommunity(TestServer& server, const std::string& body) {
  return server.request("POST", "/$ingest/community", body, {{"Content-Type", "application/xml"}});
}

// The outcome of a document's first record.
std::string docOutcome(const HttpResult& r) {
  const json::Value* params = r.json.find("parameter");
  if (!params) return "no answer: " + r.body.substr(0, 300);
  for (const json::Value& p : params->items())
    if (p.getString("name") == "record")
      for (const json::Value& part : p.find("part")->items())
        if (part.getString("name") == "outcome") return part.getString("valueCode");
  return "no record: " + r.body.substr(0, 300);
}

// A ReSPECT form (ORU^R01) made at `when` (OBR-7) for hospital number `mrn` (with the NHS number
// when `nhs`), sent at `sent` (MSH-7; default `when`).
std::string form(const std::string& controlId, const std::string& formId, const std::string& when,
                 const std::vector<std::string>& obx, const std::string& status = "F",
                 const std::string& nhs = kNhs, const std::string& mrn = "M123456",
                 const std::string& sent = "") {
  std::vector<std::string> segs = {
      msh("ORU^R01^ORU_R01", controlId, sent.empty() ? when : sent, "EPR"), pid(mrn, nhs),
      "OBR|1||" + formId + "|1382601000000107^ReSPECT form^SCT|||" + when +
          "||||||||||||||||||" + status};
  int i = 1;
  for (const std::string& o : obx) segs.push_back("OBX|" + std::to_string(i++) + "|" + o);
  std::string out;
  for (const std::string& s : segs) out += s + "\r";
  return out;
}
const std::string kFull = "CWE|CPR^CPR recommendation^L||450475007^For attempted CPR^SCT||||||F";
const std::string kDnacpr =
    "CWE|CPR^CPR recommendation^L||450476008^Not for attempted CPR^SCT||||||F";
std::string ppd(const std::string& code) {
  return "CWE|PPD^Preferred place of death^L||" + code + "^" + code + "^L||||||F";
}

std::string person() { return ingest::personIdForNhsNumber(kNhs); }

HttpResult summaryById(TestServer& server, const std::string& id) {
  return server.get("/Patient/" + id + "/$acp-summary");
}
HttpResult summaryByNhs(TestServer& server) {
  return server.get(std::string("/Patient/$acp-summary?identifier=") + ingest::kNhsNumberSystem +
                    "|" + kNhs);
}

// The item parameters with acp-item `code` (symptom plans: one per symptom).
std::vector<const json::Value*> items(const json::Value& summary, const std::string& code) {
  std::vector<const json::Value*> out;
  if (const json::Value* ps = summary.find("parameter"))
    for (const json::Value& p : ps->items()) {
      if (p.getString("name") != "item") continue;
      const auto& parts = p.find("part")->items();
      if (parts[0].find("valueCoding")->getString("code") == code) out.push_back(&p);
    }
  return out;
}

// The parts `which` (current | differs | draft) of an item.
std::vector<const json::Value*> partsOf(const json::Value* item, const std::string& which) {
  std::vector<const json::Value*> out;
  if (!item) return out;
  for (const json::Value& part : item->find("part")->items())
    if (part.getString("name") == which) out.push_back(&part);
  return out;
}

// A field of a current/differs/draft part: a coded value's code, a text, an identifier's value,
// a reference.
std::string field(const json::Value* part, const std::string& name) {
  if (!part) return "";
  for (const json::Value& f : part->find("part")->items()) {
    if (f.getString("name") != name) continue;
    if (const json::Value* cc = f.find("valueCodeableConcept")) {
      if (const json::Value* codings = cc->find("coding"); codings && !codings->items().empty())
        return codings->items()[0].getString("code");
      return cc->getString("text");
    }
    if (const json::Value* id = f.find("valueIdentifier")) return id->getString("value");
    if (const json::Value* ref = f.find("valueReference")) return ref->getString("reference");
    for (const char* k : {"valueString", "valueDate", "valueDateTime", "valueCode"})
      if (const json::Value* v = f.find(k)) return v->text();
  }
  return "";
}

// The first item `code`'s `which` part's field (index i).
std::string itemField(const json::Value& summary, const std::string& code,
                      const std::string& which, const std::string& name, size_t i = 0) {
  auto its = items(summary, code);
  if (its.empty()) return "";
  auto ps = partsOf(its[0], which);
  return i < ps.size() ? field(ps[i], name) : "";
}
size_t countOf(const json::Value& summary, const std::string& code, const std::string& which) {
  auto its = items(summary, code);
  return its.empty() ? 0 : partsOf(its[0], which).size();
}

// Every Flag on the child's Patient with this acp-flag code.
std::vector<json::Value> flagsOf(TestServer& server, const std::string& patientId,
                                 const std::string& kind) {
  std::vector<json::Value> out;
  HttpResult r = server.get("/Flag?patient=Patient/" + patientId + "&_count=100");
  if (const json::Value* entries = r.json.find("entry"))
    for (const json::Value& e : entries->items()) {
      const json::Value* f = e.find("resource");
      if (f->getString("resourceType") != "Flag") continue;
      for (const json::Value& c : f->find("code")->find("coding")->items())
        if (c.getString("code") == kind) out.push_back(*f);
    }
  return out;
}
std::string statusOf(TestServer& server, const std::string& kind,
                     const std::string& patientId = person()) {
  auto fs = flagsOf(server, patientId, kind);
  for (const json::Value& f : fs)
    if (f.getString("status") == "active") return "active";
  return fs.empty() ? "none" : "inactive";
}
int openFlags(TestServer& server, const std::string& patientId, const std::string& kind) {
  int n = 0;
  for (const json::Value& f : flagsOf(server, patientId, kind))
    n += f.getString("status") == "active";
  return n;
}
std::string versionOf(const json::Value& r) { return r.find("meta")->getString("versionId"); }

constexpr int64_t kNov23 = 1795435200000;  // 2026-11-23T12:00:00Z
constexpr int64_t kDay = 86400000;

app::Options clocked(std::shared_ptr<std::atomic<int64_t>> now) {
  app::Options o;
  o.clock = [now] { return now->load(); };
  o.flagsIntervalSeconds = 0;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Drafts: "a draft only as a draft" and the documented worked example "A new plan in draft".

// The hospice revises its agreed plan: the revision keeps the planId, gets version 4 and is a
// DRAFT until agreed (hospice-export.md: "a revised plan keeps its id and gets a new
// version"). The agreed version 3 is still the plan in force: its CPR decision and places must
// stay current, the revision shown as a draft only (docs/acp-summary.md, "A new plan in draft":
// "Current: home (agreed); draft: hospice").
TEST(ReviewPlan, AHospiceDraftRevisionDoesNotHideTheAgreedPlanStillInForce) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushHospice(server, hospiceSample())), "stored");
  std::string draft = hospiceSample();
  replace(draft, "\"version\": 3, \"status\": \"AGREED\"", "\"version\": 4, \"status\": \"DRAFT\"");
  replace(draft, "\"first\": \"HOME\"", "\"first\": \"HOSPICE\"");
  replace(draft, "\"lastModified\": \"2026-10-30T16:02:00+00:00\"",
          "\"lastModified\": \"2026-11-05T10:00:00+00:00\"");
  ASSERT_EQ(docOutcome(pushHospice(server, draft)), "stored");
  HttpResult s = summaryByNhs(server);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(itemField(s.json, "preferred-place-of-death-1", "current", "value"), "home")
      << "the agreed plan (version 3) disappeared from the summary while its revision is drafted";
  EXPECT_EQ(itemField(s.json, "preferred-place-of-death-1", "draft", "value"), "hospice");
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "value"), "modified-cpr")
      << "no CPR decision is shown while the agreed modified-CPR decision is in force";
}

// The same for the community trust: a CarePlan @version 3 in draft of an active version 2.
TEST(ReviewPlan, ACommunityDraftRevisionDoesNotHideTheAgreedPlanStillInForce) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushCommunity(server, communitySample())), "stored");
  std::string draft = communitySample();
  replace(draft, "version=\"2\" status=\"active\"", "version=\"3\" status=\"draft\"");
  replace(draft, "<Decision kind=\"cpr\" value=\"modified\">", "<Decision kind=\"cpr\" value=\"attempt\">");
  replace(draft, "generated=\"2026-11-01T10:15:00Z\"", "generated=\"2026-11-08T10:15:00Z\"");
  ASSERT_EQ(docOutcome(pushCommunity(server, draft)), "stored");
  HttpResult s = summaryByNhs(server);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "value"), "modified-cpr");
  EXPECT_EQ(itemField(s.json, "resuscitation", "draft", "value"), "450475007");
}

// ---------------------------------------------------------------------------------------------
// Consent to share.

// The community records that the family WITHDREW consent (mapped: Consent inactive + deny).
// docs/acp-summary.md rule 7: "deny = refused or withdrawn". The withdrawal is the most recent
// consent statement: it must be current (refused), never dropped so that the hospice's older
// "given" reads as the answer.
TEST(ReviewPlan, AWithdrawnConsentIsTheAnswerNotSilentlyDropped) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushHospice(server, hospiceSample())), "stored");  // given 12/09/2026
  std::string doc = communitySample();
  replace(doc, "<Consent sharing=\"yes\" date=\"2026-09-12\"/>",
          "<Consent sharing=\"withdrawn\" date=\"2026-10-20\"/>");
  ASSERT_EQ(docOutcome(pushCommunity(server, doc)), "stored");
  HttpResult s = summaryByNhs(server);
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(itemField(s.json, "consent-to-share", "current", "value"), "refused")
      << "consent withdrawn on 2026-10-20 (RX9) but the summary says: "
      << itemField(s.json, "consent-to-share", "current", "value") << " ("
      << itemField(s.json, "consent-to-share", "current", "source") << ")";
  EXPECT_EQ(itemField(s.json, "consent-to-share", "current", "source"), "RX9");
}

// Only the community: consent given in version 2, withdrawn in version 3 (the same Consent).
TEST(ReviewPlan, ConsentGivenThenWithdrawnReadsAsRefused) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushCommunity(server, communitySample())), "stored");
  EXPECT_EQ(itemField(summaryByNhs(server).json, "consent-to-share", "current", "value"), "given");
  std::string doc = communitySample();
  replace(doc, "version=\"2\"", "version=\"3\"");
  replace(doc, "<Consent sharing=\"yes\" date=\"2026-09-12\"/>",
          "<Consent sharing=\"withdrawn\" date=\"2026-10-20\"/>");
  replace(doc, "generated=\"2026-11-01T10:15:00Z\"", "generated=\"2026-11-08T10:15:00Z\"");
  ASSERT_EQ(docOutcome(pushCommunity(server, doc)), "stored");
  HttpResult s = summaryByNhs(server);
  EXPECT_EQ(itemField(s.json, "consent-to-share", "current", "value"), "refused")
      << "a withdrawal reads as 'no consent statement at all'";
}

// The hospice WITHDRAWS its plan: rule 2, a withdrawn plan is "never current and is not shown".
// Its Consent (bound to that plan, provision.data → the CarePlan) must not make the summary say
// the (withdrawn) plan may be shared.
TEST(ReviewPlan, TheConsentOfAWithdrawnPlanIsNotCurrent) {
  TestServer server;
  std::string doc = hospiceSample();
  replace(doc, "\"status\": \"AGREED\"", "\"status\": \"WITHDRAWN\"");
  ASSERT_EQ(docOutcome(pushHospice(server, doc)), "stored");
  HttpResult s = summaryByNhs(server);
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "value"), "");
  EXPECT_EQ(itemField(s.json, "consent-to-share", "current", "value"), "")
      << "consent 'given' shown, pointing at the withdrawn plan "
      << itemField(s.json, "consent-to-share", "current", "carePlan");
}

// Consents of different sources: the most recent by date is current, the other listed.
TEST(ReviewPlan, ConsentsOfTwoSourcesTheMostRecentIsCurrentTheOtherListed) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushHospice(server, hospiceSample())), "stored");  // given 12/09/2026
  std::string doc = communitySample();
  replace(doc, "<Consent sharing=\"yes\" date=\"2026-09-12\"/>",
          "<Consent sharing=\"no\" date=\"2026-10-01\"/>");
  ASSERT_EQ(docOutcome(pushCommunity(server, doc)), "stored");
  HttpResult s = summaryByNhs(server);
  EXPECT_EQ(itemField(s.json, "consent-to-share", "current", "value"), "refused");
  EXPECT_EQ(itemField(s.json, "consent-to-share", "current", "source"), "RX9");
  EXPECT_EQ(itemField(s.json, "consent-to-share", "differs", "value"), "given");
}

// ---------------------------------------------------------------------------------------------
// Dates: "the more recently agreed decision supersedes an older one from any source";
// docs/acp-summary.md rule 3: "Equal dates: the plan stored last".

// On 2 October the hospital's ReSPECT form (09:00) says for CPR; later the same day the hospice
// records DNACPR decided on 02/10/2026 (a date: no time). The dates are equal (the same day):
// the plan stored last — the hospice's — is current. Today a date-only value is read as
// 00:00 UTC, so any timed form of the same day always wins whatever the order.
TEST(ReviewPlan, ADateAndADateTimeOfTheSameDayTieAndTheOneStoredLastIsCurrent) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, form("EPR1", "RSP-1", "20261002090000", {kFull}))), "stored");
  std::string doc = hospiceSample();
  replace(doc, "\"decision\": \"MODIFIED\"", "\"decision\": \"DNACPR\"");
  replace(doc, "\"decidedOn\": \"12/09/2026\"", "\"decidedOn\": \"02/10/2026\"");
  ASSERT_EQ(docOutcome(pushHospice(server, doc)), "stored");
  HttpResult s = summaryByNhs(server);
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "value"), "450476008")
      << "current: " << itemField(s.json, "resuscitation", "current", "source") << " "
      << itemField(s.json, "resuscitation", "current", "date");
  // Either way both are shown: the disagreement is not silent.
  EXPECT_EQ(countOf(s.json, "resuscitation", "differs"), 1u);
}

// A timed ReSPECT form in British Summer Time just after midnight (03/10 00:30 +01:00, i.e.
// 02/10 23:30 UTC) against a community plan of 02/10: the form is the later, its value current.
TEST(ReviewPlan, AFormJustAfterMidnightInSummerTimeIsLaterThanThePreviousDaysPlan) {
  TestServer server;
  std::string doc = communitySample();
  replace(doc, "<Period start=\"2026-09-12\"/>", "<Period start=\"2026-10-02\"/>");
  ASSERT_EQ(docOutcome(pushCommunity(server, doc)), "stored");  // modified CPR, 02/10
  ASSERT_EQ(outcomeOf(send(server, form("EPR1", "RSP-1", "20261003003000", {kDnacpr}))),
            "stored");
  HttpResult s = summaryByNhs(server);
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "value"), "450476008");
  EXPECT_EQ(itemField(s.json, "resuscitation", "differs", "value"), "modified-cpr");
}

// ---------------------------------------------------------------------------------------------
// Superseded and revoked plans.

// ACP-2231 v3 agreed, then v4 SUPERSEDED (revoked): nothing of it is current; the older export
// with v3 AGREED arriving late never makes it current again, and no Flag stays open from it.
TEST(ReviewPlan, ARevokedPlanNeverBecomesCurrentAgainAndItsFlagsClose) {
  TestServer server;
  std::string first = hospiceSample();
  replace(first, "\"preferredPlaceOfDeath\": {\"first\": \"HOME\", \"second\": \"HOSPICE\"},", "");
  ASSERT_EQ(docOutcome(pushHospice(server, first)), "stored");
  EXPECT_EQ(statusOf(server, "no-place-of-death"), "active");
  std::string revoked = first;
  replace(revoked, "\"version\": 3, \"status\": \"AGREED\"",
          "\"version\": 4, \"status\": \"SUPERSEDED\"");
  replace(revoked, "\"lastModified\": \"2026-10-30T16:02:00+00:00\"",
          "\"lastModified\": \"2026-11-05T10:00:00+00:00\"");
  ASSERT_EQ(docOutcome(pushHospice(server, revoked)), "stored");
  EXPECT_EQ(itemField(summaryByNhs(server).json, "resuscitation", "current", "value"), "");
  EXPECT_EQ(statusOf(server, "no-place-of-death"), "inactive");
  // The older export re-sent late.
  pushHospice(server, first);
  HttpResult s = summaryByNhs(server);
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "value"), "");
  EXPECT_EQ(itemField(s.json, "review-date", "current", "value"), "");
  EXPECT_EQ(statusOf(server, "no-place-of-death"), "inactive");
}

// A hospice record carries ONE advanceCarePlan (hospice-export.md). When the record's plan is
// a new plan (a new planId, agreed later), the previous plan of the record is superseded: none
// of its decisions may stay current — here its second place of death and its seizure plan,
// which the new plan does not hold.
TEST(ReviewPlan, ANewHospicePlanForTheRecordSupersedesTheRecordsPreviousPlan) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushHospice(server, hospiceSample())), "stored");  // ACP-2231
  std::string next = hospiceSample();
  replace(next, "\"planId\": \"ACP-2231\", \"version\": 3", "\"planId\": \"ACP-3001\", \"version\": 1");
  replace(next, "\"agreedOn\": \"12/09/2026\", \"reviewBy\": \"12/12/2026\"",
          "\"agreedOn\": \"01/11/2026\", \"reviewBy\": \"01/02/2027\"");
  replace(next, "{\"first\": \"HOME\", \"second\": \"HOSPICE\"}", "{\"first\": \"HOME\"}");
  replace(next, "\"decidedOn\": \"12/09/2026\"", "\"decidedOn\": \"01/11/2026\"");
  replace(next, "\"symptomPlans\": [{\"symptom\": \"seizures\", \"plan\": \"Buccal midazolam 5 mg, "
                "repeat once after 10 min.\"}],",
          "");
  replace(next, "\"lastModified\": \"2026-10-30T16:02:00+00:00\"",
          "\"lastModified\": \"2026-11-01T10:00:00+00:00\"");
  ASSERT_EQ(docOutcome(pushHospice(server, next)), "stored");
  HttpResult s = summaryByNhs(server);
  EXPECT_EQ(itemField(s.json, "preferred-place-of-death-2", "current", "value"), "")
      << "the superseded plan's second choice is shown as current: "
      << itemField(s.json, "preferred-place-of-death-2", "current", "carePlan");
  EXPECT_EQ(items(s.json, "symptom-plan").size() > 0
                ? itemField(s.json, "symptom-plan", "current", "value")
                : "",
            "")
      << "the superseded plan's symptom plan is shown as current";
}

// Two ReSPECT forms of the SAME hospital (different form ids): the later one is current. The
// earlier form is not "another source": the Flag must not say that sources disagree (RX8 vs
// RX8), and it must not stay open for ever because the hospital never revokes old forms.
TEST(ReviewPlan, ALaterReSpectFormOfTheSameHospitalIsNotReportedAsSourcesDisagreeing) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, form("EPR1", "RSP-1", "20260601100000", {kFull, ppd("HOME")}))),
            "stored");
  ASSERT_EQ(outcomeOf(send(server, form("EPR2", "RSP-2", "20261002100000", {kDnacpr, ppd("HOME")}))),
            "stored");
  HttpResult s = summaryByNhs(server);
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "value"), "450476008");
  // Both listed (nothing hidden) — but as one source's history, not a disagreement.
  auto flags = flagsOf(server, person(), "resuscitation-disagreement");
  for (const json::Value& f : flags)
    EXPECT_NE(f.getString("status"), "active")
        << "one hospital's old and new forms flagged as sources disagreeing: "
        << f.find("code")->getString("text");
}

// ---------------------------------------------------------------------------------------------
// All three sources together; symptom plans.

TEST(ReviewPlan, HospiceCommunityAndReSpectTogetherOneAnswerPerDecision) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushHospice(server, hospiceSample())), "stored");
  ASSERT_EQ(docOutcome(pushCommunity(server, communitySample())), "stored");
  ASSERT_EQ(outcomeOf(send(server, file("mappings/acute/samples/oru-r01-respect.hl7"))), "stored");
  HttpResult s = summaryByNhs(server);
  ASSERT_EQ(s.status, 200) << s.body;
  // CPR: all three say modified: current the hospital's (01/11), nothing differing.
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "value"), "modified-cpr");
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "source"), "RX8");
  EXPECT_EQ(countOf(s.json, "resuscitation", "differs"), 0u);
  // Place of death: the hospital's hospice (01/11) current; home listed for hospice and trust.
  EXPECT_EQ(itemField(s.json, "preferred-place-of-death-1", "current", "value"), "hospice");
  EXPECT_EQ(countOf(s.json, "preferred-place-of-death-1", "differs"), 2u);
  EXPECT_EQ(statusOf(server, "place-of-death-disagreement"), "active");
  json::Value f = flagsOf(server, person(), "place-of-death-disagreement")[0];
  std::string text = f.find("code")->getString("text");
  for (const char* ods : {"RX8", "RX9", "8WB01"})
    EXPECT_NE(text.find(ods), std::string::npos) << text;
  EXPECT_EQ(statusOf(server, "resuscitation-disagreement"), "none");
  // Review date: the most recent plan's (the ReSPECT form's 2027-02-01).
  EXPECT_EQ(itemField(s.json, "review-date", "current", "value"), "2027-02-01");
  // Every item answered, in the documented order.
  std::vector<std::string> order;
  for (const json::Value& p : s.json.find("parameter")->items())
    if (p.getString("name") == "item")
      order.push_back(p.find("part")->items()[0].find("valueCoding")->getString("code"));
  std::vector<std::string> expected = {
      "resuscitation", "preferred-place-of-care", "preferred-place-of-death-1",
      "preferred-place-of-death-2", "ventilation", "hospital-transfer", "treatment-escalation", "priority", "adrt",
      "emergency-plan", "symptom-plan", "key-worker", "transition", "review-date", "consent-to-share"};
  EXPECT_EQ(order, expected);
  // The disagreements count = items with a differing value.
  int withDiffers = 0;
  for (const std::string& c : expected) withDiffers += countOf(s.json, c, "differs") > 0;
  for (const json::Value& p : s.json.find("parameter")->items()) {
    if (p.getString("name") == "disagreements") {
      EXPECT_EQ(p.find("valueInteger")->text(), std::to_string(withDiffers));
    }
  }
  // Every "current" and "differs" names a versioned plan.
  for (const std::string& c : expected)
    for (const char* which : {"current", "differs"})
      for (const json::Value* part :
           partsOf(items(s.json, c).empty() ? nullptr : items(s.json, c)[0], which)) {
        std::string plan = field(part, "carePlan");
        if (c != "consent-to-share") {
          EXPECT_NE(plan.find("/_history/"), std::string::npos) << c << " " << which << " " << plan;
        }
      }
}

// "No symptom plan recorded" must be an answer, as for every other decision (docs: "each as an
// item, present even when nothing is recorded").
TEST(ReviewPlan, NoSymptomPlanIsStillAnsweredAsAnItem) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushCommunity(server, communitySample())), "stored");
  HttpResult s = summaryByNhs(server);
  EXPECT_EQ(items(s.json, "symptom-plan").size(), 1u)
      << "with no symptom plan the symptom-plan item is missing altogether";
}

TEST(ReviewPlan, SymptomPlansAreOneDecisionPerSymptomIgnoringCase) {
  TestServer server;
  std::string doc = hospiceSample();
  replace(doc, "[{\"symptom\": \"seizures\", \"plan\": \"Buccal midazolam 5 mg, repeat once after 10 min.\"}]",
          "[{\"symptom\": \"seizures\", \"plan\": \"Buccal midazolam 5 mg.\"},"
          " {\"symptom\": \"Pain\", \"plan\": \"Oral morphine.\"}]");
  ASSERT_EQ(docOutcome(pushHospice(server, doc)), "stored");
  // A plan written through the API (another organisation) with "Seizures" and a new text.
  std::string plan = R"({"resourceType":"CarePlan","status":"active","intent":"plan",
    "category":[{"coding":[{"system":"http://snomed.info/sct","code":"736366004"}]}],
    "subject":{"reference":"Patient/)" + person() + R"("},"period":{"start":"2026-10-15"},
    "author":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RYX"}},
    "activity":[{"detail":{"code":{"coding":[{"system":"https://acp-gateway.nhs.uk/CodeSystem/acp-item","code":"symptom-plan"}]},
      "reasonCode":[{"text":"Seizures"}],"status":"in-progress","description":"Buccal midazolam 7.5 mg."}}]})";
  ASSERT_EQ(server.post("/CarePlan", plan).status, 201);
  HttpResult s = summaryByNhs(server);
  auto its = items(s.json, "symptom-plan");
  ASSERT_EQ(its.size(), 2u);
  auto seizures = partsOf(its[0], "current");
  ASSERT_EQ(seizures.size(), 1u);
  EXPECT_EQ(field(seizures[0], "value"), "Buccal midazolam 7.5 mg.");
  EXPECT_EQ(field(seizures[0], "source"), "RYX");
  EXPECT_EQ(partsOf(its[0], "differs").size(), 1u);
  EXPECT_EQ(field(partsOf(its[1], "current")[0], "value"), "Oral morphine.");
}

// ---------------------------------------------------------------------------------------------
// Which child: merged Patients, identifiers, errors, the CapabilityStatement.

// The hospital's record without NHS number has a ReSPECT form: its Patient is the hospital's
// own. The NHS number arrives later: that Patient is merged into the child's. Asked by the old
// id, the summary answers for the child and holds the form; asked by the hospital number, too.
TEST(ReviewPlan, AMergedPatientAnswersForTheChildItWasMergedInto) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushHospice(server, hospiceSample())), "stored");
  ASSERT_EQ(outcomeOf(send(server, form("EPR1", "RSP-1", "20261002100000", {kDnacpr}, "F", ""))),
            "stored");
  const std::string hospital = patientId("M123456");
  EXPECT_EQ(itemField(summaryById(server, hospital).json, "resuscitation", "current", "value"),
            "450476008");
  ASSERT_EQ(outcomeOf(send(server, a31("PAS2", "20261003100000", pid("M123456", kNhs)))), "stored");
  HttpResult byOld = summaryById(server, hospital);
  ASSERT_EQ(byOld.status, 200) << byOld.body;
  EXPECT_EQ(at(byOld.json.find("parameter")->items()[0], {"valueReference", "reference"}),
            "Patient/" + person());
  EXPECT_EQ(itemField(byOld.json, "resuscitation", "current", "value"), "450476008");
  EXPECT_EQ(itemField(byOld.json, "resuscitation", "differs", "value"), "modified-cpr");
  HttpResult byMrn = server.get("/Patient/$acp-summary?identifier=" +
                                ingest::localIdentifierSystem("RX8") + "|M123456");
  ASSERT_EQ(byMrn.status, 200) << byMrn.body;
  EXPECT_EQ(at(byMrn.json.find("parameter")->items()[0], {"valueReference", "reference"}),
            "Patient/" + person());
  // The flags: one open resuscitation-disagreement for the child, the hospital Patient's own
  // closed (history) — never two open of one reason.
  EXPECT_EQ(openFlags(server, person(), "resuscitation-disagreement"), 1);
  EXPECT_EQ(openFlags(server, person(), "no-place-of-death"), 0);
  EXPECT_EQ(openFlags(server, hospital, "no-place-of-death"), 0);
}

TEST(ReviewPlan, IdentifierErrorsDeletedPatientsAndTheCapabilityStatement) {
  TestServer server;
  // Two Patients with one identifier: 412, ask by id.
  std::string p = R"({"resourceType":"Patient","identifier":[{"system":"urn:test:ids","value":"X1"}],
                      "birthDate":"2015-03-14"})";
  ASSERT_EQ(server.post("/Patient", p).status, 201);
  ASSERT_EQ(server.post("/Patient", p).status, 201);
  HttpResult two = server.get("/Patient/$acp-summary?identifier=urn:test:ids|X1");
  EXPECT_EQ(two.status, 412) << two.body;
  EXPECT_EQ(server.get("/Patient/$acp-summary?identifier=X1").status, 400);
  // A deleted Patient: 410.
  HttpResult made = server.post("/Patient", R"({"resourceType":"Patient","birthDate":"2015-03-14"})");
  ASSERT_EQ(made.status, 201);
  std::string id = made.json.getString("id");
  ASSERT_EQ(summaryById(server, id).status, 200);
  ASSERT_LT(server.del("/Patient/" + id).status, 300);
  EXPECT_EQ(summaryById(server, id).status, 410);
  // CapabilityStatement: the operation on Patient, the definition served.
  HttpResult cs = server.get("/metadata");
  bool onPatient = false;
  for (const json::Value& rest : cs.json.find("rest")->items())
    for (const json::Value& r : rest.find("resource")->items())
      if (r.getString("type") == "Patient")
        if (const json::Value* ops = r.find("operation"))
          for (const json::Value& o : ops->items())
            onPatient = onPatient || o.getString("name") == "acp-summary";
  EXPECT_TRUE(onPatient) << cs.body.substr(0, 500);
}

// ---------------------------------------------------------------------------------------------
// Flags: raised, kept, closed, reopened; never duplicated; resends write nothing.

TEST(ReviewPlan, AFlagIsClosedReopenedAndKeptWithoutNewVersions) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushHospice(server, hospiceSample())), "stored");  // modified CPR
  ASSERT_EQ(outcomeOf(send(server, form("EPR1", "RSP-1", "20261002113000", {kDnacpr}))), "stored");
  auto f = flagsOf(server, person(), "resuscitation-disagreement");
  ASSERT_EQ(f.size(), 1u);
  std::string raised = f[0].find("period")->getString("start");
  std::string v1 = versionOf(f[0]);
  // An unrelated Patient change (the hospital's address) recomputes the Flags: no new version,
  // and the open Flag keeps its start.
  ASSERT_EQ(outcomeOf(send(server, a31("PAS1", "20261110100000",
                                       pid("M123456", kNhs, "|||1 New Road^^Northby^^NB1 1AA")))),
            "stored");
  f = flagsOf(server, person(), "resuscitation-disagreement");
  EXPECT_EQ(versionOf(f[0]), v1);
  // Corrected to agree: closed (not deleted).
  ASSERT_EQ(outcomeOf(send(server, form("EPR2", "RSP-1", "20261002113000",
                                        {"CWE|CPR^CPR recommendation^L||MODIFIED^Modified CPR^L||||||C"},
                                        "C", kNhs, "M123456", "20261111090000"))),
            "stored");
  f = flagsOf(server, person(), "resuscitation-disagreement");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].getString("status"), "inactive");
  EXPECT_EQ(f[0].find("period")->getString("start"), raised);
  EXPECT_FALSE(f[0].find("period")->getString("end").empty());
  // Corrected back: the same Flag is reopened (a new version), with a new start and no end.
  ASSERT_EQ(outcomeOf(send(server, form("EPR3", "RSP-1", "20261002113000",
                                        {"CWE|CPR^CPR recommendation^L||450476008^Not for attempted CPR^SCT||||||C"},
                                        "C", kNhs, "M123456", "20261112090000"))),
            "stored");
  f = flagsOf(server, person(), "resuscitation-disagreement");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].getString("status"), "active");
  EXPECT_EQ(f[0].find("period")->getString("end"), "");
  std::string v = versionOf(f[0]);
  // Re-sent (same MSH-10, and as a new message id with identical content): nothing new.
  EXPECT_EQ(outcomeOf(send(server, form("EPR3", "RSP-1", "20261002113000",
                                        {"CWE|CPR^CPR recommendation^L||450476008^Not for attempted CPR^SCT||||||C"},
                                        "C", kNhs, "M123456", "20261112090000"))),
            "unchanged");
  send(server, form("EPR4", "RSP-1", "20261002113000",
                    {"CWE|CPR^CPR recommendation^L||450476008^Not for attempted CPR^SCT||||||C"}, "C",
                    kNhs, "M123456", "20261112090000"));
  EXPECT_EQ(versionOf(flagsOf(server, person(), "resuscitation-disagreement")[0]), v);
  // The hospice document re-sent: nothing new either.
  EXPECT_EQ(docOutcome(pushHospice(server, hospiceSample())), "unchanged");
  EXPECT_EQ(versionOf(flagsOf(server, person(), "resuscitation-disagreement")[0]), v);
}

// The hospital's ReSPECT form is sent (EPR, MSH-7 05/11) after the PAS already sent a later
// update of the same patient (A31, 10/11): the form's Patient part is older than the stored one
// (not applied, ingest.stale) but its CarePlan is new and stored. The Flags depend on the
// CarePlans: the disagreement it creates must be flagged by that message, in its unit
// (docs/acp-summary.md: "on every ingest that changes a child's plans").
TEST(ReviewPlan, AFormWhosePatientPartIsStaleStillRaisesTheFlagItsPlanCauses) {
  TestServer server;
  ASSERT_EQ(docOutcome(pushHospice(server, hospiceSample())), "stored");  // modified CPR
  ASSERT_EQ(outcomeOf(send(server, a31("PAS1", "20261110100000", pid("M123456", kNhs)))), "stored");
  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, form("EPR1", "RSP-1", "20261105113000", {kDnacpr})), &codes),
            "stored");
  ASSERT_TRUE(has(codes, "ingest.stale"));
  HttpResult s = summaryByNhs(server);
  ASSERT_EQ(itemField(s.json, "resuscitation", "current", "value"), "450476008");
  ASSERT_EQ(itemField(s.json, "resuscitation", "differs", "value"), "modified-cpr");
  EXPECT_EQ(statusOf(server, "resuscitation-disagreement"), "active")
      << "the summary shows the disagreement but no Flag was raised (until the next timed sweep)";
  // The same when the form closes a disagreement: corrected to modified CPR.
  ASSERT_TRUE(server.gateway().ingest()->refreshTimedFlags().isOk());
  ASSERT_EQ(statusOf(server, "resuscitation-disagreement"), "active");
  ASSERT_EQ(outcomeOf(send(server, form("EPR2", "RSP-1", "20261105113000",
                                        {"CWE|CPR^CPR recommendation^L||MODIFIED^Modified CPR^L||||||C"},
                                        "C", kNhs, "M123456", "20261106090000"))),
            "stored");
  ASSERT_EQ(countOf(summaryByNhs(server).json, "resuscitation", "differs"), 0u);
  EXPECT_EQ(statusOf(server, "resuscitation-disagreement"), "inactive")
      << "the sources agree again but the Flag stays open";
}

// The hospital's form arrives without NHS number (its own Patient, flagged: no place of death);
// the NHS number arrives later and the child's hospice plan has one. One child, never two open
// Flags of one reason; the early Flag closed, not deleted.
TEST(ReviewPlan, NoDuplicateOpenFlagsAfterTheNhsNumberArrivesLater) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, form("EPR1", "RSP-1", "20261002100000", {kDnacpr}, "F", ""))),
            "stored");
  const std::string hospital = patientId("M123456");
  EXPECT_EQ(statusOf(server, "no-place-of-death", hospital), "active");
  std::string doc = hospiceSample();
  replace(doc, "\"preferredPlaceOfDeath\": {\"first\": \"HOME\", \"second\": \"HOSPICE\"},", "");
  ASSERT_EQ(docOutcome(pushHospice(server, doc)), "stored");
  EXPECT_EQ(openFlags(server, person(), "no-place-of-death"), 1);
  ASSERT_EQ(outcomeOf(send(server, a31("PAS2", "20261003100000", pid("M123456", kNhs)))), "stored");
  for (const std::string& kind : ingest::gatewayFlagKinds()) {
    EXPECT_LE(openFlags(server, person(), kind), 1) << kind;
    EXPECT_EQ(openFlags(server, hospital, kind), 0) << kind;
  }
  EXPECT_EQ(openFlags(server, person(), "no-place-of-death"), 1);
  EXPECT_EQ(openFlags(server, person(), "resuscitation-disagreement"), 1);
  // The hospital's early Flag is kept (closed) as the child's history.
  HttpResult all = server.get("/Flag?_count=100");
  int closedNoPlace = 0;
  for (const json::Value& e : all.json.find("entry")->items()) {
    const json::Value* r = e.find("resource");
    if (json::write(*r).find("no-place-of-death") != std::string::npos &&
        r->getString("status") == "inactive")
      ++closedNoPlace;
  }
  EXPECT_EQ(closedNoPlace, 1);
  // A sweep changes nothing.
  auto swept = server.gateway().ingest()->refreshTimedFlags();
  ASSERT_TRUE(swept.isOk());
  EXPECT_EQ(swept.value(), 0);
}

// ---------------------------------------------------------------------------------------------
// The timed sweep.

TEST(ReviewPlan, TheSweepRaisesAndClosesReviewOverdueAndWritesNothingTwice) {
  auto now = std::make_shared<std::atomic<int64_t>>(kNov23);
  TestServer server(clocked(now));
  ASSERT_EQ(docOutcome(pushHospice(server, hospiceSample())), "stored");  // review 12/12/2026
  now->store(kNov23 + 20 * kDay);
  ASSERT_EQ(server.gateway().ingest()->refreshTimedFlags().value(), 1);
  EXPECT_EQ(statusOf(server, "review-overdue"), "active");
  // The plan is reviewed (version 4, review by 12/03/2027): closed by the ingest itself.
  std::string doc = hospiceSample();
  replace(doc, "\"version\": 3", "\"version\": 4");
  replace(doc, "\"reviewBy\": \"12/12/2026\"", "\"reviewBy\": \"12/03/2027\"");
  ASSERT_EQ(docOutcome(pushHospice(server, doc)), "stored");
  EXPECT_EQ(statusOf(server, "review-overdue"), "inactive");
  EXPECT_EQ(server.gateway().ingest()->refreshTimedFlags().value(), 0);
}

// The review date is a date: it passes when that day is over, and the day itself (on the UK
// calendar) is not yet overdue.
TEST(ReviewPlan, TheReviewDayItselfIsNotOverdue) {
  auto now = std::make_shared<std::atomic<int64_t>>(kNov23);
  TestServer server(clocked(now));
  ASSERT_EQ(docOutcome(pushHospice(server, hospiceSample())), "stored");  // review 12/12/2026
  now->store(kNov23 + 19 * kDay + 11 * 3600000LL);  // 2026-12-12T23:00Z (GMT: still 12 Dec)
  ASSERT_TRUE(server.gateway().ingest()->refreshTimedFlags().isOk());
  EXPECT_EQ(statusOf(server, "review-overdue"), "none");
}

// A child who has died: the hospice record carries `deceased`. Prompts addressed to "the child
// and family" — review the plan, plan the move to adult services, record a place of death —
// must not be raised (nor stay open) for a child who has died.
TEST(ReviewPlan, NoPlanningPromptsAreRaisedForAChildWhoHasDied) {
  auto now = std::make_shared<std::atomic<int64_t>>(kNov23);
  TestServer server(clocked(now));
  std::string doc = hospiceSample();
  replace(doc, "\"episodes\": [", "\"deceased\": {\"date\": \"20/11/2026\", \"place\": \"HOME\"},\n\"episodes\": [");
  ASSERT_EQ(docOutcome(pushHospice(server, doc)), "stored");
  ASSERT_EQ(at(onlyResource(server, "/Patient?_id=" + person()), {"deceasedDateTime"}).substr(0, 10),
            "2026-11-20");
  now->store(kNov23 + 20 * kDay);  // after the review date
  ASSERT_TRUE(server.gateway().ingest()->refreshTimedFlags().isOk());
  EXPECT_EQ(statusOf(server, "review-overdue"), "none")
      << flagsOf(server, person(), "review-overdue")[0].find("code")->getString("text");
}

// The sweep over many children: every child's Flag raised in one run (batches of 100), and a
// second run writes nothing.
TEST(ReviewPlan, TheSweepCoversManyChildrenAcrossBatches) {
  auto now = std::make_shared<std::atomic<int64_t>>(kNov23);
  TestServer server(clocked(now));
  const int n = 230;
  std::string base = hospiceSample();
  size_t start = base.find("{\n    \"recordId\"");
  size_t end = base.rfind("}]") + 1;
  ASSERT_NE(start, std::string::npos);
  std::string one = base.substr(start, end - start);
  // Pushed in documents of 46 records: the sweep is under test, not one push's duration (a
  // single 230-record push on PostgreSQL came close to the test client's 30 s timeout).
  const int perDocument = 46;
  std::string records;
  for (int i = 0; i < n; ++i) {
    std::string r = one;
    replace(r, "\"recordId\": \"WB-004471\"", "\"recordId\": \"WB-" + std::to_string(10000 + i) + "\"");
    replace(r, "\"nhsNumber\": \"999 253 0820\", ", "");
    replace(r, "\"planId\": \"ACP-2231\"", "\"planId\": \"ACP-" + std::to_string(10000 + i) + "\"");
    replace(r, "\"episodeId\": \"E-90021\"", "\"episodeId\": \"E-" + std::to_string(10000 + i) + "\"");
    records += (records.empty() ? "" : ",") + r;
    if ((i + 1) % perDocument == 0 || i + 1 == n) {
      HttpResult pushed = pushHospice(server, base.substr(0, start) + records + base.substr(end));
      ASSERT_EQ(pushed.status, 200) << pushed.body.substr(0, 300);
      records.clear();
    }
  }
  now->store(kNov23 + 20 * kDay);
  auto written = server.gateway().ingest()->refreshTimedFlags();
  ASSERT_TRUE(written.isOk()) << written.status().message();
  EXPECT_EQ(written.value(), n);
  EXPECT_EQ(server.gateway().ingest()->refreshTimedFlags().value(), 0);
}

}  // namespace
}  // namespace acp::testing
