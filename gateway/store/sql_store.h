// SqlStore — the ResourceStore (store/resource_store.h) on SQL: one SQLite file (embedded, the
// default) or one PostgreSQL database shared by any number of gateway instances (scale-out).
// The same code serves both through sql::Connection (sql_connection.h); open() picks the
// driver from the location: "postgresql://…" / "postgres://…" (a libpq URI) or a file path.
//
// Layout: resources (current state + current JSON), versions (every version), seven search
// index tables and conditional_keys; see sqlite_schema.h / pg_schema.h. The same database holds
// the non-FHIR tables behind FailureLog, NotificationOutbox and AuditLog (the audit trail,
// audit_log.h).
// Durability: commit() returns once the commit is durable — SQLite journal_mode=WAL with
// synchronous=FULL (the WAL is fsynced); PostgreSQL synchronous_commit=on (set by the gateway on
// every connection, whatever the server's default).
//
// Concurrency: a pool of `poolSize` reader connections serves read / vread / history / search
// from any thread, each search on one snapshot (SQLite: a WAL read transaction; PostgreSQL:
// REPEATABLE READ READ ONLY); ONE writer connection is owned by at most one Transaction at a time
// (a write gate taken in begin(), waited for at most busyTimeoutMs, and released by commit() or
// destruction). Write transactions exclude each other across processes too (SQLite BEGIN
// IMMEDIATE; PostgreSQL a transaction-scoped advisory lock taken by every gateway on the
// database), so versions.seq and audit_log.seq are in commit order. A Transaction is used by one
// thread at a time; calling begin() again on the thread that holds the writer returns an error
// instead of deadlocking. Transactions must end before the store is destroyed.
// Each Transaction operation runs inside a SAVEPOINT: an operation that fails leaves no
// trace in the transaction, and the caller may still commit the others or drop them all.
//
// Write semantics beyond resource_store.h:
// - create ignores any id in the body and assigns a random UUID v4 (or options.newId).
// - update validates the id ([A-Za-z0-9-.]{1,64}); an id in the body must equal it.
//   WriteResult.created is true when there was no live version (new id, or resurrection of
//   a deleted resource), matching "201 Created"; it is false for a new version.
// - remove: a missing resource gives noop=true (with ifMatch: kPrecondition); an already
//   deleted one gives noop=true with its delete-marker version.
// - A new version whose content equals the current one (ignoring meta.versionId and
//   meta.lastUpdated) is not written: noop=true with the current version.
// - A conditional create whose If-None-Exist key is recorded for a live resource that the
//   query no longer finds returns that resource (noop): the key is the uniqueness guarantee.
//   The key is dropped when its resource is deleted.
//
// Errors (Status code, then the stable code at the start of the message):
//   kInvalid       store.invalid-type, store.invalid-resource, store.invalid-id,
//                  store.bad-cursor, store.bad-since
//   kPrecondition  store.version-mismatch (stale If-Match), store.multiple-matches
//   kNotFound      store.not-found;  kGone store.gone
//   kConflict      store.id-collision (a generated id already exists)
//   kNotSupported  store.unsupported-search
//   kInternal      store.open-failed, store.migration-failed, store.schema-too-new,
//                  store.sqlite, store.postgres, store.busy, store.nested-transaction,
//                  store.transaction-closed, store.transaction-aborted (the database ended
//                  the transaction after an error: every later call fails)
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gateway/model/model.h"
#include "gateway/store/audit_log.h"
#include "gateway/store/failure_log.h"
#include "gateway/store/notification_outbox.h"
#include "gateway/store/pg_change_feed.h"
#include "gateway/store/pg_connection.h"
#include "gateway/store/replay_ledger.h"
#include "gateway/store/resource_store.h"
#include "gateway/store/sql_connection.h"
#include "gateway/store/sqlite_connection.h"

