// IngestService — takes a partner's push through mapping, validation and the store, one
// record at a time, and says what happened to each record.
//
// Flow: bytes → PartnerMapper::map (parse to the partner's typed model, map to FHIR) →
// validate every resource against the R4 model → the store, each record in a unit of its own
// (Transaction::beginUnit: its resources and a Provenance are written together or not at
// all) → a RecordOutcome per record. Several records share one durable commit: the records
// of one push (in groups of up to kRecordsPerCommit), and with commitGrouped() the pushes
// that arrive while a commit is running (group commit, for the MLLP feed). Given a PushAudit
// (push_audit.h), each push's AuditEvents are committed in those same transactions.
// Idempotent: resource ids derive from the source (source_ids.h) and an update whose content
// equals the current version writes nothing, so a re-sent unchanged record is "unchanged",
// creates no version and no Provenance; a record with a delivery key already applied (HL7
// MSH-10 of the same sender) is "unchanged" without being applied again. One bad record never
// blocks the others.
// Thread-safety: partners are registered before use; commit() and commitGrouped() may run on
// many threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/metrics/registry.h"
#include "gateway/ingest/mapped_push.h"
#include "gateway/model/model.h"
#include "gateway/model/validator.h"
#include "gateway/profile/profile_validator.h"
#include "gateway/store/failure_log.h"
#include "gateway/store/resource_store.h"

namespace acp::ingest {

struct PushAudit;  // push_audit.h

// One partner's format: parse and map a whole push.
class PartnerMapper {
 public:
  virtual ~PartnerMapper() = default;
  virtual std::string name() const = 0;  // the path segment: POST /$ingest/<name>
  // Whether a body of this media type (lower-case, no parameters) is this partner's format.
  virtual bool acceptsMediaType(const std::string& mediaType) const = 0;
  // Maps one push. Returns false when the document as a whole cannot be read (then `issues`
  // says why and nothing is stored); record-level problems go into each MappedRecord.
  virtual bool map(std::string_view body, MappedPush& out, IssueList& issues) const = 0;
};

struct RecordOutcome {
  enum class Result { kStored, kUnchanged, kRejected };
  std::string recordId;
  Result result = Result::kRejected;
  std::vector<std::string> references;  // versioned references of what the record holds
  IssueList issues;
  // For the audit (push_audit.h). The gateway's Patient ids the record concerns (the persons
  // its resources are about or are; set once the record got that far, kept for stored and
  // unchanged records), and the versions it wrote (new versions and its Provenance; empty
  // unless stored).
  std::vector<std::string> patients;
  std::vector<std::string> written;
  // Its outcome is reported by a durable AuditEvent (push_audit.h); false when not audited.
  bool audited = false;
  // The record's store unit holds writes to commit: resources (stored), or only newer
  // source orders (unchanged). Internal to IngestService.
  bool wrote = false;
};

const char* resultName(RecordOutcome::Result r);

// The record was not stored because the store failed (rejected with ingest.store-failed): a
// transient failure — the sender resends (no HL7 ACK, a 503, a re-run import), and it is never
// kept on the failure list.
bool failedInStore(const RecordOutcome& o);

// Source order: where a source says how its records are ordered (a plan's version, a
// message's time), the mapper puts it on the resource in this extension, as text that sorts
// in that order (e.g. zero-padded). A record whose value is lower than the one last applied
// to that resource is not applied to it (warning ingest.stale): older data never overwrites
// newer. The IngestService takes the extension off before writing and keeps the order beside
// the resource (Transaction::sourceOrder), so a record that only confirms the stored content
// advances the order without a new version.
inline constexpr const char* kSourceOrderExtension =
    "https://acp-gateway.nhs.uk/StructureDefinition/source-order";
std::string sourceOrder(const json::Value& resource);  // "" when absent
// An order as it compares with others (orders of every source are UTC times or versions;
// the HL7 feed's early local-time form is converted).
std::string comparableOrder(const std::string& order);
json::Value sourceOrderExtension(const std::string& order);
json::Value withoutSourceOrder(const json::Value& resource);  // a copy without it

class IngestService {
 public:
  // `failures` (may be null): where rejected records and documents are kept.
  IngestService(std::shared_ptr<const model::Model> model,
                std::shared_ptr<store::ResourceStore> store,
                std::shared_ptr<store::FailureLog> failures = nullptr);

  void addPartner(std::shared_ptr<const PartnerMapper> mapper);
  // Profile validation (before use): every resource written gets meta.profile from
  // profiles.h and must be valid against those profiles too; without it only R4 is checked.
  void setProfiles(std::shared_ptr<const profile::ProfileValidator> profiles) {
    profiles_ = std::move(profiles);
  }
  const PartnerMapper* partner(const std::string& name) const;
  std::vector<std::string> partnerNames() const;

  // Validates and stores every record of the push. Rejected records are kept in the failure
  // log (with their content) unless `keepFailures` is false (a replay of a kept failure).
  // Returns when every stored record is durable.
  // With `audit` (push_audit.h), the push's AuditEvents are written with its records: one in
  // each transaction that commits some of them, one more (recorded after) for the records no
  // committed transaction reported; audit->complete then says whether every record is
  // reported. An event that cannot be appended fails its transaction (its records are
  // answered as a store failure: nothing is stored unaudited).
  std::vector<RecordOutcome> commit(const MappedPush& push, bool keepFailures = true,
                                    PushAudit* audit = nullptr) const;

