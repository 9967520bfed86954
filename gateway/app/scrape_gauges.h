// The gauges read at each scrape of /metrics (docs/operations.md, "Metrics") that belong to no
// one listener: the store's figures and the process's own. Registered by app/gateway.cc as
// collectors (metrics/registry.h).
//   acp_store_database_bytes                 store/sql_store.h Stats::databaseBytes
//   acp_ingest_failures_open                 kept ingest failures waiting for a replay
//   acp_candidate_links_open                 possible matches waiting for a person
//   acp_subscription_notifications_pending   notifications not yet delivered
//   acp_subscription_notifications_failed    notifications given up or dropped
//   acp_store_up                             1 when the store answered this scrape, else 0
//                                            (the figures above are then left out)
//   process_resident_memory_bytes, process_open_fds, process_start_time_seconds
#pragma once

#include <vector>

#include "gateway/metrics/registry.h"
#include "gateway/store/sql_store.h"

namespace acp::app {

void collectStore(store::SqlStore& store, std::vector<metrics::Sample>& out);
// `startSeconds`: when the process started, in seconds since the epoch.
void collectProcess(double startSeconds, std::vector<metrics::Sample>& out);
// When this process started, in seconds since the epoch (/proc: its start in clock ticks after
// boot, and the boot time); now when /proc cannot tell.
double processStartSeconds();

}  // namespace acp::app
