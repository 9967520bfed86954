#include "gateway/ingest/profiles.h"

#include <algorithm>

#include "gateway/ingest/source_ids.h"

namespace acp::ingest {

namespace {

constexpr const char* kUkCore = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-";

bool isAdvanceCarePlan(const json::Value& carePlan) {
  const json::Value* cats = carePlan.find("category");
  if (!cats || !cats->isArray()) return false;
  for (const json::Value& c : cats->items())
    if (const json::Value* codings = c.find("coding"); codings && codings->isArray())
      for (const json::Value& coding : codings->items())
        if (coding.getString("system") == kSnomedSystem && coding.getString("code") == "736366004")
          return true;
  return false;
}

}  // namespace

std::vector<std::string> claimedProfiles(const json::Value& resource) {
  const std::string& type = resource.getString("resourceType");
  if (type == "Patient" || type == "Encounter" || type == "Condition" || type == "Consent" ||
      type == "Flag")
    return {kUkCore + type};
  if (type == "CarePlan")
    return {isAdvanceCarePlan(resource) ? std::string(kAcpCarePlanProfile) : kUkCore + type};
  return {};
}

std::vector<std::string> supportedProfiles(const std::string& type) {
  if (type == "Patient" || type == "Encounter" || type == "Condition" || type == "Consent" ||
      type == "Flag")
    return {kUkCore + type};
  if (type == "CarePlan") return {kAcpCarePlanProfile, kUkCore + type};
  return {};
}

void keepStoredLabels(json::Value& out, const json::Value& stored) {
  const json::Value* meta = stored.isObject() ? stored.find("meta") : nullptr;
  if (!meta || !meta->isObject()) return;
  for (const char* key : {"security", "tag"}) {
    const json::Value* labels = meta->find(key);
    if (!labels) continue;
    json::Value* mine = out.find("meta");
    if (!mine || !mine->isObject()) mine = &out.set("meta", json::Value::makeObject());
    if (!mine->find(key)) mine->set(key, *labels);
  }
}

void claimProfiles(json::Value& resource) {
  std::vector<std::string> urls = claimedProfiles(resource);
  json::Value* meta = resource.find("meta");
  if (urls.empty()) {
    if (meta && meta->isObject()) {
      meta->erase("profile");
      if (meta->members().empty()) resource.erase("meta");
    }
    return;
  }
  if (!meta || !meta->isObject()) {
    // Placed after the id, where FHIR's own examples have it.
    auto& m = resource.members();
    auto at = std::find_if(m.begin(), m.end(), [](const json::Value::Member& x) { return x.first == "id"; });
    at = m.insert(at == m.end() ? m.end() : at + 1, {"meta", json::Value::makeObject()});
    meta = &at->second;
  }
  json::Value list = json::Value::makeArray();
  for (const std::string& u : urls) list.push(json::Value::makeString(u));
  meta->set("profile", std::move(list));
}

}  // namespace acp::ingest
