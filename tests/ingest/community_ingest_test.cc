// POST /$ingest/community: the community trust's XML export through the streaming parser.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string example() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/community/samples/example.xml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResult push(TestServer& server, const std::string& body) {
  return server.request("POST", "/$ingest/community", body, {{"Content-Type", "application/xml"}});
}

std::vector<std::pair<std::string, std::string>> outcomes(const HttpResult& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const json::Value& p : r.json.find("parameter")->items()) {
    if (p.getString("name") != "record") continue;
    std::string id, outcome;
    for (const json::Value& part : p.find("part")->items()) {
      if (part.getString("name") == "id") id = part.getString("valueString");
      if (part.getString("name") == "outcome") outcome = part.getString("valueCode");
    }
    out.emplace_back(id, outcome);
  }
  return out;
}

TEST(CommunityIngest, TheExampleIsStoredOnceAndFoundByNhsNumber) {
  TestServer server;
  HttpResult r = push(server, example());
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  ASSERT_EQ(outcomes(r).size(), 1u);
  EXPECT_EQ(outcomes(r)[0], std::make_pair(std::string("C-77120"), std::string("stored")));
  // The visit's free-text note has nowhere to go in an Encounter: said, not dropped silently.
  EXPECT_NE(r.body.find("community.unused-text"), std::string::npos);
  EXPECT_NE(r.body.find("CommunityExport.Patient[0].Contact[0]"), std::string::npos);
  EXPECT_EQ(outcomes(push(server, example()))[0].second, "unchanged");
  HttpResult plans = server.get(
      "/CarePlan?subject:Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820");
  ASSERT_EQ(plans.json.find("entry")->items().size(), 1u);
  std::string plan = json::write(*plans.json.find("entry")->items()[0].find("resource"));
  for (const char* expected : {"\"status\":\"active\"", "modified-cpr", "ventilation-non-invasive-only",
                               "preferred-place-of-death-2", "\"code\":\"ccn01\"", "12A3456E",
                               "Goal: Remain at home"})
    EXPECT_NE(plan.find(expected), std::string::npos) << expected;
  EXPECT_EQ(server.get("/Encounter?_summary=count").json.find("total")->text(), "1");
  EXPECT_EQ(server.get("/Consent?_summary=count").json.find("total")->text(), "1");
  EXPECT_EQ(server.get("/CareTeam?_summary=count").json.find("total")->text(), "1");
}

TEST(CommunityIngest, OneBadPatientDoesNotBlockTheOthers) {
  TestServer server;
  std::string doc = example();
  size_t start = doc.find("<Patient ");
  size_t end = doc.find("</Patient>") + 10;
  std::string second = doc.substr(start, end - start);
  second.replace(second.find("C-77120"), 7, "C-77121");
  second.replace(second.find("CP-5512"), 7, "CP-5513");
  second.replace(second.find("V-300145"), 8, "V-300146");
  second.replace(second.find("<Gender>female</Gender>"), 23, "<Gender>robot</Gender>");
  doc.insert(end, second);
  HttpResult r = push(server, doc);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  auto o = outcomes(r);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].second, "stored");
  EXPECT_EQ(o[1], std::make_pair(std::string("C-77121"), std::string("rejected")));
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "1");
}

TEST(CommunityIngest, ADoctypeIsRefusedAndKept) {
  TestServer server;
  std::string doc = example();
  doc.insert(doc.find("<CommunityExport"), "<!DOCTYPE CommunityExport>\n");
  HttpResult r = push(server, doc);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.errorCode(), "community.doctype");
  EXPECT_NE(server.get("/$ingest/failures").body.find("\"community\""), std::string::npos);
}

}  // namespace
}  // namespace acp::testing
