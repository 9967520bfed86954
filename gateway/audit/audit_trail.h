// AuditTrail — records an AuditEvent for every read, search, write, operation and denial, and
// gives the privacy officer the trail: AuditEvent search, read and $verify-chain.
//
// Recording:
// - A write records inside its own Transaction (recordWithin) before committing it: the
//   write and its AuditEvent are durable together or not at all.
// - A read, search, operation or denial records with submit() or record(). Both hand the
//   event to the trail's committer, one thread of the trail's own (started at the first
//   event, joined by the destructor after the queue is empty and flushed), which appends every
//   waiting event (up to maxBatch) in one store transaction — a group commit, with one fsync
//   or, with AuditTrailOptions::durability kProcess, an fsync at most every flushMs — and
//   then reports to each event's caller, in order. submit() returns at once and reports
//   through its callback (called on the committer thread, or at once on the calling thread
//   when the record is invalid or the trail is stopping); record() waits for that report.
//   The caller sends its response only after the report was ok; when it failed, it answers
//   with an error (503 for store.busy) instead of the data — an unaudited read is never
//   served. The HTTP server parks a read's response until then (http_server.h), so its
//   workers go on serving while the commit runs.
// - Never call record() on a thread that holds a write Transaction: it is refused at once
//   (store.nested-transaction) rather than waiting for the writer that thread holds; use
//   recordWithin there. A submit() callback must not block on the trail (it runs on the
//   committer).
// The events are IHE BALP style (audit_event.h); the trail is the store's hash-chained,
// append-only audit log (store/audit_log.h).
//
// Reading (authorisation is the caller's: only the privacy-officer role may search the
// trail or verify it; searching it is itself an audited search):
// - search(params): a searchset Bundle of AuditEvents, newest first (by recorded, then by
//   seq: the order in which they were appended). Parameters:
//     date=[ge|le|gt|lt|eq]<date or instant>   AuditEvent.recorded (repeatable: ANDed)
//     agent=<client id>                         the requesting client system
//     organization=<ODS code>                   the client's organisation
//     patient=[Patient/]<id>                    an event concerning this patient
//     purpose=[system|]<code>                   purpose of use, e.g. ETREAT (break-glass)
//     outcome=0|4|8|12                          4 lists the denials
//     subtype=[system|]<code>                   read, search-type, create, $acp-summary, login …
//     action=C|R|U|D|E
//     _count=<n> (default 50, at most maxCount), _cursor (from the next link),
//     _sort=-date (the only order), _format and _pretty (left to the transport).
//   Each parameter takes one value (no comma lists) and, except date, appears once.
// - read(id): one AuditEvent (id = its seq).
// - verifyChain(params): the $verify-chain answer, a Parameters resource: result (boolean),
//   checked (rows examined), lastSeq and lastHash (the head: keep them, and pass them back
//   later as anchorSeq / anchorHash to detect removal of the newest rows), and when broken
//   firstBrokenSeq and message. Parameters: anchorSeq, anchorHash (both or neither).
// Errors: parameters the trail does not support are Status::notSupported with a message
// starting "audit.unsupported-parameter: "; malformed values Status::invalid
// "audit.invalid-parameter: " (both: 400). read of an unknown id: Status::notFound
// "audit.not-found: ". Store failures pass through (store.busy → 503, others 500).
// Thread-safety: every method may be called from any number of threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gateway/audit/audit_event.h"
#include "gateway/audit/audit_record.h"
#include "gateway/core/json.h"
#include "gateway/core/status.h"
#include "gateway/store/audit_log.h"
#include "gateway/store/resource_store.h"

namespace acp::audit {

struct AuditTrailOptions {
  // The gateway as the events' observer and server agent (audit_event.h).
  AuditSource source;
  // Clock in ms since the epoch for AuditRecord::recordedMs = 0 (default: the system clock).
  std::function<int64_t()> nowMs;
  // Events committed together by record() at most (a larger backlog takes several commits).
  size_t maxBatch = 1000;
  // How far the event of a read, search, operation or denial (submit, record) has got when
  // its caller hears ok (store/audit_log.h): kDisk — on disk; kProcess — committed (visible,
  // surviving a crash of the gateway process) and flushed to disk within flushMs: the
  // committer's next batch after that commits on disk, or, when none comes, it flushes. So a
  // crash of the machine loses at most the events of the last flushMs (plus the disk's own
  // sync time), always the newest, and never a write's event (recordWithin and recordAll
  // always commit on disk).
  store::AuditDurability durability = store::AuditDurability::kDisk;
  int flushMs = 100;
  // search(): page size when _count is absent, and the largest accepted.
  int defaultCount = 50;
  int maxCount = 1000;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

class AuditTrail {
 public:
  // `log` is the store's audit log (SqlStore is one); it must outlive the trail.
  explicit AuditTrail(std::shared_ptr<store::AuditLog> log, AuditTrailOptions options = {});

  // Appends the event to `tx` (a write's own transaction, not yet committed); it commits with
  // it. Errors: audit.invalid-record (Status::invalid: a wiring mistake), store errors.
  Status recordWithin(store::Transaction& tx, const AuditRecord& record) const;

  // Appends the event and returns once it is durable. Errors: audit.invalid-record,
  // store.busy, store.nested-transaction, store.sqlite.
  Status record(const AuditRecord& record) const;

  // Queues the event for the next group commit and returns; `done` is called once with the
  // outcome (the errors of record()). `done` must be cheap and must not wait on the trail.
  void submit(const AuditRecord& record, std::function<void(Status)> done) const;

  ~AuditTrail();
  AuditTrail(const AuditTrail&) = delete;
  AuditTrail& operator=(const AuditTrail&) = delete;

  // Appends several events (in order) in one transaction of their own and returns once they
  // are durable: for a writer with many events at once (http/refusal_audit.h). None is
  // appended when one is invalid. Errors as record(); the same thread rule.
  Status recordAll(const std::vector<AuditRecord>& records) const;

  // GET [base]/AuditEvent?… → a searchset Bundle; `baseUrl` has no trailing slash.
  Result<json::Value> search(const QueryParams& params, const std::string& baseUrl) const;

  // GET [base]/AuditEvent/<id> → the AuditEvent.
  Result<json::Value> read(const std::string& id) const;

  // [base]/AuditEvent/$verify-chain → Parameters (see above).
  Result<json::Value> verifyChain(const QueryParams& params = {}) const;

 private:
  struct Pending {  // an event waiting for its group's commit
    store::AuditRow row;
    std::function<void(Status)> done;
  };
  int64_t now() const;
  void commitLoop() const;

  std::shared_ptr<store::AuditLog> log_;
  AuditTrailOptions options_;

  // Group commit: the queue of events not yet committed, and the committer that drains it.
  mutable std::mutex groupMutex_;
  mutable std::condition_variable groupWake_;
  mutable std::deque<Pending> groupQueue_;
  mutable std::thread committer_;
  mutable bool stopping_ = false;
};

}  // namespace acp::audit
