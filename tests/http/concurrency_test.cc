// Races that trusted servers lose (../shared/reference/security.md): concurrent conditional
// creates, concurrent updates with and without If-Match, the same child arriving from three
// sources at once, and paging while writes happen.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

TEST(Concurrency, FiftyIdenticalConditionalCreatesLeaveOne) {
  app::Options o;
  o.writeWorkers = 16;  // many creates in the store at once, racing for the key
  TestServer server(o);
  std::string body =
      R"({"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9991215271"}]})";
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, ok{0}, other{0};
  std::mutex m;
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      HttpResult r = server.post(
          "/Patient", body,
          {{"If-None-Exist", "identifier=https://fhir.nhs.uk/Id/nhs-number|9991215271"}});
      if (r.status == 201) ++created;
      else if (r.status == 200) ++ok;
      else ++other;
      std::lock_guard<std::mutex> lock(m);
      ids.insert(r.json.getString("id"));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(ok.load(), 49);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "1");
}

// Twenty updates of version 1 at once, each with If-Match: W/"1": one wins, the others are
// told their version is stale (412) — none overwrites the winner unseen.
TEST(Concurrency, ConcurrentUpdatesWithIfMatchLetExactlyOneWin) {
  app::Options o;
  o.writeWorkers = 16;
  TestServer server(o);
  ASSERT_EQ(server.put("/Patient/race", R"({"resourceType":"Patient","id":"race"})").status, 201);
  std::vector<std::thread> threads;
  std::mutex m;
  std::map<int, int> statuses;
  std::string winner;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      std::string family = "Writer" + std::to_string(i);
      HttpResult r = server.put("/Patient/race",
                                R"({"resourceType":"Patient","id":"race","name":[{"family":")" +
                                    family + R"("}]})",
                                {{"If-Match", "W/\"1\""}});
      std::lock_guard<std::mutex> lock(m);
      ++statuses[r.status];
      if (r.status == 200) winner = family;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(statuses[200], 1);
  EXPECT_EQ(statuses[412], 19);
  EXPECT_EQ(statuses.size(), 2u);
  HttpResult now = server.get("/Patient/race");
  EXPECT_EQ(now.json.find("meta")->getString("versionId"), "2");
  EXPECT_NE(now.body.find(winner), std::string::npos) << now.body;
}

// Twenty updates at once without If-Match: each is applied in turn — twenty new versions,
// numbered without gaps or repeats, each holding exactly one writer's content (no update lost).
TEST(Concurrency, ConcurrentUpdatesWithoutIfMatchLoseNoVersion) {
  app::Options o;
  o.writeWorkers = 16;
  TestServer server(o);
  ASSERT_EQ(server.put("/Patient/many", R"({"resourceType":"Patient","id":"many"})").status, 201);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      HttpResult r = server.put("/Patient/many",
                                R"({"resourceType":"Patient","id":"many","name":[{"family":"Writer)" +
                                    std::to_string(i) + R"("}]})");
      if (r.status == 200) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);
  HttpResult history = server.get("/Patient/many/_history?_count=100");
  ASSERT_EQ(history.status, 200);
  std::set<std::string> versions;
  std::multiset<std::string> writers;
  for (const json::Value& e : history.json.find("entry")->items()) {
    const json::Value* r = e.find("resource");
    versions.insert(r->find("meta")->getString("versionId"));
    if (const json::Value* names = r->find("name")) writers.insert(names->items()[0].getString("family"));
  }
  EXPECT_EQ(versions.size(), 21u);
  EXPECT_EQ(versions.count("21"), 1u);
  EXPECT_EQ(writers.size(), 20u);
  EXPECT_EQ(std::set<std::string>(writers.begin(), writers.end()).size(), 20u)
      << "each writer's content is one version";
}

