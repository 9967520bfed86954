// The WAL-batching VFS (gateway/store/sqlite_wal_batching.h) and the writer's WAL restart:
// what is committed is in the file and visible to other connections at once, a transaction
// larger than the gathering limit is whole, a process killed right after a commit keeps it
// (even without a sync at commit), and under continuous writing the WAL does not keep growing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gateway/store/sqlite_connection.h"
#include "gateway/store/sqlite_wal_batching.h"
#include "tests/store/store_fixture.h"

namespace acp::store::testing {
namespace {

using Connection = sqlite::SqliteConnection;

class WalBatchingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ACP_SQLITE_ONLY();
    dir_ = makeTempDir();
    path_ = dir_ + "/batching.db";
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Connection> open(bool readOnly = false) {
    Connection::Settings s;
    s.readOnly = readOnly;
    auto c = Connection::open(path_, s);
    EXPECT_TRUE(c.isOk()) << c.status().message();
    return c.isOk() ? c.take() : nullptr;
  }

  std::string dir_, path_;
};

int64_t count(Connection& c) { return c.queryInt("SELECT count(*) FROM t").value(); }

TEST_F(WalBatchingTest, TheVfsIsRegisteredAndUsedForTheStoresConnections) {
  ASSERT_NE(sqlite::walBatchingVfs(), nullptr);
  auto w = open();
  ASSERT_TRUE(w);
  sqlite3_vfs* used = nullptr;
  ASSERT_EQ(sqlite3_file_control(w->handle(), "main", SQLITE_FCNTL_VFS_POINTER, &used), SQLITE_OK);
  ASSERT_NE(used, nullptr);
  EXPECT_STREQ(used->zName, sqlite::walBatchingVfs());
}

TEST_F(WalBatchingTest, EveryCommitIsVisibleToAnotherConnectionAtOnce) {
  auto w = open();
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)").isOk());
  auto r = open(true);
  ASSERT_TRUE(r);
  const std::string filler(3000, 'x');  // about a page a row: several frames a commit
  for (int i = 1; i <= 200; ++i) {
    ASSERT_TRUE(w->exec("BEGIN IMMEDIATE").isOk());
    for (int j = 0; j < 3; ++j) {
      auto st = w->prepare("INSERT INTO t(v) VALUES (?1)");
      ASSERT_TRUE(st.isOk());
      st.value().bind(1, std::string_view(filler));
      ASSERT_EQ(st.value().run(), sqlite::StepResult::kDone);
    }
    ASSERT_TRUE(w->exec("COMMIT").isOk());
    ASSERT_EQ(count(*r), i * 3) << "after commit " << i;
  }
  EXPECT_EQ(r->queryText("PRAGMA integrity_check").value(), "ok");
}

TEST_F(WalBatchingTest, ATransactionLargerThanTheGatheringLimitIsWhole) {
  auto w = open();
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)").isOk());
  ASSERT_TRUE(w->exec("BEGIN IMMEDIATE").isOk());
  // 12 MiB in one transaction: gathered and written in 4 MiB pieces, each handed over in
  // writes of at most 0x1ffff bytes.
  for (int i = 0; i < 48; ++i)
    ASSERT_TRUE(w->exec("INSERT INTO t(v) VALUES (randomblob(262144))").isOk());
  ASSERT_TRUE(w->exec("COMMIT").isOk());
  w.reset();
  auto again = open();
  ASSERT_TRUE(again);
  EXPECT_EQ(count(*again), 48);
  EXPECT_EQ(again->queryInt("SELECT sum(length(v)) FROM t").value(), int64_t{48} * 262144);
  EXPECT_EQ(again->queryText("PRAGMA integrity_check").value(), "ok");
}

// A child process commits transactions and reports each one after COMMIT returns; it is
// killed (SIGKILL: no destructor, no close) part-way. Every reported commit must be in the
// file. The child runs with synchronous=OFF, so no sync pushes gathered bytes out: the commit
// frame alone must (a process kill loses only the process's memory, not the page cache).
TEST_F(WalBatchingTest, ACommitIsInTheFileWhenCommitReturnsEvenWithoutASync) {
  {
    auto w = open();
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)").isOk());
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    Connection::Settings s;
    auto c = Connection::open(path_, s);
    if (!c.isOk() || !c.value()->exec("PRAGMA synchronous=OFF").isOk()) _exit(2);
    for (int i = 1;; ++i) {
      if (!c.value()->exec("BEGIN IMMEDIATE").isOk()) _exit(3);
      if (!c.value()->exec("INSERT INTO t(v) VALUES (hex(randomblob(1500)))").isOk()) _exit(4);
      if (!c.value()->exec("COMMIT").isOk()) _exit(5);
      if (write(fds[1], &i, sizeof i) != static_cast<ssize_t>(sizeof i)) _exit(6);
    }
  }
  close(fds[1]);
  int last = 0, got = 0;
  while (last < 300 && read(fds[0], &got, sizeof got) == static_cast<ssize_t>(sizeof got))
    last = got;
  kill(child, SIGKILL);
  // Reports already in the pipe are commits too.
  while (read(fds[0], &got, sizeof got) == static_cast<ssize_t>(sizeof got)) last = got;
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself: exit " << WEXITSTATUS(status);
  ASSERT_GE(last, 300);
  auto after = open();
  ASSERT_TRUE(after);
  EXPECT_GE(count(*after), last);
  EXPECT_EQ(after->queryText("PRAGMA integrity_check").value(), "ok");
}

