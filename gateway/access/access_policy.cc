#include "gateway/access/access_policy.h"

#include <algorithm>

#include "gateway/access/plan_sharing.h"
#include "gateway/access/subscription_owner.h"
#include "gateway/ingest/source_ids.h"
#include "gateway/search/fhirpath.h"
#include "gateway/search/query.h"

namespace acp::access {

const char* relationshipName(Relationship r) {
  switch (r) {
    case Relationship::kNone: return "none";
    case Relationship::kRegisteredPractice: return "registered-practice";
    case Relationship::kKeyWorker: return "key-worker";
    case Relationship::kRecordHolder: return "record-holder";
    case Relationship::kBreakGlass: return "break-glass";
    case Relationship::kSuperuser: return "superuser";
  }
  return "none";
}

AccessPolicy::AccessPolicy(std::shared_ptr<const PatientCompartment> compartment,
                           std::shared_ptr<store::ResourceStore> store,
                           std::shared_ptr<const BreakGlass> breakGlass)
    : compartment_(std::move(compartment)),
      store_(std::move(store)),
      breakGlass_(std::move(breakGlass)) {}

AccessPolicy::Session::Session(const AccessPolicy& policy, const auth::Principal& principal)
    : policy_(policy), principal_(principal) {}

bool AccessPolicy::Session::readsPatientData() const {
  switch (principal_.role) {
    case auth::Role::kSourceSystem:
    case auth::Role::kGpPractice:
    case auth::Role::kUrgentCare:
    case auth::Role::kSuperuser:
      return true;
    default:
      return false;
  }
}

namespace {

// Every current resource of `type` matching `params` (all pages, bounded).
std::vector<json::Value> matches(const model::Model& model, store::ResourceStore& store,
                                 const std::string& type,
                                 std::vector<std::pair<std::string, std::string>> params) {
  search::QueryOptions opts;
  opts.strict = true;
  opts.defaultCount = 1000;
  opts.maxCount = 1000;
  search::SearchQuery query;
  IssueList issues;
  std::vector<json::Value> out;
  if (!search::parseQuery(model, type, params, opts, query, issues)) return out;
  for (int pages = 0; pages < 20; ++pages) {
    auto page = store.search(query);
    if (!page.isOk()) return out;
    for (const store::StoredResource& r : page->entries) {
      json::Value v;
      json::ParseError err;
      if (json::parse(r.json, v, err)) out.push_back(std::move(v));
    }
    if (page->nextCursor.empty()) break;
    query.cursor = page->nextCursor;
  }
  return out;
}

std::string odsOf(const json::Value* reference) {
  const json::Value* id = reference ? reference->find("identifier") : nullptr;
  if (id && id->getString("system") == ingest::kOdsSystem) return id->getString("value");
  return "";
}

bool isKeyWorker(const json::Value& participant) {
  if (const json::Value* roles = participant.find("role"); roles && roles->isArray())
    for (const json::Value& role : roles->items())
      if (const json::Value* codings = role.find("coding"); codings && codings->isArray())
        for (const json::Value& c : codings->items())
          if (c.getString("code") == "key-worker") return true;
  return false;
}

}  // namespace

AccessPolicy::Session::Facts& AccessPolicy::Session::facts(const std::string& patientId) {
  auto it = facts_.find(patientId);
  if (it != facts_.end()) return it->second;
  Facts& f = facts_[patientId];
  auto stored = policy_.store_->read("Patient", patientId);
  if (!stored.isOk()) return f;
  json::Value patient;
  json::ParseError err;
  if (!json::parse(stored->json, patient, err)) return f;
  f.found = true;
  if (const json::Value* gps = patient.find("generalPractitioner"); gps && gps->isArray())
    for (const json::Value& gp : gps->items())
      if (std::string ods = odsOf(&gp); !ods.empty()) f.practices.insert(ods);
  const std::string localPrefix = ingest::localIdentifierSystem("");
  if (const json::Value* ids = patient.find("identifier"); ids && ids->isArray())
    for (const json::Value& id : ids->items()) {
      const std::string& system = id.getString("system");
      if (system.rfind(localPrefix, 0) == 0 && system.size() > localPrefix.size())
        f.holders.insert(system.substr(localPrefix.size(), system.find('/', localPrefix.size()) -
                                                               localPrefix.size()));
    }
  return f;
}

const std::set<std::string>& AccessPolicy::Session::keyWorkers(const std::string& patientId) {
  Facts& f = facts(patientId);
  if (f.keyWorkers) return *f.keyWorkers;
  f.keyWorkers.emplace();
  for (const json::Value& team : matches(policy_.compartment_->model(), *policy_.store_,
                                         "CareTeam", {{"patient", "Patient/" + patientId}})) {
    if (team.getString("status") != "active" && !team.getString("status").empty()) continue;
    if (const json::Value* ps = team.find("participant"); ps && ps->isArray())
      for (const json::Value& p : ps->items())
        if (isKeyWorker(p))
          for (const char* key : {"onBehalfOf", "member"})
            if (std::string ods = odsOf(p.find(key)); !ods.empty()) f.keyWorkers->insert(ods);
  }
  return *f.keyWorkers;
}

const std::map<std::string, bool>& AccessPolicy::Session::sharing(const std::string& patientId) {
  Facts& f = facts(patientId);
  if (!f.sharing)
    f.sharing = planSharing(matches(policy_.compartment_->model(), *policy_.store_, "Consent",
                                    {{"patient", "Patient/" + patientId}}));
  return *f.sharing;
}

Relationship AccessPolicy::Session::relationship(const std::string& patientId) {
  return decide(patientId, /*mayGrant=*/true);
}

Relationship AccessPolicy::Session::standing(const std::string& patientId) {
  return decide(patientId, /*mayGrant=*/false);
}

bool AccessPolicy::Session::mayBreakGlass() const {
  return policy_.breakGlass_ && !requestReason_.empty() &&
         principal_.role == auth::Role::kUrgentCare && grantedPatient_.empty();
}

void AccessPolicy::Session::refresh() {
  facts_.clear();
  relationships_.clear();
}

Relationship AccessPolicy::Session::decide(const std::string& patientId, bool mayGrant) {
  seen_.insert(patientId);
  if (principal_.superuser()) return Relationship::kSuperuser;
  auto known = relationships_.find(patientId);
  if (known != relationships_.end()) return known->second;
  Relationship r = Relationship::kNone;
  if (readsPatientData() && !principal_.organisation.empty()) {
    const Facts& f = facts(patientId);
    const std::string& ods = principal_.organisation;
    if (!f.found) r = Relationship::kNone;
    else if (f.practices.count(ods)) r = Relationship::kRegisteredPractice;
    else if (keyWorkers(patientId).count(ods)) r = Relationship::kKeyWorker;
    else if (f.holders.count(ods)) r = Relationship::kRecordHolder;
    else if (policy_.breakGlass_) {
      std::string heldFor;
      if (policy_.breakGlass_->holds(principal_, patientId, &heldFor)) {
        r = Relationship::kBreakGlass;
        if (breakGlassReason_.empty()) breakGlassReason_ = heldFor;
      } else if (mayGrant && mayBreakGlass() &&
                 policy_.breakGlass_->grant(principal_, patientId, requestReason_).isOk()) {
        grantedPatient_ = patientId;
        breakGlassReason_ = requestReason_;
        r = Relationship::kBreakGlass;
      }
      if (r == Relationship::kBreakGlass) usedBreakGlass_ = true;
    }
  }
  // A kNone that a grant could still change is not kept.
  if (r != Relationship::kNone || mayGrant || !mayBreakGlass()) relationships_[patientId] = r;
  return r;
}

std::vector<std::string> AccessPolicy::Session::targetPatients(const json::Value& provenance) {
  std::vector<std::string> out;
  const json::Value* targets = provenance.find("target");
  if (!targets || !targets->isArray()) return out;
  store::ResourceStore& store = *policy_.store_;
  for (const json::Value& target : targets->items()) {
    const std::string& text = target.getString("reference");
    search::ParsedReference ref;
    if (!search::parseReference(policy_.compartment_->model(), text, ref) || ref.absolute ||
        ref.type.empty())
      continue;
    const std::string type(ref.type), id(ref.id);
    // The version targeted, or the one before it when that is a delete; the current content
    // (or the last before a delete) for an unversioned reference.
    std::string content;
    int64_t version = 0;
    if (!ref.version.empty() && ref.version.size() < 19 &&
        std::all_of(ref.version.begin(), ref.version.end(),
                    [](char c) { return c >= '0' && c <= '9'; }))
      version = std::stoll(std::string(ref.version));
    if (version > 0) {
      for (int64_t v = version; v >= 1 && v >= version - 2 && content.empty(); --v) {
        auto stored = store.vread(type, id, v);
        if (stored.isOk()) content = stored->json;
        else if (stored.status().code() != Status::Code::kGone) break;
      }
    } else if (auto current = store.read(type, id); current.isOk()) {
      content = current->json;
    } else {
      store::HistoryQuery hq;
      hq.type = type;
      hq.id = id;
      hq.count = 3;
      if (auto versions = store.history(hq); versions.isOk())
        for (const store::StoredResource& v : versions->entries)
          if (!v.deleted) {
            content = v.json;
            break;
          }
    }
    json::Value resource;
    json::ParseError err;
    if (content.empty() || !json::parse(content, resource, err)) continue;
    for (const std::string& patient : policy_.compartment_->patientsOf(resource))
      if (std::find(out.begin(), out.end(), patient) == out.end()) out.push_back(patient);
  }
  seen_.insert(out.begin(), out.end());
  return out;
}

std::vector<std::string> AccessPolicy::Session::patientsOf(const json::Value& resource) {
  std::vector<std::string> out = policy_.compartment_->patientsOf(resource);
  seen_.insert(out.begin(), out.end());
  return out;
}

bool AccessPolicy::Session::withheld(const json::Value& carePlan) {
  if (principal_.superuser()) return false;
  std::string author = authorOrganisation(carePlan);
  if (!author.empty() && author == principal_.organisation) return false;
  for (const std::string& patient : policy_.compartment_->patientsOf(carePlan)) {
    const std::map<std::string, bool>& shared = sharing(patient);
    auto it = shared.find(carePlan.getString("id") + "|" + author);
    if (it != shared.end() && !it->second) return true;
  }
  return false;
}

AccessPolicy::Verdict AccessPolicy::Session::mayRead(const json::Value& resource,
                                                     std::string* why) {
  const std::string type = resource.getString("resourceType");
  std::vector<std::string> patients = patientsOf(resource);  // noted for the audit
  if (principal_.superuser()) return Verdict::kAllow;
  if (patients.empty() && type == "Provenance") patients = targetPatients(resource);
  if (type == "Subscription") {  // its owner's organisation's only
    auto owner = ownerOf(resource);
    if (!owner || owner->organisation != principal_.organisation) {
      if (why) *why = "another client's Subscription";
      return Verdict::kDeny;
    }
    return Verdict::kAllow;
  }
  if (patients.empty()) {
    // Not patient data, unless its type belongs to the compartment (a resource that should
    // name its patient and does not: only those who read patient data at all see it).
    if (policy_.compartment_->covers(type) || type == "Patient") {
      if (!readsPatientData()) {
        if (why) *why = "role reads no patient data";
        return Verdict::kDeny;
      }
    }
    return Verdict::kAllow;
  }
  for (const std::string& p : patients)
    if (relationship(p) == Relationship::kNone) {
      if (why) *why = readsPatientData() ? "no relationship with the patient"
                                         : "role reads no patient data";
      return Verdict::kDeny;
    }
  if (type == "CarePlan" && withheld(resource)) {
    if (why) *why = "plan not shared: no consent to share";
    return Verdict::kWithhold;
  }
  return Verdict::kAllow;
}

}  // namespace acp::access
