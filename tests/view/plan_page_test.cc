// The clinician's page (view/plan_page.h) from the answers of plan/acp_summary.h: the
// resuscitation decision first, disagreements and overdue reviews marked, every value escaped,
// superseded plans never shown as current.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/view/html.h"
#include "gateway/view/plan_page.h"

namespace acp::view {
namespace {

json::Value parse(const std::string& text) {
  json::Value v;
  json::ParseError err;
  EXPECT_TRUE(json::parse(text, v, err)) << text;
  return v;
}

const char* kPatient = R"({"resourceType":"Patient","id":"p1",
  "identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9991215271"}],
  "name":[{"use":"official","family":"O'Brien","given":["Amy","<b>Rose</b>"]}],
  "birthDate":"2015-03-14"})";

// An advance care plan from `ods` with one decision activity (acp-item `code`, text value).
std::string plan(const std::string& id, const std::string& ods, const std::string& status,
                 const std::string& agreed, const std::string& code, const std::string& value,
                 const std::string& extra = "") {
  return R"({"resourceType":"CarePlan","id":")" + id + R"(","status":")" + status +
         R"(","intent":"plan","meta":{"versionId":"1","lastUpdated":")" + agreed +
         R"(T10:00:00.000Z"},
    "identifier":[{"system":"https://acp-gateway.nhs.uk/Id/local/)" + ods + R"(/plan","value":")" +
         id + R"("}],
    "category":[{"coding":[{"system":"http://snomed.info/sct","code":"736366004","display":"Advance care plan"}]}],
    "subject":{"reference":"Patient/p1"},"period":{"start":")" + agreed + R"("},
    "author":{"display":"Dr Jones"},)" + extra + R"(
    "activity":[{"detail":{"status":"not-started","code":{"coding":[{"system":"https://acp-gateway.nhs.uk/CodeSystem/acp-item","code":")" +
         code + R"("}]},"description":")" + value + R"("}}]})";
}

struct Fixture {
  json::Value patient = parse(kPatient);
  plan::SummaryInput in;
  std::string render(const std::string& today = "2026-11-24") {
    PlanPage page;
    page.patient = &patient;
    page.input = &in;
    page.answers = plan::answers(in);
    page.today = today;
    page.generated = "2026-11-24T10:00:00Z";
    return renderPlanPage(page);
  }
};

