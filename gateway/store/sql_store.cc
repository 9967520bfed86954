#include "gateway/store/sql_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cmath>
#include <initializer_list>
#include <random>
#include <set>
#include <unordered_map>
#include <utility>

#include "gateway/search/index.h"
#include "gateway/store/instant.h"
#include "gateway/store/sql_audit.h"
#include "gateway/store/pg_connection.h"
#include "gateway/store/pg_schema.h"
#include "gateway/store/sqlite_schema.h"
#include "gateway/store/sql_search.h"
#include "gateway/store/writer_gate.h"

namespace acp::store {

using sql::Connection;
using sql::Dialect;
using sql::SqlArg;
using sql::Statement;
using sql::StepResult;

namespace {

bool validId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string uuidV4() {
  thread_local std::random_device rd;
  unsigned char b[16];
  for (int i = 0; i < 16; i += 4) {
    uint32_t v = rd();
    b[i] = static_cast<unsigned char>(v);
    b[i + 1] = static_cast<unsigned char>(v >> 8);
    b[i + 2] = static_cast<unsigned char>(v >> 16);
    b[i + 3] = static_cast<unsigned char>(v >> 24);
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

// Object equality ignoring the listed keys.
bool equalExcept(const json::Value* a, const json::Value* b,
                 std::initializer_list<std::string_view> skip);

bool skipped(std::string_view key, std::initializer_list<std::string_view> skip) {
  for (std::string_view s : skip)
    if (key == s) return true;
  return false;
}

bool equalExcept(const json::Value* a, const json::Value* b,
                 std::initializer_list<std::string_view> skip) {
  static const json::Value kEmpty = json::Value::makeObject();
  if (!a || a->isNull()) a = &kEmpty;
  if (!b || b->isNull()) b = &kEmpty;
  if (!a->isObject() || !b->isObject()) return *a == *b;
  size_t na = 0, nb = 0;
  for (const auto& m : a->members()) {
    if (skipped(m.first, skip)) continue;
    ++na;
    const json::Value* other = b->find(m.first);
    if (!other || !(*other == m.second)) return false;
  }
  for (const auto& m : b->members())
    if (!skipped(m.first, skip)) ++nb;
  return na == nb;
}

// Same content, ignoring meta.versionId and meta.lastUpdated (an emptied meta is absent).
bool sameContent(const json::Value& a, const json::Value& b) {
  if (!equalExcept(&a, &b, {"meta"})) return false;
  return equalExcept(a.find("meta"), b.find("meta"), {"versionId", "lastUpdated"});
}

long memberPosition(const json::Value& object, std::string_view key) {
  const auto& members = object.members();
  for (size_t i = 0; i < members.size(); ++i)
    if (members[i].first == key) return static_cast<long>(i);
  return -1;
}

// Sets "id", placing a new member right after resourceType.
void setId(json::Value& resource, const std::string& id) {
  auto& members = resource.members();
  long idPos = memberPosition(resource, "id");
  if (idPos >= 0) {
    members[idPos].second = json::Value::makeString(id);
  } else {
    members.insert(members.begin() + memberPosition(resource, "resourceType") + 1,
                   {"id", json::Value::makeString(id)});
  }
}

// Sets id and meta.versionId / meta.lastUpdated, keeping id and meta near the top.
void stamp(json::Value& resource, const std::string& id, int64_t version,
           const std::string& lastUpdated) {
  auto& members = resource.members();
  auto position = [&](std::string_view key) { return memberPosition(resource, key); };
  setId(resource, id);
  long metaPos = position("meta");
  if (metaPos < 0 || !members[metaPos].second.isObject()) {
    if (metaPos >= 0) members.erase(members.begin() + metaPos);
    metaPos = position("id") + 1;
    members.insert(members.begin() + metaPos, {"meta", json::Value::makeObject()});
  }
  json::Value& meta = members[metaPos].second;
  meta.set("versionId", json::Value::makeString(std::to_string(version)));
  meta.set("lastUpdated", json::Value::makeString(lastUpdated));
}

Status sqlError(const Statement& s, const char* what) { return s.error(what); }

Result<StoredResource> readCurrent(Connection& c, const std::string& type, const std::string& id) {
  auto st = c.prepare(
      "SELECT version, last_updated, deleted, json FROM resources WHERE type = ?1 AND id = ?2");
  if (!st.isOk()) return st.status();
  Statement& s = st.value();
  s.bind(1, std::string_view(type), true);
  s.bind(2, std::string_view(id), true);
  StepResult r = s.step();
  if (r == StepResult::kDone) return Status::notFound("store.not-found: " + type + "/" + id);
  if (r != StepResult::kRow) return sqlError(s, "read");
  if (s.columnInt(2) != 0) return Status::gone("store.gone: " + type + "/" + id + " was deleted");
  StoredResource out;
  out.type = type;
  out.id = id;
  out.versionId = s.columnInt(0);
  out.lastUpdated = s.columnString(1);
  out.json = s.columnString(3);
  return out;
}

constexpr size_t kIndexTableCount = 7;
const char* const kIndexTables[kIndexTableCount] = {
    "string_idx", "token_idx", "date_idx", "reference_idx", "number_idx", "quantity_idx", "uri_idx"};
// Each index table's own columns, after (resource_pk, type, param).
const std::vector<const char*> kIndexColumns[kIndexTableCount] = {
    {"normalized", "exact"},
    {"system", "code", "text"},
    {"low", "high"},
    {"target_type", "target_id", "url", "ident_system", "ident_value"},
    {"value", "text"},
    {"value", "system", "code", "unit"},
    {"uri"},
};

}  // namespace

// ---- reader pool ---------------------------------------------------------------------------

Result<SqlStore::ReaderLease> SqlStore::acquireReader() {
  return acquireReader(options_.busyTimeoutMs);
}

Result<SqlStore::ReaderLease> SqlStore::acquireReader(int timeoutMs) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  std::unique_lock<std::mutex> lock(poolMutex_);
  // PostgreSQL readers are opened as they are first needed (each is a server process).
  if (freeReaders_.empty() && dialect_ == Dialect::kPostgres &&
      static_cast<int>(readers_.size()) < options_.poolSize) {
    auto r = pg::PgConnection::open(path_, pgReaderSettings());
    if (r.isOk()) {
      readers_.push_back(r.take());
      return ReaderLease(this, readers_.back().get());
    }
  }
  if (!poolCv_.wait_for(lock, std::chrono::milliseconds(timeoutMs),
                        [this] { return !freeReaders_.empty(); }))
    return Status::internal("store.busy: no reader connection free");
  Connection* c = freeReaders_.back();
  freeReaders_.pop_back();
  return ReaderLease(this, c);
}

Status SqlStore::releaseClaimsOfGoneProcesses(int64_t nowMs) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  if (dialect_ == Dialect::kSqlite) {
    // Only the first call tries the lock: a second gateway on the file must not release the
    // claims of the first once it has gone (they may be its own, later, in flight).
    std::lock_guard<std::mutex> owner(ownerMutex_);
    if (ownerLockTried_) return Status::ok();
    ownerLockTried_ = true;
    if (ownerLockFd_ < 0) {  // not taken at open (StoreOptions::sqliteExclusive)
      // Held for this store's life: the kernel drops it when the process dies, however it dies.
      int fd = ::open((path_ + ".gateway-lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) return Status::internal("store.open-failed: cannot create the gateway lock file");
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return Status::ok();  // another gateway serves this file: its claims are its own
      }
      ownerLockFd_ = fd;
    }
    WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
    if (!gate.held()) return Status::internal("store.busy: the writer is in use");
    auto release = writer_->prepare(
        "UPDATE notifications SET next_attempt = ?1, attempts = attempts + 1, claimed_by = NULL "
        "WHERE status = 'pending' AND next_attempt > ?1");
    if (!release.isOk()) return release.status();
    release.value().bind(1, nowMs);
    if (release.value().run() != StepResult::kDone)
      return release.value().error("release notification claims");
    return Status::ok();
  }
  // PostgreSQL: the claimers named by pending claims, other than this store (whose lock is
  // taken, or checked, first).
  int64_t self = claimOwner();
  std::vector<int64_t> claimers;
  {
    auto lease = acquireReader();
    if (!lease.isOk()) return lease.status();
    auto st = lease.value()->prepare(
        "SELECT DISTINCT claimed_by FROM notifications WHERE status = 'pending' "
        "AND claimed_by IS NOT NULL AND claimed_by <> ?1");
    if (!st.isOk()) return st.status();
    st.value().bind(1, self);
    for (;;) {
      StepResult r = st.value().step();
      if (r == StepResult::kDone) break;
      if (r != StepResult::kRow) return st.value().error("notification claimers");
      claimers.push_back(st.value().columnInt(0));
    }
  }
  std::lock_guard<std::mutex> owner(ownerMutex_);
  if (holdClaimerLock() == 0) return Status::ok();  // no lock session: leases pass on their own
  for (int64_t claimer : claimers) {
    // Never this store's own (it may have taken its id since the list was read): advisory
    // locks are re-entrant, so its own lock would be "taken" and its live claims released.
    if (claimer == claimOwnerId_) continue;
    // Taking a claimer's lock succeeds only when no session holds it: its process is gone.
    // Held while its claims are released, so two gateways never both release them.
    auto taken = ownerConnection_->prepare(
        "SELECT CASE WHEN pg_try_advisory_lock(CAST(?1 AS BIGINT)) THEN 1 ELSE 0 END");
    if (!taken.isOk()) return taken.status();
    taken.value().bind(1, claimer);
    if (taken.value().step() != StepResult::kRow) return taken.value().error("claimer lock");
    bool gone = taken.value().columnInt(0) == 1;
    taken.value().reset();
    if (!gone) continue;
    Status released = [&]() -> Status {
      WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
      if (!gate.held()) return Status::internal("store.busy: the writer is in use");
      auto release = writer_->prepare(
          "UPDATE notifications SET next_attempt = ?1, attempts = attempts + 1, "
          "claimed_by = NULL WHERE status = 'pending' AND claimed_by = ?2");
      if (!release.isOk()) return release.status();
      release.value().bind(1, nowMs);
      release.value().bind(2, claimer);
      if (release.value().run() != StepResult::kDone)
        return release.value().error("release notification claims");
      return Status::ok();
    }();
    auto unlock = ownerConnection_->prepare("SELECT pg_advisory_unlock(CAST(?1 AS BIGINT))");
    if (unlock.isOk()) {
      unlock.value().bind(1, claimer);
      unlock.value().run();
    }
    if (!released.isOk()) return released;
  }
  return Status::ok();
}

int64_t SqlStore::claimOwner() {
  if (dialect_ != Dialect::kPostgres) return 0;
  std::lock_guard<std::mutex> owner(ownerMutex_);
  return holdClaimerLock();
}

int64_t SqlStore::holdClaimerLock() {
  // ownerMutex_ held. The lock lives in one server session: the connection's backend pid says
  // which. PgConnection reconnects a broken connection by itself, into a session without the
  // lock, so the pid is checked on every use and the lock taken again in the new session.
  auto lockIn = [](pg::PgConnection& c, int64_t id) {
    auto st = c.prepare(
        "SELECT CASE WHEN pg_try_advisory_lock(CAST(?1 AS BIGINT)) THEN 1 ELSE 0 END");
    if (!st.isOk()) return false;
    st.value().bind(1, id);
    bool taken = st.value().step() == StepResult::kRow && st.value().columnInt(0) == 1;
    st.value().reset();
    return taken;
  };
  auto backendPid = [](pg::PgConnection& c) -> int64_t {
    auto st = c.prepare("SELECT pg_backend_pid()");
    if (!st.isOk() || st.value().step() != StepResult::kRow) return 0;
    int64_t pid = st.value().columnInt(0);
    st.value().reset();
    return pid;
  };
  // A random id (not 0, which means "none").
  auto newId = [] {
    std::random_device random;
    int64_t id = 0;
    while (id == 0)
      id = static_cast<int64_t>((uint64_t{random()} << 32) | random()) & INT64_MAX;
    return id;
  };
  if (!ownerConnection_) {
    pg::PgConnection::Settings settings;
    settings.lockTimeoutMs = options_.busyTimeoutMs;
    settings.statementCacheSize = 4;
    auto c = pg::PgConnection::open(path_, settings);
    if (!c.isOk()) return 0;  // claims without a claimer: they wait for their lease to pass
    ownerConnection_ = c.take();
  }
  int64_t pid = backendPid(*ownerConnection_);
  if (pid == 0) return 0;  // the server does not answer: no claimer this time
  if (claimOwnerId_ != 0 && pid == ownerSessionPid_) return claimOwnerId_;
  // A first lock, or a new session. Another gateway may be releasing the claims made under
  // the old id at this moment (it holds that lock then): a new id keeps them apart.
  int64_t id = claimOwnerId_ != 0 && lockIn(*ownerConnection_, claimOwnerId_) ? claimOwnerId_
                                                                               : newId();
  if (id != claimOwnerId_ && !lockIn(*ownerConnection_, id)) return 0;
  claimOwnerId_ = id;
  ownerSessionPid_ = pid;
  return claimOwnerId_;
}

Status SqlStore::readiness() {
  // A probe must not hold a worker for the busy timeout: a quarter of a second for a reader.
  auto lease = acquireReader(kReadinessWaitMs);
  if (!lease.isOk()) return lease.status();
  auto version = (*lease.value()).queryInt("SELECT max(version) FROM schema_version");
  if (!version.isOk())
    return Status::internal("store.unreachable: the database did not answer a read");
  int64_t want = dialect_ == Dialect::kPostgres ? pg::currentSchemaVersion()
                                                : sqlite::currentSchemaVersion();
  if (version.value() != want)
    return Status::internal("store.schema-mismatch: the database is at schema version " +
                            std::to_string(version.value()) + ", this build at " +
                            std::to_string(want));
  return Status::ok();
}

void SqlStore::releaseReader(Connection* c) {
  {
    std::lock_guard<std::mutex> lock(poolMutex_);
    freeReaders_.push_back(c);
  }
  poolCv_.notify_one();
}

namespace {

// A read transaction on a reader: one snapshot for several statements.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Connection& c) : c_(c) { status_ = c_.beginRead(); }
  ~ReadSnapshot() {
    if (status_.isOk()) c_.endRead();
  }
  const Status& status() const { return status_; }

