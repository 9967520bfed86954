// The audit of every request (fhir_service.h: auditRecord, auditWithin) and the audit trail's
// own routes for the privacy officer: GET /AuditEvent (search), GET /AuditEvent/{id},
// GET /AuditEvent/$verify-chain. The trail is append-only: AuditEvent cannot be written
// through the API (405).
#include "gateway/http/fhir_service.h"
#include "gateway/core/ids.h"

namespace acp::http {

namespace {

bool isGet(const std::string& m) { return m == "GET" || m == "HEAD"; }

// The restful interaction (and operation) a request is, from its method and path.
void classify(const FhirRequest& rq, audit::AuditRecord& r) {
  const std::vector<std::string> seg = pathSegments(rq.path);
  const std::string& m = rq.method;
  auto operation = [&](const std::string& name) {
    r.interaction = "operation";
    r.operation = name;
  };
  if (seg.empty()) {
    r.interaction = rq.context.bundleType == "batch" ? "batch" : "transaction";
    return;
  }
  if (seg[0] == "metadata") return void(r.interaction = "capabilities");
  if (seg[0] == "token") return void(r.interaction = "login");
  if (seg[0] == ".well-known") return void(r.interaction = "capabilities");
  if (seg[0] == "$ingest") {
    if (seg.size() >= 2 && seg[1] == "failures")
      return operation(seg.size() == 4 ? "$replay" : "$ingest-failures");
    return operation("$ingest");
  }
  if (seg[0] == "$candidate-links")
    return operation(seg.size() == 3 ? seg[2] : "$candidate-links");
  if (seg[0] == "_history") return void(r.interaction = "history-system");
  if (seg[0] == "view") {  // the clinician view of a plan: the $acp-summary it shows
    if (seg.size() == 2 && seg[1] == "launch") return operation("$view-launch");
    if (seg.size() == 3 && seg[1] == "launch") {  // a launch link opened: the page it shows
      if (!rq.context.launchPatient.empty()) r.entities.push_back("Patient/" + rq.context.launchPatient);
      return operation("$acp-summary");
    }
    if (seg.size() < 2 || seg[1] != "patient" || seg.size() > 3) return void(r.interaction = "read");
    if (seg.size() == 3 && isValidId(seg[2])) r.entities.push_back("Patient/" + seg[2]);
    return operation("$acp-summary");
  }
  const std::string& type = seg[0];
  if (seg.size() == 1) {
    r.interaction = isGet(m) ? "search-type" : m == "POST" ? "create" : m == "PUT" ? "update"
                                                                          : "delete";
    return;
  }
  if (seg[1].rfind("$", 0) == 0) return operation(seg[1]);
  if (seg[1] == "_search") return void(r.interaction = "search-type");
  if (seg[1] == "_history") return void(r.interaction = "history-type");
  if (seg.size() == 2) {
    r.interaction = isGet(m) ? "read" : m == "PUT" ? "update" : "delete";
    r.entities.push_back(type + "/" + seg[1]);
    return;
  }
  r.entities.push_back(type + "/" + seg[1] + (seg.size() == 4 ? "/_history/" + seg[3] : ""));
  if (seg[2].rfind("$", 0) == 0) return operation(seg[2]);
  r.interaction = seg.size() == 4 ? "vread" : "history-instance";
}

}  // namespace

audit::AuditRecord FhirService::auditRecord(const FhirRequest& rq, int status,
                                            const std::string& why) const {
  audit::AuditRecord r;
  classify(rq, r);
  const auth::Principal& p = rq.context.principal;
  if (p.authenticated()) {
    r.clientId = p.clientId;
    r.organisation = p.organisation;
    r.role = auth::roleName(p.role);
    r.tokenId = p.tokenId;
  }
  r.sourceAddress = rq.context.clientAddress;
  r.requestId = rq.header("X-Request-Id");
  r.purpose = rq.context.purposeOfUse;
  r.breakGlassReason = rq.context.breakGlassReason;
  r.outcome = status < 400                   ? audit::kOutcomeSuccess
              : status == 401 || status == 403 ? audit::kOutcomeMinorFailure
              : status >= 500                 ? audit::kOutcomeMajorFailure
                                              : audit::kOutcomeSeriousFailure;
  if (status >= 400) r.outcomeText = std::to_string(status) + (why.empty() ? "" : " " + why);
  if (rq.context.access) {
    for (const std::string& patient : rq.context.access->patientsSeen()) r.patients.push_back(patient);
    if (rq.context.access->usedBreakGlass()) {  // an access under a break-glass grant
      r.purpose = "ETREAT";
      r.breakGlassReason = rq.context.access->breakGlassReason();
    }
  }
  // What was asked. From a client nobody has vouched for, only the method and (the start of)
  // the path: an unauthenticated flood must not fill the trail with what it sends.
  r.userId = rq.context.userId;
  r.userName = rq.context.userName;
  // A launch link is a credential until it is used: never kept in the trail.
  const bool launchLink = !launchLinkOf(rq.path).empty();
  std::string query = rq.method + " " + (launchLink ? std::string("/view/launch/{link}") : rq.path);
  if (p.authenticated() && !launchLink) {  // a link's query is whoever holds it: not kept
    char sep = '?';
    for (const auto& [k, v] : rq.query) {
      query += sep + percentEncode(k) + "=" + percentEncode(v);
      sep = '&';
    }
  } else if (query.size() > 200) {
    query.resize(200);
  }
  r.query = query;
  return r;
}

Status FhirService::auditWithin(const FhirRequest& rq, store::Transaction& tx,
                                const std::vector<store::StoredResource>& written) const {
  if (!audit_) return Status::ok();
  audit::AuditRecord r = auditRecord(rq, 200, "");
  for (const store::StoredResource& w : written) {
    std::string json = w.json;
    if (w.deleted || json.empty()) {  // a delete: the patients of the version it ended
      auto before = tx.versions(w.type, w.id, 2);
      if (before.isOk())
        for (const store::StoredResource& v : before.value())
          if (!v.deleted && !v.json.empty()) {
            json = v.json;
            break;
          }
    }
    r.entities.push_back(w.type + "/" + w.id + "/_history/" + std::to_string(w.versionId));
    json::Value parsed;
    json::ParseError err;
    if (access_ && !json.empty() && json::parse(json, parsed, err))
      for (const std::string& patient : access_->compartment().patientsOf(parsed))
        if (std::find(r.patients.begin(), r.patients.end(), patient) == r.patients.end())
          r.patients.push_back(patient);
  }
  Status s = audit_->recordWithin(tx, r);
  if (s.isOk()) rq.context.audited = true;
  return s;
}

FhirService::Outcome FhirService::auditEvents(const FhirRequest& rq,
                                              const std::vector<std::string>& seg) const {
  if (!isGet(rq.method)) {
    Outcome o = fail(405, "not-supported", "the audit trail is append-only: AuditEvent is "
                                           "written by the gateway alone",
                     "audit.append-only");
    o.headers.emplace_back("Allow", "GET");
    return o;
  }
  auto answer = [&](Result<json::Value> r) {
    if (!r.isOk()) return fromStatus(r.status(), "audit");
    Outcome o;
    o.body = std::move(r.value());
    return o;
  };
  if (seg.size() == 1) return answer(audit_->search(rq.query, rq.baseUrl));
  if (seg.size() == 2 && seg[1] == "_search") return answer(audit_->search(rq.query, rq.baseUrl));
  if (seg.size() == 2 && seg[1] == "$verify-chain") return answer(audit_->verifyChain(rq.query));
  if (seg.size() == 2) return answer(audit_->read(seg[1]));
  return fail(404, "not-found", "no such endpoint", "http.unknown-route");
}

}  // namespace acp::http
