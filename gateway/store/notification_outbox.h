// The notification outbox (R4 Subscriptions, gateway/notify/): one row per notification a
// committed write owes a Subscription. Rows are added inside the write's own transaction
// (Transaction::enqueueNotification), so a notification exists exactly when its change is
// committed and survives a restart; the notifier takes due rows from here and records what
// happened to each.
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
  // Pending notifications due at `nowMs`, oldest first, at most `limit`.
  virtual Result<std::vector<Notification>> dueNotifications(int64_t nowMs, int limit) = 0;
  virtual Status notificationDelivered(int64_t id, const std::string& nowInstant) = 0;
  // Another try at `nextMs` (attempts counted), with the reason this one failed.
  virtual Status notificationRetry(int64_t id, int attempts, int64_t nextMs, const std::string& error) = 0;
  // Given up: kept with the reason, never tried again.
  virtual Status notificationFailed(int64_t id, const std::string& error) = 0;
};

}  // namespace acp::store
