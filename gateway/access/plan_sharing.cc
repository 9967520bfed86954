#include "gateway/access/plan_sharing.h"

#include "gateway/plan/acp_summary.h"


namespace acp::access {

const char* const kRedactedSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
const char* const kRedactedCode = "REDACTED";

namespace {

std::string carePlanIdOf(const std::string& reference) {
  const std::string prefix = "CarePlan/";
  size_t at = reference.find(prefix);
  if (at == std::string::npos || (at != 0 && reference[at - 1] != '/')) return "";
  std::string rest = reference.substr(at + prefix.size());
  return rest.substr(0, rest.find('/'));
}

}  // namespace

std::map<std::string, bool> planSharing(const std::vector<json::Value>& consents) {
  struct Latest {
    std::string date, stored;
    bool shared = false;
  };
  std::map<std::string, Latest> latest;  // "<plan id>|<ODS>"
  for (const json::Value& c : consents) {
    const json::Value* provision = c.find("provision");
    const json::Value* data = provision ? provision->find("data") : nullptr;
    if (!data || !data->isArray()) continue;
    std::vector<std::string> orgs;
    if (const json::Value* os = c.find("organization"); os && os->isArray())
      for (const json::Value& o : os->items())
        if (const json::Value* i = o.find("identifier");
            i && i->getString("system") == "https://fhir.nhs.uk/Id/ods-organization-code")
          orgs.push_back(i->getString("value"));
    if (orgs.empty()) continue;  // nobody's word: it decides nothing
    bool shared = c.getString("status") == "active" && provision->getString("type") == "permit";
    std::string date = c.getString("dateTime");
    std::string stored;
    if (const json::Value* meta = c.find("meta")) stored = meta->getString("lastUpdated");
    for (const json::Value& d : data->items()) {
      const json::Value* ref = d.find("reference");
      std::string id = ref ? carePlanIdOf(ref->getString("reference")) : "";
      if (id.empty()) continue;
      for (const std::string& ods : orgs) {
        auto it = latest.find(id + "|" + ods);
        if (it == latest.end() ||
            std::make_pair(date, stored) >= std::make_pair(it->second.date, it->second.stored))
          latest[id + "|" + ods] = {date, stored, shared};
      }
    }
  }
  std::map<std::string, bool> out;
  for (const auto& [key, l] : latest) out[key] = l.shared;
  return out;
}

std::string authorOrganisation(const json::Value& carePlan) { return plan::sourceOds(carePlan); }

json::Value withheldView(const json::Value& carePlan) {
  // Already an outline (a Bundle entry checked twice): unchanged.
  if (const json::Value* meta = carePlan.find("meta"))
    if (const json::Value* labels = meta->find("security"); labels && labels->isArray())
      for (const json::Value& l : labels->items())
        if (l.getString("system") == kRedactedSystem && l.getString("code") == kRedactedCode)
          return carePlan;
  json::Value out = json::Value::makeObject();
  for (const char* key : {"resourceType", "id", "meta", "identifier", "status", "intent",
                          "category", "subject", "period", "created", "author", "careTeam"})
    if (const json::Value* v = carePlan.find(key)) out.set(key, *v);
  json::Value* meta = out.find("meta");
  if (!meta) {
    out.set("meta", json::Value::makeObject());
    meta = out.find("meta");
  }
  json::Value label = json::Value::makeObject();
  label.set("system", json::Value::makeString(kRedactedSystem));
  label.set("code", json::Value::makeString(kRedactedCode));
  label.set("display", json::Value::makeString("redacted"));
  json::Value* security = meta->find("security");
  if (!security || !security->isArray()) {
    meta->set("security", json::Value::makeArray());
    security = meta->find("security");
  }
  security->items().push_back(std::move(label));
  std::string ods = authorOrganisation(carePlan);
  out.set("title", json::Value::makeString("Advance care plan not shared"));
  json::Value note = json::Value::makeObject();
  note.set("text", json::Value::makeString(
                       "This plan's content is not shared: there is no consent to share it, or "
                       "consent was withdrawn. Contact " +
                       (ods.empty() ? std::string("the organisation that recorded it")
                                    : "the recording organisation (ODS " + ods + ")") +
                       " or the care team named here."));
  json::Value notes = json::Value::makeArray();
  notes.items().push_back(std::move(note));
  out.set("note", std::move(notes));
  return out;
}

}  // namespace acp::access
