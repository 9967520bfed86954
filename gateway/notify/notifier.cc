#include "gateway/notify/notifier.h"

#include "gateway/access/plan_sharing.h"
#include "gateway/access/subscription_owner.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/URI.h>

#include <algorithm>
#include <memory>

#include "gateway/core/ids.h"
#include "gateway/core/json.h"
#include "gateway/notify/subscription_rules.h"
#include "gateway/tls/client_policy.h"

namespace acp::notify {

namespace {

// Why a failed attempt failed: the certificate's refusal when the handshake refused it
// (tls/client_policy.h), else what the connection reported.
std::string unreachable(const std::string& detail) {
  std::string refusal = tls::takeRefusal();
  if (!refusal.empty()) return "the endpoint's certificate was refused: " + refusal;
  return "the endpoint could not be reached: " + detail;
}

// POSTs `body` to `endpoint`; "" on a 2xx answer, else why not.
std::string post(const std::string& endpoint, const std::string& body, bool withBody,
                 const json::Value* headers, int timeoutSeconds,
                 const Poco::Net::Context::Ptr& context) {
  tls::takeRefusal();  // a stale record must not explain this attempt
  try {
    Poco::URI uri(endpoint);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
      if (!context) return "outgoing TLS is not configured";
      session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(),
                                                                context);
    } else {
      session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    session->setTimeout(Poco::Timespan(timeoutSeconds, 0));
    std::string path = uri.getPathAndQuery();
    Poco::Net::HTTPRequest rq(Poco::Net::HTTPRequest::HTTP_POST, path.empty() ? "/" : path,
                              Poco::Net::HTTPMessage::HTTP_1_1);
    if (headers && headers->isArray())
      for (const json::Value& h : headers->items()) {
        std::string line = h.isString() ? h.text() : "";
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(value.begin());
        rq.set(line.substr(0, colon), value);
      }
    if (withBody) rq.setContentType("application/fhir+json");
    rq.setContentLength(static_cast<std::streamsize>(body.size()));
    std::ostream& out = session->sendRequest(rq);
    out << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session->receiveResponse(resp);
    // The answer's body says nothing the gateway needs: read (and drop) at most 64 KiB of it,
    // so that an endpoint cannot hold the delivery thread or its memory with a long answer.
    char discard[4096];
    for (size_t read = 0; read < 64 * 1024 && in.read(discard, sizeof discard);
         read += sizeof discard) {
    }
    int status = resp.getStatus();
    if (status >= 200 && status < 300) return "";
    return "the endpoint answered HTTP " + std::to_string(status);
  } catch (const Poco::Exception& e) {
    return unreachable(e.displayText());
  } catch (const std::exception& e) {
    return unreachable(e.what());
  }
}

}  // namespace

Notifier::Notifier(std::shared_ptr<store::ResourceStore> store, store::NotificationOutbox* outbox,
                   NotifierOptions options)
    : store_(std::move(store)), outbox_(outbox), options_(std::move(options)) {}

Notifier::~Notifier() { stop(); }

void Notifier::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Notifier::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

int64_t Notifier::now() const { return options_.clock ? options_.clock() : nowMillis(); }

void Notifier::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  int64_t nextGoneCheck = now() + int64_t{options_.goneClaimsCheckSeconds} * 1000;
  while (!stop_) {
    lock.unlock();
    if (now() >= nextGoneCheck) {
      outbox_->releaseClaimsOfGoneProcesses(now());  // a failure: tried again next time
      nextGoneCheck = now() + int64_t{options_.goneClaimsCheckSeconds} * 1000;
    }
    deliverDue();
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.pollMilliseconds), [this] { return stop_; });
  }
}

void Notifier::setStatus(const std::string& id, const std::string& status, const std::string& error) {
  auto tx = store_->begin();
  if (!tx.isOk()) return;
  auto stored = tx.value()->read("Subscription", id);
  if (!stored.isOk()) return;
  json::Value s;
  json::ParseError err;
  if (!json::parse(stored->json, s, err)) return;
  if (s.getString("status") == status && s.getString("error") == error) return;
  if (s.getString("status") == "off") return;  // the client's decision stands
  s.set("status", json::Value::makeString(status));
  if (error.empty())
    s.erase("error");
  else
    s.set("error", json::Value::makeString(error));
  if (!tx.value()->update("Subscription", id, std::move(s)).isOk()) return;
  tx.value()->commit();
}

