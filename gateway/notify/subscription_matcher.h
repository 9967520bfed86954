// SubscriptionMatcher — the store's WriteObserver for R4 Subscriptions: every version a
// transaction writes is checked against the active Subscriptions' criteria, and each match
// becomes a notification in the outbox in the same transaction (store/notification_outbox.h),
// so a notification exists exactly when its change is committed. The Notifier delivers them.
//
// Matching runs the Subscription's own search inside the transaction, restricted to the
// written resource (criteria + _id), so it means exactly what the search means (chains like
// patient.identifier included). Deletes notify nothing; Subscriptions, AuditEvents and
// Provenance are not matched.
// The active Subscriptions are cached; a transaction that writes a Subscription refreshes the
// cache once it has committed (the writes it makes after that Subscription, in the same
// transaction, are matched against the cache as it was). Subscriptions written by another
// gateway sharing the database are noticed by each transaction's first match, which compares
// the store's lastChangeOf("Subscription") with the cache's (exact: the transaction holds the
// store's write lock), and through invalidate(), which app/gateway.cc wires to the store's
// change feed.
// Thread-safety: onWrite/onEnd are called by the thread holding the store's write transaction
// (one at a time); invalidate() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/model/model.h"
#include "gateway/store/resource_store.h"

namespace acp::notify {

class SubscriptionMatcher : public store::WriteObserver {
 public:
  explicit SubscriptionMatcher(std::shared_ptr<const model::Model> model,
                               std::function<int64_t()> clock = nullptr)
      : model_(std::move(model)), clock_(std::move(clock)) {}

  Status onWrite(store::Transaction& tx, const store::StoredResource& written) override;
  void onEnd(bool committed) override;
  // The Subscriptions may have changed elsewhere: reload them before the next match.
  void invalidate() { stale_.store(true); }

 private:
  struct Active {
    std::string id;
    std::string type;
    std::vector<std::pair<std::string, std::string>> params;
  };
  Status load(store::Transaction& tx);

  std::shared_ptr<const model::Model> model_;
  std::function<int64_t()> clock_;
  std::vector<Active> active_;
  bool loaded_ = false;
  bool subscriptionWritten_ = false;  // in the running transaction
  std::atomic<bool> stale_{false};
  // The store's lastChangeOf("Subscription") when active_ was loaded; checked once per
  // transaction.
  int64_t loadedAt_ = -1;
  bool checkedThisTransaction_ = false;
};

}  // namespace acp::notify
