// FhirService — the FHIR R4 REST interactions (R4 http.html) over a ResourceStore.
//
// handle() takes one transport-neutral request and always returns a response: every
// failure is an OperationOutcome with the right status (400, 404, 405, 406, 409, 410, 412,
// 413, 415, 422; 500 only when processing itself failed, never with internal detail).
// Interactions: read, vread, create (conditional with If-None-Exist), update (update-as-create,
// conditional update, If-Match), delete (logical; conditional), instance/type/system history,
// search (GET and POST _search) with _include/_revinclude, paging, _summary, _elements,
// transaction and batch Bundles at the base, and /metadata.
// Thread-safety: handle() may be called from many threads at once.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gateway/audit/audit_trail.h"
#include "gateway/auth/smart_auth.h"
#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/http/format.h"
#include "gateway/http/request.h"
#include "gateway/model/model.h"
#include "gateway/profile/profile_validator.h"
#include "gateway/model/validator.h"
#include "gateway/plan/acp_summary.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/store/resource_store.h"

namespace acp::http {

struct ServiceOptions {
  std::vector<std::string> servedTypes;  // resource types with REST interactions
  int defaultCount = 50;
  int maxCount = 1000;
  int maxBundleEntries = 1000;
  size_t maxJsonDepth = 64;
  // A Subscription's plain http:// endpoint may name a host other than this machine
  // (gateway.notify.allowPlainHttp; notify/subscription_rules.h endpointRefusal()).
  bool allowPlainHttpEndpoints = false;
  std::string softwareName = "ACP Gateway";
  std::string softwareVersion = ACP_VERSION;  // CMakeLists.txt: project(VERSION)
  // Where clinicians' browsers open launch links (gateway.view.baseUrl: the browser
  // listener's public URL); "" = the base URL of the request that asked for the link.
  std::string viewBaseUrl;
};

class FhirService {
 public:
  FhirService(std::shared_ptr<const model::Model> model,
              std::shared_ptr<store::ResourceStore> store, ServiceOptions options);

  // Serves one request; returns once its AuditEvent is durable (or the answer is the 503
  // that says it could not be recorded).
  FhirResponse handle(const FhirRequest& request) const;

  // As handle(), but a request audited outside a write transaction (reads, searches,
  // operations, denials) returns at once with its event in FhirResponse::audit, not yet
  // recorded: the caller passes it to commitAudit() and sends the response only when that
  // reports ok, else unauditedAnswer(*response.audit). A response without `audit` may go at
  // once.
  // The HTTP server uses this to keep its workers serving while the group commit runs.
  FhirResponse handleDeferred(const FhirRequest& request) const;

  // Queues a deferred event for the audit trail's next group commit; `done` is called once,
  // on the trail's committer thread, with its outcome (audit/audit_trail.h submit()). It
  // must be cheap and must not wait on the trail.
  void commitAudit(const DeferredAudit& deferred, std::function<void(Status)> done) const;
  // The answer when commitAudit() reported a failure: 503 audit.unavailable with
  // Retry-After, in the request's format.
  FhirResponse unauditedAnswer(const DeferredAudit& deferred) const;

  // The CapabilityStatement generated from what is registered.
  json::Value capabilityStatement(const std::string& baseUrl) const;

  bool serves(const std::string& type) const { return served_.count(type) > 0; }
  // Whether the service can answer requests now (GET /readyz, answered by the HTTP server):
  // the store's readiness (ResourceStore::readiness). ok, or why not.
  Status readiness() const;

