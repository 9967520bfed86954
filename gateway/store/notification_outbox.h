// The notification outbox (R4 Subscriptions, gateway/notify/): one row per notification a
// committed write owes a Subscription. Rows are added inside the write's own transaction
// (Transaction::enqueueNotification), so a notification exists exactly when its change is
// committed and survives a restart; the notifier claims due rows from here and records what
// happened to each. Several gateways may share one outbox (PostgreSQL): a claimed row is
// leased to the claimer, so each notification is delivered by one of them; a claimer that dies
// before settling it leaves it to be claimed again once the lease has passed, or sooner when
// another gateway can tell the claimer is gone (releaseClaimsOfGoneProcesses) — at least once.
// Thread-safety: implementations are safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/core/status.h"

namespace acp::store {

struct Notification {
  int64_t id = 0;
  std::string subscriptionId;
  std::string type, resourceId;
  int64_t version = 0;
  int attempts = 0;
};

class NotificationOutbox {
 public:
  virtual ~NotificationOutbox() = default;
  // Pending notifications due at `nowMs`, oldest first, at most `limit`, without claiming them
  // (a look, e.g. "is anything left to deliver?").
  virtual Result<std::vector<Notification>> dueNotifications(int64_t nowMs, int limit) = 0;
  // Claims pending notifications due at `nowMs`, at most `limit`, ordered by id: each is leased
  // to the caller until nowMs + leaseMs (its due time moves there), so no other claim — by this
  // process or another gateway on the same database — returns it meanwhile. The caller settles
  // each with one of the calls below.
  virtual Result<std::vector<Notification>> claimNotifications(int64_t nowMs, int limit,
                                                               int64_t leaseMs) = 0;
  virtual Status notificationDelivered(int64_t id, const std::string& nowInstant) = 0;
  // Another try at `nextMs` (attempts counted), with the reason this one failed.
  virtual Status notificationRetry(int64_t id, int attempts, int64_t nextMs, const std::string& error) = 0;
  // Given up: kept with the reason, never tried again.
  virtual Status notificationFailed(int64_t id, const std::string& error) = 0;
  // Claims whose claimer is known to be gone (its process died) are due again at `nowMs`, one
  // attempt counted each; claims of live claimers are left alone. Called when a gateway starts
  // and then now and then by its notifier; cheap when there is nothing to release.
  virtual Status releaseClaimsOfGoneProcesses(int64_t nowMs) = 0;
};

}  // namespace acp::store
