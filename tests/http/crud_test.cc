// REST interactions end to end: a real Gateway on port 0, a real HTTP client.
#include <gtest/gtest.h>

#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string patientJson() { return readRepoFile("tests/fixtures/patient-amelia.json"); }

std::string withId(std::string json, const std::string& id) {
  return "{\"id\":\"" + id + "\"," + json.substr(json.find('{') + 1);
}

TEST(Crud, CreateReadVreadUpdateDeleteHistory) {
  TestServer server;
  HttpResult created = server.post("/Patient", patientJson());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json.getString("id");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(created.header("etag"), "W/\"1\"");
  EXPECT_EQ(created.header("location"), server.base() + "/Patient/" + id + "/_history/1");
  EXPECT_FALSE(created.header("last-modified").empty());
  EXPECT_EQ(created.json.find("meta")->getString("versionId"), "1");

  HttpResult read = server.get("/Patient/" + id);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.json.getString("birthDate"), "2016-03-14");
  EXPECT_EQ(read.header("etag"), "W/\"1\"");
  EXPECT_EQ(read.header("content-type"), "application/fhir+json;charset=utf-8");

  json::Value updated = read.json;
  updated.set("birthDate", json::Value::makeString("2016-03-15"));
  HttpResult put = server.put("/Patient/" + id, json::write(updated));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.header("etag"), "W/\"2\"");

  HttpResult v1 = server.get("/Patient/" + id + "/_history/1");
  ASSERT_EQ(v1.status, 200);
  EXPECT_EQ(v1.json.getString("birthDate"), "2016-03-14");
  HttpResult v2 = server.get("/Patient/" + id + "/_history/2");
  EXPECT_EQ(v2.json.getString("birthDate"), "2016-03-15");
  EXPECT_EQ(server.get("/Patient/" + id + "/_history/9").status, 404);

  HttpResult deleted = server.del("/Patient/" + id);
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  HttpResult gone = server.get("/Patient/" + id);
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(gone.json.getString("resourceType"), "OperationOutcome");

  HttpResult history = server.get("/Patient/" + id + "/_history");
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(history.json.getString("type"), "history");
  const auto& entries = history.json.find("entry")->items();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].find("request")->getString("method"), "DELETE");
  EXPECT_EQ(entries[2].find("resource")->find("meta")->getString("versionId"), "1");

  // Update after delete brings the resource back as a new version.
  HttpResult back = server.put("/Patient/" + id, json::write(updated));
  EXPECT_EQ(back.status, 201) << back.body;
  EXPECT_EQ(server.get("/Patient/" + id).status, 200);
}

TEST(Crud, UpdateAsCreateWithClientIdAndNoopUpdate) {
  TestServer server;
  HttpResult created = server.put("/Patient/amelia-1", withId(patientJson(), "amelia-1"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.header("location"), server.base() + "/Patient/amelia-1/_history/1");
  HttpResult same = server.put("/Patient/amelia-1", withId(patientJson(), "amelia-1"));
  EXPECT_EQ(same.status, 200);
  EXPECT_EQ(same.header("etag"), "W/\"1\"") << "unchanged content makes no new version";
}

TEST(Crud, IfMatchStaleIs412AndCurrentSucceeds) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/p1", withId(patientJson(), "p1")).status, 201);
  json::Value v = server.get("/Patient/p1").json;
  v.set("gender", json::Value::makeString("other"));
  ASSERT_EQ(server.put("/Patient/p1", json::write(v), {{"If-Match", "W/\"1\""}}).status, 200);
  v.set("gender", json::Value::makeString("unknown"));
  HttpResult stale = server.put("/Patient/p1", json::write(v), {{"If-Match", "W/\"1\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.json.getString("resourceType"), "OperationOutcome");
  EXPECT_EQ(server.put("/Patient/p1", json::write(v), {{"If-Match", "garbage"}}).status, 400);
}

TEST(Crud, IdMismatchAndMissingIdOnUpdate) {
  TestServer server;
  HttpResult mismatch = server.put("/Patient/a", withId(patientJson(), "b"));
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_EQ(mismatch.errorCode(), "http.id-mismatch");
  HttpResult missing = server.put("/Patient/a", patientJson());
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.errorCode(), "http.missing-id");
}

TEST(Crud, PreferReturn) {
  TestServer server;
  HttpResult minimal = server.post("/Patient", patientJson(), {{"Prefer", "return=minimal"}});
  EXPECT_EQ(minimal.status, 201);
  EXPECT_TRUE(minimal.body.empty());
  EXPECT_FALSE(minimal.header("location").empty());
  HttpResult oo = server.post("/Patient", patientJson(), {{"Prefer", "return=OperationOutcome"}});
  EXPECT_EQ(oo.status, 201);
  EXPECT_EQ(oo.json.getString("resourceType"), "OperationOutcome");
}

TEST(Crud, ConditionalCreate) {
  TestServer server;
  std::map<std::string, std::string> h = {
      {"If-None-Exist", "identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820"}};
  HttpResult first = server.post("/Patient", patientJson(), h);
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResult second = server.post("/Patient", patientJson(), h);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.json.getString("id"), first.json.getString("id"));
  // Two matches → 412.
  ASSERT_EQ(server.post("/Patient", patientJson()).status, 201);
  EXPECT_EQ(server.post("/Patient", patientJson(), h).status, 412);
}

TEST(Crud, ConditionalUpdateAndDelete) {
  TestServer server;
  std::string q = "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C9992530820";
  HttpResult created = server.put(q, patientJson());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json.getString("id");
  HttpResult updated = server.put(q, patientJson().replace(patientJson().find("2016-03-14"), 10,
                                                           "2016-03-15"));
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.json.getString("id"), id);
  EXPECT_EQ(updated.header("etag"), "W/\"2\"");
  HttpResult removed = server.del(q);
  EXPECT_EQ(removed.status, 200);
  EXPECT_EQ(server.get("/Patient/" + id).status, 410);
  EXPECT_EQ(server.put("/Patient?bogus=1", patientJson()).status, 400)
      << "unknown criteria are refused, not ignored";
}

