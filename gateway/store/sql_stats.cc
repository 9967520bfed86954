// SqlStore::stats(): the figures /metrics reads at each scrape (sql_store.h). Each is one
// counting query on an indexed status column, so a scrape stays cheap however large the store.
#include "gateway/store/sql_store.h"

namespace acp::store {

using sql::StepResult;

namespace {

// The count of `table` rows with `status`: a query on the (status, …) index.
Result<int64_t> countWithStatus(sql::Connection& c, const char* table, const char* status) {
  auto st = c.prepare(std::string("SELECT count(*) FROM ") + table + " WHERE status = ?1");
  if (!st.isOk()) return st.status();
  st.value().bind(1, std::string_view(status));
  if (st.value().step() != StepResult::kRow) return st.value().error("count");
  return st.value().columnInt(0);
}

}  // namespace

Result<SqlStore::Stats> SqlStore::stats() {
  auto lease = acquireReader();
  if (!lease.isOk()) return lease.status();
  sql::Connection& c = *lease.value();
  Stats out;
  auto size = c.queryInt(
      dialect_ == sql::Dialect::kSqlite
          ? "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
          // Every table of the gateway's schema, with its indexes and TOAST.
          : "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'");
  if (!size.isOk()) return size.status();
  out.databaseBytes = size.value();
  struct Count {
    const char* table;
    const char* status;
    int64_t* into;
  };
  for (const Count& k : {Count{"ingest_failures", "open", &out.failuresOpen},
                         Count{"candidate_links", "open", &out.candidateLinksOpen},
                         Count{"notifications", "pending", &out.notificationsPending},
                         Count{"notifications", "failed", &out.notificationsFailed}}) {
    auto n = countWithStatus(c, k.table, k.status);
    if (!n.isOk()) return n.status();
    *k.into = n.value();
  }
  return out;
}

}  // namespace acp::store
