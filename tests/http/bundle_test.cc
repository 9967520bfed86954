// Transaction and batch Bundles: all-or-nothing, placeholder references, per-entry answers.
#include <gtest/gtest.h>

#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

const char* kTransaction = R"({
  "resourceType": "Bundle", "type": "transaction",
  "entry": [
    {"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
     "resource": {"resourceType": "Patient", "name": [{"family": "Okafor"}], "gender": "female",
                  "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9992530820"}]},
     "request": {"method": "POST", "url": "Patient"}},
    {"fullUrl": "urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059",
     "resource": {"resourceType": "CarePlan", "status": "active", "intent": "plan",
                  "subject": {"reference": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}},
     "request": {"method": "POST", "url": "CarePlan"}}
  ]})";

TEST(Transaction, CommitsAllAndRewritesPlaceholders) {
  TestServer server;
  HttpResult r = server.post("/", kTransaction);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.getString("type"), "transaction-response");
  const auto& entries = r.json.find("entry")->items();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].find("response")->getString("status"), "201 Created");
  std::string patientLoc = entries[0].find("response")->getString("location");
  std::string patientRef = patientLoc.substr(0, patientLoc.find("/_history"));
  std::string planLoc = entries[1].find("response")->getString("location");
  HttpResult plan = server.get("/" + planLoc.substr(0, planLoc.find("/_history")));
  ASSERT_EQ(plan.status, 200);
  EXPECT_EQ(plan.json.find("subject")->getString("reference"), patientRef);
  // History tells how each version was made: the transaction's POST is a POST.
  HttpResult history = server.get("/" + patientRef + "/_history");
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(history.json.find("entry")->items()[0].find("request")->getString("method"), "POST");
}

TEST(Transaction, OneBadEntryCommitsNothing) {
  TestServer server;
  std::string bad = kTransaction;
  bad.replace(bad.find("\"status\": \"active\""), 18, "\"status\": \"bogus\"");
  HttpResult r = server.post("/", bad);
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
  const json::Value* expr = r.json.find("issue")->items()[0].find("expression");
  ASSERT_NE(expr, nullptr);
  EXPECT_EQ(expr->items()[0].text().rfind("Bundle.entry[1]", 0), 0u) << expr->items()[0].text();
  HttpResult patients = server.get("/Patient?_summary=count");
  EXPECT_EQ(patients.json.find("total")->text(), "0");
}

TEST(Transaction, FailureInStoreRollsBackEarlierEntries) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/p1", R"({"resourceType":"Patient","id":"p1"})").status, 201);
  std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","name":[{"family":"New"}]},"request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Patient","id":"p1","gender":"male"},
     "request":{"method":"PUT","url":"Patient/p1","ifMatch":"W/\"7\""}}]})";
  HttpResult r = server.post("/", tx);
  EXPECT_EQ(r.status, 412) << r.body;
  EXPECT_EQ(server.get("/Patient?family=New&_summary=count").json.find("total")->text(), "0");
}

TEST(Transaction, UnresolvedPlaceholderAndConditionalCreate) {
  TestServer server;
  std::string dangling = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"CarePlan","status":"active","intent":"plan",
                 "subject":{"reference":"urn:uuid:00000000-0000-4000-8000-000000000000"}},
     "request":{"method":"POST","url":"CarePlan"}}]})";
  EXPECT_EQ(server.post("/", dangling).status, 400);
  std::string conditional = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111",
     "resource":{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990810117"}]},
     "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=https://fhir.nhs.uk/Id/nhs-number|9990810117"}},
    {"resource":{"resourceType":"CarePlan","status":"active","intent":"plan",
                 "subject":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"}},
     "request":{"method":"POST","url":"CarePlan"}}]})";
  ASSERT_EQ(server.post("/", conditional).status, 200);
  ASSERT_EQ(server.post("/", conditional).status, 200);
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "1");
  EXPECT_EQ(server.get("/CarePlan?_summary=count").json.find("total")->text(), "2");
}

