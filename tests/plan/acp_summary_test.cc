// plan/acp_summary.h: one answer per decision across the sources' plans.
#include "gateway/plan/acp_summary.h"

#include <gtest/gtest.h>

namespace acp::plan {
namespace {

json::Value parse(const std::string& text) {
  json::Value v;
  json::ParseError err;
  EXPECT_TRUE(json::parse(text, v, err)) << err.message << " in " << text;
  return v;
}

const std::string kItem = "https://acp-gateway.nhs.uk/CodeSystem/acp-item";
const std::string kDecision = "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-value";
const std::string kDecisionDate = "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-date";

std::string decision(const std::string& item, const std::string& code, const std::string& date = "") {
  std::string ext = R"({"url":")" + kDecision + R"(","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":")" +
                    code + R"("}]}})";
  if (!date.empty()) ext += R"(,{"url":")" + kDecisionDate + R"(","valueDate":")" + date + R"("})";
  return R"({"detail":{"extension":[)" + ext + R"(],"code":{"coding":[{"system":")" + kItem +
         R"(","code":")" + item + R"("}]},"status":"in-progress"}})";
}

std::string textItem(const std::string& item, const std::string& text, const std::string& symptom = "") {
  std::string reason = symptom.empty() ? "" : R"(,"reasonCode":[{"text":")" + symptom + R"("}])";
  return R"({"detail":{"code":{"coding":[{"system":")" + kItem + R"(","code":")" + item +
         R"("}]},"status":"in-progress","description":")" + text + "\"" + reason + "}}";
}

// A plan from `ods` agreed on `agreed`, with these activities.
json::Value plan(const std::string& id, const std::string& ods, const std::string& status,
                 const std::string& agreed, const std::string& activities,
                 const std::string& category = "736366004", const std::string& extra = "") {
  return parse(R"({"resourceType":"CarePlan","id":")" + id +
               R"(","meta":{"versionId":"2","lastUpdated":"2026-11-01T10:00:00.000Z"},)" +
               R"("identifier":[{"system":"https://acp-gateway.nhs.uk/Id/local/)" + ods +
               R"(/plan","value":")" + id + R"("}],"status":")" + status +
               R"(","intent":"plan","category":[{"coding":[{"system":"http://snomed.info/sct","code":")" +
               category + R"("}]}],"subject":{"reference":"Patient/P1"},"period":{"start":")" + agreed +
               R"("},"activity":[)" + activities + "]" + extra + "}");
}

// The item parameter whose code (and symptom) match.
const json::Value* item(const json::Value& summary, const std::string& code,
                        const std::string& symptom = "") {
  for (const json::Value& p : summary.find("parameter")->items()) {
    if (p.getString("name") != "item") continue;
    std::string c, s;
    for (const json::Value& part : p.find("part")->items()) {
      if (part.getString("name") == "code") c = part.find("valueCoding")->getString("code");
      if (part.getString("name") == "symptom") s = part.getString("valueString");
    }
    if (c == code && s == symptom) return &p;
  }
  return nullptr;
}

std::vector<const json::Value*> partsNamed(const json::Value& item, const std::string& name) {
  std::vector<const json::Value*> out;
  for (const json::Value& part : item.find("part")->items())
    if (part.getString("name") == name) out.push_back(&part);
  return out;
}

// A field of a current/draft/differs part: the value's code or text, the source, the plan.
std::string field(const json::Value* described, const std::string& name) {
  if (!described) return "";
  for (const json::Value& p : described->find("part")->items()) {
    if (p.getString("name") != name) continue;
    if (const json::Value* cc = p.find("valueCodeableConcept"))
      return cc->find("coding")->items()[0].getString("code");
    if (const json::Value* id = p.find("valueIdentifier")) return id->getString("value");
    if (const json::Value* ref = p.find("valueReference")) return ref->getString("reference");
    for (const char* k : {"valueString", "valueDate", "valueDateTime", "valueCode"})
      if (const json::Value* v = p.find(k)) return v->text();
  }
  return "";
}

const json::Value* current(const json::Value& summary, const std::string& code,
                           const std::string& symptom = "") {
  const json::Value* i = item(summary, code, symptom);
  if (!i) return nullptr;
  auto c = partsNamed(*i, "current");
  return c.empty() ? nullptr : c[0];
}

int disagreements(const json::Value& summary) {
  for (const json::Value& p : summary.find("parameter")->items())
    if (p.getString("name") == "disagreements") return std::stoi(p.find("valueInteger")->text());
  return -1;
}

