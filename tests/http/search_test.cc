// Search over HTTP: the GP systems' queries, paging, includes, sorting, totals.
#include <gtest/gtest.h>

#include <set>

#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string patient(const std::string& id, const std::string& nhs, const std::string& family,
                    const std::string& birthDate) {
  return "{\"resourceType\":\"Patient\",\"id\":\"" + id +
         "\",\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/nhs-number\",\"value\":\"" + nhs +
         "\"}],\"name\":[{\"family\":\"" + family + "\",\"given\":[\"Sam\"]}],\"gender\":\"male\","
         "\"birthDate\":\"" + birthDate + "\"}";
}

std::string carePlan(const std::string& id, const std::string& patientId, const std::string& status) {
  return "{\"resourceType\":\"CarePlan\",\"id\":\"" + id + "\",\"status\":\"" + status +
         "\",\"intent\":\"plan\",\"category\":[{\"coding\":[{\"system\":\"http://snomed.info/sct\","
         "\"code\":\"736366004\"}]}],\"subject\":{\"reference\":\"Patient/" + patientId +
         "\"},\"period\":{\"start\":\"2026-01-10\"}}";
}

std::vector<std::string> ids(const HttpResult& r, const std::string& mode = "match") {
  std::vector<std::string> out;
  const json::Value* entries = r.json.find("entry");
  if (!entries) return out;
  for (const auto& e : entries->items())
    if (e.find("search")->getString("mode") == mode)
      out.push_back(e.find("resource")->getString("id"));
  return out;
}

std::string nextLink(const HttpResult& r) {
  for (const auto& l : r.json.find("link")->items())
    if (l.getString("relation") == "next") return l.getString("url");
  return "";
}

class Search : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(server.put("/Patient/p1", patient("p1", "9992530820", "Okafor", "2016-03-14")).status, 201);
    ASSERT_EQ(server.put("/Patient/p2", patient("p2", "9990810117", "Oakley", "2019-07-01")).status, 201);
    ASSERT_EQ(server.put("/CarePlan/c1", carePlan("c1", "p1", "active")).status, 201);
    ASSERT_EQ(server.put("/CarePlan/c2", carePlan("c2", "p1", "revoked")).status, 201);
    ASSERT_EQ(server.put("/CarePlan/c3", carePlan("c3", "p2", "active")).status, 201);
  }
  TestServer server;
};

TEST_F(Search, CarePlansByNhsNumberWithPatientIncluded) {
  HttpResult r = server.get(
      "/CarePlan?subject:Patient.identifier=https://fhir.nhs.uk/Id/nhs-number%7C9992530820"
      "&status=active&_include=CarePlan:subject");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids(r), std::vector<std::string>{"c1"});
  EXPECT_EQ(ids(r, "include"), std::vector<std::string>{"p1"});
  HttpResult chained = server.get(
      "/CarePlan?patient.identifier=https://fhir.nhs.uk/Id/nhs-number%7C9992530820");
  ASSERT_EQ(chained.status, 200) << chained.body;
  std::vector<std::string> got = ids(chained);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), (std::set<std::string>{"c1", "c2"}));
}

