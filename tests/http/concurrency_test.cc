// Races that trusted servers lose (../shared/reference/security.md): concurrent conditional
// creates, and paging while writes happen.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
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
