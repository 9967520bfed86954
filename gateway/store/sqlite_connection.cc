#include "gateway/store/sqlite_connection.h"

#include "gateway/store/sqlite_wal_batching.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

namespace acp::store::sqlite {

SqliteStatement::~SqliteStatement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

void SqliteStatement::release() {
  if (!cached_) {
    delete this;
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  inUse_ = false;
}

StepResult SqliteStatement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return StepResult::kRow;
  if (rc == SQLITE_DONE) return StepResult::kDone;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return StepResult::kConstraint;
  return StepResult::kError;
}

SqlArg::Kind SqliteStatement::columnKind(int i) const {
  switch (sqlite3_column_type(stmt_, i)) {
    case SQLITE_INTEGER:
      return SqlArg::Kind::kInt;
    case SQLITE_FLOAT:
      return SqlArg::Kind::kReal;
    case SQLITE_NULL:
      return SqlArg::Kind::kNull;
    default:
      return SqlArg::Kind::kText;
  }
}

Status SqliteStatement::error(std::string_view what) const {
  return conn_->lastError(what);
}

namespace {

// Process-wide SQLite settings, applied once before the library initialises. Memory statistics
// are off: with them on, every SQLite allocation takes one process-wide mutex, which all reader
// connections then queue on.
void configureLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::open(const std::string& path,
                                                                 const Settings& settings) {
  configureLibraryOnce();
  std::unique_ptr<SqliteConnection> c(new SqliteConnection());
  c->settings_ = settings;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &c->db_, flags,
                           settings.batchWalWrites ? walBatchingVfs() : nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = c->db_ ? sqlite3_errmsg(c->db_) : sqlite3_errstr(rc);
    return Status::internal("store.open-failed: " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(c->db_, 1);
  sqlite3_busy_timeout(c->db_, settings.busyTimeoutMs);
  if (!settings.readOnly) {
    auto mode = c->queryText("PRAGMA journal_mode=WAL");
    if (!mode.isOk()) return mode.status();
    if (mode.value() != "wal")
      return Status::internal("store.open-failed: journal_mode=WAL refused (got " + mode.value() +
                              ")");
  }
  // temp_store=MEMORY: savepoint undo data and sort spills stay off the disk (with the
  // default, every write's savepoint journal went to a temporary file). cache_size: the
  // store chooses per role (StoreOptions: the writer's, the readers' share).
  const std::string cacheSize = "PRAGMA cache_size=-" + std::to_string(std::max(settings.cacheKib, 64));
  for (const char* pragma : {"PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                             "PRAGMA temp_store=MEMORY", cacheSize.c_str()}) {
    Status s = c->exec(pragma);
    if (!s.isOk()) return s;
  }
  if (settings.readOnly) {
    Status s = c->exec("PRAGMA query_only=ON");
    if (!s.isOk()) return s;
  }
  return c;
}

int64_t SqliteConnection::cacheBytes() {
  int used = 0, highwater = 0;
  if (sqlite3_db_status(db_, SQLITE_DBSTATUS_CACHE_USED, &used, &highwater, 0) != SQLITE_OK)
    return 0;
  return used;
}

void SqliteConnection::releaseCacheAbove(int64_t bytes) {
  if (cacheBytes() > bytes) sqlite3_db_release_memory(db_);
}

SqliteConnection::~SqliteConnection() {
  cache_.clear();  // finalises the cached statements
  if (db_) sqlite3_close_v2(db_);
}

Result<Statement> SqliteConnection::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.inUse_) {
    it->second.inUse_ = true;
    return Statement(&it->second);
  }
  bool cache = it == cache_.end() && cache_.size() < settings_.statementCacheSize;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK || !stmt) {
    if (stmt) sqlite3_finalize(stmt);
    return lastError("prepare");
  }
  if (!cache) return Statement(new SqliteStatement(this, stmt, false));
  auto slot = cache_.try_emplace(sql, this, stmt, true).first;
  slot->second.inUse_ = true;
  return Statement(&slot->second);
}

Status SqliteConnection::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Status::internal("store.sqlite: " + msg + " (in " + std::string(sql).substr(0, 80) + ")");
}

Status SqliteConnection::beginWrite() {
  if (syncFullPending_) {
    endUnsyncedWrite();
    if (syncFullPending_)
      return Status::internal("store.sqlite: the writer could not go back to synchronous=FULL");
  }
  return exec("BEGIN IMMEDIATE");
}

Status SqliteConnection::beginUnsyncedWrite() {
  syncFullPending_ = true;
  Status s = runCached("PRAGMA synchronous=NORMAL");
  if (s.isOk()) s = exec("BEGIN IMMEDIATE");
  if (!s.isOk()) endUnsyncedWrite();
  return s;
}

void SqliteConnection::endUnsyncedWrite() {
  if (runCached("PRAGMA synchronous=FULL").isOk()) syncFullPending_ = false;
}

Status syncWal(const std::string& path) {
  const std::string wal = path + "-wal";
  int fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::ok();
    return Status::internal(std::string("store.sqlite: opening the WAL to sync it: ") +
                            std::strerror(errno));
  }
  int rc = ::fdatasync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0)
    return Status::internal(std::string("store.sqlite: syncing the WAL: ") + std::strerror(err));
  return Status::ok();
}

Status SqliteConnection::runCached(const char* sql) {
  auto st = prepare(sql);
  if (!st.isOk()) return st.status();
  if (st.value().run() != StepResult::kDone) return st.value().error(sql);
  return Status::ok();
}

Status SqliteConnection::lastError(std::string_view what) const {
  return Status::internal("store.sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db_) + " (" +
                          std::to_string(sqlite3_extended_errcode(db_)) + ")");
}

}  // namespace acp::store::sqlite
