// The single-resource interactions and history/search of FhirService.
#include <algorithm>
#include <cstdlib>

#include "gateway/access/plan_sharing.h"
#include "gateway/access/subscription_owner.h"
#include "gateway/core/ids.h"
#include "gateway/http/fhir_service.h"
#include "gateway/ingest/person_resolver.h"
#include "gateway/notify/subscription_rules.h"
#include "gateway/model/summary.h"
#include "gateway/search/index.h"

namespace acp::http {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }


// Prefer: return=minimal | representation | OperationOutcome.
std::string preferReturn(const FhirRequest& rq) {
  const std::string& prefer = rq.header("Prefer");
  size_t at = prefer.find("return=");
  if (at == std::string::npos) return "representation";
  std::string v = prefer.substr(at + 7);
  size_t end = v.find_first_of(" ,;");
  if (end != std::string::npos) v = v.substr(0, end);
  return v;
}

bool preferStrict(const FhirRequest& rq) {
  return rq.header("Prefer").find("handling=strict") != std::string::npos;
}

const std::string* queryValue(const std::vector<std::pair<std::string, std::string>>& q,
                              const std::string& name) {
  for (const auto& [k, v] : q)
    if (k == name) return &v;
  return nullptr;
}

json::Value str(const std::string& s) { return json::Value::makeString(s); }

// If-None-Match: "*" or a comma list of (weak or strong) ETags; weak comparison.
bool noneMatchHits(const std::string& header, int64_t version) {
  std::string want = std::to_string(version);
  size_t start = 0;
  while (start < header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string::npos) comma = header.size();
    std::string tag = header.substr(start, comma - start);
    tag.erase(0, tag.find_first_not_of(" \t"));
    tag.erase(tag.find_last_not_of(" \t") + 1);
    if (tag == "*") return true;
    if (tag.rfind("W/", 0) == 0) tag = tag.substr(2);
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') tag = tag.substr(1, tag.size() - 2);
    if (tag == want) return true;
    start = comma + 1;
  }
  return false;
}

// _format and _pretty, to carry into paging links so a client following them keeps its
// format.
std::string transportParams(const FhirRequest& rq) {
  std::string out;
  for (const auto& [k, v] : rq.query)
    if (k == "_format" || k == "_pretty") out += "&" + k + "=" + percentEncode(v);
  return out;
}

// The criteria of a conditional update/delete URL (its query without _format/_pretty), or a
// 405 when there are none.
bool urlCriteria(const FhirRequest& rq, std::string& out) {
  out.clear();
  for (const auto& [k, v] : rq.query) {
    if (k == "_format" || k == "_pretty") continue;
    out += (out.empty() ? "" : "&") + percentEncode(k) + "=" + percentEncode(v);
  }
  return !out.empty();
}

}  // namespace

// If-Match: W/"3" or "3" → 3. Returns false when present but malformed.
bool parseIfMatch(const std::string& header, std::optional<int64_t>& out) {
  if (header.empty() || header == "*") return true;  // "*": any current version
  std::string v = header;
  if (v.rfind("W/", 0) == 0) v = v.substr(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), isDigit)) return false;
  out = std::stoll(v);
  return true;
}

// _summary / _elements on a read: returns false with `failure` for a bad value.
static bool shapeOptions(const FhirRequest& rq, search::SummaryMode& mode,
                         std::vector<std::string>& elements, std::string& error) {
  if (const std::string* s = queryValue(rq.query, "_summary")) {
    if (*s == "true") mode = search::SummaryMode::kTrue;
    else if (*s == "text") mode = search::SummaryMode::kText;
    else if (*s == "data") mode = search::SummaryMode::kData;
    else if (*s == "false") mode = search::SummaryMode::kFalse;
    else {
      error = "_summary must be true, text, data or false on a read";
      return false;
    }
  }
  if (const std::string* e = queryValue(rq.query, "_elements")) {
    size_t start = 0;
    while (start <= e->size()) {
      size_t comma = e->find(',', start);
      if (comma == std::string::npos) comma = e->size();
      std::string name = e->substr(start, comma - start);
      if (!name.empty()) elements.push_back(name);
      start = comma + 1;
    }
  }
  return true;
}

