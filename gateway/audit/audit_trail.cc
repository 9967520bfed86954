#include "gateway/audit/audit_trail.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <exception>
#include <optional>

#include "gateway/core/ids.h"
#include "gateway/search/index.h"
#include "gateway/store/instant.h"

namespace acp::audit {

namespace {

json::Value str(std::string s) { return json::Value::makeString(std::move(s)); }

bool allDigits(const std::string& s, size_t maxLength) {
  return !s.empty() && s.size() <= maxLength &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string percentEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status unsupported(const std::string& message) {
  return Status::notSupported("audit.unsupported-parameter: " + message);
}

Status invalid(const std::string& message) {
  return Status::invalid("audit.invalid-parameter: " + message);
}

// The code of a token value ("system|code" or "code").
std::string tokenCode(const std::string& v) {
  size_t bar = v.find('|');
  return bar == std::string::npos ? v : v.substr(bar + 1);
}

// Narrows [from, to] (ms, inclusive) by one date parameter value.
Status applyDate(const std::string& value, int64_t& from, int64_t& to) {
  std::string prefix = "eq";
  std::string text = value;
  if (value.size() > 2 && std::isalpha(static_cast<unsigned char>(value[0])) &&
      std::isalpha(static_cast<unsigned char>(value[1]))) {
    prefix = value.substr(0, 2);
    text = value.substr(2);
  }
  int64_t low = 0, high = 0;
  if (!search::dateRange(text, low, high))
    return invalid("date must be a FHIR date or instant, optionally after ge, le, gt, lt or eq");
  if (prefix == "eq") {
    from = std::max(from, low);
    to = std::min(to, high);
  } else if (prefix == "ge") {
    from = std::max(from, low);
  } else if (prefix == "gt") {
    from = std::max(from, high + 1);
  } else if (prefix == "le") {
    to = std::min(to, high);
  } else if (prefix == "lt") {
    to = std::min(to, low - 1);
  } else {
    return unsupported("date prefix '" + prefix + "' (ge, le, gt, lt and eq are supported)");
  }
  return Status::ok();
}

json::Value link(const std::string& relation, const std::string& url) {
  json::Value l = json::Value::makeObject();
  l.set("relation", str(relation));
  l.set("url", str(url));
  return l;
}

json::Value parameter(const char* name, const char* valueKey, json::Value value) {
  json::Value p = json::Value::makeObject();
  p.set("name", str(name));
  p.set(valueKey, std::move(value));
  return p;
}

}  // namespace

AuditTrail::AuditTrail(std::shared_ptr<store::AuditLog> log, AuditTrailOptions options)
    : log_(std::move(log)), options_(std::move(options)) {
  if (options_.maxBatch < 1) options_.maxBatch = 1;
  if (options_.maxCount < 1) options_.maxCount = 1;
  options_.defaultCount = std::clamp(options_.defaultCount, 0, options_.maxCount);
}

int64_t AuditTrail::now() const { return options_.nowMs ? options_.nowMs() : nowMillis(); }

Status AuditTrail::recordWithin(store::Transaction& tx, const AuditRecord& record) const {
  auto row = auditRow(record, record.recordedMs ? record.recordedMs : now(), options_.source);
  if (!row.isOk()) return row.status();
  std::vector<store::AuditRow> rows;
  rows.push_back(row.take());
  return tx.appendAudit(rows);
}

AuditTrail::~AuditTrail() {
  {
    std::lock_guard<std::mutex> lock(groupMutex_);
    stopping_ = true;
  }
  groupWake_.notify_all();
  if (committer_.joinable()) committer_.join();  // after it drained the queue
}

void AuditTrail::submit(const AuditRecord& record, std::function<void(Status)> done) const {
  auto row = auditRow(record, record.recordedMs ? record.recordedMs : now(), options_.source);
  if (!row.isOk()) return done(row.status());
  {
    std::lock_guard<std::mutex> lock(groupMutex_);
    if (stopping_) {
      Status closing = Status::internal("store.busy: the audit trail is closing");
      return done(closing);
    }
    groupQueue_.push_back(Pending{row.take(), std::move(done)});
    if (!committer_.joinable()) committer_ = std::thread([this] { commitLoop(); });
  }
  groupWake_.notify_one();
}

Status AuditTrail::record(const AuditRecord& record) const {
  if (log_->writerHeldByThisThread())
    return Status::internal(
        "store.nested-transaction: this thread holds the write transaction; record the event "
        "within it");
  struct Waiter {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    Status status;
  } w;
  submit(record, [&w](Status s) {
    // Notified under the lock: the waiter cannot return (and destroy `w`) before it is
    // released, and nothing here touches `w` after that.
    std::lock_guard<std::mutex> lock(w.m);
    w.status = std::move(s);
    w.done = true;
    w.cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(w.m);
  w.cv.wait(lock, [&w] { return w.done; });
  return w.status;
}

void AuditTrail::commitLoop() const {
  using Clock = std::chrono::steady_clock;
  const bool deferSync = options_.durability == store::AuditDurability::kProcess;
  const auto flushAfter = std::chrono::milliseconds(std::max(0, options_.flushMs));
  // Set while rows committed without a sync wait for one: when the oldest of them committed.
  std::optional<Clock::time_point> unflushedSince;
  auto flush = [&] {
    // A failed flush is tried again a window later, or the next batch after that window is
    // committed on disk (which reports a failing disk to its callers).
    Status s;
    try {
      s = log_->flushAudit();
    } catch (...) {
      s = Status::internal("audit.internal");
    }
    if (s.isOk())
      unflushedSince.reset();
    else
      unflushedSince = Clock::now();
  };
  std::vector<Pending> group;
  std::vector<store::AuditRow> rows;
  for (;;) {
    group.clear();
    rows.clear();
    {
      std::unique_lock<std::mutex> lock(groupMutex_);
      auto ready = [this] { return stopping_ || !groupQueue_.empty(); };
      if (unflushedSince) {
        if (!groupWake_.wait_until(lock, *unflushedSince + flushAfter, ready)) {
          lock.unlock();
          flush();  // idle: the window closed with nothing else to commit
          continue;
        }
      } else {
        groupWake_.wait(lock, ready);
      }
      if (groupQueue_.empty()) {  // stopping, and nothing left
        lock.unlock();
        if (unflushedSince) flush();
        return;
      }
      while (!groupQueue_.empty() && group.size() < options_.maxBatch) {
        group.push_back(std::move(groupQueue_.front()));
        groupQueue_.pop_front();
      }
    }
    // On disk when so configured, and when rows committed earlier have waited their window:
    // a disk commit fsyncs the whole WAL, theirs included.
    const bool onDisk =
        !deferSync || (unflushedSince && Clock::now() >= *unflushedSince + flushAfter);
    Status s;
    try {
      for (Pending& p : group) rows.push_back(std::move(p.row));
      s = log_->appendAudit(rows, onDisk ? store::AuditDurability::kDisk
                                         : store::AuditDurability::kProcess);
    } catch (const std::exception& e) {
      s = Status::internal(std::string("audit.internal: ") + e.what());
    } catch (...) {
      s = Status::internal("audit.internal");
    }
    if (s.isOk()) {
      if (onDisk)
        unflushedSince.reset();
      else if (!unflushedSince)
        unflushedSince = Clock::now();
    }
    // Every caller hears, whatever happened; a callback that throws costs only its own.
    for (Pending& p : group) {
      try {
        p.done(s);
      } catch (...) {
      }
    }
  }
}

Status AuditTrail::recordAll(const std::vector<AuditRecord>& records) const {
  if (records.empty()) return Status::ok();
  std::vector<store::AuditRow> rows;
  rows.reserve(records.size());
  int64_t at = now();
  for (const AuditRecord& r : records) {
    auto row = auditRow(r, r.recordedMs ? r.recordedMs : at, options_.source);
    if (!row.isOk()) return row.status();
    rows.push_back(row.take());
  }
  try {
    return log_->appendAudit(rows);
  } catch (const std::exception& e) {
    return Status::internal(std::string("audit.internal: ") + e.what());
  }
}

Result<json::Value> AuditTrail::search(const QueryParams& params,
                                       const std::string& baseUrl) const {
  store::AuditQuery q;
  q.count = options_.defaultCount;
  int64_t from = INT64_MIN, to = INT64_MAX;
  std::vector<std::string> seen;
  std::string echoed;  // the criteria, for the self and next links
  std::string cursor;
  for (const auto& [name, value] : params) {
    if (name == "_format" || name == "_pretty") continue;
    if (name != "date") {
      if (std::find(seen.begin(), seen.end(), name) != seen.end())
        return invalid(name + " may appear only once");
      seen.push_back(name);
    }
    if (name != "_cursor") {
      echoed += (echoed.empty() ? "" : "&") + percentEncode(name) + "=" + percentEncode(value);
    }
    if (value.empty()) return invalid(name + " has no value");
    if (name != "date" && name != "_cursor" && value.find(',') != std::string::npos)
      return unsupported(name + " takes one value (lists are not supported)");
    if (name == "date") {
      Status s = applyDate(value, from, to);
      if (!s.isOk()) return s;
    } else if (name == "agent") {
      q.client = value;
    } else if (name == "organization") {
      q.organisation = tokenCode(value);
    } else if (name == "patient") {
      std::string id = value.rfind("Patient/", 0) == 0 ? value.substr(8) : value;
      if (!isValidId(id)) return invalid("patient must be Patient/<id> or <id>");
      q.patient = id;
    } else if (name == "purpose") {
      q.purpose = tokenCode(value);
    } else if (name == "outcome") {
      std::string code = tokenCode(value);
      if (code != "0" && code != "4" && code != "8" && code != "12")
        return invalid("outcome must be 0, 4, 8 or 12");
      q.outcome = std::stoi(code);
    } else if (name == "subtype") {
      q.subtype = tokenCode(value);
    } else if (name == "action") {
      if (value != "C" && value != "R" && value != "U" && value != "D" && value != "E")
        return invalid("action must be C, R, U, D or E");
      q.action = value;
    } else if (name == "_count") {
      if (!allDigits(value, 6)) return invalid("_count must be a non-negative integer");
      q.count = std::min(std::stoi(value), options_.maxCount);
    } else if (name == "_cursor") {
      // "<recorded ms>.<seq>" (as the next link gives it).
      size_t dot = value.find('.');
      if (dot == std::string::npos || !allDigits(value.substr(0, dot), 15) ||
          !allDigits(value.substr(dot + 1), 18) || value[dot + 1] == '0')
        return invalid("_cursor is not a cursor of this search");
      q.beforeRecorded = store::formatInstant(std::stoll(value.substr(0, dot)));
      q.beforeSeq = std::stoll(value.substr(dot + 1));
      cursor = value;
    } else if (name == "_sort") {
      if (value != "-date") return unsupported("_sort (the trail is sorted newest first: -date)");
    } else {
      return unsupported(name + " is not a search parameter of the audit trail (date, agent, "
                         "organization, patient, purpose, outcome, subtype, action, _count)");
    }
  }
  if (from > to) q.count = 0;  // an empty range: nothing can match
  if (from != INT64_MIN) q.recordedFrom = store::formatInstant(from);
  if (to != INT64_MAX) q.recordedTo = store::formatInstant(to);

  auto page = log_->auditPage(q);
  if (!page.isOk()) return page.status();

  json::Value b = json::Value::makeObject();
  b.set("resourceType", str("Bundle"));
  b.set("id", str(newUuid()));
  json::Value meta = json::Value::makeObject();
  meta.set("lastUpdated", str(store::formatInstant(now())));
  b.set("meta", std::move(meta));
  b.set("type", str("searchset"));
  const std::string self = baseUrl + "/AuditEvent?" + echoed;
  const std::string sep = echoed.empty() ? "" : "&";
  json::Value links = json::Value::makeArray();
  links.push(link("self", cursor.empty() ? self : self + sep + "_cursor=" + cursor));
  if (page->nextSeq > 0) {
    int64_t low = 0, high = 0;
    if (!search::dateRange(page->nextRecorded, low, high))
      return Status::internal("audit.unreadable: a stored recorded instant does not parse");
    links.push(link("next", self + sep + "_cursor=" + std::to_string(low) + "." +
                                std::to_string(page->nextSeq)));
  }
  b.set("link", std::move(links));
  json::Value entries = json::Value::makeArray();
  for (const store::AuditRow& row : page->rows) {
    auto event = renderAuditEvent(row);
    if (!event.isOk()) return event.status();
    json::Value e = json::Value::makeObject();
    e.set("fullUrl", str(baseUrl + "/AuditEvent/" + std::to_string(row.seq)));
    e.set("resource", event.take());
    json::Value mode = json::Value::makeObject();
    mode.set("mode", str("match"));
    e.set("search", std::move(mode));
    entries.push(std::move(e));
  }
  if (!entries.items().empty()) b.set("entry", std::move(entries));
  return b;
}

Result<json::Value> AuditTrail::read(const std::string& id) const {
  if (!allDigits(id, 18) || id[0] == '0')
    return Status::notFound("audit.not-found: no AuditEvent " + id);
  auto row = log_->auditRow(std::stoll(id));
  if (!row.isOk()) return row.status();
  if (!row.value()) return Status::notFound("audit.not-found: no AuditEvent " + id);
  return renderAuditEvent(*row.value());
}

Result<json::Value> AuditTrail::verifyChain(const QueryParams& params) const {
  int64_t anchorSeq = 0;
  std::string anchorHash;
  bool haveSeq = false, haveHash = false;
  for (const auto& [name, value] : params) {
    if (name == "_format" || name == "_pretty") continue;
    if (name == "anchorSeq") {
      if (haveSeq || !allDigits(value, 18) || value[0] == '0')
        return invalid("anchorSeq must be one positive integer");
      anchorSeq = std::stoll(value);
      haveSeq = true;
    } else if (name == "anchorHash") {
      if (haveHash || value.size() != 64) return invalid("anchorHash must be one SHA-256 hex");
      anchorHash = value;
      haveHash = true;
    } else {
      return unsupported(name + " is not a parameter of $verify-chain (anchorSeq, anchorHash)");
    }
  }
  if (haveSeq != haveHash) return invalid("anchorSeq and anchorHash go together");

  auto check = log_->verifyAuditChain(anchorSeq, anchorHash);
  if (!check.isOk()) return check.status();
  const store::AuditChainCheck& c = check.value();
  json::Value p = json::Value::makeObject();
  p.set("resourceType", str("Parameters"));
  json::Value list = json::Value::makeArray();
  list.push(parameter("result", "valueBoolean", json::Value::makeBool(c.intact)));
  list.push(parameter("checked", "valueDecimal", json::Value::makeNumber(std::to_string(c.checked))));
  if (c.lastSeq > 0) {
    list.push(parameter("lastSeq", "valueDecimal", json::Value::makeNumber(std::to_string(c.lastSeq))));
    list.push(parameter("lastHash", "valueString", str(c.lastHash)));
  }
  if (!c.intact) {
    list.push(parameter("firstBrokenSeq", "valueDecimal",
                        json::Value::makeNumber(std::to_string(c.firstBrokenSeq))));
    list.push(parameter("message", "valueString",
                        str("the audit chain is broken at seq " +
                            std::to_string(c.firstBrokenSeq) + ": " + c.problem)));
  } else {
    list.push(parameter("message", "valueString",
                        str(c.lastSeq > 0 ? "the audit chain is intact from seq 1 to seq " +
                                                std::to_string(c.lastSeq)
                                          : std::string("the audit trail is empty"))));
  }
  p.set("parameter", std::move(list));
  return p;
}

}  // namespace acp::audit
