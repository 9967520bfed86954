#include "gateway/audit/audit_facts.h"

#include <utility>

#include "gateway/core/json.h"
#include "gateway/search/index.h"
#include "gateway/store/instant.h"

namespace acp::audit {

namespace {

void member(std::string& out, const char* name, const std::string& value) {
  if (value.empty()) return;
  out += ",\"";
  out += name;
  out += "\":";
  out += json::quote(value);
}

void list(std::string& out, const char* name, const std::vector<std::string>& values) {
  if (values.empty()) return;
  out += ",\"";
  out += name;
  out += "\":[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += json::quote(values[i]);
  }
  out += ']';
}

Status unreadable(const std::string& why) {
  return Status::internal("audit.unreadable: stored audit facts " + why);
}

// A string member ("" when absent); false when present but not a string.
bool text(const json::Value& o, const char* name, std::string& out) {
  const json::Value* v = o.find(name);
  if (!v) return true;
  if (!v->isString()) return false;
  out = v->text();
  return true;
}

bool strings(const json::Value& o, const char* name, std::vector<std::string>& out) {
  const json::Value* v = o.find(name);
  if (!v) return true;
  if (!v->isArray()) return false;
  for (const json::Value& item : v->items()) {
    if (!item.isString()) return false;
    out.push_back(item.text());
  }
  return true;
}

}  // namespace

std::string writeFacts(const AuditRecord& r, int64_t recordedMs, const AuditSource& source) {
  std::string out;
  out.reserve(256 + r.query.size() + 64 * (r.patients.size() + r.entities.size()));
  out += "{\"v\":1,\"interaction\":";
  out += json::quote(r.interaction);
  member(out, "operation", r.operation);
  out += ",\"action\":";
  out += json::quote(std::string(1, r.action));
  out += ",\"outcome\":";
  out += std::to_string(r.outcome);
  member(out, "outcomeText", r.outcomeText);
  member(out, "client", r.clientId);
  member(out, "organisation", r.organisation);
  member(out, "role", r.role);
  member(out, "token", r.tokenId);
  member(out, "user", r.userId);
  member(out, "userName", r.userName);
  member(out, "address", r.sourceAddress);
  member(out, "requestId", r.requestId);
  member(out, "purpose", r.purpose);
  member(out, "reason", r.breakGlassReason);
  list(out, "patients", r.patients);
  list(out, "entities", r.entities);
  member(out, "query", r.query);
  if (!r.message.id.empty()) {
    out += ",\"message\":{\"id\":";
    out += json::quote(r.message.id);
    member(out, "system", r.message.system);
    member(out, "name", r.message.name);
    if (!r.message.details.empty()) {
      out += ",\"details\":[";
      for (size_t i = 0; i < r.message.details.size(); ++i) {
        if (i) out += ',';
        out += '[';
        out += json::quote(r.message.details[i].first);
        out += ',';
        out += json::quote(r.message.details[i].second);
        out += ']';
      }
      out += ']';
    }
    out += '}';
  }
  out += ",\"recorded\":";
  out += json::quote(store::formatInstant(recordedMs));
  out += ",\"observer\":{\"name\":";
  out += json::quote(source.name);
  member(out, "site", source.site);
  member(out, "address", source.address);
  out += "}}";
  return out;
}

Result<AuditFacts> readFacts(const std::string& textIn) {
  json::Value o;
  json::ParseError err;
  if (!json::parse(textIn, o, err) || !o.isObject()) return unreadable("do not parse");
  const json::Value* v = o.find("v");
  if (!v || !v->isNumber() || v->text() != "1") return unreadable("are not version 1");
  AuditFacts f;
  AuditRecord& r = f.record;
  std::string action, recorded;
  bool ok = text(o, "interaction", r.interaction) && text(o, "operation", r.operation) &&
            text(o, "action", action) && text(o, "outcomeText", r.outcomeText) &&
            text(o, "client", r.clientId) && text(o, "organisation", r.organisation) &&
            text(o, "role", r.role) && text(o, "token", r.tokenId) && text(o, "user", r.userId) &&
            text(o, "userName", r.userName) && text(o, "address", r.sourceAddress) &&
            text(o, "requestId", r.requestId) && text(o, "reason", r.breakGlassReason) &&
            strings(o, "patients", r.patients) && strings(o, "entities", r.entities) &&
            text(o, "query", r.query) && text(o, "recorded", recorded);
  r.purpose.clear();
  ok = ok && text(o, "purpose", r.purpose);
  if (!ok || action.size() != 1) return unreadable("have a member of the wrong kind");
  r.action = action[0];
  const json::Value* outcome = o.find("outcome");
  if (!outcome || !outcome->isNumber() || outcome->text().size() > 2)
    return unreadable("have no outcome");
  r.outcome = std::stoi(outcome->text());
  if (const json::Value* m = o.find("message")) {
    if (!m->isObject() || !text(*m, "id", r.message.id) ||
        !text(*m, "system", r.message.system) || !text(*m, "name", r.message.name))
      return unreadable("have a malformed message");
    if (const json::Value* details = m->find("details")) {
      if (!details->isArray()) return unreadable("have malformed message details");
      for (const json::Value& d : details->items()) {
        if (!d.isArray() || d.items().size() != 2 || !d.items()[0].isString() ||
            !d.items()[1].isString())
          return unreadable("have malformed message details");
        r.message.details.emplace_back(d.items()[0].text(), d.items()[1].text());
      }
    }
  }
  int64_t low = 0, high = 0;
  if (!search::dateRange(recorded, low, high)) return unreadable("have no recorded instant");
  r.recordedMs = low;
  const json::Value* observer = o.find("observer");
  if (!observer || !observer->isObject()) return unreadable("have no observer");
  if (!text(*observer, "name", f.source.name) || !text(*observer, "site", f.source.site) ||
      !text(*observer, "address", f.source.address))
    return unreadable("have a malformed observer");
  return f;
}

}  // namespace acp::audit
