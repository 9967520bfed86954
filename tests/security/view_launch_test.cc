// Launch links of the clinician view (auth/view_launch.h, http/view_launch_endpoint.cc): the
// child's GP system asks for a link with its token; the clinician's browser opens it with
// nothing else, once, for that child only, within minutes; the AuditEvents name the system and
// the clinician; a link opens nothing for a system that may not see the child, and on the
// browsers' listener nothing but links and the view's assets is served.
#include <atomic>

#include "gateway/auth/base64url.h"
#include "tests/support/audit_reading.h"
#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

const std::string kLaunch = std::string("/view/launch?nhs=") + kChildNhs;
const char* const kReason = "Ambulance crew at the home: child in respiratory arrest";

// The link of a POST /view/launch answer ("" when there is none).
std::string linkOf(const HttpResult& r) {
  const json::Value* params = r.json.find("parameter");
  if (!params) return "";
  for (const json::Value& p : params->items())
    if (p.getString("name") == "url") return p.getString("valueUrl");
  return "";
}

// The path of a link, as the listener sees it: after the gateway's base URL (which may hold a
// path of its own, as https://gateway.test/fhir does), else after the host.
std::string pathOf(const std::string& url) {
  if (url.rfind(kBase, 0) == 0) return url.substr(std::string(kBase).size());
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "" : url.substr(slash);
}

// Opens a link as a browser would: no token, no certificate.
HttpResult open(SecureGateway& g, const std::string& path) {
  return g.server().request("GET", path, "", {{"Accept", "text/html"}});
}

TEST(ViewLaunch, TheGpSystemsLinkOpensThePageOnceInABrowser) {
  SecureGateway g;
  World w = loadWorld(g);
  HttpResult made = g.client("gp1", "POST", kLaunch + "&user=555123456789&userName=Dr%20Anna%20Smith");
  ASSERT_EQ(made.status, 200) << made.body;
  EXPECT_EQ(made.json.getString("resourceType"), "Parameters");
  EXPECT_EQ(made.header("cache-control"), "no-store");
  std::string url = linkOf(made);
  ASSERT_EQ(url.rfind(std::string(kBase) + "/view/launch/", 0), 0u) << url;
  EXPECT_EQ(url.find(kChildNhs), std::string::npos) << "no NHS number in the link";
  EXPECT_EQ(url.find("Hartley"), std::string::npos);

  HttpResult page = open(g, pathOf(url));
  ASSERT_EQ(page.status, 200) << page.body.substr(0, 300);
  EXPECT_NE(page.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("999 253 0820"), std::string::npos);
  EXPECT_NE(page.body.find("id=\"resuscitation\""), std::string::npos);
  EXPECT_EQ(page.header("referrer-policy"), "no-referrer");

  HttpResult again = open(g, pathOf(url));
  EXPECT_EQ(again.status, 410);
  EXPECT_NE(again.body.find("cannot be opened again"), std::string::npos) << again.body.substr(0, 500);
  EXPECT_EQ(again.body.find("999 253 0820"), std::string::npos);

  // The privacy officer sees who made the link and who opened it — never the link itself.
  HttpResult made_ = g.get("privacy", "/AuditEvent?subtype=$view-launch");
  ASSERT_EQ(resourcesOf(made_).size(), 1u) << made_.body.substr(0, 500);
  std::string launchEvent = json::write(resourcesOf(made_)[0]);
  EXPECT_NE(launchEvent.find("Patient/" + w.child), std::string::npos);
  HttpResult opened = g.get("privacy", "/AuditEvent?subtype=$acp-summary&_count=50");
  std::string viaLink;
  for (const json::Value& e : resourcesOf(opened)) {
    std::string text = json::write(e);
    if (text.find("555123456789") != std::string::npos) viaLink = text;
  }
  ASSERT_FALSE(viaLink.empty()) << "the opening names the clinician";
  EXPECT_NE(viaLink.find("Dr Anna Smith"), std::string::npos);
  EXPECT_NE(viaLink.find("Patient/" + w.child), std::string::npos);
  EXPECT_NE(viaLink.find("\"X81001\""), std::string::npos) << "as the GP practice's system";
  std::string link = pathOf(url).substr(std::string("/view/launch/").size());
  std::string all = made_.body + opened.body + g.get("privacy", "/AuditEvent?_count=200").body;
  EXPECT_EQ(all.find(link.substr(0, 40)), std::string::npos) << "the link is not in the trail";
  EXPECT_EQ(all.find(link.substr(link.size() - 40)), std::string::npos);
}

