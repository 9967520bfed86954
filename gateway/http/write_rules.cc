// Who may write what through the REST API (fhir_service.h: refuseWrite, beforeCommit) — the
// security issue's "a source system writes only as its own organisation: its records, its
// Provenance; it cannot change another organisation's resources". Partner pushes and MLLP are
// checked where they enter (ingest_endpoint.cc, mappings/acute/hl7_feed.cc).
//
// Rules (the local superuser of gateway.auth.mode=none passes all of them):
//   - AuditEvent is never written through the API (the trail is the gateway's: 405 before).
//   - Every patient the new content belongs to (its Patient-compartment references) must be one
//     the client has a relationship with (access_policy.h): nobody writes into the record of a
//     child they do not care for. A new Patient is the writer's own record — also within the
//     transaction that creates it (a Bundle with the child and its plan, by placeholder).
//   - An existing resource is changed or deleted only by an organisation that wrote it: one its
//     Provenance names as agent. A Patient is shared: any organisation that holds a record of
//     the child may update it (the write is kept as that organisation's own view of the child,
//     ingest/person_resolver.h); nobody deletes one through the API.
//   - A Provenance written through the API must name the writer's organisation as its agent.
//   - Every API write by a client gets a Provenance naming the client's organisation (agent
//     who: its ODS code) over the versions written, in the same transaction — that is what
//     makes it the writer's.
#include "gateway/access/access_policy.h"
#include "gateway/access/subscription_owner.h"
#include "gateway/core/ids.h"
#include "gateway/http/fhir_service.h"
#include "gateway/ingest/source_ids.h"
#include "gateway/search/query.h"
#include "gateway/store/instant.h"

