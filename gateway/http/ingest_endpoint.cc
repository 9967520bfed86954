// POST /$ingest/<partner>: a partner's push in its own format (the body is not FHIR).
// 200 with a Parameters resource listing every record's outcome (IngestService), even when
// some records were rejected; 400 with an OperationOutcome when the document as a whole
// cannot be read (nothing stored); 415 when the Content-Type is not the partner's.
// The audit: a push's AuditEvents are written by IngestService in the transactions of its
// records, naming their patients and what they wrote (ingest/push_audit.h); a push refused
// as a whole (400, 403, 415) is audited by handle() like any failed request. A push whose
// events could not all be made durable is answered 503 (audit.unavailable), even though
// what was committed stays (with its events): resending it is harmless (idempotent).
#include <algorithm>
#include <cctype>

#include "gateway/http/fhir_service.h"
#include "gateway/ingest/push_audit.h"

namespace acp::http {

std::vector<ingest::RecordOutcome> FhirService::commitAudited(const FhirRequest& rq,
                                                              const ingest::MappedPush& push,
                                                              bool keepFailures,
                                                              bool& audited) const {
  if (!audit_) {
    audited = true;
    return ingest_->commit(push, keepFailures);
  }
  ingest::PushAudit pa;
  pa.trail = audit_.get();
  pa.requester = auditRecord(rq, 200, "");
  std::vector<ingest::RecordOutcome> outcomes = ingest_->commit(push, keepFailures, &pa);
  audited = pa.complete;
  if (audited) rq.context.audited = true;  // handle() records nothing more
  return outcomes;
}

FhirService::Outcome FhirService::unaudited() {
  Outcome o = fail(503, "transient", "the push could not be audited; retry shortly (what was "
                                     "stored is kept: a resend is harmless)",
                   "audit.unavailable");
  o.headers.emplace_back("Retry-After", "1");
  return o;
}

FhirService::Outcome FhirService::ingestPush(const FhirRequest& rq,
                                             const std::string& name) const {
  const ingest::PartnerMapper* partner = ingest_->partner(name);
  std::string type = rq.header("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!partner->acceptsMediaType(type))
    return fail(415, "not-supported",
                "this endpoint takes the " + name + " export format, not \"" + type + "\"",
                "ingest.unsupported-media-type");
  if (rq.body.empty()) return fail(400, "required", "the push is empty", "http.empty-body");
  ingest::MappedPush push;
  IssueList issues;
  if (!partner->map(rq.body, push, issues)) {
    // Best effort: the sender is answered 400 and still holds the document.
    (void)ingest_->keepDocumentFailure(name, type, rq.body, issues);
    Outcome o;
    o.status = 400;
    o.issues = std::move(issues);
    return o;
  }
  // A source writes only as its own organisation (the client's, from its registration).
  const auth::Principal& who = rq.context.principal;
  if (!who.superuser() && push.sourceOds != who.organisation)
    return fail(403, "forbidden",
                "this push is from organisation " + push.sourceOds + "; the client sends for " +
                    (who.organisation.empty() ? std::string("no organisation") : who.organisation),
                "auth.wrong-organisation");
  bool audited = false;
  std::vector<ingest::RecordOutcome> outcomes = commitAudited(rq, push, true, audited);
  if (!audited) return unaudited();
  Outcome o;
  json::Value params = ingest::IngestService::outcomeParameters(push, outcomes);
  if (!issues.empty()) {
    // Document-level warnings (unused top-level fields) come first, as their own parameter.
    json::Value p = json::Value::makeObject();
    p.set("name", json::Value::makeString("documentIssues"));
    p.set("resource", issues.toOperationOutcome());
    params.find("parameter")->items().insert(params.find("parameter")->items().begin(), std::move(p));
  }
  o.body = std::move(params);
  return o;
}

namespace {

json::Value part(const std::string& name, const char* key, json::Value v) {
  json::Value p = json::Value::makeObject();
  p.set("name", json::Value::makeString(name));
  p.set(key, std::move(v));
  return p;
}

json::Value failureParameter(const store::KeptFailure& f, bool withContent) {
  json::Value parts = json::Value::makeArray();
  parts.push(part("id", "valueInteger", json::Value::makeNumber(std::to_string(f.id))));
  parts.push(part("partner", "valueCode", json::Value::makeString(f.partner)));
  if (!f.sourceOds.empty()) {
    json::Value id = json::Value::makeObject();
    id.set("system", json::Value::makeString("https://fhir.nhs.uk/Id/ods-organization-code"));
    id.set("value", json::Value::makeString(f.sourceOds));
    parts.push(part("source", "valueIdentifier", std::move(id)));
  }
  if (!f.pushId.empty()) parts.push(part("pushId", "valueString", json::Value::makeString(f.pushId)));
  if (!f.recordId.empty())
    parts.push(part("recordId", "valueString", json::Value::makeString(f.recordId)));
  parts.push(part("receivedAt", "valueInstant", json::Value::makeString(f.receivedAt)));
  parts.push(part("status", "valueCode", json::Value::makeString(f.status)));
  parts.push(part("replays", "valueInteger", json::Value::makeNumber(std::to_string(f.replays))));
  json::Value issues;
  json::ParseError err;
  if (json::parse(f.issuesJson, issues, err)) {
    json::Value p = json::Value::makeObject();
    p.set("name", json::Value::makeString("issues"));
    p.set("resource", std::move(issues));
    parts.push(std::move(p));
  }
  if (withContent) {
    parts.push(part("contentType", "valueCode", json::Value::makeString(f.contentType)));
    parts.push(part("content", "valueString", json::Value::makeString(f.content)));
  }
  json::Value p = json::Value::makeObject();
  p.set("name", json::Value::makeString("failure"));
  p.set("part", std::move(parts));
  return p;
}

bool parseFailureId(const std::string& s, int64_t& id) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  id = std::stoll(s);
  return id > 0;
}

}  // namespace

FhirService::Outcome FhirService::ingestFailures(const FhirRequest& rq,
                                                 const std::string& idText) const {
  store::FailureLog* log = ingest_->failures();
  if (!log) return fail(404, "not-found", "failures are not kept here", "http.unknown-route");
  json::Value params = json::Value::makeArray();
  if (!idText.empty()) {
    int64_t id = 0;
    if (!parseFailureId(idText, id))
      return fail(400, "value", "a failure id is a positive number", "ingest.invalid-failure-id");
    auto f = log->get(id);
    if (!f.isOk()) return fromStatus(f.status(), "ingest.failures");
    params.push(failureParameter(f.value(), /*withContent=*/true));
  } else {
    std::string status;
    int count = 50;
    int64_t before = 0;
    for (const auto& [k, v] : rq.query) {
      if (k == "status") {
        if (v != "open" && v != "replayed")
          return fail(400, "value", "status is open or replayed", "ingest.invalid-status");
        status = v;
      } else if (k == "_count") {
        if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos)
          return fail(400, "value", "_count must be a number from 1 to 1000", "search.invalid-count");
        count = std::max(1, std::min(1000, std::stoi(v)));
      } else if (k == "before") {
        if (!parseFailureId(v, before))
          return fail(400, "value", "before is a failure id", "ingest.invalid-failure-id");
      }
    }
    auto list = log->list(status, count, before);
    if (!list.isOk()) return fromStatus(list.status(), "ingest.failures");
    for (const auto& f : list.value()) params.push(failureParameter(f, false));
  }
  json::Value p = json::Value::makeObject();
  p.set("resourceType", json::Value::makeString("Parameters"));
  if (!params.items().empty()) p.set("parameter", std::move(params));
  Outcome o;
  o.body = std::move(p);
  return o;
}