FhirService::Outcome FhirService::read(const FhirRequest& rq, const std::string& type,
                                       const std::string& id) const {
  auto r = store_->read(type, id);
  if (!r.isOk()) {
    // Deleted: 410 only to a client that could have read what was deleted.
    if (r.status().code() == Status::Code::kGone && restricted(rq)) {
      std::optional<json::Value> last = contentBefore(type, id, 0);
      if (!last || !mayKnow(rq, *last))
        return concealedNotFound(type + "/" + id, "auth.no-relationship");
    }
    return fromStatus(r.status(), "store.read");
  }
  // Whether the client may see it is decided on the stored resource, before a 304 or the
  // shaping of _summary/_elements could hide whose it is.
  // Decided once here (the answer is marked checked, so it is not parsed and decided again).
  std::optional<json::Value> visible;
  bool outline = false;  // withheld: the outline is served
  if (restricted(rq)) {
    json::Value stored = parseStored(r->json);
    switch (rq.context.access->mayRead(stored)) {
      case access::AccessPolicy::Verdict::kDeny:  // as if it did not exist
        return concealedNotFound(type + "/" + id, "auth.no-relationship");
      case access::AccessPolicy::Verdict::kWithhold:
        visible = access::withheldView(stored);
        outline = true;
        break;
      case access::AccessPolicy::Verdict::kAllow:
        visible = std::move(stored);
        break;
    }
  }
  Outcome o;
  addVersionHeaders(o, r.value());
  const std::string& inm = rq.header("If-None-Match");
  if (!inm.empty() && noneMatchHits(inm, r->versionId)) {
    o.status = 304;
    return o;
  }
  search::SummaryMode mode = search::SummaryMode::kNone;
  std::vector<std::string> elements;
  std::string error;
  if (!shapeOptions(rq, mode, elements, error))
    return fail(400, "value", error, "http.invalid-summary");
  if (mode != search::SummaryMode::kNone && mode != search::SummaryMode::kFalse) {
    o.body = model::applySummary(*model_, visible ? *visible : parseStored(r->json), mode);
    o.accessChecked = true;
  } else if (!elements.empty()) {
    o.body = model::applyElements(*model_, visible ? *visible : parseStored(r->json), elements);
    o.accessChecked = true;
  } else if (outline) {
    o.body = std::move(*visible);
    o.accessChecked = true;
  } else {
    o.rawBody = std::move(r->json);
    o.accessChecked = visible.has_value();
  }
  return o;
}

FhirService::Outcome FhirService::vread(const FhirRequest& rq, const std::string& type,
                                        const std::string& id, const std::string& version) const {
  if (version.empty() || version.size() > 18 ||
      !std::all_of(version.begin(), version.end(), isDigit))
    return fail(400, "value", "invalid version id \"" + version + "\"", "http.invalid-version");
  const int64_t v = std::stoll(version);
  const std::string what = type + "/" + id + "/_history/" + version;
  auto r = store_->vread(type, id, v);
  if (!r.isOk()) {
    // A delete marker: 410 only to a client that could have read what it deleted.
    if (r.status().code() == Status::Code::kGone && restricted(rq)) {
      std::optional<json::Value> last = contentBefore(type, id, v);
      if (!last || !mayKnow(rq, *last)) return concealedNotFound(what, "auth.no-relationship");
    }
    return fromStatus(r.status(), "store.vread");
  }
  Outcome o;
  if (restricted(rq)) {  // decided here, so that a refusal reads as a version that is not there
    json::Value stored = parseStored(r->json);
    switch (rq.context.access->mayRead(stored)) {
      case access::AccessPolicy::Verdict::kDeny:
        return concealedNotFound(what, "auth.no-relationship");
      case access::AccessPolicy::Verdict::kWithhold:
        o.body = access::withheldView(stored);
        break;
      case access::AccessPolicy::Verdict::kAllow:
        o.rawBody = std::move(r->json);
        break;
    }
    o.accessChecked = true;
  } else {
    o.rawBody = std::move(r->json);
  }
  addVersionHeaders(o, r.value());
  return o;
}

