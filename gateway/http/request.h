// FhirRequest / FhirResponse — the transport-neutral form of one FHIR REST exchange.
//
// The Poco adapter (http/http_server.cc) turns HTTP into a FhirRequest and writes the
// FhirResponse back; batch and transaction Bundles build FhirRequests for their entries.
// Plain values; no thread-safety concerns.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/access/access_policy.h"
#include "gateway/audit/audit_record.h"
#include "gateway/auth/principal.h"

namespace acp::http {

// Who is asking and why: filled by authentication before any handler runs (fhir_service.h).
// With gateway.auth.mode=none it is the local superuser.
struct RequestContext {
  auth::Principal principal = auth::localSuperuser();
  // Purpose of use (HL7 v3 PurposeOfUse): TREAT, or ETREAT with a stated reason for
  // break-glass (headers X-Purpose-Of-Use and X-Break-Glass-Reason; docs/security.md).
  std::string purposeOfUse = "TREAT";
  std::string breakGlassReason;
  std::string clientAddress;  // the peer's IP address, for the audit trail
  // The request's access session, set by FhirService::handle() for the request's duration
  // (sub-requests of a Bundle share it). Not owned.
  access::AccessPolicy::Session* access = nullptr;
  // Set when the request's AuditEvent was written inside its write transaction
  // (FhirService::auditWithin), so handle() does not record it again.
  bool audited = false;
  // "transaction" or "batch" once a Bundle at the base has been read (for the audit).
  std::string bundleType;
  // The connection's verified client certificate (HTTPS with mutual TLS; http_server.h): the
  // ODS code it names (tls/peer_identity.h) and its subject (RFC 2253). Both "" without one.
  std::string certificateOrganisation;
  std::string certificateSubject;
  // A clinician view launch link opened (GET /view/launch/<link>; auth/view_launch.h): the
  // principal, purpose and reason above come from the link, which is for this Patient id
  // only, and the clinician it names is the AuditEvent's user.
  bool launched = false;
  std::string launchPatient;
  std::string userId;
  std::string userName;
};

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using HeaderMap = std::map<std::string, std::string, CaseInsensitiveLess>;

struct FhirRequest {
  std::string method;  // GET POST PUT DELETE PATCH HEAD OPTIONS
  std::string path;    // percent-decoded path, e.g. "/Patient/123/_history/2"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  HeaderMap headers;
  std::string body;
  std::string baseUrl;  // e.g. "http://127.0.0.1:8080" (no trailing slash)
  // Filled by FhirService::handle() (authentication), hence mutable on a const request.
  mutable RequestContext context;

  const std::string& header(const std::string& name) const;
};

struct DeferredAudit;

struct FhirResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // ETag, Location, ...
  std::string contentType;  // "" when there is no body
  std::string body;
  // Set only by FhirService::handleDeferred(): this response may be sent only once the
  // request's AuditEvent is durable (FhirService::commitAudit), else
  // FhirService::unauditedAnswer(*audit) instead.
  std::shared_ptr<DeferredAudit> audit;
  // A refusal the listener audits, rate-limited per address (http/refusal_audit.h), instead of
  // an AuditEvent of its own: what anyone can send without credentials (a launch link that is
  // not one). The error code; "" for none.
  std::string listenerRefusal;
};

// A request's AuditEvent not yet committed, and the format its 503 audit.unavailable would be
// answered in if it cannot be (rendered only then: almost every commit succeeds).
struct DeferredAudit {
  audit::AuditRecord record;
  bool xml = false;     // the request negotiated XML
  bool pretty = false;  // _pretty=true
};

// "/Patient/123/_history/2" → {"Patient", "123", "_history", "2"}; empty segments (a doubled
// or trailing slash) are dropped. The one path splitter of the routes, the access checks and
// the audit, so they always agree on what a path names.
std::vector<std::string> pathSegments(const std::string& path);

// Whether a path is a page of the clinician view (/view/...): answered as HTML, refusals too.
bool isViewPath(const std::string& path);
// The link of a launch link's path (/view/launch/<link>, by segments), "" when it is not one.
std::string launchLinkOf(const std::string& path);

// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space, per form encoding).
std::vector<std::pair<std::string, std::string>> parseQueryString(const std::string& q);
std::string percentDecode(const std::string& s, bool plusIsSpace);
std::string percentEncode(const std::string& s);

}  // namespace acp::http