  // Partner ingest (POST /$ingest/<partner>); without it those routes are 404.
  void setIngest(std::shared_ptr<const ingest::IngestService> ingest) {
    ingest_ = std::move(ingest);
  }
  // Profile validation of written resources (before use): a resource that claims a profile
  // this server holds (meta.profile: UK Core, ACP-CarePlan) must conform to it (else 422); a
  // profile it does not hold is not checked.
  void setProfiles(std::shared_ptr<const profile::ProfileValidator> profiles) {
    profiles_ = std::move(profiles);
  }
  // Authentication (gateway.auth.mode=smart; auth/smart_auth.h): GET
  // /.well-known/smart-configuration and POST /token are served from it, and every other route
  // but /metadata needs its bearer token (401 with WWW-Authenticate otherwise). A token used on
  // a mutual-TLS connection must belong to the organisation the client certificate names.
  // Unset: every request is the local superuser (gateway.auth.mode=none, loopback only).
  void setSmartAuth(std::shared_ptr<auth::SmartAuth> smart) { smart_ = std::move(smart); }
  // ServiceOptions::viewBaseUrl, once the browser listener's port is known (before serving).
  void setViewBaseUrl(std::string url) { options_.viewBaseUrl = std::move(url); }
  // The audit trail (audit/audit_trail.h): every request leaves an AuditEvent — written in the
  // write's own transaction for REST writes, in the records' transactions for partner pushes
  // (ingest/push_audit.h), committed before the response for everything else (reads,
  // searches, operations, denials; handleDeferred() leaves the wait to the transport).
  // /AuditEvent is served from it (privacy officer only; append-only: no writes). Unset:
  // nothing is audited (unit tests only).
  void setAudit(std::shared_ptr<const audit::AuditTrail> trail) { audit_ = std::move(trail); }
  // Who may see what (access/access_policy.h). Unset: nothing is filtered (mode none only).
  void setAccessPolicy(std::shared_ptr<const access::AccessPolicy> policy) {
    access_ = std::move(policy);
  }

 private:
  // What an interaction produced, before it is rendered in the negotiated format.
  struct Outcome {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<json::Value> body;  // may hold kRaw stored resources
    std::string rawBody;              // a stored resource's JSON, served as-is when possible
    std::string lastUpdated;          // the version's instant (batch-response lastModified)
    // The body's resources were checked against the access policy on their stored form
    // (before _elements/_summary shaped them): filterReads leaves them alone.
    bool accessChecked = false;
    // Set when the answer hides a refusal (a 404 for a resource the client may not know
    // exists): the refusal's code, which the audit trail records as a 403 instead.
    std::string concealed;
    IssueList issues;                 // the body when status >= 400
    std::string html;                 // a page of the clinician view (view routes only)
  };
  // A view route's answer as a page: `html`, or for a refusal an error page; text/html with
  // the view's security headers (view/plan_page.h).
  FhirResponse renderPage(const FhirRequest& rq, Outcome o) const;
  // GET|HEAD /view/assets/<name>: the view's stylesheet and icons (view/assets.h), before
  // authentication and without audit (no patient data); nullopt for any other path.
  std::optional<FhirResponse> viewAsset(const FhirRequest& rq) const;

