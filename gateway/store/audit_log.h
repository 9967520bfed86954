// AuditLog — the append-only audit trail kept in the store (gateway/audit/ writes and reads it;
// the security officer's view is AuditEvent). Not a FHIR resource table: one cheap row per
// event (every read is audited, so no search-index rows and no versions), plus one row per
// patient the event concerns.
//
// Rows are appended either inside a write's own Transaction (Transaction::appendAudit: the
// write and its audit commit together or not at all) or on their own (appendAudit below: one
// durable transaction for a batch, used for reads and denials).
//
// The hash chain: rows are numbered 1, 2, 3 … (seq, dense, in append order under the store's
// single writer) and each row carries the hash of the one before (prevHash; kAuditGenesisHash
// for seq 1) and its own hash = auditRowHash(row): SHA-256 over the previous hash, seq, the
// searchable columns, the patient list and the event JSON (auditHashInput). Changing,
// removing, reordering or inserting a row breaks the chain at that row; verifyAuditChain()
// walks it. Removing the newest rows cannot be seen from the chain alone: compare the head
// with one recorded earlier (AuditChainCheck::lastSeq / lastHash, the anchor arguments).
// The SQLite implementation also refuses UPDATE and DELETE on the audit tables (triggers),
// so only someone editing the file behind the gateway's back can change them.
//
// Patient ids in rows are the gateway's Patient resource ids. The trail is access-controlled
// store content: nothing here is ever written to a log.
// Thread-safety: implementations are safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/status.h"

namespace acp::store {

// The prevHash of the first row: 64 zeros.
inline constexpr const char* kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditRow {
  // Assigned on append (whatever the caller put there is replaced).
  int64_t seq = 0;
  std::string prevHash;
  std::string hash;
  // Given by the caller: the searchable facts, and the event itself.
  std::string recorded;      // FHIR instant, fixed width "YYYY-MM-DDThh:mm:ss.sssZ" (sorts as time)
  std::string client;        // client id ("" when unknown, e.g. an unauthenticated request)
  std::string organisation;  // ODS code of the client's organisation ("" when unknown)
  std::string action;        // C R U D E
  std::string subtype;       // "read", "search-type", "create", "$acp-summary", "login" …
  int outcome = 0;           // 0 success, 4 minor failure (a denial), 8 serious, 12 major
  std::string purpose;       // v3 PurposeOfUse code ("TREAT", "ETREAT"), "" when none
  std::vector<std::string> patients;  // Patient ids; stored sorted, without duplicates
  std::string json;          // the AuditEvent as canonical JSON, without id, meta or chain
};

// One page of rows, newest first: by recorded, then seq (recorded is the caller's instant, so
// it may run slightly out of seq order). Every filter left empty (or unset) matches
// everything.
struct AuditQuery {
  std::string recordedFrom;  // instant: recorded >= recordedFrom (same fixed-width form)
  std::string recordedTo;    // instant: recorded <= recordedTo
  std::string client, organisation, patient, purpose, subtype, action;
  std::optional<int> outcome;
  int count = 50;            // rows per page (0: none)
  // The cursor: only rows before (beforeRecorded, beforeSeq) in page order, i.e. with
  // (recorded, seq) lower. Unused while beforeSeq is 0.
  std::string beforeRecorded;
  int64_t beforeSeq = 0;
};

struct AuditPage {
  std::vector<AuditRow> rows;  // patients is left empty here (they are in the JSON)
  // The next page's cursor (AuditQuery::beforeRecorded / beforeSeq): the last row's; seq 0
  // when this is the last page.
  std::string nextRecorded;
  int64_t nextSeq = 0;
};

struct AuditChainCheck {
  bool intact = true;
  int64_t checked = 0;         // rows examined (up to and including the first broken one)
  int64_t firstBrokenSeq = 0;  // the first seq that cannot be trusted; 0 when intact
  std::string problem;         // why (no patient data); "" when intact
  int64_t lastSeq = 0;         // the last row examined: the head when intact (0: empty trail)
  std::string lastHash;        // its stored hash: keep it to detect later truncation
};

// How far a batch appended with AuditLog::appendAudit has got when the call returns ok.
enum class AuditDurability {
  // On disk: survives a crash of the machine (SQLite: the WAL is fsynced; PostgreSQL:
  // synchronous_commit=on).
  kDisk,
  // Committed — visible to every reader, kept in order in the chain, and surviving a crash of
  // the gateway process — but not yet flushed to disk: a crash of the machine (power loss,
  // kernel panic) before the next flush can lose it, always as a whole batch at the chain's
  // head (never a row in the middle). Flushed by the next disk-durable commit of the store
  // (any write does it), by flushAudit(), or — PostgreSQL only — by the server's WAL writer
  // within 3 × wal_writer_delay (600 ms by default). SQLite: the commit runs with
  // synchronous=NORMAL; PostgreSQL: SET LOCAL synchronous_commit = off.
  kProcess,
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // Appends `rows` in one transaction of their own, in order, and returns once it is
  // committed with `durability` (ok) or nothing of it was written (error). Fills in seq,
  // prevHash and hash, and sorts and de-duplicates patients. Must not be called by a thread
  // that holds a write Transaction (use Transaction::appendAudit there, which always commits
  // with the write, on disk): store.nested-transaction.
  // Errors: store.busy (the writer stayed busy), store.sqlite.
  virtual Status appendAudit(std::vector<AuditRow>& rows,
                             AuditDurability durability = AuditDurability::kDisk) = 0;

