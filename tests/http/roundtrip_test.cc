// Everything the server writes survives JSON → XML → JSON: the demo data set is loaded, and
// every stored version is fetched in both formats and compared.
#include <gtest/gtest.h>

#include "gateway/model/xml_format.h"
#include "tests/support/model_fixture.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

TEST(RoundTrip, EveryResourceTheServerWroteAsXmlAndBack) {
  app::Options o;
  o.demoBundle = std::string(ACP_SOURCE_DIR) + "/docs/demo/bundle.json";
  TestServer server(o);
  HttpResult history = server.get("/_history?_count=1000");
  ASSERT_EQ(history.status, 200);
  const json::Value* entries = history.json.find("entry");
  ASSERT_NE(entries, nullptr);
  ASSERT_GE(entries->items().size(), 8u);
  for (const auto& e : entries->items()) {
    const json::Value* res = e.find("resource");
    ASSERT_NE(res, nullptr);
    std::string path = "/" + res->getString("resourceType") + "/" + res->getString("id") +
                       "/_history/" + res->find("meta")->getString("versionId");
    HttpResult asJson = server.get(path);
    HttpResult asXml = server.get(path, {{"Accept", "application/fhir+xml"}});
    ASSERT_EQ(asXml.status, 200) << path;
    json::Value back;
    IssueList issues;
    ASSERT_TRUE(model::xmlToJson(r4(), asXml.body, back, issues))
        << path << ": " << json::write(issues.toOperationOutcome());
    EXPECT_EQ(back, asJson.json) << path;
    // And the XML form is accepted back as a write of the same content (no new version).
    HttpResult put = server.put("/" + res->getString("resourceType") + "/" + res->getString("id"),
                                asXml.body, {{"Content-Type", "application/fhir+xml"}});
    EXPECT_LT(put.status, 300) << path << " " << put.body;
  }
}

TEST(RoundTrip, UkCoreExamplesAreAcceptedAsXmlAndReadBackEqual) {
  TestServer server;
  for (const char* name : {"UKCore-Patient-RichardSmith-Example.xml",
                           "UKCore-Encounter-InpatientEncounter-Example.xml",
                           "UKCore-CarePlan-WellnessPlan-Example.xml"}) {
    std::string xml = readRepoFile(std::string("../shared/fhir/ukcore/") + name);
    ASSERT_FALSE(xml.empty()) << name;
    json::Value parsed;
    IssueList issues;
    ASSERT_TRUE(model::xmlToJson(r4(), xml, parsed, issues)) << name;
    std::string type = parsed.getString("resourceType");
    std::string id = parsed.getString("id");
    HttpResult put = server.put("/" + type + "/" + id, xml, {{"Content-Type", "application/fhir+xml"}});
    ASSERT_EQ(put.status, 201) << name << " " << put.body;
    HttpResult read = server.get("/" + type + "/" + id + "?_format=xml");
    json::Value back;
    ASSERT_TRUE(model::xmlToJson(r4(), read.body, back, issues)) << name;
    back.erase("meta");
    parsed.erase("meta");
    EXPECT_EQ(back, parsed) << name;
  }
}

}  // namespace
}  // namespace acp::testing
