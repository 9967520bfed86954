// What a valid token still may not do, decided before the handler runs: the token's scopes
// (403 auth.scope), the client's role (403 auth.role), and for partner pushes the client's
// organisation (403 auth.wrong-organisation, nothing stored).
#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

void expectForbidden(const HttpResult& r, const std::string& code) {
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.json.getString("resourceType"), "OperationOutcome") << r.body;
  EXPECT_EQ(r.issueCode(), "forbidden") << r.body;
  EXPECT_EQ(r.errorCode(), code) << r.body;
  EXPECT_TRUE(r.header("www-authenticate").empty()) << "a 403 is not a challenge";
}

class RouteAuthorization : public SharedGateway {};

TEST_F(RouteAuthorization, ATokenWithoutTheScopeIsRefused) {
  // gp1 asks for CarePlan only: Patient and $acp-summary (Patient and CarePlan read) refused.
  std::string carePlanOnly = g().token("gp1", "system/CarePlan.rs");
  expectForbidden(g().as(carePlanOnly, "GET", "/Patient/" + w().child), "auth.scope");
  expectForbidden(g().as(carePlanOnly, "GET", "/Patient?identifier=" + kNhsSystem + "|" +
                                                  kChildNhs),
                  "auth.scope");
  expectForbidden(g().as(carePlanOnly, "GET", "/Patient/" + w().child + "/$acp-summary"),
                  "auth.scope");
  expectForbidden(g().as(carePlanOnly, "GET", "/Encounter/" + w().hospiceEncounter),
                  "auth.scope");
  EXPECT_EQ(g().as(carePlanOnly, "GET", "/CarePlan/" + w().hospicePlan).status, 200);

  // Read without search, and search without read.
  std::string readOnly = g().token("gp1", "system/CarePlan.r");
  EXPECT_EQ(g().as(readOnly, "GET", "/CarePlan/" + w().hospicePlan).status, 200);
  EXPECT_EQ(g().as(readOnly, "GET", "/CarePlan/" + w().hospicePlan + "/_history").status, 200);
  expectForbidden(g().as(readOnly, "GET", "/CarePlan?subject=Patient/" + w().child),
                  "auth.scope");
  expectForbidden(g().as(readOnly, "POST", "/CarePlan/_search", "status=active",
                         {{"Content-Type", "application/x-www-form-urlencoded"}}),
                  "auth.scope");
  std::string searchOnly = g().token("gp1", "system/CarePlan.s");
  EXPECT_EQ(g().as(searchOnly, "GET", "/CarePlan?subject=Patient/" + w().child).status, 200);
  expectForbidden(g().as(searchOnly, "GET", "/CarePlan/" + w().hospicePlan), "auth.scope");
  expectForbidden(g().as(searchOnly, "GET", "/CarePlan/" + w().hospicePlan + "/_history/1"),
                  "auth.scope");
}

TEST_F(RouteAuthorization, AReadingClientCannotWrite) {
  const std::string plan = "/CarePlan/" + w().hospicePlan;
  HttpResult current = g().get("gp1", plan);
  ASSERT_EQ(current.status, 200);
  expectForbidden(g().client("gp1", "POST", "/Patient", R"({"resourceType":"Patient"})"),
                  "auth.scope");
  expectForbidden(g().client("gp1", "PUT", plan, current.body), "auth.scope");
  expectForbidden(g().client("gp1", "DELETE", plan), "auth.scope");
  expectForbidden(g().client("gp1", "PUT", "/CarePlan?_id=" + w().hospicePlan, current.body),
                  "auth.scope");
  expectForbidden(g().client("gp1", "DELETE", "/CarePlan?_id=" + w().hospicePlan), "auth.scope");
  expectForbidden(g().client("urgent", "DELETE", plan), "auth.scope");
  // Whole-system history needs read of every type.
  expectForbidden(g().get("gp1", "/_history"), "auth.scope");
  // Nothing changed.
  HttpResult after = g().get("gp1", plan);
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.header("etag"), current.header("etag"));
}

TEST_F(RouteAuthorization, ABatchIsCheckedEntryByEntry) {
  std::string batch =
      R"({"resourceType":"Bundle","type":"batch","entry":[)"
      R"({"request":{"method":"GET","url":"CarePlan/)" + w().hospicePlan + R"("}},)"
      R"({"request":{"method":"DELETE","url":"CarePlan/)" + w().hospicePlan + R"("}},)"
      R"({"request":{"method":"GET","url":"Patient/)" + w().child + R"("}}]})";
  HttpResult r = g().as(g().token("gp1", "system/CarePlan.rs"), "POST", "/", batch);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& entries = r.json.find("entry")->items();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].find("response")->getString("status"), "200");
  EXPECT_EQ(entries[1].find("response")->getString("status"), "403");
  EXPECT_NE(json::write(*entries[1].find("response")).find("auth.scope"), std::string::npos);
  EXPECT_EQ(entries[2].find("response")->getString("status"), "403");
  EXPECT_EQ(entries[2].find("resource"), nullptr);
  EXPECT_EQ(g().get("gp1", "/CarePlan/" + w().hospicePlan).status, 200);
}