TEST(Batch, EachEntryAnsweredOnItsOwn) {
  TestServer server;
  std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[
    {"resource":{"resourceType":"Patient","gender":"female"},"request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Patient","gender":"nonsense"},"request":{"method":"POST","url":"Patient"}},
    {"request":{"method":"GET","url":"Patient/missing"}},
    {"request":{"method":"GET","url":"Patient?gender=female"}},
    {"request":{"method":"DELETE","url":"Patient/missing"}}]})";
  HttpResult r = server.post("/", batch);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& e = r.json.find("entry")->items();
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].find("response")->getString("status"), "201");
  EXPECT_FALSE(e[0].find("response")->getString("lastModified").empty());
  EXPECT_EQ(e[4].find("resource"), nullptr);
  EXPECT_NE(e[4].find("response")->find("outcome"), nullptr);
  EXPECT_EQ(e[1].find("response")->getString("status"), "422");
  EXPECT_NE(e[1].find("response")->find("outcome"), nullptr);
  EXPECT_EQ(e[2].find("response")->getString("status"), "404");
  EXPECT_EQ(e[3].find("resource")->getString("type"), "searchset");
}

TEST(Bundle, OtherTypesAndOversizeAreRefused) {
  app::Options o;
  o.maxBundleEntries = 2;
  TestServer server(o);
  EXPECT_EQ(server.post("/", R"({"resourceType":"Bundle","type":"collection"})").status, 400);
  std::string three = R"({"resourceType":"Bundle","type":"batch","entry":[
    {"request":{"method":"GET","url":"Patient"}},{"request":{"method":"GET","url":"Patient"}},
    {"request":{"method":"GET","url":"Patient"}}]})";
  EXPECT_EQ(server.post("/", three).status, 413);
}

}  // namespace
}  // namespace acp::testing

namespace acp::testing {
namespace {

TEST(Transaction, PlaceholdersInUrisNarrativeAndConditionalReferences) {
  TestServer server;
  ASSERT_EQ(server.put("/Organization/gp", R"({"resourceType":"Organization","id":"gp",
      "identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"X81001"}]})").status, 201);
  std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000001",
     "resource":{"resourceType":"Patient","gender":"female",
       "generalPractitioner":[{"reference":"Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|X81001"}]},
     "request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"CarePlan","status":"active","intent":"plan",
       "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"urn:uuid:aaaaaaaa-0000-4000-8000-000000000001\">patient</a></div>"},
       "extension":[{"url":"https://example.org/source","valueUri":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"}],
       "subject":{"reference":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"}},
     "request":{"method":"POST","url":"CarePlan"}}]})";
  HttpResult r = server.post("/", tx);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string patientLoc = r.json.find("entry")->items()[0].find("response")->getString("location");
  std::string patientRef = patientLoc.substr(0, patientLoc.find("/_history"));
  std::string planLoc = r.json.find("entry")->items()[1].find("response")->getString("location");
  HttpResult plan = server.get("/" + planLoc.substr(0, planLoc.find("/_history")));
  EXPECT_EQ(plan.json.find("extension")->items()[0].getString("valueUri"), patientRef);
  EXPECT_NE(plan.json.find("text")->getString("div").find("href=\"" + patientRef + "\""), std::string::npos);
  HttpResult patient = server.get("/" + patientRef);
  EXPECT_EQ(patient.json.find("generalPractitioner")->items()[0].getString("reference"), "Organization/gp");
  // A conditional reference that matches nothing fails the whole transaction.
  std::string dangling = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","generalPractitioner":[{"reference":"Organization?identifier=urn:x|none"}]},
     "request":{"method":"POST","url":"Patient"}}]})";
  EXPECT_EQ(server.post("/", dangling).status, 412);
}

TEST(Transaction, TwoEntriesOnOneResourceAreRefusedEvenWhenConditional) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/pput1", R"({"resourceType":"Patient","id":"pput1"})").status, 201);
  std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"request":{"method":"DELETE","url":"Patient/pput1"}},
    {"resource":{"resourceType":"Patient","gender":"male"},"request":{"method":"PUT","url":"Patient?_id=pput1"}}]})";
  HttpResult r = server.post("/", tx);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.errorCode(), "bundle.duplicate-target");
  EXPECT_EQ(server.get("/Patient/pput1").header("etag"), "W/\"1\"");
}

}  // namespace
}  // namespace acp::testing
