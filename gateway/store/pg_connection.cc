#include "gateway/store/pg_connection.h"

#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string>

namespace acp::store::pg {

namespace {

// Type OIDs of pg_type (stable across PostgreSQL versions).
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700,
              kFloat8 = 701, kNumeric = 1700;

void ignoreNotice(void*, const char*) {}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

int64_t writeLockKey(std::string_view schema) {
  uint64_t h = 1469598103934665603ull;
  for (char c : std::string("acp-gateway:") + std::string(schema)) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return static_cast<int64_t>(h);
}

std::string toPostgresPlaceholders(std::string_view sql, std::vector<int>* slots) {
  std::string out;
  out.reserve(sql.size() + 8);
  int highest = 0, used = 0;
  std::vector<int> map(1, 0);
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {  // a quoted literal or identifier ('' / "" escape themselves)
      size_t end = sql.find(c, i + 1);
      end = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      end = end == std::string_view::npos ? sql.size() : end + 2;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '?') {
      size_t j = i + 1;
      int n = 0;
      while (j < sql.size() && isDigit(sql[j])) n = n * 10 + (sql[j++] - '0');
      if (j == i + 1) n = highest + 1;
      if (n > highest) highest = n;
      if (static_cast<size_t>(n) >= map.size()) map.resize(static_cast<size_t>(n) + 1, 0);
      if (map[n] == 0) map[n] = ++used;
      out.push_back('$');
      out += std::to_string(map[n]);
      i = j;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  if (slots) *slots = std::move(map);
  return out;
}

// ---- statement ---------------------------------------------------------------------------

PgStatement::PgStatement(PgConnection* conn, std::string name, std::string sql,
                         std::vector<int> slots)
    : conn_(conn), name_(std::move(name)), sql_(std::move(sql)), slots_(std::move(slots)) {
  int params = 0;
  for (int s : slots_)
    if (s > params) params = s;
  values_.resize(static_cast<size_t>(params));
  isNull_.assign(static_cast<size_t>(params), 1);
  isBinary_.assign(static_cast<size_t>(params), 0);
}

PgStatement::~PgStatement() { clearResult(); }

void PgStatement::clearResult() {
  if (result_) PQclear(result_);
  result_ = nullptr;
  row_ = -1;
  rows_ = 0;
  executed_ = false;
}

int PgStatement::slot(int index) {
  if (executed_) clearResult();  // rebinding without reset(): start again
  if (index < 1 || static_cast<size_t>(index) >= slots_.size()) return -1;
  return slots_[index] - 1;
}

void PgStatement::bindInt(int index, int64_t v) {
  int k = slot(index);
  if (k < 0) return;
  values_[k] = std::to_string(v);
  isNull_[k] = 0;
  isBinary_[k] = 0;
}

void PgStatement::bindReal(int index, double v) {
  int k = slot(index);
  if (k < 0) return;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  values_[k] = buf;
  isNull_[k] = 0;
  isBinary_[k] = 0;
}

void PgStatement::bindText(int index, std::string_view v, bool) {
  int k = slot(index);
  if (k < 0) return;
  // Text parameters travel NUL-terminated: a NUL inside would cut the value short.
  if (v.find('\0') != std::string_view::npos) badValue_ = true;
  values_[k].assign(v.data(), v.size());
  isNull_[k] = 0;
  isBinary_[k] = 0;
}

void PgStatement::bindBlob(int index, std::string_view v) {
  int k = slot(index);
  if (k < 0) return;
  values_[k].assign(v.data(), v.size());
  isNull_[k] = 0;
  isBinary_[k] = 1;
}

void PgStatement::bindNull(int index) {
  int k = slot(index);
  if (k < 0) return;
  values_[k].clear();
  isNull_[k] = 1;
  isBinary_[k] = 0;
}

void PgStatement::reset() { clearResult(); }

StepResult PgStatement::step() {
  if (!executed_) {
    executed_ = true;
    if (badValue_) {
      conn_->lastError_ = "a text value holds a NUL byte, which PostgreSQL text cannot store";
      return StepResult::kError;
    }
    const int n = static_cast<int>(values_.size());
    std::vector<const char*> ptrs(values_.size());
    std::vector<int> lengths(values_.size()), formats(values_.size());
    for (int i = 0; i < n; ++i) {
      ptrs[i] = isNull_[i] ? nullptr : values_[i].c_str();
      lengths[i] = static_cast<int>(values_[i].size());
      formats[i] = isBinary_[i];
    }
    result_ = name_.empty()
                  ? PQexecParams(conn_->conn_, sql_.c_str(), n, nullptr, ptrs.data(),
                                 lengths.data(), formats.data(), 0)
                  : PQexecPrepared(conn_->conn_, name_.c_str(), n, ptrs.data(), lengths.data(),
                                   formats.data(), 0);
    ExecStatusType st = result_ ? PQresultStatus(result_) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK) {
      rows_ = PQntuples(result_);
    } else if (st == PGRES_COMMAND_OK) {
      rows_ = 0;
    } else {
      conn_->noteError(result_, "statement");
      const char* state = result_ ? PQresultErrorField(result_, PG_DIAG_SQLSTATE) : nullptr;
      if (result_) PQclear(result_);
      result_ = nullptr;
      rows_ = 0;
      return state && std::strncmp(state, "23", 2) == 0 ? StepResult::kConstraint
                                                         : StepResult::kError;
    }
  }
  if (row_ + 1 < rows_) {
    ++row_;
    return StepResult::kRow;
  }
  row_ = rows_;
  return StepResult::kDone;
}

int64_t PgStatement::columnInt(int i) const {
  if (!result_ || row_ < 0 || row_ >= rows_ || PQgetisnull(result_, row_, i)) return 0;
  const char* v = PQgetvalue(result_, row_, i);
  if (v[0] == 't' && v[1] == '\0') return 1;  // boolean
  if (v[0] == 'f' && v[1] == '\0') return 0;
  return std::strtoll(v, nullptr, 10);
}

double PgStatement::columnReal(int i) const {
  if (!result_ || row_ < 0 || row_ >= rows_ || PQgetisnull(result_, row_, i)) return 0;
  return std::strtod(PQgetvalue(result_, row_, i), nullptr);
}

bool PgStatement::columnIsNull(int i) const {
  if (!result_ || row_ < 0 || row_ >= rows_) return true;
  return PQgetisnull(result_, row_, i) != 0;
}

std::string_view PgStatement::columnText(int i) const {
  if (!result_ || row_ < 0 || row_ >= rows_ || PQgetisnull(result_, row_, i)) return {};
  return std::string_view(PQgetvalue(result_, row_, i),
                          static_cast<size_t>(PQgetlength(result_, row_, i)));
}

std::string PgStatement::columnBlob(int i) const {
  if (columnIsNull(i)) return {};
  if (PQftype(result_, i) != kBytea) return std::string(columnText(i));
  size_t n = 0;
  unsigned char* bytes =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row_, i)), &n);
  if (!bytes) return {};
  std::string out(reinterpret_cast<const char*>(bytes), n);
  PQfreemem(bytes);
  return out;
}

