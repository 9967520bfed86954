// Launch links of the clinician view (auth/view_launch.h; docs/clinician-view.md, "Opening the
// page from a clinical system").
//
// POST /view/launch?nhs=NNNNNNNNNN (or patient=<id>), optionally user=<the clinician's id> and
// userName=<their name> (query or form body): for a GP or urgent-care system, authenticated as
// for any request (token, and its certificate on a mutual-TLS listener), with the rights the
// page needs (Patient and CarePlan read). The child is looked for exactly as the page would
// look (gatherSummary: relationships, consent, break-glass with X-Purpose-Of-Use ETREAT and
// its reason), so no link is made for a child the system may not see (404, as the page). The
// answer is a FHIR Parameters resource: "url" (valueUrl: the link, under
// ServiceOptions::viewBaseUrl or the request's base URL) and "expires" (valueInstant). The
// AuditEvent: operation $view-launch, the patient.
//
// GET /view/launch/<link> (redeemLaunch, before authentication): the link stands for the token.
// It must be this gateway's, unexpired and not opened before (each link opens once); its
// client still registered as it was. The request then runs as that client, for that child,
// with the link's purpose and reason, and the clinician named as the AuditEvent's user; the
// page is built now, with the access the client has now. Refusals are pages: 404 (not a link),
// 410 (expired, or opened before), 403 (its client is no longer registered as it was); a
// genuine link refused is audited naming its client, child and clinician, while what anyone
// can send — made-up links, HEAD (405), prefetches (503) — goes to the listener's rate-limited
// refusal audit (FhirResponse::listenerRefusal). The link never reaches a log or the audit
// trail (the access log and the AuditEvent name /view/launch/{link}).
#include "gateway/auth/form_body.h"
#include "gateway/auth/view_launch.h"
#include "gateway/core/ids.h"
#include "gateway/http/fhir_service.h"
#include "gateway/store/instant.h"

namespace acp::http {

namespace {

// UTF-8 text of at most `max` bytes without control characters (C0, DEL, C1).
bool printableText(const std::string& v, size_t max) {
  if (v.size() > max) return false;
  json::Value parsed;
  json::ParseError err;
  if (!json::parse(json::write(json::Value::makeString(v)), parsed, err)) return false;  // UTF-8
  for (size_t i = 0; i < v.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7F) return false;
    // C1 controls: U+0080..U+009F, encoded C2 80..C2 9F.
    if (c == 0xC2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) < 0xA0) return false;
  }
  return true;
}

json::Value parameter(const char* name, const char* type, const std::string& value) {
  json::Value p = json::Value::makeObject();
  p.set("name", json::Value::makeString(name));
  p.set(type, json::Value::makeString(value));
  return p;
}

}  // namespace