  FhirResponse serve(const FhirRequest& request, bool deferAudit) const;
  // The request's event recorded now (blocking), or attached to `response` when deferred;
  // false when recording now failed (the caller answers 503 audit.unavailable).
  bool auditBeforeAnswer(const FhirRequest& request, audit::AuditRecord record, bool defer,
                         FhirResponse& response) const;
  // 503 audit.unavailable: the answer when a request's event could not be recorded.
  FhirResponse unauditedResponse(const FhirRequest& request) const;
  FhirResponse unauditedIn(Format format, bool pretty) const;
  Outcome dispatch(const FhirRequest& request) const;
  // Authorisation around dispatch (authorization.cc): the route's scopes and role are checked
  // before the handler runs (403), and what it is about to return is checked resource by
  // resource (access/access_policy.h): a resource the client may not see, read by id, is
  // answered as one that is not there (the handlers decide it: read, vread, history-instance,
  // $acp-summary); search and history entries it may not see are left out; withheld plans are
  // redacted; anything else it may not see (a write's representation) is a 403.
  // Bundle entries go through here one by one.
  Outcome guarded(const FhirRequest& request) const;
  // The route check of guarded(); an Outcome with status 403 when refused.
  std::optional<Outcome> refuseRoute(const FhirRequest& request) const;
  // The read check on a stored resource about to be shaped by _elements/_summary (the shape
  // may drop what says whose it is): nullopt to leave out (denied), else the resource to shape
  // — the stored one, or its outline when withheld. Without a session (superuser) unchanged.
  std::optional<json::Value> visibleForm(const FhirRequest& rq, json::Value stored) const;
  // The read check of guarded(), applied to a handler's successful Outcome.
  void filterReads(const FhirRequest& request, Outcome& outcome) const;
  // Existence (authorization.cc). A client whose view is filtered learns of a resource only
  // when it may read it: reads by id, vread, history-instance and $acp-summary answer one it
  // may not see exactly as one that does not exist (docs/security.md).
  // Whether the request's view is filtered (a session, not the superuser).
  static bool restricted(const FhirRequest& request);
  // Whether the client may learn that a resource with this content exists or existed (it may
  // read it, in full or withheld). True when not restricted.
  bool mayKnow(const FhirRequest& request, const json::Value& content) const;
  // A conditional create's or update's match (`stored`) that the client may not see: the 403
  // `auth.no-relationship` the single interaction answers with, naming neither the resource
  // nor its id (a transaction, a batch entry and any Prefer alike). nullopt when it may see it.
  std::optional<Outcome> refuseHiddenMatch(const FhirRequest& request,
                                           const store::StoredResource& stored) const;
  // The content type/id last had before `version` (0: the newest content), skipping delete
  // markers; nullopt when it never had any.
  std::optional<json::Value> contentBefore(const std::string& type, const std::string& id,
                                           int64_t version) const;
  // The store's own 404 for `what` ("Patient/1", "Patient/1/_history/2"), word for word,
  // hiding the refusal `code` (Outcome::concealed).
  static Outcome concealedNotFound(const std::string& what, const std::string& code);
  // Whether the current type/id (in `tx`) is in the record of a patient the client has no
  // relationship with: a delete of it is then answered as a delete of nothing. False when the
  // client's scopes do not allow the delete (refused for that first).
  bool hiddenPatientData(const FhirRequest& request, store::Transaction& tx,
                         const std::string& type, const std::string& id) const;
  // Paging a client's filtered view (visible_pages.cc). A source gives one store page of at
  // most `count` entries from `cursor` (search or history).
  using PageSource = std::function<Result<store::Page>(const std::string& cursor, int count)>;
  // One page of what the client may see from `cursor`: up to `count` entries it may see (each
  // decided by keepVisible, withheld plans as their outline), the visible included resources,
  // and a next cursor only when a further visible entry exists (or the scan stopped at its
  // bound) — so neither the entries, the total (dropped) nor the links tell of what was left
  // out. Not restricted: source(cursor, count) as it is.
  Result<store::Page> visiblePage(const FhirRequest& request, const PageSource& source,
                                  const std::string& cursor, int count) const;
  // The read check of one stored version in a page: false to leave it out; a withheld plan's
  // JSON becomes its outline; a delete marker is decided on the content it ended.
  bool keepVisible(const FhirRequest& request, store::StoredResource& version) const;
  // After a write of this request committed: the access session decides afresh from here.
  static void afterCommit(const FhirRequest& request);
  // 401 with WWW-Authenticate (RFC 6750) when the request carries no valid token.
  static Outcome unauthenticated(const auth::BearerCheck& check);
  // The audit (audit_endpoint.cc): the record of this request as far as it is known.
  audit::AuditRecord auditRecord(const FhirRequest& request, int status,
                                 const std::string& why) const;
  // Appends the request's event to a write's transaction before it commits (REST writes);
  // `written` are the versions it wrote. Marks the request audited.
  Status auditWithin(const FhirRequest& request, store::Transaction& tx,
                     const std::vector<store::StoredResource>& written) const;
  // The write rules (write_rules.cc): a 403 Outcome when the client may not write this
  // (`incoming` the new content, nullptr for a delete; `id` "" for a create).
  std::optional<Outcome> refuseWrite(const FhirRequest& request, store::Transaction& tx,
                                     const std::string& type, const std::string& id,
                                     const json::Value* incoming) const;
  // Just before a REST write commits: the writer's Provenance over what it wrote, then the
  // request's AuditEvent (auditWithin), in the same transaction.
  Status beforeCommit(const FhirRequest& request, store::Transaction& tx,
                      const std::vector<store::StoredResource>& written) const;
  // GET /AuditEvent, /AuditEvent/{id}, /AuditEvent/$verify-chain (privacy officer).
  Outcome auditEvents(const FhirRequest& request, const std::vector<std::string>& seg) const;
  // The SMART routes: the configuration document and the token endpoint (authorization.cc).
  std::optional<FhirResponse> smartRoute(const FhirRequest& request) const;
  // Establishes request.context.principal from the bearer token; a 401 Outcome when it cannot.
  std::optional<Outcome> authenticate(const FhirRequest& request) const;
  // POST /$ingest/<partner> (ingest_endpoint.cc).
  Outcome ingestPush(const FhirRequest& rq, const std::string& partner) const;
  // IngestService::commit with the request's AuditEvents in the records' transactions
  // (ingest/push_audit.h); `audited` says whether every record is reported by a durable
  // event (then the request is marked audited).
  std::vector<ingest::RecordOutcome> commitAudited(const FhirRequest& rq,
                                                   const ingest::MappedPush& push,
                                                   bool keepFailures, bool& audited) const;
  // 503 audit.unavailable for a push whose events could not all be made durable.
  static Outcome unaudited();
  // GET /$ingest/failures[/{id}], POST /$ingest/failures/{id}/$replay.
  Outcome ingestFailures(const FhirRequest& rq, const std::string& id) const;
  Outcome ingestReplay(const FhirRequest& rq, const std::string& id) const;
  // GET /Patient/{id}/$acp-summary, and with id "" GET /Patient/$acp-summary?identifier=
  // (acp_summary_endpoint.cc).
  Outcome acpSummary(const FhirRequest& rq, const std::string& id) const;
  // What a summary is made of, for the child `id`, or (id "") the one child `identifier`
  // (system|value) names, under the request's access rules: `in` and the child's `patient`
  // filled and status 200, else the refusal to answer (404 concealed, 410, 412, 400).
  Outcome gatherSummary(const FhirRequest& rq, const std::string& id,
                        const std::string& identifier, plan::SummaryInput& in,
                        json::Value& patient) const;
  // GET /view/patient?nhs=NNN and GET /view/patient/{id}: the clinician's page of the plan
  // (view_endpoint.cc; view/plan_page.h).
  Outcome viewPatient(const FhirRequest& rq, const std::string& id) const;
  // The NHS-number identifier ("https://fhir.nhs.uk/Id/nhs-number|NNNNNNNNNN") of a page's or a
  // launch link's nhs= value, spaces allowed ("999 121 5271" as printed); "" unless ten digits.
  static std::string viewNhsIdentifier(const std::string& raw);
  // POST /view/launch (view_endpoint.cc): a launch link for the child, after the same access
  // check as the page itself.
  Outcome viewLaunch(const FhirRequest& rq) const;
  // GET /view/launch/<link>: the link's grant in rq.context (launched, principal, purpose,
  // patient, user), or the refusal page's outcome when it opens nothing.
  std::optional<Outcome> redeemLaunch(const FhirRequest& rq) const;
  // GET /$candidate-links and POST /$candidate-links/{n}/$confirm | $reject
  // (candidate_links_endpoint.cc).
  Outcome candidateLinks(const FhirRequest& rq) const;
  Outcome candidateDecision(const FhirRequest& rq, const std::string& id, bool confirm) const;
  // A Subscription about to be written must be one the server can serve (notify/
  // subscription_rules.h; a requested one becomes active); false with a 422 in `failure`.
  // Other types pass untouched.
  // Also: the Subscription's owner is stamped (access/subscription_owner.h), and another
  // organisation's Subscription cannot be changed (403).
  bool acceptSubscription(const FhirRequest& rq, const std::string& type, json::Value& resource,
                          Outcome& failure) const;
  // Every current resource of `type` matching the search parameters, all pages.
  Result<std::vector<json::Value>> allMatches(
      const std::string& type, std::vector<std::pair<std::string, std::string>> params) const;
  FhirResponse render(const FhirRequest& request, Outcome outcome) const;
  // render() in a format already negotiated.
  FhirResponse renderAs(Outcome outcome, Format format, bool pretty) const;

