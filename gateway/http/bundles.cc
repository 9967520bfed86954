// Transaction and batch Bundles at the base URL (R4 http.html#transaction).
//
// Transaction: all entries succeed and commit together, or nothing is written and the
// answer is the first failure's OperationOutcome located at "Bundle.entry[i]". Entries run
// in R4 order (DELETE, POST, PUT, then GET after commit); fullUrl placeholders (urn:uuid,
// urn:oid) of created or updated entries are rewritten wherever a Reference points at them.
// Batch: every entry on its own, each answered in the batch-response.
#include <map>
#include <set>

#include "gateway/core/ids.h"
#include "gateway/http/fhir_service.h"
#include "gateway/ingest/person_resolver.h"

namespace acp::http {
namespace {

json::Value str(const std::string& s) { return json::Value::makeString(s); }

struct EntryOp {
  size_t index = 0;
  std::string method;
  std::string type;
  std::string id;     // for PUT/DELETE/GET by id, or assigned for POST
  std::string query;  // conditional criteria / search parameters (without '?')
  std::string fullUrl;
  std::string ifMatch;
  std::string ifNoneExist;
  json::Value* resource = nullptr;
  // POST with ifNoneExist: the parsed criteria and their normalised key, so the create
  // records the conditional key like a plain conditional create does.
  std::shared_ptr<search::SearchQuery> criteria;
  std::string conditionalKey;
  bool matched = false;  // id found by the criteria (not named by the client)
  store::WriteResult result;
  bool done = false;
};

std::string loc(size_t i) { return "Bundle.entry[" + std::to_string(i) + "]"; }

// Splits an entry URL ("Patient/1", "Patient?x=y", or absolute on our base) into parts.
bool splitEntryUrl(const std::string& baseUrl, std::string url, EntryOp& op) {
  if (!baseUrl.empty() && url.rfind(baseUrl + "/", 0) == 0) url = url.substr(baseUrl.size() + 1);
  if (!url.empty() && url[0] == '/') url = url.substr(1);
  size_t q = url.find('?');
  if (q != std::string::npos) {
    op.query = url.substr(q + 1);
    url = url.substr(0, q);
  }
  size_t slash = url.find('/');
  op.type = url.substr(0, slash);
  if (slash != std::string::npos) op.id = url.substr(slash + 1);
  return !op.type.empty() && op.id.find('/') == std::string::npos;
}

// Rewrites the transaction's placeholders (R4 http.html#trules): every string equal to a
// fullUrl placeholder — Reference.reference, and elements of type uri, url, canonical, oid,
// uuid — and quoted placeholders in the narrative (href="urn:uuid:…", src="…"). Collects
// conditional references ("Patient?identifier=…") for resolution inside the transaction,
// and urn:uuid / urn:oid references that match no entry.
void rewritePlaceholders(json::Value& v, const std::string& key,
                         const std::map<std::string, std::string>& map,
                         std::set<std::string>& unresolved,
                         std::vector<json::Value*>& conditionalRefs) {
  if (v.isArray()) {
    for (auto& i : v.items()) rewritePlaceholders(i, key, map, unresolved, conditionalRefs);
  } else if (v.isObject()) {
    for (auto& [k, child] : v.members())
      rewritePlaceholders(child, k, map, unresolved, conditionalRefs);
  } else if (v.isString()) {
    auto it = map.find(v.text());
    if (it != map.end()) {
      v = json::Value::makeString(it->second);
    } else if (key == "div") {
      std::string div = v.text();
      bool changed = false;
      for (const auto& [from, to] : map) {
        std::string quoted = "\"" + from + "\"";
        for (size_t at = div.find(quoted); at != std::string::npos;
             at = div.find(quoted, at + to.size() + 2)) {
          div.replace(at, quoted.size(), "\"" + to + "\"");
          changed = true;
        }
      }
      if (changed) v = json::Value::makeString(div);
    } else if (key == "reference") {
      const std::string& ref = v.text();
      if (ref.rfind("urn:uuid:", 0) == 0 || ref.rfind("urn:oid:", 0) == 0)
        unresolved.insert(ref);
      else if (ref.find('?') != std::string::npos &&
               ref.substr(0, ref.find('?')).find('/') == std::string::npos)
        conditionalRefs.push_back(&v);  // "Type?criteria" (not an absolute or Type/id URL)
    }
  }
}

json::Value responseEntry(const std::string& status) {
  json::Value e = json::Value::makeObject();
  json::Value r = json::Value::makeObject();
  r.set("status", str(status));
  e.set("response", std::move(r));
  return e;
}

}  // namespace

FhirService::Outcome FhirService::bundle(const FhirRequest& rq) const {
  json::Value b;
  Outcome failure;
  if (!readBody(rq, "Bundle", b, failure, /*validate=*/false)) return failure;
  // Size first: no validation work for a Bundle that will be refused anyway.
  const json::Value* entries = b.find("entry");
  size_t n = entries && entries->isArray() ? entries->items().size() : 0;
  if (n > static_cast<size_t>(options_.maxBundleEntries))
    return fail(413, "too-long",
                "the Bundle has " + std::to_string(n) + " entries; the limit is " +
                    std::to_string(options_.maxBundleEntries),
                "bundle.too-many-entries", "Bundle.entry");
  // A transaction is validated whole (one bad entry fails it); a batch only as an envelope,
  // each entry's resource then being validated by its own interaction.
  IssueList issues;
  const std::string type = b.getString("type");
  rq.context.bundleType = type;  // for the audit
  if (type == "batch") {
    json::Value envelope = b;
    if (json::Value* list = envelope.find("entry"))
      for (auto& e : list->items())
        if (e.isObject()) e.erase("resource");
    if (!validator_.validate(envelope, issues, "Bundle")) return fromIssues(issues);
    return batch(rq, b);
  }
  if (!validator_.validate(b, issues, "Bundle")) return fromIssues(issues);
  if (const json::Value* list = b.find("entry"); list && list->isArray()) {
    bool ok = true;
    for (size_t i = 0; i < list->items().size(); ++i)
      if (const json::Value* r = list->items()[i].find("resource"); r && r->isObject())
        ok = checkProfiles(*r, "Bundle.entry[" + std::to_string(i) + "].resource", issues) && ok;
    if (!ok) return fromIssues(issues);
  }
  if (type == "transaction") return transaction(rq, std::move(b));
  return fail(400, "invalid", "only transaction and batch Bundles can be posted to the base",
              "bundle.wrong-type", "Bundle.type");
}

FhirService::Outcome FhirService::transaction(const FhirRequest& rq, json::Value b) const {
  // b is ours: placeholders are rewritten in place.
  json::Value* entries = b.find("entry");
  std::vector<EntryOp> ops;
  std::set<std::string> targets;
  if (entries) {
    for (size_t i = 0; i < entries->items().size(); ++i) {
      json::Value& e = entries->items()[i];
      EntryOp op;
      op.index = i;
      const json::Value* request = e.find("request");
      if (!request)
        return fail(400, "required", "each transaction entry needs a request", "bundle.no-request",
                    loc(i) + ".request");
      op.method = request->getString("method");
      op.ifMatch = request->getString("ifMatch");
      op.ifNoneExist = request->getString("ifNoneExist");
      op.fullUrl = e.getString("fullUrl");
      if (!splitEntryUrl(rq.baseUrl, request->getString("url"), op) || !serves(op.type))
        return fail(400, "invalid", "request.url must name a served resource type",
                    "bundle.bad-url", loc(i) + ".request.url");
      if (!op.id.empty() && !isValidId(op.id))
        return fail(400, "value", "invalid id in request.url", "http.invalid-id",
                    loc(i) + ".request.url");
      op.resource = e.find("resource");
      if (op.method == "POST" || op.method == "PUT") {
        if (!op.resource)
          return fail(400, "required", op.method + " entries need a resource",
                      "bundle.no-resource", loc(i) + ".resource");
        if (op.resource->getString("resourceType") != op.type)
          return fail(400, "invalid", "resource type does not match request.url",
                      "validate.type-mismatch", loc(i) + ".resource");
        if (op.method == "POST" && !op.id.empty())
          return fail(400, "invalid", "POST entries name a type, not an id", "bundle.bad-url",
                      loc(i) + ".request.url");
        if (op.method == "PUT" && op.id.empty() && op.query.empty())
          return fail(400, "invalid", "PUT entries need an id or criteria", "bundle.bad-url",
                      loc(i) + ".request.url");
        if (op.method == "PUT" && !op.id.empty() && op.resource->getString("id") != op.id)
          return fail(400, "invalid", "resource id does not match request.url",
                      "http.id-mismatch", loc(i) + ".resource.id");
      } else if (op.method == "DELETE") {
        if (op.id.empty() && op.query.empty())
          return fail(400, "invalid", "DELETE entries need an id or criteria", "bundle.bad-url",
                      loc(i) + ".request.url");
      } else if (op.method != "GET") {
        return fail(400, "not-supported", "unsupported method " + op.method + " in a transaction",
                    "bundle.bad-method", loc(i) + ".request.method");
      }
      ops.push_back(std::move(op));
    }
  }
  auto txr = store_->begin();
  if (!txr.isOk()) return fromStatus(txr.status(), "store.begin");
  store::Transaction& tx = *txr.value();

  // Resolve ids: conditional matches first, then placeholders for the rest.
  std::map<std::string, std::string> placeholders;
  for (EntryOp& op : ops) {
    bool conditional = (op.method == "POST" && !op.ifNoneExist.empty()) ||
                       ((op.method == "PUT" || op.method == "DELETE") && op.id.empty());
    if (conditional) {
      search::SearchQuery criteria;
      IssueList issues;
      if (!parseCriteria(op.type, op.method == "POST" ? op.ifNoneExist : op.query, criteria,
                         issues)) {
        Outcome o = fromIssues(issues);
        o.status = 400;
        o.issues.locateAll(loc(op.index) + ".request");
        return o;
      }
      auto ids = tx.match(criteria, 2);
      if (!ids.isOk()) return fromStatus(ids.status(), "store.match");
      if (op.method == "POST") {
        op.conditionalKey = criteriaKey(op.type, criteria);
        op.criteria = std::make_shared<search::SearchQuery>(std::move(criteria));
      }
      if (ids->size() > 1)
        return fail(412, "multiple-matches", "the criteria match more than one resource",
                    "http.multiple-matches", loc(op.index) + ".request");
      if (ids->size() == 1) {
        op.id = ids->front();
        op.matched = true;
        if (op.method != "DELETE") {
          // A match the client may not see refuses the whole transaction as the single
          // interaction is refused: nothing of it (id, location, version) in the answer.
          auto current = tx.read(op.type, op.id);
          if (!current.isOk()) return fromStatus(current.status(), "store.read");
          if (auto refused = refuseHiddenMatch(rq, current.value())) {
            refused->issues.locateAll(loc(op.index) + ".request");
            return std::move(*refused);
          }
        }
        if (op.method == "PUT" && op.resource && !op.resource->getString("id").empty() &&
            op.resource->getString("id") != op.id)
          return fail(400, "invalid",
                      "resource id does not match the resource found by the criteria",
                      "http.id-mismatch", loc(op.index) + ".resource.id");
        if (op.method == "POST") {  // exists already: nothing to create
          auto current = tx.read(op.type, op.id);
          if (!current.isOk()) return fromStatus(current.status(), "store.read");
          op.result.resource = current.value();
          op.result.noop = true;
          op.done = true;
        }
      } else if (op.method == "DELETE") {
        op.done = true;  // nothing matched: nothing to delete
        op.result.noop = true;
      }
    }
    if (op.id.empty() && (op.method == "POST" || op.method == "PUT")) {
      op.id = op.method == "PUT" && op.resource && !op.resource->getString("id").empty()
                  ? op.resource->getString("id")
                  : newUuid();
      if (!isValidId(op.id))
        return fail(400, "value", "invalid resource id", "http.invalid-id",
                    loc(op.index) + ".resource.id");
    }
    if (!op.fullUrl.empty() && (op.method == "POST" || op.method == "PUT"))
      placeholders[op.fullUrl] = op.type + "/" + op.id;
    // R4: no two entries may act on the same resource, however it was identified.
    // An id found by criteria is not named: it may be one the client may not see.
    if (op.method != "GET" && !op.id.empty() && !targets.insert(op.type + "/" + op.id).second)
      return fail(400, "invalid",
                  "two entries in one transaction act on " +
                      (op.matched ? "the same " + op.type : op.type + "/" + op.id),
                  "bundle.duplicate-target", loc(op.index));
  }
  for (EntryOp& op : ops) {
    if (!op.resource) continue;
    std::set<std::string> unresolved;
    std::vector<json::Value*> conditionalRefs;
    rewritePlaceholders(*op.resource, "", placeholders, unresolved, conditionalRefs);
    if (!unresolved.empty())
      return fail(400, "not-found",
                  "reference " + *unresolved.begin() + " matches no entry of the transaction",
                  "bundle.unresolved-reference", loc(op.index) + ".resource");
    // Conditional references resolve inside the transaction to exactly one resource.
    for (json::Value* ref : conditionalRefs) {
      std::string text = ref->text();
      std::string refType = text.substr(0, text.find('?'));
      search::SearchQuery criteria;
      IssueList issues;
      if (!serves(refType) || !parseCriteria(refType, text, criteria, issues))
        return fail(400, "invalid", "conditional reference \"" + text + "\" is not valid",
                    "bundle.bad-conditional-reference", loc(op.index) + ".resource");
      auto ids = tx.match(criteria, 2);
      if (!ids.isOk()) return fromStatus(ids.status(), "store.match");
      if (ids->size() != 1)
        return fail(412, ids->empty() ? "not-found" : "multiple-matches",
                    "conditional reference \"" + text + "\" matches " +
                        (ids->empty() ? "no resource" : "more than one resource"),
                    "bundle.conditional-reference-unmatched", loc(op.index) + ".resource");
      // One the client may not see would put its id into what the answer returns.
      auto target = tx.read(refType, ids->front());
      if (!target.isOk()) return fromStatus(target.status(), "store.read");
      if (auto refused = refuseHiddenMatch(rq, target.value())) {
        refused->issues.locateAll(loc(op.index) + ".resource");
        return std::move(*refused);
      }
      *ref = json::Value::makeString(refType + "/" + ids->front());
    }
  }
  auto runPhase = [&](const std::string& method) -> std::optional<Outcome> {
    for (EntryOp& op : ops) {
      if (op.method != method) continue;
      if (op.done) {
        // A conditional create that matched: its content passes the write rules all the same,
        // as outside a transaction.
        if (method == "POST" && op.matched && op.resource)
          if (auto refused = refuseWrite(rq, tx, op.type, "", &*op.resource)) {
            refused->issues.locateAll(loc(op.index));
            return std::move(*refused);
          }
        continue;
      }
      std::optional<int64_t> ifMatch;
      if (!parseIfMatch(op.ifMatch, ifMatch))
        return fail(400, "value", "malformed ifMatch", "http.invalid-if-match",
                    loc(op.index) + ".request.ifMatch");
      if (method == "DELETE" && hiddenPatientData(rq, tx, op.type, op.id)) {
        // Another patient's record: a delete of nothing, as if it were not there.
        if (ifMatch) {
          Outcome o = fromStatus(Status::precondition("store.version-mismatch: " + op.type + "/" +
                                                      op.id + " is at version none, not " +
                                                      std::to_string(*ifMatch)),
                                 "store.write");
          o.issues.locateAll(loc(op.index));
          o.concealed = "auth.no-relationship";
          return o;
        }
        op.result.noop = true;
        op.done = true;
        continue;
      }
      if (auto refused = refuseWrite(rq, tx, op.type, method == "POST" ? "" : op.id,
                                     method == "DELETE" ? nullptr : &*op.resource)) {
        refused->issues.locateAll(loc(op.index));
        return std::move(*refused);
      }
      Result<store::WriteResult> w = Status::internal("unreached");
      if (method == "DELETE") {
        w = tx.remove(op.type, op.id, ifMatch);
      } else if (Outcome refused; !acceptSubscription(rq, op.type, *op.resource, refused)) {
        refused.issues.locateAll(loc(op.index) + ".resource");
        return refused;
      } else if (method == "POST") {
        op.resource->set("id", str(op.id));
        w = tx.create(op.type, *op.resource, op.criteria.get(), op.conditionalKey, op.id);
      } else {
        op.resource->set("id", str(op.id));
        w = tx.update(op.type, op.id, *op.resource, ifMatch);
        if (w.isOk()) {
          Status kept = ingest::PersonResolver::keepApiView(tx, w->resource,
                                                            formatInstant(nowMillis()));
          if (!kept.isOk()) w = kept;
        }
      }
      if (!w.isOk()) {
        Outcome o = fromStatus(w.status(), "store.write");
        o.issues.locateAll(loc(op.index));
        return o;
      }
      op.result = w.take();
      op.done = true;
    }
    return std::nullopt;
  };
  for (const char* phase : {"DELETE", "POST", "PUT"})
    if (auto failed = runPhase(phase)) return std::move(*failed);
  std::vector<store::StoredResource> written;
  for (const EntryOp& op : ops)
    if (op.done && !op.result.noop) written.push_back(op.result.resource);
  if (Status a = beforeCommit(rq, tx, written); !a.isOk()) return fromStatus(a, "audit.write");
  Status c = tx.commit();
  if (!c.isOk()) return fromStatus(c, "store.commit");
  // The answer is decided on what was committed: the child this transaction created is the
  // writer's to see, with its plan.
  afterCommit(rq);

  json::Value out = json::Value::makeObject();
  out.set("resourceType", str("Bundle"));
  out.set("id", str(newUuid()));
  out.set("type", str("transaction-response"));
  json::Value list = json::Value::makeArray();
  bool representation = rq.header("Prefer").find("return=representation") != std::string::npos;
  for (EntryOp& op : ops) {
    if (op.method == "GET") {
      FhirRequest sub;
      sub.method = "GET";
      sub.path = "/" + op.type + (op.id.empty() ? "" : "/" + op.id);
      sub.query = parseQueryString(op.query);
      sub.baseUrl = rq.baseUrl;
      sub.context = rq.context;
      Outcome got = guarded(sub);
      json::Value e = responseEntry(std::to_string(got.status));
      if (got.status < 400) {
        if (got.body) e.set("resource", std::move(*got.body));
        else if (!got.rawBody.empty()) e.set("resource", json::Value::makeRaw(std::move(got.rawBody)));
      } else {
        e.find("response")->set("outcome", got.issues.toOperationOutcome());
      }
      list.push(std::move(e));
      continue;
    }
    const store::StoredResource& r = op.result.resource;
    std::string status = op.method == "DELETE" ? "204 No Content"
                         : op.result.created   ? "201 Created"
                                               : "200 OK";
    json::Value e = responseEntry(status);
    json::Value* resp = e.find("response");
    if (op.method != "DELETE" && r.versionId > 0) {
      resp->set("location", str(r.type + "/" + r.id + "/_history/" + std::to_string(r.versionId)));
      resp->set("etag", str("W/\"" + std::to_string(r.versionId) + "\""));
      resp->set("lastModified", str(r.lastUpdated));
      if (representation && !r.json.empty()) e.set("resource", json::Value::makeRaw(r.json));
    }
    if (!r.id.empty()) e.set("fullUrl", str(rq.baseUrl + "/" + r.type + "/" + r.id));
    list.push(std::move(e));
  }
  if (!list.items().empty()) out.set("entry", std::move(list));
  Outcome o;
  o.body = std::move(out);
  return o;
}

FhirService::Outcome FhirService::batch(const FhirRequest& rq, const json::Value& b) const {
  json::Value out = json::Value::makeObject();
  out.set("resourceType", str("Bundle"));
  out.set("id", str(newUuid()));
  out.set("type", str("batch-response"));
  json::Value list = json::Value::makeArray();
  const json::Value* entries = b.find("entry");
  if (entries) {
    for (size_t i = 0; i < entries->items().size(); ++i) {
      const json::Value& e = entries->items()[i];
      const json::Value* request = e.find("request");
      Outcome got;
      FhirRequest sub;
      if (!request) {
        got = fail(400, "required", "each batch entry needs a request", "bundle.no-request",
                   loc(i) + ".request");
      } else {
        sub.method = request->getString("method");
        std::string url = request->getString("url");
        if (!rq.baseUrl.empty() && url.rfind(rq.baseUrl + "/", 0) == 0)
          url = url.substr(rq.baseUrl.size());
        size_t q = url.find('?');
        sub.path = "/" + (q == std::string::npos ? url : url.substr(0, q));
        while (sub.path.size() > 1 && sub.path[1] == '/') sub.path.erase(0, 1);
        if (q != std::string::npos) sub.query = parseQueryString(url.substr(q + 1));
        sub.baseUrl = rq.baseUrl;
        sub.context = rq.context;
        if (!rq.header("Prefer").empty()) sub.headers["Prefer"] = rq.header("Prefer");
        // Each entry's AuditEvent carries the batch's request id.
        if (!rq.header("X-Request-Id").empty()) sub.headers["X-Request-Id"] = rq.header("X-Request-Id");
        if (!request->getString("ifMatch").empty())
          sub.headers["If-Match"] = request->getString("ifMatch");
        if (!request->getString("ifNoneExist").empty())
          sub.headers["If-None-Exist"] = request->getString("ifNoneExist");
        if (!request->getString("ifNoneMatch").empty())
          sub.headers["If-None-Match"] = request->getString("ifNoneMatch");
        if (const json::Value* res = e.find("resource")) {
          sub.body = json::write(*res);
          sub.headers["Content-Type"] = "application/fhir+json";
        }
        if (sub.path == "/" || sub.path.empty())
          got = fail(400, "not-supported", "a batch cannot contain a Bundle to process",
                     "bundle.nested", loc(i) + ".request.url");
        else
          got = guarded(sub);
      }
      json::Value re = responseEntry(std::to_string(got.status));
      json::Value* resp = re.find("response");
      for (const auto& [h, v] : got.headers) {
        if (h == "Location") resp->set("location", str(v));
        if (h == "ETag") resp->set("etag", str(v));
      }
      if (!got.lastUpdated.empty()) resp->set("lastModified", str(got.lastUpdated));
      if (got.status >= 400) {
        resp->set("outcome", got.issues.toOperationOutcome());
      } else if (got.body && got.body->getString("resourceType") == "OperationOutcome" &&
                 sub.method != "GET") {
        resp->set("outcome", std::move(*got.body));  // e.g. the answer to a DELETE
      } else if (got.body) {
        re.set("resource", std::move(*got.body));
      } else if (!got.rawBody.empty()) {
        re.set("resource", json::Value::makeRaw(std::move(got.rawBody)));
      }
      list.push(std::move(re));
    }
  }
  if (!list.items().empty()) out.set("entry", std::move(list));
  Outcome o;
  o.body = std::move(out);
  return o;
}

}  // namespace acp::http
