// The notification outbox's claims (store/notification_outbox.h), on both stores: a claimed
// row is leased to its claimer, so two stores on one database — two gateways — never both
// get it; it comes back once the lease has passed, and a settled row never does.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "gateway/store/pg_schema.h"
#include "gateway/store/sqlite_schema.h"
#include "tests/store/store_fixture.h"

namespace acp::store::testing {
namespace {

class OutboxTest : public StoreTest {
 protected:
  void enqueue(int n, int64_t due) {
    auto tx = store_->begin();
    ASSERT_TRUE(tx.isOk()) << tx.status().message();
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(tx.value()->enqueueNotification("sub-1", "Patient", "p" + std::to_string(i),
                                                  1, due)
                      .isOk());
    ASSERT_TRUE(tx.value()->commit().isOk());
  }
};

std::vector<int64_t> idsOf(const std::vector<Notification>& ns) {
  std::vector<int64_t> out;
  for (const auto& n : ns) out.push_back(n.id);
  return out;
}

TEST_F(OutboxTest, AClaimedRowIsLeasedThenComesBackUnlessSettled) {
  enqueue(3, 1000);
  EXPECT_TRUE(store_->claimNotifications(999, 10, 5000).value().empty()) << "not due yet";

  auto first = store_->claimNotifications(1000, 2, 5000);
  ASSERT_TRUE(first.isOk()) << first.status().message();
  ASSERT_EQ(first.value().size(), 2u);
  EXPECT_LT(first.value()[0].id, first.value()[1].id) << "oldest first";
  EXPECT_EQ(first.value()[0].subscriptionId, "sub-1");
  EXPECT_EQ(first.value()[0].type, "Patient");

  // The third is still there; the two claimed are not, until their lease has passed.
  auto second = store_->claimNotifications(2000, 10, 5000);  // leased until 7000
  ASSERT_TRUE(second.isOk());
  ASSERT_EQ(second.value().size(), 1u);
  EXPECT_TRUE(store_->claimNotifications(5999, 10, 5000).value().empty());

  ASSERT_TRUE(store_->notificationDelivered(first.value()[0].id, "2024-01-01T00:00:06.000Z").isOk());
  auto again = store_->claimNotifications(6000, 10, 5000);
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(idsOf(again.value()), std::vector<int64_t>{first.value()[1].id})
      << "a lease that passed unsettled is claimable again; a delivered one never";
  // Looking does not claim.
  EXPECT_EQ(store_->dueNotifications(20000, 10).value().size(), 2u);
  EXPECT_EQ(store_->dueNotifications(20000, 10).value().size(), 2u);
}

// A gateway killed mid-delivery leaves its claims leased for minutes. On SQLite the next
// gateway process (the one holding the file's gateway lock) makes them due at once, and a
// retry's back-off too, counting an attempt; a second process on the file releases nothing.
// On PostgreSQL any gateway releases the claims of a claimer whose advisory lock is gone (its
// process ended), and only those: a retry's back-off, settled by its claimer, stays.
TEST_F(OutboxTest, TheClaimsOfAGoneGatewayAreReleasedAndALiveOnesAreNot) {
  enqueue(2, 1000);
  auto claimed = store_->claimNotifications(1000, 1, 600000);  // leased for ten minutes
  ASSERT_TRUE(claimed.isOk());
  ASSERT_EQ(claimed.value().size(), 1u);
  auto other = store_->dueNotifications(1000, 10);
  ASSERT_EQ(other.value().size(), 1u);
  ASSERT_TRUE(store_->notificationRetry(other.value()[0].id, 1, 900000, "refused").isOk());
  reopen();  // no shutdown of the claimer: as after a kill (its connections end)
  // PostgreSQL frees the gone session's lock when its server process has ended, which may take
  // a moment after the client closed: asked again for up to a second.
  Result<std::vector<Notification>> again = std::vector<Notification>{};
  for (int attempt = 0; attempt < 20; ++attempt) {
    ASSERT_TRUE(store_->releaseClaimsOfGoneProcesses(2000).isOk());
    again = store_->claimNotifications(2000, 10, 5000);  // leased again, until 7000
    ASSERT_TRUE(again.isOk()) << again.status().message();
    if (!again.value().empty() || !postgres()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (acp::testing::testStoreIsPostgres()) {
    ASSERT_EQ(again.value().size(), 1u) << "PostgreSQL: the gone claimer's claim, not the back-off";
    EXPECT_EQ(again.value()[0].id, claimed.value()[0].id);
  } else {
    ASSERT_EQ(again.value().size(), 2u) << "SQLite: the lease and the back-off ended with the process";
  }
  for (const auto& n : again.value()) EXPECT_GE(n.attempts, 1) << "the cut attempt counts";
  // A second store on the same database (SQLite: it cannot take the gateway lock; PostgreSQL:
  // the claimer's lock is held) releases nothing, so the live claims stay the first store's —
  // nor does the first store, asked again.
  auto second = SqlStore::open(location(), acp::testing::r4Shared(), options());
  ASSERT_TRUE(second.isOk());
  ASSERT_TRUE(second.value()->releaseClaimsOfGoneProcesses(3000).isOk());
  ASSERT_TRUE(store_->releaseClaimsOfGoneProcesses(3000).isOk());
  auto later = store_->claimNotifications(3000, 10, 5000);
  ASSERT_TRUE(later.isOk());
  EXPECT_TRUE(later.value().empty()) << "nothing released under a live gateway";
}

// PostgreSQL: when the connection holding a gateway's claimer lock breaks, the lock is gone
// with its session; the gateway takes it again at its next claim or look, so its live claims
// stop looking like a gone gateway's.
TEST_F(OutboxTest, AClaimerWhoseLockSessionBrokeTakesItsLockAgain) {
  if (!postgres()) GTEST_SKIP() << "PostgreSQL only: SQLite claims name no claimer";
  enqueue(1, 1000);
  auto claimed = store_->claimNotifications(1000, 1, 600000);
  ASSERT_TRUE(claimed.isOk());
  ASSERT_EQ(claimed.value().size(), 1u);
  const std::string claimer = rawRows("SELECT claimed_by FROM notifications").at(0);
  // The session holding the advisory lock on the claimer's id ends (a bigint key is held as
  // classid = its high 32 bits, objid = its low 32 bits).
  const std::string holder =
      "FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND "
      "((classid::bigint << 32) | objid::bigint) = " + claimer;
  ASSERT_EQ(rawRows("SELECT pg_terminate_backend(pid) " + holder), std::vector<std::string>{"t"});
  for (int i = 0; i < 40 && rawInt("SELECT count(*) " + holder) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(rawInt("SELECT count(*) " + holder), 0) << "the lock ended with its session";
  // The claimer's next look finds its session changed and takes the lock again...
  ASSERT_TRUE(store_->releaseClaimsOfGoneProcesses(2000).isOk());
  EXPECT_EQ(rawInt("SELECT count(*) " + holder), 1) << "held again, in the new session";
  // ...so another gateway finds it live and releases nothing.
  auto other = SqlStore::open(location(), acp::testing::r4Shared(), options());
  ASSERT_TRUE(other.isOk());
  ASSERT_TRUE(other.value()->releaseClaimsOfGoneProcesses(2000).isOk());
  EXPECT_TRUE(other.value()->claimNotifications(2000, 10, 5000).value().empty());
}

// A database from before the claimer column (SQLite schema 11, PostgreSQL 1) is brought up to
// date at open, its pending notifications kept and claimable.
TEST_F(OutboxTest, ADatabaseWithoutTheClaimerColumnIsMigratedKeepingItsNotifications) {
  enqueue(2, 1000);
  store_.reset();
  rawRows("ALTER TABLE notifications DROP COLUMN claimed_by");
  rawRows("UPDATE schema_version SET version = version - 1");
  reopen();
  EXPECT_EQ(rawInt("SELECT version FROM schema_version"),
            postgres() ? pg::currentSchemaVersion() : sqlite::currentSchemaVersion());
  auto claimed = store_->claimNotifications(1000, 10, 5000);
  ASSERT_TRUE(claimed.isOk()) << claimed.status().message();
  EXPECT_EQ(claimed.value().size(), 2u);
}

// Two stores on one database (two gateways), claiming at once from several threads: every
// row is claimed exactly once.
TEST_F(OutboxTest, ConcurrentClaimersFromTwoStoresNeverShareARow) {
  constexpr int kRows = 120;
  enqueue(kRows, 1000);
  auto opened = SqlStore::open(location(), acp::testing::r4Shared(), options());
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  std::unique_ptr<SqlStore> other = opened.take();

  std::mutex mutex;
  std::vector<int64_t> claimed;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    SqlStore* s = t % 2 ? other.get() : store_.get();
    threads.emplace_back([&, s] {
      for (;;) {
        auto got = s->claimNotifications(1000, 7, 60000);
        std::lock_guard<std::mutex> lock(mutex);
        if (!got.isOk()) {
          errors.push_back(got.status().message());
          return;
        }
        if (got.value().empty()) return;
        for (const auto& n : got.value()) claimed.push_back(n.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  std::set<int64_t> unique(claimed.begin(), claimed.end());
  EXPECT_EQ(unique.size(), claimed.size()) << "a row was claimed twice";
  EXPECT_EQ(static_cast<int>(unique.size()), kRows) << "a row was never claimed";
}

}  // namespace
}  // namespace acp::store::testing