TEST_F(WalBatchingTest, UnderContinuousWritingTheWalIsRestartedInsteadOfGrowing) {
  StoreOptions options;
  options.checkpointPages = 100;
  auto opened = SqlStore::open(path_, acp::testing::r4Shared(), options);
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  auto store = opened.take();
  const std::string family(2000, 'f');
  const std::string wal = path_ + "-wal";
  uintmax_t largest = 0;
  // Back-to-back transactions: the checkpointer's own RESTART rarely finds the write lock
  // free; the writer restarts the WAL between transactions instead.
  for (int i = 0; i < 3000; ++i) {
    auto tx = store->begin();
    ASSERT_TRUE(tx.isOk());
    json::Value p = parseJson(R"({"resourceType":"Patient","name":[{"family":")" + family +
                              std::to_string(i) + R"("}]})");
    ASSERT_TRUE(tx.value()->update("Patient", "p" + std::to_string(i % 50), p).isOk());
    ASSERT_TRUE(tx.value()->commit().isOk());
    if (std::filesystem::exists(wal)) largest = std::max(largest, std::filesystem::file_size(wal));
  }
  // Written in all: 3000 commits of several pages each, tens of MB. A WAL restarted from its
  // beginning stays within a few checkpoint thresholds (100 pages of 4 KiB each).
  EXPECT_LT(largest, uintmax_t{8} << 20) << "the WAL grew to " << largest << " bytes";
  store.reset();
  auto after = open();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->queryText("PRAGMA integrity_check").value(), "ok");
  EXPECT_EQ(after->queryInt("SELECT count(*) FROM resources WHERE type = 'Patient'").value(), 50);
}

// ---- added by the adversarial review of the VFS (each names the SQLite path it covers) ------

// Copies the database and its WAL (not the wal-index) and counts the rows of t in the copy:
// what a process killed now would leave (the copy holds exactly what reached the file; opening
// it runs WAL recovery, which checks every frame's checksum).
int64_t rowsInACopy(const std::string& dir, const std::string& path) {
  namespace fs = std::filesystem;
  const std::string copy = dir + "/copy.db";
  fs::remove(copy);
  fs::remove(copy + "-wal");
  fs::remove(copy + "-shm");
  fs::copy_file(path, copy);
  if (fs::exists(path + "-wal")) fs::copy_file(path + "-wal", copy + "-wal");
  Connection::Settings s;
  s.batchWalWrites = false;
  auto c = Connection::open(copy, s);
  if (!c.isOk()) return -1;
  auto n = c.value()->queryInt("SELECT count(*) FROM t");
  return n.isOk() ? n.value() : -1;
}

// The WAL file itself (not only the database) goes through the VFS.
TEST_F(WalBatchingTest, TheWalFileIsTheVfssOwn) {
  auto w = open();
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->exec("CREATE TABLE t(k INTEGER PRIMARY KEY)").isOk());
  sqlite3_file* wal = nullptr;
  ASSERT_EQ(sqlite3_file_control(w->handle(), "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal),
            SQLITE_OK);
  ASSERT_NE(wal, nullptr);
  ASSERT_NE(wal->pMethods, nullptr);
  EXPECT_EQ(wal->pMethods->iVersion, 1);  // the unix VFS's own methods are version 3
}