FhirService::Outcome FhirService::ingestReplay(const FhirRequest& rq,
                                               const std::string& idText) const {
  store::FailureLog* log = ingest_->failures();
  int64_t id = 0;
  if (!log) return fail(404, "not-found", "failures are not kept here", "http.unknown-route");
  if (!parseFailureId(idText, id))
    return fail(400, "value", "a failure id is a positive number", "ingest.invalid-failure-id");
  auto f = log->get(id);
  if (!f.isOk()) return fromStatus(f.status(), "ingest.failures");
  const ingest::PartnerMapper* partner = ingest_->partner(f->partner);
  if (!partner || f->content.empty())
    return fail(409, "conflict", "this failure cannot be replayed (no content or partner)",
                "ingest.not-replayable");
  ingest::MappedPush push;
  IssueList issues;
  if (!partner->map(f->content, push, issues)) {
    log->update(id, "open", json::write(issues.toOperationOutcome()));
    Outcome o;
    o.status = 422;
    o.issues = std::move(issues);
    return o;
  }
  bool audited = false;
  std::vector<ingest::RecordOutcome> outcomes =
      commitAudited(rq, push, /*keepFailures=*/false, audited);
  // A kept record is judged by its own outcome: its content may be the whole document (the
  // community export keeps the document for each rejected Patient), whose other records
  // have failures of their own. A kept document (no record id) by all of them.
  bool own = false;
  for (const auto& r : outcomes) own = own || (!f->recordId.empty() && r.recordId == f->recordId);
  bool allIn = true;
  IssueList latest;
  for (const auto& r : outcomes) {
    if (own && r.recordId != f->recordId) continue;
    if (r.result == ingest::RecordOutcome::Result::kRejected) allIn = false;
    for (const Issue& i : r.issues.issues()) latest.add(i);
  }
  log->update(id, allIn ? "replayed" : "open", json::write(latest.toOperationOutcome()));
  if (!audited) return unaudited();
  Outcome o;
  o.body = ingest::IngestService::outcomeParameters(push, outcomes);
  return o;
}

}  // namespace acp::http
