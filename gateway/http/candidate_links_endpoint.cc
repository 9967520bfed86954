// Candidate links — possible duplicates for review (ingest/person_resolver.h proposes them
// when a new child's demographics nearly match a known one and no NHS number links them):
//   GET  /$candidate-links[?status=open|confirmed|rejected]   newest first
//   POST /$candidate-links/{n}/$confirm   the two Patients are one child: merged (the one with
//                                         an NHS number survives, else the first), the other
//                                         kept inactive and replaced-by, everything re-pointed
//   POST /$candidate-links/{n}/$reject    two children: never proposed again
// Both decisions close the pair's possible-duplicate Flags and write a Provenance. 404 for an
// unknown link, 409 for one already decided, 409 when the two carry different NHS numbers.
#include "gateway/core/ids.h"
#include "gateway/http/fhir_service.h"
#include "gateway/ingest/person_index.h"
#include "gateway/ingest/person_resolver.h"
#include "gateway/ingest/plan_flag_refresh.h"
#include "gateway/ingest/source_ids.h"
#include "gateway/plan/plan_flags.h"

namespace acp::http {

namespace {

json::Value str(const std::string& s) { return json::Value::makeString(s); }

json::Value part(const std::string& name, const char* key, json::Value v) {
  json::Value p = json::Value::makeObject();
  p.set("name", str(name));
  p.set(key, std::move(v));
  return p;
}

json::Value reference(const std::string& r) {
  json::Value v = json::Value::makeObject();
  v.set("reference", str(r));
  return v;
}

json::Value linkParameter(const store::CandidateLink& c) {
  json::Value parts = json::Value::makeArray();
  parts.push(part("id", "valueInteger", json::Value::makeNumber(std::to_string(c.id))));
  parts.push(part("patient", "valueReference", reference("Patient/" + c.personA)));
  parts.push(part("patient", "valueReference", reference("Patient/" + c.personB)));
  parts.push(part("reason", "valueString", str(c.reason)));
  parts.push(part("status", "valueCode", str(c.status)));
  parts.push(part("created", "valueInstant", str(c.created)));
  if (!c.decided.empty()) parts.push(part("decided", "valueInstant", str(c.decided)));
  json::Value p = json::Value::makeObject();
  p.set("name", str("link"));
  p.set("part", std::move(parts));
  return p;
}

}  // namespace

FhirService::Outcome FhirService::candidateLinks(const FhirRequest& rq) const {
  std::string status;
  for (const auto& [k, v] : rq.query)
    if (k == "status") status = v;
  if (!status.empty() && status != "open" && status != "confirmed" && status != "rejected")
    return fail(400, "value", "status must be open, confirmed or rejected", "http.invalid-parameter",
                "status");
  auto tx = store_->begin();
  if (!tx.isOk()) return fromStatus(tx.status(), "store.begin");
  auto links = tx.value()->candidates(status, 1000);
  if (!links.isOk()) return fromStatus(links.status(), "store.read");
  json::Value params = json::Value::makeArray();
  for (const store::CandidateLink& c : links.value()) params.push(linkParameter(c));
  json::Value out = json::Value::makeObject();
  out.set("resourceType", str("Parameters"));
  if (!params.items().empty()) out.set("parameter", std::move(params));
  Outcome o;
  o.body = std::move(out);
  return o;
}

FhirService::Outcome FhirService::candidateDecision(const FhirRequest& rq, const std::string& idText,
                                                    bool confirm) const {
  int64_t id = 0;
  for (char c : idText)
    if (c < '0' || c > '9' || idText.size() > 18)
      return fail(404, "not-found", "no such candidate link", "acp.candidate-not-found");
  id = std::stoll(idText);
  auto tx = store_->begin();
  if (!tx.isOk()) return fromStatus(tx.status(), "store.begin");
  store::Transaction& t = *tx.value();
  auto link = t.candidate(id);
  if (!link.isOk()) return fromStatus(link.status(), "store.read");
  if (!link.value()) return fail(404, "not-found", "no such candidate link", "acp.candidate-not-found");
  const store::CandidateLink c = *link.value();
  if (c.status != "open")
    return fail(409, "conflict", "the candidate link was already " + c.status,
                "acp.candidate-decided");
  const std::string now = formatInstant(nowMillis());
  std::vector<json::Value> finals;
  IssueList issues;
  // The pair's possible-duplicate Flags close either way.
  for (const auto& [self, other] : {std::pair<std::string, std::string>{c.personA, c.personB},
                                    {c.personB, c.personA}}) {
    const std::string flagId = ingest::possibleDuplicateFlagId(self, other);
    auto stored = t.read("Flag", flagId);
    if (!stored.isOk()) continue;
    json::Value v;
    json::ParseError err;
    if (!json::parse(stored->json, v, err)) continue;
    json::Value closed = plan::flagResource(flagId, self, nullptr, v, now);
    if (closed.isObject()) finals.push_back(std::move(closed));
  }
  std::string winner, loser;
  if (confirm) {
    // The two as they are now: a Patient merged since (an NHS number that arrived, an A40,
    // another confirmed link) is the one it was merged into.
    auto live = [&](std::string id, json::Value& patient) -> Status {
      for (int hops = 0; hops < 10; ++hops) {
        auto stored = t.read("Patient", id);
        if (!stored.isOk()) return stored.status();
        json::ParseError err;
        if (!json::parse(stored->json, patient, err))
          return Status::internal("store: stored Patient unreadable");
        std::string next = ingest::replacedByOf(patient);
        if (next.empty()) {
          patient.set("id", json::Value::makeString(id));
          return Status::ok();
        }
        id = next;
      }
      return Status::conflict("a chain of replaced Patients too long to follow");
    };
    json::Value pa, pb;
    Status la = live(c.personA, pa), lb = live(c.personB, pb);
    if (!la.isOk() || !lb.isOk())
      return fail(409, "conflict", "one of the two Patients is no longer there",
                  "acp.candidate-gone");
    const std::string a = pa.getString("id"), b = pb.getString("id");
    if (a == b)
      return fail(409, "conflict", "the two Patients are one already (merged since the link was "
                                   "proposed)",
                  "acp.candidate-stale");
    std::string na = ingest::nhsNumberOf(pa), nb = ingest::nhsNumberOf(pb);
    if (!na.empty() && !nb.empty() && na != nb)
      return fail(409, "business-rule",
                  "the two Patients have different NHS numbers: they are two children",
                  "acp.candidate-nhs-conflict");
    winner = (na.empty() && !nb.empty()) ? b : a;
    loser = winner == a ? b : a;
    ingest::PersonResolver persons(*model_, t, now);
    Status merged = persons.mergePersons(loser, winner, finals, issues);
    if (!merged.isOk()) return fromStatus(merged, "store.update");
  }
  // Everything written is valid, or nothing is.
  for (const json::Value& r : finals) {
    IssueList problems;
    bool ok = validator_.validate(r, problems);
    if (ok && profiles_) ok = profiles_->validateClaimed(r, problems);
    if (!ok) {
      Outcome o = fromIssues(problems);
      o.status = 500;
      return o;
    }
  }
  std::vector<std::string> written;
  for (json::Value& r : finals) {
    const std::string type = r.getString("resourceType"), rid = r.getString("id");
    auto w = t.update(type, rid, std::move(r));
    if (!w.isOk()) return fromStatus(w.status(), "store.update");
    if (!w->noop) written.push_back(type + "/" + rid + "/_history/" + std::to_string(w->resource.versionId));
  }
  if (confirm) {
    ingest::FlagContext ctx{*model_, validator_, profiles_.get()};
    for (const std::string& person : {winner, loser}) {
      Status f = ingest::refreshPlanFlags(ctx, t, person, nowMillis(), written, issues);
      if (!f.isOk()) return fromStatus(f, "store.update");
    }
  }
  Status decided = t.decideCandidate(id, confirm ? "confirmed" : "rejected", now);
  if (!decided.isOk()) return fromStatus(decided, "store.update");
  if (!written.empty()) {
    // Who decided is the API client (named once the security issue authenticates them).
    json::Value prov = json::Value::makeObject();
    prov.set("resourceType", str("Provenance"));
    json::Value targets = json::Value::makeArray();
    for (const std::string& w : written) targets.push(reference(w));
    prov.set("target", std::move(targets));
    prov.set("recorded", str(now));
    json::Value agent = json::Value::makeObject();
    json::Value who = json::Value::makeObject();
    who.set("display", str("candidate link review through the API"));
    agent.set("who", std::move(who));
    prov.set("agent", json::Value::makeArray());
    prov.find("agent")->push(std::move(agent));
    json::Value reason = json::Value::makeObject();
    reason.set("text", str(std::string(confirm ? "confirmed" : "rejected") + " candidate link " +
                           std::to_string(id) + ": " + c.reason));
    prov.set("reason", json::Value::makeArray());
    prov.find("reason")->push(std::move(reason));
    auto p = t.create("Provenance", std::move(prov));
    if (!p.isOk()) return fromStatus(p.status(), "store.create");
  }
  Status committed = t.commit();
  if (!committed.isOk()) return fromStatus(committed, "store.commit");
  store::CandidateLink after = c;
  after.status = confirm ? "confirmed" : "rejected";
  after.decided = now;
  json::Value params = json::Value::makeArray();
  params.push(linkParameter(after));
  if (confirm) {
    params.push(part("survivor", "valueReference", reference("Patient/" + winner)));
    params.push(part("replaced", "valueReference", reference("Patient/" + loser)));
  }
  if (!issues.empty()) {
    json::Value p = json::Value::makeObject();
    p.set("name", str("issues"));
    p.set("resource", issues.toOperationOutcome());
    params.push(std::move(p));
  }
  json::Value out = json::Value::makeObject();
  out.set("resourceType", str("Parameters"));
  out.set("parameter", std::move(params));
  Outcome o;
  o.body = std::move(out);
  return o;
}

}  // namespace acp::http
