// Authentication and authorisation around the FHIR interactions (fhir_service.h: guarded,
// refuseRoute, filterReads, unauthenticated). The rules for people are in docs/security.md.
//
// Route rules (before the handler runs; 403 `forbidden` when refused):
//   - FHIR interactions need a scope for the type and interaction (auth/scopes.h): read and
//     vread and history → read; search → search; create, update, delete → themselves.
//   - $acp-summary, and the clinician view (/view/...), need Patient and CarePlan read.
//   - POST /$ingest/<partner> needs the source-system role and create and update on every type
//     (the push's organisation is checked against the client's in ingest_endpoint.cc).
//   - /$ingest/failures and /$candidate-links need the service-operator role.
//   - Whole-system history needs read on every type (system/*.read).
//   - A Bundle at the base is checked entry by entry, each entry as its own request.
// Read rules (on what the handler is about to return): access/access_policy.h. Existence is
// not told: what the client may not read is answered as not there (concealedNotFound), and
// pages and their links hold only what it may see (visible_pages.cc).
#include <algorithm>

#include "gateway/access/plan_sharing.h"
#include "gateway/http/fhir_service.h"

namespace acp::http {

namespace {

const char* interactionName(auth::Interaction i) {
  switch (i) {
    case auth::Interaction::kCreate: return "create";
    case auth::Interaction::kRead: return "read";
    case auth::Interaction::kUpdate: return "update";
    case auth::Interaction::kDelete: return "delete";
    case auth::Interaction::kSearch: return "search";
  }
  return "";
}

bool isRead(const std::string& method) {
  return method == "GET" || method == "HEAD";
}

}  // namespace

FhirService::Outcome FhirService::unauthenticated(const auth::BearerCheck& check) {
  bool expired = check.failure == auth::BearerFailure::kExpired;
  Outcome o = fail(401, expired ? "expired" : "login",
                   check.reason.empty() ? "a bearer access token is required" : check.reason,
                   check.failure == auth::BearerFailure::kMissing
                       ? "auth.token-required"
                       : expired ? "auth.token-expired" : "auth.invalid-token");
  o.headers.emplace_back("WWW-Authenticate", auth::wwwAuthenticate(check));
  return o;
}

std::optional<FhirResponse> FhirService::smartRoute(const FhirRequest& rq) const {
  if (!smart_) return std::nullopt;
  auto json = [](int status, const json::Value& body) {
    FhirResponse r;
    r.status = status;
    r.contentType = "application/json";
    r.body = json::write(body);
    return r;
  };
  if (rq.path == "/.well-known/smart-configuration") {
    if (rq.method != "GET" && rq.method != "HEAD") {
      FhirResponse r = json(405, json::Value::makeObject());
      r.headers.emplace_back("Allow", "GET");
      return r;
    }
    return json(200, smart_->configuration(options_.servedTypes));
  }
  if (rq.path == "/token") {
    if (rq.method != "POST") {
      FhirResponse r = json(405, json::Value::makeObject());
      r.headers.emplace_back("Allow", "POST");
      return r;
    }
    auth::TokenResult t =
        smart_->token({rq.body, rq.header("Content-Type"), rq.header("Authorization"),
                       rq.context.certificateOrganisation, rq.context.certificateSubject});
    if (audit_) {  // every token request, granted or refused, is audited ("login")
      // The client is named only when the assertion proved it; a refused request's claim is
      // the requester's word, kept in the outcome text.
      audit::AuditRecord a = auditRecord(
          rq, t.status,
          t.issued ? "" : t.body.getString("error") + " (claimed client: " + t.clientId + ")");
      if (t.issued) {
        a.clientId = t.clientId;
        a.tokenId = t.tokenId;
      }
      if (!audit_->record(a).isOk()) {
        json::Value e = json::Value::makeObject();
        e.set("error", json::Value::makeString("temporarily_unavailable"));
        return json(503, e);
      }
    }
    FhirResponse r = json(t.status, t.body);
    for (auto& h : t.headers) r.headers.push_back(h);
    return r;
  }
  return std::nullopt;
}

std::optional<FhirService::Outcome> FhirService::authenticate(const FhirRequest& rq) const {
  if (!smart_) return std::nullopt;
  rq.context.principal = auth::Principal{};  // nobody, until the token says who
  if (rq.path == "/metadata") return std::nullopt;
  auth::BearerCheck check = smart_->authenticate(rq.header("Authorization"));
  if (!check.ok) return unauthenticated(check);
  const std::string& certified = rq.context.certificateOrganisation;
  if (certified.empty() && !rq.context.certificateSubject.empty()) {
    check.ok = false;
    check.failure = auth::BearerFailure::kInvalid;
    check.reason = "the client certificate names no organisation (its OU is the ODS code)";
    return unauthenticated(check);
  }
  if (!certified.empty() && certified != check.principal.organisation) {
    check.ok = false;
    check.failure = auth::BearerFailure::kInvalid;
    check.reason = "the token was issued to another organisation than the client certificate's";
    return unauthenticated(check);
  }
  rq.context.principal = std::move(check.principal);
  rq.context.principal.certificateOrganisation = certified;
  // Why (docs/security.md, break-glass): the purpose of use and, for an emergency, the reason.
  if (const std::string& purpose = rq.header("X-Purpose-Of-Use"); !purpose.empty())
    rq.context.purposeOfUse = purpose;
  rq.context.breakGlassReason = rq.header("X-Break-Glass-Reason");
  return std::nullopt;
}

std::optional<FhirService::Outcome> FhirService::refuseRoute(const FhirRequest& rq) const {
  const auth::Principal& who = rq.context.principal;
  if (who.superuser()) return std::nullopt;
  const std::vector<std::string> seg = pathSegments(rq.path);
  const std::string& m = rq.method;
  auto forbid = [](const std::string& message, const std::string& code) {
    return std::optional<Outcome>(fail(403, "forbidden", message, code));
  };
  auto need = [&](const std::string& type, auth::Interaction i) -> std::optional<Outcome> {
    if (who.scopes.allows(type, i)) return std::nullopt;
    return forbid("the access token's scopes do not allow " + std::string(interactionName(i)) +
                      " of " + (type == "*" ? std::string("every type") : type),
                  "auth.scope");
  };
  auto needRole = [&](auth::Role role) -> std::optional<Outcome> {
    if (who.role == role) return std::nullopt;
    return forbid(std::string("this needs the ") + auth::roleName(role) + " role", "auth.role");
  };
  // The purpose of use: care (TREAT), or an emergency (ETREAT, break-glass) with a stated
  // reason, by urgent care only.
  const std::string& purpose = rq.context.purposeOfUse;
  const std::string& reason = rq.context.breakGlassReason;
  if (purpose != "TREAT" && purpose != "ETREAT")
    return std::optional<Outcome>(fail(400, "value", "X-Purpose-Of-Use is TREAT or ETREAT",
                                       "auth.purpose-of-use"));
  if (purpose == "ETREAT") {
    if (reason.size() < 10 || reason.size() > 500)
      return std::optional<Outcome>(fail(
          400, "required", "break-glass (X-Purpose-Of-Use: ETREAT) needs X-Break-Glass-Reason: "
                           "the reason, 10 to 500 characters",
          "auth.break-glass-reason"));
    if (who.role != auth::Role::kUrgentCare)
      return forbid("break-glass access is for urgent care only", "auth.break-glass-role");
  } else if (!reason.empty()) {
    return std::optional<Outcome>(fail(400, "value",
                                       "X-Break-Glass-Reason needs X-Purpose-Of-Use: ETREAT",
                                       "auth.purpose-of-use"));
  }
  if (seg.empty()) return std::nullopt;  // a Bundle: its entries are checked one by one
  if (seg[0] == "metadata") return std::nullopt;
  if (seg[0] == "$ingest") {
    if (seg.size() >= 2 && seg[1] == "failures") return needRole(auth::Role::kServiceOperator);
    if (auto r = needRole(auth::Role::kSourceSystem)) return r;
    if (auto r = need("*", auth::Interaction::kCreate)) return r;
    return need("*", auth::Interaction::kUpdate);
  }
  if (seg[0] == "$candidate-links") return needRole(auth::Role::kServiceOperator);
  if (seg[0] == "view") {  // the clinician view: what $acp-summary needs
    if (auto r = need("Patient", auth::Interaction::kRead)) return r;
    return need("CarePlan", auth::Interaction::kRead);
  }
  if (seg[0] == "_history") return need("*", auth::Interaction::kRead);
  const std::string& type = seg[0];
  if (type == "AuditEvent") {
    if (auto r = needRole(auth::Role::kPrivacyOfficer)) return r;
    return need("AuditEvent", seg.size() == 2 && seg[1] != "_search" && seg[1] != "$verify-chain"
                                  ? auth::Interaction::kRead
                                  : auth::Interaction::kSearch);
  }
  if (type == "Patient" && ((seg.size() == 2 && seg[1] == "$acp-summary") ||
                            (seg.size() == 3 && seg[2] == "$acp-summary"))) {
    if (auto r = need("Patient", auth::Interaction::kRead)) return r;
    return need("CarePlan", auth::Interaction::kRead);
  }
  auth::Interaction i = auth::Interaction::kRead;
  if (seg.size() == 1) {
    if (isRead(m)) i = auth::Interaction::kSearch;
    else if (m == "POST") i = auth::Interaction::kCreate;
    else if (m == "PUT") i = auth::Interaction::kUpdate;
    else if (m == "DELETE") i = auth::Interaction::kDelete;
    else return std::nullopt;  // 405 from dispatch
  } else if (seg.size() == 2 && seg[1] == "_search") {
    i = auth::Interaction::kSearch;
  } else if (seg.size() == 2 && seg[1] != "_history") {
    if (m == "PUT") i = auth::Interaction::kUpdate;
    else if (m == "DELETE") i = auth::Interaction::kDelete;
    else if (!isRead(m)) return std::nullopt;
  } else if (!isRead(m)) {
    return std::nullopt;
  }
  return need(type, i);
}

namespace {

// A resource of a Bundle entry or a body: parsed (a kRaw stored resource is parsed).
bool materialized(const json::Value& v, json::Value& out) {
  if (v.kind() != json::Kind::kRaw) {
    out = v;
    return true;
  }
  json::ParseError err;
  json::ParseLimits limits;
  limits.maxDepth = 512;
  limits.maxNumberLength = 1024;
  return json::parse(v.text(), out, err, limits);
}

}  // namespace

std::optional<json::Value> FhirService::visibleForm(const FhirRequest& rq,
                                                    json::Value stored) const {
  access::AccessPolicy::Session* session = rq.context.access;
  if (!session) return stored;
  switch (session->mayRead(stored)) {
    case access::AccessPolicy::Verdict::kAllow: return stored;
    case access::AccessPolicy::Verdict::kDeny: return std::nullopt;
    case access::AccessPolicy::Verdict::kWithhold: return access::withheldView(stored);
  }
  return std::nullopt;
}

bool FhirService::restricted(const FhirRequest& rq) {
  return rq.context.access && !rq.context.principal.superuser();
}

bool FhirService::mayKnow(const FhirRequest& rq, const json::Value& content) const {
  if (!restricted(rq)) return true;
  return rq.context.access->mayRead(content) != access::AccessPolicy::Verdict::kDeny;
}

std::optional<FhirService::Outcome> FhirService::refuseHiddenMatch(
    const FhirRequest& rq, const store::StoredResource& stored) const {
  if (!restricted(rq)) return std::nullopt;
  std::string why = "unreadable";
  json::Value content;
  json::ParseError err;
  if (json::parse(stored.json, content, err) &&
      rq.context.access->mayRead(content, &why) != access::AccessPolicy::Verdict::kDeny)
    return std::nullopt;
  return fail(403, "forbidden", "not allowed to see this: " + why, "auth.no-relationship");
}

std::optional<json::Value> FhirService::contentBefore(const std::string& type,
                                                      const std::string& id,
                                                      int64_t version) const {
  if (version <= 0) {
    // The newest content: the current version, or the one before the delete that ended it.
    auto current = store_->read(type, id);
    if (current.isOk()) return parseStored(current->json);
    store::HistoryQuery hq;
    hq.type = type;
    hq.id = id;
    hq.count = 3;  // a delete of a deleted resource writes nothing: one marker at most
    auto versions = store_->history(hq);
    if (!versions.isOk()) return std::nullopt;
    for (const store::StoredResource& v : versions->entries)
      if (!v.deleted) return parseStored(v.json);
    return std::nullopt;
  }
  for (int64_t v = version - 1; v >= 1 && v >= version - 3; --v) {
    auto stored = store_->vread(type, id, v);
    if (stored.isOk()) return parseStored(stored->json);
    if (stored.status().code() != Status::Code::kGone) return std::nullopt;
  }
  return std::nullopt;
}

FhirService::Outcome FhirService::concealedNotFound(const std::string& what,
                                                    const std::string& code) {
  // As fromStatus() renders the store's "store.not-found: <what>".
  Outcome o = fail(404, issueTypeOf(Status::Code::kNotFound), what, "store.not-found");
  o.concealed = code;
  return o;
}

bool FhirService::hiddenPatientData(const FhirRequest& rq, store::Transaction& tx,
                                    const std::string& type, const std::string& id) const {
  if (!restricted(rq) || !access_) return false;
  // A delete its scopes do not allow is refused for that, which tells nothing.
  if (!rq.context.principal.scopes.allows(type, auth::Interaction::kDelete)) return false;
  auto current = tx.read(type, id);
  if (!current.isOk()) return false;
  json::Value content;
  json::ParseError err;
  if (!json::parse(current->json, content, err)) return false;
  for (const std::string& patient : access_->compartment().patientsOf(content))
    if (rq.context.access->standing(patient) == access::Relationship::kNone) return true;
  return false;
}

void FhirService::afterCommit(const FhirRequest& rq) {
  if (rq.context.access) rq.context.access->refresh();
}

void FhirService::filterReads(const FhirRequest& rq, Outcome& o) const {
  access::AccessPolicy::Session* session = rq.context.access;
  // The superuser passes everything, but what it saw is still noted for the audit.
  if (!session || o.status >= 300 || o.accessChecked) return;
  auto denied = [&](const std::string& why) {
    o = fail(403, "forbidden", "not allowed to see this: " + why, "auth.no-relationship");
  };
  if (!o.rawBody.empty()) {
    json::Value resource;
    if (!materialized(json::Value::makeRaw(o.rawBody), resource)) return denied("unreadable");
    std::string why;
    switch (session->mayRead(resource, &why)) {
      case access::AccessPolicy::Verdict::kAllow: return;
      case access::AccessPolicy::Verdict::kDeny: return denied(why);
      case access::AccessPolicy::Verdict::kWithhold:
        o.rawBody.clear();
        o.body = access::withheldView(resource);
        return;
    }
  }
  if (!o.body || !o.body->isObject()) return;
  const std::string rt = o.body->getString("resourceType");
  if (rt == "Parameters" || rt == "OperationOutcome" || rt == "CapabilityStatement") return;
  if (rt != "Bundle") {
    std::string why;
    switch (session->mayRead(*o.body, &why)) {
      case access::AccessPolicy::Verdict::kAllow: return;
      case access::AccessPolicy::Verdict::kDeny: return denied(why);
      case access::AccessPolicy::Verdict::kWithhold: o.body = access::withheldView(*o.body); return;
    }
  }
  const std::string bundleType = o.body->getString("type");
  json::Value* entries = o.body->find("entry");
  if (!entries || !entries->isArray()) return;
  if (bundleType == "transaction-response" || bundleType == "batch-response") {
    // Entries answer in order: a resource the client may not see is left out of its entry
    // (a conditional create that matched another organisation's resource returns it).
    for (json::Value& e : entries->items()) {
      json::Value* r = e.find("resource");
      json::Value resource;
      if (!r || !materialized(*r, resource) ||
          resource.getString("resourceType") == "OperationOutcome")
        continue;
      switch (session->mayRead(resource)) {
        case access::AccessPolicy::Verdict::kAllow: break;
        case access::AccessPolicy::Verdict::kDeny: e.erase("resource"); break;
        case access::AccessPolicy::Verdict::kWithhold: *r = access::withheldView(resource); break;
      }
    }
    return;
  }
  if (bundleType != "searchset" && bundleType != "history") return;
  std::vector<json::Value> kept;
  bool left = false;
  for (json::Value& e : entries->items()) {
    json::Value* r = e.find("resource");
    json::Value resource;
    if (!r) {
      kept.push_back(std::move(e));  // a history delete marker: no content
      continue;
    }
    if (!materialized(*r, resource)) {
      left = true;
      continue;
    }
    if (resource.getString("resourceType") == "OperationOutcome") {
      kept.push_back(std::move(e));
      continue;
    }
    switch (session->mayRead(resource)) {
      case access::AccessPolicy::Verdict::kAllow: kept.push_back(std::move(e)); break;
      case access::AccessPolicy::Verdict::kDeny: left = true; break;
      case access::AccessPolicy::Verdict::kWithhold:
        *r = access::withheldView(resource);
        kept.push_back(std::move(e));
        break;
    }
  }
  entries->items() = std::move(kept);
  // A total counted before filtering would tell how many were left out: a filtered client
  // gets none.
  if (left || !rq.context.principal.superuser()) {
    auto& members = o.body->members();
    members.erase(std::remove_if(members.begin(), members.end(),
                                 [](const json::Value::Member& m) { return m.first == "total"; }),
                  members.end());
  }
}

FhirService::Outcome FhirService::guarded(const FhirRequest& rq) const {
  if (auto refused = refuseRoute(rq)) return std::move(*refused);
  // The audit trail answers for itself (the privacy officer's, never filtered by patient).
  if (audit_ && rq.path.rfind("/AuditEvent", 0) == 0) {
    std::vector<std::string> seg = pathSegments(rq.path);
    if (!seg.empty() && seg[0] == "AuditEvent") return auditEvents(rq, seg);
  }
  Outcome o = dispatch(rq);
  filterReads(rq, o);
  return o;
}

}  // namespace acp::http
