#include "gateway/store/pg_change_feed.h"

#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <utility>

namespace acp::store::pg {

std::vector<std::string> splitTypes(const std::string& payload) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= payload.size()) {
    size_t comma = payload.find(',', start);
    if (comma == std::string::npos) comma = payload.size();
    if (comma > start) out.push_back(payload.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

PgChangeFeed::PgChangeFeed(std::string uri, Callback callback)
    : uri_(std::move(uri)), callback_(std::move(callback)) {
  thread_ = std::thread([this] { loop(); });
}

PgChangeFeed::~PgChangeFeed() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void PgChangeFeed::loop() {
  PGconn* conn = nullptr;
  bool everListened = false;
  auto sleepASecond = [this] {
    for (int i = 0; i < 4 && !stop_.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
  };
  while (!stop_.load()) {
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
      listening_.store(false);
      if (conn) PQfinish(conn);
      conn = PQconnectdb(uri_.c_str());
      PGresult* r = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, "LISTEN acp_change") : nullptr;
      bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
      if (r) PQclear(r);
      if (!ok) {
        sleepASecond();
        continue;
      }
      listening_.store(true);
      // Whatever was sent while no one listened is lost: tell the listener to look again.
      if (everListened) callback_({"*"});
      everListened = true;
    }
    pollfd pfd{PQsocket(conn), POLLIN, 0};
    int ready = poll(&pfd, 1, 250);  // wakes now and then to see stop_
    if (ready < 0) continue;
    if (ready > 0 && !PQconsumeInput(conn)) continue;  // broken: reconnected above
    while (PGnotify* n = PQnotifies(conn)) {
      std::vector<std::string> types = splitTypes(n->extra ? n->extra : "");
      PQfreemem(n);
      if (!types.empty()) callback_(types);
    }
  }
  listening_.store(false);
  if (conn) PQfinish(conn);
}

}  // namespace acp::store::pg