// A transaction larger than the page cache spills frames and, when it changes a spilled page
// again, overwrites that frame in place; at commit SQLite rewrites the frame headers from the
// first overwritten frame on (wal.c walRewriteChecksums), the commit frame's header last, with
// no page after it and (synchronous=NORMAL) no sync before the commit is published.
// The rewritten commit header must reach the file at commit, and the next commit (a single
// frame) must be in the file before another connection reads it.
TEST_F(WalBatchingTest, ACommitWhoseFrameHeadersAreRewrittenIsWholeAndTheNextOneVisible) {
  auto w = open();
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->exec("PRAGMA synchronous=NORMAL").isOk());
  ASSERT_TRUE(w->exec("PRAGMA cache_size=16").isOk());
  ASSERT_TRUE(w->exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)").isOk());
  ASSERT_TRUE(w->exec("BEGIN IMMEDIATE").isOk());
  ASSERT_TRUE(w->exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                      "WHERE i < 400) INSERT INTO t(k, v) SELECT i, randomblob(3000) FROM n")
                  .isOk());
  // Pages spilled long ago, changed again: their frames are overwritten in place.
  ASSERT_TRUE(w->exec("UPDATE t SET v = randomblob(2900) WHERE k <= 50").isOk());
  ASSERT_TRUE(w->exec("COMMIT").isOk());
  EXPECT_EQ(rowsInACopy(dir_, path_), 400) << "the acknowledged commit is not whole in the file";

  // One page changes: a transaction of a single (commit) frame.
  ASSERT_TRUE(w->exec("UPDATE t SET v = zeroblob(10) WHERE k = 400").isOk());
  auto r = open(true);
  ASSERT_TRUE(r);
  auto length = r->queryInt("SELECT length(v) FROM t WHERE k = 400");
  ASSERT_TRUE(length.isOk()) << length.status().message();
  EXPECT_EQ(length.value(), 10);
}

// Without powersafe overwrite (psow=0) and with synchronous=FULL, SQLite pads a commit with
// copies of its commit frame up to the next sector boundary, syncs at that boundary while
// writing the last copy, and writes the rest of that copy after the sync, with no sync
// (wal.c walWriteToLog, iSyncPoint). Readers read the last copy: it must be in the file.
TEST_F(WalBatchingTest, APaddedCommitIsVisibleToAnotherConnection) {
  sqlite3* w = nullptr;
  const std::string uri = "file:" + path_ + "?psow=0";
  ASSERT_EQ(sqlite3_open_v2(uri.c_str(), &w,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                            sqlite::walBatchingVfs()),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(w, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                            "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto r = open(true);
  ASSERT_TRUE(r);
  for (int i = 1; i <= 20; ++i) {
    ASSERT_EQ(sqlite3_exec(w, "INSERT INTO t(v) VALUES (hex(randomblob(1000)))", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    auto n = r->queryInt("SELECT count(*) FROM t");
    ASSERT_TRUE(n.isOk()) << "after commit " << i << ": " << n.status().message();
    ASSERT_EQ(n.value(), i);
  }
  sqlite3_close_v2(w);
}

// Frames a transaction spilled and then rolled back stay in the connection's memory after it
// gave up the write lock (SQLite locks the WAL through the wal-index, never through the WAL
// file's xLock). Another writer then commits frames at the same offsets; the first
// connection's next read must not write the rolled-back frames over them.
TEST_F(WalBatchingTest, ARolledBackSpillNeverOverwritesAnotherWritersCommit) {
  auto w1 = open();
  auto w2 = open();
  ASSERT_TRUE(w1 && w2);
  ASSERT_TRUE(w1->exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)").isOk());
  ASSERT_TRUE(w1->exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                       "WHERE i < 300) INSERT INTO t(k, v) SELECT i, randomblob(3000) FROM n")
                  .isOk());
  ASSERT_TRUE(w1->queryText("PRAGMA wal_checkpoint(TRUNCATE)").isOk());
  ASSERT_TRUE(w1->exec("PRAGMA cache_size=10").isOk());
  ASSERT_TRUE(w1->exec("BEGIN IMMEDIATE").isOk());
  ASSERT_TRUE(w1->exec("UPDATE t SET v = randomblob(3000)").isOk());  // spills
  ASSERT_TRUE(w1->exec("ROLLBACK").isOk());

  ASSERT_TRUE(w2->exec("UPDATE t SET v = zeroblob(100) WHERE k = 1").isOk());
  // The first writer reads again (any read of the WAL file).
  auto seen = w1->queryInt("SELECT length(v) FROM t WHERE k = 1");
  EXPECT_TRUE(seen.isOk() && seen.value() == 100)
      << (seen.isOk() ? std::to_string(seen.value()) : seen.status().message());

  auto r = open(true);
  ASSERT_TRUE(r);
  auto length = r->queryInt("SELECT length(v) FROM t WHERE k = 1");
  ASSERT_TRUE(length.isOk()) << length.status().message();
  EXPECT_EQ(length.value(), 100);
  auto check = r->queryText("PRAGMA integrity_check");
  ASSERT_TRUE(check.isOk()) << check.status().message();
  EXPECT_EQ(check.value(), "ok");
  EXPECT_EQ(rowsInACopy(dir_, path_), 300);
}

}  // namespace
}  // namespace acp::store::testing