  // The same, for pushes that arrive concurrently (one HL7 message per call from the MLLP
  // workers): the calls made while a commit is running share the next one, so N messages
  // cost one durable commit instead of N. Blocks until this push's records are durable or
  // failed; each caller then answers its own sender (an ACK only after its commit). With
  // `audit` as commit(): each push's event is in the shared transaction.
  std::vector<RecordOutcome> commitGrouped(const MappedPush& push,
                                           PushAudit* audit = nullptr) const;

  // Where ingest is counted (docs/operations.md, "Metrics"); unset: not counted. Set before use.
  // acp_ingest_records_total{partner,outcome}: outcome stored | unchanged | rejected (the
  // record was refused: the sender must correct it) | failed (a transient store failure: not
  // stored, and the sender is told to resend); acp_ingest_documents_refused_total{partner}:
  // documents that could not be read at all (keepDocumentFailure).
  void setMetrics(std::shared_ptr<metrics::Registry> metrics) { metrics_ = std::move(metrics); }

  // The clock (ms since the epoch) that dates Flags and decides when a review date has
  // passed; the system clock unless set (tests inject one). Set before use.
  void setClock(std::function<int64_t()> clock) { clock_ = std::move(clock); }

  // Re-evaluates the plan Flags that change with time alone (a review date passing, a 14th
  // birthday) for every child with an active plan or a Flag; run periodically by the
  // gateway. Returns how many Flags it wrote.
  Result<int> refreshTimedFlags() const;

  // At most this many records share one transaction (bounds how long the writer is held).
  static constexpr size_t kRecordsPerCommit = 256;

  // Keeps a document that could not be read at all (nothing was stored from it), with the
  // push id and sender when they could still be read (an HL7 message's MSH-10 and MSH-4).
  // Not ok when it could not be kept (no failure log, or the store failed): the live paths
  // answer the sender anyway (it still holds the document); the import command stops.
  Status keepDocumentFailure(const std::string& partner, const std::string& contentType,
                             const std::string& body, const IssueList& issues,
                             const std::string& pushId = "",
                             const std::string& sourceOds = "") const;
  store::FailureLog* failures() const { return failures_.get(); }

  // The answer to a push: a FHIR Parameters resource with one "record" parameter per record
  // (parts: id, outcome = stored | unchanged | rejected, one "resource" valueReference per
  // resource, and "issues" holding an OperationOutcome when there are any), after "pushId",
  // "source" and the counts "stored", "unchanged", "rejected".
  static json::Value outcomeParameters(const MappedPush& push,
                                       const std::vector<RecordOutcome>& outcomes);

 private:
  struct Item {  // one record of one push, and where its outcome goes
    const MappedPush* push;
    const MappedRecord* record;
    RecordOutcome* outcome;
    PushAudit* audit;  // the push's audit, or null
  };
  struct Waiter;  // a commitGrouped() call waiting for its group's commit
  void count(const MappedPush& push, const std::vector<RecordOutcome>& outcomes) const;

  // Applies the items in one transaction (each record in a unit) and commits it, with each
  // audited push's AuditEvent for its items when the transaction commits writes.
  void commitItems(const std::vector<Item>& items) const;
  // After a push's transactions: the event for its records not yet reported (recorded on its
  // own), and audit->complete. Must not run on a thread holding a write transaction.
  static void auditRemaining(const MappedPush& push, std::vector<RecordOutcome>& outcomes,
                             PushAudit* audit);
  RecordOutcome applyRecord(store::Transaction& tx, const MappedPush& push,
                            const MappedRecord& record) const;
  // Lays a merge (MappedRecord::merges) into `finals`; false (with errors) when it must not
  // happen, a Status on a store failure.
  Result<bool> applyMerge(store::Transaction& tx, const MappedRecord::PatientMerge& merge,
                          std::vector<json::Value>& finals, IssueList& issues) const;
  void keepRejected(const MappedPush& push, std::vector<RecordOutcome>& outcomes) const;
  json::Value provenance(const MappedPush& push, const MappedRecord& record,
                         const std::vector<std::string>& targets) const;

  int64_t now() const;

  std::shared_ptr<const model::Model> model_;
  std::shared_ptr<store::ResourceStore> store_;
  std::function<int64_t()> clock_;
  std::shared_ptr<store::FailureLog> failures_;
  std::shared_ptr<metrics::Registry> metrics_;
  model::Validator validator_;
  std::shared_ptr<const profile::ProfileValidator> profiles_;
  std::vector<std::shared_ptr<const PartnerMapper>> partners_;

  // Group commit (commitGrouped): waiting calls, and whether one of them is committing.
  mutable std::mutex groupMutex_;
  mutable std::condition_variable groupCv_;
  mutable std::deque<Waiter*> groupQueue_;
  mutable bool groupLeader_ = false;
};

}  // namespace acp::ingest