  // Makes every row committed so far durable on disk (after kProcess appends). Does not take
  // the writer: appends go on meanwhile. Errors: store.sqlite / store.postgres (the flush
  // failed: the rows stay committed, and a later flush or disk-durable commit retries).
  virtual Status flushAudit() = 0;

  // True when the calling thread holds the store's write Transaction (appendAudit from it
  // is refused with store.nested-transaction): lets a caller that would hand the rows to
  // another thread refuse at once instead of waiting for a writer it holds itself.
  virtual bool writerHeldByThisThread() = 0;

  // Rows matching `query`, newest (highest seq) first. Errors: store.busy, store.sqlite.
  virtual Result<AuditPage> auditPage(const AuditQuery& query) = 0;

  // One row with its patients; nullopt when there is no such seq.
  virtual Result<std::optional<AuditRow>> auditRow(int64_t seq) = 0;

  // Walks the whole chain in seq order (in chunks, never all rows in memory, each chunk on a
  // snapshot of its own: appends go on meanwhile and rows appended before the walk reaches
  // the end are checked too) and stops at the first row that breaks it: a seq gap (a row
  // removed: firstBrokenSeq is the missing seq), a prevHash that is not the previous row's
  // hash, a hash that does not match the row's content, patient rows that differ from the
  // ones hashed or carry another recorded instant than their event, or patient rows for a seq
  // beyond the last row. With anchorSeq > 0, the row anchorSeq must still exist with hash
  // anchorHash (a head recorded earlier: detects removal of the newest rows).
  // Errors: store.busy, store.sqlite (a broken chain is a result, not an error).
  virtual Result<AuditChainCheck> verifyAuditChain(int64_t anchorSeq = 0,
                                                   const std::string& anchorHash = "") = 0;
};

// The exact text a row's hash covers, given its seq, prevHash, columns, patients (sorted,
// unique) and json:
//   prevHash "\n" [seq,"recorded","client","organisation","action","subtype",outcome,
//   "purpose",["patient",…]] "\n" json
// (the middle line is a JSON array, strings JSON-escaped, no spaces: nothing can move from
// one field to another).
std::string auditHashInput(const AuditRow& row);

// Lower-case hex SHA-256 of auditHashInput(row).
std::string auditRowHash(const AuditRow& row);

// Sorts and removes duplicate patients (what appendAudit stores and hashes).
void normaliseAuditPatients(std::vector<std::string>& patients);

}  // namespace acp::store