TEST(Crud, IfNoneMatchGives304) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/p1", withId(patientJson(), "p1")).status, 201);
  EXPECT_EQ(server.get("/Patient/p1", {{"If-None-Match", "W/\"1\""}}).status, 304);
  EXPECT_EQ(server.get("/Patient/p1", {{"If-None-Match", "W/\"0\""}}).status, 200);
}

TEST(Crud, TypeAndSystemHistory) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/p1", withId(patientJson(), "p1")).status, 201);
  ASSERT_EQ(server.put("/Patient/p2", withId(patientJson(), "p2")).status, 201);
  HttpResult type = server.get("/Patient/_history");
  ASSERT_EQ(type.status, 200);
  EXPECT_EQ(type.json.find("entry")->items().size(), 2u);
  HttpResult system = server.get("/_history?_count=1");
  ASSERT_EQ(system.status, 200);
  EXPECT_EQ(system.json.find("entry")->items().size(), 1u);
  bool hasNext = false;
  for (const auto& l : system.json.find("link")->items()) hasNext |= l.getString("relation") == "next";
  EXPECT_TRUE(hasNext);
}

TEST(Crud, SummaryAndElementsOnRead) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/p1", withId(patientJson(), "p1")).status, 201);
  HttpResult summary = server.get("/Patient/p1?_summary=true");
  ASSERT_EQ(summary.status, 200);
  EXPECT_NE(summary.json.find("name"), nullptr);
  HttpResult elements = server.get("/Patient/p1?_elements=gender");
  ASSERT_EQ(elements.status, 200);
  EXPECT_NE(elements.json.find("gender"), nullptr);
  EXPECT_EQ(elements.json.find("name"), nullptr);
  EXPECT_EQ(server.get("/Patient/p1?_summary=bogus").status, 400);
}

}  // namespace
}  // namespace acp::testing

namespace acp::testing {
namespace {

TEST(Conditional, ResultParametersAreNotCriteria) {
  TestServer server;
  ASSERT_EQ(server.post("/Organization", R"({"resourceType":"Organization","name":"Hospice"})").status, 201);
  HttpResult del = server.del("/Organization?_count=10");
  EXPECT_EQ(del.status, 400);
  EXPECT_EQ(del.errorCode(), "http.invalid-criteria");
  EXPECT_EQ(server.put("/Organization?_sort=name", R"({"resourceType":"Organization","name":"X"})").status, 400);
  EXPECT_EQ(server.post("/Organization", R"({"resourceType":"Organization"})",
                        {{"If-None-Exist", "_summary=count"}}).status, 400);
  EXPECT_EQ(server.get("/Organization?name=Hospice&_summary=count").json.find("total")->text(), "1");
}

TEST(Conditional, AKeyDoesNotOutliveTheMatch) {
  TestServer server;
  std::map<std::string, std::string> h = {{"If-None-Exist", "identifier=urn:x|A"}};
  HttpResult first = server.post("/Patient",
      R"({"resourceType":"Patient","identifier":[{"system":"urn:x","value":"A"}]})", h);
  ASSERT_EQ(first.status, 201);
  std::string id = first.json.getString("id");
  ASSERT_EQ(server.put("/Patient/" + id, R"({"resourceType":"Patient","id":")" + id +
                                             R"(","identifier":[{"system":"urn:x","value":"B"}]})")
                .status,
            200);
  HttpResult again = server.post("/Patient",
      R"({"resourceType":"Patient","identifier":[{"system":"urn:x","value":"A"}]})", h);
  EXPECT_EQ(again.status, 201) << "A no longer matches the first patient";
  EXPECT_NE(again.json.getString("id"), id);
}

TEST(Conditional, IfNoneMatchListsAndStar) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/p1", R"({"resourceType":"Patient","id":"p1"})").status, 201);
  EXPECT_EQ(server.get("/Patient/p1", {{"If-None-Match", "W/\"0\", W/\"1\""}}).status, 304);
  EXPECT_EQ(server.get("/Patient/p1", {{"If-None-Match", "*"}}).status, 304);
  EXPECT_EQ(server.get("/Patient/p1", {{"If-None-Match", "\"1\""}}).status, 304);
}

TEST(Ids, DotSegmentsAreNotIds) {
  TestServer server;
  EXPECT_EQ(server.put("/Patient/..%2E", R"({"resourceType":"Patient","id":"..."})").status, 400);
  EXPECT_EQ(server.get("/Patient/%2E").status, 400);
}

}  // namespace
}  // namespace acp::testing

namespace acp::testing {
namespace {

TEST(History, SinceTakesAnInstantAndAtIsRefused) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/p1", R"({"resourceType":"Patient","id":"p1"})").status, 201);
  HttpResult all = server.get("/Patient/p1/_history?_since=2000-01-01T00:00:00Z");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.json.find("entry")->items().size(), 1u);
  HttpResult none = server.get("/Patient/p1/_history?_since=2999-01-01T00:00:00Z");
  ASSERT_EQ(none.status, 200);
  EXPECT_EQ(none.json.find("entry"), nullptr);
  EXPECT_EQ(server.get("/Patient/p1/_history?_since=2020").status, 400);
  EXPECT_EQ(server.get("/Patient/p1/_history?_at=2020-01-01T00:00:00Z").status, 400);
}

}  // namespace
}  // namespace acp::testing
