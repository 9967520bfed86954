// A conditional write whose criteria match a resource the client may not see (docs/security.md,
// "Who may see and write what", the residual under writes): refused 403
// `auth.no-relationship` — as a single interaction, as a batch entry, and as a whole
// transaction (rolled back, nothing written) — whatever the Prefer, and nothing of the hidden
// resource (its id, location, version) is in the answer. The hospice has no relationship with
// the hospital's other child; its criteria name that child, never the plan's id.
#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

const char* const kPrefers[] = {"", "return=minimal", "return=representation",
                                "return=OperationOutcome"};

class HiddenMatch : public SharedGateway {
 protected:
  // Criteria that match the other child's plan (and only it) without naming its id.
  std::string criteria() { return "subject=Patient/" + w().otherChild; }

  // A plan for the hospice's own child: content it may write.
  std::string ownPlan(const std::string& extra = "") {
    return R"({"resourceType":"CarePlan","status":"active","intent":"plan",)" + extra +
           R"("subject":{"reference":"Patient/)" + w().child + R"("}})";
  }

  // An Encounter of the hospice's own child, found again by its identifier `tag`.
  std::string ownEncounter(const std::string& tag) {
    return R"({"resourceType":"Encounter","status":"finished","identifier":[{"system":)"
           R"("urn:test:hidden-match","value":")" + tag + R"("}],"class":{"system":)"
           R"("http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},)"
           R"("subject":{"reference":"Patient/)" + w().child + R"("},)"
           R"("period":{"start":"2026-03-02T10:00:00Z","end":"2026-03-02T10:30:00Z"}})";
  }

  HttpResult post(const std::string& path, const std::string& body, const std::string& prefer,
                  Headers headers = {}) {
    if (!prefer.empty()) headers["Prefer"] = prefer;
    return g().client("hospice", "POST", path, body, std::move(headers));
  }

  // Nothing of the hidden plan anywhere in the answer, headers included.
  void expectNothingOfThePlan(const HttpResult& r, const std::string& what) {
    EXPECT_EQ(r.body.find(w().otherPlan), std::string::npos) << what << ": " << r.body;
    for (const auto& [name, value] : r.headers)
      EXPECT_EQ(value.find(w().otherPlan), std::string::npos) << what << ": " << name;
  }

  void expectRefused(const HttpResult& r, const std::string& what) {
    EXPECT_EQ(r.status, 403) << what << ": " << r.body;
    EXPECT_EQ(r.issueCode(), "forbidden") << what << ": " << r.body;
    EXPECT_EQ(r.errorCode(), "auth.no-relationship") << what << ": " << r.body;
    expectNothingOfThePlan(r, what);
  }

  // How many Encounters carry the identifier `tag` (to the hospice, which may see them all).
  size_t encountersTagged(const std::string& tag) {
    HttpResult r = g().get("hospice", "/Encounter?identifier=urn:test:hidden-match|" + tag);
    EXPECT_EQ(r.status, 200) << r.body;
    const json::Value* entries = r.json.find("entry");
    return entries ? entries->items().size() : 0;
  }
};

TEST_F(HiddenMatch, TheCriteriaMatchTheOtherChildsPlan) {
  HttpResult r = g().get("hospital", "/CarePlan?" + criteria());
  ASSERT_EQ(r.status, 200) << r.body;
  const json::Value* entries = r.json.find("entry");
  ASSERT_TRUE(entries && entries->items().size() == 1) << r.body;
  EXPECT_NE(r.body.find(w().otherPlan), std::string::npos);
}

TEST_F(HiddenMatch, AConditionalCreateIsRefusedWhateverThePrefer) {
  for (const char* prefer : kPrefers) {
    HttpResult r = post("/CarePlan", ownPlan(), prefer, {{"If-None-Exist", criteria()}});
    expectRefused(r, std::string("single, Prefer ") + prefer);
  }
}

