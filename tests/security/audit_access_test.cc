// The audit trail over REST (docs/security.md, "Audit"): every access leaves an AuditEvent,
// only the privacy officer reads them, and no client writes them.
#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

TEST(AuditAccess, TheTrailIsThePrivacyOfficersAndNobodyWritesIt) {
  SecureGateway g;
  for (const char* client : {"urgent", "hospice", "operator"}) {  // each with the scope
    HttpResult r = g.get(client, "/AuditEvent");
    EXPECT_EQ(r.status, 403) << client << ": " << r.body;
    EXPECT_EQ(r.errorCode(), "auth.role") << client;
  }
  const std::string forged =
      R"({"resourceType":"AuditEvent","type":{"system":"http://dicom.nema.org/resources/)"
      R"(ontology/DCM","code":"110110"},"recorded":"2026-11-01T00:00:00Z",)"
      R"("agent":[{"requestor":true}],"source":{"observer":{"display":"forged"}}})";
  for (const char* client : {"community", "hospice"}) {
    HttpResult r = g.client(client, "POST", "/AuditEvent", forged);
    EXPECT_EQ(r.status, 403) << client << ": " << r.body;
  }
  EXPECT_EQ(g.get("privacy", "/AuditEvent").status, 200);
}

TEST(AuditAccess, AReadAndARefusalAreAudited) {
  SecureGateway g;
  World w = loadWorld(g);
  ASSERT_EQ(g.get("gp1", "/Patient/" + w.child).status, 200);
  ASSERT_EQ(g.get("gp2", "/Patient/" + w.child).status, 404);  // a refusal, as not found
  HttpResult read = g.get("privacy", "/AuditEvent?patient=Patient/" + w.child + "&agent=gp1");
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_FALSE(resourcesOf(read).empty()) << read.body;
  HttpResult refused = g.get("privacy", "/AuditEvent?agent=gp2&outcome=4");
  EXPECT_EQ(refused.status, 200) << refused.body;
  EXPECT_FALSE(resourcesOf(refused).empty()) << refused.body;
}

}  // namespace
}  // namespace acp::testing::security
