// Notifier — delivers the notification outbox (store/notification_outbox.h) to the
// Subscriptions' rest-hook endpoints, on a thread of its own: ingest and REST writes only add
// outbox rows inside their transactions and never wait for an endpoint.
//
// Each notification is a POST to channel.endpoint with the channel's headers: an https://
// endpoint over TLS with options.tls (delivery_tls.h: its certificate must chain to the
// configured CAs and name the URL's host — else the attempt fails with the reason, and
// nothing is sent); a plain http:// one only where subscription_rules.h endpointRefusal()
// allows it (checked again at delivery: a refused endpoint fails the notification at once and
// sets the Subscription to `error`). With
// channel.payload the body is the resource version that matched (application/fhir+json),
// without it the body is empty. 2xx = delivered. Anything else (a status, a refused
// connection, a timeout of `timeoutSeconds`) is retried with back-off (1, 2, 4 … s, at most
// 5 min); after `errorAfter` failed attempts the Subscription is set to `error` with the
// reason (Subscription.error), and a later delivery sets it back to `active`. After
// `maxAttempts` the notification is given up (kept as failed). A notification for a
// Subscription that is off or gone is dropped (failed, with the reason). The outbox is in the
// store, so what was not yet delivered is delivered after a restart.
// Who may be told (with `access` set): the Subscription's owner (access/subscription_owner.h)
// must be allowed to see the resource version at delivery time (access/access_policy.h) —
// otherwise the notification is dropped, never sent (kept as failed, "not visible to the
// subscriber"); a plan the child has not consented to share goes out as its outline.
// Thread-safety: start()/stop() from one thread; the delivery thread is internal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <Poco/Net/Context.h>

#include "gateway/access/access_policy.h"
#include "gateway/metrics/registry.h"
#include "gateway/store/notification_outbox.h"
#include "gateway/store/resource_store.h"

namespace acp::notify {

struct NotifierOptions {
  int pollMilliseconds = 200;
  int timeoutSeconds = 10;
  int errorAfter = 3;
  int maxAttempts = 12;
  // How often the loop makes the claims of gone gateways due again
  // (NotificationOutbox::releaseClaimsOfGoneProcesses; PostgreSQL, gateways sharing a database).
  int goneClaimsCheckSeconds = 30;
  std::function<int64_t()> clock;  // ms since the epoch; the system clock when empty
  // Who may see what; unset: every notification is delivered (tests of delivery alone).
  std::shared_ptr<const access::AccessPolicy> access;
  // The TLS client context of https:// deliveries (delivery_tls.h). Unset: no https://
  // endpoint is delivered to (each attempt fails, "outgoing TLS is not configured").
  Poco::Net::Context::Ptr tls;
  // gateway.notify.allowPlainHttp: plain http:// to hosts other than this machine.
  bool allowPlainHttp = false;
  // Where attempts are counted (docs/operations.md, "Metrics"); unset: not counted.
  // acp_subscription_deliveries_total{outcome}: delivered | retry (failed, tried again later) |
  // failed (given up after maxAttempts) | dropped (never sent: the Subscription is off or
  // gone, its endpoint is not allowed, the version is unreadable or not visible to its owner).
  std::shared_ptr<metrics::Registry> metrics;
};

class Notifier {
 public:
  Notifier(std::shared_ptr<store::ResourceStore> store, store::NotificationOutbox* outbox,
           NotifierOptions options);
  ~Notifier();
  void start();
  void stop();
  // Delivers what is due now, on the calling thread (the loop's body); the number delivered.
  int deliverDue();

 private:
  void loop();
  int64_t now() const;
  // Sets the Subscription's status (and error text, "" to clear) unless it already is.
  void setStatus(const std::string& id, const std::string& status, const std::string& error);
  void count(const char* outcome);

  std::shared_ptr<store::ResourceStore> store_;
  store::NotificationOutbox* outbox_;
  NotifierOptions options_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace acp::notify
