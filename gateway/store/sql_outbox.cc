// SqlStore as NotificationOutbox: the notifications table (schema step 9). Rows are added
// by Transaction::enqueueNotification inside the writes they are about; these calls read and
// settle them through the writer connection under the writer gate (few and short).
#include "gateway/store/sql_store.h"
#include "gateway/store/writer_gate.h"

namespace acp::store {

using sql::StepResult;

// dueNotifications is in sql_store.cc, beside the reader pool it reads through.

namespace {

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

Status SqlStore::notificationDelivered(int64_t id, const std::string& nowInstant) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  return settle(*writer_,
                "UPDATE notifications SET status = 'delivered', delivered = ?2, attempts = "
                "attempts + 1 WHERE id = ?1",
                id, [&](sql::Statement& s) { s.bind(2, std::string_view(nowInstant)); });
}

Status SqlStore::notificationRetry(int64_t id, int attempts, int64_t nextMs,
                                      const std::string& error) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  return settle(*writer_,
                "UPDATE notifications SET attempts = ?2, next_attempt = ?3, last_error = ?4 "
                "WHERE id = ?1",
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
                "UPDATE notifications SET status = 'failed', last_error = ?2 WHERE id = ?1", id,
                [&](sql::Statement& s) { s.bind(2, std::string_view(error)); });
}

}  // namespace acp::store
