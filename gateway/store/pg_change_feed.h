// PgChangeFeed — what other gateways sharing one PostgreSQL database wrote, heard over
// LISTEN/NOTIFY. Every committed SqlStore transaction that wrote resources sends
// NOTIFY acp_change '<Type>,<Type>…' (the types it wrote, in the transaction, so only a commit
// sends it); this feed listens on a connection of its own and calls the callback with those
// types — for every gateway's commits, this one's included.
// When the listening connection breaks it is re-established (retried every second); since
// notices sent meanwhile are lost, the callback is then called with {"*"}: "anything may have
// changed". Payloads carry resource type names only, never ids or patient data.
// Thread-safety: the callback runs on the feed's own thread; the destructor stops it.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace acp::store::pg {

class PgChangeFeed {
 public:
  using Callback = std::function<void(const std::vector<std::string>& types)>;

  // Starts listening on `uri` at once (a failed first connection is retried like a broken one).
  PgChangeFeed(std::string uri, Callback callback);
  ~PgChangeFeed();
  PgChangeFeed(const PgChangeFeed&) = delete;
  PgChangeFeed& operator=(const PgChangeFeed&) = delete;

  // Connected and listening (for tests and diagnostics).
  bool listening() const { return listening_.load(); }

 private:
  void loop();

  std::string uri_;
  Callback callback_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> listening_{false};
  std::thread thread_;
};

// "Patient,CarePlan" → {"Patient", "CarePlan"}.
std::vector<std::string> splitTypes(const std::string& payload);

}  // namespace acp::store::pg
