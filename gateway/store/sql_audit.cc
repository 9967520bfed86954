// SqlStore as AuditLog: the audit_log and audit_patient tables (schema step 10). Appends go
// through the writer connection (one short transaction per batch, or inside a write's own
// transaction); pages, single rows and the chain walk go through the reader pool, so the
// privacy officer's searches never hold up the writer.
#include "gateway/store/sql_audit.h"

#include <string>
#include <utility>

#include "gateway/store/sql_store.h"
#include "gateway/store/sqlite_connection.h"
#include "gateway/store/writer_gate.h"

namespace acp::store {

using sql::Connection;
using sql::Statement;
using sql::StepResult;

namespace sql {

Status appendAuditRows(Connection& w, std::vector<AuditRow>& rows) {
  if (rows.empty()) return Status::ok();
  int64_t seq = 0;
  std::string prev = kAuditGenesisHash;
  {
    auto last = w.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (!last.isOk()) return last.status();
    StepResult r = last.value().step();
    if (r == StepResult::kRow) {
      seq = last.value().columnInt(0);
      prev = last.value().columnString(1);
    } else if (r != StepResult::kDone) {
      return last.value().error("audit head");
    }
  }
  auto ins = w.prepare(
      "INSERT INTO audit_log(seq, recorded, client, organisation, action, subtype, outcome, "
      "purpose, json, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  if (!ins.isOk()) return ins.status();
  auto pat = w.prepare("INSERT INTO audit_patient(patient, recorded, seq) VALUES (?1, ?2, ?3)");
  if (!pat.isOk()) return pat.status();
  Statement& s = ins.value();
  Statement& p = pat.value();
  for (AuditRow& row : rows) {
    normaliseAuditPatients(row.patients);
    row.seq = ++seq;
    row.prevHash = prev;
    row.hash = auditRowHash(row);
    s.bind(1, row.seq);
    s.bind(2, std::string_view(row.recorded), true);
    s.bind(3, std::string_view(row.client), true);
    s.bind(4, std::string_view(row.organisation), true);
    s.bind(5, std::string_view(row.action), true);
    s.bind(6, std::string_view(row.subtype), true);
    s.bind(7, int64_t{row.outcome});
    s.bind(8, std::string_view(row.purpose), true);
    s.bind(9, std::string_view(row.json), true);
    s.bind(10, std::string_view(row.prevHash), true);
    s.bind(11, std::string_view(row.hash), true);
    if (s.run() != StepResult::kDone) return s.error("audit append");
    s.reset();
    for (const std::string& patient : row.patients) {
      p.bind(1, std::string_view(patient), true);
      p.bind(2, std::string_view(row.recorded), true);
      p.bind(3, row.seq);
      if (p.run() != StepResult::kDone) return p.error("audit patient");
      p.reset();
    }
    prev = row.hash;
  }
  return Status::ok();
}

}  // namespace sql

namespace {

constexpr const char* kRowColumns =
    "l.seq, l.recorded, l.client, l.organisation, l.action, l.subtype, l.outcome, l.purpose, "
    "l.json, l.prev_hash, l.hash";

AuditRow rowFrom(const Statement& s) {
  AuditRow r;
  r.seq = s.columnInt(0);
  r.recorded = s.columnString(1);
  r.client = s.columnString(2);
  r.organisation = s.columnString(3);
  r.action = s.columnString(4);
  r.subtype = s.columnString(5);
  r.outcome = static_cast<int>(s.columnInt(6));
  r.purpose = s.columnString(7);
  r.json = s.columnString(8);
  r.prevHash = s.columnString(9);
  r.hash = s.columnString(10);
  return r;
}

// Rows read per snapshot by the chain walk.
constexpr int kVerifyChunk = 1000;

}  // namespace

Status SqlStore::appendAudit(std::vector<AuditRow>& rows, AuditDurability durability) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  if (rows.empty()) return Status::ok();
  if (writerHeldByThisThread())
    return Status::internal(
        "store.nested-transaction: this thread holds the write transaction; append the audit "
        "rows through it");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held())
    return Status::internal("store.busy: the writer stayed busy for " +
                            std::to_string(options_.busyTimeoutMs) + " ms");
  const bool deferSync = durability == AuditDurability::kProcess;
  // SQLite: synchronous=NORMAL for this transaction (set before BEGIN, restored after it
  // ends); PostgreSQL: SET LOCAL, which ends with the transaction.
  sqlite::SqliteConnection* unsynced = deferSync ? sqliteWriter_ : nullptr;
  Status s = unsynced ? unsynced->beginUnsyncedWrite() : writer_->beginWrite();
  if (!s.isOk()) return Status::internal("store.busy: " + s.message());
  if (deferSync && dialect_ == sql::Dialect::kPostgres)
    s = writer_->exec("SET LOCAL synchronous_commit = off");
  if (s.isOk()) s = sql::appendAuditRows(*writer_, rows);
  if (s.isOk()) s = writer_->exec("COMMIT");
  if (!s.isOk()) {
    // Whatever state the transaction is in (PostgreSQL: failed, which inTransaction() does
    // not count as open), it ends here; a ROLLBACK with none open is a harmless error.
    writer_->exec("ROLLBACK");
  }
  if (unsynced) unsynced->endUnsyncedWrite();
  return s;
}

