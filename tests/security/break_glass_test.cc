// Break-glass over the real server (docs/security.md): urgent care states an emergency and a
// reason and reaches that one child for a limited time; the grant is a Flag on the child; every
// access under it is audited with purpose ETREAT and the reason, which the privacy officer finds.
#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

const char* const kReason = "Ambulance crew at the home: child in respiratory arrest";

TEST(BreakGlass, UrgentCareReachesTheOneChildItNamesAndThePrivacyOfficerSeesWhy) {
  SecureGateway g;
  World w = loadWorld(g);
  const std::string token = g.token("urgent");
  Headers emergency = {{"X-Purpose-Of-Use", "ETREAT"}, {"X-Break-Glass-Reason", kReason}};

  // Without the emergency stated: refused (as if there were no such child).
  EXPECT_EQ(g.get("urgent", "/Patient/" + w.child).status, 404);
  // With it: the child's plan summary, in full.
  HttpResult summary =
      g.as(token, "GET", "/Patient/" + w.child + "/$acp-summary", "", emergency);
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_NE(summary.body.find("resuscitation"), std::string::npos);
  // For the grant's time, later requests reach the child too (still audited as break-glass);
  // the grant is for this child only.
  EXPECT_EQ(g.get("urgent", "/CarePlan/" + w.hospicePlan).status, 200);
  EXPECT_EQ(g.get("urgent", "/Patient/" + w.otherChild).status, 404);

  // The child's GP practice sees the grant on the record.
  HttpResult flags = g.get("gp1", "/Flag?patient=Patient/" + w.child);
  ASSERT_EQ(flags.status, 200);
  bool flagged = false;
  for (const json::Value& f : resourcesOf(flags))
    flagged = flagged || json::write(f).find("break-glass") != std::string::npos;
  EXPECT_TRUE(flagged) << flags.body;

  // The privacy officer's report: the break-glass accesses, with the reason.
  HttpResult report = g.get("privacy", "/AuditEvent?purpose=ETREAT&_count=50");
  ASSERT_EQ(report.status, 200) << report.body;
  size_t events = 0;
  for (const json::Value& e : resourcesOf(report)) {
    ++events;
    EXPECT_NE(json::write(e).find("respiratory arrest"), std::string::npos);
    EXPECT_NE(json::write(e).find("X82001"), std::string::npos);
  }
  EXPECT_GE(events, 2u);  // the summary and the later plan read
  // Nobody else reads the trail.
  EXPECT_EQ(g.get("gp1", "/AuditEvent?purpose=ETREAT").status, 403);
}

TEST(BreakGlass, OnlyUrgentCareWithAReasonMayBreakGlass) {
  SecureGateway g;
  World w = loadWorld(g);
  HttpResult gp = g.as(g.token("gp2"), "GET", "/Patient/" + w.child, "",
                       {{"X-Purpose-Of-Use", "ETREAT"}, {"X-Break-Glass-Reason", kReason}});
  EXPECT_EQ(gp.status, 403);
  EXPECT_EQ(gp.errorCode(), "auth.break-glass-role");
  HttpResult noReason =
      g.as(g.token("urgent"), "GET", "/Patient/" + w.child, "", {{"X-Purpose-Of-Use", "ETREAT"}});
  EXPECT_EQ(noReason.status, 400);
  EXPECT_EQ(noReason.errorCode(), "auth.break-glass-reason");
  HttpResult oddPurpose =
      g.as(g.token("urgent"), "GET", "/Patient/" + w.child, "", {{"X-Purpose-Of-Use", "HMARKT"}});
  EXPECT_EQ(oddPurpose.status, 400);
  // None of these made a grant.
  EXPECT_EQ(g.get("urgent", "/Patient/" + w.child).status, 404);
}

}  // namespace
}  // namespace acp::testing::security
