// GET /healthz (alive) and GET /readyz (store reachable, schema as this build expects, not
// draining), through the real server: answered without credentials and without an
// AuditEvent; /readyz fails with 503 and a reason code when the database's schema is not
// this build's.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/test_server.h"
#include "tests/support/test_store.h"

namespace acp::testing {
namespace {

size_t auditEvents(TestServer& server) {
  HttpResult r = server.get("/AuditEvent?_count=1000");
  EXPECT_EQ(r.status, 200) << r.body;
  const json::Value* e = r.json.find("entry");
  return e ? e->items().size() : 0;
}

TEST(Health, LivenessAndReadinessPassOnAServingGateway) {
  TestServer server;
  for (const char* path : {"/healthz", "/readyz"}) {
    HttpResult r = server.get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    EXPECT_EQ(r.json.getString("status"), "pass") << path;
    EXPECT_EQ(r.headers["content-type"], "application/health+json") << path;
    EXPECT_EQ(r.headers["cache-control"], "no-store") << path;
    EXPECT_EQ(server.request("HEAD", path).status, 200) << path;
    HttpResult post = server.request("POST", path, "{}");
    EXPECT_EQ(post.status, 405) << path;
    EXPECT_EQ(post.headers["allow"], "GET, HEAD") << path;
  }
}

TEST(Health, ProbesLeaveNoAuditEvent) {
  TestServer server;
  size_t before = auditEvents(server);  // this search is itself audited
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(server.get("/healthz").status, 200);
    ASSERT_EQ(server.get("/readyz").status, 200);
  }
  EXPECT_EQ(auditEvents(server), before + 1);
}

TEST(Health, ReadinessFailsWhileTheSchemaIsNotThisBuilds) {
  TestServer server;
  auto side = server.side();
  ASSERT_EQ(side->exec("UPDATE schema_version SET version = version + 1"), "");
  HttpResult r = server.get("/readyz");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.json.getString("status"), "fail");
  EXPECT_EQ(r.json.getString("reason"), "store.schema-mismatch");
  EXPECT_EQ(r.headers["retry-after"], "1");
  EXPECT_EQ(server.get("/healthz").status, 200);  // alive all the same
  ASSERT_EQ(side->exec("UPDATE schema_version SET version = version - 1"), "");
  EXPECT_EQ(server.get("/readyz").status, 200);
}

}  // namespace
}  // namespace acp::testing