 private:
  Connection& c_;
  Status status_;
};

}  // namespace

// ---- store -------------------------------------------------------------------------------

SqlStore::SqlStore(std::string path, std::shared_ptr<const model::Model> model,
                         StoreOptions options)
    : path_(std::move(path)), model_(std::move(model)), options_(std::move(options)) {
  if (options_.poolSize < 1) options_.poolSize = 1;
  if (options_.busyTimeoutMs < 0) options_.busyTimeoutMs = 0;
}

SqlStore::~SqlStore() {
  changeFeed_.reset();
  if (checkpointThread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(checkpointMutex_);
      checkpointStop_ = true;
    }
    checkpointCv_.notify_one();
    checkpointThread_.join();
  }
  checkpointer_.reset();
  readers_.clear();
  writer_.reset();
  ownerConnection_.reset();  // PostgreSQL: this store's claims now look gone to the others
  if (ownerLockFd_ >= 0) ::close(ownerLockFd_);  // after the last connection: the next may go
}

int SqlStore::onWalCommit(void* self, sqlite3*, const char*, int pages) {
  auto* store = static_cast<SqlStore*>(self);
  if (pages >= store->checkpointAt_.load(std::memory_order_relaxed)) {
    {
      std::lock_guard<std::mutex> lock(store->checkpointMutex_);
      store->checkpointWanted_ = true;
    }
    store->checkpointCv_.notify_one();
  }
  return SQLITE_OK;
}

void SqlStore::checkpointLoop() {
  std::unique_lock<std::mutex> lock(checkpointMutex_);
  for (;;) {
    checkpointCv_.wait(lock, [this] { return checkpointWanted_ || checkpointStop_; });
    if (checkpointStop_) return;
    checkpointWanted_ = false;
    // The writer has a restart to try (below): this pass would only make it busy.
    if (restartWanted_.load(std::memory_order_relaxed)) continue;
    lock.unlock();
    int logPages = 0, done = 0;
    // PASSIVE copies the bulk of the WAL without waiting for anyone. RESTART then copies the
    // few frames committed meanwhile and makes the next commit start the WAL from its
    // beginning (otherwise a busy writer always holds a snapshot and the WAL never restarts).
    // This connection has no busy timeout: RESTART never waits — not for the writer, not for
    // readers of older snapshots (a long search, a backup) — it gives up at once, so the
    // write lock is held only while it copies those few frames and syncs the database file.
    sqlite3_wal_checkpoint_v2(checkpointer_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE,
                              &logPages, &done);
    int rc = sqlite3_wal_checkpoint_v2(checkpointer_->handle(), "main",
                                       SQLITE_CHECKPOINT_RESTART, &logPages, &done);
    // Under continuous writing the write lock is almost never free, so RESTART gives up and
    // the WAL would only ever grow (every commit appending to an ever longer file). The
    // writer then restarts it itself before its next transaction (restartWalIfWanted), when
    // it holds no lock and this thread stays out of its way; until then, the next pass waits
    // until the WAL has grown by half the threshold again.
    if (rc != SQLITE_OK) {
      checkpointAt_.store(logPages + options_.checkpointPages / 2, std::memory_order_relaxed);
      restartWanted_.store(true, std::memory_order_relaxed);
    } else {
      checkpointAt_.store(options_.checkpointPages, std::memory_order_relaxed);
    }
    lock.lock();
  }
}

Result<std::unique_ptr<SqlStore>> SqlStore::open(const std::string& path,
                                                       std::shared_ptr<const model::Model> model,
                                                       StoreOptions options) {
  auto store = std::make_unique<SqlStore>(path, std::move(model), std::move(options));
  Status s = store->init();
  if (!s.isOk()) return s;
  return store;
}