namespace acp::http {

namespace {

json::Value str(const std::string& s) { return json::Value::makeString(s); }

// The ODS codes a Provenance names as agents.
std::set<std::string> agentsOf(const json::Value& provenance) {
  std::set<std::string> out;
  if (const json::Value* agents = provenance.find("agent"); agents && agents->isArray())
    for (const json::Value& a : agents->items())
      for (const char* key : {"who", "onBehalfOf"})
        if (const json::Value* who = a.find(key))
          if (const json::Value* id = who->find("identifier");
              id && id->getString("system") == ingest::kOdsSystem)
            out.insert(id->getString("value"));
  return out;
}

// Whether Patient/`id` was created by this request: in its transaction, and not (yet) in the
// committed store. Only the request holding the transaction can have written it there.
bool createdByThisRequest(store::Transaction& tx, store::ResourceStore& committed,
                          const std::string& id) {
  if (!tx.read("Patient", id).isOk()) return false;
  auto stored = committed.read("Patient", id);
  return !stored.isOk() && stored.status().code() == Status::Code::kNotFound;
}

}  // namespace

std::optional<FhirService::Outcome> FhirService::refuseWrite(const FhirRequest& rq,
                                                             store::Transaction& tx,
                                                             const std::string& type,
                                                             const std::string& id,
                                                             const json::Value* incoming) const {
  const auth::Principal& who = rq.context.principal;
  access::AccessPolicy::Session* session = rq.context.access;
  auto forbid = [](const std::string& message, const std::string& code) {
    return std::optional<Outcome>(fail(403, "forbidden", message, code));
  };
  // The audit trail is the gateway's alone, whoever asks and by whatever path.
  if (type == "AuditEvent")
    return std::optional<Outcome>(fail(405, "not-supported",
                                       "the audit trail is append-only: AuditEvent is written by "
                                       "the gateway alone",
                                       "audit.append-only"));
  if (who.superuser() || !session || !access_) return std::nullopt;
  // The scope of the interaction (again: a transaction's entries reach here without the route
  // check).
  auth::Interaction interaction = !incoming        ? auth::Interaction::kDelete
                                  : id.empty()     ? auth::Interaction::kCreate
                                                   : auth::Interaction::kUpdate;
  if (!who.scopes.allows(type, interaction))
    return forbid("the access token's scopes do not allow this write of " + type, "auth.scope");
  if (type == "Subscription") {  // its owner's alone (acceptSubscription stamps the owner)
    if (id.empty()) return std::nullopt;
    auto current = tx.read(type, id);
    json::Value existing;
    json::ParseError err;
    if (current.isOk() && json::parse(current->json, existing, err)) {
      auto owner = access::ownerOf(existing);
      if (!owner || owner->organisation != who.organisation)
        return forbid("this Subscription belongs to another client", "auth.not-owner");
    }
    return std::nullopt;
  }
  // The new content's patients.
  if (incoming) {
    for (const std::string& patient : access_->compartment().patientsOf(*incoming)) {
      if (type == "Patient" && patient == id) continue;  // checked below as an existing one
      if (session->relationship(patient) == access::Relationship::kNone &&
          !createdByThisRequest(tx, *store_, patient))
        return forbid("not allowed to write into this patient's record: no relationship",
                      "auth.no-relationship");
    }
    if (type == "Consent") {
      // Consent to share is recorded by the organisation that holds the plan: a Consent
      // written through the API names the writer as its organisation (plan_sharing.h honours
      // a plan's Consents only from the plan's own organisation).
      std::set<std::string> orgs;
      if (const json::Value* os = incoming->find("organization"); os && os->isArray())
        for (const json::Value& o : os->items())
          if (const json::Value* i = o.find("identifier");
              i && i->getString("system") == ingest::kOdsSystem)
            orgs.insert(i->getString("value"));
      if (orgs.size() != 1 || *orgs.begin() != who.organisation)
        return forbid("a Consent written by this client names its own organisation (" +
                          who.organisation + ") as its one organization",
                      "auth.wrong-organisation");
    }
    if (type == "Provenance") {
      std::set<std::string> agents = agentsOf(*incoming);
      if (agents.size() != 1 || *agents.begin() != who.organisation)
        return forbid("a Provenance written by this client names its own organisation (" +
                          who.organisation + ") as its one agent",
                      "auth.wrong-organisation");
    }
  }
  if (id.empty()) return std::nullopt;  // a create
  auto current = tx.read(type, id);
  if (!current.isOk()) return std::nullopt;  // nothing there yet (update-as-create), or gone
  // The patients of what is there now: the client must care for them too.
  json::Value existing;
  json::ParseError perr;
  if (json::parse(current->json, existing, perr))
    for (const std::string& patient : access_->compartment().patientsOf(existing))
      if (session->relationship(patient) == access::Relationship::kNone)
        return forbid("not allowed to change this patient's record: no relationship",
                      "auth.no-relationship");
  if (type == "Patient") {
    if (!incoming)
      return forbid("a Patient is never deleted through the API", "auth.not-owner");
    access::Relationship r = session->relationship(id);
    if (r == access::Relationship::kNone || r == access::Relationship::kBreakGlass)
      return forbid("only an organisation holding a record of the child updates it",
                    "auth.not-owner");
    return std::nullopt;
  }
  // Who wrote it: the agents of the Provenance over any of its versions.
  search::QueryOptions opts;
  opts.strict = true;
  search::SearchQuery query;
  IssueList issues;
  if (!search::parseQuery(*model_, "Provenance", {{"target", type + "/" + id}}, opts, query,
                          issues))
    return forbid("the resource's writers cannot be established", "auth.not-owner");
  auto ids = tx.match(query, 1000);
  std::set<std::string> writers;
  if (ids.isOk())
    for (const std::string& pid : ids.value()) {
      auto p = tx.read("Provenance", pid);
      json::Value prov;
      json::ParseError err;
      if (p.isOk() && json::parse(p->json, prov, err))
        for (const std::string& ods : agentsOf(prov)) writers.insert(ods);
    }
  if (!writers.count(who.organisation))
    return forbid(type + "/" + id + " is another organisation's: only its writers change it",
                  "auth.not-owner");
  return std::nullopt;
}

Status FhirService::beforeCommit(const FhirRequest& rq, store::Transaction& tx,
                                 const std::vector<store::StoredResource>& written) const {
  const auth::Principal& who = rq.context.principal;
  if (!who.superuser() && !written.empty()) {
    // The writer's Provenance over what it wrote (what makes it the writer's).
    json::Value targets = json::Value::makeArray();
    for (const store::StoredResource& w : written) {
      if (w.type == "Provenance") continue;
      json::Value ref = json::Value::makeObject();
      ref.set("reference", str(w.type + "/" + w.id + "/_history/" + std::to_string(w.versionId)));
      targets.push(std::move(ref));
    }
    if (!targets.items().empty()) {
      json::Value p = json::Value::makeObject();
      p.set("resourceType", str("Provenance"));
      p.set("target", std::move(targets));
      p.set("recorded", str(store::formatInstant(nowMillis())));
      json::Value id = json::Value::makeObject();
      id.set("system", str(ingest::kOdsSystem));
      id.set("value", str(who.organisation));
      json::Value agentWho = json::Value::makeObject();
      agentWho.set("identifier", std::move(id));
      agentWho.set("display", str(who.clientId));
      json::Value coding = json::Value::makeObject();
      coding.set("system", str("http://terminology.hl7.org/CodeSystem/provenance-participant-type"));
      coding.set("code", str("author"));
      json::Value agentType = json::Value::makeObject();
      agentType.set("coding", json::Value::makeArray());
      agentType.find("coding")->push(std::move(coding));
      json::Value agent = json::Value::makeObject();
      agent.set("type", std::move(agentType));
      agent.set("who", std::move(agentWho));
      p.set("agent", json::Value::makeArray());
      p.find("agent")->push(std::move(agent));
      auto made = tx.create("Provenance", std::move(p));
      if (!made.isOk()) return made.status();
    }
  }
  return auditWithin(rq, tx, written);
}

}  // namespace acp::http
