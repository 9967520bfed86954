// SqlStore as ReplayLedger: the used_assertions table (schema step 10). Token requests are
// few (one per client every few minutes), so each goes through the writer connection under
// the writer gate: the purge and the insert are one short transaction, and the primary key
// makes the insert fail for a pair already used, in this process or another.
#include "gateway/store/sql_store.h"
#include "gateway/store/writer_gate.h"

namespace acp::store {

using sql::StepResult;

Result<bool> SqlStore::firstUse(const std::string& clientId, const std::string& jti,
                                   int64_t keepUntilMs, int64_t nowMs) {
  if (!open_) return Status::internal("store.open-failed: the store is not open");
  WriterGate gate(acquireWriter(), [this] { releaseWriter(); });
  if (!gate.held()) return Status::internal("store.busy: the writer is in use");
  Status s = writer_->beginWrite();
  if (!s.isOk()) return s;
  auto fail = [this](Status st) {
    writer_->exec("ROLLBACK");
    return st;
  };
  auto purge = writer_->prepare("DELETE FROM used_assertions WHERE keep_until < ?1");
  if (!purge.isOk()) return fail(purge.status());
  purge.value().bind(1, nowMs);
  if (purge.value().run() != StepResult::kDone) return fail(purge.value().error("purge jti"));

  auto insert = writer_->prepare(
      "INSERT INTO used_assertions(client_id, jti, keep_until) VALUES (?1, ?2, ?3) "
      "ON CONFLICT DO NOTHING RETURNING 1");
  if (!insert.isOk()) return fail(insert.status());
  sql::Statement& st = insert.value();
  st.bind(1, std::string_view(clientId));
  st.bind(2, std::string_view(jti));
  st.bind(3, keepUntilMs);
  StepResult r = st.step();
  if (r != StepResult::kRow && r != StepResult::kDone) return fail(st.error("record jti"));
  const bool first = r == StepResult::kRow;  // no row: the pair was used already
  if (first && st.run() != StepResult::kDone) return fail(st.error("record jti"));
  s = writer_->exec("COMMIT");
  if (!s.isOk()) return fail(s);
  return first;
}

}  // namespace acp::store