TEST_F(RouteAuthorization, OperationsNeedTheirRole) {
  // Pushes are for source systems; the GP is refused whatever its scopes.
  expectForbidden(g().as(g().token("gp1"), "POST", "/$ingest/hospice", hospiceSample(),
                         {{"Content-Type", "application/json"}}),
                  "auth.role");
  expectForbidden(g().as(g().token("urgent"), "POST", "/$ingest/hl7v2",
                         respectForm(kChildNhs, "M123456", "R1"),
                         {{"Content-Type", "application/hl7-v2"}}),
                  "auth.role");
  // The failure log and candidate links are the service operator's.
  for (const char* client : {"gp1", "hospice", "community", "privacy", "urgent"}) {
    SCOPED_TRACE(client);
    expectForbidden(g().get(client, "/$ingest/failures"), "auth.role");
    expectForbidden(g().get(client, "/$ingest/failures/1"), "auth.role");
    expectForbidden(g().client(client, "POST", "/$ingest/failures/1/$replay"), "auth.role");
    expectForbidden(g().get(client, "/$candidate-links"), "auth.role");
    expectForbidden(g().client(client, "POST", "/$candidate-links/1/$confirm"), "auth.role");
  }
  HttpResult failures = g().get("operator", "/$ingest/failures");
  EXPECT_EQ(failures.status, 200) << failures.body;
  EXPECT_EQ(failures.json.getString("resourceType"), "Parameters");
  HttpResult links = g().get("operator", "/$candidate-links");
  EXPECT_EQ(links.status, 200) << links.body;
  // The operator pushes nothing.
  expectForbidden(g().as(g().token("operator"), "POST", "/$ingest/hospice", hospiceSample(),
                         {{"Content-Type", "application/json"}}),
                  "auth.role");
}

TEST_F(RouteAuthorization, APushNeedsWriteScopes) {
  // The hospice asking for reads only cannot push.
  std::string readOnly = g().token("hospice", "system/*.read");
  expectForbidden(g().as(readOnly, "POST", "/$ingest/hospice", hospiceSample(),
                         {{"Content-Type", "application/json"}}),
                  "auth.scope");
}

// A push's organisation must be the client's own: the hospice's client cannot send the
// community trust's export, the hospital's messages, or a hospice export that claims to be
// someone else's; nothing of it is stored.
TEST(PushOrganisation, ASourceWritesOnlyAsItsOwnOrganisation) {
  SecureGateway g;
  HttpResult own = g.pushHospice(hospiceSample());
  ASSERT_EQ(own.status, 200) << own.body;
  const std::string child = pushedId(own, "Patient");
  HttpResult patientBefore = g.get("hospice", "/Patient/" + child);

  HttpResult community = g.pushCommunity(communitySample(), "hospice");
  expectForbidden(community, "auth.wrong-organisation");
  EXPECT_NE(diagnostics(community).find("RX9"), std::string::npos) << community.body;
  EXPECT_NE(diagnostics(community).find("8WB01"), std::string::npos) << community.body;
  expectForbidden(g.pushHl7(respectForm(kChildNhs, "M123456", "X1", "DNACPR"), "hospice"),
                  "auth.wrong-organisation");
  expectForbidden(g.pushHospice(hospiceSample(), "community"), "auth.wrong-organisation");
  std::string spoofed = hospiceSample();
  replaceOnce(spoofed, R"("odsCode": "8WB01")", R"("odsCode": "RX9")");
  replaceOnce(spoofed, "\"version\": 3", "\"version\": 9");
  expectForbidden(g.pushHospice(spoofed, "hospice"), "auth.wrong-organisation");

  // Nothing stored: the child's record is as the hospice left it (the hospice holds it, so it
  // would see anything added), and the community trust finds nothing of its own.
  HttpResult patientAfter = g.get("hospice", "/Patient/" + child);
  EXPECT_EQ(patientAfter.header("etag"), patientBefore.header("etag"));
  EXPECT_EQ(patientAfter.body.find("Id/local/RX9"), std::string::npos);
  EXPECT_EQ(patientAfter.body.find("Id/local/RX8"), std::string::npos);
  HttpResult plans = g.get("hospice", "/CarePlan?subject=Patient/" + child);
  ASSERT_EQ(plans.status, 200);
  EXPECT_EQ(resourcesOf(plans).size(), 1u) << plans.body;
  HttpResult history = g.get("hospice", "/_history?_count=100");
  for (const json::Value& r : resourcesOf(history)) {
    std::string text = json::write(r);
    // Nothing the community trust holds or wrote (the hospice's own key-worker CareTeam
    // names the trust, RX9, as the key worker's organisation: that is the hospice's data).
    EXPECT_EQ(text.find("Id/local/RX9"), std::string::npos) << text;
    if (r.getString("resourceType") == "Provenance") {
      EXPECT_EQ(text.find("RX9"), std::string::npos) << text;
    }
    EXPECT_EQ(text.find("DNACPR"), std::string::npos) << text;
  }
  HttpResult byLocal =
      g.get("community", "/Patient?identifier=https://acp-gateway.nhs.uk/Id/local/RX9|C-77120");
  EXPECT_EQ(byLocal.status, 200);
  EXPECT_TRUE(resourcesOf(byLocal).empty()) << byLocal.body;

  // The same documents from their own organisations' clients are taken.
  EXPECT_EQ(g.pushCommunity(communitySample()).status, 200);
  EXPECT_EQ(g.pushHl7(respectForm(kChildNhs, "M123456", "X1")).status, 200);
}

}  // namespace
}  // namespace acp::testing::security