static bool isPostgresLocation(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

Status SqlStore::init() {
  if (open_) return Status::ok();
  if (!model_) return Status::internal("store.open-failed: no model");
  dialect_ = isPostgresLocation(path_) ? Dialect::kPostgres : Dialect::kSqlite;
  Status s = dialect_ == Dialect::kPostgres ? initPostgres() : initSqlite();
  if (!s.isOk()) return s;
  // lastUpdated never goes back, across restarts too: start from the newest version.
  s = catchUpTimestamp();
  if (!s.isOk()) return s;
  open_ = true;
  return Status::ok();
}

Status SqlStore::catchUpTimestamp() {
  auto newest = writer_->queryText("SELECT last_updated FROM versions ORDER BY seq DESC LIMIT 1");
  if (!newest.isOk()) return newest.status();
  int64_t low, high;
  if (!newest.value().empty() && search::dateRange(newest.value(), low, high) &&
      low > lastTimestamp_)
    lastTimestamp_ = low;
  return Status::ok();
}

Status SqlStore::initSqlite() {
  if (path_.empty() || path_ == ":memory:" || path_.rfind("file:", 0) == 0)
    return Status::internal("store.open-failed: a database file path is required");
  // Page caches (StoreOptions::sqliteMemoryLimitBytes, sqliteWriterCacheBytes).
  const int64_t limit = options_.sqliteMemoryLimitBytes;
  const int64_t writerCache = std::max<int64_t>(options_.sqliteWriterCacheBytes, 256 * 1024);
  if (limit > 0) {
    sqlite3_soft_heap_limit64(limit + writerCache);
    writerRestingBytes_ = std::max<int64_t>(limit / std::max(options_.poolSize, 1), 256 * 1024);
  }
  if (options_.sqliteExclusive) {
    // Before the file is opened (or created, or migrated): one writing process per file.
    int fd = ::open((path_ + ".gateway-lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::internal("store.open-failed: cannot create the gateway lock file");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return Status::conflict("store.in-use: another process (a running gateway, or an import) "
                              "writes this SQLite file");
    }
    std::lock_guard<std::mutex> owner(ownerMutex_);
    ownerLockFd_ = fd;
  }
  sqlite::SqliteConnection::Settings ws;
  ws.busyTimeoutMs = options_.busyTimeoutMs;
  ws.statementCacheSize = options_.statementCacheSize;
  ws.cacheKib = static_cast<int>(writerCache / 1024);
  auto w = sqlite::SqliteConnection::open(path_, ws);
  if (!w.isOk()) return w.status();
  sqliteWriter_ = w.value().get();
  writer_ = w.take();
  Status s = sqlite::migrate(*writer_);
  if (!s.isOk()) return s;
  sqlite::SqliteConnection::Settings rs = ws;
  rs.readOnly = true;
  if (limit > 0) rs.cacheKib = static_cast<int>(writerRestingBytes_ / 1024);
  for (int i = 0; i < options_.poolSize; ++i) {
    auto r = sqlite::SqliteConnection::open(path_, rs);
    if (!r.isOk()) return r.status();
    readers_.push_back(r.take());
    freeReaders_.push_back(readers_.back().get());
  }
  if (options_.checkpointPages > 0) {
    sqlite::SqliteConnection::Settings cs = ws;
    cs.cacheKib = 256;  // a checkpoint copies WAL frames; it reads no B-trees
    auto c = sqlite::SqliteConnection::open(path_, cs);
    if (!c.isOk()) return c.status();
    checkpointer_ = c.take();
    sqlite3_busy_timeout(checkpointer_->handle(), 0);  // never waits (checkpointLoop)
    checkpointAt_.store(options_.checkpointPages);
    // Replaces SQLite's own automatic checkpoint (which is itself a WAL hook).
    sqlite3_wal_hook(sqliteWriter_->handle(), &SqlStore::onWalCommit, this);
    checkpointThread_ = std::thread([this] { checkpointLoop(); });
  }
  return Status::ok();
}

pg::PgConnection::Settings SqlStore::pgReaderSettings() const {
  pg::PgConnection::Settings rs;
  rs.lockTimeoutMs = options_.busyTimeoutMs;
  rs.statementCacheSize = options_.statementCacheSize;
  rs.readOnly = true;
  return rs;
}

Status SqlStore::initPostgres() {
  pg::PgConnection::Settings ws;
  ws.lockTimeoutMs = options_.busyTimeoutMs;
  ws.statementCacheSize = options_.statementCacheSize;
  auto w = pg::PgConnection::open(path_, ws);
  if (!w.isOk()) return w.status();
  pgWriter_ = w.value().get();
  writer_ = w.take();
  Status s = pg::migrate(*writer_);
  if (!s.isOk()) return s;
  // One reader now (so a wrong URL or permission shows at start); the others when needed.
  auto r = pg::PgConnection::open(path_, pgReaderSettings());
  if (!r.isOk()) return r.status();
  readers_.push_back(r.take());
  freeReaders_.push_back(readers_.back().get());
  return Status::ok();
}

void SqlStore::setChangeListener(
    std::function<void(const std::vector<std::string>& types)> listener) {
  if (dialect_ != Dialect::kPostgres || !listener) return;
  changeFeed_ = std::make_unique<pg::PgChangeFeed>(path_, std::move(listener));
}

bool SqlStore::changeFeedListening() const { return changeFeed_ && changeFeed_->listening(); }

// The advisory lock key of a lead: the store's schema and the job's name.
std::string SqlStore::leadKey(const std::string& name) const {
  return std::to_string(pg::writeLockKey(pgWriter_->schema() + "#" + name));
}

bool SqlStore::tryLead(const std::string& name) {
  if (!open_) return false;
  if (!pgWriter_) return true;
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return false;
  const std::string key = leadKey(name);
  auto taken = writer_->queryInt("SELECT pg_try_advisory_lock(" + key + ")::int");
  return taken.isOk() && taken.value() == 1;
}

void SqlStore::endLead(const std::string& name) {
  if (!open_ || !pgWriter_) return;
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return;
  const std::string key = leadKey(name);
  (void)writer_->queryInt("SELECT pg_advisory_unlock(" + key + ")::int");
}

int64_t SqlStore::nextTimestamp() {
  int64_t now = options_.clock ? options_.clock() : systemNowMs();
  if (now < lastTimestamp_) now = lastTimestamp_;
  lastTimestamp_ = now;
  return now;
}

std::string SqlStore::newId() { return options_.newId ? options_.newId() : uuidV4(); }

Result<StoredResource> SqlStore::read(const std::string& type, const std::string& id) {
  auto lease = acquireReader();
  if (!lease.isOk()) return lease.status();
  return readCurrent(*lease.value(), type, id);
}

Result<StoredResource> SqlStore::vread(const std::string& type, const std::string& id,
                                          int64_t version) {
  auto lease = acquireReader();
  if (!lease.isOk()) return lease.status();
  auto st = lease.value()->prepare(
      "SELECT last_updated, deleted, json, method FROM versions "
      "WHERE type = ?1 AND id = ?2 AND version = ?3");
  if (!st.isOk()) return st.status();
  Statement& s = st.value();
  s.bind(1, std::string_view(type), true);
  s.bind(2, std::string_view(id), true);
  s.bind(3, version);
  StepResult r = s.step();
  if (r == StepResult::kDone)
    return Status::notFound("store.not-found: " + type + "/" + id + "/_history/" +
                            std::to_string(version));
  if (r != StepResult::kRow) return sqlError(s, "vread");
  if (s.columnInt(1) != 0)
    return Status::gone("store.gone: " + type + "/" + id + "/_history/" + std::to_string(version) +
                        " is a delete");
  StoredResource out;
  out.type = type;
  out.id = id;
  out.versionId = version;
  out.lastUpdated = s.columnString(0);
  out.json = s.columnString(2);
  out.method = s.columnString(3);
  return out;
}

Result<Page> SqlStore::history(const HistoryQuery& q) {
  if (!q.id.empty() && q.type.empty())
    return Status::invalid("store.invalid-type: instance history needs a type");
  std::string since;
  if (q.since) {
    int64_t low, high;
    if (!search::dateRange(*q.since, low, high))
      return Status::invalid("store.bad-since: _since is not a valid instant: " + *q.since);
    since = formatInstant(low);
  }
  int64_t before = 0;
  if (!q.cursor.empty()) {
    auto c = sql::decodeHistoryCursor(q.cursor);
    if (!c.isOk()) return c.status();
    before = c.value();
  }
  const int count = q.count < 0 ? 0 : q.count;

  // Shared WHERE clause; every value bound (numbered placeholders: ?1 type, ?2 id,
  // ?3 since, ?4 cursor, ?5 limit).
  std::string where = " WHERE TRUE";
  if (!q.type.empty()) where += " AND type = ?1";
  if (!q.id.empty()) where += " AND id = ?2";
  if (q.since) where += " AND last_updated >= ?3";
  auto bindCommon = [&](Statement& s) {
    if (!q.type.empty()) s.bind(1, std::string_view(q.type), true);
    if (!q.id.empty()) s.bind(2, std::string_view(q.id), true);
    if (q.since) s.bind(3, std::string_view(since), true);
  };

  auto lease = acquireReader();
  if (!lease.isOk()) return lease.status();
  Connection& c = *lease.value();
  ReadSnapshot snapshot(c);
  if (!snapshot.status().isOk()) return snapshot.status();

  Page page;
  if (!q.id.empty()) {
    // Instance history: 404 for a resource that never existed; the count is cheap.
    auto st = c.prepare(
        "SELECT count(*), (SELECT count(*) FROM resources WHERE type = ?1 AND "
        "id = ?2) FROM versions" +
        where);
    if (!st.isOk()) return st.status();
    bindCommon(st.value());
    if (st.value().step() != StepResult::kRow) return sqlError(st.value(), "history");
    if (st.value().columnInt(1) == 0)
      return Status::notFound("store.not-found: " + q.type + "/" + q.id);
    page.total = st.value().columnInt(0);
  }
  if (count == 0) return page;

  std::string sql =
      "SELECT seq, type, id, version, last_updated, method, deleted, json FROM versions" + where;
  if (!q.cursor.empty()) sql += " AND seq < ?4";
  sql += " ORDER BY seq DESC LIMIT ?5";
  auto st = c.prepare(sql);
  if (!st.isOk()) return st.status();
  Statement& s = st.value();
  bindCommon(s);
  if (!q.cursor.empty()) s.bind(4, before);
  s.bind(5, int64_t{count} + 1);
  int64_t lastSeq = 0;
  for (;;) {
    StepResult r = s.step();
    if (r == StepResult::kDone) break;
    if (r != StepResult::kRow) return sqlError(s, "history");
    if (static_cast<int>(page.entries.size()) == count) {
      page.nextCursor = sql::encodeHistoryCursor(lastSeq);
      break;
    }
    lastSeq = s.columnInt(0);
    StoredResource v;
    v.type = s.columnString(1);
    v.id = s.columnString(2);
    v.versionId = s.columnInt(3);
    v.lastUpdated = s.columnString(4);
    v.method = s.columnString(5);
    v.deleted = s.columnInt(6) != 0;
    if (!v.deleted) v.json = s.columnString(7);
    page.entries.push_back(std::move(v));
  }
  return page;
}

Result<Page> SqlStore::search(const search::SearchQuery& query) {
  auto lease = acquireReader();
  if (!lease.isOk()) return lease.status();
  Connection& c = *lease.value();
  ReadSnapshot snapshot(c);
  if (!snapshot.status().isOk()) return snapshot.status();
  sql::SearchSettings settings;
  settings.nowMs = options_.clock ? options_.clock() : systemNowMs();
  settings.maxIncludes = options_.maxIncludes;
  settings.dialect = dialect_;
  return sql::executeSearch(c, query, settings);
}

Result<std::string> SqlStore::pragma(std::string_view name, bool reader) {
  if (dialect_ != Dialect::kSqlite)
    return Status::invalid("store.invalid: PRAGMA is SQLite's; this store is PostgreSQL");
  static const char* const kAllowed[] = {"journal_mode", "synchronous", "foreign_keys",
                                         "busy_timeout", "query_only", "cache_size"};
  const char* chosen = nullptr;
  for (const char* a : kAllowed)
    if (name == a) chosen = a;
  if (!chosen) return Status::invalid("store.sqlite: pragma not readable: " + std::string(name));
  const std::string sql = std::string("PRAGMA ") + chosen;
  if (reader) {
    auto lease = acquireReader();
    if (!lease.isOk()) return lease.status();
    return lease.value()->queryText(sql);
  }
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  if (writerHeldByThisThread()) return writer_->queryText(sql);
  if (!acquireWriter()) return Status::internal("store.busy: the writer is in use");
  auto value = writer_->queryText(sql);
  releaseWriter();
  return value;
}

bool SqlStore::acquireWriter() {
  std::unique_lock<std::mutex> lock(writerMutex_);
  if (writerBusy_ || !writerQueue_.empty()) {
    WriterWaiter me;
    writerQueue_.push_back(&me);
    if (!me.cv.wait_for(lock, std::chrono::milliseconds(options_.busyTimeoutMs),
                        [&me] { return me.granted; })) {
      writerQueue_.erase(std::find(writerQueue_.begin(), writerQueue_.end(), &me));
      return false;
    }
    // Handed over by releaseWriter(): writerBusy_ stayed set.
  }
  writerBusy_ = true;
  writerOwner_ = std::this_thread::get_id();
  lock.unlock();
  restartWalIfWanted();  // every writer passes here between transactions
  return true;
}

void SqlStore::releaseWriter() {
  // Still the holder, between transactions: the writer's cache back to its resting size.
  if (sqliteWriter_ && writerRestingBytes_ > 0) sqliteWriter_->releaseCacheAbove(writerRestingBytes_);
  std::lock_guard<std::mutex> lock(writerMutex_);
  writerOwner_ = std::thread::id();
  if (writerQueue_.empty()) {
    writerBusy_ = false;
    return;
  }
  // Notified under the lock: the waiter cannot leave (taking `me` with it) before it is free.
  WriterWaiter* next = writerQueue_.front();
  writerQueue_.pop_front();
  next->granted = true;
  next->cv.notify_one();
}

int64_t SqlStore::sqliteWriterCacheBytes() {
  if (!open_ || !sqliteWriter_) return -1;
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return -1;
  return sqliteWriter_->cacheBytes();
}

bool SqlStore::writerHeldByThisThread() {
  std::lock_guard<std::mutex> lock(writerMutex_);
  return writerBusy_ && writerOwner_ == std::this_thread::get_id();
}

Result<std::vector<std::string>> SqlStore::explainSearch(const search::SearchQuery& query) {
  sql::SearchSettings settings;
  settings.nowMs = options_.clock ? options_.clock() : systemNowMs();
  settings.dialect = dialect_;
  auto text = sql::pageSql(query, settings);
  if (!text.isOk()) return text.status();
  auto lease = acquireReader();
  if (!lease.isOk()) return lease.status();
  const bool pg = dialect_ == Dialect::kPostgres;
  auto st = lease.value()->prepare((pg ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + text.value().sql);
  if (!st.isOk()) return st.status();
  Statement& s = st.value();
  s.bindAll(text.value().args);
  std::vector<std::string> lines;
  for (;;) {
    StepResult r = s.step();
    if (r == StepResult::kDone) break;
    if (r != StepResult::kRow) return sqlError(s, "explain");
    lines.push_back(s.columnString(pg ? 0 : 3));
  }
  return lines;
}

// ---- transactions --------------------------------------------------------------------------

class SqlTransaction : public Transaction {
 public:
  // Takes over the writer gate acquired by SqlStore::begin().
  explicit SqlTransaction(SqlStore& store) : store_(store), w_(*store.writer_) {}

  ~SqlTransaction() override {
    if (!done_) finish("ROLLBACK");
  }

  Result<WriteResult> create(const std::string& type, json::Value resource,
                             const search::SearchQuery* conditional,
                             const std::string& conditionalKey,
                             const std::string& assignedId) override {
    Status s = usable();
    if (!s.isOk()) return s;
    if (!assignedId.empty() && !validId(assignedId))
      return Status::invalid("store.invalid-id: '" + assignedId + "'");
    s = checkResource(type, resource);
    if (!s.isOk()) return s;
    return inSavepoint(
        [&]() -> Result<WriteResult> {
          if (conditional) {
            auto ids = sql::matchIds(w_, *conditional, 2, settings());
            if (!ids.isOk()) return ids.status();
            if (ids.value().size() > 1)
              return Status::precondition(
                  "store.multiple-matches: the If-None-Exist criteria "
                  "match more than one " +
                  type);
            if (ids.value().size() == 1) return existing(type, ids.value()[0]);
          }
          if (!conditionalKey.empty()) {
            auto keyed = keyedResource(type, conditionalKey);
            if (!keyed.isOk()) return keyed.status();
            if (keyed.value()) return std::move(*keyed.value());
          }
          Current none;
          auto written = writeVersion(none, type, assignedId.empty() ? store_.newId() : assignedId,
                                      resource, "POST");
          if (!written.isOk()) return written.status();
          if (!conditionalKey.empty()) {
            auto st = w_.prepare(
                "INSERT INTO conditional_keys(type, key, resource_pk) VALUES (?1, ?2, ?3)");
            if (!st.isOk()) return st.status();
            st.value().bind(1, std::string_view(type), true);
            st.value().bind(2, std::string_view(conditionalKey), true);
            st.value().bind(3, written.value().pk);
            StepResult r = st.value().run();
            if (r == StepResult::kConstraint) return Status(keyTaken_);
            if (r != StepResult::kDone) return sqlError(st.value(), "conditional key");
          }
          WriteResult out;
          out.resource = std::move(written.value().resource);
          out.created = true;
          return out;
        },
        [&]() -> Result<WriteResult> {
          // The key was taken meanwhile (by another process between our check and insert):
          // the savepoint is rolled back; answer with the resource holding the key.
          auto keyed = keyedResource(type, conditionalKey);
          if (!keyed.isOk()) return keyed.status();
          if (keyed.value()) return std::move(*keyed.value());
          return Status::internal("store.sqlite: conditional key conflict without a holder");
        });
  }

  Result<WriteResult> update(const std::string& type, const std::string& id, json::Value resource,
                             std::optional<int64_t> ifMatch) override {
    Status s = usable();
    if (!s.isOk()) return s;
    if (!validId(id)) return Status::invalid("store.invalid-id: '" + id + "'");
    s = checkResource(type, resource);
    if (!s.isOk()) return s;
    if (const json::Value* bodyId = resource.find("id")) {
      if (!bodyId->isString() || bodyId->text() != id)
        return Status::invalid("store.invalid-resource: the id in the body differs from " + id);
    }
    return inSavepoint([&]() -> Result<WriteResult> {
      auto cur = loadCurrent(type, id);
      if (!cur.isOk()) return cur.status();
      const Current& c = cur.value();
      if (ifMatch && (!c.exists || c.version != *ifMatch))
        return Status::precondition("store.version-mismatch: " + type + "/" + id +
                                    " is at version " +
                                    (c.exists ? std::to_string(c.version) : std::string("none")) +
                                    ", not " + std::to_string(*ifMatch));
      if (c.exists && !c.deleted) {
        json::Value stored;
        json::ParseError err;
        json::ParseLimits limits;
        limits.maxDepth = 1024;
        if (!json::parse(c.json, stored, err, limits))
          return Status::internal("store.sqlite: stored JSON unreadable: " + err.message);
        setId(resource, id);
        if (sameContent(resource, stored)) {
          WriteResult out;
          out.resource = c.asStored(type, id);
          out.noop = true;
          return out;
        }
      }
      auto written = writeVersion(c, type, id, resource, "PUT");
      if (!written.isOk()) return written.status();
      WriteResult out;
      out.resource = std::move(written.value().resource);
      out.created = !c.exists || c.deleted;
      return out;
    });
  }

  Result<WriteResult> remove(const std::string& type, const std::string& id,
                             std::optional<int64_t> ifMatch) override {
    Status s = usable();
    if (!s.isOk()) return s;
    return inSavepoint([&]() -> Result<WriteResult> {
      auto cur = loadCurrent(type, id);
      if (!cur.isOk()) return cur.status();
      const Current& c = cur.value();
      if (ifMatch && (!c.exists || c.version != *ifMatch))
        return Status::precondition("store.version-mismatch: " + type + "/" + id +
                                    " is at version " +
                                    (c.exists ? std::to_string(c.version) : std::string("none")) +
                                    ", not " + std::to_string(*ifMatch));
      WriteResult out;
      if (!c.exists || c.deleted) {
        out.noop = true;
        if (c.exists) {
          out.resource = c.asStored(type, id);
        } else {
          out.resource.type = type;
          out.resource.id = id;
        }
        return out;
      }
      const int64_t version = c.version + 1;
      const std::string lastUpdated = formatInstant(store_.nextTimestamp());
      auto up = w_.prepare(
          "UPDATE resources SET version = ?1, last_updated = ?2, deleted = 1, json = NULL "
          "WHERE pk = ?3");
      if (!up.isOk()) return up.status();
      up.value().bind(1, version);
      up.value().bind(2, std::string_view(lastUpdated), true);
      up.value().bind(3, c.pk);
      if (up.value().run() != StepResult::kDone) return sqlError(up.value(), "delete");
      Status vs = insertVersion(type, id, version, lastUpdated, "DELETE", nullptr);
      if (!vs.isOk()) return vs;
      vs = clearIndex(c.pk);
      if (!vs.isOk()) return vs;
      auto keys = w_.prepare("DELETE FROM conditional_keys WHERE resource_pk = ?1");
      if (!keys.isOk()) return keys.status();
      keys.value().bind(1, c.pk);
      if (keys.value().run() != StepResult::kDone) return sqlError(keys.value(), "delete keys");
      out.resource.type = type;
      out.resource.id = id;
      out.resource.versionId = version;
      out.resource.lastUpdated = lastUpdated;
      out.resource.deleted = true;
      out.resource.method = "DELETE";
      writtenTypes_.insert(type);
      return out;
    });
  }

  Result<std::vector<std::string>> match(const search::SearchQuery& query, int limit) override {
    Status s = usable();
    if (!s.isOk()) return s;
    return sql::matchIds(w_, query, limit, settings());
  }

  Result<StoredResource> read(const std::string& type, const std::string& id) override {
    Status s = usable();
    if (!s.isOk()) return s;
    return readCurrent(w_, type, id);
  }

  Result<int64_t> lastChangeOf(const std::string& type) override {
    Status s = usable();
    if (!s.isOk()) return s;
    // versions_type (type, seq): one index probe. The write lock makes seq commit order.
    auto st = w_.prepare("SELECT max(seq) FROM versions WHERE type = ?1");
    if (!st.isOk()) return st.status();
    st.value().bind(1, std::string_view(type), true);
    if (st.value().step() != StepResult::kRow) return sqlError(st.value(), "last change");
    return st.value().columnIsNull(0) ? int64_t{0} : st.value().columnInt(0);
  }

  Status beginUnit() override {
    Status s = usable();
    if (!s.isOk()) return s;
    s = w_.exec("SAVEPOINT unit");
    if (s.isOk()) ++units_;
    return s;
  }

  Status endUnit(bool keep) override {
    Status s = usable();
    if (!s.isOk()) return s;
    if (units_ == 0) return Status::internal("store.sqlite: endUnit without beginUnit");
    --units_;
    if (!keep) {
      s = w_.exec("ROLLBACK TO unit");
      if (!s.isOk()) return s;
    }
    return w_.exec("RELEASE unit");
  }

  Result<bool> claimDelivery(const std::string& key) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare(
        "INSERT INTO deliveries(key, received_at) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING "
        "RETURNING 1");
    if (!st.isOk()) return st.status();
    std::string now = formatInstant(store_.options_.clock ? store_.options_.clock() : systemNowMs());
    st.value().bind(1, std::string_view(key), true);
    st.value().bind(2, std::string_view(now), true);
    StepResult r = st.value().step();
    if (r != StepResult::kRow && r != StepResult::kDone) return sqlError(st.value(), "delivery");
    const bool claimed = r == StepResult::kRow;  // no row: the key was there already
    if (claimed && st.value().run() != StepResult::kDone) return sqlError(st.value(), "delivery");
    return claimed;
  }

  Result<std::string> sourceOrder(const std::string& type, const std::string& id) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare("SELECT source_order FROM source_orders WHERE type = ?1 AND id = ?2");
    if (!st.isOk()) return st.status();
    st.value().bind(1, std::string_view(type), true);
    st.value().bind(2, std::string_view(id), true);
    StepResult r = st.value().step();
    std::string out;
    if (r == StepResult::kRow) out = st.value().columnString(0);
    else if (r != StepResult::kDone) return sqlError(st.value(), "source order");
    st.value().reset();
    return out;
  }

  Status setSourceOrder(const std::string& type, const std::string& id,
                        const std::string& order) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare(
        "INSERT INTO source_orders(type, id, source_order) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(type, id) DO UPDATE SET source_order = excluded.source_order");
    if (!st.isOk()) return st.status();
    st.value().bind(1, std::string_view(type), true);
    st.value().bind(2, std::string_view(id), true);
    st.value().bind(3, std::string_view(order), true);
    if (st.value().run() != StepResult::kDone) return sqlError(st.value(), "source order");
    return Status::ok();
  }

  Result<std::vector<StoredResource>> versions(const std::string& type, const std::string& id,
                                               int limit) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare(
        "SELECT version, last_updated, deleted, json, method FROM versions "
        "WHERE type = ?1 AND id = ?2 ORDER BY version DESC LIMIT ?3");
    if (!st.isOk()) return st.status();
    st.value().bind(1, std::string_view(type), true);
    st.value().bind(2, std::string_view(id), true);
    st.value().bind(3, int64_t{limit});
    std::vector<StoredResource> out;
    for (;;) {
      StepResult r = st.value().step();
      if (r == StepResult::kDone) break;
      if (r != StepResult::kRow) return sqlError(st.value(), "versions");
      StoredResource v;
      v.type = type;
      v.id = id;
      v.versionId = st.value().columnInt(0);
      v.lastUpdated = st.value().columnString(1);
      v.deleted = st.value().columnInt(2) != 0;
      if (!v.deleted) v.json = st.value().columnString(3);
      v.method = st.value().columnString(4);
      out.push_back(std::move(v));
    }
    return out;
  }

  Result<std::optional<PatientSource>> patientSource(const std::string& sourceId) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare("SELECT person_id, json, seq FROM patient_sources WHERE source_id = ?1");
    if (!st.isOk()) return st.status();
    st.value().bind(1, std::string_view(sourceId), true);
    StepResult r = st.value().step();
    if (r == StepResult::kDone) return std::optional<PatientSource>();
    if (r != StepResult::kRow) return sqlError(st.value(), "patient source");
    PatientSource out;
    out.sourceId = sourceId;
    out.personId = st.value().columnString(0);
    out.json = st.value().columnString(1);
    out.seq = st.value().columnInt(2);
    return std::optional<PatientSource>(std::move(out));
  }

  Result<std::vector<PatientSource>> patientSources(const std::string& personId) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare(
        "SELECT source_id, json, seq FROM patient_sources WHERE person_id = ?1 ORDER BY seq");
    if (!st.isOk()) return st.status();
    st.value().bind(1, std::string_view(personId), true);
    std::vector<PatientSource> out;
    for (;;) {
      StepResult r = st.value().step();
      if (r == StepResult::kDone) break;
      if (r != StepResult::kRow) return sqlError(st.value(), "patient sources");
      PatientSource p;
      p.sourceId = st.value().columnString(0);
      p.personId = personId;
      p.json = st.value().columnString(1);
      p.seq = st.value().columnInt(2);
      out.push_back(std::move(p));
    }
    return out;
  }

  Result<bool> setPatientSource(const std::string& sourceId, const std::string& personId,
                                const std::string& json) override {
    auto current = patientSource(sourceId);
    if (!current.isOk()) return current.status();
    if (current.value() && current.value()->personId == personId && current.value()->json == json)
      return false;
    // Deleted and inserted again: the new row takes the next seq (the newest source).
    auto del = w_.prepare("DELETE FROM patient_sources WHERE source_id = ?1");
    if (!del.isOk()) return del.status();
    del.value().bind(1, std::string_view(sourceId), true);
    if (del.value().run() != StepResult::kDone) return sqlError(del.value(), "patient source");
    auto ins = w_.prepare(
        "INSERT INTO patient_sources(seq, source_id, person_id, json) VALUES "
        "((SELECT coalesce(max(seq), 0) + 1 FROM patient_sources), ?1, ?2, ?3)");
    if (!ins.isOk()) return ins.status();
    ins.value().bind(1, std::string_view(sourceId), true);
    ins.value().bind(2, std::string_view(personId), true);
    ins.value().bind(3, std::string_view(json), true);
    if (ins.value().run() != StepResult::kDone) return sqlError(ins.value(), "patient source");
    return true;
  }

  Status addSourceResources(
      const std::string& sourceId,
      const std::vector<std::pair<std::string, std::string>>& resources) override {
    Status s = usable();
    if (!s.isOk()) return s;
    for (const auto& [type, id] : resources) {
      auto st = w_.prepare(
          "INSERT INTO source_resources(source_id, type, id) VALUES (?1, ?2, ?3) "
          "ON CONFLICT DO NOTHING");
      if (!st.isOk()) return st.status();
      st.value().bind(1, std::string_view(sourceId), true);
      st.value().bind(2, std::string_view(type), true);
      st.value().bind(3, std::string_view(id), true);
      if (st.value().run() != StepResult::kDone) return sqlError(st.value(), "source resources");
    }
    return Status::ok();
  }

  Result<std::vector<std::pair<std::string, std::string>>> sourceResources(
      const std::string& sourceId) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare("SELECT type, id FROM source_resources WHERE source_id = ?1");
    if (!st.isOk()) return st.status();
    st.value().bind(1, std::string_view(sourceId), true);
    std::vector<std::pair<std::string, std::string>> out;
    for (;;) {
      StepResult r = st.value().step();
      if (r == StepResult::kDone) break;
      if (r != StepResult::kRow) return sqlError(st.value(), "source resources");
      out.emplace_back(st.value().columnString(0), st.value().columnString(1));
    }
    return out;
  }

  Status moveSourceResources(const std::string& from, const std::string& to) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto ins = w_.prepare(
        "INSERT INTO source_resources(source_id, type, id) SELECT ?2, type, id FROM "
        "source_resources WHERE source_id = ?1 ON CONFLICT DO NOTHING");
    if (!ins.isOk()) return ins.status();
    ins.value().bind(1, std::string_view(from), true);
    ins.value().bind(2, std::string_view(to), true);
    if (ins.value().run() != StepResult::kDone) return sqlError(ins.value(), "source resources");
    auto del = w_.prepare("DELETE FROM source_resources WHERE source_id = ?1");
    if (!del.isOk()) return del.status();
    del.value().bind(1, std::string_view(from), true);
    if (del.value().run() != StepResult::kDone) return sqlError(del.value(), "source resources");
    return Status::ok();
  }

  Result<int64_t> proposeCandidate(const std::string& a, const std::string& b,
                                   const std::string& reason, const std::string& now) override {
    Status s = usable();
    if (!s.isOk()) return s;
    const std::string& lo = a < b ? a : b;
    const std::string& hi = a < b ? b : a;
    auto st = w_.prepare(
        "INSERT INTO candidate_links(person_a, person_b, reason, status, created) "
        "VALUES (?1, ?2, ?3, 'open', ?4) ON CONFLICT(person_a, person_b) DO NOTHING "
        "RETURNING id");
    if (!st.isOk()) return st.status();
    st.value().bind(1, std::string_view(lo), true);
    st.value().bind(2, std::string_view(hi), true);
    st.value().bind(3, std::string_view(reason), true);
    st.value().bind(4, std::string_view(now), true);
    StepResult r = st.value().step();
    if (r == StepResult::kDone) return int64_t{0};  // the pair is known already
    if (r != StepResult::kRow) return sqlError(st.value(), "candidate link");
    const int64_t id = st.value().columnInt(0);
    if (st.value().run() != StepResult::kDone) return sqlError(st.value(), "candidate link");
    return id;
  }

  static CandidateLink candidateRow(const Statement& st) {
    CandidateLink c;
    c.id = st.columnInt(0);
    c.personA = st.columnString(1);
    c.personB = st.columnString(2);
    c.reason = st.columnString(3);
    c.status = st.columnString(4);
    c.created = st.columnString(5);
    c.decided = st.columnIsNull(6) ? "" : st.columnString(6);
    return c;
  }

  Result<std::optional<CandidateLink>> candidate(int64_t id) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare(
        "SELECT id, person_a, person_b, reason, status, created, decided FROM candidate_links "
        "WHERE id = ?1");
    if (!st.isOk()) return st.status();
    st.value().bind(1, id);
    StepResult r = st.value().step();
    if (r == StepResult::kDone) return std::optional<CandidateLink>();
    if (r != StepResult::kRow) return sqlError(st.value(), "candidate link");
    return std::optional<CandidateLink>(candidateRow(st.value()));
  }

  Result<std::vector<CandidateLink>> candidates(const std::string& status, int limit) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare(
        "SELECT id, person_a, person_b, reason, status, created, decided FROM candidate_links "
        "WHERE (?1 = '' OR status = ?1) ORDER BY id DESC LIMIT ?2");
    if (!st.isOk()) return st.status();
    st.value().bind(1, std::string_view(status), true);
    st.value().bind(2, int64_t{limit});
    std::vector<CandidateLink> out;
    for (;;) {
      StepResult r = st.value().step();
      if (r == StepResult::kDone) break;
      if (r != StepResult::kRow) return sqlError(st.value(), "candidate links");
      out.push_back(candidateRow(st.value()));
    }
    return out;
  }

  Status decideCandidate(int64_t id, const std::string& status, const std::string& now) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare("UPDATE candidate_links SET status = ?2, decided = ?3 WHERE id = ?1");
    if (!st.isOk()) return st.status();
    st.value().bind(1, id);
    st.value().bind(2, std::string_view(status), true);
    st.value().bind(3, std::string_view(now), true);
    if (st.value().run() != StepResult::kDone) return sqlError(st.value(), "candidate link");
    return Status::ok();
  }

  Status enqueueNotification(const std::string& subscriptionId, const std::string& type,
                             const std::string& id, int64_t version, int64_t nowMs) override {
    Status s = usable();
    if (!s.isOk()) return s;
    auto st = w_.prepare(
        "INSERT INTO notifications(subscription_id, type, resource_id, version, status, "
        "next_attempt) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)");
    if (!st.isOk()) return st.status();
    st.value().bind(1, std::string_view(subscriptionId), true);
    st.value().bind(2, std::string_view(type), true);
    st.value().bind(3, std::string_view(id), true);
    st.value().bind(4, version);
    st.value().bind(5, nowMs);
    if (st.value().run() != StepResult::kDone) return sqlError(st.value(), "notification");
    return Status::ok();
  }

  Status appendAudit(std::vector<AuditRow>& rows) override {
    Status s = usable();
    if (!s.isOk()) return s;
    if (rows.empty()) return Status::ok();
    s = w_.exec("SAVEPOINT op");
    if (!s.isOk()) return s;
    s = sql::appendAuditRows(w_, rows);
    if (s.isOk()) s = w_.exec("RELEASE op");
    if (!s.isOk()) {
      w_.exec("ROLLBACK TO op");
      w_.exec("RELEASE op");
    }
    return s;
  }

  Status commit() override {
    Status s = usable();
    if (!s.isOk()) return s;
    // PostgreSQL: every gateway on the database hears which types this commit wrote (the
    // notification is sent only if the commit succeeds; SqlStore::setChangeListener).
    if (w_.dialect() == Dialect::kPostgres && !writtenTypes_.empty()) {
      std::string types;
      for (const std::string& t : writtenTypes_) types += (types.empty() ? "" : ",") + t;
      auto st = w_.prepare("SELECT pg_notify('acp_change', ?1)");
      if (!st.isOk()) return st.status();
      st.value().bind(1, std::string_view(types), true);
      if (st.value().run() != StepResult::kDone) return sqlError(st.value(), "change notice");
    }
    s = w_.exec("COMMIT");
    if (!s.isOk()) {
      finish("ROLLBACK");
      return s;
    }
    finish(nullptr);
    return Status::ok();
  }

 private:
  struct Current {
    bool exists = false;
    int64_t pk = 0;
    int64_t version = 0;
    bool deleted = false;
    std::string lastUpdated;
    std::string json;

    StoredResource asStored(const std::string& type, const std::string& id) const {
      StoredResource r;
      r.type = type;
      r.id = id;
      r.versionId = version;
      r.lastUpdated = lastUpdated;
      r.deleted = deleted;
      r.json = json;
      return r;
    }
  };
  struct Written {
    int64_t pk = 0;
    StoredResource resource;
  };

  sql::SearchSettings settings() const {
    sql::SearchSettings s;
    s.nowMs = store_.options_.clock ? store_.options_.clock() : systemNowMs();
    s.maxIncludes = store_.options_.maxIncludes;
    s.dialect = store_.dialect_;
    return s;
  }

  Status usable() const {
    if (done_) return Status::internal("store.transaction-closed: already committed or failed");
    // Some failures (disk full, I/O error) end SQLite's transaction on their own: from then on
    // nothing may run, or the next statement would start a transaction of its own and an
    // endUnit(true) would commit it, out of this transaction's all-or-nothing.
    if (!w_.inTransaction())
      return Status::internal("store.transaction-aborted: SQLite ended the transaction after an error");
    return Status::ok();
  }

  void finish(const char* sql) {
    if (sql) w_.exec(sql);
    done_ = true;
    if (store_.observer_) store_.observer_->onEnd(sql == nullptr);
    store_.releaseWriter();
  }

  Status checkResource(const std::string& type, const json::Value& resource) const {
    if (!store_.model_->isResourceType(type))
      return Status::invalid("store.invalid-type: '" + type + "' is not a resource type");
    if (!resource.isObject())
      return Status::invalid("store.invalid-resource: a resource must be a JSON object");
    const json::Value* rt = resource.find("resourceType");
    if (!rt || !rt->isString() || rt->text() != type)
      return Status::invalid("store.invalid-resource: resourceType is not " + type);
    return Status::ok();
  }

  // Runs `op` inside SAVEPOINT; failure rolls the savepoint back. `onKeyTaken` answers when
  // op returned the keyTaken_ marker (a unique violation on conditional_keys).
  template <typename Op>
  Result<WriteResult> inSavepoint(Op op) {
    return inSavepoint(op, [] { return Result<WriteResult>(Status::internal("unreachable")); });
  }
  template <typename Op, typename OnKeyTaken>
  Result<WriteResult> inSavepoint(Op op, OnKeyTaken onKeyTaken) {
    Status s = w_.exec("SAVEPOINT op");
    if (!s.isOk()) return s;
    Result<WriteResult> r = op();
    if (r.isOk()) {
      s = w_.exec("RELEASE op");
      if (!s.isOk()) {
        w_.exec("ROLLBACK TO op");
        w_.exec("RELEASE op");
        return s;
      }
      return r;
    }
    w_.exec("ROLLBACK TO op");
    w_.exec("RELEASE op");
    if (r.status().code() == keyTaken_.code() && r.status().message() == keyTaken_.message())
      return onKeyTaken();
    return r;
  }

  Result<Current> loadCurrent(const std::string& type, const std::string& id) {
    auto st = w_.prepare(
        "SELECT pk, version, deleted, last_updated, json FROM resources "
        "WHERE type = ?1 AND id = ?2");
    if (!st.isOk()) return st.status();
    Statement& s = st.value();
    s.bind(1, std::string_view(type), true);
    s.bind(2, std::string_view(id), true);
    Current c;
    StepResult r = s.step();
    if (r == StepResult::kDone) return c;
    if (r != StepResult::kRow) return sqlError(s, "load");
    c.exists = true;
    c.pk = s.columnInt(0);
    c.version = s.columnInt(1);
    c.deleted = s.columnInt(2) != 0;
    c.lastUpdated = s.columnString(3);
    if (!c.deleted) c.json = s.columnString(4);
    return c;
  }

  Result<WriteResult> existing(const std::string& type, const std::string& id) {
    auto cur = readCurrent(w_, type, id);
    if (!cur.isOk()) return cur.status();
    WriteResult out;
    out.resource = cur.take();
    out.noop = true;
    return out;
  }

  // The live resource holding a conditional key (the key row is removed when stale).
  Result<std::optional<WriteResult>> keyedResource(const std::string& type,
                                                   const std::string& key) {
    auto st = w_.prepare(
        "SELECT r.id, r.deleted FROM conditional_keys k JOIN resources r ON r.pk = "
        "k.resource_pk WHERE k.type = ?1 AND k.key = ?2");
    if (!st.isOk()) return st.status();
    Statement& s = st.value();
    s.bind(1, std::string_view(type), true);
    s.bind(2, std::string_view(key), true);
    StepResult r = s.step();
    if (r == StepResult::kDone) return std::optional<WriteResult>();
    if (r != StepResult::kRow) return sqlError(s, "conditional key");
    std::string id = s.columnString(0);
    bool deleted = s.columnInt(1) != 0;
    s = Statement();
    if (!deleted) {
      auto e = existing(type, id);
      if (!e.isOk()) return e.status();
      return std::optional<WriteResult>(e.take());
    }
    auto del = w_.prepare("DELETE FROM conditional_keys WHERE type = ?1 AND key = ?2");
    if (!del.isOk()) return del.status();
    del.value().bind(1, std::string_view(type), true);
    del.value().bind(2, std::string_view(key), true);
    if (del.value().run() != StepResult::kDone) return sqlError(del.value(), "stale key");
    return std::optional<WriteResult>();
  }

  Status insertVersion(const std::string& type, const std::string& id, int64_t version,
                       const std::string& lastUpdated, const char* method,
                       const std::string* jsonText) {
    auto st = w_.prepare(
        "INSERT INTO versions(type, id, version, last_updated, method, deleted, json) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st.isOk()) return st.status();
    Statement& s = st.value();
    s.bind(1, std::string_view(type), true);
    s.bind(2, std::string_view(id), true);
    s.bind(3, version);
    s.bind(4, std::string_view(lastUpdated), true);
    s.bind(5, std::string_view(method), true);
    s.bind(6, int64_t{jsonText ? 0 : 1});
    if (jsonText)
      s.bind(7, std::string_view(*jsonText), true);
    else
      s.bindNull(7);
    StepResult r = s.run();
    if (r == StepResult::kConstraint)
      return Status::conflict("store.id-collision: version " + std::to_string(version) + " of " +
                              type + "/" + id + " already exists");
    if (r != StepResult::kDone) return sqlError(s, "version");
    return Status::ok();
  }

  Status clearIndex(int64_t pk) {
    for (const char* table : kIndexTables) {
      auto st = w_.prepare(std::string("DELETE FROM ") + table + " WHERE resource_pk = ?1");
      if (!st.isOk()) return st.status();
      st.value().bind(1, pk);
      if (st.value().run() != StepResult::kDone) return sqlError(st.value(), "clear index");
    }
    return Status::ok();
  }

  // The index rows of one resource, per index table (kIndexTables order): the search
  // parameter and the values of the table's own columns (kIndexColumns).
  struct IndexRow {
    std::string param;
    std::vector<SqlArg> values;
  };
  using IndexRows = std::array<std::vector<IndexRow>, kIndexTableCount>;

  static IndexRows indexRows(const search::IndexValues& v) {
    IndexRows out;
    auto text = [](const std::string& s) { return SqlArg::text(s); };
    auto textOrNull = [](const std::string& s) { return s.empty() ? SqlArg::null() : SqlArg::text(s); };
    for (const auto& e : v.strings) out[0].push_back({e.param, {text(e.normalized), text(e.exact)}});
    for (const auto& e : v.tokens)
      out[1].push_back({e.param, {text(e.system), text(e.code), text(e.text)}});
    for (const auto& e : v.dates)
      out[2].push_back({e.param, {SqlArg::integer(e.low), SqlArg::integer(e.high)}});
    for (const auto& e : v.references) {
      bool ident = !e.identifierValue.empty() || !e.identifierSystem.empty();
      out[3].push_back({e.param,
                        {text(e.targetType), text(e.targetId), textOrNull(e.url),
                         ident ? text(e.identifierSystem) : SqlArg::null(),
                         ident ? text(e.identifierValue) : SqlArg::null()}});
    }
    for (const auto& e : v.numbers)
      if (std::isfinite(e.value))  // not comparable: never matched, not stored
        out[4].push_back({e.param, {SqlArg::real(e.value), text(e.text)}});
    for (const auto& e : v.quantities)
      if (std::isfinite(e.value))
        out[5].push_back(
            {e.param, {SqlArg::real(e.value), text(e.system), text(e.code), text(e.unit)}});
    for (const auto& e : v.uris) out[6].push_back({e.param, {text(e.uri)}});
    return out;
  }

  // A row's identity for comparing stored rows with new ones (param and column values).
  static std::string rowKey(const std::string& param, const std::vector<SqlArg>& values) {
    std::string k = param;
    for (const SqlArg& a : values) {
      k += '\x1f';
      switch (a.kind) {
        case SqlArg::Kind::kNull: k += 'n'; break;
        case SqlArg::Kind::kInt: k += 'i' + std::to_string(a.i); break;
        case SqlArg::Kind::kReal: {
          char buf[40];
          std::snprintf(buf, sizeof buf, "r%.17g", a.d);
          k += buf;
          break;
        }
        case SqlArg::Kind::kText: k += 't' + a.s; break;
      }
    }
    return k;
  }

  // Inserts `rows` (all of index table `table`) of resource `pk`: several rows per statement
  // (chunks of 16, 8, 4, 2, 1 — at most five statement texts per table in the statement
  // cache), one round trip each on PostgreSQL instead of one per row.
  Status insertRows(size_t table, int64_t pk, const std::string& type,
                    const std::vector<const IndexRow*>& rows) {
    const auto& cols = kIndexColumns[table];
    const size_t perRow = 1 + cols.size();  // param and the table's columns
    size_t done = 0;
    while (done < rows.size()) {
      size_t n = 16;
      while (n > rows.size() - done) n /= 2;
      std::string sql = std::string("INSERT INTO ") + kIndexTables[table] + "(resource_pk, type, param";
      for (const char* c : cols) sql += std::string(", ") + c;
      sql += ") VALUES ";
      for (size_t j = 0; j < n; ++j) {
        sql += j ? ", (?1, ?2" : "(?1, ?2";
        for (size_t c = 0; c < perRow; ++c) sql += ", ?" + std::to_string(3 + j * perRow + c);
        sql += ")";
      }
      auto st = w_.prepare(sql);
      if (!st.isOk()) return st.status();
      Statement& s = st.value();
      s.bind(1, pk);
      s.bind(2, std::string_view(type), true);
      for (size_t j = 0; j < n; ++j) {
        const IndexRow& row = *rows[done + j];
        const int base = static_cast<int>(3 + j * perRow);
        s.bind(base, std::string_view(row.param), true);
        for (size_t c = 0; c < row.values.size(); ++c)
          s.bind(base + static_cast<int>(c + 1), row.values[c]);
      }
      if (s.run() != StepResult::kDone) return sqlError(s, "index");
      done += n;
    }
    return Status::ok();
  }

  // Inserts the index rows of a new resource (or of one whose rows were cleared).
  Status writeIndex(int64_t pk, const std::string& type, const IndexRows& rows) {
    std::vector<const IndexRow*> batch;
    for (size_t t = 0; t < kIndexTableCount; ++t) {
      batch.clear();
      for (const IndexRow& row : rows[t]) batch.push_back(&row);
      Status s = insertRows(t, pk, type, batch);
      if (!s.isOk()) return s;
    }
    return Status::ok();
  }

  // Brings the stored index rows of `pk` to `rows`, touching only the rows that differ: a new
  // version usually keeps most of its search values (an HL7 update re-sends the same name and
  // address), and every row deleted and re-inserted would dirty a page of each index.
  Status syncIndex(int64_t pk, const std::string& type, const IndexRows& rows) {
    for (size_t t = 0; t < kIndexTableCount; ++t) {
      const auto& cols = kIndexColumns[t];
      // The row's own address: SQLite's rowid, PostgreSQL's ctid (stable until the row changes,
      // and no one else changes these rows while this transaction holds the write lock).
      const bool pg = w_.dialect() == Dialect::kPostgres;
      std::string sql = pg ? "SELECT ctid, param" : "SELECT rowid, param";
      for (const char* c : cols) sql += std::string(", ") + c;
      auto st = w_.prepare(sql + " FROM " + kIndexTables[t] + " WHERE resource_pk = ?1");
      if (!st.isOk()) return st.status();
      Statement& s = st.value();
      s.bind(1, pk);
      std::unordered_multimap<std::string, std::string> stored;
      for (;;) {
        StepResult r = s.step();
        if (r == StepResult::kDone) break;
        if (r != StepResult::kRow) return sqlError(s, "index read");
        std::vector<SqlArg> values;
        for (size_t c = 0; c < cols.size(); ++c) values.push_back(s.columnArg(static_cast<int>(c + 2)));
        stored.emplace(rowKey(s.columnString(1), values), s.columnString(0));
      }
      s.reset();
      std::vector<const IndexRow*> added;
      for (const IndexRow& row : rows[t]) {
        auto it = stored.find(rowKey(row.param, row.values));
        if (it != stored.end()) {
          stored.erase(it);  // unchanged: kept as it is
          continue;
        }
        added.push_back(&row);
      }
      if (Status is = insertRows(t, pk, type, added); !is.isOk()) return is;
      if (stored.empty()) continue;
      auto del = w_.prepare(std::string("DELETE FROM ") + kIndexTables[t] +
                            (pg ? " WHERE ctid = ?1::tid" : " WHERE rowid = ?1"));
      if (!del.isOk()) return del.status();
      for (const auto& [key, rowid] : stored) {
        if (pg)
          del.value().bind(1, std::string_view(rowid), true);
        else
          del.value().bind(1, static_cast<int64_t>(std::stoll(rowid)));
        if (del.value().run() != StepResult::kDone) return sqlError(del.value(), "index delete");
        del.value().reset();
      }
    }
    return Status::ok();
  }

  // Writes the next version of type/id from `resource` (stamped here), replacing the current
  // row (or inserting it) and its index rows.
  Result<Written> writeVersion(const Current& cur, const std::string& type, const std::string& id,
                               json::Value& resource, const char* method) {
    const int64_t version = cur.exists ? cur.version + 1 : 1;
    const std::string lastUpdated = formatInstant(store_.nextTimestamp());
    stamp(resource, id, version, lastUpdated);
    std::string text = json::write(resource);
    search::IndexOptions indexOptions;
    indexOptions.baseUrl = store_.options_.baseUrl;
    IndexRows index = indexRows(search::extractIndex(*store_.model_, resource, indexOptions));

    int64_t pk = cur.pk;
    if (cur.exists) {
      auto st = w_.prepare(
          "UPDATE resources SET version = ?1, last_updated = ?2, deleted = 0, json = ?3 "
          "WHERE pk = ?4");
      if (!st.isOk()) return st.status();
      Statement& s = st.value();
      s.bind(1, version);
      s.bind(2, std::string_view(lastUpdated), true);
      s.bind(3, std::string_view(text), true);
      s.bind(4, cur.pk);
      if (s.run() != StepResult::kDone) return sqlError(s, "update");
      // A conditional-create key only guards the create race; once the content changes the
      // criteria may no longer match, so the key must not answer later creates.
      auto keys = w_.prepare("DELETE FROM conditional_keys WHERE resource_pk = ?1");
      if (!keys.isOk()) return keys.status();
      keys.value().bind(1, cur.pk);
      if (keys.value().run() != StepResult::kDone) return sqlError(keys.value(), "conditional keys");
    } else {
      auto st = w_.prepare(
          "INSERT INTO resources(type, id, version, last_updated, deleted, json) "
          "VALUES (?1, ?2, ?3, ?4, 0, ?5) RETURNING pk");
      if (!st.isOk()) return st.status();
      Statement& s = st.value();
      s.bind(1, std::string_view(type), true);
      s.bind(2, std::string_view(id), true);
      s.bind(3, version);
      s.bind(4, std::string_view(lastUpdated), true);
      s.bind(5, std::string_view(text), true);
      StepResult r = s.step();
      if (r == StepResult::kConstraint)
        return Status::conflict("store.id-collision: " + type + "/" + id + " already exists");
      if (r != StepResult::kRow) return sqlError(s, "insert");
      pk = s.columnInt(0);
      if (s.run() != StepResult::kDone) return sqlError(s, "insert");
    }
    Status vs = insertVersion(type, id, version, lastUpdated, method, &text);
    if (!vs.isOk()) return vs;
    // A live resource's rows are brought up to date; a new (or deleted, so cleared) one's are
    // written.
    vs = cur.exists && !cur.deleted ? syncIndex(pk, type, index) : writeIndex(pk, type, index);
    if (!vs.isOk()) return vs;

    writtenTypes_.insert(type);
    Written out;
    out.pk = pk;
    out.resource.type = type;
    out.resource.id = id;
    out.resource.versionId = version;
    out.resource.lastUpdated = lastUpdated;
    out.resource.method = method;
    out.resource.json = std::move(text);
    if (store_.observer_) {
      Status observed = store_.observer_->onWrite(*this, out.resource);
      if (!observed.isOk()) return observed;
    }
    return out;
  }

  SqlStore& store_;
  Connection& w_;
  bool done_ = false;
  int units_ = 0;  // open beginUnit() savepoints
  std::set<std::string> writtenTypes_;  // resource types written (kept or not: a superset)
  // Internal marker: the conditional key insert hit the unique index.
  const Status keyTaken_ = Status::conflict("store.conditional-key-taken");
};

