#include "gateway/app/scrape_gauges.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>

namespace acp::app {

void collectStore(store::SqlStore& store, std::vector<metrics::Sample>& out) {
  auto stats = store.stats();
  out.push_back({"acp_store_up", "1 when the store answered this scrape, else 0", {},
                 stats.isOk() ? 1.0 : 0.0});
  if (!stats.isOk()) return;
  const store::SqlStore::Stats& s = stats.value();
  out.push_back({"acp_store_database_bytes",
                 "Size of the database: SQLite's main file, or the PostgreSQL schema's tables "
                 "with their indexes",
                 {},
                 double(s.databaseBytes)});
  out.push_back({"acp_ingest_failures_open",
                 "Kept ingest failures waiting for a replay (GET /$ingest/failures)", {},
                 double(s.failuresOpen)});
  out.push_back({"acp_candidate_links_open",
                 "Possible matches between children waiting for a person to decide", {},
                 double(s.candidateLinksOpen)});
  out.push_back({"acp_subscription_notifications_pending",
                 "Subscription notifications not yet delivered", {},
                 double(s.notificationsPending)});
  out.push_back({"acp_subscription_notifications_failed",
                 "Subscription notifications given up or dropped", {},
                 double(s.notificationsFailed)});
}

void collectProcess(double startSeconds, std::vector<metrics::Sample>& out) {
  // /proc/self/statm: size resident ... in pages.
  std::ifstream statm("/proc/self/statm");
  long long size = 0, resident = 0;
  if (statm >> size >> resident)
    out.push_back({"process_resident_memory_bytes", "Resident memory size in bytes", {},
                   double(resident) * double(sysconf(_SC_PAGESIZE))});
  if (DIR* d = opendir("/proc/self/fd")) {
    int n = 0;
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
    out.push_back({"process_open_fds", "Open file descriptors", {}, double(n - 1)});  // less d's own
  }
  out.push_back({"process_start_time_seconds",
                 "Start time of the process since the epoch, in seconds", {}, startSeconds});
}

}  // namespace acp::app
