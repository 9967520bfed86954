// Every request leaves an AuditEvent (the security issue's audit), through the real server:
// reads, searches, operations and failures committed before the answer, REST writes in their
// own transaction; /AuditEvent serves the trail (append-only) and $verify-chain checks it.
// Here with gateway.auth.mode=none (the local superuser); who may search the trail with tokens
// is tested in tests/security.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gateway/ingest/person_index.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::vector<json::Value> events(TestServer& server, const std::string& query) {
  HttpResult r = server.get("/AuditEvent" + query);
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<json::Value> out;
  if (const json::Value* e = r.json.find("entry"))
    for (const json::Value& x : e->items()) out.push_back(*x.find("resource"));
  return out;
}

// The interaction, or for an operation its name ("$acp-summary": the second coding).
std::string subtypeOf(const json::Value& event) {
  std::string code;
  for (const json::Value& c : event.find("subtype")->items())
    if (!c.getString("code").empty()) code = c.getString("code");
  return code;
}

std::string sample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AuditTrailHttp, ReadsSearchesWritesOperationsAndFailuresAreEachAudited) {
  TestServer server;
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", sample(), {{"Content-Type", "application/json"}})
                .status,
            200);
  const std::string child = ingest::personIdForNhsNumber("9992530820");
  ASSERT_EQ(server.get("/Patient/" + child).status, 200);
  ASSERT_EQ(server.get("/CarePlan?subject=Patient/" + child).status, 200);
  ASSERT_EQ(server.get("/Patient/" + child + "/$acp-summary").status, 200);
  ASSERT_EQ(server.get("/Patient/no-such-child").status, 404);
  HttpResult created = server.request(
      "POST", "/Organization", R"({"resourceType":"Organization","name":"Castle Street Surgery"})",
      {{"Content-Type", "application/fhir+json"}});
  ASSERT_EQ(created.status, 201);

  auto all = events(server, "?_count=100");
  std::vector<std::string> subtypes;
  for (const json::Value& e : all) subtypes.push_back(subtypeOf(e));
  for (const char* s : {"read", "search-type", "$acp-summary", "create", "$ingest"})
    EXPECT_NE(std::find(subtypes.begin(), subtypes.end(), s), subtypes.end()) << s;
  // The child's events name the child.
  auto aboutChild = events(server, "?patient=Patient/" + child);
  std::vector<std::string> childSubtypes;
  for (const json::Value& e : aboutChild) childSubtypes.push_back(subtypeOf(e));
  for (const char* s : {"read", "search-type", "$acp-summary"})
    EXPECT_NE(std::find(childSubtypes.begin(), childSubtypes.end(), s), childSubtypes.end()) << s;
  // The failed read is there with a failure outcome.
  auto failures = events(server, "?outcome=8");
  ASSERT_FALSE(failures.empty());
  EXPECT_EQ(subtypeOf(failures[0]), "read");
  // The write names what it wrote, versioned.
  bool named = false;
  for (const json::Value& e : all)
    if (subtypeOf(e) == "create")
      named = named || json::write(e).find("Organization/" + created.json.getString("id") +
                                           "/_history/1") != std::string::npos;
  EXPECT_TRUE(named);
}

TEST(AuditTrailHttp, TheTrailIsAppendOnlyAndItsChainVerifies) {
  TestServer server;
  ASSERT_EQ(server.get("/metadata").status, 200);
  ASSERT_EQ(server.get("/Patient?family=Hartley").status, 200);
  HttpResult post = server.request("POST", "/AuditEvent", R"({"resourceType":"AuditEvent"})",
                                   {{"Content-Type", "application/fhir+json"}});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.errorCode(), "audit.append-only");
  EXPECT_EQ(server.request("DELETE", "/AuditEvent/1", "", {}).status, 405);
  HttpResult verify = server.get("/AuditEvent/$verify-chain");
  ASSERT_EQ(verify.status, 200) << verify.body;
  bool intact = false;
  for (const json::Value& p : verify.json.find("parameter")->items())
    if (p.getString("name") == "result") intact = p.find("valueBoolean")->boolean();
  EXPECT_TRUE(intact);
  // One event can be read by id.
  auto all = events(server, "");
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(server.get("/AuditEvent/" + all[0].getString("id")).status, 200);
  // Unknown search parameters are refused, not ignored.
  EXPECT_EQ(server.get("/AuditEvent?nonsense=1").status, 400);
}

}  // namespace
}  // namespace acp::testing
