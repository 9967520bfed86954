// Writes are authorised before they run (../shared/reference/security.md: "writes before they
// run"): a transaction's write entries need the token's scopes like the same requests sent
// alone, and a write about a patient the client has no relationship with is refused without
// being made. Each test has its own gateway: a failing one changes the data.
#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

void expectForbidden(const HttpResult& r, const std::string& code) {
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.issueCode(), "forbidden") << r.body;
  EXPECT_EQ(r.errorCode(), code) << r.body;
}

void expectDeleteOfNothing(const HttpResult& r, const std::string& text) {
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(diagnostics(r), text) << r.body;
  EXPECT_EQ(r.body.find("auth."), std::string::npos) << r.body;
}

std::string transaction(const std::string& entries) {
  return R"({"resourceType":"Bundle","type":"transaction","entry":[)" + entries + "]}";
}

TEST(Writes, AWriteRefusedForScopeIsNotMade) {
  SecureGateway g;
  World w = loadWorld(g);
  HttpResult before = g.get("hospice", "/CarePlan/" + w.hospicePlan);
  // Sent alone, the GP's delete and update are refused before they run.
  expectForbidden(g.client("gp1", "DELETE", "/CarePlan/" + w.hospicePlan), "auth.scope");
  expectForbidden(g.client("gp1", "PUT", "/CarePlan/" + w.hospicePlan, before.body), "auth.scope");
  HttpResult after = g.get("hospice", "/CarePlan/" + w.hospicePlan);
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.header("etag"), before.header("etag"));
  // A transaction within the client's scopes goes through.
  HttpResult own = g.client(
      "hospice", "POST", "/",
      transaction(R"({"request":{"method":"GET","url":"CarePlan/)" + w.hospicePlan + R"("}})"));
  EXPECT_EQ(own.status, 200) << own.body;
}

TEST(Writes, ATransactionsWriteEntriesNeedTheirScopes) {
  SecureGateway g;
  World w = loadWorld(g);
  HttpResult before = g.get("hospice", "/CarePlan/" + w.communityPlan);
  ASSERT_EQ(before.status, 200);
  HttpResult del = g.client(
      "gp1", "POST", "/",
      transaction(R"({"request":{"method":"DELETE","url":"CarePlan/)" + w.hospicePlan + R"("}})"));
  expectForbidden(del, "auth.scope");
  HttpResult create = g.client(
      "gp1", "POST", "/",
      transaction(R"({"resource":{"resourceType":"Patient","identifier":[{"system":)"
                  R"("https://example.org/marker","value":"gp-transaction"}]},)"
                  R"("request":{"method":"POST","url":"Patient"}})"));
  expectForbidden(create, "auth.scope");
  std::string changed = before.body;
  replaceOnce(changed, "\"status\":\"active\"", "\"status\":\"revoked\"");
  HttpResult update = g.client(
      "gp1", "POST", "/",
      transaction(R"({"resource":)" + changed + R"(,"request":{"method":"PUT","url":"CarePlan/)" +
                  w.communityPlan + R"("}})"));
  expectForbidden(update, "auth.scope");
  HttpResult conditional = g.client(
      "urgent", "POST", "/",
      transaction(R"({"request":{"method":"DELETE","url":"CarePlan?_id=)" + w.hospitalPlan +
                  R"("}})"));
  expectForbidden(conditional, "auth.scope");

  EXPECT_EQ(g.get("hospice", "/CarePlan/" + w.hospicePlan).status, 200);
  EXPECT_EQ(g.get("hospital", "/CarePlan/" + w.hospitalPlan).status, 200);
  HttpResult community = g.get("hospice", "/CarePlan/" + w.communityPlan);
  EXPECT_EQ(community.header("etag"), before.header("etag"));
  HttpResult marker =
      g.get("hospice", "/Patient?identifier=https://example.org/marker|gp-transaction");
  EXPECT_TRUE(resourcesOf(marker).empty()) << marker.body;
}