// The most values a search may hold run on the store, for every kind of parameter; one more is
// a 400 too-costly (before this limit, 600 values were a 500: SQLite's expression depth).
TEST_F(Search, AsManyValuesAsAllowedRunAndMoreAreTooCostly) {
  auto values = [](int n, const std::string& prefix, const std::string& last) {
    std::string v;
    for (int i = 0; i < n - 1; ++i) v += prefix + std::to_string(i) + ",";
    return v + last;
  };
  const std::string nhs = "https://fhir.nhs.uk/Id/nhs-number|";
  struct Case { std::string path; std::string param; std::string prefix; std::string last; std::string expect; };
  for (const Case& c : std::vector<Case>{
           {"/Patient", "family", "nobody", "Okafor", "p1"},
           {"/Patient", "identifier", nhs + "99900", nhs + "9992530820", "p1"},
           {"/Patient", "birthdate", "eq1990-01-", "2016-03-14", "p1"},
           {"/CarePlan", "subject", "Patient/x", "Patient/p2", "c3"},
           {"/CarePlan", "subject:Patient.family", "nobody", "Oakley", "c3"},
           {"/CarePlan", "patient.identifier", nhs + "99900", nhs + "9990810117", "c3"}}) {
    SCOPED_TRACE(c.param);
    std::string prefix = c.prefix;
    // Dates need two digits for the day: 1990-01-0 .. 1990-01-99 would not parse; use months.
    std::string list;
    if (c.param == "birthdate") {
      for (int i = 0; i < 99; ++i) list += "eq" + std::to_string(1900 + i) + "-01-01,";
      list += c.last;
    } else {
      list = values(100, prefix, c.last);
    }
    HttpResult r = server.post(c.path + "/_search", c.param + "=" + list,
                               {{"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
    EXPECT_EQ(ids(r), std::vector<std::string>{c.expect});
    HttpResult more = server.post(c.path + "/_search", c.param + "=x," + list,
                                  {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(more.status, 400) << more.body.substr(0, 300);
    EXPECT_EQ(more.errorCode(), "search.too-many-values");
  }
  // The most a whole search may hold runs too: 100 parameters of one value, and 10 of 100.
  std::string body;
  for (int i = 0; i < 99; ++i) body += "family:contains=k" + std::to_string(i) + "&";
  body += "family=Okafor";
  HttpResult wide = server.post("/Patient/_search", body, {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(wide.status, 200) << wide.body.substr(0, 300);
  HttpResult tooWide = server.post("/Patient/_search", body + "&family=x", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(tooWide.status, 400);
  std::string deep;
  for (int p = 0; p < 10; ++p) {
    if (p) deep += "&";
    deep += "family=";
    for (int i = 0; i < 100; ++i) deep += (i ? "," : "") + std::string("Ok") + std::to_string(p * 100 + i);
  }
  HttpResult deepest = server.post("/Patient/_search", deep, {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(deepest.status, 200) << deepest.body.substr(0, 300);
}

TEST_F(Search, PatientByNameAndBirthDate) {
  EXPECT_EQ(ids(server.get("/Patient?family=oak")), std::vector<std::string>{"p2"});
  EXPECT_EQ(ids(server.get("/Patient?family:exact=Okafor")), std::vector<std::string>{"p1"});
  EXPECT_TRUE(ids(server.get("/Patient?family:exact=okafor")).empty());
  EXPECT_EQ(ids(server.get("/Patient?name:contains=kle")), std::vector<std::string>{"p2"});
  EXPECT_EQ(ids(server.get("/Patient?birthdate=2016")), std::vector<std::string>{"p1"});
  EXPECT_EQ(ids(server.get("/Patient?birthdate=ge2019-01-01")), std::vector<std::string>{"p2"});
  EXPECT_EQ(ids(server.get("/Patient?family=Okafor&birthdate=2016-03-14")),
            std::vector<std::string>{"p1"});
  EXPECT_EQ(ids(server.get("/Patient?identifier=9990810117")), std::vector<std::string>{"p2"});
  EXPECT_EQ(ids(server.get("/Patient?_id=p1,p2&_sort=-birthdate")),
            (std::vector<std::string>{"p2", "p1"}));
}

TEST_F(Search, RevincludeTotalAndSummaryCount) {
  HttpResult r = server.get("/Patient?_id=p1&_revinclude=CarePlan:subject");
  ASSERT_EQ(r.status, 200);
  std::vector<std::string> inc = ids(r, "include");
  EXPECT_EQ(std::set<std::string>(inc.begin(), inc.end()), (std::set<std::string>{"c1", "c2"}));
  HttpResult total = server.get("/CarePlan?status=active&_total=accurate");
  ASSERT_NE(total.json.find("total"), nullptr);
  EXPECT_EQ(total.json.find("total")->text(), "2");
  HttpResult count = server.get("/CarePlan?_summary=count");
  EXPECT_EQ(count.json.find("total")->text(), "3");
  EXPECT_EQ(count.json.find("entry"), nullptr);
}

TEST_F(Search, PostSearchEqualsGet) {
  HttpResult r = server.post("/Patient/_search", "family=Okafor",
                             {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids(r), std::vector<std::string>{"p1"});
  EXPECT_EQ(server.post("/Patient/_search", "{}", {{"Content-Type", "application/json"}}).status,
            415);
}

TEST_F(Search, PagingFollowsNextLinks) {
  std::vector<std::string> seen;
  std::string url = "/CarePlan?_count=1";
  for (int guard = 0; guard < 10 && !url.empty(); ++guard) {
    HttpResult page = server.get(url);
    ASSERT_EQ(page.status, 200) << page.body;
    for (const auto& id : ids(page)) seen.push_back(id);
    std::string next = nextLink(page);
    url = next.empty() ? "" : next.substr(server.base().size());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"c1", "c2", "c3"}));
}

TEST_F(Search, BadValuesAre400) {
  EXPECT_EQ(server.get("/Patient?birthdate=2016-13").status, 400);
  EXPECT_EQ(server.get("/Patient?_count=abc").status, 400);
  EXPECT_EQ(server.get("/Patient?_sort=nonsense").status, 400);
  EXPECT_EQ(server.get("/CarePlan?_cursor=not-a-cursor").status, 400);
}

}  // namespace
}  // namespace acp::testing