TEST(ViewLaunch, NoLinkForAChildTheSystemMayNotSeeAndNothingElseOpens) {
  SecureGateway g;
  World w = loadWorld(g);
  HttpResult other = g.client("gp2", "POST", kLaunch);
  EXPECT_EQ(other.status, 404) << other.body;
  EXPECT_TRUE(linkOf(other).empty());
  EXPECT_EQ(g.client("gp2", "POST", "/view/launch?patient=" + w.child).status, 404);
  EXPECT_EQ(g.server().request("POST", kLaunch).status, 401) << "a system asks with its token";
  EXPECT_EQ(g.client("gp1", "POST", "/view/launch").status, 400);
  EXPECT_EQ(g.client("gp1", "GET", "/view/launch").status, 405);

  std::string path = pathOf(linkOf(g.client("gp1", "POST", kLaunch)));
  ASSERT_FALSE(path.empty());
  // A link changed by one character, an access token, made-up text: no such page.
  std::string tampered = path;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(open(g, tampered).status, 404);
  EXPECT_EQ(open(g, "/view/launch/" + g.token("gp1")).status, 404) << "a token is not a link";
  EXPECT_EQ(open(g, "/view/launch/nothing").status, 404);
  // Nor is a link a token.
  std::string link = path.substr(std::string("/view/launch/").size());
  EXPECT_EQ(g.as(link, "GET", std::string("/view/patient?nhs=") + kChildNhs).status, 401);
  EXPECT_EQ(open(g, path).status, 200) << "the real link still opens (once)";
  // Only GP practices and urgent care make links; the clinician's name is text.
  EXPECT_EQ(g.client("hospice", "POST", kLaunch).status, 403);
  EXPECT_EQ(g.client("gp1", "POST", kLaunch + "&userName=%FF%FE").status, 400);
  EXPECT_EQ(g.client("gp1", "POST", kLaunch + "&userName=Dr%C2%85Smith").status, 400);
  EXPECT_EQ(g.client("gp1", "POST", kLaunch + "&userName=Dr%20Sm%C3%ADth").status, 200);
}

// A link checker's HEAD and a browser's prefetch do not use the link up; what it holds cannot
// be read from it; an opening refused for reuse is audited naming the system and the child.
TEST(ViewLaunch, OnlyTheClinicianOpensItAndItsContentStaysSealed) {
  SecureGateway g;
  World w = loadWorld(g);
  HttpResult made = g.client("urgent", "POST", kLaunch + "&user=555123456789&userName=Dr%20Anna%20Smith",
                             "", {{"X-Purpose-Of-Use", "ETREAT"}, {"X-Break-Glass-Reason", kReason}});
  ASSERT_EQ(made.status, 200) << made.body;
  std::string path = pathOf(linkOf(made));
  std::string link = path.substr(std::string("/view/launch/").size());
  std::string decoded = auth::base64UrlDecode(link).value_or("");
  ASSERT_FALSE(decoded.empty());
  for (const char* plain : {"Anna", "respiratory", "555123456789", "urgent", "TREAT", w.child.c_str()})
    EXPECT_EQ(decoded.find(plain), std::string::npos) << plain << " readable in the link";
  EXPECT_EQ(g.server().request("HEAD", path).status, 405);
  EXPECT_EQ(g.server().request("GET", path, "", {{"Sec-Purpose", "prefetch"}}).status, 503);
  HttpResult page = open(g, path);
  ASSERT_EQ(page.status, 200) << "neither used the link up";
  EXPECT_NE(page.body.find("respiratory arrest"), std::string::npos);
  EXPECT_EQ(open(g, path).status, 410);
  HttpResult report = g.get("privacy", "/AuditEvent?outcome=8&_count=50");
  std::string reuse;
  for (const json::Value& e : resourcesOf(report)) {
    std::string text = json::write(e);
    if (text.find("view.launch-used") != std::string::npos) reuse = text;
  }
  ASSERT_FALSE(reuse.empty()) << report.body.substr(0, 800);
  EXPECT_NE(reuse.find("Patient/" + w.child), std::string::npos);
  EXPECT_NE(reuse.find("555123456789"), std::string::npos) << "the clinician the link named";
  EXPECT_EQ(reuse.find(link.substr(0, 30)), std::string::npos);
  // The link's maker answered in FHIR whatever the path's spelling.
  HttpResult slash = g.client("gp1", "POST", std::string("/view/launch/?nhs=") + kChildNhs);
  EXPECT_EQ(slash.status, 200);
  EXPECT_FALSE(linkOf(slash).empty()) << slash.body.substr(0, 200);
}

