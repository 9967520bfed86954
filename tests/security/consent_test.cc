// Consent to share (docs/security.md, "Consent to share"): a plan the child has not consented
// to share, or whose consent was withdrawn, is shown in full only to the organisation that
// holds it; everyone else — the child's own GP included — gets its outline, and $acp-summary
// lists it as withheld and takes no value from it. Each test has its own gateway.
#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

// SNOMED "Not for attempted CPR": only the withheld hospice export says DNACPR.
constexpr const char* kDnacpr = "450476008";

std::string hospiceExport(bool consent, int version, const std::string& decision = "DNACPR") {
  std::string doc = hospiceSample();
  if (!consent) replaceOnce(doc, "\"given\": true", "\"given\": false");
  replaceOnce(doc, "\"version\": 3", "\"version\": " + std::to_string(version));
  replaceOnce(doc, "\"decision\": \"MODIFIED\"", "\"decision\": \"" + decision + "\"");
  return doc;
}

std::string communityWithdrawn() {
  std::string doc = communitySample();
  replaceOnce(doc, R"(<Consent sharing="yes" date="2026-09-12"/>)",
              R"(<Consent sharing="withdrawn" date="2026-10-30"/>)");
  replaceOnce(doc, R"(version="2")", R"(version="3")");
  return doc;
}

// The outline of a withheld plan: labelled, no content, a note saying whom to call (naming
// the organisation `ods` unless it is "": an _elements subset may leave out what names it).
void expectOutline(const json::Value& plan, const std::string& ods) {
  std::string text = json::write(plan);
  EXPECT_EQ(plan.getString("resourceType"), "CarePlan");
  EXPECT_TRUE(hasRedactedLabel(plan)) << text;
  EXPECT_EQ(plan.find("activity"), nullptr) << text;
  EXPECT_EQ(plan.find("goal"), nullptr) << text;
  EXPECT_EQ(plan.find("text"), nullptr) << text;
  EXPECT_EQ(plan.find("extension"), nullptr) << text;
  const json::Value* note = plan.find("note");
  ASSERT_NE(note, nullptr) << text;
  ASSERT_FALSE(note->items().empty());
  if (!ods.empty()) {
    EXPECT_NE(note->items()[0].getString("text").find(ods), std::string::npos) << text;
  }
  EXPECT_NE(plan.find("subject"), nullptr) << "whose plan it is stays";
  EXPECT_EQ(text.find(kDnacpr), std::string::npos) << text;
  EXPECT_EQ(text.find("midazolam"), std::string::npos) << text;
  EXPECT_EQ(text.find("physiotherapy"), std::string::npos) << text;
}

void expectFull(const json::Value& plan) {
  EXPECT_FALSE(hasRedactedLabel(plan)) << json::write(plan);
  EXPECT_NE(plan.find("activity"), nullptr) << json::write(plan);
}

// $acp-summary's `withheld` entries: CarePlan reference → source ODS code.
std::map<std::string, std::string> withheldOf(const HttpResult& summary) {
  std::map<std::string, std::string> out;
  const json::Value* params = summary.json.find("parameter");
  if (!params) return out;
  for (const json::Value& p : params->items()) {
    if (p.getString("name") != "withheld") continue;
    std::string plan, source;
    for (const json::Value& part : p.find("part")->items()) {
      if (part.getString("name") == "carePlan")
        plan = part.find("valueReference")->getString("reference");
      if (part.getString("name") == "source")
        source = part.find("valueIdentifier")->getString("value");
    }
    out[plan] = source;
  }
  return out;
}