Status SqlStore::flushAudit() {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  // SQLite: without the writer (appends go on meanwhile).
  if (dialect_ == sql::Dialect::kSqlite) return sqlite::syncWal(path_);
  // PostgreSQL: a synchronous commit waits until the WAL is flushed up to its own commit
  // record, which follows every asynchronous commit before it; the statement is given a
  // transaction id so that it writes a commit record at all. Takes the writer connection for
  // that one autocommit statement.
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held())
    return Status::internal("store.busy: the writer stayed busy for " +
                            std::to_string(options_.busyTimeoutMs) + " ms");
  return writer_->exec("SELECT pg_current_xact_id()");
}

Result<AuditPage> SqlStore::auditPage(const AuditQuery& q) {
  AuditPage page;
  if (q.count <= 0) return page;
  // Fixed fragments only; every value is bound (numbered placeholders, so the statement
  // cache keys on the query's shape). Ordered by (recorded, seq) descending, the order of
  // every index: a page is one index range. By patient, the order and the date range come
  // from audit_patient's own (patient, recorded, seq) key.
  const bool byPatient = !q.patient.empty();
  const char* t = byPatient ? "p." : "l.";
  auto col = [t](const char* name) { return std::string(t) + name; };
  std::string sql = std::string("SELECT ") + kRowColumns;
  if (byPatient) {
    sql += " FROM audit_patient p JOIN audit_log l ON l.seq = p.seq WHERE p.patient = ?1";
  } else {
    sql += " FROM audit_log l WHERE TRUE";
  }
  if (!q.recordedFrom.empty()) sql += " AND " + col("recorded") + " >= ?2";
  if (!q.recordedTo.empty()) sql += " AND " + col("recorded") + " <= ?3";
  if (!q.client.empty()) sql += " AND l.client = ?4";
  if (!q.organisation.empty()) sql += " AND l.organisation = ?5";
  if (!q.purpose.empty()) sql += " AND l.purpose = ?6";
  if (!q.subtype.empty()) sql += " AND l.subtype = ?7";
  if (!q.action.empty()) sql += " AND l.action = ?8";
  if (q.outcome) sql += " AND l.outcome = ?9";
  if (q.beforeSeq > 0)
    sql += " AND (" + col("recorded") + ", " + col("seq") + ") < (?10, ?11)";
  sql += " ORDER BY " + col("recorded") + " DESC, " + col("seq") + " DESC LIMIT ?12";

  auto lease = acquireReader();
  if (!lease.isOk()) return lease.status();
  auto st = lease.value()->prepare(sql);
  if (!st.isOk()) return st.status();
  Statement& s = st.value();
  if (byPatient) s.bind(1, std::string_view(q.patient), true);
  if (!q.recordedFrom.empty()) s.bind(2, std::string_view(q.recordedFrom), true);
  if (!q.recordedTo.empty()) s.bind(3, std::string_view(q.recordedTo), true);
  if (!q.client.empty()) s.bind(4, std::string_view(q.client), true);
  if (!q.organisation.empty()) s.bind(5, std::string_view(q.organisation), true);
  if (!q.purpose.empty()) s.bind(6, std::string_view(q.purpose), true);
  if (!q.subtype.empty()) s.bind(7, std::string_view(q.subtype), true);
  if (!q.action.empty()) s.bind(8, std::string_view(q.action), true);
  if (q.outcome) s.bind(9, int64_t{*q.outcome});
  if (q.beforeSeq > 0) {
    s.bind(10, std::string_view(q.beforeRecorded), true);
    s.bind(11, q.beforeSeq);
  }
  s.bind(12, int64_t{q.count} + 1);
  for (;;) {
    StepResult r = s.step();
    if (r == StepResult::kDone) break;
    if (r != StepResult::kRow) return s.error("audit page");
    if (static_cast<int>(page.rows.size()) == q.count) {
      page.nextRecorded = page.rows.back().recorded;
      page.nextSeq = page.rows.back().seq;
      break;
    }
    page.rows.push_back(rowFrom(s));
  }
  return page;
}

