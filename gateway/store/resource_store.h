// ResourceStore — versioned FHIR resource storage with search (the one interface that has
// several implementations: store/sqlite now, PostgreSQL later).
//
// Contracts shared by every implementation:
// - Every write runs in a Transaction; nothing is visible to readers until commit() returns
//   ok, and commit() returns only after the data is durable (SQLite synchronous=FULL).
//   A Transaction destroyed without commit() rolls back.
// - The store owns meta.versionId (1, 2, 3 … per resource) and meta.lastUpdated (instant,
//   UTC, millisecond precision); whatever the caller put there is replaced.
// - Search-index rows (search/index.h) are written in the same transaction as the resource.
// - Delete is logical: a new version marked deleted; read() then returns kGone.
// - Uniqueness (conditional-create keys) is enforced by unique indexes inside the write
//   transaction, never by search-then-insert alone.
// Thread-safety: a ResourceStore may be used from any number of threads at once; each
// Transaction belongs to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/core/status.h"
#include "gateway/search/query.h"
#include "gateway/store/audit_log.h"

namespace acp::store {

// One stored version of a resource.
struct StoredResource {
  std::string type;
  std::string id;
  int64_t versionId = 0;
  std::string lastUpdated;  // FHIR instant, e.g. "2026-11-22T18:00:00.123Z"
  bool deleted = false;     // this version is a delete marker (json is empty)
  std::string json;         // the resource as stored, meta included; empty when deleted
  std::string method;       // POST | PUT | DELETE: how this version was made (history)
};

// The outcome of a write.
struct WriteResult {
  StoredResource resource;
  bool created = false;  // a new resource (201) rather than a new version (200); also true
                         // when an update brings back a deleted resource
  bool noop = false;     // conditional create matched an existing resource; nothing written
                         // (also: update with unchanged content, delete of a missing or
                         // already deleted resource)
};

struct HistoryQuery {
  std::string type;          // "" for whole-system history
  std::string id;            // "" for type history
  std::optional<std::string> since;  // _since instant
  int count = 50;
  std::string cursor;        // opaque, from the previous page
};

struct Page {
  std::vector<StoredResource> entries;   // matches (or history versions), in order
  std::vector<StoredResource> included;  // _include / _revinclude results (search only)
  std::optional<int64_t> total;          // when requested (search) or cheap (history)
  std::string nextCursor;                // "" when this is the last page
  bool includesTruncated = false;        // `included` stopped at the store's include limit
};

// A possible duplicate for review (ingest/person_resolver.h).
struct CandidateLink {
  int64_t id = 0;
  std::string personA, personB;  // Patient ids, personA < personB
  std::string reason;
  std::string status;            // open | confirmed | rejected
  std::string created, decided;  // instants; decided "" while open
};

struct PatientSource {
  std::string sourceId;
  std::string personId;
  std::string json;
  int64_t seq = 0;  // higher = written later
};

class Transaction {
 public:
  virtual ~Transaction() = default;

  // Creates a new resource with a server-assigned id (a random UUID, or `assignedId` when the
  // server chose it earlier, e.g. for a transaction's urn:uuid placeholder). With
  // `conditionalKey` (the normalised If-None-Exist query), `conditional` is the parsed query:
  // when it matches one resource that one is returned with noop=true; more than one gives
  // kPrecondition; none creates, and the key is recorded under a unique index.
  virtual Result<WriteResult> create(const std::string& type, json::Value resource,
                                     const search::SearchQuery* conditional = nullptr,
                                     const std::string& conditionalKey = "",
                                     const std::string& assignedId = "") = 0;

  // Creates or updates `type/id`. ifMatch: the version the client last saw (kConflict → 412
  // when stale is mapped by the caller: the store returns kPrecondition). Update with
  // content equal to the current version (ignoring meta) writes nothing and returns the
  // current version with noop=true.
  virtual Result<WriteResult> update(const std::string& type, const std::string& id,
                                     json::Value resource,
                                     std::optional<int64_t> ifMatch = std::nullopt) = 0;

  // Logically deletes; deleting a missing or already-deleted resource is ok (noop=true).
  virtual Result<WriteResult> remove(const std::string& type, const std::string& id,
                                     std::optional<int64_t> ifMatch = std::nullopt) = 0;

  // Ids of current resources matching the query, at most `limit` (for conditional
  // update/delete inside this transaction).
  virtual Result<std::vector<std::string>> match(const search::SearchQuery& query,
                                                 int limit) = 0;

  virtual Result<StoredResource> read(const std::string& type, const std::string& id) = 0;
  // Where the newest version of any resource of `type` stands in commit order (a number that
  // grows with every version written, by any gateway on the database), 0 when there is none:
  // a cache of that type's resources is current while it is unchanged.
  virtual Result<int64_t> lastChangeOf(const std::string& type) = 0;
  // The versions of one resource, newest first, at most `limit` (delete markers included,
  // with deleted set and no JSON).
  virtual Result<std::vector<StoredResource>> versions(const std::string& type,
                                                       const std::string& id, int limit) = 0;

