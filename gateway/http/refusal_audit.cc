#include "gateway/http/refusal_audit.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <utility>

#include "gateway/core/ids.h"
#include "gateway/store/instant.h"

namespace acp::http {

namespace {

// Kinds of refusal kept apart in one summary; more are counted as "other".
constexpr size_t kMaxKinds = 16;

// A code or method fit for the trail's free text: short, letters, digits and . - _ only.
std::string plain(const std::string& s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() == max) break;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    out.push_back(ok ? c : '?');
  }
  return out;
}

int outcomeOf(const Refusal& r) {
  if (r.outcome != 0) return r.outcome;
  if (r.status == 0) return audit::kOutcomeMinorFailure;  // a refused handshake: a denial
  if (r.status == 500) return audit::kOutcomeMajorFailure;  // the listener itself failed
  return audit::kOutcomeSeriousFailure;
}

std::string kindOf(const Refusal& r) {
  std::string code = plain(r.code, 64);
  return r.status ? std::to_string(r.status) + " " + code : code;
}

}  // namespace

RefusalAudit::RefusalAudit(std::shared_ptr<const audit::AuditTrail> trail,
                           RefusalAuditOptions options)
    : trail_(std::move(trail)), options_(std::move(options)) {
  if (options_.windowMs < 1) options_.windowMs = 1;
  if (options_.perAddress < 0) options_.perAddress = 0;
  windowStartWall_ = wallNow();
  windowEnd_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.windowMs);
  writer_ = std::thread([this] { run(); });
}

RefusalAudit::~RefusalAudit() { stop(); }

int64_t RefusalAudit::wallNow() const {
  return options_.nowMs ? options_.nowMs() : nowMillis();
}

audit::AuditRecord RefusalAudit::single(const Refusal& r) const {
  audit::AuditRecord a;
  a.interaction = "refused";
  a.purpose.clear();  // nothing was asked for any purpose
  a.sourceAddress = r.address;
  a.outcome = outcomeOf(r);
  a.outcomeText = kindOf(r);
  // Method and route template only: never the query string or the body.
  if (!r.method.empty()) a.query = plain(r.method, 16) + (r.route.empty() ? "" : " " + r.route);
  a.recordedMs = wallNow();
  return a;
}

audit::AuditRecord RefusalAudit::summary(const std::string& address, const Bucket& b) const {
  audit::AuditRecord a;
  a.interaction = "refused";
  a.purpose.clear();
  a.sourceAddress = address;
  a.outcome = b.outcome;
  a.recordedMs = wallNow();
  std::string text = std::to_string(b.more) + (b.more == 1 ? " more refusal" : " more refusals") +
                     (address.empty() ? " from addresses beyond the tracked limit"
                                      : " from this address") +
                     " between " + store::formatInstant(windowStartWall_) + " and " +
                     store::formatInstant(a.recordedMs) + ", not recorded one by one: ";
  bool first = true;
  for (const auto& [kind, count] : b.byKind) {
    text += (first ? "" : ", ") + std::to_string(count) + " × " + kind;
    first = false;
  }
  a.outcomeText = text;
  return a;
}

void RefusalAudit::note(const Refusal& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_ || stopped_) return;
  Bucket* b = &others_;
  auto it = buckets_.find(r.address);
  if (it != buckets_.end()) {
    b = &it->second;
  } else if (buckets_.size() < options_.maxAddresses) {
    b = &buckets_[r.address];
  }
  if (b != &others_ && b->recorded < options_.perAddress && queue_.size() < options_.maxQueued) {
    ++b->recorded;
    queue_.push_back(single(r));
    wake_.notify_one();
    return;
  }
  ++b->more;
  std::string kind = kindOf(r);
  if (b->byKind.size() >= kMaxKinds && !b->byKind.count(kind)) kind = "other";
  ++b->byKind[kind];
  b->outcome = std::max(b->outcome, outcomeOf(r));
}

std::vector<audit::AuditRecord> RefusalAudit::take(bool closeWindow) {
  std::vector<audit::AuditRecord> out(std::make_move_iterator(queue_.begin()),
                                      std::make_move_iterator(queue_.end()));
  queue_.clear();
  if (!closeWindow) return out;
  for (const auto& [address, bucket] : buckets_)
    if (bucket.more > 0) out.push_back(summary(address, bucket));
  if (others_.more > 0) out.push_back(summary("", others_));
  buckets_.clear();
  others_ = Bucket();
  windowStartWall_ = wallNow();
  windowEnd_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.windowMs);
  return out;
}

void RefusalAudit::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait_until(lock, windowEnd_, [this] {
      return stopping_ || !queue_.empty() || flushRequested_ > flushDone_;
    });
    const uint64_t ticket = flushRequested_;
    const bool stop = stopping_;
    const bool closeWindow =
        stop || ticket > flushDone_ || std::chrono::steady_clock::now() >= windowEnd_;
    std::vector<audit::AuditRecord> events = take(closeWindow);
    lock.unlock();
    Status s;
    if (!events.empty()) {
      s = trail_->recordAll(events);
      if (!s.isOk())
        Poco::Logger::get("acp.audit").warning("%z refusal event(s) not recorded: %s",
                                               events.size(), s.message());
    }
    lock.lock();
    if (!events.empty()) lastWrite_ = s;
    flushDone_ = std::max(flushDone_, ticket);
    flushed_.notify_all();
    if (stop) break;
  }
  stopped_ = true;
  flushed_.notify_all();
}

Status RefusalAudit::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopped_) return lastWrite_;
  const uint64_t ticket = ++flushRequested_;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return flushDone_ >= ticket || stopped_; });
  return lastWrite_;
}

void RefusalAudit::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

}  // namespace acp::http