// Every CarePlan an item's current, differing or draft value comes from, by item code.
std::multimap<std::string, std::string> valueSources(const HttpResult& summary) {
  std::multimap<std::string, std::string> out;
  const json::Value* params = summary.json.find("parameter");
  if (!params) return out;
  for (const json::Value& p : params->items()) {
    if (p.getString("name") != "item") continue;
    const auto& parts = p.find("part")->items();
    std::string code = parts[0].find("valueCoding")->getString("code");
    for (const json::Value& part : parts) {
      const std::string& n = part.getString("name");
      if (n != "current" && n != "differs" && n != "draft") continue;
      for (const json::Value& f : part.find("part")->items())
        if (f.getString("name") == "carePlan")
          out.emplace(code, f.find("valueReference")->getString("reference"));
    }
  }
  return out;
}

TEST(Consent, AHospicePlanWithoutConsentIsAnOutlineForEveryoneElse) {
  SecureGateway g;
  World w = loadWorld(g);
  HttpResult pushed = g.pushHospice(hospiceExport(/*consent=*/false, 4));
  ASSERT_EQ(pushed.status, 200) << pushed.body;
  const std::string plan = "/CarePlan/" + w.hospicePlan;

  // The child's own GP, and the other record holders, read the outline.
  for (const char* client : {"gp1", "hospital", "community"}) {
    SCOPED_TRACE(client);
    HttpResult r = g.get(client, plan);
    ASSERT_EQ(r.status, 200) << r.body;
    expectOutline(r.json, "8WB01");
  }
  // The hospice holds it: in full, with the DNACPR decision.
  HttpResult own = g.get("hospice", plan);
  ASSERT_EQ(own.status, 200);
  expectFull(own.json);
  EXPECT_NE(own.body.find(kDnacpr), std::string::npos);

  // Every other way the GP can reach it gives the outline too.
  HttpResult search = g.get("gp1", "/CarePlan?subject=Patient/" + w.child);
  ASSERT_EQ(search.status, 200);
  int outlines = 0;
  for (const json::Value& p : resourcesOf(search)) {
    if (p.getString("id") == w.hospicePlan) {
      expectOutline(p, "8WB01");
      ++outlines;
    } else {
      expectFull(p);
    }
  }
  EXPECT_EQ(outlines, 1);
  for (const std::string& path : {plan + "/_history/1", plan + "/_history/2",
                                  plan + "?_summary=false", plan + "?_elements=activity,note"}) {
    SCOPED_TRACE(path);
    HttpResult r = g.get("gp1", path);
    ASSERT_EQ(r.status, 200) << r.body;
    expectOutline(r.json, path.find("_elements") == std::string::npos ? "8WB01" : "");
  }
  HttpResult history = g.get("gp1", plan + "/_history");
  ASSERT_EQ(resourcesOf(history).size(), 2u);
  for (const json::Value& v : resourcesOf(history)) expectOutline(v, "8WB01");
  HttpResult included = g.get("gp1", "/Patient?_id=" + w.child +
                                          "&_revinclude=CarePlan:subject");
  for (const json::Value& p : resourcesOf(included))
    if (p.getString("id") == w.hospicePlan) expectOutline(p, "8WB01");
  EXPECT_EQ(included.body.find(kDnacpr), std::string::npos);
  HttpResult batch = g.client(
      "gp1", "POST", "/",
      R"({"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":)"
      R"("CarePlan/)" + w.hospicePlan + R"("}}]})");
  ASSERT_EQ(batch.status, 200);
  EXPECT_EQ(batch.body.find(kDnacpr), std::string::npos) << batch.body;
  EXPECT_EQ(batch.body.find("midazolam"), std::string::npos);

  // $acp-summary: listed as withheld, no value from it; the hospice's own has its DNACPR.
  HttpResult summary = g.get("gp1", "/Patient/" + w.child + "/$acp-summary");
  ASSERT_EQ(summary.status, 200) << summary.body;
  auto withheld = withheldOf(summary);
  ASSERT_EQ(withheld.count("CarePlan/" + w.hospicePlan), 1u) << summary.body;
  EXPECT_EQ(withheld["CarePlan/" + w.hospicePlan], "8WB01");
  EXPECT_EQ(withheld.size(), 1u);
  for (const auto& [item, source] : valueSources(summary)) {
    if (item == "consent-to-share") continue;  // that it was refused is the point
    EXPECT_EQ(source.find(w.hospicePlan), std::string::npos) << item << " from " << source;
  }
  EXPECT_EQ(summary.body.find(kDnacpr), std::string::npos) << summary.body;
  EXPECT_EQ(summary.body.find("midazolam"), std::string::npos);
  HttpResult hospiceSummary = g.get("hospice", "/Patient/" + w.child + "/$acp-summary");
  ASSERT_EQ(hospiceSummary.status, 200);
  EXPECT_TRUE(withheldOf(hospiceSummary).empty()) << hospiceSummary.body;
  EXPECT_NE(hospiceSummary.body.find(kDnacpr), std::string::npos);
}