TEST(Writes, AWriteAboutAPatientWithoutRelationshipIsRefusedBeforeItRuns) {
  SecureGateway g;
  World w = loadWorld(g);
  HttpResult patient = g.get("hospital", "/Patient/" + w.otherChild);
  ASSERT_EQ(patient.status, 200);
  std::string changed = patient.body;
  replaceOnce(changed, "\"gender\":\"female\"", "\"gender\":\"male\"");

  expectForbidden(g.client("hospice", "PUT", "/Patient/" + w.otherChild, changed),
                  "auth.no-relationship");
  // A delete of what is in the record of a child the client has no relationship with is a
  // delete of nothing: answered as for a resource that is not there, and nothing is deleted.
  expectDeleteOfNothing(g.client("hospice", "DELETE", "/CarePlan/" + w.otherPlan),
                        "nothing to delete: CarePlan/" + w.otherPlan + " is not current");
  expectForbidden(g.client("hospice", "POST", "/CarePlan",
                           R"({"resourceType":"CarePlan","status":"active","intent":"plan",)"
                           R"("title":"planted","subject":{"reference":"Patient/)" +
                               w.otherChild + R"("}})"),
                  "auth.no-relationship");
  expectDeleteOfNothing(g.client("community", "DELETE", "/Patient?_id=" + w.otherChild),
                        "no resource matched the criteria");
  expectDeleteOfNothing(g.client("community", "DELETE",
                                 "/Patient?identifier=" + kNhsSystem + "|" + kOtherNhs),
                        "no resource matched the criteria");

  HttpResult after = g.get("hospital", "/Patient/" + w.otherChild);
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.header("etag"), patient.header("etag")) << after.body;
  EXPECT_EQ(g.get("hospital", "/CarePlan/" + w.otherPlan).status, 200);
  HttpResult plans = g.get("hospital", "/CarePlan?subject=Patient/" + w.otherChild);
  EXPECT_EQ(resourcesOf(plans).size(), 1u) << plans.body;
  EXPECT_EQ(plans.body.find("planted"), std::string::npos);
}

// A new Patient is the writer's own record, also inside the transaction that creates it: the
// child and its plan in one Bundle (the plan's subject a placeholder) go through. Creating a
// child does not open anyone else's record: the same Bundle with a plan for a child the client
// has no relationship with is refused whole.
TEST(Writes, ATransactionMayCreateAChildAndWriteIntoItsRecord) {
  SecureGateway g;
  World w = loadWorld(g);
  const std::string local = "https://acp-gateway.nhs.uk/Id/local/";
  // The writer's own child (its local number `number` under `ods`) and a plan for `planSubject`.
  auto bundle = [&](const std::string& ods, const std::string& number,
                    const std::string& planSubject) {
    return transaction(
        R"({"fullUrl":"urn:uuid:2f6c9a10-5d1e-4c3b-9a57-0c1d2e3f4a5b","resource":)"
        R"({"resourceType":"Patient","identifier":[{"system":")" + local + ods +
        R"(","value":")" + number + R"("}]},)"
        R"("request":{"method":"POST","url":"Patient"}},)"
        R"({"resource":{"resourceType":"CarePlan","status":"active","intent":"plan",)"
        R"("title":"new child's plan","subject":{"reference":")" + planSubject + R"("}},)"
        R"("request":{"method":"POST","url":"CarePlan"}})");
  };
  HttpResult made =
      g.client("hospital", "POST", "/",
               bundle("RX8", "M-TX-1", "urn:uuid:2f6c9a10-5d1e-4c3b-9a57-0c1d2e3f4a5b"));
  ASSERT_EQ(made.status, 200) << made.body;
  size_t created = 0;
  for (size_t at = made.body.find("201 Created"); at != std::string::npos;
       at = made.body.find("201 Created", at + 1))
    ++created;
  EXPECT_EQ(created, 2u) << made.body;
  HttpResult child = g.get("hospital", "/Patient?identifier=" + local + "RX8|M-TX-1");
  std::vector<json::Value> children = resourcesOf(child);
  ASSERT_EQ(children.size(), 1u) << child.body;
  HttpResult plans =
      g.get("hospital", "/CarePlan?subject=Patient/" + children[0].getString("id"));
  EXPECT_EQ(resourcesOf(plans).size(), 1u) << plans.body;

  expectForbidden(
      g.client("hospice", "POST", "/", bundle("8WB01", "WB-TX-2", "Patient/" + w.otherChild)),
      "auth.no-relationship");
  HttpResult none = g.get("hospice", "/Patient?identifier=" + local + "8WB01|WB-TX-2");
  EXPECT_TRUE(resourcesOf(none).empty()) << none.body;
  HttpResult otherPlans = g.get("hospital", "/CarePlan?subject=Patient/" + w.otherChild);
  EXPECT_EQ(resourcesOf(otherPlans).size(), 1u) << otherPlans.body;
}

