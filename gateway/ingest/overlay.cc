#include "gateway/ingest/overlay.h"

#include <algorithm>
#include <set>
#include <vector>

namespace acp::ingest {

namespace {

bool sameIdentifier(const json::Value& a, const json::Value& b) {
  return a.isObject() && b.isObject() && a.getString("system") == b.getString("system") &&
         a.getString("value") == b.getString("value") && !a.getString("value").empty();
}

// Rule 3: identifiers sent again without extensions keep the stored ones', and stored
// identifiers of a system the record does not send at all are kept.
void keepStoredIdentifiers(json::Value& out, const json::Value& current) {
  json::Value* ids = out.find("identifier");
  const json::Value* stored = current.find("identifier");
  if (!ids || !ids->isArray() || !stored || !stored->isArray()) return;
  std::set<std::string> sent;
  for (const json::Value& id : ids->items())
    if (id.isObject()) sent.insert(id.getString("system"));
  // Kept ones first, in their stored order (the NHS number usually leads), so an unchanged
  // record compares equal to its stored version.
  std::vector<json::Value> kept;
  for (const json::Value& s : stored->items())
    if (s.isObject() && !s.getString("system").empty() && !sent.count(s.getString("system")))
      kept.push_back(s);
  ids->items().insert(ids->items().begin(), kept.begin(), kept.end());
  for (json::Value& id : ids->items()) {
    if (!id.isObject() || id.find("extension")) continue;
    for (const json::Value& s : stored->items())
      if (sameIdentifier(id, s))
        if (const json::Value* ext = s.find("extension")) {
          id.set("extension", *ext);
          break;
        }
  }
}

}  // namespace

json::Value layOver(const json::Value& incoming, const json::Value& current,
                    const std::set<std::string>& objects, const json::Value* defaults) {
  json::Value out = incoming;
  if (current.isObject()) {
    for (const auto& [k, v] : current.members()) {
      if (k == "meta") continue;
      json::Value* mine = out.find(k);
      if (!mine) {
        out.set(k, v);
      } else if (objects.count(k) && mine->isObject() && v.isObject()) {
        for (const auto& [sk, sv] : v.members())
          if (!mine->find(sk)) mine->set(sk, sv);
      }
    }
    keepStoredIdentifiers(out, current);
  }
  if (defaults && defaults->isObject())
    for (const auto& [k, v] : defaults->members())
      if (!out.find(k)) out.set(k, v);
  stripNulls(out);
  return out;
}

json::Value fillGaps(const json::Value& current, const json::Value& older,
                     std::vector<std::string>& filled) {
  json::Value out = current;
  for (const auto& [k, v] : older.members()) {
    if (k == "identifier" && v.isArray() && out.find("identifier") &&
        out.find("identifier")->isArray()) {
      // Identifiers of a system the stored version has none of (an NHS number in an older
      // message): taken too — they say who the record is about, not what changed.
      json::Value& ids = *out.find("identifier");
      std::set<std::string> systems;
      for (const json::Value& id : ids.items()) systems.insert(id.getString("system"));
      bool took = false;
      for (const json::Value& id : v.items())
        if (id.isObject() && !id.getString("system").empty() && !systems.count(id.getString("system"))) {
          json::Value copy = id;
          stripNulls(copy);
          ids.push(std::move(copy));
          took = true;
        }
      if (took) filled.push_back(k);
      continue;
    }
    if (k == "meta" || v.isNull() || out.find(k)) continue;
    json::Value copy = v;
    stripNulls(copy);
    out.set(k, std::move(copy));
    filled.push_back(k);
  }
  return out;
}

namespace {

// Returns whether anything was removed under `v`.
bool strip(json::Value& v) {
  bool removed = false;
  if (v.isObject()) {
    auto& m = v.members();
    size_t before = m.size();
    m.erase(std::remove_if(m.begin(), m.end(),
                           [](const json::Value::Member& x) { return x.second.isNull(); }),
            m.end());
    removed = m.size() != before;
    for (auto it = m.begin(); it != m.end();) {
      json::Value& child = it->second;
      bool childRemoved = strip(child);
      removed = removed || childRemoved;
      // An object or array emptied by removals goes too (FHIR JSON has no empty ones).
      bool emptied = childRemoved && ((child.isObject() && child.members().empty()) ||
                                      (child.isArray() && child.items().empty()));
      it = emptied ? m.erase(it) : it + 1;
    }
  } else if (v.isArray()) {
    auto& items = v.items();
    size_t before = items.size();
    items.erase(std::remove_if(items.begin(), items.end(),
                               [](const json::Value& x) { return x.isNull(); }),
                items.end());
    removed = items.size() != before;
    for (json::Value& child : items) removed = strip(child) || removed;
  }
  return removed;
}

}  // namespace

void stripNulls(json::Value& v) { strip(v); }

}  // namespace acp::ingest
