#include "gateway/http/fhir_service.h"

#include <algorithm>
#include <exception>
#include <set>

#include "gateway/core/ids.h"
#include "gateway/http/content_rules.h"
#include "gateway/model/summary.h"
#include "gateway/model/xml_format.h"
#include "gateway/search/query.h"

namespace acp::http {

int httpStatusOf(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return 200;
    case Status::Code::kInvalid:
      return 400;
    case Status::Code::kUnprocessable:
      return 422;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kGone:
      return 410;
    case Status::Code::kConflict:
      return 409;
    case Status::Code::kPrecondition:
      return 412;
    case Status::Code::kNotSupported:
      return 400;
    case Status::Code::kTooLarge:
      return 413;
    case Status::Code::kInternal:
      return 500;
  }
  return 500;
}

const char* issueTypeOf(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "informational";
    case Status::Code::kInvalid:
      return "invalid";
    case Status::Code::kUnprocessable:
      return "processing";
    case Status::Code::kNotFound:
      return "not-found";
    case Status::Code::kGone:
      return "deleted";
    case Status::Code::kConflict:
      return "conflict";
    case Status::Code::kPrecondition:
      return "conflict";
    case Status::Code::kNotSupported:
      return "not-supported";
    case Status::Code::kTooLarge:
      return "too-long";
    case Status::Code::kInternal:
      return "exception";
  }
  return "exception";
}

FhirService::FhirService(std::shared_ptr<const model::Model> model,
                         std::shared_ptr<store::ResourceStore> store, ServiceOptions options)
    : model_(std::move(model)),
      store_(std::move(store)),
      options_(std::move(options)),
      validator_(model_),
      served_(options_.servedTypes.begin(), options_.servedTypes.end()) {}

FhirService::Outcome FhirService::fail(int status, const std::string& issueType,
                                       const std::string& message, const std::string& code,
                                       const std::string& location) {
  Outcome o;
  o.status = status;
  o.issues.error(issueType, location, message, code);
  return o;
}

FhirService::Outcome FhirService::fromStatus(const Status& status, const std::string& code) {
  // Store messages start with their stable code ("store.gone: Patient/1 was deleted").
  std::string stableCode = code;
  std::string message = status.message();
  size_t colon = message.find(": ");
  if ((message.rfind("store.", 0) == 0 || message.rfind("audit.", 0) == 0) &&
      colon != std::string::npos &&
      message.find(' ') > colon) {
    stableCode = message.substr(0, colon);
    message = message.substr(colon + 2);
  }
  if (stableCode == "store.busy") {
    // Overload, not failure: the client may retry shortly.
    Outcome o = fail(503, "transient", "the store is busy; retry shortly", stableCode);
    o.headers.emplace_back("Retry-After", "1");
    return o;
  }
  if (status.code() == Status::Code::kInternal) message = "the request could not be processed";
  return fail(httpStatusOf(status.code()), issueTypeOf(status.code()), message, stableCode);
}

FhirService::Outcome FhirService::fromIssues(const IssueList& issues) {
  // Parse and structural/format problems are 400; rule and terminology failures 422.
  Outcome o;
  o.issues = issues;
  o.status = 422;
  for (const Issue& i : issues.issues()) {
    if (i.severity != Severity::kError && i.severity != Severity::kFatal) continue;
    if (i.code.rfind("rule.", 0) == 0) continue;  // a content rule (content_rules.h): 422
    if (i.type == "structure" || i.type == "value" || i.type == "too-long" ||
        i.type == "invalid" || i.type == "not-supported") {
      o.status = 400;
      break;
    }
  }
  return o;
}

void FhirService::addVersionHeaders(Outcome& o, const store::StoredResource& r) {
  o.lastUpdated = r.lastUpdated;
  o.headers.emplace_back("ETag", "W/\"" + std::to_string(r.versionId) + "\"");
  std::string lm = httpDateFromInstant(r.lastUpdated);
  if (!lm.empty()) o.headers.emplace_back("Last-Modified", lm);
}

json::Value FhirService::parseStored(const std::string& text) const {
  // Stored JSON was written by this server: trusted, but parsed with the same reader.
  json::Value v;
  json::ParseError err;
  json::ParseLimits limits;
  limits.maxDepth = 512;
  limits.maxNumberLength = 1024;
  json::parse(text, v, err, limits);
  return v;
}

