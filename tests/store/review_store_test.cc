// Review of this session's SqlStore changes (units, background checkpoints), against a
// real SQLite file. Each test guards a defect found in review (since fixed); the comment above
// it says what was wrong and why it mattered. Faults are injected without mocks, through SQLite itself (a trigger
// added with a second connection, a second connection holding a read snapshot).
#include <sqlite3.h>

#include <chrono>
#include <string>

#include "tests/store/store_fixture.h"

namespace acp::store::testing {
namespace {

json::Value patient(const std::string& family) {
  json::Value v;
  json::ParseError err;
  json::parse(R"({"resourceType":"Patient","name":[{"family":")" + family + R"("}]})", v, err);
  return v;
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  sqlite3_free(err);
}

class ReviewStore : public StoreTest {
 protected:
  // Runs SQL on a second connection to the store's file.
  void sql(const std::string& text) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    exec(db, text);
    sqlite3_close(db);
  }
};

// Found in review — gateway/store/sql_store.cc SqlTransaction::beginUnit/endUnit (~lines
// 717-735) and usable(). Some SQLite errors end the whole transaction, not just the failing
// statement (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, an interrupted statement; simulated here
// with RAISE(ROLLBACK)). The Transaction does not notice: the op savepoint's ROLLBACK TO fails
// silently, endUnit(false) fails, and the next beginUnit() runs "SAVEPOINT unit" in autocommit
// mode — which *starts a new transaction* — and its endUnit(true) "RELEASE unit" *commits* it.
// In a group commit (IngestService::commitItems), every record after the failed one is then
// committed on its own, visible to readers before commit(), and commit() finally fails ("no
// transaction is active"), so those records are reported as store failures (no ACK) although
// they are durable; the earlier records of the group are silently gone. The contract
// (resource_store.h: nothing visible until commit() returns ok; a failed commit keeps nothing)
// is broken; once the SQLite transaction has ended, every further call must fail.
TEST_F(ReviewStore, AfterTheTransactionIsAbortedALaterUnitIsNotCommittedOnItsOwn) {
  ACP_SQLITE_ONLY();  // RAISE(ROLLBACK) is SQLite's; pg_connection_test covers PostgreSQL's abort
  sql("CREATE TRIGGER review_abort BEFORE INSERT ON versions WHEN NEW.id = 'poison' "
      "BEGIN SELECT RAISE(ROLLBACK, 'simulated disk failure'); END;");
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk()) << tx.status().message();
  Transaction& t = *tx.value();
  ASSERT_TRUE(t.beginUnit().isOk());
  ASSERT_TRUE(t.update("Patient", "first", patient("First")).isOk());
  ASSERT_TRUE(t.endUnit(true).isOk());
  ASSERT_TRUE(t.beginUnit().isOk());
  ASSERT_FALSE(t.update("Patient", "poison", patient("Poison")).isOk());  // aborts everything
  (void)t.endUnit(false);
  // The next record of the group.
  Status unit = t.beginUnit();
  bool wrote = unit.isOk() && t.update("Patient", "later", patient("Later")).isOk();
  if (unit.isOk()) (void)t.endUnit(wrote);
  // Not committed yet: no reader may see it.
  EXPECT_FALSE(store_->read("Patient", "later").isOk())
      << "a unit begun after the abort was committed by its own RELEASE, before commit()";
  Status committed = t.commit();
  if (!committed.isOk()) {
    EXPECT_FALSE(store_->read("Patient", "later").isOk())
        << "commit() failed (" << committed.message() << ") yet the write is durable";
  }
}

// Found in review: the background checkpointer's RESTART waited (busyTimeoutMs, 5 s) for
// readers of older snapshots while holding the write lock, so a long read (a backup, a slow
// search) stalled every commit after each checkpoint and writers queued meanwhile failed with
// store.busy (no MLLP ACK). Now RESTART never waits: with a reader on an old snapshot it gives
// up at once. Here a second connection holds a snapshot while checkpoints are asked for after
// every commit, and writers that wait at most 300 ms never fail.
TEST_F(ReviewStore, ALongReaderNeverMakesCommitsFailWhileCheckpointsRun) {
  ACP_SQLITE_ONLY();  // SQLite checkpoints
  store_.reset();
  StoreOptions o = options();
  o.checkpointPages = 1;  // every commit asks for a checkpoint
  o.busyTimeoutMs = 300;  // how long a writer waits for the write lock
  auto opened = SqlStore::open(path_, acp::testing::r4Shared(), o);
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  store_ = opened.take();
  ASSERT_TRUE(put("Patient", "a", R"({"resourceType":"Patient","id":"a"})").isOk());

  sqlite3* reader = nullptr;  // e.g. an online backup: a long read transaction
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  exec(reader, "BEGIN; SELECT count(*) FROM resources;");
  for (int i = 0; i < 40; ++i) {
    tick();
    auto w = put("Patient", "p" + std::to_string(i),
                 R"({"resourceType":"Patient","id":"p)" + std::to_string(i) + R"("})");
    EXPECT_TRUE(w.isOk()) << "commit " << i << " failed while a reader was open: "
                          << w.status().message();
  }
  exec(reader, "COMMIT");
  sqlite3_close(reader);
  // Once the reader is gone the WAL restarts and everything is still there.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(put("Patient", "after" + std::to_string(i), R"({"resourceType":"Patient"})").isOk());
  EXPECT_TRUE(store_->read("Patient", "p39").isOk());
}

}  // namespace
}  // namespace acp::store::testing