TEST(ViewLaunch, UrgentCaresEmergencyLinkSaysSoAndIsAuditedAsBreakGlass) {
  SecureGateway g;
  World w = loadWorld(g);
  EXPECT_EQ(g.client("urgent", "POST", kLaunch).status, 404) << "no relationship, no glass broken";
  HttpResult made = g.client("urgent", "POST", kLaunch, "",
                             {{"X-Purpose-Of-Use", "ETREAT"}, {"X-Break-Glass-Reason", kReason}});
  ASSERT_EQ(made.status, 200) << made.body;
  HttpResult page = open(g, pathOf(linkOf(made)));
  ASSERT_EQ(page.status, 200) << page.body.substr(0, 300);
  EXPECT_NE(page.body.find("Emergency access"), std::string::npos);
  EXPECT_NE(page.body.find("respiratory arrest"), std::string::npos);
  HttpResult report = g.get("privacy", "/AuditEvent?purpose=ETREAT&_count=50");
  EXPECT_EQ(resourcesOf(report).size(), 2u) << "the link made and the link opened";
}

TEST(ViewLaunch, ALinkLivesMinutes) {
  auto offset = std::make_shared<std::atomic<int64_t>>(0);
  app::Options o;
  o.clock = [offset] { return nowMillis() + offset->load(); };
  SecureGateway g(o);
  World w = loadWorld(g);
  std::string path = pathOf(linkOf(g.client("gp1", "POST", kLaunch)));
  ASSERT_FALSE(path.empty());
  offset->store(int64_t{auth::kLaunchSeconds + 60} * 1000);
  HttpResult late = open(g, path);
  EXPECT_EQ(late.status, 410);
  EXPECT_EQ(late.body.find("999 253 0820"), std::string::npos);
  // Audited as what it was: the GP system's link to this child.
  offset->store(0);  // the privacy officer's token request is dated by the real clock
  std::string event;
  for (const json::Value& e : resourcesOf(g.get("privacy", "/AuditEvent?outcome=8&_count=50"))) {
    std::string text = json::write(e);
    if (text.find("view.launch-used") != std::string::npos) event = text;
  }
  ASSERT_FALSE(event.empty());
  EXPECT_NE(event.find("Patient/" + w.child), std::string::npos);
  EXPECT_NE(event.find("\"X81001\""), std::string::npos);
}

// gateway.view.port: a listener for browsers without client certificates, serving links and
// the view's assets only; the links are made under its URL.
TEST(ViewLaunch, TheBrowsersListenerServesLinksAndNothingElse) {
  app::Options o;
  o.viewPort = 0;
  o.viewTls = false;  // loopback
  SecureGateway g(o);
  World w = loadWorld(g);
  int port = g.server().gateway().viewPort();
  ASSERT_GT(port, 0);
  std::string url = linkOf(g.client("gp1", "POST", kLaunch));
  ASSERT_EQ(url.rfind("http://127.0.0.1:" + std::to_string(port) + "/view/launch/", 0), 0u) << url;
  auto onView = [port](const std::string& method, const std::string& path,
                       std::map<std::string, std::string> headers = {}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::HTTPRequest rq(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) rq.set(k, v);
    if (method == "POST") rq.setContentLength(0);
    session.sendRequest(rq);
    Poco::Net::HTTPResponse resp;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(resp), body);
    return std::make_pair(static_cast<int>(resp.getStatus()), body);
  };
  auto page = onView("GET", pathOf(url));
  EXPECT_EQ(page.first, 200) << page.second.substr(0, 300);
  EXPECT_NE(page.second.find("999 253 0820"), std::string::npos);
  EXPECT_EQ(onView("GET", "/view/assets/view.css").first, 200);
  std::string token = g.token("gp1");
  EXPECT_EQ(onView("GET", "/Patient", {{"Authorization", "Bearer " + token}}).first, 404)
      << "the API is not served here, even with a token";
  EXPECT_EQ(onView("GET", std::string("/view/patient?nhs=") + kChildNhs,
                   {{"Authorization", "Bearer " + token}}).first, 404);
  EXPECT_EQ(onView("POST", "/view/launch", {{"Authorization", "Bearer " + token}}).first, 404);
  EXPECT_EQ(onView("GET", "/metadata").first, 404);
  EXPECT_EQ(onView("GET", "/readyz").first, 404) << "the health checks are the API listener's";
  // Made-up links and HEADs from anyone: the listener's rate-limited refusals, not an
  // AuditEvent each.
  EXPECT_EQ(onView("GET", "/view/launch/made-up").first, 404);
  EXPECT_EQ(onView("HEAD", pathOf(url)).first, 405);
  std::vector<json::Value> refusals = refusalsOnceRecorded(g.server(), 2);
  std::string all;
  for (const json::Value& e : refusals) all += json::write(e);
  EXPECT_NE(all.find("view.launch-unknown"), std::string::npos) << all;
  EXPECT_NE(all.find("http.method-not-allowed"), std::string::npos) << all;
  EXPECT_EQ(all.find("made-up"), std::string::npos) << "the link's text is not kept";
}

}  // namespace
}  // namespace acp::testing::security