namespace acp::store {

struct StoreOptions {
  // SQLite: this store is the file's one writing process (a gateway, or the import command):
  // before the database is opened or migrated, the file's gateway lock ("<file>.gateway-lock",
  // see releaseClaimsOfGoneProcesses) is taken and held for the store's life; when another
  // process holds it, open() fails with store.in-use and the file is not touched. Off for tools
  // that only read or build a file of their own (benchmarks). Ignored on PostgreSQL.
  bool sqliteExclusive = false;
  // Reader connections (read, vread, history, search run concurrently up to this many; on
  // PostgreSQL opened as they are first needed).
  int poolSize = 4;
  // How long a writer waits for the write lock (in process and in SQLite), and a reader for
  // a free connection, before giving up with store.busy.
  int busyTimeoutMs = 5000;
  // Prepared statements cached per connection (search SQL is cached by its shape).
  size_t statementCacheSize = 256;
  // _include/_revinclude resources returned with one page at most; beyond, the page says
  // includesTruncated.
  size_t maxIncludes = 1000;
  // Clock in ms since the epoch (default: the system clock). lastUpdated never goes back.
  std::function<int64_t()> clock;
  // Id generator for create (default: random UUID v4 from std::random_device).
  std::function<std::string()> newId;
  // This server's base URL ("https://host/fhir", no trailing slash): absolute references
  // starting with it are indexed by type and id (search::IndexOptions::baseUrl).
  std::string baseUrl;
  // Checkpoints (copying the WAL into the database file) run on a thread of their own once the
  // WAL holds this many pages, so no commit — and no MLLP ACK waiting for one — pays for
  // them (a commit may wait for one short WAL restart: a few frames and a sync); 0 leaves them to SQLite
  // (in the committing thread, every 1000 pages).
  int checkpointPages = 4000;
  // SQLite: the memory of the page caches at rest, in bytes: the readers share it (each a
  // cache of sqliteMemoryLimitBytes / poolSize, at least 256 KiB), and the writer keeps no more
  // than one reader's share between writes. Readers gain little from more: every commit (each
  // read's audit too) discards their caches. 0: no limit (32 MiB per read connection, the
  // writer's as below; nothing given back). Measured: docs/performance.md, "Latest harness table".
  int64_t sqliteMemoryLimitBytes = 4 * 1024 * 1024;
  // SQLite: the writer's page cache during a write, in bytes: a large transaction (a 50-child
  // load, a hospice document) keeps its index pages here instead of re-reading them. Released
  // after the write down to one reader's share (above), so it is held only while writing.
  // The process-wide soft heap limit (sqlite3_soft_heap_limit64; the last store opened sets it)
  // is the two together.
  int64_t sqliteWriterCacheBytes = 24 * 1024 * 1024;
};

class SqlStore : public ResourceStore,
                    public FailureLog,
                    public NotificationOutbox,
                    public ReplayLedger,
                    public AuditLog {
 public:
  // Opens the database — a PostgreSQL URI ("postgresql://…", "postgres://…") or an SQLite
  // file path (created when absent) — applies the migrations and opens the pool.
  static Result<std::unique_ptr<SqlStore>> open(const std::string& location,
                                                   std::shared_ptr<const model::Model> model,
                                                   StoreOptions options = {});

  // Use open(); a store constructed directly answers every call with store.open-failed
  // until init() has succeeded.
  SqlStore(std::string location, std::shared_ptr<const model::Model> model, StoreOptions options);
  Status init();
  ~SqlStore() override;

  // Set before use: sees every write (R4 Subscriptions).
  void setWriteObserver(std::shared_ptr<WriteObserver> observer) { observer_ = std::move(observer); }

  // PostgreSQL: called, on a thread of the store's own, with the resource types each committed
  // transaction of any gateway on the database wrote — this one's too — or {"*"} when some may
  // have been missed (pg_change_feed.h). SQLite: never called (one gateway per file). Set once,
  // before use; the store stops the feed before it closes.
  void setChangeListener(std::function<void(const std::vector<std::string>& types)> listener);
  // The change feed is connected and listening (PostgreSQL; false for SQLite).
  bool changeFeedListening() const;

  // Work that one gateway of several on the store should do at a time (the timed Flag sweep):
  // tryLead(name) is true when this store may go ahead — on PostgreSQL when it took the
  // session-level advisory lock for `name` on its writer connection, which no other gateway on
  // the store holds (a gateway that dies lets go with its session); always on SQLite.
  // endLead(name) lets go. Not reentrant: one lead per name at a time per store.
  bool tryLead(const std::string& name);
  void endLead(const std::string& name);

  // NotificationOutbox (sql_outbox.cc): the notifications table.
  Result<std::vector<Notification>> dueNotifications(int64_t nowMs, int limit) override;
  Result<std::vector<Notification>> claimNotifications(int64_t nowMs, int limit,
                                                       int64_t leaseMs) override;
  Status notificationDelivered(int64_t id, const std::string& nowInstant) override;
  Status notificationRetry(int64_t id, int attempts, int64_t nextMs, const std::string& error) override;
  Status notificationFailed(int64_t id, const std::string& error) override;

  // ReplayLedger (sql_replay_ledger.cc): the used_assertions table.
  Result<bool> firstUse(const std::string& clientId, const std::string& jti,
                        int64_t keepUntilMs, int64_t nowMs) override;

  // AuditLog (sql_audit.cc): the audit_log and audit_patient tables.
  Status appendAudit(std::vector<AuditRow>& rows,
                     AuditDurability durability = AuditDurability::kDisk) override;
  Status flushAudit() override;
  bool writerHeldByThisThread() override;
  Result<AuditPage> auditPage(const AuditQuery& query) override;
  Result<std::optional<AuditRow>> auditRow(int64_t seq) override;
  Result<AuditChainCheck> verifyAuditChain(int64_t anchorSeq = 0,
                                           const std::string& anchorHash = "") override;

  // FailureLog (sql_failure_log.cc): the ingest_failures table of the same database.
  Result<int64_t> keep(const KeptFailure& failure) override;
  Result<std::vector<KeptFailure>> list(const std::string& status, int limit,
                                        int64_t before) override;
  Result<KeptFailure> get(int64_t id) override;
  Status update(int64_t id, const std::string& status, const std::string& issuesJson) override;

  Result<std::unique_ptr<Transaction>> begin() override;
  Result<StoredResource> read(const std::string& type, const std::string& id) override;
  Result<StoredResource> vread(const std::string& type, const std::string& id,
                               int64_t version) override;
  Result<Page> history(const HistoryQuery& query) override;
  Result<Page> search(const search::SearchQuery& query) override;
  Status readiness() override;

  // NotificationOutbox::releaseClaimsOfGoneProcesses. Without it a killed gateway's claims would
  // hold its notifications back for minutes (the lease, Notifier::deliverDue); delivery is at
  // least once, so one sent just before the kill may be sent again.
  // SQLite (one gateway serves a file): the first call tries an exclusive lock on
  // "<file>.gateway-lock", held for the store's life and, when it gets it, makes every pending
  // notification that is leased or backing off due at `nowMs` (those were a killed
  // predecessor's); later calls release nothing, nor does a first call while another process
  // holds the lock (a second gateway on the file). SQLite claims record no claimer.
  // PostgreSQL (several gateways may share the database): each store claims under an owner id
  // of its own, random, and holds a session advisory lock on that id on a connection of its
  // own for its life; PostgreSQL drops the lock when the process dies (its connection ends).
  // A claim records its claimer; a claimer whose lock can be taken is gone, and its claims are
  // due again. The lock's session is checked at each claim and release: when the connection
  // broke (and was re-established in a new session) the lock is taken again, under a new id if
  // the old one is being released meanwhile. Between the break and that check a live gateway
  // looks gone: what it had claimed may be delivered twice (still at least once).
  Status releaseClaimsOfGoneProcesses(int64_t nowMs) override;

  // What the operators' metrics read at each scrape (sql_stats.cc; app/scrape_gauges.cc): the
  // database's size and the work waiting for people or for retries. Counted on a reader, so a
  // scrape never waits for the writer.
  struct Stats {
    int64_t databaseBytes = 0;          // SQLite: the main file (pages × page size; not the WAL);
                                        // PostgreSQL: the schema's tables with their indexes
    int64_t failuresOpen = 0;           // kept ingest failures not yet replayed
    int64_t candidateLinksOpen = 0;     // possible matches waiting for a person to decide
    int64_t notificationsPending = 0;   // not yet delivered (due, backing off or claimed)
    int64_t notificationsFailed = 0;    // given up or dropped
  };
  Result<Stats> stats();

  sql::Dialect dialect() const { return dialect_; }

  // Diagnostics for operations and tests.
  // SQLite only: the value of one of journal_mode, synchronous, foreign_keys, busy_timeout,
  // query_only, cache_size on the writer (reader=false) or on a reader connection; other names
  // are refused.
  Result<std::string> pragma(std::string_view name, bool reader = false);
  // SQLite only: the bytes the writer connection's page cache holds now (it waits for the
  // writer); -1 on PostgreSQL or when the writer stayed busy. For tests and diagnostics.
  int64_t sqliteWriterCacheBytes();

  // SQLite only: EXPLAIN QUERY PLAN of the page query of `query`, one "detail" line per plan row.
  Result<std::vector<std::string>> explainSearch(const search::SearchQuery& query);

  const std::string& path() const { return path_; }

 private:
  friend class SqlTransaction;
  class ReaderLease;

  Result<ReaderLease> acquireReader();  // waits up to options_.busyTimeoutMs
  Result<ReaderLease> acquireReader(int timeoutMs);
  static constexpr int kReadinessWaitMs = 250;  // readiness(): how long a probe waits for a reader
  void releaseReader(sql::Connection* c);
  int64_t nextTimestamp();  // writer lock held
  std::string newId();

  Status initSqlite();
  Status initPostgres();
  pg::PgConnection::Settings pgReaderSettings() const;
  std::string leadKey(const std::string& name) const;  // PostgreSQL only
  // Moves lastTimestamp_ up to the newest stored version's (writer held, or during init()).
  Status catchUpTimestamp();

  std::string path_;  // the location given to open()
  int ownerLockFd_ = -1;  // SQLite: "<file>.gateway-lock", held (releaseClaimsOfGoneProcesses)
  // PostgreSQL: this store's claimer id and the connection holding its advisory lock
  // (releaseClaimsOfGoneProcesses); taken at the first claim or release. ownerMutex_ guards
  // both. claimOwner() is the id to record in a claim, 0 (none) until the lock is held.
  std::mutex ownerMutex_;
  int64_t claimOwnerId_ = 0;
  int64_t ownerSessionPid_ = 0;  // the server session (backend pid) holding the lock
  std::unique_ptr<pg::PgConnection> ownerConnection_;
  int64_t claimOwner();
  int64_t holdClaimerLock();  // ownerMutex_ held: the lock held (again) in the current session
  bool ownerLockTried_ = false;  // SQLite: the first release call tried the gateway lock
  sql::Dialect dialect_ = sql::Dialect::kSqlite;
  std::shared_ptr<const model::Model> model_;
  StoreOptions options_;
  bool open_ = false;

  std::unique_ptr<sql::Connection> writer_;
  sqlite::SqliteConnection* sqliteWriter_ = nullptr;  // writer_, when the store is SQLite
  int64_t writerRestingBytes_ = 0;  // SQLite: the writer's cache after a write (0: not trimmed)
  pg::PgConnection* pgWriter_ = nullptr;              // writer_, when the store is PostgreSQL
  std::shared_ptr<WriteObserver> observer_;
  // The write gate: at most one holder of the writer connection (a Transaction, or pragma()).
  // A flag under a mutex rather than a held mutex, so waiting can time out and the holder
  // may be released from another thread. First come, first served: a release hands the
  // writer straight to the longest waiter, so a thread that writes in many short turns (the
  // timed Flag sweep, a bulk ingest) cannot take it back ahead of the audit's group commit
  // and starve the reads that wait on it.
  bool acquireWriter();  // false after busyTimeoutMs
  void releaseWriter();
  struct WriterWaiter {
    std::condition_variable cv;
    bool granted = false;
  };
  std::mutex writerMutex_;
  std::deque<WriterWaiter*> writerQueue_;
  bool writerBusy_ = false;
  std::thread::id writerOwner_;
  int64_t lastTimestamp_ = 0;  // only touched by the writer holder

  // Background checkpoints (StoreOptions::checkpointPages): the writer's WAL hook wakes the
  // checkpointer thread, which checkpoints on a connection of its own: PASSIVE (blocks no
  // one), then RESTART without waiting (it holds the write lock only while it copies the
  // frames committed during PASSIVE and syncs the database file; with a reader on an older
  // snapshot it gives up at once). Readers are never blocked.
  static int onWalCommit(void* self, sqlite3* db, const char* name, int pages);
  void checkpointLoop();
  std::atomic<int> checkpointAt_{0};  // WAL pages that wake the checkpointer
  // Set when the checkpointer's RESTART gave up: the writer restarts the WAL before its next
  // transaction (restartWalIfWanted, called by acquireWriter() once it holds the gate).
  std::atomic<bool> restartWanted_{false};
  void restartWalIfWanted();
  std::unique_ptr<sqlite::SqliteConnection> checkpointer_;
  std::thread checkpointThread_;
  std::mutex checkpointMutex_;
  std::condition_variable checkpointCv_;
  bool checkpointWanted_ = false;
  bool checkpointStop_ = false;

  std::unique_ptr<pg::PgChangeFeed> changeFeed_;
  std::vector<std::unique_ptr<sql::Connection>> readers_;
  std::mutex poolMutex_;
  std::condition_variable poolCv_;
  std::vector<sql::Connection*> freeReaders_;
};

// A reader connection on loan from the pool (acquireReader), given back on destruction.
class SqlStore::ReaderLease {
 public:
  ReaderLease(SqlStore* store, sql::Connection* c) : store_(store), c_(c) {}
  ReaderLease(ReaderLease&& o) noexcept : store_(o.store_), c_(o.c_) { o.c_ = nullptr; }
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (c_) store_->releaseReader(c_);
  }
  sql::Connection& operator*() const { return *c_; }
  sql::Connection* operator->() const { return c_; }

 private:
  SqlStore* store_;
  sql::Connection* c_;
};

}  // namespace acp::store
