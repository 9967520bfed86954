#include "gateway/store/sqlite_connection.h"

#include "gateway/store/sqlite_wal_batching.h"

#include <mutex>
#include <string>

namespace acp::store::sqlite {

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    release();
    conn_ = o.conn_;
    stmt_ = o.stmt_;
    inUse_ = o.inUse_;
    o.conn_ = nullptr;
    o.stmt_ = nullptr;
    o.inUse_ = nullptr;
  }
  return *this;
}

void Statement::release() {
  if (!stmt_) return;
  if (inUse_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *inUse_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
  inUse_ = nullptr;
  conn_ = nullptr;
}

void Statement::bind(int index, const SqlArg& a) {
  switch (a.kind) {
    case SqlArg::Kind::kNull:
      bindNull(index);
      break;
    case SqlArg::Kind::kInt:
      bind(index, a.i);
      break;
    case SqlArg::Kind::kReal:
      bind(index, a.d);
      break;
    case SqlArg::Kind::kText:
      bind(index, std::string_view(a.s), /*stable=*/true);
      break;
  }
}

void Statement::bindAll(const std::vector<SqlArg>& args) {
  for (size_t i = 0; i < args.size(); ++i) bind(static_cast<int>(i + 1), args[i]);
}

StepResult Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return StepResult::kRow;
  if (rc == SQLITE_DONE) return StepResult::kDone;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return StepResult::kConstraint;
  return StepResult::kError;
}

StepResult Statement::run() {
  StepResult r;
  do {
    r = step();
  } while (r == StepResult::kRow);
  return r;
}

SqlArg Statement::columnArg(int i) const {
  switch (sqlite3_column_type(stmt_, i)) {
    case SQLITE_INTEGER:
      return SqlArg::integer(columnInt(i));
    case SQLITE_FLOAT:
      return SqlArg::real(columnReal(i));
    case SQLITE_NULL:
      return SqlArg::null();
    default:
      return SqlArg::text(columnString(i));
  }
}

Status Statement::error(std::string_view what) const {
  if (!conn_) return Status::internal("store.sqlite: " + std::string(what));
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

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path,
                                                     const Settings& settings) {
  configureLibraryOnce();
  std::unique_ptr<Connection> c(new Connection());
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
  // default, every write's savepoint journal went to a temporary file). A 32 MiB page cache
  // per connection keeps the index pages of a large store in memory.
  for (const char* pragma : {"PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                             "PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-32768"}) {
    Status s = c->exec(pragma);
    if (!s.isOk()) return s;
  }
  if (settings.readOnly) {
    Status s = c->exec("PRAGMA query_only=ON");
    if (!s.isOk()) return s;
  }
  return c;
}

Connection::~Connection() {
  for (auto& entry : cache_) sqlite3_finalize(entry.second.stmt);
  cache_.clear();
  if (db_) sqlite3_close_v2(db_);
}

Result<Statement> Connection::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.inUse) {
    it->second.inUse = true;
    return Statement(this, it->second.stmt, &it->second.inUse);
  }
  bool cache = it == cache_.end() && cache_.size() < settings_.statementCacheSize;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK || !stmt) {
    if (stmt) sqlite3_finalize(stmt);
    return lastError("prepare");
  }
  if (!cache) return Statement(this, stmt, nullptr);
  Cached& slot = cache_[sql];
  slot.stmt = stmt;
  slot.inUse = true;
  return Statement(this, stmt, &slot.inUse);
}

Status Connection::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Status::internal("store.sqlite: " + msg + " (in " + std::string(sql).substr(0, 80) + ")");
}

Result<int64_t> Connection::queryInt(const std::string& sql) {
  auto st = prepare(sql);
  if (!st.isOk()) return st.status();
  Statement& s = st.value();
  StepResult r = s.step();
  if (r == StepResult::kRow) return s.columnInt(0);
  if (r == StepResult::kDone) return int64_t{0};
  return s.error("query");
}

Result<std::string> Connection::queryText(const std::string& sql) {
  auto st = prepare(sql);
  if (!st.isOk()) return st.status();
  Statement& s = st.value();
  StepResult r = s.step();
  if (r == StepResult::kRow) return s.columnString(0);
  if (r == StepResult::kDone) return std::string();
  return s.error("query");
}

Status Connection::lastError(std::string_view what) const {
  return Status::internal("store.sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db_) + " (" +
                          std::to_string(sqlite3_extended_errcode(db_)) + ")");
}

}  // namespace acp::store::sqlite
