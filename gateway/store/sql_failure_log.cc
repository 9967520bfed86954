// SqlStore as FailureLog: the ingest_failures table (schema step 2). Failures are rare and
// small in number, so every call goes through the single writer connection (under the writer
// gate) rather than the reader pool.
#include <functional>

#include "gateway/core/ids.h"
#include "gateway/store/sql_store.h"
#include "gateway/store/writer_gate.h"

namespace acp::store {

using sql::StepResult;

namespace {

KeptFailure fromRow(const sql::Statement& s) {
  KeptFailure f;
  f.id = s.columnInt(0);
  f.partner = s.columnString(1);
  f.sourceOds = s.columnString(2);
  f.pushId = s.columnString(3);
  f.recordId = s.columnString(4);
  f.receivedAt = s.columnString(5);
  f.contentType = s.columnString(6);
  f.content = s.columnBlob(7);
  f.issuesJson = s.columnString(8);
  f.status = s.columnString(9);
  f.replays = static_cast<int>(s.columnInt(10));
  return f;
}

constexpr const char* kColumns =
    "id, partner, source_ods, push_id, record_id, received_at, content_type, content, issues, "
    "status, replays";

}  // namespace

Result<int64_t> SqlStore::keep(const KeptFailure& f) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  auto st = writer_->prepare(
      "INSERT INTO ingest_failures(partner, source_ods, push_id, record_id, received_at, "
      "content_type, content, issues, status, replays) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0) RETURNING id");
  if (!st.isOk()) return st.status();
  sql::Statement& s = st.value();
  s.bind(1, std::string_view(f.partner));
  s.bind(2, std::string_view(f.sourceOds));
  s.bind(3, std::string_view(f.pushId));
  s.bind(4, std::string_view(f.recordId));
  s.bind(5, std::string_view(f.receivedAt.empty() ? formatInstant(nowMillis()) : f.receivedAt));
  s.bind(6, std::string_view(f.contentType));
  s.bindBlob(7, f.content);
  s.bind(8, std::string_view(f.issuesJson));
  s.bind(9, std::string_view(f.status.empty() ? "open" : f.status));
  if (s.step() != StepResult::kRow) return s.error("keep failure");
  const int64_t id = s.columnInt(0);
  if (s.run() != StepResult::kDone) return s.error("keep failure");
  return id;
}

Result<std::vector<KeptFailure>> SqlStore::list(const std::string& status, int limit,
                                                   int64_t before) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  auto st = writer_->prepare(std::string("SELECT ") + kColumns +
                             " FROM ingest_failures WHERE (?1 = '' OR status = ?1) AND "
                             "(?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3");
  if (!st.isOk()) return st.status();
  sql::Statement& s = st.value();
  s.bind(1, std::string_view(status));
  s.bind(2, before);
  s.bind(3, int64_t{limit});
  std::vector<KeptFailure> out;
  for (;;) {
    StepResult r = s.step();
    if (r == StepResult::kDone) break;
    if (r != StepResult::kRow) return s.error("list failures");
    out.push_back(fromRow(s));
  }
  return out;
}

Result<KeptFailure> SqlStore::get(int64_t id) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  auto st = writer_->prepare(std::string("SELECT ") + kColumns +
                             " FROM ingest_failures WHERE id = ?1");
  if (!st.isOk()) return st.status();
  sql::Statement& s = st.value();
  s.bind(1, id);
  StepResult r = s.step();
  if (r == StepResult::kDone)
    return Status::notFound("store.not-found: no kept failure " + std::to_string(id));
  if (r != StepResult::kRow) return s.error("get failure");
  return fromRow(s);
}

Status SqlStore::update(int64_t id, const std::string& status, const std::string& issuesJson) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  auto st = writer_->prepare(
      "UPDATE ingest_failures SET status = ?2, issues = ?3, replays = replays + 1 WHERE id = ?1");
  if (!st.isOk()) return st.status();
  sql::Statement& s = st.value();
  s.bind(1, id);
  s.bind(2, std::string_view(status));
  s.bind(3, std::string_view(issuesJson));
  if (s.run() != StepResult::kDone) return s.error("update failure");
  return Status::ok();
}

}  // namespace acp::store
