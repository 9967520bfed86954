// jti replay protection: the in-memory guard, and the store's ledger (schema step 10) through
// FunctionReplayGuard as app/ wires it — a jti stays used across a reopened database, and
// threads racing with one assertion get exactly one token.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/store/sqlite_schema.h"
#include "gateway/store/sql_store.h"
#include "tests/auth/smart_fixture.h"
#include "tests/support/model_fixture.h"

namespace acp::auth {
namespace {

using namespace acp::auth::testing;

TEST(MemoryReplayGuard, FirstUseOnlyPerClientAndPurgedAfterExpiry) {
  Clock clock;
  MemoryReplayGuard g(clock.fn());
  EXPECT_TRUE(g.firstUse("a", "j1", kNow + 1000).value());
  EXPECT_FALSE(g.firstUse("a", "j1", kNow + 1000).value());
  EXPECT_TRUE(g.firstUse("b", "j1", kNow + 1000).value());
  EXPECT_TRUE(g.firstUse("a", "j2", kNow + 5000).value());
  EXPECT_EQ(g.size(), 3u);
  clock.advanceMs(1001);
  EXPECT_TRUE(g.firstUse("a", "j3", kNow + 9000).value());
  EXPECT_EQ(g.size(), 2u);  // the two j1 records went
  EXPECT_FALSE(g.firstUse("a", "j2", kNow + 5000).value());
}

class StoreLedger : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    store_.reset();
    auto s = store::SqlStore::open(dir_.file("store.db"), acp::testing::r4Shared());
    ASSERT_TRUE(s.isOk()) << s.status().message();
    store_ = std::shared_ptr<store::SqlStore>(s.take());
  }
  // The adaptor exactly as app/ builds it (auth/replay_guard.h).
  std::shared_ptr<ReplayGuard> guard() {
    auto store = store_;
    auto now = clock_.fn();
    return std::make_shared<FunctionReplayGuard>(
        [store, now](const std::string& c, const std::string& j, int64_t until) {
          return store->firstUse(c, j, until, now());
        });
  }
  TempDir dir_;
  Clock clock_;
  std::shared_ptr<store::SqlStore> store_;
};

TEST_F(StoreLedger, AJtiStaysUsedAcrossARestart) {
  EXPECT_TRUE(store_->firstUse("a", "j1", kNow + 60000, kNow).value());
  EXPECT_FALSE(store_->firstUse("a", "j1", kNow + 60000, kNow).value());
  EXPECT_TRUE(store_->firstUse("b", "j1", kNow + 60000, kNow).value());
  open();
  EXPECT_FALSE(store_->firstUse("a", "j1", kNow + 60000, kNow).value());
  EXPECT_FALSE(store_->firstUse("b", "j1", kNow + 60000, kNow).value());
  // Purged once kept long enough (the assertion itself is expired by then).
  EXPECT_TRUE(store_->firstUse("a", "j2", kNow + 120000, kNow + 60001).value());
  EXPECT_TRUE(store_->firstUse("a", "j1", kNow + 120000, kNow + 60001).value());
}

TEST_F(StoreLedger, ThreadsRacingWithOneJtiGetOneTrue) {
  std::atomic<int> firsts{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto r = store_->firstUse("c", "race-" + std::to_string(i), kNow + 60000, kNow);
        if (!r.isOk()) {
          ++errors;
        } else if (r.value()) {
          ++firsts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(firsts.load(), 20);
}

// The whole token endpoint on the store's ledger: a replayed assertion is refused after the
// gateway restarts, and one assertion posted by many threads at once buys one token.
class TokenEndpointOnStore : public StoreLedger {
 protected:
  void SetUp() override {
    StoreLedger::SetUp();
    writeFile(dir_.file("clients.json"), testRegistry());
  }
  std::unique_ptr<SmartAuth> smart() {
    SmartAuthOptions o;
    o.baseUrl = kBase;
    o.clientsFile = dir_.file("clients.json");
    o.nowMs = clock_.fn();
    auto s = SmartAuth::create(o, guard());
    EXPECT_TRUE(s.isOk()) << s.status().message();
    return s.take();
  }
  static TokenResult post(SmartAuth& smart, const std::string& assertion) {
    std::string body = formEncode(
        {{"grant_type", "client_credentials"},
         {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
         {"client_assertion", assertion},
         {"scope", "system/CarePlan.read"}});
    TokenRequest r;
    r.body = body;
    r.contentType = "application/x-www-form-urlencoded";
    return smart.token(r);
  }
};

TEST_F(TokenEndpointOnStore, AReplayIsRefusedAfterARestart) {
  std::string a = sign(claimsFor("hospice-es", "restart-1"), ecKey(), "e1");
  EXPECT_EQ(post(*smart(), a).status, 200);
  open();  // the gateway restarts: a new store connection and a new SmartAuth
  TokenResult again = post(*smart(), a);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body.getString("error"), "invalid_client");
}

TEST_F(TokenEndpointOnStore, OneAssertionPostedByManyThreadsBuysOneToken) {
  auto s = smart();
  std::string a = sign(claimsFor("gp-rs", "race"), rsaKey(), "r1");
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      TokenResult r = post(*s, a);
      if (r.status == 200) {
        ++ok;
      } else if (r.status == 400 && r.body.getString("error") == "invalid_client") {
        ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 7);
}

}  // namespace
}  // namespace acp::auth