void SqlStore::restartWalIfWanted() {
  if (!sqliteWriter_) return;
  if (!restartWanted_.exchange(false, std::memory_order_relaxed)) return;
  // The writer holds no lock between transactions, so RESTART gets the write lock; it copies
  // only the frames committed since the checkpointer's last pass, syncs the database file and
  // makes the next commit write the WAL from its beginning. It never waits: busy (the
  // checkpointer is copying, or a reader still needs the WAL) means "next time".
  int logPages = 0, done = 0;
  sqlite3_busy_timeout(sqliteWriter_->handle(), 0);
  int rc = sqlite3_wal_checkpoint_v2(sqliteWriter_->handle(), "main", SQLITE_CHECKPOINT_RESTART,
                                     &logPages, &done);
  sqlite3_busy_timeout(sqliteWriter_->handle(), options_.busyTimeoutMs);
  if (rc == SQLITE_OK) checkpointAt_.store(options_.checkpointPages, std::memory_order_relaxed);
}

Result<std::unique_ptr<Transaction>> SqlStore::begin() {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  if (writerHeldByThisThread())
    return Status::internal(
        "store.nested-transaction: this thread already holds the write transaction");
  if (!acquireWriter())
    return Status::internal("store.busy: the writer stayed busy for " +
                            std::to_string(options_.busyTimeoutMs) + " ms");
  Status s = writer_->beginWrite();
  if (!s.isOk()) {
    releaseWriter();
    return Status::internal("store.busy: " + s.message());
  }
  // Other gateways on the same PostgreSQL database may have written since: lastUpdated stays
  // in commit order across them (the write lock is held from here to the commit).
  if (dialect_ == Dialect::kPostgres) {
    s = catchUpTimestamp();
    if (!s.isOk()) {
      writer_->exec("ROLLBACK");
      releaseWriter();
      return s;
    }
  }
  return std::unique_ptr<Transaction>(new SqlTransaction(*this));
}

}  // namespace acp::store
