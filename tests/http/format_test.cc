// JSON and XML over HTTP: Accept, Content-Type, _format, _pretty; the CapabilityStatement.
#include <gtest/gtest.h>

#include "gateway/model/validator.h"
#include "gateway/model/xml_format.h"
#include "tests/support/model_fixture.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

TEST(Formats, XmlInXmlOutAndJsonOfTheSameResource) {
  TestServer server;
  std::string xml =
      "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"x1\"/><active value=\"true\"/>"
      "<name><family value=\"Okafor\"/><given value=\"Amelia\"/></name>"
      "<gender value=\"female\"/><birthDate value=\"2016-03-14\"/></Patient>";
  HttpResult put = server.put("/Patient/x1", xml,
                              {{"Content-Type", "application/fhir+xml"}, {"Accept", "application/fhir+xml"}});
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(put.header("content-type"), "application/fhir+xml;charset=utf-8");
  EXPECT_NE(put.body.find("<family value=\"Okafor\"/>"), std::string::npos) << put.body;
  HttpResult json = server.get("/Patient/x1");
  EXPECT_EQ(json.json.find("active")->kind(), json::Kind::kBool);
  EXPECT_EQ(json.json.find("name")->items()[0].find("given")->items()[0].text(), "Amelia");
  HttpResult viaFormat = server.get("/Patient/x1?_format=xml");
  EXPECT_EQ(viaFormat.header("content-type"), "application/fhir+xml;charset=utf-8");
  json::Value back;
  IssueList issues;
  ASSERT_TRUE(model::xmlToJson(r4(), viaFormat.body, back, issues));
  EXPECT_EQ(back, json.json);
}

TEST(Formats, AcceptQualityAndPretty) {
  TestServer server;
  HttpResult r = server.get("/metadata", {{"Accept", "application/fhir+xml;q=0.5, application/fhir+json"}});
  EXPECT_EQ(r.header("content-type"), "application/fhir+json;charset=utf-8");
  r = server.get("/metadata", {{"Accept", "text/html, application/xml;q=0.9, */*;q=0.8"}});
  EXPECT_EQ(r.header("content-type"), "application/fhir+xml;charset=utf-8");
  r = server.get("/metadata?_pretty=true");
  EXPECT_NE(r.body.find("\n  \"resourceType\""), std::string::npos);
}

TEST(Formats, SearchBundleInXml) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/x1", R"({"resourceType":"Patient","id":"x1","gender":"male"})").status, 201);
  HttpResult r = server.get("/Patient?_format=xml");
  ASSERT_EQ(r.status, 200);
  json::Value back;
  IssueList issues;
  ASSERT_TRUE(model::xmlToJson(r4(), r.body, back, issues)) << r.body;
  EXPECT_EQ(back.find("entry")->items()[0].find("resource")->getString("gender"), "male");
}

TEST(Metadata, CapabilityStatementIsValidAndListsWhatIsServed) {
  TestServer server;
  HttpResult r = server.get("/metadata");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json.getString("fhirVersion"), "4.0.1");
  model::Validator validator(r4Shared());
  IssueList issues;
  EXPECT_TRUE(validator.validate(r.json, issues, "CapabilityStatement"))
      << json::write(issues.toOperationOutcome());
  const auto& resources = r.json.find("rest")->items()[0].find("resource")->items();
  bool carePlan = false;
  for (const auto& res : resources) {
    if (res.getString("type") != "CarePlan") continue;
    carePlan = true;
    bool patientParam = false;
    for (const auto& p : res.find("searchParam")->items())
      patientParam |= p.getString("name") == "patient" && p.getString("type") == "reference";
    EXPECT_TRUE(patientParam);
    // The profiles partner ingest claims and validates against.
    const json::Value* profiles = res.find("supportedProfile");
    ASSERT_NE(profiles, nullptr);
    EXPECT_EQ(profiles->items()[0].text(), "https://acp-gateway.nhs.uk/StructureDefinition/ACP-CarePlan");
  }
  EXPECT_TRUE(carePlan);
  EXPECT_EQ(resources.size(), 14u);
}

}  // namespace
}  // namespace acp::testing

namespace acp::testing {
namespace {

TEST(Formats, ExplicitZeroQualityIsRespected) {
  TestServer server;
  HttpResult r = server.get("/metadata", {{"Accept", "application/fhir+json;q=0, */*;q=0.1"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/fhir+xml;charset=utf-8");
  r = server.get("/metadata",
                 {{"Accept", "application/fhir+json;q=0, application/fhir+xml;q=0, */*"}});
  EXPECT_EQ(r.status, 406);
}

TEST(Formats, FhirVersionParameter) {
  TestServer server;
  EXPECT_EQ(server.get("/metadata", {{"Accept", "application/fhir+json; fhirVersion=4.0"}}).status,
            200);
  HttpResult r = server.get("/metadata", {{"Accept", "application/fhir+json; fhirVersion=5.0"}});
  EXPECT_EQ(r.status, 406);
  EXPECT_EQ(server.get("/metadata", {{"Accept", "application/fhir+json; fhirVersion=3.0, "
                                                "application/fhir+xml; fhirVersion=4.0"}})
                .header("content-type"),
            "application/fhir+xml;charset=utf-8");
  r = server.request("POST", "/Patient", R"({"resourceType":"Patient"})",
                     {{"Content-Type", "application/fhir+json; fhirVersion=3.0"}});
  EXPECT_EQ(r.status, 415);
  r = server.request("POST", "/Patient", R"({"resourceType":"Patient"})",
                     {{"Content-Type", "application/fhir+json; fhirVersion=4.0"}});
  EXPECT_EQ(r.status, 201);
}

TEST(Preconditions, IfMatchStarNeedsACurrentVersion) {
  TestServer server;
  HttpResult r = server.put("/Patient/s1", R"({"resourceType":"Patient","id":"s1"})",
                            {{"If-Match", "*"}});
  EXPECT_EQ(r.status, 412);
  ASSERT_EQ(server.put("/Patient/s1", R"({"resourceType":"Patient","id":"s1"})").status, 201);
  EXPECT_EQ(server.put("/Patient/s1", R"({"resourceType":"Patient","id":"s1","gender":"male"})",
                       {{"If-Match", "*"}}).status,
            200);
}

}  // namespace
}  // namespace acp::testing
