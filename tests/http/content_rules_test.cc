// The content rules beyond the profiles (gateway/http/content_rules.h), through the server:
// an NHS number failing Modulus 11 is refused with 422, issue type "value", at its FHIRPath —
// in a resource, in a Reference's identifier, and in a transaction entry (nothing committed).
#include <gtest/gtest.h>

#include <string>

#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string firstIssue(const HttpResult& r, const char* field) {
  const json::Value* issues = r.json.find("issue");
  if (!issues || issues->items().empty()) return "";
  const json::Value& i = issues->items()[0];
  if (std::string(field) == "expression") {
    const json::Value* e = i.find("expression");
    return e && !e->items().empty() ? e->items()[0].text() : "";
  }
  if (std::string(field) == "details") {
    const json::Value* d = i.find("details");
    return d ? d->find("coding")->items()[0].getString("code") : "";
  }
  return i.getString(field);
}

TEST(ContentRules, AnNhsNumberFailingModulus11IsRefusedWith422AtItsValue) {
  TestServer server;
  HttpResult bad = server.post("/Patient", R"({"resourceType":"Patient","identifier":[
      {"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9992530821"}]})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(firstIssue(bad, "code"), "value");
  EXPECT_EQ(firstIssue(bad, "details"), "rule.nhs-number");
  EXPECT_EQ(firstIssue(bad, "expression"), "Patient.identifier[0].value");
  for (const char* value : {"999253082", "99925308200", "999 253 0820", "999253082X"})
    EXPECT_EQ(server.post("/Patient", std::string(R"({"resourceType":"Patient","identifier":[
        {"system":"https://fhir.nhs.uk/Id/nhs-number","value":")") + value + R"("}]})").status,
              422) << value;
  HttpResult ref = server.post("/CarePlan", R"({"resourceType":"CarePlan","status":"active",
      "intent":"plan","subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number",
      "value":"1234567890"}}})");
  EXPECT_EQ(ref.status, 422) << ref.body;
  EXPECT_EQ(firstIssue(ref, "expression"), "CarePlan.subject.identifier.value");
  HttpResult good = server.post("/Patient", R"({"resourceType":"Patient","identifier":[
      {"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9992530820"}]})");
  EXPECT_EQ(good.status, 201) << good.body;
}

TEST(ContentRules, ATransactionWithOneBadNhsNumberCommitsNothing) {
  TestServer server;
  HttpResult r = server.post("/", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient","name":[{"family":"Kept"}]},
       "request":{"method":"POST","url":"Patient"}},
      {"resource":{"resourceType":"Patient","identifier":[
         {"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9992530821"}]},
       "request":{"method":"POST","url":"Patient"}}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("Bundle.entry[1].resource.identifier[0].value"), std::string::npos) << r.body;
  HttpResult found = server.get("/Patient?family=Kept");
  ASSERT_EQ(found.status, 200);
  const json::Value* entries = found.json.find("entry");
  EXPECT_TRUE(!entries || entries->items().empty()) << found.body;
}

}  // namespace
}  // namespace acp::testing