bool FhirService::readBody(const FhirRequest& rq, const std::string& expectedType,
                           json::Value& out, Outcome& failure, bool validate) const {
  Negotiated body = bodyFormat(rq);
  if (!body.ok) {
    failure = fail(body.status, "not-supported", body.message, "http.unsupported-media-type");
    return false;
  }
  if (rq.body.empty()) {
    failure = fail(400, "required", "the request body is empty", "http.empty-body");
    return false;
  }
  IssueList issues;
  if (body.format == Format::kJson) {
    json::ParseError err;
    json::ParseLimits limits;
    limits.maxDepth = options_.maxJsonDepth;
    if (!json::parse(rq.body, out, err, limits)) {
      failure = fail(400, err.issueType, err.message, err.code);
      return false;
    }
  } else if (!model::xmlToJson(*model_, rq.body, out, issues)) {
    failure = fromIssues(issues);
    if (failure.status == 422) failure.status = 400;
    return false;
  }
  if (!out.isObject()) {
    failure = fail(400, "structure", "the body is not a FHIR resource (a JSON object)",
                   "parse.not-a-resource");
    return false;
  }
  if (validate && (!validator_.validate(out, issues, expectedType) ||
                   !checkProfiles(out, "", issues))) {
    failure = fromIssues(issues);
    return false;
  }
  return true;
}

bool FhirService::checkProfiles(const json::Value& resource, const std::string& at,
                                IssueList& issues) const {
  // The content rules (content_rules.h) hold whether or not profiles are loaded; their issues
  // and the profiles' are reported together.
  const bool rulesOk = checkContentRules(resource, at, issues);
  if (!profiles_) return rulesOk;
  IssueList found;
  profiles_->validateClaimed(resource, found);
  bool ok = true;
  const std::string type = resource.getString("resourceType");
  for (Issue i : found.issues()) {
    // A profile this server does not hold is the client's business: not checked, not refused.
    if (i.code == "profile.unknown") continue;
    if (!at.empty() && i.location.compare(0, type.size(), type) == 0)
      i.location = at + i.location.substr(type.size());
    ok = ok && i.severity != Severity::kError && i.severity != Severity::kFatal;
    issues.add(std::move(i));
  }
  return ok && rulesOk;
}

bool FhirService::parseCriteria(const std::string& type, const std::string& query,
                                search::SearchQuery& out, IssueList& issues) const {
  std::string q = query;
  size_t mark = q.find('?');
  if (mark != std::string::npos) q = q.substr(mark + 1);
  auto params = parseQueryString(q);
  // Criteria select resources; result parameters (_count, _sort, _include, ...) would
  // silently widen a conditional write to every resource of the type.
  static const std::set<std::string> kFilteringSpecials = {"_id", "_lastUpdated", "_tag",
                                                          "_profile", "_security", "_source"};
  for (const auto& [name, value] : params) {
    std::string base = name.substr(0, name.find_first_of(":."));
    if (!base.empty() && base[0] == '_' && !kFilteringSpecials.count(base)) {
      issues.error("invalid", name, "\"" + name + "\" is not a criterion; conditional operations "
                   "take search criteria only", "http.invalid-criteria");
      return false;
    }
  }
  search::QueryOptions opts;
  opts.strict = true;  // an ignored criterion could match far more than intended
  opts.defaultCount = options_.defaultCount;
  opts.maxCount = options_.maxCount;
  if (!search::parseQuery(*model_, type, params, opts, out, issues)) return false;
  if (out.criteria.empty()) {
    issues.error("invalid", "", "conditional criteria are empty", "http.empty-criteria");
    return false;
  }
  return true;
}

std::string FhirService::criteriaKey(const std::string& type,
                                     const search::SearchQuery& criteria) {
  // Order-independent and unambiguous: sorted, percent-encoded name=value pairs.
  std::vector<std::string> parts;
  for (const auto& [k, v] : criteria.echo) parts.push_back(percentEncode(k) + "=" + percentEncode(v));
  std::sort(parts.begin(), parts.end());
  std::string key = type + "?";
  for (size_t i = 0; i < parts.size(); ++i) key += (i ? "&" : "") + parts[i];
  return key;
}

Status FhirService::readiness() const {
  return store_ ? store_->readiness() : Status::internal("store.unreachable: no store");
}

FhirResponse FhirService::handle(const FhirRequest& request) const {
  return serve(request, /*deferAudit=*/false);
}

