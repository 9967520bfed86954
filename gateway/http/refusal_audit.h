// RefusalAudit — the AuditEvents of requests the HTTP listener refuses before they become FHIR
// interactions (http_server.h): malformed (400), too slow (408), no length (411), too large
// (413), target or headers too long (414, 431), a bad Host or path (400), over the connection
// cap (503), a refused TLS handshake, a failure of the listener itself (500). Such a request
// has not been authenticated: the event holds what the listener knows — the client's address,
// the method and route template when the head was read (never the query string or the body),
// the status and error code — and no identity. The MLLP listener's refusals (an oversized or
// too slow frame, over its connection cap, a refused handshake) are noted here too, sharing
// the per-address budget (app/mllp_refusals.h says which and how).
//
// Why rate-limited, and how: those requests cost the sender nothing, so recording each one
// would let an unauthenticated flood fill the trail (and hold the listener's threads on the
// disk). Instead, per client address and window (RefusalAuditOptions::windowMs, a minute):
// - the first `perAddress` refusals are recorded one by one (interaction "refused", outcome 8;
//   4 for a refused TLS handshake; outcomeDesc "<status> <code>");
// - further refusals from that address are only counted, and when the window ends one
//   summary event says how many there were, by status and code ("57 more refusals from this
//   address between <start> and <end>, not recorded one by one: 40 × 400 http.bad-request,
//   17 × 413 http.body-too-large").
// Memory stays bounded whatever arrives: at most maxAddresses addresses are tracked per window
// (refusals from further addresses are counted together, summarised without an address), and
// at most maxQueued single events wait to be written (more are counted in the summaries).
//
// note() never touches the store: the listener's threads only count and queue (no answer
// waits for a refusal's event — a refusal discloses nothing). One background thread writes
// the queued events (AuditTrail::recordAll: one durable transaction per batch) and the
// summaries at the end of each window. A failure to write is logged (no request data) and the
// events are dropped: they are about requests that were refused anyway.
// Thread-safety: note() and flush() from any thread; stop() from the owner's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateway/audit/audit_trail.h"
#include "gateway/core/status.h"

namespace acp::http {

// One refused request (or connection), as the listener knows it. The MLLP listener's refusals
// are noted here too (app/mllp_refusals.h): status 0, method "MLLP", its own codes.
struct Refusal {
  std::string address;  // the client's IP address
  int status = 0;       // the HTTP status answered; 0 when none could be (a TLS handshake)
  std::string code;     // the error code answered, e.g. "http.body-too-large"
  std::string method;   // "" when the request head was not read
  std::string route;    // the route template (routeTemplate()), "" when unknown
  // The event's outcome (audit::kOutcome*); 0: from the status — 8, 4 for 0 (a refused
  // handshake), 12 for 500. Other listeners (MLLP: no status) say it here.
  int outcome = 0;
};

struct RefusalAuditOptions {
  int64_t windowMs = 60000;   // the rate window
  int perAddress = 10;        // refusals recorded one by one per address and window (0: none)
  size_t maxAddresses = 1024; // addresses tracked per window
  size_t maxQueued = 4096;    // single events waiting to be written
  // The events' clock (ms since the epoch); the trail's when empty. Windows run on a steady
  // clock of their own.
  std::function<int64_t()> nowMs;
};

class RefusalAudit {
 public:
  // Starts the writer thread. `trail` must stay valid until stop() returned.
  RefusalAudit(std::shared_ptr<const audit::AuditTrail> trail, RefusalAuditOptions options = {});
  ~RefusalAudit();  // stop()

  // Counts one refusal and queues its event when the address is under its budget.
  void note(const Refusal& refusal);

  // Writes every event noted so far and the summaries of the current window (which then
  // starts afresh), and returns once they are durable: for shutdown and tests. Returns the
  // status of the writer's most recent write (ok when it has written nothing yet).
  Status flush();

  // Writes what is noted (as flush()), then ends the writer thread; later note() calls are
  // ignored. Call from one thread (the owner's stop, or the destructor).
  void stop();

 private:
  struct Bucket {
    int recorded = 0;  // single events queued this window
    int64_t more = 0;  // refusals counted beyond the budget
    std::map<std::string, int64_t> byKind;  // "<status> <code>" → count (beyond the budget)
    int outcome = 0;   // the summary's outcome: the worst of its refusals' (4 < 8 < 12)
  };

  void run();
  // Takes the queue (and, when `closeWindow`, the window's summaries) under the lock.
  std::vector<audit::AuditRecord> take(bool closeWindow);
  audit::AuditRecord single(const Refusal& r) const;
  audit::AuditRecord summary(const std::string& address, const Bucket& b) const;
  int64_t wallNow() const;

  std::shared_ptr<const audit::AuditTrail> trail_;
  RefusalAuditOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;      // the writer: events queued, a flush, stop
  std::condition_variable flushed_;   // flush() callers: a write finished
  std::deque<audit::AuditRecord> queue_;
  std::unordered_map<std::string, Bucket> buckets_;
  Bucket others_;                     // addresses beyond maxAddresses
  int64_t windowStartWall_ = 0;       // ms since the epoch (for the summaries' text)
  std::chrono::steady_clock::time_point windowEnd_;
  uint64_t flushRequested_ = 0;       // flush tickets asked for
  uint64_t flushDone_ = 0;            // and served
  Status lastWrite_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread writer_;
};

}  // namespace acp::http
