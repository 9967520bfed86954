// SQLite RAII helpers for the store: one Connection (a sqlite3 handle with its own cache of
// prepared statements) and Statement (a borrowed, reset-on-release prepared statement).
//
// Every value reaches SQLite through sqlite3_bind_*: SQL text is only ever built from fixed
// fragments, never from data. Statements are cached by their SQL text (search SQL varies only
// in shape, so the cache stays small); when the cache is full, or the cached statement is
// already in use by an enclosing loop, a private statement is prepared and finalised on release.
// Thread-safety: a Connection is used by one thread at a time (the store's pool and writer
// mutex ensure it); the handle is opened with SQLITE_OPEN_NOMUTEX.
// Errors: failures come back as Status::internal with a "store.sqlite: ..." message; the one
// expected failure, a unique-constraint violation, is reported by Statement::step() as
// StepResult::kConstraint so callers can turn it into a value.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/core/status.h"

namespace acp::store::sqlite {

// A value bound to a placeholder; the search planner collects these beside its SQL text.
struct SqlArg {
  enum class Kind : unsigned char { kNull, kInt, kReal, kText };
  Kind kind = Kind::kNull;
  int64_t i = 0;
  double d = 0;
  std::string s;

  static SqlArg null() { return SqlArg(); }
  static SqlArg integer(int64_t v) {
    SqlArg a;
    a.kind = Kind::kInt;
    a.i = v;
    return a;
  }
  static SqlArg real(double v) {
    SqlArg a;
    a.kind = Kind::kReal;
    a.d = v;
    return a;
  }
  static SqlArg text(std::string v) {
    SqlArg a;
    a.kind = Kind::kText;
    a.s = std::move(v);
    return a;
  }
};

enum class StepResult { kRow, kDone, kConstraint, kError };

class Connection;

// A prepared statement on loan from a Connection. Bind indexes are 1-based as in SQLite.
// Destruction resets the statement and clears its bindings (cached) or finalises it.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& o) noexcept { *this = std::move(o); }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { release(); }

  bool valid() const { return stmt_ != nullptr; }

  void bind(int index, int64_t v) { sqlite3_bind_int64(stmt_, index, v); }
  void bind(int index, int v) { sqlite3_bind_int64(stmt_, index, v); }
  void bind(int index, double v) { sqlite3_bind_double(stmt_, index, v); }
  // Text is copied by SQLite (SQLITE_TRANSIENT) unless `stable` promises it outlives the step.
  void bind(int index, std::string_view v, bool stable = false) {
    sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()),
                      stable ? SQLITE_STATIC : SQLITE_TRANSIENT);
  }
  void bindNull(int index) { sqlite3_bind_null(stmt_, index); }
  void bind(int index, const SqlArg& a);
  // Binds args[0..] to placeholders 1..n (the planner's arguments stay alive meanwhile).
  void bindAll(const std::vector<SqlArg>& args);

  StepResult step();
  // Makes the statement runnable again with the same bindings (for loops of inserts).
  void reset() { sqlite3_reset(stmt_); }
  // Steps to completion (for INSERT/UPDATE/DELETE); kDone, kConstraint or kError.
  StepResult run();

  int64_t columnInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  double columnReal(int i) const { return sqlite3_column_double(stmt_, i); }
  bool columnIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  int columnType(int i) const { return sqlite3_column_type(stmt_, i); }
  std::string_view columnText(int i) const {
    const unsigned char* p = sqlite3_column_text(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n))
             : std::string_view();
  }
  std::string columnString(int i) const { return std::string(columnText(i)); }
  SqlArg columnArg(int i) const;

  // The last error of the owning connection, as a Status::internal.
  Status error(std::string_view what) const;

 private:
  friend class Connection;
  Statement(Connection* conn, sqlite3_stmt* stmt, bool* inUse)
      : conn_(conn), stmt_(stmt), inUse_(inUse) {}
  void release();

  Connection* conn_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  bool* inUse_ = nullptr;  // the cache slot's flag; nullptr for a private statement
};

class Connection {
 public:
  struct Settings {
    int busyTimeoutMs = 5000;
    size_t statementCacheSize = 128;
    bool readOnly = false;  // query_only: a reader can never write by mistake
    // Each commit's WAL frames reach the file in one write (sqlite_wal_batching.h).
    bool batchWalWrites = true;
  };

  // Opens (creating when absent) and applies the PRAGMAs: journal_mode=WAL, synchronous=FULL,
  // foreign_keys=ON, busy_timeout, and query_only for readers.
  static Result<std::unique_ptr<Connection>> open(const std::string& path,
                                                  const Settings& settings);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A cached prepared statement for `sql` (prepared on first use).
  Result<Statement> prepare(const std::string& sql);
  // Runs SQL text without parameters (BEGIN, COMMIT, DDL). Never pass data here.
  Status exec(const char* sql);
  // Runs one statement returning a single integer (PRAGMA user_version, COUNT...).
  Result<int64_t> queryInt(const std::string& sql);
  Result<std::string> queryText(const std::string& sql);

  sqlite3* handle() const { return db_; }
  Status lastError(std::string_view what) const;
  bool inTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int changes() const { return sqlite3_changes(db_); }

 private:
  friend class Statement;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool inUse = false;
  };
  Connection() = default;

  sqlite3* db_ = nullptr;
  Settings settings_;
  std::unordered_map<std::string, Cached> cache_;  // node-based: slot addresses are stable
};

}  // namespace acp::store::sqlite
