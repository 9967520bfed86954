// GET /Patient/{id}/$acp-summary and GET /Patient/$acp-summary?identifier=system|value: the
// child's consolidated advance care plan (plan/acp_summary.h; conformance/acp/
// OperationDefinition-acp-summary.json). 200 with a Parameters resource; 404 when no Patient
// (or none with that identifier), 410 when it was deleted, 412 when the identifier names more
// than one child, 400 without an identifier. A Patient merged into another (link replaced-by)
// is answered for the one it was merged into. A client with no relationship with the child gets
// exactly the 404 it would get if there were no such child (docs/security.md), and by
// identifier chooses only among the children it has a relationship with.
#include "gateway/http/fhir_service.h"
#include "gateway/ingest/person_index.h"
#include "gateway/plan/acp_summary.h"
#include "gateway/search/query.h"

namespace acp::http {

namespace {

constexpr const char* kNoSuchIdentifier = "no Patient has this identifier";

}  // namespace

Result<std::vector<json::Value>> FhirService::allMatches(
    const std::string& type, std::vector<std::pair<std::string, std::string>> params) const {
  search::QueryOptions opts;
  opts.strict = true;
  opts.defaultCount = options_.maxCount;
  opts.maxCount = options_.maxCount;
  search::SearchQuery query;
  IssueList issues;
  if (!search::parseQuery(*model_, type, params, opts, query, issues))
    return Status::internal("acp-summary: query for " + type + " refused");
  std::vector<json::Value> out;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = store_->search(query);
    if (!page.isOk()) return page.status();
    for (const store::StoredResource& r : page->entries) {
      json::Value v;
      json::ParseError err;
      if (!json::parse(r.json, v, err)) return Status::internal("store: stored JSON unreadable");
      out.push_back(std::move(v));
    }
    if (page->nextCursor.empty()) break;
    query.cursor = page->nextCursor;
  }
  return out;
}

FhirService::Outcome FhirService::acpSummary(const FhirRequest& rq, const std::string& id) const {
  std::string identifier;
  for (const auto& [k, v] : rq.query)
    if (k == "identifier") identifier = v;
  plan::SummaryInput in;
  json::Value patient;
  Outcome o = gatherSummary(rq, id, identifier, in, patient);
  if (o.status != 200) return o;
  o.body = plan::acpSummary(in);
  return o;
}

