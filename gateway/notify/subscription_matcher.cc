#include "gateway/notify/subscription_matcher.h"

#include "gateway/core/ids.h"
#include "gateway/notify/subscription_rules.h"
#include "gateway/search/query.h"

namespace acp::notify {

Status SubscriptionMatcher::load(store::Transaction& tx) {
  active_.clear();
  search::SearchQuery q;
  IssueList ignored;
  if (!search::parseQuery(*model_, "Subscription", {{"status", "active,error"}},
                          search::QueryOptions{}, q, ignored))
    return Status::internal("subscriptions: query refused");
  auto ids = tx.match(q, 100000);
  if (!ids.isOk()) return ids.status();
  for (const std::string& id : ids.value()) {
    auto stored = tx.read("Subscription", id);
    if (!stored.isOk()) continue;
    json::Value s;
    json::ParseError err;
    if (!json::parse(stored->json, s, err)) continue;
    Active a;
    a.id = id;
    if (!splitCriteria(s.getString("criteria"), a.type, a.params)) continue;
    active_.push_back(std::move(a));
  }
  loaded_ = true;
  return Status::ok();
}

Status SubscriptionMatcher::onWrite(store::Transaction& tx, const store::StoredResource& written) {
  if (written.type == "Subscription") {
    subscriptionWritten_ = true;
    return Status::ok();
  }
  if (written.deleted || written.type == "AuditEvent" || written.type == "Provenance")
    return Status::ok();
  // Another gateway on the same database changed a Subscription: heard over the change feed,
  // and — exactly, since this transaction holds the write lock — seen in the store's commit
  // order, once per transaction (a notice may still be on its way).
  if (stale_.exchange(false)) loaded_ = false;
  if (!checkedThisTransaction_) {
    auto last = tx.lastChangeOf("Subscription");
    if (!last.isOk()) return last.status();
    if (last.value() != loadedAt_) loaded_ = false;
    loadedAt_ = last.value();
    checkedThisTransaction_ = true;
  }
  if (!loaded_) {
    Status s = load(tx);
    if (!s.isOk()) return s;
  }
  for (const Active& a : active_) {
    if (a.type != written.type) continue;
    auto params = a.params;
    params.emplace_back("_id", written.id);
    search::SearchQuery q;
    IssueList ignored;
    if (!search::parseQuery(*model_, a.type, params, search::QueryOptions{}, q, ignored)) continue;
    auto found = tx.match(q, 1);
    if (!found.isOk()) return found.status();
    if (found.value().empty()) continue;
    Status e = tx.enqueueNotification(a.id, written.type, written.id, written.versionId,
                                      clock_ ? clock_() : nowMillis());
    if (!e.isOk()) return e;
  }
  return Status::ok();
}

void SubscriptionMatcher::onEnd(bool committed) {
  if (subscriptionWritten_ && committed) loaded_ = false;  // reloaded at the next write
  subscriptionWritten_ = false;
  checkedThisTransaction_ = false;
}

}  // namespace acp::notify
