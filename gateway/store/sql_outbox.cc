// SqlStore as NotificationOutbox: the notifications table (schema step 9). Rows are added
// by Transaction::enqueueNotification inside the writes they are about. Looking (due) goes
// through the reader pool, so polling never waits for the writer; claiming and settling go
// through the writer connection under the writer gate, each one short statement in a
// transaction of its own (on PostgreSQL without the store's write lock: the claim locks only
// its rows, and skips rows another gateway's claim holds). A claim records its claimer
// (claimed_by: this store's owner id on PostgreSQL, none on SQLite); settling clears it.
#include <algorithm>
#include <string>

#include "gateway/store/sql_store.h"
#include "gateway/store/writer_gate.h"

namespace acp::store {

using sql::StepResult;

namespace {

Notification notificationFrom(const sql::Statement& s) {
  Notification n;
  n.id = s.columnInt(0);
  n.subscriptionId = s.columnString(1);
  n.type = s.columnString(2);
  n.resourceId = s.columnString(3);
  n.version = s.columnInt(4);
  n.attempts = static_cast<int>(s.columnInt(5));
  return n;
}

Status settle(sql::Connection& w, const char* sql, int64_t id,
              const std::function<void(sql::Statement&)>& bind) {
  auto st = w.prepare(sql);
  if (!st.isOk()) return st.status();
  st.value().bind(1, id);
  bind(st.value());
  if (st.value().run() != StepResult::kDone) return st.value().error("notification");
  return Status::ok();
}

}  // namespace

Result<std::vector<Notification>> SqlStore::dueNotifications(int64_t nowMs, int limit) {
  auto lease = acquireReader();
  if (!lease.isOk()) return lease.status();
  auto st = lease.value()->prepare(
      "SELECT id, subscription_id, type, resource_id, version, attempts FROM notifications "
      "WHERE status = 'pending' AND next_attempt <= ?1 ORDER BY next_attempt, id LIMIT ?2");
  if (!st.isOk()) return st.status();
  st.value().bind(1, nowMs);
  st.value().bind(2, int64_t{limit});
  std::vector<Notification> out;
  for (;;) {
    StepResult r = st.value().step();
    if (r == StepResult::kDone) break;
    if (r != StepResult::kRow) return st.value().error("due notifications");
    out.push_back(notificationFrom(st.value()));
  }
  return out;
}

Result<std::vector<Notification>> SqlStore::claimNotifications(int64_t nowMs, int limit,
                                                               int64_t leaseMs) {
  // Most polls find nothing due: the look costs no write.
  auto due = dueNotifications(nowMs, 1);
  if (!due.isOk()) return due.status();
  if (due.value().empty()) return std::vector<Notification>{};
  const int64_t claimer = claimOwner();  // PostgreSQL: this store's id, 0 without one
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  const bool pg = dialect_ == sql::Dialect::kPostgres;
  auto st = writer_->prepare(
      std::string("UPDATE notifications SET next_attempt = ?2, claimed_by = ?4 WHERE id IN "
                  "(SELECT id FROM "
                  "notifications WHERE status = 'pending' AND next_attempt <= ?1 "
                  "ORDER BY next_attempt, id LIMIT ?3") +
      (pg ? " FOR UPDATE SKIP LOCKED" : "") +
      ") RETURNING id, subscription_id, type, resource_id, version, attempts");
  if (!st.isOk()) return st.status();
  st.value().bind(1, nowMs);
  st.value().bind(2, nowMs + leaseMs);
  st.value().bind(3, int64_t{limit});
  if (claimer != 0)
    st.value().bind(4, claimer);
  else
    st.value().bindNull(4);
  std::vector<Notification> out;
  for (;;) {
    StepResult r = st.value().step();
    if (r == StepResult::kDone) break;
    if (r != StepResult::kRow) return st.value().error("claim notifications");
    out.push_back(notificationFrom(st.value()));
  }
  std::sort(out.begin(), out.end(),
            [](const Notification& a, const Notification& b) { return a.id < b.id; });
  return out;
}

Status SqlStore::notificationDelivered(int64_t id, const std::string& nowInstant) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  return settle(*writer_,
                "UPDATE notifications SET status = 'delivered', delivered = ?2, attempts = "
                "attempts + 1, claimed_by = NULL WHERE id = ?1",
                id, [&](sql::Statement& s) { s.bind(2, std::string_view(nowInstant)); });
}

Status SqlStore::notificationRetry(int64_t id, int attempts, int64_t nextMs,
                                      const std::string& error) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  return settle(*writer_,
                "UPDATE notifications SET attempts = ?2, next_attempt = ?3, last_error = ?4, "
                "claimed_by = NULL WHERE id = ?1",
                id, [&](sql::Statement& s) {
                  s.bind(2, int64_t{attempts});
                  s.bind(3, nextMs);
                  s.bind(4, std::string_view(error));
                });
}

Status SqlStore::notificationFailed(int64_t id, const std::string& error) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  return settle(*writer_,
                "UPDATE notifications SET status = 'failed', last_error = ?2, claimed_by = NULL "
                "WHERE id = ?1", id,
                [&](sql::Statement& s) { s.bind(2, std::string_view(error)); });
}

}  // namespace acp::store
