#include "gateway/ingest/concept_maps.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace acp::ingest {

Status ConceptMaps::add(const json::Value& cm, const std::string& origin) {
  if (!cm.isObject() || cm.getString("resourceType") != "ConceptMap")
    return Status::invalid("ingest.conceptmap: " + origin + " is not a ConceptMap");
  const std::string& url = cm.getString("url");
  if (url.empty()) return Status::invalid("ingest.conceptmap: " + origin + " has no url");
  const json::Value* groups = cm.find("group");
  if (!groups || !groups->isArray())
    return Status::invalid("ingest.conceptmap: " + origin + " has no group");
  auto& table = byUrl_[url];
  for (const json::Value& g : groups->items()) {
    const std::string& system = g.getString("target");
    const json::Value* elements = g.find("element");
    if (!elements || !elements->isArray())
      return Status::invalid("ingest.conceptmap: " + origin + " has a group without elements");
    for (const json::Value& e : elements->items()) {
      const std::string& code = e.getString("code");
      const json::Value* targets = e.find("target");
      if (code.empty() || !targets || !targets->isArray())
        return Status::invalid("ingest.conceptmap: " + origin + " has an element without code "
                               "or target");
      for (const json::Value& t : targets->items()) {
        const std::string& eq = t.getString("equivalence");
        if (eq == "unmatched" || eq == "disjoint" || t.getString("code").empty()) continue;
        table.emplace(code, Coding{system, t.getString("code"), t.getString("display")});
        break;
      }
    }
  }
  const std::string& name = cm.getString("name");
  if (!name.empty()) urlByName_[name] = url;
  return Status::ok();
}

Status ConceptMaps::loadDirectory(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return Status::invalid("ingest.conceptmap: cannot read the folder " + dir);
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0) files.push_back(n);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    std::ifstream in(dir + "/" + f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    json::Value v;
    json::ParseError err;
    if (!json::parse(ss.str(), v, err))
      return Status::invalid("ingest.conceptmap: " + dir + "/" + f + " is not valid JSON");
    Status s = add(v, dir + "/" + f);
    if (!s.isOk()) return s;
  }
  return Status::ok();
}

std::optional<Coding> ConceptMaps::translate(const std::string& map,
                                             const std::string& code) const {
  auto it = byUrl_.find(map);
  if (it == byUrl_.end()) {
    auto n = urlByName_.find(map);
    if (n == urlByName_.end()) return std::nullopt;
    it = byUrl_.find(n->second);
    if (it == byUrl_.end()) return std::nullopt;
  }
  auto c = it->second.find(code);
  if (c == it->second.end()) return std::nullopt;
  return c->second;
}

bool ConceptMaps::has(const std::string& map) const {
  return byUrl_.count(map) > 0 || urlByName_.count(map) > 0;
}

std::vector<std::string> ConceptMaps::sourceCodes(const std::string& map) const {
  std::vector<std::string> out;
  auto it = byUrl_.find(map);
  if (it == byUrl_.end()) {
    auto n = urlByName_.find(map);
    if (n != urlByName_.end()) it = byUrl_.find(n->second);
  }
  if (it != byUrl_.end())
    for (const auto& [k, v] : it->second) out.push_back(k);
  return out;
}

json::Value codingValue(const Coding& c) {
  json::Value v = json::Value::makeObject();
  v.set("system", json::Value::makeString(c.system));
  v.set("code", json::Value::makeString(c.code));
  if (!c.display.empty()) v.set("display", json::Value::makeString(c.display));
  return v;
}

json::Value codeableConcept(const std::optional<Coding>& coding, const std::string& text) {
  json::Value cc = json::Value::makeObject();
  if (coding) {
    json::Value list = json::Value::makeArray();
    list.push(codingValue(*coding));
    cc.set("coding", std::move(list));
  }
  if (!text.empty()) cc.set("text", json::Value::makeString(text));
  return cc;
}

}  // namespace acp::ingest