void Notifier::count(const char* outcome) {
  if (!options_.metrics) return;
  try {  // counting must never stop deliveries
    options_.metrics
        ->counter("acp_subscription_deliveries_total",
                  "Subscription notification attempts, by outcome", {{"outcome", outcome}})
        .inc();
  } catch (...) {
  }
}

int Notifier::deliverDue() {
  // Claimed for long enough to try them all (each post is bounded by the timeout), so no other
  // gateway on the same database sends them meanwhile.
  const int kBatch = 10;
  auto due = outbox_->claimNotifications(
      now(), kBatch, int64_t{kBatch} * (options_.timeoutSeconds + 1) * 1000 + 60000);
  if (!due.isOk()) return 0;
  int delivered = 0;
  for (const store::Notification& n : due.value()) {
    auto stored = store_->read("Subscription", n.subscriptionId);
    json::Value sub;
    json::ParseError err;
    if (!stored.isOk() || !json::parse(stored->json, sub, err) ||
        sub.getString("status") == "off") {
      outbox_->notificationFailed(n.id, "the Subscription is off or gone");
      count("dropped");
      continue;
    }
    const json::Value* channel = sub.find("channel");
    std::string endpoint = channel ? channel->getString("endpoint") : "";
    // Written before the rule, or under another configuration: never sent where not allowed.
    if (std::string refused = endpointRefusal(endpoint, options_.allowPlainHttp);
        !refused.empty()) {
      outbox_->notificationFailed(n.id, refused);
      setStatus(n.subscriptionId, "error", refused);
      count("dropped");
      continue;
    }
    bool withBody = channel && !channel->getString("payload").empty();
    std::string body;
    if (withBody || options_.access) {
      auto version = store_->vread(n.type, n.resourceId, n.version);
      if (!version.isOk()) {
        outbox_->notificationFailed(n.id, "the resource version is no longer readable");
        count("dropped");
        continue;
      }
      body = version->json;
    }
    if (options_.access) {
      // Told only what the owner may see now (even an empty payload says "this changed").
      auth::Principal owner = access::ownerOf(sub).value_or(auth::localSuperuser());
      access::AccessPolicy::Session session(*options_.access, owner);
      json::Value resource;
      json::ParseError perr;
      if (!json::parse(body, resource, perr)) {
        outbox_->notificationFailed(n.id, "the resource version is no longer readable");
        count("dropped");
        continue;
      }
      auto verdict = session.mayRead(resource);
      if (verdict == access::AccessPolicy::Verdict::kDeny) {
        outbox_->notificationFailed(n.id, "not visible to the subscriber");
        count("dropped");
        continue;
      }
      if (verdict == access::AccessPolicy::Verdict::kWithhold)
        body = json::write(access::withheldView(resource));
    }
    if (!withBody) body.clear();
    std::string why = post(endpoint, body, withBody, channel ? channel->find("header") : nullptr,
                           options_.timeoutSeconds, options_.tls);
    if (why.empty()) {
      outbox_->notificationDelivered(n.id, formatInstant(now()));
      if (sub.getString("status") == "error") setStatus(n.subscriptionId, "active", "");
      count("delivered");
      ++delivered;
      continue;
    }
    int attempts = n.attempts + 1;
    if (attempts >= options_.maxAttempts) {
      outbox_->notificationFailed(n.id, why);
      count("failed");
    } else {
      int64_t backoff = std::min<int64_t>(int64_t{1000} << std::min(attempts - 1, 20), 300000);
      outbox_->notificationRetry(n.id, attempts, now() + backoff, why);
      count("retry");
    }
    if (attempts >= options_.errorAfter) setStatus(n.subscriptionId, "error", why);
  }
  return delivered;
}

}  // namespace acp::notify