FhirService::Outcome FhirService::writeOutcome(const FhirRequest& rq,
                                               const store::WriteResult& w) const {
  Outcome o;
  o.status = w.created ? 201 : 200;
  addVersionHeaders(o, w.resource);
  std::string location = rq.baseUrl + "/" + w.resource.type + "/" + w.resource.id +
                         "/_history/" + std::to_string(w.resource.versionId);
  if (w.created) o.headers.emplace_back("Location", location);
  o.headers.emplace_back("Content-Location", location);
  std::string ret = preferReturn(rq);
  if (ret == "minimal") {
    // no body
  } else if (ret == "OperationOutcome") {
    IssueList info;
    info.information("informational", "",
                     w.noop ? "no change: the resource already matched"
                            : (w.created ? "created " : "updated ") + w.resource.type + "/" +
                                  w.resource.id,
                     w.noop ? "http.noop" : (w.created ? "http.created" : "http.updated"));
    o.body = info.toOperationOutcome();
  } else {
    o.rawBody = w.resource.json;
  }
  return o;
}

FhirService::Outcome FhirService::create(const FhirRequest& rq, const std::string& type) const {
  json::Value resource;
  Outcome failure;
  if (!readBody(rq, type, resource, failure)) return failure;
  if (!acceptSubscription(rq, type, resource, failure)) return failure;
  search::SearchQuery criteria;
  const std::string& ifNoneExist = rq.header("If-None-Exist");
  std::string key;
  if (!ifNoneExist.empty()) {
    IssueList issues;
    if (!parseCriteria(type, ifNoneExist, criteria, issues)) {
      Outcome o = fromIssues(issues);
      o.status = 400;
      return o;
    }
    key = criteriaKey(type, criteria);
  }
  auto tx = store_->begin();
  if (!tx.isOk()) return fromStatus(tx.status(), "store.begin");
  if (auto refused = refuseWrite(rq, *tx.value(), type, "", &resource)) return std::move(*refused);
  auto w = tx.value()->create(type, std::move(resource), key.empty() ? nullptr : &criteria, key);
  if (!w.isOk()) return fromStatus(w.status(), "store.create");
  // Matched a resource the client may not see: refused whatever the Prefer (a minimal answer
  // would still carry its id in Content-Location).
  if (w->noop)
    if (auto refused = refuseHiddenMatch(rq, w->resource)) return std::move(*refused);
  if (Status a = beforeCommit(rq, *tx.value(), {w->resource}); !a.isOk())
    return fromStatus(a, "audit.write");
  Status c = tx.value()->commit();
  if (!c.isOk()) return fromStatus(c, "store.commit");
  afterCommit(rq);
  if (w->noop) w->created = false;
  return writeOutcome(rq, w.value());
}

