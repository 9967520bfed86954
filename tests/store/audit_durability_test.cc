// The audit log's two durabilities (store/audit_log.h) on both stores: a batch appended with
// kProcess is committed — read back at once by another connection, chained — and flushAudit
// makes it durable; the writer's later commits are durable on disk again (SQLite: the writer
// is back at synchronous=FULL).
#include <filesystem>
#include <string>
#include <vector>

#include "gateway/store/audit_log.h"
#include "tests/store/store_fixture.h"

namespace acp::store::testing {
namespace {

class AuditDurabilityTest : public StoreTest {
 protected:
  static std::vector<AuditRow> batch(const std::string& patient, int n) {
    std::vector<AuditRow> rows;
    for (int i = 0; i < n; ++i) {
      AuditRow r;
      r.recorded = "2024-01-01T06:00:00.000Z";
      r.client = "gp-app";
      r.organisation = "A81001";
      r.action = "R";
      r.subtype = "read";
      r.patients = {patient};
      r.json = R"({"resourceType":"AuditEvent","n":)" + std::to_string(i) + "}";
      rows.push_back(r);
    }
    return rows;
  }

  size_t rowsOf(const std::string& patient) {
    AuditQuery q;
    q.patient = patient;
    q.count = 1000;
    auto page = store_->auditPage(q);
    EXPECT_TRUE(page.isOk()) << page.status().message();
    return page.isOk() ? page.value().rows.size() : 0;
  }
};

TEST_F(AuditDurabilityTest, AProcessDurableBatchIsCommittedChainedAndFlushed) {
  auto first = batch("p1", 3);
  ASSERT_TRUE(store_->appendAudit(first, AuditDurability::kProcess).isOk());
  EXPECT_EQ(first[2].seq, 3);
  EXPECT_EQ(rowsOf("p1"), 3u);  // a reader connection sees it: committed
  auto second = batch("p2", 2);
  ASSERT_TRUE(store_->appendAudit(second, AuditDurability::kDisk).isOk());
  auto third = batch("p3", 4);
  ASSERT_TRUE(store_->appendAudit(third, AuditDurability::kProcess).isOk());
  EXPECT_EQ(third[0].prevHash, second[1].hash);
  Status flushed = store_->flushAudit();
  ASSERT_TRUE(flushed.isOk()) << flushed.message();
  EXPECT_EQ(rowsOf("p3"), 4u);
  auto check = store_->verifyAuditChain();
  ASSERT_TRUE(check.isOk());
  EXPECT_TRUE(check.value().intact);
  EXPECT_EQ(check.value().checked, 9);
  // And after a restart (SQLite: the WAL is replayed; PostgreSQL: a new session).
  reopen();
  EXPECT_EQ(rowsOf("p1"), 3u);
  EXPECT_EQ(rowsOf("p3"), 4u);
}

TEST_F(AuditDurabilityTest, WritesAfterAProcessDurableBatchAreDurableOnDiskAgain) {
  ACP_SQLITE_ONLY();
  auto rows = batch("p1", 2);
  ASSERT_TRUE(store_->appendAudit(rows, AuditDurability::kProcess).isOk());
  // flushAudit syncs this file (a missing WAL would count as nothing to sync).
  EXPECT_TRUE(std::filesystem::exists(path_ + "-wal"));
  EXPECT_EQ(store_->pragma("synchronous").value(), "2");  // FULL
  create(R"({"resourceType":"Patient","name":[{"family":"After"}]})");
  EXPECT_EQ(store_->pragma("synchronous").value(), "2");
}

TEST_F(AuditDurabilityTest, FlushingWithNothingWaitingIsHarmless) {
  EXPECT_TRUE(store_->flushAudit().isOk());
  auto rows = batch("p1", 1);
  ASSERT_TRUE(store_->appendAudit(rows, AuditDurability::kDisk).isOk());
  EXPECT_TRUE(store_->flushAudit().isOk());
  EXPECT_EQ(rowsOf("p1"), 1u);
}

}  // namespace
}  // namespace acp::store::testing
