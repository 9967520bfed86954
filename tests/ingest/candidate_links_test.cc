// Candidate links: a child seen by two sources without an NHS number is never joined on
// demographics; a near match is proposed for review, and a reviewer confirms (one Patient,
// the other replaced, everything re-pointed) or rejects it (never proposed again).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/ingest/fhir_reading.h"
#include "tests/ingest/hl7_messages.h"

namespace acp::testing {
namespace {

using namespace hl7;

std::string hospiceWithoutNhsNumber() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  replace(doc, "\"nhsNumber\": \"999 253 0820\", \"nhsNumberVerified\": true,", "");
  return doc;
}

std::vector<json::Value> entries(TestServer& server, const std::string& query) {
  HttpResult r = server.get(query);
  std::vector<json::Value> out;
  if (const json::Value* e = r.json.find("entry"))
    for (const json::Value& x : e->items())
      if (x.find("resource")->getString("resourceType") != "OperationOutcome")
        out.push_back(*x.find("resource"));
  return out;
}

// The links listed: (id, status, the two Patient references).
struct Link {
  std::string id, status;
  std::vector<std::string> patients;
};
std::vector<Link> links(TestServer& server, const std::string& query = "") {
  HttpResult r = server.get("/$candidate-links" + query);
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<Link> out;
  if (const json::Value* params = r.json.find("parameter"))
    for (const json::Value& p : params->items()) {
      Link l;
      for (const json::Value& part : p.find("part")->items()) {
        const std::string& n = part.getString("name");
        if (n == "id") l.id = part.find("valueInteger")->text();
        if (n == "status") l.status = part.getString("valueCode");
        if (n == "patient") l.patients.push_back(part.find("valueReference")->getString("reference"));
      }
      out.push_back(l);
    }
  return out;
}

std::vector<std::string> flagStatuses(TestServer& server, const std::string& patientRef) {
  std::vector<std::string> out;
  for (const json::Value& f : entries(server, "/Flag?patient=" + patientRef))
    if (json::write(*f.find("code")).find("possible-duplicate") != std::string::npos)
      out.push_back(f.getString("status"));
  return out;
}

// Both sources' records of Amelia Hartley, born 14/03/2015, neither with an NHS number.
void sendBoth(TestServer& server, std::vector<std::string>* codes = nullptr) {
  HttpResult h = server.request("POST", "/$ingest/hospice", hospiceWithoutNhsNumber(),
                                {{"Content-Type", "application/json"}});
  ASSERT_EQ(h.status, 200) << h.body;
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001")), codes), "stored");
}

TEST(CandidateLinks, ANearMatchIsProposedForReviewAndNeverMerged) {
  TestServer server;
  std::vector<std::string> codes;
  sendBoth(server, &codes);
  EXPECT_TRUE(has(codes, "ingest.possible-duplicate"));
  EXPECT_EQ(entries(server, "/Patient?family=Hartley&birthdate=2015-03-14").size(), 2u);
  auto open = links(server, "?status=open");
  ASSERT_EQ(open.size(), 1u);
  ASSERT_EQ(open[0].patients.size(), 2u);
  for (const std::string& p : open[0].patients)
    EXPECT_EQ(flagStatuses(server, p), std::vector<std::string>{"active"}) << p;
  // More news about both: the known pair is not proposed twice.
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", hospiceWithoutNhsNumber(),
                           {{"Content-Type", "application/json"}})
                .status,
            200);
  ASSERT_EQ(outcomeOf(send(server, admission("PAS9", "M123456", "S009", "", "20261004090000"))),
            "stored");
  EXPECT_EQ(links(server).size(), 1u);
}

TEST(CandidateLinks, ConfirmingMakesOnePatientAndMovesEverything) {
  TestServer server;
  sendBoth(server);
  auto open = links(server, "?status=open");
  ASSERT_EQ(open.size(), 1u);
  HttpResult r = server.request("POST", "/$candidate-links/" + open[0].id + "/$confirm", "",
                                {{"Content-Type", "application/fhir+json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string survivor, replaced;
  for (const json::Value& p : r.json.find("parameter")->items()) {
    if (p.getString("name") == "survivor") survivor = p.find("valueReference")->getString("reference");
    if (p.getString("name") == "replaced") replaced = p.find("valueReference")->getString("reference");
  }
  ASSERT_FALSE(survivor.empty());
  ASSERT_FALSE(replaced.empty());
  // One child now: every encounter and plan on the survivor, the other kept and linked.
  EXPECT_EQ(entries(server, "/Encounter?subject=" + replaced).size(), 0u);
  EXPECT_EQ(entries(server, "/Encounter?subject=" + survivor).size(),
            entries(server, "/Encounter").size());
  EXPECT_FALSE(entries(server, "/CarePlan?subject=" + survivor).empty());
  HttpResult old = server.get("/" + replaced);
  ASSERT_EQ(old.status, 200);
  EXPECT_EQ(old.json.find("active")->text(), "false");
  EXPECT_NE(json::write(*old.json.find("link")).find(survivor), std::string::npos);
  HttpResult now = server.get("/" + survivor);
  std::string ids = json::write(*now.json.find("identifier"));
  EXPECT_NE(ids.find("WB-004471"), std::string::npos);  // the hospice's number
  EXPECT_NE(ids.find("M123456"), std::string::npos);    // and the hospital's
  // The review is recorded, the Flags closed, the link decided once.
  EXPECT_EQ(links(server, "?status=confirmed").size(), 1u);
  for (const std::string& s : flagStatuses(server, survivor)) EXPECT_EQ(s, "inactive");
  EXPECT_EQ(server.request("POST", "/$candidate-links/" + open[0].id + "/$confirm", "",
                           {{"Content-Type", "application/fhir+json"}})
                .status,
            409);
  // Later records from either source land on the one Patient.
  ASSERT_EQ(outcomeOf(send(server, admission("PAS2", "M123456", "S002", "", "20261003090000"))),
            "stored");
  EXPECT_EQ(entries(server, "/Encounter?subject=" + replaced).size(), 0u);
}

TEST(CandidateLinks, RejectingKeepsTwoChildrenAndClosesTheFlags) {
  TestServer server;
  sendBoth(server);
  auto open = links(server, "?status=open");
  ASSERT_EQ(open.size(), 1u);
  HttpResult r = server.request("POST", "/$candidate-links/" + open[0].id + "/$reject", "",
                                {{"Content-Type", "application/fhir+json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(entries(server, "/Patient?family=Hartley&birthdate=2015-03-14").size(), 2u);
  for (const std::string& p : open[0].patients)
    EXPECT_EQ(flagStatuses(server, p), std::vector<std::string>{"inactive"}) << p;
  EXPECT_EQ(links(server, "?status=rejected").size(), 1u);
  EXPECT_TRUE(links(server, "?status=open").empty());
}

TEST(CandidateLinks, UnknownLinksAndBadRequests) {
  TestServer server;
  EXPECT_EQ(server.request("POST", "/$candidate-links/99/$confirm", "",
                           {{"Content-Type", "application/fhir+json"}})
                .status,
            404);
  EXPECT_EQ(server.request("POST", "/$candidate-links/abc/$reject", "",
                           {{"Content-Type", "application/fhir+json"}})
                .status,
            404);
  EXPECT_EQ(server.get("/$candidate-links?status=maybe").status, 400);
  EXPECT_EQ(server.get("/$candidate-links/1/$confirm").status, 405);
  EXPECT_TRUE(links(server).empty());
}

}  // namespace
}  // namespace acp::testing