FhirService::Outcome FhirService::update(const FhirRequest& rq, const std::string& type,
                                         const std::string& id) const {
  json::Value resource;
  Outcome failure;
  if (!readBody(rq, type, resource, failure)) return failure;
  if (!acceptSubscription(rq, type, resource, failure)) return failure;
  const std::string& bodyId = resource.getString("id");
  if (bodyId.empty())
    return fail(400, "required", "the resource must carry its id on update", "http.missing-id",
                type + ".id");
  if (bodyId != id)
    return fail(400, "invalid", "resource id \"" + bodyId + "\" does not match the URL id \"" +
                                    id + "\"",
                "http.id-mismatch", type + ".id");
  std::optional<int64_t> ifMatch;
  if (!parseIfMatch(rq.header("If-Match"), ifMatch))
    return fail(400, "value", "malformed If-Match (expected W/\"<version>\")",
                "http.invalid-if-match");
  if (rq.header("If-Match") == "*" && !store_->read(type, id).isOk())
    return fail(412, "conflict", "If-Match: * but " + type + "/" + id + " has no current version",
                "store.version-mismatch");
  auto tx = store_->begin();
  if (!tx.isOk()) return fromStatus(tx.status(), "store.begin");
  if (auto refused = refuseWrite(rq, *tx.value(), type, id, &resource)) return std::move(*refused);
  auto w = tx.value()->update(type, id, std::move(resource), ifMatch);
  if (!w.isOk()) return fromStatus(w.status(), "store.update");
  Status kept = ingest::PersonResolver::keepApiView(*tx.value(), w->resource, formatInstant(nowMillis()));
  if (!kept.isOk()) return fromStatus(kept, "store.update");
  if (Status a = beforeCommit(rq, *tx.value(), {w->resource}); !a.isOk())
    return fromStatus(a, "audit.write");
  Status c = tx.value()->commit();
  if (!c.isOk()) return fromStatus(c, "store.commit");
  afterCommit(rq);
  return writeOutcome(rq, w.value());
}

FhirService::Outcome FhirService::needsCriteria(const std::string& method) {
  Outcome o = fail(405, "not-supported", method + " on a type needs conditional criteria",
                   "http.method-not-allowed");
  o.headers.emplace_back("Allow", "GET, POST, PUT, DELETE");
  return o;
}

FhirService::Outcome FhirService::conditionalUpdate(const FhirRequest& rq,
                                                    const std::string& type) const {
  std::string q;
  if (!urlCriteria(rq, q)) return needsCriteria("PUT");
  json::Value resource;
  Outcome failure;
  if (!readBody(rq, type, resource, failure)) return failure;
  if (!acceptSubscription(rq, type, resource, failure)) return failure;
  search::SearchQuery criteria;
  IssueList issues;
  if (!parseCriteria(type, q, criteria, issues)) {
    Outcome o = fromIssues(issues);
    o.status = 400;
    return o;
  }
  auto tx = store_->begin();
  if (!tx.isOk()) return fromStatus(tx.status(), "store.begin");
  auto ids = tx.value()->match(criteria, 2);
  if (!ids.isOk()) return fromStatus(ids.status(), "store.match");
  std::string bodyId = resource.getString("id");
  std::string id;
  if (ids->size() > 1)
    return fail(412, "multiple-matches", "the criteria match more than one resource",
                "http.multiple-matches");
  if (ids->size() == 1) {
    id = ids->front();
    auto current = tx.value()->read(type, id);
    if (!current.isOk()) return fromStatus(current.status(), "store.read");
    if (auto refused = refuseHiddenMatch(rq, current.value())) return std::move(*refused);
    if (!bodyId.empty() && bodyId != id)
      return fail(400, "invalid", "resource id does not match the resource found by the criteria",
                  "http.id-mismatch", type + ".id");
    resource.set("id", str(id));
  } else {
    id = bodyId.empty() ? newUuid() : bodyId;
    resource.set("id", str(id));
  }
  std::optional<int64_t> ifMatch;
  if (!parseIfMatch(rq.header("If-Match"), ifMatch))
    return fail(400, "value", "malformed If-Match", "http.invalid-if-match");
  if (auto refused = refuseWrite(rq, *tx.value(), type, id, &resource)) return std::move(*refused);
  auto w = tx.value()->update(type, id, std::move(resource), ifMatch);
  if (!w.isOk()) return fromStatus(w.status(), "store.update");
  Status kept = ingest::PersonResolver::keepApiView(*tx.value(), w->resource, formatInstant(nowMillis()));
  if (!kept.isOk()) return fromStatus(kept, "store.update");
  if (Status a = beforeCommit(rq, *tx.value(), {w->resource}); !a.isOk())
    return fromStatus(a, "audit.write");
  Status c = tx.value()->commit();
  if (!c.isOk()) return fromStatus(c, "store.commit");
  afterCommit(rq);
  return writeOutcome(rq, w.value());
}

