#include "gateway/plan/consent_sharing.h"

#include "gateway/plan/acp_summary.h"

namespace acp::plan {

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

bool shared(const json::Value& carePlan, const std::map<std::string, bool>& sharing) {
  auto it = sharing.find(carePlan.getString("id") + "|" + sourceOds(carePlan));
  return it == sharing.end() || it->second;
}

}  // namespace acp::plan