FhirService::Outcome FhirService::gatherSummary(const FhirRequest& rq, const std::string& id,
                                                const std::string& identifier,
                                                plan::SummaryInput& in,
                                                json::Value& patient) const {
  std::string patientId = id;
  if (patientId.empty()) {
    // By identifier (the NHS number, as GP systems know it).
    if (identifier.empty() || identifier.find('|') == std::string::npos)
      return fail(400, "required",
                  "$acp-summary without a Patient id needs identifier=system|value",
                  "acp.identifier-required", "identifier");
    auto found = allMatches("Patient", {{"identifier", identifier}});
    if (!found.isOk()) return fromStatus(found.status(), "store.search");
    std::vector<std::string> current;
    for (const json::Value& p : found.value())
      if (ingest::replacedByOf(p).empty()) current.push_back(p.getString("id"));
    // A filtered client chooses among the children it has a relationship with (urgent care
    // stating an emergency: among all, as it may break glass for the one it finds).
    bool hidden = false;
    if (restricted(rq) && !rq.context.access->mayBreakGlass()) {
      std::vector<std::string> related;
      for (const std::string& p : current)
        if (rq.context.access->standing(p) != access::Relationship::kNone) related.push_back(p);
      hidden = related.size() < current.size();
      current = std::move(related);
    }
    if (current.empty()) {
      Outcome o = fail(404, "not-found", kNoSuchIdentifier, "acp.patient-not-found",
                       "identifier");
      if (hidden) o.concealed = "auth.no-relationship";
      return o;
    }
    if (current.size() > 1)
      return fail(412, "multiple-matches",
                  "more than one Patient has this identifier; ask by Patient id",
                  "acp.multiple-patients", "identifier");
    patientId = current[0];
  }
  // What a client that may not see the child gets: what it gets when there is none.
  auto notFound = [&]() -> Outcome {
    if (!id.empty()) return concealedNotFound("Patient/" + id, "auth.no-relationship");
    Outcome o = fail(404, "not-found", kNoSuchIdentifier, "acp.patient-not-found", "identifier");
    o.concealed = "auth.no-relationship";
    return o;
  };
  // A Patient merged into another answers for that one (a few hops at most).
  for (int hops = 0; hops < 5; ++hops) {
    auto stored = store_->read("Patient", patientId);
    if (!stored.isOk()) {
      // A deleted child, or one merged into a child since deleted: nobody's to see.
      if (restricted(rq) && (hops > 0 || stored.status().code() == Status::Code::kGone))
        return notFound();
      return fromStatus(stored.status(), "store.read");
    }
    json::ParseError err;
    if (!json::parse(stored->json, patient, err))
      return fromStatus(Status::internal("store: stored Patient unreadable"), "store.read");
    std::string next = ingest::replacedByOf(patient);
    if (next.empty()) break;
    patientId = next;
  }

  // Who may see it (access/access_policy.h): a relationship with the child, and the plans
  // the child has not consented to share only for their own organisation.
  // Without one, the answer is the one for a child that is not there.
  access::AccessPolicy::Session* session = rq.context.access;
  if (session && session->relationship(patientId) == access::Relationship::kNone)
    return notFound();

  in.patientId = patientId;
  auto plans = allMatches("CarePlan", {{"subject", "Patient/" + patientId}});
  if (!plans.isOk()) return fromStatus(plans.status(), "store.search");
  for (json::Value& plan : plans.value()) {
    if (plan.getString("status") != "draft") {
      in.carePlans.push_back(std::move(plan));
      continue;
    }
    // A draft revision: the version it revises may still be in force (acp_summary.h).
    store::HistoryQuery hq;
    hq.type = "CarePlan";
    hq.id = plan.getString("id");
    hq.count = 50;
    auto versions = store_->history(hq);
    if (!versions.isOk()) return fromStatus(versions.status(), "store.history");
    std::vector<json::Value> newestFirst;
    for (const store::StoredResource& v : versions->entries) {
      if (v.deleted) break;
      json::Value pv;
      json::ParseError err;
      if (json::parse(v.json, pv, err)) newestFirst.push_back(std::move(pv));
    }
    if (newestFirst.empty()) newestFirst.push_back(std::move(plan));
    for (json::Value& v : plan::versionsInForce(newestFirst)) in.carePlans.push_back(std::move(v));
  }
  if (session) {
    std::vector<json::Value> shown;
    for (json::Value& plan : in.carePlans)
      (session->withheld(plan) ? in.withheld : shown).push_back(std::move(plan));
    in.carePlans = std::move(shown);
  }
  for (const auto* plans : {&in.carePlans, &in.withheld})
  for (const json::Value& plan : *plans)
    if (const json::Value* teams = plan.find("careTeam"); teams && teams->isArray())
      for (const json::Value& ref : teams->items()) {
        const std::string& r = ref.getString("reference");
        if (r.rfind("CareTeam/", 0) != 0 || in.careTeams.count(r)) continue;
        auto team = store_->read("CareTeam", r.substr(9));
        if (!team.isOk()) continue;  // a dangling team reference: no key worker from it
        json::Value v;
        json::ParseError err;
        if (json::parse(team->json, v, err)) in.careTeams.emplace(r, std::move(v));
      }
  auto consents = allMatches("Consent", {{"patient", "Patient/" + patientId}});
  if (!consents.isOk()) return fromStatus(consents.status(), "store.search");
  in.consents = std::move(consents.value());
  return Outcome{};
}

}  // namespace acp::http