TEST(Consent, ConsentGivenAgainSharesThePlanAtOnce) {
  SecureGateway g;
  World w = loadWorld(g);
  ASSERT_EQ(g.pushHospice(hospiceExport(false, 4)).status, 200);
  HttpResult withheld = g.get("gp1", "/CarePlan/" + w.hospicePlan);
  expectOutline(withheld.json, "8WB01");
  ASSERT_EQ(g.pushHospice(hospiceExport(true, 5)).status, 200);
  HttpResult shared = g.get("gp1", "/CarePlan/" + w.hospicePlan);
  ASSERT_EQ(shared.status, 200);
  expectFull(shared.json);
  EXPECT_NE(shared.body.find(kDnacpr), std::string::npos);
  HttpResult summary = g.get("gp1", "/Patient/" + w.child + "/$acp-summary");
  EXPECT_TRUE(withheldOf(summary).empty()) << summary.body;
  EXPECT_NE(summary.body.find(kDnacpr), std::string::npos);
}

TEST(Consent, ACommunityPlanWhoseConsentWasWithdrawnIsTheTrustsAlone) {
  SecureGateway g;
  World w = loadWorld(g);
  HttpResult before = g.get("gp1", "/CarePlan/" + w.communityPlan);
  expectFull(before.json);
  HttpResult pushed = g.pushCommunity(communityWithdrawn());
  ASSERT_EQ(pushed.status, 200) << pushed.body;

  const std::string plan = "/CarePlan/" + w.communityPlan;
  for (const char* client : {"gp1", "hospice", "hospital"}) {
    SCOPED_TRACE(client);
    HttpResult r = g.get(client, plan);
    ASSERT_EQ(r.status, 200) << r.body;
    expectOutline(r.json, "RX9");
    HttpResult summary = g.get(client, "/Patient/" + w.child + "/$acp-summary");
    ASSERT_EQ(summary.status, 200);
    auto withheld = withheldOf(summary);
    EXPECT_EQ(withheld["CarePlan/" + w.communityPlan], "RX9") << summary.body;
    for (const auto& [item, source] : valueSources(summary)) {
      if (item == "consent-to-share") continue;
      EXPECT_EQ(source.find(w.communityPlan), std::string::npos) << item << " from " << source;
    }
    EXPECT_EQ(summary.body.find("non-invasive"), std::string::npos) << summary.body;
  }
  HttpResult own = g.get("community", plan);
  ASSERT_EQ(own.status, 200);
  expectFull(own.json);
  EXPECT_NE(own.body.find("physiotherapy"), std::string::npos);
  HttpResult ownSummary = g.get("community", "/Patient/" + w.child + "/$acp-summary");
  EXPECT_EQ(withheldOf(ownSummary).count("CarePlan/" + w.communityPlan), 0u);
  // The hospice's and the hospital's plans are still shared with the GP.
  expectFull(g.get("gp1", "/CarePlan/" + w.hospicePlan).json);
  expectFull(g.get("gp1", "/CarePlan/" + w.hospitalPlan).json);
}

}  // namespace
}  // namespace acp::testing::security