// What a request wrote is what its answer is decided on: a transaction that creates a child
// (the writer's own record, by its local identifier) and the child's plan answers the writer
// with both when it asks for them (Prefer: return=representation) — facts looked up before the
// commit ("no such child") do not stand after it. Likewise a batch, entry after entry.
TEST(Writes, TheAnswerToAWriteIsDecidedOnWhatItCommitted) {
  SecureGateway g;
  loadWorld(g);
  const std::string local = "https://acp-gateway.nhs.uk/Id/local/8WB01";
  const std::string placeholder = "urn:uuid:7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
  HttpResult made = g.client(
      "hospice", "POST", "/",
      transaction(R"({"fullUrl":")" + placeholder + R"(","resource":{"resourceType":"Patient",)"
                  R"("identifier":[{"system":")" + local + R"(","value":"WB-NEW-1"}],)"
                  R"("birthDate":"2019-04-02"},"request":{"method":"POST","url":"Patient"}},)"
                  R"({"resource":{"resourceType":"CarePlan","status":"active","intent":"plan",)"
                  R"("title":"new child's plan","subject":{"reference":")" + placeholder +
                  R"("}},"request":{"method":"POST","url":"CarePlan"}})"),
      {{"Prefer", "return=representation"}});
  ASSERT_EQ(made.status, 200) << made.body;
  const json::Value* entries = made.json.find("entry");
  ASSERT_NE(entries, nullptr) << made.body;
  ASSERT_EQ(entries->items().size(), 2u);
  const json::Value* patient = entries->items()[0].find("resource");
  const json::Value* plan = entries->items()[1].find("resource");
  ASSERT_NE(patient, nullptr) << "the writer's new child: " << made.body;
  ASSERT_NE(plan, nullptr) << "the new child's plan: " << made.body;
  EXPECT_NE(json::write(*patient).find("2019-04-02"), std::string::npos);
  EXPECT_NE(json::write(*plan).find("new child's plan"), std::string::npos);
  // Nobody else sees them in the answer to their own request: another practice's read of them
  // is as of nothing.
  const std::string childId = entries->items()[0].getString("fullUrl").substr(
      entries->items()[0].getString("fullUrl").rfind('/') + 1);
  EXPECT_EQ(g.get("gp2", "/Patient/" + childId).status, 404);

  // A batch: a plan for a child that is not there yet is refused; the child is then written
  // (update as create, under the writer's local identifier) and shown to the writer; then a
  // plan for it goes through and is shown too.
  const std::string id = "wb-new-2";
  auto entry = [](const std::string& resource, const std::string& method,
                  const std::string& url) {
    return R"({"resource":)" + resource + R"(,"request":{"method":")" + method +
           R"(","url":")" + url + R"("}})";
  };
  const std::string planFor =
      R"({"resourceType":"CarePlan","status":"active","intent":"plan","title":"batch plan",)"
      R"("subject":{"reference":"Patient/)" + id + R"("}})";
  const std::string child = R"({"resourceType":"Patient","id":")" + id +
                            R"(","identifier":[{"system":")" + local +
                            R"(","value":"WB-NEW-2"}],"birthDate":"2020-06-01"})";
  HttpResult batch = g.client(
      "hospice", "POST", "/",
      R"({"resourceType":"Bundle","type":"batch","entry":[)" + entry(planFor, "POST", "CarePlan") +
          "," + entry(child, "PUT", "Patient/" + id) + "," + entry(planFor, "POST", "CarePlan") +
          "]}",
      {{"Prefer", "return=representation"}});
  ASSERT_EQ(batch.status, 200) << batch.body;
  const auto& answers = batch.json.find("entry")->items();
  ASSERT_EQ(answers.size(), 3u) << batch.body;
  EXPECT_EQ(answers[0].find("response")->getString("status"), "403") << batch.body;
  EXPECT_EQ(answers[1].find("response")->getString("status"), "201") << batch.body;
  ASSERT_NE(answers[1].find("resource"), nullptr) << "the writer's new child: " << batch.body;
  EXPECT_EQ(answers[2].find("response")->getString("status"), "201") << batch.body;
  ASSERT_NE(answers[2].find("resource"), nullptr) << "its plan: " << batch.body;
}

}  // namespace
}  // namespace acp::testing::security
