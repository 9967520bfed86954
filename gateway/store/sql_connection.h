// The store's database connection, whatever the database: SQLite (sqlite_connection.h) or
// PostgreSQL (pg_connection.h). SqlStore, its search and its non-FHIR tables are written once
// against this interface; where the two SQL dialects differ, they ask dialect().
//
// SQL text uses SQLite's numbered placeholders (?1, ?2 … or plain ?), which the PostgreSQL
// driver rewrites to $1, $2 …; every value reaches the database as a bound parameter, never
// inside SQL text. Statement is a move-only handle on a prepared statement borrowed from its
// Connection; destroying it makes the statement reusable (bindings cleared).
// Thread-safety: a Connection, and its Statements, are used by one thread at a time.
// Errors: failures come back as Status::internal with a "store.sqlite: …" or
// "store.postgres: …" message; the one expected failure, a constraint violation (unique key,
// foreign key), is reported by Statement::step() as StepResult::kConstraint so callers can
// turn it into a value. On PostgreSQL a failed statement aborts the enclosing transaction
// up to the innermost savepoint: callers that go on after kConstraint roll back to one first.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/status.h"

namespace acp::store::sql {

enum class Dialect { kSqlite, kPostgres };

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

// A driver's prepared statement. Bind indexes are 1-based; column indexes 0-based.
class StatementImpl {
 public:
  virtual ~StatementImpl() = default;
  virtual void bindInt(int index, int64_t v) = 0;
  virtual void bindReal(int index, double v) = 0;
  // Text is copied unless `stable` promises it outlives the next step().
  virtual void bindText(int index, std::string_view v, bool stable) = 0;
  // Bytes that need not be text (SQLite BLOB, PostgreSQL bytea).
  virtual void bindBlob(int index, std::string_view v) = 0;
  virtual void bindNull(int index) = 0;
  virtual StepResult step() = 0;
  // Runnable again with the same bindings.
  virtual void reset() = 0;
  virtual int64_t columnInt(int i) const = 0;
  virtual double columnReal(int i) const = 0;
  virtual bool columnIsNull(int i) const = 0;
  virtual std::string_view columnText(int i) const = 0;
  virtual std::string columnBlob(int i) const = 0;
  // The kind of the value in column i of the current row.
  virtual SqlArg::Kind columnKind(int i) const = 0;
  virtual Status error(std::string_view what) const = 0;
  // The handle lets go: clear bindings and results, and return to the connection's cache
  // (or delete itself).
  virtual void release() = 0;
};

class Statement {
 public:
  Statement() = default;
  explicit Statement(StatementImpl* impl) : impl_(impl) {}
  Statement(Statement&& o) noexcept : impl_(o.impl_) { o.impl_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept {
    if (this != &o) {
      release();
      impl_ = o.impl_;
      o.impl_ = nullptr;
    }
    return *this;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { release(); }

  bool valid() const { return impl_ != nullptr; }

  void bind(int index, int64_t v) { impl_->bindInt(index, v); }
  void bind(int index, int v) { impl_->bindInt(index, v); }
  void bind(int index, double v) { impl_->bindReal(index, v); }
  void bind(int index, std::string_view v, bool stable = false) {
    impl_->bindText(index, v, stable);
  }
  void bindBlob(int index, std::string_view v) { impl_->bindBlob(index, v); }
  void bindNull(int index) { impl_->bindNull(index); }
  void bind(int index, const SqlArg& a);
  // Binds args[0..] to placeholders 1..n (the planner's arguments stay alive meanwhile).
  void bindAll(const std::vector<SqlArg>& args);

  StepResult step() { return impl_->step(); }
  void reset() { impl_->reset(); }
  // Steps to completion (for INSERT/UPDATE/DELETE); kDone, kConstraint or kError.
  StepResult run();

  int64_t columnInt(int i) const { return impl_->columnInt(i); }
  double columnReal(int i) const { return impl_->columnReal(i); }
  bool columnIsNull(int i) const { return impl_->columnIsNull(i); }
  std::string_view columnText(int i) const { return impl_->columnText(i); }
  std::string columnString(int i) const { return std::string(impl_->columnText(i)); }
  std::string columnBlob(int i) const { return impl_->columnBlob(i); }
  SqlArg columnArg(int i) const;

  // The last error of the owning connection, as a Status::internal.
  Status error(std::string_view what) const { return impl_->error(what); }

 private:
  void release() {
    if (impl_) impl_->release();
    impl_ = nullptr;
  }
  StatementImpl* impl_ = nullptr;
};

class Connection {
 public:
  virtual ~Connection() = default;

  virtual Dialect dialect() const = 0;

  // A prepared statement for `sql` (cached by its text).
  virtual Result<Statement> prepare(const std::string& sql) = 0;
  // Runs SQL text without parameters (COMMIT, SAVEPOINT, DDL). Never pass data here.
  virtual Status exec(const char* sql) = 0;
  // Runs one statement returning a single value (0 or "" when it returns no row).
  Result<int64_t> queryInt(const std::string& sql);
  Result<std::string> queryText(const std::string& sql);

  // Opens a write transaction that no other writer — in this process or another on the same
  // database — runs beside: SQLite BEGIN IMMEDIATE; PostgreSQL BEGIN plus a transaction-scoped
  // advisory lock shared by every gateway on the database (so commit order is the order of
  // versions.seq and audit_log.seq, which history paging and the audit chain rely on).
  virtual Status beginWrite() = 0;
  // Opens a read-only transaction: one snapshot for several statements; endRead() ends it.
  virtual Status beginRead() = 0;
  virtual Status endRead() = 0;
  // A transaction is open and usable (PostgreSQL: not failed).
  virtual bool inTransaction() const = 0;

  virtual Status lastError(std::string_view what) const = 0;
};

}  // namespace acp::store::sql
