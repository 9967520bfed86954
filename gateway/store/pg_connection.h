// The PostgreSQL driver of the store's connection (sql_connection.h), on libpq.
//
// - SQL text written for SQLite's numbered placeholders (?1 … or ?) is rewritten to $1 …
//   (toPostgresPlaceholders); each distinct text is prepared once per connection (server-side,
//   parameter types inferred by the server from the statement) and cached by its text.
// - Values travel in text format (blobs in binary); a statement's whole result is fetched by
//   its first step() and then walked row by row.
// - Every session sets synchronous_commit=on (commit returns once the WAL is flushed),
//   lock_timeout and statement_timeout (so nothing waits forever), and application_name.
// - beginWrite() takes the store's advisory lock (writeLockKey of the session's schema) for the
//   transaction: one writer at a time across every gateway sharing the store. Advisory locks
//   are per database, so stores in different schemas of one database do not share it.
// - A lost connection is re-established (PQreset) by the next prepare()/exec()/begin outside a
//   transaction; a transaction that was open when it broke is gone (the caller sees the error).
// - COMMIT of a transaction PostgreSQL had already failed reports an error
//   ("store.transaction-aborted"), never success.
// Thread-safety: one thread at a time. Errors: Status::internal "store.postgres: …" (with the
// SQLSTATE); SQLSTATE class 23 (integrity constraint) steps as kConstraint.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/core/status.h"
#include "gateway/store/sql_connection.h"

namespace acp::store::pg {

using sql::SqlArg;
using sql::Statement;
using sql::StepResult;

// The advisory lock every gateway's write transaction on the store in `schema` holds: a 64-bit
// FNV-1a hash of "acp-gateway:" + schema (so two stores in one database never share it).
int64_t writeLockKey(std::string_view schema);

// SQLite placeholders to PostgreSQL's. SQLite numbers them ?N (a bare ? is one more than the
// largest so far) and tolerates gaps; PostgreSQL must infer a type for every $N up to the
// highest, so the numbers are made dense in order of first use: "… ?3 … ?7 … ?3" becomes
// "… $1 … $2 … $1". `slots` receives, for each SQLite number N, its $ number (slots[N], 0 when
// the text does not use it). Quoted text ('…', "…") and comments are left alone.
std::string toPostgresPlaceholders(std::string_view sql, std::vector<int>* slots);

class PgConnection;

class PgStatement final : public sql::StatementImpl {
 public:
  // A prepared statement `name`, or (name empty) one parsed at each execution from `sql`;
  // `slots` as from toPostgresPlaceholders.
  PgStatement(PgConnection* conn, std::string name, std::string sql, std::vector<int> slots);
  ~PgStatement() override;

  void bindInt(int index, int64_t v) override;
  void bindReal(int index, double v) override;
  void bindText(int index, std::string_view v, bool stable) override;
  void bindBlob(int index, std::string_view v) override;
  void bindNull(int index) override;
  StepResult step() override;
  void reset() override;
  int64_t columnInt(int i) const override;
  double columnReal(int i) const override;
  bool columnIsNull(int i) const override;
  std::string_view columnText(int i) const override;
  std::string columnBlob(int i) const override;
  SqlArg::Kind columnKind(int i) const override;
  Status error(std::string_view what) const override;
  void release() override { delete this; }

 private:
  // The value slot of SQLite placeholder `index`, or -1 when the SQL does not use it.
  int slot(int index);
  void clearResult();

  PgConnection* conn_;
  std::string name_, sql_;
  std::vector<int> slots_;
  std::vector<std::string> values_;
  std::vector<char> isNull_, isBinary_;
  PGresult* result_ = nullptr;
  int row_ = -1, rows_ = 0;
  bool executed_ = false;
  bool badValue_ = false;  // a text value that cannot be sent
};

class PgConnection final : public sql::Connection {
 public:
  struct Settings {
    int lockTimeoutMs = 5000;         // waits for the write lock (and row locks)
    int statementTimeoutMs = 60000;   // any one statement
    bool readOnly = false;            // default_transaction_read_only: a reader never writes
    std::string applicationName = "acp-gateway";
    size_t statementCacheSize = 256;  // statements prepared on the server per connection
  };

  // Connects to `uri` (a libpq connection URI or key=value string).
  static Result<std::unique_ptr<PgConnection>> open(const std::string& uri,
                                                    const Settings& settings);
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
  Result<Statement> prepare(const std::string& sql) override;
  Status exec(const char* sql) override;
  Status beginWrite() override;
  Status beginRead() override;
  Status endRead() override { return exec("COMMIT"); }
  bool inTransaction() const override;
  Status lastError(std::string_view what) const override;

  PGconn* handle() const { return conn_; }
  // The schema the session writes in (current_schema()) and the store's write lock key.
  const std::string& schema() const { return schema_; }
  int64_t lockKey() const { return lockKey_; }

 private:
  friend class PgStatement;
  PgConnection() = default;
  Status configureSession();
  // Re-establishes a broken connection when no transaction was open.
  Status ensureConnected();
  // Records the error of a failed result (message and SQLSTATE) for lastError().
  void noteError(const PGresult* r, std::string_view what);

  PGconn* conn_ = nullptr;
  Settings settings_;
  struct Prepared {
    std::string name;
    std::vector<int> slots;
  };
  std::unordered_map<std::string, Prepared> prepared_;  // by the SQL text as given
  int nextName_ = 0;
  std::string lastError_;
  std::string schema_;
  int64_t lockKey_ = 0;
};

}  // namespace acp::store::pg