FhirService::Outcome FhirService::remove(const FhirRequest& rq, const std::string& type,
                                         const std::string& id) const {
  std::optional<int64_t> ifMatch;
  if (!parseIfMatch(rq.header("If-Match"), ifMatch))
    return fail(400, "value", "malformed If-Match", "http.invalid-if-match");
  auto tx = store_->begin();
  if (!tx.isOk()) return fromStatus(tx.status(), "store.begin");
  if (hiddenPatientData(rq, *tx.value(), type, id)) {
    // Another patient's record: answered as the delete of a resource that is not there.
    Outcome o = ifMatch ? fromStatus(Status::precondition("store.version-mismatch: " + type + "/" +
                                                          id + " is at version none, not " +
                                                          std::to_string(*ifMatch)),
                                     "store.delete")
                        : Outcome{};
    if (!ifMatch) {
      IssueList info;
      info.information("informational", "", "nothing to delete: " + type + "/" + id +
                       " is not current", "http.delete-noop");
      o.body = info.toOperationOutcome();
    }
    o.concealed = "auth.no-relationship";
    return o;
  }
  if (auto refused = refuseWrite(rq, *tx.value(), type, id, nullptr)) return std::move(*refused);
  auto w = tx.value()->remove(type, id, ifMatch);
  if (!w.isOk()) return fromStatus(w.status(), "store.delete");
  if (Status a = beforeCommit(rq, *tx.value(), {w->resource}); !a.isOk())
    return fromStatus(a, "audit.write");
  Status c = tx.value()->commit();
  if (!c.isOk()) return fromStatus(c, "store.commit");
  afterCommit(rq);
  Outcome o;
  if (!w->noop) addVersionHeaders(o, w->resource);
  IssueList info;
  info.information("informational", "",
                   w->noop ? "nothing to delete: " + type + "/" + id + " is not current"
                           : "deleted " + type + "/" + id,
                   w->noop ? "http.delete-noop" : "http.deleted");
  o.body = info.toOperationOutcome();
  return o;
}

FhirService::Outcome FhirService::conditionalRemove(const FhirRequest& rq,
                                                    const std::string& type) const {
  std::string q;
  if (!urlCriteria(rq, q)) return needsCriteria("DELETE");
  search::SearchQuery criteria;
  IssueList issues;
  if (!parseCriteria(type, q, criteria, issues)) {
    Outcome o = fromIssues(issues);
    o.status = 400;
    return o;
  }
  auto tx = store_->begin();
  if (!tx.isOk()) return fromStatus(tx.status(), "store.begin");
  auto ids = tx.value()->match(criteria, restricted(rq) ? 100 : 2);
  if (!ids.isOk()) return fromStatus(ids.status(), "store.match");
  // What is in the record of a patient the client has no relationship with is not counted:
  // answered as if it had not matched.
  Outcome o;
  if (restricted(rq) && ids->size() < 100) {
    size_t matched = ids->size();
    ids->erase(std::remove_if(ids->begin(), ids->end(),
                              [&](const std::string& id) {
                                return hiddenPatientData(rq, *tx.value(), type, id);
                              }),
               ids->end());
    if (ids->size() < matched) o.concealed = "auth.no-relationship";
  }
  if (ids->size() > 1)
    return fail(412, "multiple-matches", "the criteria match more than one resource",
                "http.multiple-matches");
  IssueList info;
  if (ids->empty()) {
    info.information("informational", "", "no resource matched the criteria", "http.delete-noop");
  } else {
    if (auto refused = refuseWrite(rq, *tx.value(), type, ids->front(), nullptr))
      return std::move(*refused);
    auto w = tx.value()->remove(type, ids->front());
    if (!w.isOk()) return fromStatus(w.status(), "store.delete");
    if (Status a = beforeCommit(rq, *tx.value(), {w->resource}); !a.isOk())
      return fromStatus(a, "audit.write");
    Status c = tx.value()->commit();
    if (!c.isOk()) return fromStatus(c, "store.commit");
    afterCommit(rq);
    info.information("informational", "", "deleted " + type + "/" + ids->front(), "http.deleted");
  }
  o.body = info.toOperationOutcome();
  return o;
}