TEST(AcpSummary, TheMostRecentlyAgreedDecisionIsCurrentWhateverTheSourceAndTheOtherIsListed) {
  SummaryInput in;
  in.patientId = "P1";
  // The hospice agreed "not for CPR" in September; the hospital's ReSPECT form in October says
  // "for CPR".
  in.carePlans.push_back(plan("hospice", "8WB01", "active", "2026-09-12",
                              decision("resuscitation", "450476008", "2026-09-12")));
  in.carePlans.push_back(plan("respect", "RX8", "active", "2026-10-02",
                              decision("resuscitation", "450475007"), "1382601000000107"));
  json::Value s = acpSummary(in);
  EXPECT_EQ(field(current(s, "resuscitation"), "value"), "450475007");
  EXPECT_EQ(field(current(s, "resuscitation"), "source"), "RX8");
  EXPECT_EQ(field(current(s, "resuscitation"), "carePlan"), "CarePlan/respect/_history/2");
  auto differs = partsNamed(*item(s, "resuscitation"), "differs");
  ASSERT_EQ(differs.size(), 1u);
  EXPECT_EQ(field(differs[0], "value"), "450476008");
  EXPECT_EQ(field(differs[0], "source"), "8WB01");
  EXPECT_EQ(field(differs[0], "date"), "2026-09-12");
  EXPECT_EQ(disagreements(s), 1);
}

TEST(AcpSummary, TheDecisionsOwnDateCountsBeforeThePlansDate) {
  SummaryInput in;
  in.patientId = "P1";
  // The community plan was reissued in November, but its CPR decision dates from August.
  in.carePlans.push_back(plan("community", "RX9", "active", "2026-11-01",
                              decision("resuscitation", "450475007", "2026-08-01")));
  in.carePlans.push_back(plan("hospice", "8WB01", "active", "2026-09-12",
                              decision("resuscitation", "450476008", "2026-09-12")));
  EXPECT_EQ(field(current(acpSummary(in), "resuscitation"), "source"), "8WB01");
}

TEST(AcpSummary, RevokedAndEnteredInErrorPlansAreNeverCurrentAndADraftIsOnlyADraft) {
  SummaryInput in;
  in.patientId = "P1";
  in.carePlans.push_back(plan("old", "8WB01", "revoked", "2026-10-30",
                              decision("preferred-place-of-death-1", "hospital")));
  in.carePlans.push_back(plan("mistake", "RX9", "entered-in-error", "2026-10-31",
                              decision("preferred-place-of-death-1", "hospital")));
  in.carePlans.push_back(plan("next", "8WB01", "draft", "2026-11-05",
                              decision("preferred-place-of-death-1", "hospice")));
  in.carePlans.push_back(plan("agreed", "8WB01", "active", "2026-09-12",
                              decision("preferred-place-of-death-1", "home")));
  json::Value s = acpSummary(in);
  EXPECT_EQ(field(current(s, "preferred-place-of-death-1"), "value"), "home");
  auto drafts = partsNamed(*item(s, "preferred-place-of-death-1"), "draft");
  ASSERT_EQ(drafts.size(), 1u);
  EXPECT_EQ(field(drafts[0], "value"), "hospice");
  EXPECT_TRUE(partsNamed(*item(s, "preferred-place-of-death-1"), "differs").empty());
  EXPECT_EQ(disagreements(s), 0);

  // With only the draft left, nothing is current.
  in.carePlans.pop_back();
  s = acpSummary(in);
  EXPECT_EQ(current(s, "preferred-place-of-death-1"), nullptr);
  EXPECT_EQ(partsNamed(*item(s, "preferred-place-of-death-1"), "draft").size(), 1u);
}

TEST(AcpSummary, EveryDecisionIsAnsweredEvenWhenNothingIsRecorded) {
  SummaryInput in;
  in.patientId = "P1";
  json::Value s = acpSummary(in);
  for (const char* code : {"resuscitation", "preferred-place-of-care", "preferred-place-of-death-1",
                           "preferred-place-of-death-2", "ventilation", "hospital-transfer",
                           "treatment-escalation", "priority", "emergency-plan", "key-worker",
                           "review-date", "consent-to-share"}) {
    ASSERT_NE(item(s, code), nullptr) << code;
    EXPECT_EQ(current(s, code), nullptr) << code;
  }
  EXPECT_EQ(s.find("parameter")->items()[0].find("valueReference")->getString("reference"),
            "Patient/P1");
}

TEST(AcpSummary, TheReSpectFormsEscalationAndPriorityAreAnswered) {
  SummaryInput in;
  in.patientId = "P1";
  in.carePlans.push_back(plan("respect", "RX8", "active", "2026-10-02",
                              textItem("treatment-escalation", "Ward-based care; no PICU transfer") +
                                  "," + textItem("priority", "8"),
                              "1382601000000107"));
  json::Value s = acpSummary(in);
  EXPECT_EQ(field(current(s, "treatment-escalation"), "value"), "Ward-based care; no PICU transfer");
  EXPECT_EQ(field(current(s, "priority"), "value"), "8");
}

TEST(AcpSummary, OtherCarePlansAreNotAdvanceCarePlans) {
  SummaryInput in;
  in.patientId = "P1";
  in.carePlans.push_back(plan("physio", "RX9", "active", "2026-11-01",
                              decision("resuscitation", "450475007"), "transition"));
  EXPECT_EQ(current(acpSummary(in), "resuscitation"), nullptr);
}