  // Interactions (interactions.cc).
  Outcome read(const FhirRequest& rq, const std::string& type, const std::string& id) const;
  Outcome vread(const FhirRequest& rq, const std::string& type, const std::string& id,
                const std::string& version) const;
  Outcome create(const FhirRequest& rq, const std::string& type) const;
  Outcome update(const FhirRequest& rq, const std::string& type, const std::string& id) const;
  Outcome conditionalUpdate(const FhirRequest& rq, const std::string& type) const;
  Outcome remove(const FhirRequest& rq, const std::string& type, const std::string& id) const;
  Outcome conditionalRemove(const FhirRequest& rq, const std::string& type) const;
  Outcome history(const FhirRequest& rq, const std::string& type, const std::string& id) const;
  Outcome search(const FhirRequest& rq, const std::string& type,
                 std::vector<std::pair<std::string, std::string>> params) const;
  // Bundles at the base (bundles.cc).
  Outcome bundle(const FhirRequest& rq) const;
  Outcome transaction(const FhirRequest& rq, json::Value bundle) const;
  Outcome batch(const FhirRequest& rq, const json::Value& bundle) const;

  // Helpers (fhir_service.cc).
  // Parses and validates the body as a resource of `expectedType` ("" = any). On failure
  // fills `failure` (400/415/422) and returns false.
  // With validate=false only the parse is done (the caller validates, e.g. a batch Bundle
  // whose entries are validated one by one).
  bool readBody(const FhirRequest& rq, const std::string& expectedType, json::Value& out,
                Outcome& failure, bool validate = true) const;
  // Parses a query string (If-None-Exist, conditional URLs) for `type`, strictly.
  bool parseCriteria(const std::string& type, const std::string& query,
                     search::SearchQuery& out, IssueList& issues) const;
  // The normalised form of conditional-create criteria, recorded under a unique index.
  static std::string criteriaKey(const std::string& type, const search::SearchQuery& criteria);
  Outcome writeOutcome(const FhirRequest& rq, const store::WriteResult& w) const;
  static Outcome fail(int status, const std::string& issueType, const std::string& message,
                      const std::string& code, const std::string& location = "");
  // 405 for PUT/DELETE on a type URL without criteria.
  static Outcome needsCriteria(const std::string& method);
  static Outcome fromStatus(const Status& status, const std::string& code);
  static Outcome fromIssues(const IssueList& issues);
  static void addVersionHeaders(Outcome& o, const store::StoredResource& r);
  json::Value parseStored(const std::string& json) const;
  // The claimed-profile check of a written resource (setProfiles); `at` replaces the resource
  // type at the start of each location ("Bundle.entry[3].resource"), "" keeps it. Returns
  // false when an error was added.
  bool checkProfiles(const json::Value& resource, const std::string& at, IssueList& issues) const;

  std::shared_ptr<const model::Model> model_;
  std::shared_ptr<store::ResourceStore> store_;
  std::shared_ptr<const ingest::IngestService> ingest_;
  ServiceOptions options_;
  model::Validator validator_;
  std::shared_ptr<const profile::ProfileValidator> profiles_;
  std::set<std::string> served_;
  std::shared_ptr<auth::SmartAuth> smart_;
  std::shared_ptr<const audit::AuditTrail> audit_;
  std::shared_ptr<const access::AccessPolicy> access_;
};

// If-Match: W/"3" or "3" → 3; "*" or absent leaves `out` empty. False when malformed.
bool parseIfMatch(const std::string& header, std::optional<int64_t>& out);

// HTTP status for a Status code; issue type for it.
int httpStatusOf(Status::Code code);
const char* issueTypeOf(Status::Code code);

}  // namespace acp::http