namespace {

// A read transaction on a reader connection: several statements on one snapshot.
class Snapshot {
 public:
  explicit Snapshot(Connection& c) : c_(c) { status_ = c_.beginRead(); }
  ~Snapshot() {
    if (status_.isOk()) c_.endRead();
  }
  const Status& status() const { return status_; }

 private:
  Connection& c_;
  Status status_;
};

// The patients of rows[0..] (ascending seq), read in one statement and attached to the row of
// the same seq. Patient rows whose seq has no row here are skipped: that seq is missing from
// the chain, which the caller reports. A patient row whose recorded differs from its event's
// (it would misplace the event in pages by patient) adds the seq to `misdated`.
Status attachPatients(Connection& c, std::vector<AuditRow>& rows,
                      std::vector<int64_t>* misdated = nullptr) {
  if (rows.empty()) return Status::ok();
  auto ps = c.prepare(
      "SELECT seq, patient, recorded FROM audit_patient WHERE seq >= ?1 AND seq <= ?2 "
      "ORDER BY seq, patient");
  if (!ps.isOk()) return ps.status();
  Statement& s = ps.value();
  s.bind(1, rows.front().seq);
  s.bind(2, rows.back().seq);
  size_t i = 0;
  for (;;) {
    StepResult r = s.step();
    if (r == StepResult::kDone) return Status::ok();
    if (r != StepResult::kRow) return s.error("audit patients");
    const int64_t seq = s.columnInt(0);
    while (i < rows.size() && rows[i].seq < seq) ++i;
    if (i >= rows.size() || rows[i].seq != seq) continue;
    rows[i].patients.push_back(s.columnString(1));
    if (misdated && s.columnText(2) != rows[i].recorded &&
        (misdated->empty() || misdated->back() != seq))
      misdated->push_back(seq);
  }
}

}  // namespace

Result<std::optional<AuditRow>> SqlStore::auditRow(int64_t seq) {
  auto lease = acquireReader();
  if (!lease.isOk()) return lease.status();
  Connection& c = *lease.value();
  Snapshot snapshot(c);  // the row and its patients as of one moment
  if (!snapshot.status().isOk()) return snapshot.status();
  std::vector<AuditRow> rows;
  {
    auto st = c.prepare(std::string("SELECT ") + kRowColumns + " FROM audit_log l WHERE l.seq = ?1");
    if (!st.isOk()) return st.status();
    st.value().bind(1, seq);
    StepResult r = st.value().step();
    if (r == StepResult::kDone) return std::optional<AuditRow>();
    if (r != StepResult::kRow) return st.value().error("audit row");
    rows.push_back(rowFrom(st.value()));
  }
  Status p = attachPatients(c, rows);
  if (!p.isOk()) return p;
  return std::optional<AuditRow>(std::move(rows.front()));
}