FhirResponse FhirService::handleDeferred(const FhirRequest& request) const {
  return serve(request, /*deferAudit=*/true);
}

void FhirService::commitAudit(const DeferredAudit& deferred,
                              std::function<void(Status)> done) const {
  if (!audit_) return done(Status::ok());
  audit_->submit(deferred.record, std::move(done));
}

FhirResponse FhirService::unauditedIn(Format format, bool pretty) const {
  Outcome o = fail(503, "transient", "the request could not be audited; retry shortly",
                   "audit.unavailable");
  o.headers.emplace_back("Retry-After", "1");
  return renderAs(std::move(o), format, pretty);
}

FhirResponse FhirService::unauditedResponse(const FhirRequest& request) const {
  Negotiated want = responseFormat(request);
  return unauditedIn(want.ok ? want.format : Format::kJson, wantsPretty(request));
}

FhirResponse FhirService::unauditedAnswer(const DeferredAudit& deferred) const {
  return unauditedIn(deferred.xml ? Format::kXml : Format::kJson, deferred.pretty);
}

bool FhirService::auditBeforeAnswer(const FhirRequest& request, audit::AuditRecord record,
                                    bool defer, FhirResponse& response) const {
  if (!defer) return audit_->record(record).isOk();
  auto deferred = std::make_shared<DeferredAudit>();
  deferred->record = std::move(record);
  Negotiated want = responseFormat(request);
  deferred->xml = want.ok && want.format == Format::kXml;
  deferred->pretty = wantsPretty(request);
  response.audit = std::move(deferred);
  return true;
}

FhirResponse FhirService::serve(const FhirRequest& request, bool defer) const {
  try {
    if (smart_) request.context.principal = auth::Principal{};  // nobody, until proved
    if (auto smart = smartRoute(request)) return std::move(*smart);
    if (auto asset = viewAsset(request)) return std::move(*asset);
    // A launch link stands for the token (and it is the only way in without one).
    std::optional<Outcome> refused = redeemLaunch(request);
    if (!refused && !request.context.launched) refused = authenticate(request);
    if (refused) {
      // A denial is audited too (the client as far as it is known: nobody, when no token).
      int status = refused->status;
      std::string why = refused->issues.empty() ? "" : refused->issues.issues().front().code;
      FhirResponse response = render(request, std::move(*refused));
      if (!request.context.principal.authenticated() && !launchLinkOf(request.path).empty()) {
        // What anyone may send to a launch link's path — made-up links, HEADs, prefetches —
        // goes to the listener's rate-limited refusal audit, not an AuditEvent each. A genuine
        // link refused (reused, expired, its client changed) names its client: audited below.
        response.listenerRefusal = why.empty() ? "view.launch-refused" : why;
        return response;
      }
      if (audit_ && !auditBeforeAnswer(request, auditRecord(request, status, why), defer, response))
        return unauditedResponse(request);
      return response;
    }
    std::optional<access::AccessPolicy::Session> session;
    if (access_) {
      session.emplace(*access_, request.context.principal);
      if (request.context.purposeOfUse == "ETREAT")
        session->breakGlass(request.context.breakGlassReason);
      request.context.access = &*session;
    }
    Outcome outcome = guarded(request);
    // Every access leaves an AuditEvent, durable before the answer goes out (writes wrote
    // theirs in their own transaction). No audit, no answer. The record is taken while the
    // session still says which patients were seen.
    std::optional<audit::AuditRecord> record;
    if (audit_ && !request.context.audited) {
      std::string why = outcome.issues.empty() ? "" : outcome.issues.issues().front().code;
      // A refusal answered as "not found" (or as a delete of nothing) is a refusal all the same.
      record = outcome.concealed.empty()
                   ? auditRecord(request, outcome.status, why)
                   : auditRecord(request, 403,
                                 outcome.concealed + " (answered " +
                                     std::to_string(outcome.status) + ")");
    }
    FhirResponse response = render(request, std::move(outcome));
    request.context.access = nullptr;
    if (record && !auditBeforeAnswer(request, std::move(*record), defer, response))
      return unauditedResponse(request);
    return response;
  } catch (const std::exception&) {
    // Never leak internals: the log has the detail (no patient data), the client a 500.
  } catch (...) {
  }
  request.context.access = nullptr;  // the session it pointed at is gone
  Outcome o = fail(500, "exception", "the request could not be processed", "http.internal");
  FhirResponse r;
  r.status = 500;
  r.contentType = contentTypeOf(Format::kJson);
  r.body = json::write(o.issues.toOperationOutcome());
  return r;
}


