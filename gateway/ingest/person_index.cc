#include "gateway/ingest/person_index.h"

#include <map>
#include <set>

#include "gateway/ingest/source_ids.h"

namespace acp::ingest {

namespace {

const json::Value* nhsIdentifier(const json::Value& patient) {
  if (const json::Value* ids = patient.find("identifier"); ids && ids->isArray())
    for (const json::Value& id : ids->items())
      if (id.getString("system") == kNhsNumberSystem && !id.getString("value").empty()) return &id;
  return nullptr;
}

bool skippedMember(const std::string& key) {
  return key == "resourceType" || key == "id" || key == "meta" || key == "identifier" ||
         key == "link" || key == "active";
}

// "a (X) / b (Y)" when the views hold more than one value of `element` (ignoring `neutral`).
std::string disagreement(const std::vector<const json::Value*>& views, const char* element,
                         const char* neutral) {
  std::map<std::string, std::set<std::string>> byValue;  // value → ODS codes
  for (const json::Value* v : views) {
    const std::string& value = v->getString(element);
    if (value.empty() || value == neutral) continue;
    std::string ods = sourceOdsOf(*v);
    byValue[value].insert(ods.empty() ? "unknown source" : ods);
  }
  if (byValue.size() < 2) return "";
  std::string out = std::string(element) + ": ";
  bool first = true;
  for (const auto& [value, sources] : byValue) {
    std::string who;
    for (const std::string& s : sources) who += (who.empty() ? "" : ", ") + s;
    out += (first ? "" : " / ") + value + " (" + who + ")";
    first = false;
  }
  return out;
}

// Members that are one element: "_x" with "x", and the choices of deceased[x] and
// multipleBirth[x].
std::string elementGroup(const std::string& key) {
  std::string k = key[0] == '_' ? key.substr(1) : key;
  for (const char* choice : {"deceased", "multipleBirth"})
    if (k.rfind(choice, 0) == 0) return choice;
  return k;
}

std::vector<const json::Value*> liveViews(const std::vector<json::Value>& views) {
  std::vector<const json::Value*> live;
  for (const json::Value& v : views)
    if (v.isObject() && !isRetired(v)) live.push_back(&v);
  return live;
}

}  // namespace

std::string personIdForNhsNumber(const std::string& nhsNumber) {
  return derivedId("Patient", "nhs-number", nhsNumber);
}

std::string personIdFor(const json::Value& view, const std::string& sourceId,
                        const std::string& currentPerson) {
  if (const json::Value* nhs = nhsIdentifier(view)) {
    const std::string& number = nhs->getString("value");
    if (isValidNhsNumber(number)) return personIdForNhsNumber(number);
  }
  return currentPerson.empty() ? sourceId : currentPerson;
}

bool isRetired(const json::Value& view) {
  if (const json::Value* links = view.find("link"); links && links->isArray())
    for (const json::Value& l : links->items())
      if (l.getString("type") == "replaced-by") return true;
  return false;
}

std::string nhsNumberOf(const json::Value& patient) {
  const json::Value* nhs = nhsIdentifier(patient);
  return nhs ? nhs->getString("value") : "";
}

std::string replacedByOf(const json::Value& patient) {
  if (const json::Value* links = patient.find("link"); links && links->isArray())
    for (const json::Value& l : links->items())
      if (l.getString("type") == "replaced-by")
        if (const json::Value* o = l.find("other")) {
          const std::string& ref = o->getString("reference");
          if (ref.rfind("Patient/", 0) == 0) return ref.substr(8);
        }
  return "";
}

bool isApiView(const json::Value& view) { return view.getString("id").rfind("api:", 0) == 0; }

std::string sourceOdsOf(const json::Value& view) {
  const std::string prefix = localIdentifierSystem("");
  if (const json::Value* ids = view.find("identifier"); ids && ids->isArray())
    for (const json::Value& id : ids->items()) {
      const std::string& system = id.getString("system");
      if (system.size() > prefix.size() && system.compare(0, prefix.size(), prefix) == 0)
        return system.substr(prefix.size());
    }
  return "";
}

json::Value combinePerson(const std::string& personId, const std::vector<json::Value>& views,
                          const json::Value& stored) {
  std::vector<const json::Value*> live = liveViews(views);
  json::Value out = json::Value::makeObject();
  out.set("resourceType", json::Value::makeString("Patient"));
  out.set("id", json::Value::makeString(personId));
  if (live.empty()) return out;

  // Identifiers: the NHS number of the newest view that has one, then every other identifier
  // of every view (oldest first), each system|value once.
  json::Value identifiers = json::Value::makeArray();
  std::set<std::string> seen;
  for (auto it = live.rbegin(); it != live.rend(); ++it)
    if (const json::Value* nhs = nhsIdentifier(**it)) {
      identifiers.push(*nhs);
      break;
    }
  for (const json::Value* v : live)
    if (const json::Value* ids = v->find("identifier"); ids && ids->isArray())
      for (const json::Value& id : ids->items()) {
        if (id.getString("system") == kNhsNumberSystem) continue;
        if (seen.insert(id.getString("system") + "|" + id.getString("value")).second)
          identifiers.push(id);
      }

  // A record its source merged into another (ADT^A40) still names the child: its numbers
  // stay findable, as old ones.
  for (const json::Value& v : views)
    if (v.isObject() && isRetired(v))
      if (const json::Value* ids = v.find("identifier"); ids && ids->isArray())
        for (const json::Value& id : ids->items()) {
          if (id.getString("system") == kNhsNumberSystem) continue;
          if (!seen.insert(id.getString("system") + "|" + id.getString("value")).second) continue;
          json::Value old = id;
          old.set("use", json::Value::makeString("old"));
          identifiers.push(std::move(old));
        }

  bool anyActive = false, anyActiveMember = false;
  for (const json::Value* v : live)
    if (const json::Value* a = v->find("active")) {
      anyActiveMember = true;
      anyActive = anyActive || !a->isBool() || a->boolean();
    } else {
      anyActive = true;
    }

  // Elements: the newest view's, in its order; then what only older views hold. An element
  // comes whole from one view: its primitive extension (_birthDate) with it, and one choice
  // (deceasedBoolean or deceasedDateTime) only.
  std::map<std::string, const json::Value*> owner;  // element group → the view it comes from
  if (!identifiers.items().empty()) out.set("identifier", std::move(identifiers));
  if (anyActiveMember) out.set("active", json::Value::makeBool(anyActive));
  for (auto it = live.rbegin(); it != live.rend(); ++it)
    for (const auto& [key, value] : (*it)->members()) {
      if (skippedMember(key) || skippedMember(key.substr(key[0] == '_' ? 1 : 0))) continue;
      auto [at, fresh] = owner.emplace(elementGroup(key), *it);
      if (fresh || at->second == *it) out.set(key, value);
    }
  if (stored.isObject())
    if (const json::Value* links = stored.find("link"); links && links->isArray() &&
                                                        !links->items().empty())
      out.set("link", *links);
  return out;
}

std::vector<std::string> identityMismatches(const std::vector<json::Value>& views) {
  std::vector<const json::Value*> live;
  for (const json::Value* v : liveViews(views))
    if (!isApiView(*v)) live.push_back(v);  // an API correction is not another record
  std::vector<std::string> out;
  for (const auto& [element, neutral] : {std::pair<const char*, const char*>{"birthDate", ""},
                                         {"gender", "unknown"}}) {
    std::string d = disagreement(live, element, neutral);
    if (!d.empty()) out.push_back(d);
  }
  return out;
}

}  // namespace acp::ingest
