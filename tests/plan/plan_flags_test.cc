// plan/plan_flags.h: the reasons a child's plan gets a Flag, and the Flag's life.
#include "gateway/plan/plan_flags.h"

#include <gtest/gtest.h>

namespace acp::plan {
namespace {

json::Value parse(const std::string& text) {
  json::Value v;
  json::ParseError err;
  EXPECT_TRUE(json::parse(text, v, err)) << err.message << " in " << text;
  return v;
}

constexpr int64_t kNov23 = 1795435200000;  // 2026-11-23T12:00:00Z

json::Value plan(const std::string& id, const std::string& ods, const std::string& agreed,
                 const std::string& place) {
  std::string activity =
      place.empty()
          ? ""
          : R"({"detail":{"extension":[{"url":"https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-value","valueCodeableConcept":{"coding":[{"system":"https://acp-gateway.nhs.uk/CodeSystem/place","code":")" +
                place +
                R"(","display":")" + place +
                R"("}]}}],"code":{"coding":[{"system":"https://acp-gateway.nhs.uk/CodeSystem/acp-item","code":"preferred-place-of-death-1"}]},"status":"in-progress"}})";
  return parse(R"({"resourceType":"CarePlan","id":")" + id +
               R"(","meta":{"versionId":"1","lastUpdated":"2026-11-01T10:00:00.000Z"},"identifier":[{"system":"https://acp-gateway.nhs.uk/Id/local/)" +
               ods + R"(/plan","value":")" + id +
               R"("}],"status":"active","intent":"plan","category":[{"coding":[{"system":"http://snomed.info/sct","code":"736366004"}]}],"subject":{"reference":"Patient/P1"},"period":{"start":")" +
               agreed + R"("},"activity":[)" + activity + "]}");
}

std::vector<std::string> kinds(const std::vector<FlagSpec>& specs) {
  std::vector<std::string> out;
  for (const FlagSpec& s : specs) out.push_back(s.kind);
  return out;
}

TEST(PlanFlags, AgeInWholeYearsOnTheDay) {
  EXPECT_EQ(ageInYears("2012-11-23", kNov23), 14);  // the birthday itself
  EXPECT_EQ(ageInYears("2012-11-24", kNov23), 13);
  EXPECT_EQ(ageInYears("2008-02-29", kNov23), 18);
  EXPECT_EQ(ageInYears("2012-11", kNov23), -1);  // not a full date: no age rule applies
  EXPECT_EQ(ageInYears("", kNov23), -1);
}

TEST(PlanFlags, PlaceOfDeathDisagreementNamesBothSourcesAndClosesWhenTheyAgree) {
  SummaryInput in;
  in.patientId = "P1";
  in.carePlans.push_back(plan("a", "8WB01", "2026-09-12", "home"));
  in.carePlans.push_back(plan("b", "RX9", "2026-10-01", "hospice"));
  auto specs = planFlags(in, "2015-03-14", kNov23);
  ASSERT_EQ(kinds(specs), std::vector<std::string>{"place-of-death-disagreement"});
  EXPECT_NE(specs[0].text.find("hospice (RX9, 2026-10-01) / home (8WB01, 2026-09-12)"),
            std::string::npos)
      << specs[0].text;

  json::Value raised = flagResource("F1", "P1", &specs[0], json::Value(), "2026-11-23T12:00:00.000Z");
  EXPECT_EQ(raised.getString("status"), "active");
  // Raised again later while open: it keeps the time it was raised.
  json::Value again = flagResource("F1", "P1", &specs[0], raised, "2026-11-30T12:00:00.000Z");
  EXPECT_EQ(again.find("period")->getString("start"), "2026-11-23T12:00:00.000Z");
  // No longer holding: closed, with an end; closing a closed one writes nothing.
  json::Value closed = flagResource("F1", "P1", nullptr, again, "2026-12-01T12:00:00.000Z");
  EXPECT_EQ(closed.getString("status"), "inactive");
  EXPECT_EQ(closed.find("period")->getString("end"), "2026-12-01T12:00:00.000Z");
  EXPECT_FALSE(flagResource("F1", "P1", nullptr, closed, "2026-12-02T12:00:00.000Z").isObject());
  EXPECT_FALSE(flagResource("F1", "P1", nullptr, json::Value(), "2026-12-02T12:00:00.000Z").isObject());

  in.carePlans[1] = plan("b", "RX9", "2026-10-01", "home");
  EXPECT_TRUE(planFlags(in, "2015-03-14", kNov23).empty());
}

TEST(PlanFlags, APlanNotSharedIsNamedByWhoHoldsItNeverByItsContent) {
  // The hospice's plan says home, the community's hospice; the hospice's is not shared (its
  // own Consent denies it): the disagreement is still raised, without the hospice's value.
  SummaryInput in;
  in.patientId = "P1";
  in.carePlans.push_back(plan("a", "8WB01", "2026-09-12", "home"));
  in.carePlans.push_back(plan("b", "RX9", "2026-10-01", "hospice"));
  in.consents.push_back(parse(
      R"({"resourceType":"Consent","status":"active","dateTime":"2026-09-12","organization":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"8WB01"}}],"provision":{"type":"deny","data":[{"meaning":"related","reference":{"reference":"CarePlan/a"}}]}})"));
  auto specs = planFlags(in, "2015-03-14", kNov23);
  ASSERT_EQ(kinds(specs), std::vector<std::string>{"place-of-death-disagreement"});
  EXPECT_NE(specs[0].text.find("hospice (RX9, 2026-10-01)"), std::string::npos) << specs[0].text;
  EXPECT_NE(specs[0].text.find("a plan held by 8WB01 that is not shared"), std::string::npos)
      << specs[0].text;
  EXPECT_EQ(specs[0].text.find("home"), std::string::npos) << specs[0].text;
  // Another organisation's Consent cannot withhold the hospice's plan.
  in.consents[0] = parse(
      R"({"resourceType":"Consent","status":"active","dateTime":"2026-09-12","organization":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RX8"}}],"provision":{"type":"deny","data":[{"meaning":"related","reference":{"reference":"CarePlan/a"}}]}})");
  specs = planFlags(in, "2015-03-14", kNov23);
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_NE(specs[0].text.find("home (8WB01, 2026-09-12)"), std::string::npos) << specs[0].text;
}

TEST(PlanFlags, NoPlanNoPrompts) {
  SummaryInput in;
  in.patientId = "P1";
  // A 16-year-old without an advance care plan: no plan Flags at all.
  EXPECT_TRUE(planFlags(in, "2010-01-01", kNov23).empty());
  // With a plan and no place of death: that prompt, and the transition prompt at 16.
  in.carePlans.push_back(plan("a", "8WB01", "2026-09-12", ""));
  EXPECT_EQ(kinds(planFlags(in, "2010-01-01", kNov23)),
            (std::vector<std::string>{"no-place-of-death", "transition-prompt"}));
}

}  // namespace
}  // namespace acp::plan