TEST(AcpSummary, SymptomPlansAreOneDecisionPerSymptom) {
  SummaryInput in;
  in.patientId = "P1";
  in.carePlans.push_back(plan("hospice", "8WB01", "active", "2026-09-12",
                              textItem("symptom-plan", "Buccal midazolam 5 mg", "Seizures") + "," +
                                  textItem("symptom-plan", "Oral morphine", "pain")));
  in.carePlans.push_back(plan("community", "RX9", "active", "2026-10-01",
                              textItem("symptom-plan", "Buccal midazolam 7.5 mg", "seizures")));
  json::Value s = acpSummary(in);
  EXPECT_EQ(field(current(s, "symptom-plan", "Seizures"), "value"), "Buccal midazolam 7.5 mg");
  EXPECT_EQ(partsNamed(*item(s, "symptom-plan", "Seizures"), "differs").size(), 1u);
  EXPECT_EQ(field(current(s, "symptom-plan", "pain"), "value"), "Oral morphine");
  EXPECT_EQ(disagreements(s), 1);
}

TEST(AcpSummary, ReviewDateKeyWorkerAndConsentToShare) {
  SummaryInput in;
  in.patientId = "P1";
  in.carePlans.push_back(plan(
      "hospice", "8WB01", "active", "2026-09-12", "", "736366004",
      R"(,"extension":[{"url":"https://acp-gateway.nhs.uk/StructureDefinition/acp-review-date","valueDate":"2026-12-12"}],"careTeam":[{"reference":"CareTeam/kw"}])"));
  in.careTeams["CareTeam/kw"] = parse(
      R"J({"resourceType":"CareTeam","id":"kw","participant":[{"member":{"display":"Jo Patel (Community Nurse Specialist)"}}],"telecom":[{"system":"phone","value":"01632 960001"}]})J");
  in.consents.push_back(parse(
      R"({"resourceType":"Consent","id":"c1","meta":{"versionId":"1"},"status":"active","dateTime":"2026-09-12","organization":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"8WB01"}}],"provision":{"type":"permit","data":[{"meaning":"related","reference":{"reference":"CarePlan/hospice"}}]}})"));
  in.consents.push_back(parse(
      R"({"resourceType":"Consent","id":"c0","meta":{"versionId":"3"},"status":"active","dateTime":"2026-01-10","provision":{"type":"deny"}})"));
  json::Value s = acpSummary(in);
  EXPECT_EQ(field(current(s, "review-date"), "value"), "2026-12-12");
  EXPECT_EQ(field(current(s, "key-worker"), "value"),
            "Jo Patel (Community Nurse Specialist), 01632 960001");
  EXPECT_EQ(field(current(s, "consent-to-share"), "value"), "given");
  EXPECT_EQ(field(current(s, "consent-to-share"), "consent"), "Consent/c1/_history/1");
  // The older refusal differs from the current consent: shown, never current.
  EXPECT_EQ(partsNamed(*item(s, "consent-to-share"), "differs").size(), 1u);
}

TEST(AcpSummary, AWithheldPlanGivesNoValueButSaysItExistsWhoseItIsAndWhomToCall) {
  SummaryInput in;
  in.patientId = "P1";
  in.carePlans.push_back(plan("hospital", "RX8", "active", "2026-10-02",
                              decision("resuscitation", "450475007")));
  in.withheld.push_back(plan("hospice", "8WB01", "active", "2026-11-01",
                             decision("resuscitation", "450476008"), "736366004",
                             R"(,"careTeam":[{"reference":"CareTeam/kw"}])"));
  in.withheld.push_back(in.withheld.back());  // a draft's version in force: said once
  in.careTeams["CareTeam/kw"] = parse(
      R"J({"resourceType":"CareTeam","id":"kw","participant":[{"member":{"display":"Jo Patel (Community Nurse Specialist)"}}],"telecom":[{"system":"phone","value":"01632 960001"}]})J");
  json::Value s = acpSummary(in);
  // The newer but withheld decision is neither current nor differing: the reader cannot see it.
  EXPECT_EQ(field(current(s, "resuscitation"), "value"), "450475007");
  EXPECT_TRUE(partsNamed(*item(s, "resuscitation"), "differs").empty());
  EXPECT_EQ(json::write(s).find("450476008"), std::string::npos);
  std::vector<const json::Value*> withheld;
  for (const json::Value& p : s.find("parameter")->items())
    if (p.getString("name") == "withheld") withheld.push_back(&p);
  ASSERT_EQ(withheld.size(), 1u);
  EXPECT_EQ(field(withheld[0], "carePlan"), "CarePlan/hospice");
  EXPECT_EQ(field(withheld[0], "source"), "8WB01");
  EXPECT_EQ(field(withheld[0], "status"), "active");
  EXPECT_EQ(field(withheld[0], "contact"), "Jo Patel (Community Nurse Specialist), 01632 960001");
  EXPECT_NE(field(withheld[0], "reason").find("consent"), std::string::npos);
}

}  // namespace
}  // namespace acp::plan