TEST(Html, EscapesMarkupQuotesAndBrokenUtf8) {
  EXPECT_EQ(escape(R"(<script>alert("x")</script> & 'y')"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
  EXPECT_EQ(escape("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(escape("a\xC3(b"), "a\xEF\xBF\xBD(b");            // a broken sequence
  EXPECT_EQ(escape("a\x01z"), "a\xEF\xBF\xBDz");              // a control character
  EXPECT_EQ(escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
}

TEST(Html, NhsNumbersAndDatesAsPeopleReadThem) {
  EXPECT_EQ(formatNhsNumber("9991215271"), "999 121 5271");
  EXPECT_EQ(formatNhsNumber("12345"), "12345");
  EXPECT_EQ(readableDate("2015-03-14"), "14 March 2015");
  EXPECT_EQ(readableDate("2026-11"), "November 2026");
  EXPECT_EQ(readableDate("2026-11-24T09:30:00Z"), "24 November 2026, 09:30 UTC");
  EXPECT_EQ(readableDate("2026-06-01T09:30:00+01:00"), "1 June 2026, 09:30 (UTC+01:00)");
  EXPECT_EQ(readableDate("soon"), "soon");
}

TEST(PlanPage, TheResuscitationDecisionComesFirst) {
  Fixture f;
  f.in.patientId = "p1";
  f.in.carePlans.push_back(parse(plan("a", "8WB01", "active", "2026-01-10", "preferred-place-of-care", "Home")));
  f.in.carePlans.push_back(parse(plan("b", "RX8", "active", "2026-02-01", "resuscitation", "Do not attempt CPR")));
  std::string html = f.render();
  size_t cpr = html.find("Do not attempt CPR");
  ASSERT_NE(cpr, std::string::npos);
  ASSERT_NE(html.find("id=\"place\""), std::string::npos);
  ASSERT_NE(html.find(">Home<"), std::string::npos);
  EXPECT_LT(html.find("id=\"resuscitation\""), html.find("id=\"place\""));
  EXPECT_LT(cpr, html.find(">Home<"));
  EXPECT_NE(html.find("Recorded by Dr Jones, RX8, on 1 February 2026"), std::string::npos);
  EXPECT_NE(html.find("999 121 5271"), std::string::npos);
  EXPECT_NE(html.find("14 March 2015"), std::string::npos);
}

TEST(PlanPage, NoDecisionIsSaidNotLeftBlank) {
  Fixture f;
  f.in.patientId = "p1";
  std::string html = f.render();
  EXPECT_NE(html.find("No resuscitation decision is recorded in the shared plan"), std::string::npos);
  EXPECT_NE(html.find("No advance care plan is recorded."), std::string::npos);
}

TEST(PlanPage, EveryValueIsEscaped) {
  Fixture f;
  f.in.patientId = "p1";
  f.in.carePlans.push_back(parse(plan("a", "RX8", "active", "2026-02-01", "emergency-plan",
                                      "<img src=x onerror=alert(1)> & call 999")));
  std::string html = f.render();
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>Rose"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt; &amp; call 999"), std::string::npos);
  EXPECT_NE(html.find("Amy &lt;b&gt;Rose&lt;/b&gt; O&#39;Brien"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("style="), std::string::npos) << "no inline style (the CSP forbids it)";
}

TEST(PlanPage, DisagreementsAreShownWithEverySourcesValue) {
  Fixture f;
  f.in.patientId = "p1";
  f.in.carePlans.push_back(parse(plan("a", "8WB01", "active", "2026-01-10", "resuscitation", "Attempt CPR")));
  f.in.carePlans.push_back(parse(plan("b", "RX8", "active", "2026-02-01", "resuscitation", "Do not attempt CPR")));
  std::string html = f.render();
  EXPECT_NE(html.find("The sources disagree on 1 decision"), std::string::npos);
  size_t current = html.find("acp-resuscitation__value\">Do not attempt CPR");
  size_t other = html.find("<strong>Attempt CPR</strong>");
  ASSERT_NE(current, std::string::npos) << "the most recently agreed value is current";
  ASSERT_NE(other, std::string::npos) << "the other source's value is shown beside it";
  EXPECT_LT(current, other);
  EXPECT_NE(html.find("8WB01, on 10 January 2026"), std::string::npos);
}

TEST(PlanPage, ASupersededPlanIsNeverShownAsCurrent) {
  Fixture f;
  f.in.patientId = "p1";
  f.in.carePlans.push_back(parse(plan("a", "RX8", "revoked", "2026-03-01", "resuscitation", "Attempt CPR")));
  f.in.carePlans.push_back(parse(plan("b", "RX8", "active", "2026-02-01", "resuscitation", "Do not attempt CPR")));
  std::string html = f.render();
  EXPECT_NE(html.find("acp-resuscitation__value\">Do not attempt CPR"), std::string::npos);
  EXPECT_EQ(html.find("Attempt CPR<"), std::string::npos) << "the revoked plan's value is not shown";
}

TEST(PlanPage, AnOverdueReviewIsMarked) {
  Fixture f;
  f.in.patientId = "p1";
  std::string review = R"("extension":[{"url":"https://acp-gateway.nhs.uk/StructureDefinition/acp-review-date","valueDate":"2026-06-01"}],)";
  f.in.carePlans.push_back(parse(plan("a", "RX8", "active", "2026-02-01", "resuscitation", "Do not attempt CPR", review)));
  std::string overdue = f.render("2026-11-24");
  EXPECT_NE(overdue.find("1 June 2026 <strong class=\"nhsuk-tag nhsuk-tag--red acp-overdue\">Review overdue"),
            std::string::npos);
  EXPECT_EQ(f.render("2026-05-01").find("Review overdue"), std::string::npos);
}

// Every decision of the acp-item CodeSystem that a plan records is on the page: none is left off
// because the page's sections do not name it.
TEST(PlanPage, EveryDecisionOfTheCodeSystemIsShown) {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/conformance/acp/CodeSystem-acp-item.json");
  std::stringstream ss;
  ss << in.rdbuf();
  json::Value cs = parse(ss.str());
  int checked = 0;
  for (const json::Value& concept : cs.find("concept")->items()) {
    const std::string code = concept.getString("code");
    if (code == "key-worker" || code == "symptom-plan") continue;  // from CareTeam / per symptom
    SCOPED_TRACE(code);
    Fixture f;
    f.in.patientId = "p1";
    f.in.carePlans.push_back(parse(plan("a", "RX8", "active", "2026-02-01", code, "Value of " + code)));
    EXPECT_NE(f.render().find("Value of " + code), std::string::npos);
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST(PlanPage, AValueWithNothingReadableIsSaidNotBlank) {
  Fixture f;
  f.in.patientId = "p1";
  // A coded decision whose coding has neither display nor code, and no text.
  std::string coded = plan("a", "RX8", "active", "2026-02-01", "resuscitation", "x");
  const std::string detail = R"("detail":{)";
  coded.replace(coded.find(detail), detail.size(),
                detail + R"("extension":[{"url":"https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-value","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct"}]}}],)");
  f.in.carePlans.push_back(parse(coded));
  std::string html = f.render();
  EXPECT_NE(html.find("value not readable here: see the source record"), std::string::npos);
}

TEST(PlanPage, TheHistorySaysWhichVersionsAreInForce) {
  Fixture f;
  f.in.patientId = "p1";
  json::Value current = parse(plan("b", "RX8", "active", "2026-02-01", "resuscitation", "Do not attempt CPR"));
  f.in.carePlans.push_back(current);
  PlanPage page;
  page.patient = &f.patient;
  page.input = &f.in;
  page.answers = plan::answers(f.in);
  page.inForce = plan::plansInForce(f.in);
  EXPECT_EQ(page.inForce, std::set<std::string>{"CarePlan/b/_history/1"});
  page.history = {
      {"CarePlan/b", "ReSPECT form", 1, "2026-02-01T10:00:00.000Z", "active", "RX8", false},
      {"CarePlan/a", "Old ReSPECT form", 2, "2026-01-20T10:00:00.000Z", "revoked", "RX8", false},
      {"CarePlan/a", "Old ReSPECT form", 1, "2026-01-10T10:00:00.000Z", "active", "RX8", false},
      {"CarePlan/x", "Wrong child's plan", 1, "2026-01-05T10:00:00.000Z", "entered-in-error", "8WB01", false},
  };
  std::string html = renderPlanPage(page);
  size_t table = html.find("History of the plans");
  ASSERT_NE(table, std::string::npos);
  std::string history = html.substr(table);
  EXPECT_NE(history.find(">ReSPECT form</td><td class=\"nhsuk-table__cell\">1</td><td class=\"nhsuk-table__cell\">in force<"),
            std::string::npos) << history;
  EXPECT_NE(history.find(">superseded or withdrawn<"), std::string::npos);
  EXPECT_NE(history.find(">agreed then, since replaced<"), std::string::npos)
      << "an older active version is not called in force";
  EXPECT_EQ(history.find("Wrong child"), std::string::npos) << "nothing of an entered-in-error version";
  EXPECT_NE(history.find(">entered in error<"), std::string::npos);
}

TEST(PlanPage, APartialReviewDateIsOverdueOnlyOnceItsPeriodHasPassed) {
  for (const auto& [due, today, overdue] : std::vector<std::tuple<std::string, std::string, bool>>{
           {"2026-11", "2026-11-24", false}, {"2026-10", "2026-11-24", true},
           {"2026", "2026-11-24", false},    {"2025", "2026-11-24", true},
           {"2026-11-23", "2026-11-24", true}, {"2026-11-24", "2026-11-24", false}}) {
    SCOPED_TRACE(due + " on " + today);
    Fixture f;
    f.in.patientId = "p1";
    std::string review = R"("extension":[{"url":"https://acp-gateway.nhs.uk/StructureDefinition/acp-review-date","valueDate":")" + due + R"("}],)";
    f.in.carePlans.push_back(parse(plan("a", "RX8", "active", "2020-02-01", "resuscitation", "Do not attempt CPR", review)));
    EXPECT_EQ(f.render(today).find("Review overdue") != std::string::npos, overdue);
  }
}

TEST(PlanPage, AnErrorPageSaysNothingAboutAChild) {
  std::string html = renderErrorPage(404, "No shared plan found", "<not> found", "");
  EXPECT_NE(html.find("&lt;not&gt; found"), std::string::npos);
  EXPECT_NE(html.find("data-status=\"404\""), std::string::npos);
}

}  // namespace
}  // namespace acp::view
