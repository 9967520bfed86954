#include "gateway/store/sql_migrations.h"

#include <string>

namespace acp::store::sql {
namespace {

Status failed(const Status& s, int step) {
  return Status::internal("store.migration-failed: step " + std::to_string(step) + ": " +
                          s.message());
}

}  // namespace

Status runMigrations(Connection& writer, const char* const* steps, int count) {

  for (;;) {
    Status s = writer.beginWrite();
    if (!s.isOk()) return failed(s, 0);
    s = writer.exec(
        "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);"
        "INSERT INTO schema_version(version) SELECT 0 WHERE NOT EXISTS "
        "(SELECT 1 FROM schema_version)");
    auto version =
        s.isOk() ? writer.queryInt("SELECT max(version) FROM schema_version") : Result<int64_t>(s);
    if (!version.isOk()) {
      writer.exec("ROLLBACK");
      return failed(version.status(), 0);
    }
    int64_t v = version.value();
    if (v > count) {
      writer.exec("ROLLBACK");
      return Status::internal("store.schema-too-new: database schema version " + std::to_string(v) +
                              ", this build knows " + std::to_string(count));
    }
    if (v == count) return writer.exec("COMMIT");
    int step = static_cast<int>(v) + 1;
    s = writer.exec(steps[step - 1]);
    if (s.isOk()) {
      auto st = writer.prepare("UPDATE schema_version SET version = ?1");
      if (!st.isOk()) {
        s = st.status();
      } else {
        st.value().bind(1, int64_t{step});
        if (st.value().run() != StepResult::kDone) s = st.value().error("schema_version");
      }
    }
    if (s.isOk()) s = writer.exec("COMMIT");
    if (!s.isOk()) {
      writer.exec("ROLLBACK");
      return failed(s, step);
    }
  }
}

}  // namespace acp::store::sql