namespace {

json::Value link(const std::string& relation, const std::string& url) {
  json::Value l = json::Value::makeObject();
  l.set("relation", json::Value::makeString(relation));
  l.set("url", json::Value::makeString(url));
  return l;
}

json::Value bundleShell(const std::string& type) {
  json::Value b = json::Value::makeObject();
  b.set("resourceType", json::Value::makeString("Bundle"));
  b.set("id", json::Value::makeString(newUuid()));
  json::Value meta = json::Value::makeObject();
  meta.set("lastUpdated", json::Value::makeString(formatInstant(nowMillis())));
  b.set("meta", std::move(meta));
  b.set("type", json::Value::makeString(type));
  return b;
}

std::string statusLine(const store::StoredResource& r) {
  if (r.deleted) return "204 No Content";
  return r.method == "POST" || r.versionId == 1 ? "201 Created" : "200 OK";
}

}  // namespace

FhirService::Outcome FhirService::history(const FhirRequest& rq, const std::string& type,
                                          const std::string& id) const {
  store::HistoryQuery hq;
  hq.type = type;
  hq.id = id;
  hq.count = options_.defaultCount;
  for (const auto& [k, v] : rq.query) {
    if (k == "_count") {
      if (v.empty() || v.size() > 6 || !std::all_of(v.begin(), v.end(), isDigit))
        return fail(400, "value", "_count must be a non-negative integer", "search.invalid-count");
      hq.count = std::min(std::atoi(v.c_str()), options_.maxCount);
    } else if (k == "_since") {
      int64_t lo, hi;
      // R4: an instant (to the second, with a time zone).
      if (v.size() < 20 || v[10] != 'T' || !search::dateRange(v, lo, hi))
        return fail(400, "value", "_since must be a FHIR instant, e.g. 2026-01-01T00:00:00Z",
                    "search.invalid-date", "_since");
      hq.since = v;
    } else if (k == "_at" || k == "_list") {
      return fail(400, "not-supported", k + " is not supported on history",
                  "search.unsupported-parameter", k);
    } else if (k == "_cursor") {
      hq.cursor = v;
    }
  }
  if (!id.empty()) {
    auto current = store_->read(type, id);
    if (!current.isOk() && current.status().code() == Status::Code::kNotFound)
      return fromStatus(current.status(), "store.read");
    // A resource the client may not see has no history to it either: as if it never existed.
    if (restricted(rq)) {
      std::optional<json::Value> last =
          current.isOk() ? std::optional<json::Value>(parseStored(current->json))
                         : contentBefore(type, id, 0);
      if (!last || !mayKnow(rq, *last))
        return concealedNotFound(type + "/" + id, "auth.no-relationship");
    }
  }
  // Entries the client may not see (a delete included: decided on what it deleted) are left
  // out, and the links page through what it may see (visible_pages.cc).
  auto page = visiblePage(
      rq,
      [&](const std::string& cursor, int count) {
        store::HistoryQuery q = hq;
        q.cursor = cursor;
        q.count = count;
        return store_->history(q);
      },
      hq.cursor, hq.count);
  if (!page.isOk()) return fromStatus(page.status(), "store.history");
  json::Value b = bundleShell("history");
  if (page->total) b.set("total", json::Value::makeNumber(std::to_string(*page->total)));
  std::string self = rq.baseUrl + (type.empty() ? "" : "/" + type) + (id.empty() ? "" : "/" + id) +
                     "/_history";
  std::string params = "_count=" + std::to_string(hq.count);
  if (hq.since) params += "&_since=" + percentEncode(*hq.since);
  params += transportParams(rq);
  json::Value links = json::Value::makeArray();
  links.push(link("self", self + "?" + params + (hq.cursor.empty() ? "" : "&_cursor=" +
                                                                           percentEncode(hq.cursor))));
  if (!page->nextCursor.empty())
    links.push(link("next", self + "?" + params + "&_cursor=" + percentEncode(page->nextCursor)));
  b.set("link", std::move(links));
  json::Value entries = json::Value::makeArray();
  for (auto& r : page->entries) {
    json::Value e = json::Value::makeObject();
    e.set("fullUrl", str(rq.baseUrl + "/" + r.type + "/" + r.id));
    if (!r.deleted) e.set("resource", json::Value::makeRaw(std::move(r.json)));
    json::Value req = json::Value::makeObject();
    std::string method = r.deleted ? "DELETE" : (r.method.empty() ? "PUT" : r.method);
    req.set("method", str(method));
    req.set("url", str(method == "POST" ? r.type : r.type + "/" + r.id));
    e.set("request", std::move(req));
    json::Value resp = json::Value::makeObject();
    resp.set("status", str(statusLine(r)));
    resp.set("etag", str("W/\"" + std::to_string(r.versionId) + "\""));
    resp.set("lastModified", str(r.lastUpdated));
    e.set("response", std::move(resp));
    entries.push(std::move(e));
  }
  if (!entries.items().empty()) b.set("entry", std::move(entries));
  Outcome o;
  o.body = std::move(b);
  o.accessChecked = restricted(rq);
  return o;
}

