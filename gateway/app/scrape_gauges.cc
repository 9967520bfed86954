#include "gateway/app/scrape_gauges.h"

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

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

double processStartSeconds() {
  double now = double(std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count()) /
               1000;
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return now;
  // Field 22 (starttime), counted after the command's closing parenthesis (field 2 may hold
  // spaces): the 20th field after it.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return now;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
  }
  double ticks = std::atof(field.c_str());
  std::ifstream procStat("/proc/stat");
  std::string key;
  double boot = 0;
  while (procStat >> key) {
    if (key == "btime") {
      procStat >> boot;
      break;
    }
    std::getline(procStat, line);
  }
  long hz = sysconf(_SC_CLK_TCK);
  if (boot <= 0 || hz <= 0 || ticks <= 0) return now;
  return boot + ticks / double(hz);
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
