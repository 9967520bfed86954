// The clinician view over HTTP (GET /view/patient): a page of the plan the partners' records
// make, with the view's security headers; refusals are pages too; the same audit as the API.
// Access rules with real tokens (relationship, break-glass) are in tests/security.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "gateway/view/assets.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

constexpr const char* kNhs = "9992530820";  // the hospice sample's child

std::string hospiceSample() { return readRepoFile("mappings/hospice/samples/example-1.2.json"); }

void expectViewHeaders(const HttpResult& r) {
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.header("content-security-policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(r.header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(r.header("content-security-policy").find("script-src"), std::string::npos)
      << "no script is allowed (default-src 'none' covers it)";
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(r.header("referrer-policy"), "no-referrer");
}

TEST(ClinicianView, ThePlanOfAChildByNhsNumber) {
  TestServer server;
  ASSERT_EQ(server.post("/$ingest/hospice", hospiceSample(), {{"Content-Type", "application/json"}}).status,
            200);
  // A browser's Accept header: a page, not 406.
  HttpResult r = server.get(std::string("/view/patient?nhs=") + kNhs,
                            {{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  expectViewHeaders(r);
  EXPECT_EQ(r.body.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(r.body.find("999 253 0820"), std::string::npos);
  EXPECT_NE(r.body.find("id=\"resuscitation\""), std::string::npos);
  EXPECT_NE(r.body.find("History of the plans"), std::string::npos);
  EXPECT_NE(r.body.find("8WB01"), std::string::npos) << "the hospice is named as the source";
  // The same page by the Patient's id, and with the number as printed.
  HttpResult patients = server.get(std::string("/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|") + kNhs);
  ASSERT_TRUE(patients.json.find("entry") && !patients.json.find("entry")->items().empty());
  std::string id = patients.json.find("entry")->items()[0].find("resource")->getString("id");
  HttpResult byId = server.get("/view/patient/" + id);
  EXPECT_EQ(byId.status, 200);
  EXPECT_NE(byId.body.find("999 253 0820"), std::string::npos);
  EXPECT_EQ(server.get("/view/patient?nhs=999%20253%200820").status, 200);
  // Styled by the gateway's own stylesheet, on the gateway.
  EXPECT_NE(r.body.find("<link rel=\"stylesheet\" href=\"/view/assets/view.css\">"), std::string::npos);
}

// The stylesheet: the NHS.UK frontend (built in from npm at build time) and the view's own
// rules; nothing loaded from outside (no web fonts from assets.nhs.uk); every icon it uses
// served by the gateway.
TEST(ClinicianView, TheStylesheetAndItsIconsAreServedLocally) {
  TestServer server;
  HttpResult css = server.get("/view/assets/view.css");
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.header("x-content-type-options"), "nosniff");
  EXPECT_NE(css.body.find(".acp-resuscitation__value"), std::string::npos);
  // `make` builds the NHS.UK frontend in; a build with cmake alone (no npm) has the view's
  // own rules only.
  if (!view::hasNhsukStyles()) GTEST_SKIP() << "built without npm nhsuk-frontend";
  EXPECT_NE(css.body.find(".nhsuk-header"), std::string::npos) << "the NHS.UK frontend is built in";
  EXPECT_EQ(css.body.find("sourceMappingURL"), std::string::npos);
  EXPECT_NE(css.body.find(".acp-resuscitation__value"), std::string::npos);
  EXPECT_EQ(css.body.find("@font-face"), std::string::npos);
  EXPECT_EQ(css.body.find("https://"), std::string::npos) << "nothing from outside";
  std::set<std::string> icons;
  std::regex url(R"(url\((images/[^)]+)\))");
  for (auto it = std::sregex_iterator(css.body.begin(), css.body.end(), url); it != std::sregex_iterator(); ++it)
    icons.insert((*it)[1]);
  EXPECT_FALSE(icons.empty());
  for (const std::string& icon : icons) {
    HttpResult r = server.get("/view/assets/" + icon);
    EXPECT_EQ(r.status, 200) << icon;
    EXPECT_EQ(r.header("content-type"), "image/svg+xml") << icon;
  }
  EXPECT_EQ(server.get("/view/assets/nothing.css").status, 404);
  EXPECT_EQ(server.get("/view/assets/../../metadata").status, 404);
  EXPECT_EQ(server.post("/view/assets/view.css", "x").status, 405);
}

TEST(ClinicianView, RefusalsArePagesThatNameNoChild) {
  TestServer server;
  HttpResult missing = server.get("/view/patient?nhs=9991215271");
  EXPECT_EQ(missing.status, 404);
  expectViewHeaders(missing);
  EXPECT_NE(missing.body.find("No shared plan found"), std::string::npos);
  EXPECT_EQ(missing.body.find("9991215271"), std::string::npos);
  HttpResult bad = server.get("/view/patient?nhs=12ab");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_EQ(server.get("/view/patient").status, 400);
  EXPECT_EQ(server.get("/view/nothing").status, 404);
  HttpResult post = server.post("/view/patient?nhs=9991215271", "{}");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET");
}

}  // namespace
}  // namespace acp::testing
