// The SQLite driver of the store's connection (sql_connection.h): one sqlite3 handle with its
// own cache of prepared statements.
//
// Statements are cached by their SQL text (search SQL varies only in shape, so the cache
// stays small); when the cache is full, or the cached statement is already in use by an
// enclosing loop, a private statement is prepared and finalised on release.
// Thread-safety: used by one thread at a time (the store's pool and writer gate ensure it);
// the handle is opened with SQLITE_OPEN_NOMUTEX.
// Errors: Status::internal "store.sqlite: …"; constraint violations step() as kConstraint.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gateway/core/status.h"
#include "gateway/store/sql_connection.h"

namespace acp::store::sqlite {

using sql::SqlArg;
using sql::Statement;
using sql::StepResult;

class SqliteConnection;

// A prepared sqlite3_stmt; cached ones live in their connection's cache, private ones delete
// themselves on release.
class SqliteStatement final : public sql::StatementImpl {
 public:
  SqliteStatement(SqliteConnection* conn, sqlite3_stmt* stmt, bool cached)
      : conn_(conn), stmt_(stmt), cached_(cached) {}
  ~SqliteStatement() override;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void bindInt(int index, int64_t v) override { sqlite3_bind_int64(stmt_, index, v); }
  void bindReal(int index, double v) override { sqlite3_bind_double(stmt_, index, v); }
  void bindText(int index, std::string_view v, bool stable) override {
    sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()),
                      stable ? SQLITE_STATIC : SQLITE_TRANSIENT);
  }
  void bindBlob(int index, std::string_view v) override {
    sqlite3_bind_blob(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bindNull(int index) override { sqlite3_bind_null(stmt_, index); }
  StepResult step() override;
  void reset() override { sqlite3_reset(stmt_); }
  int64_t columnInt(int i) const override { return sqlite3_column_int64(stmt_, i); }
  double columnReal(int i) const override { return sqlite3_column_double(stmt_, i); }
  bool columnIsNull(int i) const override { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::string_view columnText(int i) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n))
             : std::string_view();
  }
  std::string columnBlob(int i) const override {
    const void* p = sqlite3_column_blob(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  SqlArg::Kind columnKind(int i) const override;
  Status error(std::string_view what) const override;
  void release() override;

 private:
  friend class SqliteConnection;
  SqliteConnection* conn_;
  sqlite3_stmt* stmt_;
  bool cached_;
  bool inUse_ = false;
};

class SqliteConnection final : public sql::Connection {
 public:
  struct Settings {
    int busyTimeoutMs = 5000;
    size_t statementCacheSize = 128;
    bool readOnly = false;  // query_only: a reader can never write by mistake
    // Each commit's WAL frames reach the file in one write (sqlite_wal_batching.h).
    bool batchWalWrites = true;
    // PRAGMA cache_size: this connection's page cache, in KiB.
    int cacheKib = 32768;
  };

  // Opens (creating when absent) and applies the PRAGMAs: journal_mode=WAL, synchronous=FULL,
  // foreign_keys=ON, busy_timeout, cache_size (Settings::cacheKib), and query_only for readers.
  static Result<std::unique_ptr<SqliteConnection>> open(const std::string& path,
                                                        const Settings& settings);
  ~SqliteConnection() override;
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }

  // The bytes this connection's page cache holds now (0 if SQLite cannot tell).
  int64_t cacheBytes();
  // Frees this connection's unused cached pages (all of them, between transactions) when they
  // take more than `bytes`; a no-op below it. Call only between transactions, from the thread
  // that holds the connection.
  void releaseCacheAbove(int64_t bytes);
  Result<Statement> prepare(const std::string& sql) override;
  Status exec(const char* sql) override;
  // BEGIN IMMEDIATE, on a connection whose commits are at synchronous=FULL (restored here
  // first when endUnsyncedWrite could not restore it; refused when that fails again).
  Status beginWrite() override;
  // BEGIN IMMEDIATE with synchronous=NORMAL (SQLite refuses to change it inside a
  // transaction): this transaction's COMMIT writes the WAL without fsyncing it — committed and
  // visible, surviving a crash of this process, durable on disk only after the next fsync of
  // the WAL (a FULL commit, a checkpoint, syncWal). Call endUnsyncedWrite() once the
  // transaction has ended (committed or rolled back).
  Status beginUnsyncedWrite();
  // Back to synchronous=FULL; when that fails, the next beginWrite() tries again first.
  void endUnsyncedWrite();
  // Cached prepared statements: a read snapshot is taken for every search.
  Status beginRead() override { return runCached("BEGIN"); }
  Status endRead() override { return runCached("COMMIT"); }
  bool inTransaction() const override { return sqlite3_get_autocommit(db_) == 0; }
  Status lastError(std::string_view what) const override;

  sqlite3* handle() const { return db_; }

 private:
  SqliteConnection() = default;
  Status runCached(const char* sql);

  sqlite3* db_ = nullptr;
  Settings settings_;
  bool syncFullPending_ = false;  // not yet back at synchronous=FULL after an unsynced write
  // Node-based: the statements' addresses are stable.
  std::unordered_map<std::string, SqliteStatement> cache_;
};

// fdatasyncs the WAL of the database at `path` ("<path>-wal"), through a descriptor of its
// own: fsync applies to the file, so every frame any connection has written becomes durable.
// A missing WAL is ok (nothing waits in one). Errors: store.sqlite (open or sync failed).
Status syncWal(const std::string& path);

}  // namespace acp::store::sqlite