FhirService::Outcome FhirService::search(
    const FhirRequest& rq, const std::string& type,
    std::vector<std::pair<std::string, std::string>> params) const {
  search::QueryOptions opts;
  opts.strict = preferStrict(rq);
  opts.defaultCount = options_.defaultCount;
  opts.maxCount = options_.maxCount;
  opts.baseUrl = rq.baseUrl;
  search::SearchQuery query;
  IssueList issues;
  if (!search::parseQuery(*model_, type, params, opts, query, issues)) {
    Outcome o = fromIssues(issues);
    o.status = 400;
    return o;
  }
  bool countOnly = query.summary == search::SummaryMode::kCount;
  // A client whose view is filtered (access/access_policy.h) is never given a count of what it
  // may not see: its count is of the visible matches (up to one page of maxCount), and other
  // searches carry no total.
  const bool filtered = restricted(rq);
  if (countOnly && filtered) {
    query.count = options_.maxCount;
  } else if (countOnly) {
    query.totalAccurate = true;
    query.count = 0;
  }
  // A filtered client's page holds only what it may see, and its links tell of nothing else
  // (visible_pages.cc); a count is of what it may see.
  Result<store::Page> page = Status::internal("unreached");
  if (countOnly) {
    page = store_->search(query);
  } else {
    // (A SearchQuery is not copied: the source moves its cursor and count, restored after.)
    const std::string firstCursor = query.cursor;
    const int pageCount = query.count;
    if (filtered) query.totalAccurate = false;  // never shown to it
    page = visiblePage(
        rq,
        [&](const std::string& cursor, int count) {
          query.cursor = cursor;
          query.count = count;
          return store_->search(query);
        },
        firstCursor, pageCount);
    query.cursor = firstCursor;
    query.count = pageCount;
  }
  if (!page.isOk()) {
    if (page.status().code() == Status::Code::kInvalid ||
        page.status().code() == Status::Code::kNotSupported)
      return fail(400, page.status().code() == Status::Code::kInvalid ? "invalid" : "not-supported",
                  page.status().message(), "search.invalid-cursor");
    return fromStatus(page.status(), "store.search");
  }
  json::Value b = bundleShell("searchset");
  if (page->total && !filtered)
    b.set("total", json::Value::makeNumber(std::to_string(*page->total)));
  if (countOnly && filtered) {
    int64_t visible = 0;
    for (store::StoredResource& r : page->entries)
      if (visibleForm(rq, parseStored(r.json))) ++visible;
    if (page->nextCursor.empty())
      b.set("total", json::Value::makeNumber(std::to_string(visible)));
    else
      issues.warning("too-costly", "_summary",
                     "more matches than one page: no count is given to this client",
                     "search.count-not-available");
  }
  std::string self = rq.baseUrl + "/" + type + "?";
  std::string echoed;
  for (const auto& [k, v] : query.echo)
    echoed += (echoed.empty() ? "" : "&") + percentEncode(k) + "=" + percentEncode(v);
  std::string transport = transportParams(rq);
  if (!transport.empty()) echoed += echoed.empty() ? transport.substr(1) : transport;
  json::Value links = json::Value::makeArray();
  links.push(link("self", self + echoed +
                              (query.cursor.empty() ? "" : "&_cursor=" + percentEncode(query.cursor))));
  if (!page->nextCursor.empty() && !countOnly)
    links.push(link("next", self + echoed + (echoed.empty() ? "" : "&") + "_cursor=" +
                                percentEncode(page->nextCursor)));
  b.set("link", std::move(links));
  json::Value entries = json::Value::makeArray();
  // For a filtered client the page's entries were checked on their stored form (before
  // shaping could drop what says whose a resource is; withheld plans are their outline), and
  // the Bundle is not checked again (filterReads).
  auto addEntry = [&](store::StoredResource& r, const char* mode) {
    json::Value e = json::Value::makeObject();
    e.set("fullUrl", str(rq.baseUrl + "/" + r.type + "/" + r.id));
    if (query.summary != search::SummaryMode::kNone &&
        query.summary != search::SummaryMode::kFalse)
      e.set("resource", model::applySummary(*model_, parseStored(r.json), query.summary));
    else if (!query.elements.empty())
      e.set("resource", model::applyElements(*model_, parseStored(r.json), query.elements));
    else
      e.set("resource", json::Value::makeRaw(std::move(r.json)));
    json::Value s = json::Value::makeObject();
    s.set("mode", str(mode));
    e.set("search", std::move(s));
    entries.push(std::move(e));
  };
  if (!countOnly) {
    for (auto& r : page->entries) addEntry(r, "match");
    for (auto& r : page->included) addEntry(r, "include");
  }
  if (page->includesTruncated)
    issues.warning("incomplete", "_include",
                   "more resources matched _include/_revinclude than one page carries; the "
                   "included set is incomplete",
                   "search.includes-truncated");
  if (!issues.empty()) {
    json::Value e = json::Value::makeObject();
    e.set("fullUrl", str("urn:uuid:" + newUuid()));
    e.set("resource", issues.toOperationOutcome());
    json::Value s = json::Value::makeObject();
    s.set("mode", str("outcome"));
    e.set("search", std::move(s));
    entries.push(std::move(e));
  }
  if (!entries.items().empty()) b.set("entry", std::move(entries));
  Outcome o;
  o.body = std::move(b);
  o.accessChecked = filtered || countOnly;
  return o;
}

bool FhirService::acceptSubscription(const FhirRequest& rq, const std::string& type,
                                     json::Value& resource, Outcome& failure) const {
  if (type != "Subscription") return true;
  const auth::Principal& who = rq.context.principal;
  // Another organisation's Subscription is not this client's to change.
  if (!who.superuser() && !resource.getString("id").empty()) {
    auto stored = store_->read("Subscription", resource.getString("id"));
    json::Value existing;
    json::ParseError err;
    if (stored.isOk() && json::parse(stored->json, existing, err))
      if (auto owner = access::ownerOf(existing); !owner || owner->organisation != who.organisation) {
        failure = fail(403, "forbidden", "this Subscription belongs to another client",
                       "auth.not-owner");
        return false;
      }
  }
  IssueList issues;
  if (!notify::prepareSubscription(resource, *model_, options_.servedTypes, issues,
                                   options_.allowPlainHttpEndpoints)) {
    failure = fromIssues(issues);
    failure.status = 422;
    return false;
  }
  access::stampOwner(resource, who);  // who it notifies as (access/subscription_owner.h)
  return true;
}

}  // namespace acp::http