std::string fileText(const std::string& relative) {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The hospice export, the community export and the hospital's ReSPECT form for one child,
// pushed at the same moment, ten times over on fresh gateways: always one child (one Patient
// with each source's local number), three CarePlans, never a duplicate.
TEST(Concurrency, TheSameChildFromThreeSourcesAtOnceIsOneChild) {
  const std::string hospice = fileText("mappings/hospice/samples/example-1.2.json");
  const std::string community = fileText("mappings/community/samples/example.xml");
  const std::string form =
      "MSH|^~\\&|EPR|RX8|ACPGW|NORTHSHIRE|20261002113000||ORU^R01^ORU_R01|EPR1|P|2.4|||AL|NE||"
      "UNICODE UTF-8\r"
      "PID|1||9992530820^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss||20150314|F\r"
      "OBR|1||RSP-1|1382601000000107^ReSPECT form^SCT|||20261002113000||||||||||||||||||F\r"
      "OBX|1|CWE|CPR^CPR recommendation^L||450476008^Not for attempted CPR^SCT||||||F\r";
  const std::string byNhs = "https://fhir.nhs.uk/Id/nhs-number|9992530820";
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    app::Options o;
    o.writeWorkers = 4;
    TestServer server(o);
    std::atomic<int> ok{0};
    std::vector<std::thread> senders;
    senders.emplace_back([&] {
      ok += server.post("/$ingest/hospice", hospice, {{"Content-Type", "application/json"}}).status == 200;
    });
    senders.emplace_back([&] {
      ok += server.post("/$ingest/community", community, {{"Content-Type", "application/xml"}}).status == 200;
    });
    senders.emplace_back([&] {
      ok += server.post("/$ingest/hl7v2", form, {{"Content-Type", "application/hl7-v2"}}).status == 200;
    });
    for (auto& t : senders) t.join();
    ASSERT_EQ(ok.load(), 3);
    HttpResult patients = server.get("/Patient?identifier=" + byNhs);
    ASSERT_EQ(patients.status, 200);
    const json::Value* entries = patients.json.find("entry");
    ASSERT_TRUE(entries);
    ASSERT_EQ(entries->items().size(), 1u) << patients.body.substr(0, 2000);
    std::string all = json::write(*entries);
    for (const char* local : {"WB-004471", "C-77120", "M123456"})
      EXPECT_NE(all.find(local), std::string::npos) << local;
    HttpResult plans = server.get("/CarePlan?patient.identifier=" + byNhs);
    ASSERT_EQ(plans.status, 200);
    std::set<std::string> ids;
    for (const json::Value& e : plans.json.find("entry")->items())
      ids.insert(e.find("resource")->getString("id"));
    EXPECT_EQ(ids.size(), 3u) << plans.body.substr(0, 2000);
  }
}

TEST(Concurrency, PagingStaysCorrectWhileWritesHappen) {
  TestServer server;
  for (int i = 0; i < 30; ++i)
    ASSERT_EQ(server.put("/Patient/p" + std::to_string(i),
                         R"({"resourceType":"Patient","id":"p)" + std::to_string(i) +
                             R"(","gender":"female"})")
                  .status,
              201);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int n = 0;
    while (!stop.load() && n < 200) {
      server.put("/Patient/w" + std::to_string(n),
                 R"({"resourceType":"Patient","id":"w)" + std::to_string(n) + R"(","gender":"female"})");
      // Also update existing rows: they must neither vanish nor repeat across pages.
      server.put("/Patient/p" + std::to_string(n % 30),
                 R"({"resourceType":"Patient","id":"p)" + std::to_string(n % 30) +
                     R"(","gender":"female","active":)" + (n % 2 ? "true" : "false") + "}");
      ++n;
    }
  });
  std::vector<std::string> seen;
  std::string url = "/Patient?gender=female&_count=7";
  for (int guard = 0; guard < 200 && !url.empty(); ++guard) {
    HttpResult page = server.get(url);
    ASSERT_EQ(page.status, 200) << page.body;
    if (const json::Value* entries = page.json.find("entry"))
      for (const auto& e : entries->items()) seen.push_back(e.find("resource")->getString("id"));
    url.clear();
    for (const auto& l : page.json.find("link")->items())
      if (l.getString("relation") == "next") url = l.getString("url").substr(server.base().size());
  }
  stop = true;
  writer.join();
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "no resource appears on two pages";
  for (int i = 0; i < 30; ++i)
    EXPECT_TRUE(unique.count("p" + std::to_string(i))) << "p" << i << " was skipped";
}

}  // namespace
}  // namespace acp::testing