SqlArg::Kind PgStatement::columnKind(int i) const {
  if (columnIsNull(i)) return SqlArg::Kind::kNull;
  switch (PQftype(result_, i)) {
    case kBool:
    case kInt2:
    case kInt4:
    case kInt8:
      return SqlArg::Kind::kInt;
    case kFloat4:
    case kFloat8:
    case kNumeric:
      return SqlArg::Kind::kReal;
    default:
      return SqlArg::Kind::kText;
  }
}

Status PgStatement::error(std::string_view what) const { return conn_->lastError(what); }

// ---- connection --------------------------------------------------------------------------

Result<std::unique_ptr<PgConnection>> PgConnection::open(const std::string& uri,
                                                         const Settings& settings) {
  // libpq quotes a malformed URI (password and all) in its parse errors: the URI is parsed
  // here first, and a malformed one is reported without its text.
  char* parseError = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &parseError);
  if (!parsed) {
    if (parseError) PQfreemem(parseError);
    return Status::invalid(
        "store.open-failed: PostgreSQL: the connection URL is malformed (not shown: it may hold "
        "a password)");
  }
  PQconninfoFree(parsed);
  std::unique_ptr<PgConnection> c(new PgConnection());
  c->settings_ = settings;
  c->conn_ = PQconnectdb(uri.c_str());
  if (!c->conn_ || PQstatus(c->conn_) != CONNECTION_OK) {
    std::string msg = c->conn_ ? PQerrorMessage(c->conn_) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status::internal("store.open-failed: PostgreSQL: " + msg);
  }
  PQsetNoticeProcessor(c->conn_, &ignoreNotice, nullptr);
  Status s = c->configureSession();
  if (!s.isOk()) return s;
  return c;
}

PgConnection::~PgConnection() {
  if (conn_) PQfinish(conn_);
}