FhirService::Outcome FhirService::viewLaunch(const FhirRequest& rq) const {
  if (!smart_)
    return fail(501, "not-supported",
                "launch links need gateway.auth.mode=smart: they are sealed with its token key",
                "view.launch-unavailable");
  std::map<std::string, std::string> params;
  for (const auto& [k, v] : rq.query) params[k] = v;
  if (!rq.body.empty()) {
    if (!auth::isFormContentType(rq.header("Content-Type")))
      return fail(415, "not-supported",
                  "give the parameters in the query or as application/x-www-form-urlencoded",
                  "http.unsupported-media-type");
    auth::FormBody form = auth::parseFormBody(rq.body);
    if (!form.ok) return fail(400, "structure", form.error, "http.bad-form");
    for (const auto& [k, v] : form.params) params[k] = v;
  }
  std::string id = params["patient"], identifier;
  if (id.empty()) {
    identifier = viewNhsIdentifier(params["nhs"]);
    if (identifier.empty())
      return fail(400, "value", "give the child's NHS number (nhs=, ten digits) or patient=",
                  "view.nhs-number-required", "nhs");
  } else if (!acp::isValidId(id)) {
    return fail(400, "value", "patient= is not a valid id", "view.bad-patient", "patient");
  }
  for (const char* k : {"user", "userName"})
    if (!printableText(params[k], 200))
      return fail(400, "value", "user and userName: up to 200 printable characters",
                  "view.bad-user", k);
  const auth::Principal& who = rq.context.principal;
  if (!auth::mayLaunch(who.role))
    return fail(403, "forbidden", "launch links are made for GP practices and urgent care",
                "auth.role");
  // The clinician, for this request's AuditEvent too.
  rq.context.userId = params["user"];
  rq.context.userName = params["userName"];
  // The same search and access decision as the page: no link to a child not to be seen.
  plan::SummaryInput in;
  json::Value patient;
  Outcome o = gatherSummary(rq, id, identifier, in, patient);
  if (o.status != 200) return o;

  auth::LaunchContext context;
  context.patientId = patient.getString("id");
  context.purpose = rq.context.purposeOfUse;
  context.breakGlassReason = rq.context.breakGlassReason;
  if (rq.context.access && rq.context.access->usedBreakGlass()) {
    context.purpose = "ETREAT";
    context.breakGlassReason = rq.context.access->breakGlassReason();
  }
  context.userId = params["user"];
  context.userName = params["userName"];
  auto link = smart_->issueLaunch(who, context);
  if (!link.isOk()) return fromStatus(link.status(), "view.launch");
  std::string base = options_.viewBaseUrl.empty() ? rq.baseUrl : options_.viewBaseUrl;
  json::Value params_ = json::Value::makeObject();
  params_.set("resourceType", json::Value::makeString("Parameters"));
  json::Value list = json::Value::makeArray();
  list.push(parameter("url", "valueUrl", base + "/view/launch/" + link.value().link));
  list.push(parameter("expires", "valueInstant", store::formatInstant(link.value().expiresAtMs)));
  params_.set("parameter", std::move(list));
  Outcome answer;
  answer.body = std::move(params_);
  answer.headers.emplace_back("Cache-Control", "no-store");
  return answer;
}

std::optional<FhirService::Outcome> FhirService::redeemLaunch(const FhirRequest& rq) const {
  const std::string link = launchLinkOf(rq.path);
  if (link.empty()) return std::nullopt;
  if (rq.method != "GET" && rq.method != "HEAD") return std::nullopt;  // POST: the token's way
  rq.context.principal = auth::Principal{};  // nobody, unless the link says who
  // Opened only by a GET that shows the page: a HEAD (a link checker) or a browser's prefetch
  // would use the link up before the clinician sees it.
  if (rq.method == "HEAD") {
    Outcome o = fail(405, "not-supported", "a launch link is opened with GET",
                     "http.method-not-allowed");
    o.headers.emplace_back("Allow", "GET");
    return o;
  }
  const std::string& purpose = rq.header("Sec-Purpose");
  if (purpose.find("prefetch") != std::string::npos || rq.header("Purpose") == "prefetch" ||
      rq.header("X-Moz") == "prefetch")
    return fail(503, "transient", "a prefetch does not open a launch link",
                "view.launch-prefetch");
  if (!smart_) return fail(404, "not-found", "no such page", "view.launch-unknown");
  auth::LaunchRedemption r = smart_->redeemLaunch(link);
  if (r.grant) {
    // Who the link was for, in the audit of the opening or of its refusal.
    rq.context.principal = r.grant->principal;
    rq.context.launchPatient = r.grant->context.patientId;
    rq.context.purposeOfUse = r.grant->context.purpose.empty() ? "TREAT" : r.grant->context.purpose;
    rq.context.breakGlassReason = r.grant->context.breakGlassReason;
    rq.context.userId = r.grant->context.userId;
    rq.context.userName = r.grant->context.userName;
  }
  const Status& s = r.status;
  if (s.isOk()) {
    rq.context.launched = true;
    return std::nullopt;
  }
  if (s.code() == Status::Code::kGone)
    return fail(410, "expired",
                "This link has expired or has been opened before: each link opens once, for a "
                "few minutes. Open the plan again from your clinical system.",
                "view.launch-used");
  if (s.code() == Status::Code::kPrecondition)
    return fail(403, "forbidden",
                "The system that made this link may no longer show plans. Ask your service desk.",
                "view.launch-client");
  if (s.code() == Status::Code::kInvalid)
    return fail(404, "not-found", "no such page", "view.launch-unknown");
  return fromStatus(s, "view.launch");  // the replay ledger failed: 503
}

}  // namespace acp::http