  // Units: all-or-nothing parts of one transaction (group commit: many records share one
  // commit, each record's writes kept or undone as a whole). beginUnit() opens a unit;
  // endUnit(true) folds its writes into the transaction, endUnit(false) undoes every write
  // made since its beginUnit(). Units nest (last opened, first ended); a transaction
  // committed with a unit open commits that unit's writes too.
  virtual Status beginUnit() = 0;
  virtual Status endUnit(bool keep) = 0;

  // Records that the delivery `key` (e.g. sender + HL7 MSH-10) is being applied in this
  // transaction. Returns false, writing nothing, when the key was recorded by an earlier
  // committed transaction (or earlier in this one): the delivery is a resend. The record is
  // undone with the transaction (or unit) that made it.
  virtual Result<bool> claimDelivery(const std::string& key) = 0;

  // The source order last applied to type/id (ingest/ingest_service.h: which of two records
  // from a source is newer), "" when none; kept beside the resource, not in it, so a record
  // that only confirms the stored content advances it without a new version.
  virtual Result<std::string> sourceOrder(const std::string& type, const std::string& id) = 0;
  virtual Status setSourceOrder(const std::string& type, const std::string& id,
                                const std::string& order) = 0;

  // Patient sources (ingest/person_index.h): one row per source patient record (its
  // source-derived id), holding that source's view of the patient as Patient JSON and the
  // person — the Patient resource served — it belongs to. Not a FHIR resource: never
  // searched, never served.
  virtual Result<std::optional<PatientSource>> patientSource(const std::string& sourceId) = 0;
  // The sources of one person, oldest written first.
  virtual Result<std::vector<PatientSource>> patientSources(const std::string& personId) = 0;
  // Writes (or rewrites) a source; it becomes the newest. Returns false, writing nothing,
  // when the source already holds exactly this person and JSON.
  virtual Result<bool> setPatientSource(const std::string& sourceId, const std::string& personId,
                                        const std::string& json) = 0;

  // The resources the records of a source patient wrote (type, id), so they can follow it to
  // another person (ingest/person_resolver.h). Adding a pair already there is a no-op;
  // moving gives `from`'s resources to `to` (an ADT^A40 merge of two source patients).
  virtual Status addSourceResources(
      const std::string& sourceId, const std::vector<std::pair<std::string, std::string>>& resources) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> sourceResources(
      const std::string& sourceId) = 0;
  virtual Status moveSourceResources(const std::string& from, const std::string& to) = 0;

  // Candidate links: proposing a pair already known (in either order, whatever its status)
  // writes nothing and returns 0; otherwise the new link's id.
  virtual Result<int64_t> proposeCandidate(const std::string& a, const std::string& b,
                                           const std::string& reason, const std::string& now) = 0;
  virtual Result<std::optional<CandidateLink>> candidate(int64_t id) = 0;
  // Newest first; status "" for all.
  virtual Result<std::vector<CandidateLink>> candidates(const std::string& status, int limit) = 0;
  virtual Status decideCandidate(int64_t id, const std::string& status, const std::string& now) = 0;

  // Records that the committed write of type/id version `version` owes Subscription
  // `subscriptionId` a notification (store/notification_outbox.h), due at once.
  virtual Status enqueueNotification(const std::string& subscriptionId, const std::string& type,
                                     const std::string& id, int64_t version, int64_t nowMs) = 0;

  // Appends audit rows (store/audit_log.h) in this transaction: they commit with its writes
  // or not at all (and are undone with a unit ended with keep=false). Fills in seq, prevHash
  // and hash (the chain continues from the newest row, committed or written earlier in this
  // transaction) and normalises patients; the seqs are only valid once committed.
  virtual Status appendAudit(std::vector<AuditRow>& rows) = 0;

  virtual Status commit() = 0;
};

// Sees every resource version a transaction writes (create, update), inside the write's
// savepoint, and how the transaction ends. Used for R4 Subscriptions (gateway/notify/): it
// may read and match through the transaction and enqueue notifications; an error fails the
// write. Called by the thread holding the transaction.
class WriteObserver {
 public:
  virtual ~WriteObserver() = default;
  virtual Status onWrite(Transaction& tx, const StoredResource& written) = 0;
  virtual void onEnd(bool committed) = 0;
};

class ResourceStore {
 public:
  virtual ~ResourceStore() = default;

  virtual Result<std::unique_ptr<Transaction>> begin() = 0;

  // Whether the store can serve now (GET /readyz): a read connection is free within a quarter
  // of a second and answers, and the database's schema is the one this build migrates to. ok,
  // or why not (store.busy — also when PostgreSQL cannot be reached for a first read
  // connection —, store.unreachable, store.schema-mismatch; kInternal). Writes are not tried.
  virtual Status readiness() = 0;

  // Current version. kNotFound when it never existed; kGone when the current version is a
  // delete (the StoredResource is then not available: use history).
  virtual Result<StoredResource> read(const std::string& type, const std::string& id) = 0;
  // A specific version; a delete marker version gives kGone.
  virtual Result<StoredResource> vread(const std::string& type, const std::string& id,
                                       int64_t version) = 0;
  // Versions newest first.
  virtual Result<Page> history(const HistoryQuery& query) = 0;
  // Current, non-deleted resources matching the query, one page, plus includes.
  virtual Result<Page> search(const search::SearchQuery& query) = 0;
};

}  // namespace acp::store
