// The clinician view (GET /view/patient) under the API's access rules, with real tokens: the
// child's GP reads the page; another practice gets the page a missing child gets; urgent care
// reaches the child only by breaking glass, which the page says; a plan the family has not
// consented to share is named with whom to call, never shown; every view is audited.
#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

const std::string kView = std::string("/view/patient?nhs=") + kChildNhs;
const char* const kReason = "Ambulance crew at the home: child in respiratory arrest";

// The hospice sample again as a later version, without consent to share.
std::string hospiceWithoutConsent() {
  std::string doc = hospiceSample();
  replaceOnce(doc, "\"given\": true", "\"given\": false");
  replaceOnce(doc, "\"version\": 3", "\"version\": 4");
  return doc;
}

TEST(ViewAccess, TheChildsPracticeReadsThePageAnotherPracticeGetsNotFound) {
  SecureGateway g;
  World w = loadWorld(g);
  HttpResult own = g.get("gp1", kView);
  ASSERT_EQ(own.status, 200) << own.body.substr(0, 300);
  EXPECT_NE(own.body.find("999 253 0820"), std::string::npos);
  EXPECT_NE(own.body.find("id=\"resuscitation\""), std::string::npos);
  HttpResult other = g.get("gp2", kView);
  HttpResult missing = g.get("gp2", "/view/patient?nhs=9991215271");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body, missing.body) << "no sign that the child exists";
  EXPECT_EQ(other.body.find("999 253 0820"), std::string::npos);
  EXPECT_EQ(g.get("gp2", "/view/patient/" + w.child).status, 404);
  // Without a token: a page saying so.
  HttpResult anonymous = g.as("", "GET", kView, "", {});
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_NE(anonymous.header("content-type").find("text/html"), std::string::npos);
  // The stylesheet holds no patient data: served without a token (a page's first request
  // brings the token; the browser fetches the stylesheet on its own).
  EXPECT_EQ(g.as("", "GET", "/view/assets/view.css", "", {}).status, 200);
}

TEST(ViewAccess, UrgentCareBreaksGlassAndThePageSaysSo) {
  SecureGateway g;
  World w = loadWorld(g);
  const std::string token = g.token("urgent");
  EXPECT_EQ(g.as(token, "GET", kView, "", {}).status, 404);
  HttpResult page = g.as(token, "GET", kView, "",
                         {{"X-Purpose-Of-Use", "ETREAT"}, {"X-Break-Glass-Reason", kReason}});
  ASSERT_EQ(page.status, 200) << page.body.substr(0, 300);
  EXPECT_NE(page.body.find("Emergency access"), std::string::npos);
  EXPECT_NE(page.body.find("respiratory arrest"), std::string::npos);
  // The privacy officer finds the view (audited as the $acp-summary it shows) among the
  // break-glass accesses, with the reason: the only such access in this test.
  HttpResult report = g.get("privacy", "/AuditEvent?purpose=ETREAT&_count=50");
  ASSERT_EQ(report.status, 200);
  ASSERT_EQ(resourcesOf(report).size(), 1u) << report.body.substr(0, 1000);
  std::string event = json::write(resourcesOf(report)[0]);
  EXPECT_NE(event.find("$acp-summary"), std::string::npos) << event;
  EXPECT_NE(event.find("respiratory arrest"), std::string::npos);
  EXPECT_NE(event.find("Patient/" + w.child), std::string::npos);
}

TEST(ViewAccess, APlanNotSharedIsNamedNeverShown) {
  SecureGateway g;
  World w = loadWorld(g);
  ASSERT_EQ(g.pushHospice(hospiceWithoutConsent()).status, 200);
  HttpResult gp = g.get("gp1", kView);
  ASSERT_EQ(gp.status, 200);
  EXPECT_NE(gp.body.find("Plans not shared with you"), std::string::npos);
  EXPECT_NE(gp.body.find("8WB01"), std::string::npos);
  EXPECT_EQ(gp.body.find("Call hospice 24h line first"), std::string::npos)
      << "none of the withheld plan's content";
  HttpResult hospice = g.get("hospice", kView);
  ASSERT_EQ(hospice.status, 200);
  EXPECT_EQ(hospice.body.find("Plans not shared with you"), std::string::npos)
      << "the hospice reads its own plan";
  EXPECT_NE(hospice.body.find("Call hospice 24h line first"), std::string::npos);
}

}  // namespace
}  // namespace acp::testing::security