TEST_F(HiddenMatch, AConditionalCreateInATransactionRefusesTheTransaction) {
  int n = 0;
  for (const char* prefer : kPrefers) {
    std::string tag = "tx-create-" + std::to_string(n++);
    std::string tx =
        R"({"resourceType":"Bundle","type":"transaction","entry":[)"
        R"({"fullUrl":"urn:uuid:6b1e2a52-51d3-4a8e-9b55-0c2f7f1d3e01","resource":)" +
        ownEncounter(tag) + R"(,"request":{"method":"POST","url":"Encounter"}},)"
        R"({"resource":)" + ownPlan() + R"(,"request":{"method":"POST","url":"CarePlan",)"
        R"("ifNoneExist":")" + criteria() + R"("}}]})";
    HttpResult r = post("/", tx, prefer);
    expectRefused(r, std::string("transaction, Prefer ") + prefer);
    EXPECT_EQ(encountersTagged(tag), 0u) << "the transaction is rolled back: " << prefer;
  }
}

TEST_F(HiddenMatch, AConditionalCreateInABatchRefusesItsEntry) {
  for (const char* prefer : kPrefers) {
    std::string batch =
        R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":)" + ownPlan() +
        R"(,"request":{"method":"POST","url":"CarePlan","ifNoneExist":")" + criteria() +
        R"("}}]})";
    HttpResult r = post("/", batch, prefer);
    ASSERT_EQ(r.status, 200) << r.body;
    const json::Value* entries = r.json.find("entry");
    ASSERT_TRUE(entries && entries->items().size() == 1) << r.body;
    const json::Value* response = entries->items()[0].find("response");
    ASSERT_NE(response, nullptr) << r.body;
    EXPECT_EQ(response->getString("status"), "403") << prefer << ": " << r.body;
    EXPECT_NE(r.body.find("auth.no-relationship"), std::string::npos) << r.body;
    expectNothingOfThePlan(r, std::string("batch, Prefer ") + prefer);
  }
}

TEST_F(HiddenMatch, AConditionalUpdateInATransactionRefusesTheTransaction) {
  int n = 0;
  for (const char* prefer : kPrefers) {
    std::string tag = "tx-update-" + std::to_string(n++);
    std::string tx =
        R"({"resourceType":"Bundle","type":"transaction","entry":[)"
        R"({"resource":)" + ownEncounter(tag) +
        R"(,"request":{"method":"POST","url":"Encounter"}},)"
        R"({"resource":)" + ownPlan() + R"(,"request":{"method":"PUT","url":"CarePlan?)" +
        criteria() + R"("}}]})";
    HttpResult r = post("/", tx, prefer);
    expectRefused(r, std::string("transaction update, Prefer ") + prefer);
    EXPECT_EQ(encountersTagged(tag), 0u) << "the transaction is rolled back: " << prefer;
  }
  HttpResult single = g().client("hospice", "PUT", "/CarePlan?" + criteria(), ownPlan());
  expectRefused(single, "single conditional update");
}

TEST_F(HiddenMatch, TwoEntriesMatchingTheSameHiddenPlanDoNotNameIt) {
  for (const char* method : {"PUT", "POST"}) {
    std::string request =
        std::string(method) == "PUT"
            ? R"({"method":"PUT","url":"CarePlan?)" + criteria() + R"("})"
            : R"({"method":"POST","url":"CarePlan","ifNoneExist":")" + criteria() + R"("})";
    std::string entry = R"({"resource":)" + ownPlan() + R"(,"request":)" + request + "}";
    std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[)" + entry +
                     "," + entry + "]}";
    HttpResult r = post("/", tx, "return=representation");
    EXPECT_GE(r.status, 400) << method << ": " << r.body;
    expectNothingOfThePlan(r, std::string("two ") + method + " entries");
  }
}

TEST_F(HiddenMatch, AConditionalReferenceToAHiddenPlanIsRefused) {
  std::string tx =
      R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" +
      ownPlan(R"("basedOn":[{"reference":"CarePlan?)" + criteria() + R"("}],)") +
      R"(,"request":{"method":"POST","url":"CarePlan"}}]})";
  HttpResult r = post("/", tx, "return=representation");
  expectRefused(r, "conditional reference");
}

}  // namespace
}  // namespace acp::testing::security