FhirService::Outcome FhirService::dispatch(const FhirRequest& rq) const {
  std::vector<std::string> seg = pathSegments(rq.path);
  const std::string& m = rq.method;
  // The clinician view answers pages, whatever the Accept header asks for (a browser's).
  if (!seg.empty() && seg[0] == "view") {
    if (seg.size() == 2 && seg[1] == "launch") {
      if (m == "POST") return viewLaunch(rq);
      Outcome o = fail(405, "not-supported", "method not allowed here; allowed: POST",
                       "http.method-not-allowed");
      o.headers.emplace_back("Allow", "POST");
      return o;
    }
    if (m != "GET" && m != "HEAD") {
      Outcome o = fail(405, "not-supported", "method not allowed here; allowed: GET",
                       "http.method-not-allowed");
      o.headers.emplace_back("Allow", "GET");
      return o;
    }
    if (seg.size() == 3 && seg[1] == "launch" && rq.context.launched)
      return viewPatient(rq, rq.context.launchPatient);
    if (seg.size() == 2 && seg[1] == "patient") return viewPatient(rq, "");
    if (seg.size() == 3 && seg[1] == "patient" && isValidId(seg[2])) return viewPatient(rq, seg[2]);
    return fail(404, "not-found", "no such page", "http.unknown-route");
  }
  Negotiated want = responseFormat(rq);
  if (!want.ok) return fail(want.status, "not-supported", want.message, "http.not-acceptable");
  auto notAllowed = [](const std::string& allow) {
    Outcome o = fail(405, "not-supported", "method not allowed here; allowed: " + allow,
                     "http.method-not-allowed");
    o.headers.emplace_back("Allow", allow);
    return o;
  };
  if (seg.empty()) {
    if (m == "POST") return bundle(rq);
    return notAllowed("POST");
  }
  if (seg.size() == 1 && seg[0] == "metadata") {
    if (m != "GET" && m != "HEAD") return notAllowed("GET");
    Outcome o;
    o.body = capabilityStatement(rq.baseUrl);
    return o;
  }
  if (seg[0] == "$ingest" && ingest_) {
    if (seg.size() >= 2 && seg[1] == "failures") {
      if (seg.size() == 2) {
        if (m != "GET" && m != "HEAD") return notAllowed("GET");
        return ingestFailures(rq, "");
      }
      if (seg.size() == 3) {
        if (m != "GET" && m != "HEAD") return notAllowed("GET");
        return ingestFailures(rq, seg[2]);
      }
      if (seg.size() == 4 && seg[3] == "$replay") {
        if (m != "POST") return notAllowed("POST");
        return ingestReplay(rq, seg[2]);
      }
    }
    if (seg.size() != 2 || !ingest_->partner(seg[1]))
      return fail(404, "not-found", "no such ingest endpoint", "http.unknown-route");
    if (m != "POST") return notAllowed("POST");
    return ingestPush(rq, seg[1]);
  }
  if (seg[0] == "$candidate-links") {
    if (seg.size() == 1) {
      if (m != "GET" && m != "HEAD") return notAllowed("GET");
      return candidateLinks(rq);
    }
    if (seg.size() == 3 && (seg[2] == "$confirm" || seg[2] == "$reject")) {
      if (m != "POST") return notAllowed("POST");
      return candidateDecision(rq, seg[1], seg[2] == "$confirm");
    }
    return fail(404, "not-found", "no such endpoint", "http.unknown-route");
  }
  if (seg.size() == 1 && seg[0] == "_history") {
    if (m != "GET" && m != "HEAD") return notAllowed("GET");
    return history(rq, "", "");
  }
  const std::string& type = seg[0];
  if (!serves(type)) {
    if (model_->isResourceType(type))
      return fail(404, "not-supported", "resource type " + type + " is not served here",
                  "http.type-not-served");
    return fail(404, "not-found", "no such endpoint: /" + seg[0], "http.unknown-route");
  }
  if (type == "Patient" && seg.size() == 2 && seg[1] == "$acp-summary") {
    if (m != "GET" && m != "HEAD") return notAllowed("GET");
    return acpSummary(rq, "");
  }
  if (seg.size() >= 2 && seg[1] != "_search" && seg[1] != "_history" && !isValidId(seg[1])) {
    return fail(400, "value", "invalid id \"" + seg[1] + "\" (expected [A-Za-z0-9-.]{1,64})",
                "http.invalid-id", type + ".id");
  }
  switch (seg.size()) {
    case 1:
      if (m == "GET" || m == "HEAD") return search(rq, type, rq.query);
      if (m == "POST") return create(rq, type);
      if (m == "PUT") return conditionalUpdate(rq, type);
      if (m == "DELETE") return conditionalRemove(rq, type);
      return notAllowed("GET, POST, PUT, DELETE");
    case 2:
      if (seg[1] == "_search") {
        if (m != "POST") return notAllowed("POST");
        std::string contentType = rq.header("Content-Type");
        std::transform(contentType.begin(), contentType.end(), contentType.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if ((!rq.body.empty() || !contentType.empty()) &&
            contentType.find("application/x-www-form-urlencoded") == std::string::npos) {
          return fail(415, "not-supported",
                      "POST _search takes application/x-www-form-urlencoded parameters",
                      "http.unsupported-media-type");
        }
        auto params = rq.query;
        for (auto& p : parseQueryString(rq.body)) params.push_back(std::move(p));
        return search(rq, type, std::move(params));
      }
      if (seg[1] == "_history") {
        if (m != "GET" && m != "HEAD") return notAllowed("GET");
        return history(rq, type, "");
      }
      if (m == "GET" || m == "HEAD") return read(rq, type, seg[1]);
      if (m == "PUT") return update(rq, type, seg[1]);
      if (m == "DELETE") return remove(rq, type, seg[1]);
      return notAllowed("GET, PUT, DELETE");
    case 3:
      if (type == "Patient" && seg[2] == "$acp-summary") {
        if (m != "GET" && m != "HEAD") return notAllowed("GET");
        return acpSummary(rq, seg[1]);
      }
      if (seg[2] == "_history") {
        if (m != "GET" && m != "HEAD") return notAllowed("GET");
        return history(rq, type, seg[1]);
      }
      break;
    case 4:
      if (seg[2] == "_history") {
        if (m != "GET" && m != "HEAD") return notAllowed("GET");
        return vread(rq, type, seg[1], seg[3]);
      }
      break;
    default:
      break;
  }
  return fail(404, "not-found", "no such endpoint", "http.unknown-route");
}

namespace {

// Replaces kRaw nodes by their parsed trees (for XML output and pretty JSON).
void materialize(json::Value& v) {
  if (v.kind() == json::Kind::kRaw) {
    json::Value parsed;
    json::ParseError err;
    json::ParseLimits limits;
    limits.maxDepth = 512;
    limits.maxNumberLength = 1024;
    if (json::parse(v.text(), parsed, err, limits)) v = std::move(parsed);
    return;
  }
  if (v.isArray())
    for (auto& i : v.items()) materialize(i);
  else if (v.isObject())
    for (auto& m : v.members()) materialize(m.second);
}

}  // namespace

FhirResponse FhirService::render(const FhirRequest& rq, Outcome o) const {
  // The clinician view answers pages; the launch link's maker is a system, answered in FHIR.
  if (isViewPath(rq.path) &&
      !(rq.method == "POST" && pathSegments(rq.path) == std::vector<std::string>{"view", "launch"}))
    return renderPage(rq, std::move(o));
  Negotiated want = responseFormat(rq);
  return renderAs(std::move(o), want.ok ? want.format : Format::kJson, wantsPretty(rq));
}

FhirResponse FhirService::renderAs(Outcome o, Format format, bool pretty) const {
  FhirResponse r;
  r.status = o.status;
  r.headers = std::move(o.headers);
  if (o.status >= 400) {
    o.body = o.issues.toOperationOutcome();
    o.rawBody.clear();
  }
  if (o.status == 304 || o.status == 204 || (!o.body && o.rawBody.empty())) return r;
  r.contentType = contentTypeOf(format);
  if (!o.rawBody.empty() && format == Format::kJson && !pretty) {
    r.body = std::move(o.rawBody);
    return r;
  }
  json::Value body = o.body ? std::move(*o.body) : parseStored(o.rawBody);
  if (format == Format::kXml || pretty) materialize(body);
  if (format == Format::kXml)
    r.body = model::jsonToXml(*model_, body, pretty);
  else
    r.body = json::write(body, pretty);
  return r;
}

}  // namespace acp::http
