// GET /view/patient?nhs=NNNNNNNNNN and GET /view/patient/{id}: the clinician's page of a child's
// shared advance care plan (view/plan_page.h; docs/clinician-view.md). The same data, access
// rules and audit as GET /Patient/$acp-summary (gatherSummary): a reader with no relationship
// with the child gets the page a child that does not exist would get (404), an emergency
// (break-glass) access is allowed and said on the page, and every request is an AuditEvent.
// Refusals are pages too (renderPage), never an OperationOutcome a browser would show as text.
#include <cctype>
#include <chrono>
#include <ctime>
#include <set>

#include "gateway/http/fhir_service.h"
#include "gateway/view/assets.h"
#include "gateway/view/plan_page.h"

namespace acp::http {

namespace {

constexpr const char* kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";
constexpr const char* kOdsSystem = "https://fhir.nhs.uk/Id/ods-organization-code";

std::string utcNow(const char* format) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// A plan's title for the history: its title, else its category's text or first display.
std::string planTitle(const json::Value& plan) {
  if (!plan.getString("title").empty()) return plan.getString("title");
  if (const json::Value* cats = plan.find("category"); cats && cats->isArray())
    for (const json::Value& c : cats->items()) {
      if (!c.getString("text").empty()) return c.getString("text");
      if (const json::Value* codings = c.find("coding"); codings && codings->isArray())
        for (const json::Value& coding : codings->items())
          if (!coding.getString("display").empty()) return coding.getString("display");
    }
  return "";
}

// The stylesheet's path: under the path of the base URL the gateway is known by (a gateway
// behind https://host/fhir links /fhir/view/assets/view.css).
std::string stylesheetFor(const std::string& baseUrl) {
  size_t scheme = baseUrl.find("://");
  size_t path = baseUrl.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  std::string prefix = path == std::string::npos ? "" : baseUrl.substr(path);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return prefix + "/view/assets/view.css";
}

}  // namespace

std::string FhirService::viewNhsIdentifier(const std::string& raw) {
  std::string nhs;
  for (char c : raw)
    if (c != ' ') nhs += c;
  bool digits = nhs.size() == 10;
  for (char c : nhs) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  return digits ? std::string(kNhsNumberSystem) + "|" + nhs : "";
}

FhirService::Outcome FhirService::viewPatient(const FhirRequest& rq, const std::string& id) const {
  std::string identifier;
  if (id.empty()) {
    std::string raw;
    for (const auto& [k, v] : rq.query)
      if (k == "nhs") raw += v;
    identifier = viewNhsIdentifier(raw);
    if (identifier.empty())
      return fail(400, "value", "give the child's NHS number: /view/patient?nhs= and ten digits",
                  "view.nhs-number-required", "nhs");
  }
  plan::SummaryInput in;
  json::Value patient;
  Outcome o = gatherSummary(rq, id, identifier, in, patient);
  if (o.status != 200) return o;

  view::PlanPage page;
  page.patient = &patient;
  page.input = &in;
  page.answers = plan::answers(in);
  page.inForce = plan::plansInForce(in);
  page.today = utcNow("%Y-%m-%d");
  page.generated = utcNow("%Y-%m-%dT%H:%M:%SZ");
  page.stylesheet = stylesheetFor(rq.baseUrl);
  if (rq.context.access && rq.context.access->usedBreakGlass()) {
    page.breakGlass = true;
    page.breakGlassReason = rq.context.access->breakGlassReason();
  }
  // The history: every stored version of each advance care plan shown (withheld plans are
  // only named, above), newest first.
  std::set<std::string> plans;
  std::set<std::string> sources;
  for (const json::Value& plan : in.carePlans) {
    if (!plan::isAdvanceCarePlan(plan)) continue;
    sources.insert(plan::sourceOds(plan));
    if (!plans.insert(plan.getString("id")).second) continue;
    store::HistoryQuery hq;
    hq.type = "CarePlan";
    hq.id = plan.getString("id");
    hq.count = 100;
    auto versions = store_->history(hq);
    if (!versions.isOk()) return fromStatus(versions.status(), "store.history");
    for (const store::StoredResource& v : versions->entries) {
      view::PlanVersion pv;
      pv.carePlan = "CarePlan/" + v.id;
      pv.version = v.versionId;
      pv.recorded = v.lastUpdated;
      pv.deleted = v.deleted;
      json::Value parsed;
      json::ParseError err;
      if (!v.json.empty() && json::parse(v.json, parsed, err)) {
        pv.title = planTitle(parsed);
        pv.status = parsed.getString("status");
        pv.source = plan::sourceOds(parsed);
      } else {
        pv.source = plan::sourceOds(plan);
      }
      page.history.push_back(std::move(pv));
    }
  }
  std::stable_sort(page.history.begin(), page.history.end(),
                   [](const view::PlanVersion& a, const view::PlanVersion& b) {
                     return a.recorded > b.recorded;
                   });
  // The sources' names, where the store knows their Organization.
  for (const json::Value& plan : in.withheld) sources.insert(plan::sourceOds(plan));
  for (const plan::ItemAnswer& a : page.answers) {
    if (a.current) sources.insert(a.current->ods);
    for (const plan::Statement& s : a.differs) sources.insert(s.ods);
    for (const plan::Statement& s : a.drafts) sources.insert(s.ods);
  }
  if (serves("Organization"))
    for (const std::string& ods : sources) {
      if (ods.empty()) continue;
      auto found = allMatches("Organization", {{"identifier", std::string(kOdsSystem) + "|" + ods}});
      if (!found.isOk() || found.value().empty()) continue;
      const std::string& name = found.value().front().getString("name");
      if (!name.empty()) page.organisations.emplace_back(ods, name);
    }
  o.html = view::renderPlanPage(page);
  return o;
}

std::optional<FhirResponse> FhirService::viewAsset(const FhirRequest& rq) const {
  constexpr std::string_view kPrefix = "/view/assets/";
  if (rq.path.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  FhirResponse r;
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // An icon opened on its own runs nothing (SVG may hold script); the stylesheet needs none.
  r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  const view::Asset* asset = view::findAsset(std::string_view(rq.path).substr(kPrefix.size()));
  if (!asset || (rq.method != "GET" && rq.method != "HEAD")) {
    r.status = asset ? 405 : 404;
    if (asset) r.headers.emplace_back("Allow", "GET, HEAD");
    r.contentType = "text/plain; charset=utf-8";
    r.body = asset ? "method not allowed\n" : "no such asset\n";
    return r;
  }
  r.status = 200;
  r.contentType = asset->contentType;
  r.headers.emplace_back("Cache-Control", "public, max-age=3600");
  r.body.assign(reinterpret_cast<const char*>(asset->data), asset->size);
  return r;
}

FhirResponse FhirService::renderPage(const FhirRequest& rq, Outcome o) const {
  FhirResponse r;
  r.status = o.status;
  r.headers = std::move(o.headers);
  r.contentType = "text/html; charset=utf-8";
  r.headers.emplace_back("Content-Security-Policy", view::kContentSecurityPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-store");
  if (o.status < 400 && !o.html.empty()) {
    r.body = std::move(o.html);
    return r;
  }
  const std::string code = o.issues.empty() ? "" : o.issues.issues().front().code;
  if (code.rfind("view.launch", 0) == 0) {  // a launch link that opens nothing
    std::string title = o.status == 410   ? "This link cannot be opened again"
                        : o.status == 403 ? "Not allowed"
                        : o.status == 404 ? "No such link"
                                          : "The plan could not be shown";
    std::string message = o.status == 404
                              ? "This is not a link to a shared plan. Open the plan from your "
                                "clinical system."
                              : o.issues.issues().front().message;
    r.body = view::renderErrorPage(o.status, title, message, stylesheetFor(rq.baseUrl));
    return r;
  }
  std::string title = o.status == 404   ? "No shared plan found"
                      : o.status == 401 ? "Sign-in needed"
                      : o.status == 403 ? "Not allowed"
                      : o.status == 410 ? "This record has been removed"
                      : o.status == 412 ? "More than one child has this NHS number"
                      : o.status >= 500 ? "The plan could not be shown"
                                        : "The request could not be answered";
  std::string message = o.issues.empty() ? "" : o.issues.issues().front().message;
  if (o.status == 404)
    message = "No child with a shared advance care plan that you may see was found. Check the "
              "NHS number, and the child's own records.";
  r.body = view::renderErrorPage(o.status, title, message, stylesheetFor(rq.baseUrl));
  return r;
}

}  // namespace acp::http