Result<AuditChainCheck> SqlStore::verifyAuditChain(int64_t anchorSeq,
                                                      const std::string& anchorHash) {
  AuditChainCheck check;
  std::string prev = kAuditGenesisHash;
  int64_t expected = 1;
  auto broken = [&check](int64_t seq, std::string problem) {
    check.intact = false;
    check.firstBrokenSeq = seq;
    check.problem = std::move(problem);
    return check;
  };
  for (;;) {
    // One chunk of rows and their patients, from one snapshot; the reader goes back to the
    // pool between chunks.
    std::vector<AuditRow> rows;
    std::vector<int64_t> misdated;
    {
      auto lease = acquireReader();
      if (!lease.isOk()) return lease.status();
      Connection& c = *lease.value();
      Snapshot snapshot(c);
      if (!snapshot.status().isOk()) return snapshot.status();
      {
        auto st = c.prepare(std::string("SELECT ") + kRowColumns +
                            " FROM audit_log l WHERE l.seq >= ?1 ORDER BY l.seq LIMIT ?2");
        if (!st.isOk()) return st.status();
        st.value().bind(1, expected);
        st.value().bind(2, int64_t{kVerifyChunk});
        for (;;) {
          StepResult r = st.value().step();
          if (r == StepResult::kDone) break;
          if (r != StepResult::kRow) return st.value().error("audit chain");
          rows.push_back(rowFrom(st.value()));
        }
      }
      Status p = attachPatients(c, rows, &misdated);
      if (!p.isOk()) return p;
    }
    size_t m = 0;
    for (const AuditRow& row : rows) {
      ++check.checked;
      if (row.seq != expected)
        return broken(expected, "seq " + std::to_string(expected) +
                                    " is missing (the next row is " + std::to_string(row.seq) + ")");
      if (row.prevHash != prev)
        return broken(row.seq, "its previous hash is not the hash of seq " +
                                   std::to_string(row.seq - 1));
      if (auditRowHash(row) != row.hash)
        return broken(row.seq, "its content does not match its hash");
      while (m < misdated.size() && misdated[m] < row.seq) ++m;
      if (m < misdated.size() && misdated[m] == row.seq)
        return broken(row.seq, "its patient rows carry another recorded instant");
      if (anchorSeq == row.seq && row.hash != anchorHash)
        return broken(row.seq, "its hash differs from the anchor");
      prev = row.hash;
      check.lastSeq = row.seq;
      check.lastHash = row.hash;
      ++expected;
    }
    if (static_cast<int>(rows.size()) < kVerifyChunk) break;
  }
  if (anchorSeq > check.lastSeq)
    return broken(check.lastSeq + 1, "the chain ends at seq " + std::to_string(check.lastSeq) +
                                         " but the anchor is seq " + std::to_string(anchorSeq));
  // Patient rows beyond the last event that belong to no event (an event removed from the
  // end, or rows added). Events appended since the walk ended bring their own patient rows
  // (in the same transaction): those are not orphans.
  auto lease = acquireReader();
  if (!lease.isOk()) return lease.status();
  auto st = lease.value()->prepare(
      "SELECT min(p.seq) FROM audit_patient p WHERE p.seq > ?1 AND NOT EXISTS "
      "(SELECT 1 FROM audit_log l WHERE l.seq = p.seq)");
  if (!st.isOk()) return st.status();
  st.value().bind(1, check.lastSeq);
  if (st.value().step() != StepResult::kRow) return st.value().error("audit chain patients");
  if (!st.value().columnIsNull(0)) {
    const int64_t orphan = st.value().columnInt(0);
    return broken(orphan, "patient rows for seq " + std::to_string(orphan) +
                              " belong to no event in the chain");
  }
  return check;
}

}  // namespace acp::store