Status PgConnection::configureSession() {
  std::string app;
  for (char ch : settings_.applicationName)
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || isDigit(ch) || ch == '-' ||
        ch == '_')
      app.push_back(ch);
  std::string sql = "SET synchronous_commit = on; SET client_encoding = 'UTF8'; "
                    "SET lock_timeout = " +
                    std::to_string(settings_.lockTimeoutMs) +
                    "; SET statement_timeout = " + std::to_string(settings_.statementTimeoutMs) +
                    "; SET application_name = '" + app + "'";
  if (settings_.readOnly) sql += "; SET default_transaction_read_only = on";
  PGresult* r = PQexec(conn_, sql.c_str());
  bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) noteError(r, "session settings");
  if (r) PQclear(r);
  if (!ok) return lastError("open");
  r = PQexec(conn_, "SELECT current_schema()");
  ok = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);
  if (ok) schema_ = PQgetvalue(r, 0, 0);
  if (!ok) noteError(r, "current schema");
  if (r) PQclear(r);
  if (!ok) return Status::internal("store.open-failed: PostgreSQL: no schema to write in (" +
                                   lastError_ + "); check search_path");
  lockKey_ = writeLockKey(schema_);
  return Status::ok();
}

Status PgConnection::ensureConnected() {
  if (PQstatus(conn_) == CONNECTION_OK) return Status::ok();
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE && PQtransactionStatus(conn_) != PQTRANS_UNKNOWN)
    return Status::internal("store.postgres: the connection broke inside a transaction");
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    lastError_ = PQerrorMessage(conn_);
    return lastError("reconnect");
  }
  prepared_.clear();  // the new session has none of them
  return configureSession();
}

void PgConnection::noteError(const PGresult* r, std::string_view what) {
  std::string msg;
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  if (primary) {
    msg = primary;
    // Data exceptions quote the offending value ("invalid input syntax …: \"…\""): values may
    // be patient data, which must not reach a log.
    if (state && std::strncmp(state, "22", 2) == 0) {
      size_t colon = msg.find(": ");
      if (colon != std::string::npos) msg.resize(colon);
    }
  } else {
    msg = PQerrorMessage(conn_);
  }
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (state) msg += std::string(" (SQLSTATE ") + state + ")";
  lastError_ = std::string(what) + ": " + msg;
}

Result<Statement> PgConnection::prepare(const std::string& sql) {
  if (!inTransaction()) {
    Status s = ensureConnected();
    if (!s.isOk()) return s;
  }
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::vector<int> slots;
    std::string text = toPostgresPlaceholders(sql, &slots);
    if (prepared_.size() >= settings_.statementCacheSize)  // an unusual shape: parsed each time
      return Statement(new PgStatement(this, std::string(), std::move(text), std::move(slots)));
    std::string name = "acp" + std::to_string(++nextName_);
    PGresult* r = PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr);
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) noteError(r, "prepare");
    if (r) PQclear(r);
    if (!ok) return lastError("prepare");
    it = prepared_.emplace(sql, Prepared{std::move(name), std::move(slots)}).first;
  }
  return Statement(new PgStatement(this, it->second.name, std::string(), it->second.slots));
}

Status PgConnection::exec(const char* sql) {
  if (!inTransaction() && PQtransactionStatus(conn_) != PQTRANS_INERROR) {
    Status s = ensureConnected();
    if (!s.isOk()) return s;
  }
  PGresult* r = PQexec(conn_, sql);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
  // COMMIT of a transaction PostgreSQL had already failed "succeeds" as a ROLLBACK.
  bool rolledBack = ok && std::strncmp(sql, "COMMIT", 6) == 0 && r &&
                    std::strcmp(PQcmdStatus(r), "ROLLBACK") == 0;
  if (!ok) noteError(r, "exec");
  if (r) PQclear(r);
  if (rolledBack)
    return Status::internal(
        "store.transaction-aborted: PostgreSQL rolled the transaction back after an error");
  if (!ok)
    return Status::internal("store.postgres: " + lastError_ + " (in " +
                            std::string(sql).substr(0, 80) + ")");
  return Status::ok();
}

Status PgConnection::beginWrite() {
  Status s = exec("BEGIN");
  if (!s.isOk()) return s;
  const std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(lockKey_) + ")";
  s = exec(lock.c_str());
  if (!s.isOk()) {
    exec("ROLLBACK");
    return Status::internal("store.busy: the write lock: " + s.message());
  }
  return Status::ok();
}

Status PgConnection::beginRead() { return exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }

bool PgConnection::inTransaction() const {
  PGTransactionStatusType t = PQtransactionStatus(conn_);
  return t == PQTRANS_INTRANS || t == PQTRANS_ACTIVE;
}

Status PgConnection::lastError(std::string_view what) const {
  return Status::internal("store.postgres: " + std::string(what) + ": " + lastError_);
}

}  // namespace acp::store::pg
