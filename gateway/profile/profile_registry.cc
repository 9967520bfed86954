#include "gateway/profile/profile_registry.h"

#include <dirent.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>

#include "gateway/model/validator.h"
#include "gateway/model/xml_format.h"

namespace acp::profile {

std::string_view withoutVersion(std::string_view canonical) {
  size_t bar = canonical.find('|');
  return bar == std::string_view::npos ? canonical : canonical.substr(0, bar);
}

std::string_view coreTypeOf(std::string_view url) {
  constexpr std::string_view kCore = "http://hl7.org/fhir/StructureDefinition/";
  url = withoutVersion(url);
  if (url.size() <= kCore.size() || url.compare(0, kCore.size(), kCore) != 0) return {};
  std::string_view rest = url.substr(kCore.size());
  if (rest.find('/') != std::string_view::npos) return {};
  return rest;
}

std::vector<const StructureDef*> StructureDef::chain() const {
  std::vector<const StructureDef*> out;
  for (const StructureDef* s = this; s && out.size() < 64; s = s->base) out.push_back(s);
  return out;
}

const StructureDef* ProfileRegistry::structure(std::string_view url) const {
  auto it = structures_.find(std::string(withoutVersion(url)));
  return it == structures_.end() ? nullptr : it->second.get();
}

std::vector<std::string> ProfileRegistry::structureUrls() const {
  std::vector<std::string> out;
  out.reserve(structures_.size());
  for (const auto& [url, sd] : structures_) out.push_back(url);
  std::sort(out.begin(), out.end());
  return out;
}

const ValueSetContent* ProfileRegistry::valueSet(std::string_view url) const {
  auto it = valueSets_.find(std::string(withoutVersion(url)));
  if (it == valueSets_.end() || !it->second) return nullptr;
  return &*it->second;
}

const model::ValueSetCodes* ProfileRegistry::valueSetCodes(std::string_view url) const {
  if (const ValueSetContent* own = valueSet(url)) return &own->codes;
  return model_->valueSet(withoutVersion(url));
}

bool ProfileRegistry::knowsValueSet(std::string_view url) const {
  return valueSets_.count(std::string(withoutVersion(url))) > 0;
}

const std::unordered_set<std::string>* ProfileRegistry::codeSystem(std::string_view url) const {
  auto it = codeSystems_.find(std::string(withoutVersion(url)));
  return it == codeSystems_.end() ? nullptr : &it->second;
}

class RegistryLoader {
 public:
  explicit RegistryLoader(ProfileRegistry& reg) : reg_(reg), validator_(reg.model_) {}

  Status readDirectory(const std::string& dir, std::vector<ProfileRegistry::Source>& out) {
    DIR* d = opendir(dir.c_str());
    if (!d) return Status::internal("profile: cannot read the folder " + dir);
    std::vector<std::string> files;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (endsWith(n, ".json") || endsWith(n, ".xml")) files.push_back(n);
    }
    closedir(d);
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      std::string path = dir + "/" + f;
      std::ifstream in(path, std::ios::binary);
      if (!in) return Status::internal("profile: cannot read " + path);
      std::stringstream ss;
      ss << in.rdbuf();
      ProfileRegistry::Source src;
      src.name = path;
      if (endsWith(f, ".json")) {
        json::ParseError err;
        if (!json::parse(ss.str(), src.resource, err))
          return Status::internal("profile: " + path + " is not valid JSON: " + err.message);
      } else {
        IssueList issues;
        if (!model::xmlToJson(*reg_.model_, ss.str(), src.resource, issues))
          return Status::internal("profile: " + path +
                                  " is not valid FHIR XML: " + firstProblem(issues));
      }
      out.push_back(std::move(src));
    }
    return Status::ok();
  }

  Status add(const ProfileRegistry::Source& src) {
    const std::string& rt = src.resource.getString("resourceType");
    if (rt != "StructureDefinition" && rt != "ValueSet" && rt != "CodeSystem")
      return Status::ok();  // not a definition the registry reads
    IssueList issues;
    if (!validator_.validate(src.resource, issues))
      return Status::internal("profile: " + src.name + " is not a valid R4 " + rt + ": " +
                              firstProblem(issues));
    std::string url(withoutVersion(src.resource.getString("url")));
    if (url.empty()) return Status::internal("profile: " + src.name + " has no url");
    if (rt == "StructureDefinition") return addStructure(src, url);
    if (rt == "ValueSet") {
      if (!valueSetSources_.emplace(url, &src).second)
        return Status::internal("profile: two ValueSets with the url " + url);
      return Status::ok();
    }
    return addCodeSystem(src, url);
  }

  Status finish() {
    for (auto& [url, sd] : reg_.structures_) {
      Status s = resolveBase(*sd);
      if (!s.isOk()) return s;
    }
    for (auto& [url, sd] : reg_.structures_) {
      size_t depth = 0;
      for (const StructureDef* b = sd->base; b; b = b->base) {
        if (++depth > 32 || b == sd.get())
          return Status::internal("profile: the baseDefinition chain of " + url + " is circular");
      }
    }
    for (const auto& [url, src] : valueSetSources_) {
      (void)src;
      expand(url);
    }
    return Status::ok();
  }

 private:
  static bool endsWith(const std::string& s, const char* suffix) {
    size_t n = std::char_traits<char>::length(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
  }

  static std::string firstProblem(const IssueList& issues) {
    for (const Issue& i : issues.issues()) {
      if (i.severity == Severity::kError || i.severity == Severity::kFatal)
        return (i.location.empty() ? "" : i.location + ": ") + i.message;
    }
    return "invalid";
  }

  // ---- StructureDefinitions ----------------------------------------------------------------

  Status addStructure(const ProfileRegistry::Source& src, const std::string& url) {
    const json::Value& r = src.resource;
    auto sd = std::make_unique<StructureDef>();
    sd->url = url;
    sd->id = r.getString("id");
    sd->name = r.getString("name");
    sd->kind = r.getString("kind");
    sd->type = r.getString("type");
    sd->source = src.name;
    sd->baseDefinition = std::string(withoutVersion(r.getString("baseDefinition")));
    if (!sd->id.empty()) {
      sd->label = sd->id;
    } else {
      size_t slash = url.rfind('/');
      sd->label = slash == std::string::npos ? url : url.substr(slash + 1);
    }
    if (r.getString("derivation") != "constraint")
      return Status::internal("profile: " + src.name +
                              ": only derivation \"constraint\" is "
                              "supported");
    if (!reg_.model_->type(sd->type))
      return Status::internal("profile: " + src.name + ": type '" + sd->type +
                              "' is not an R4 type");
    if (sd->baseDefinition.empty())
      return Status::internal("profile: " + src.name + " has no baseDefinition");
    if (const json::Value* ctx = r.find("context"); ctx && ctx->isArray()) {
      for (const json::Value& c : ctx->items())
        sd->contexts.push_back({c.getString("type"), c.getString("expression")});
    }
    sd->root.id = sd->type;
    sd->byId[sd->type] = &sd->root;
    if (const json::Value* diff = r.find("differential")) {
      if (const json::Value* elements = diff->find("element"); elements && elements->isArray()) {
        for (const json::Value& e : elements->items()) {
          Status s = addElement(*sd, e, src.name);
          if (!s.isOk()) return s;
        }
      }
    }
    std::string key = sd->url;
    if (reg_.structures_.count(key))
      return Status::internal("profile: two StructureDefinitions with the url " + key);
    reg_.structures_.emplace(std::move(key), std::move(sd));
    return Status::ok();
  }

  struct Segment {
    std::string name;  // without [x]
    bool choice = false;
    std::string slice;
  };

  static std::vector<Segment> splitId(const std::string& id) {
    std::vector<Segment> out;
    size_t start = 0;
    while (start <= id.size()) {
      size_t dot = id.find('.', start);
      std::string part =
          id.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      Segment s;
      size_t colon = part.find(':');
      s.name = part.substr(0, colon);
      if (colon != std::string::npos) s.slice = part.substr(colon + 1);
      if (s.name.size() > 3 && s.name.compare(s.name.size() - 3, 3, "[x]") == 0) {
        s.choice = true;
        s.name.resize(s.name.size() - 3);
      }
      out.push_back(std::move(s));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return out;
  }

  // The R4 type named by the type suffix of fixedUri / patternCodeableConcept.
  std::string typeFromSuffix(const std::string& suffix) const {
    if (suffix.empty()) return {};
    if (reg_.model_->type(suffix)) return suffix;
    std::string lower = suffix;
    lower[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[0])));
    if (reg_.model_->type(lower)) return lower;
    return {};
  }

  Status addElement(StructureDef& sd, const json::Value& e, const std::string& file) {
    std::string id = e.getString("id");
    const std::string& path = e.getString("path");
    if (id.empty()) {
      id = path;
      const std::string& slice = e.getString("sliceName");
      if (!slice.empty()) id += ":" + slice;
    }
    std::vector<Segment> segs = splitId(id);
    if (segs.empty() || segs[0].name != sd.type || !segs[0].slice.empty())
      return Status::internal("profile: " + file + ": element " + id + " is not in " + sd.type);

    ElementConstraint c;
    auto count = [](const std::string& text, std::optional<int>& out) {
      int v = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v < 0) return false;
      out = v;
      return true;
    };
    if (const json::Value* min = e.find("min"); min && !count(min->text(), c.min))
      return Status::internal("profile: " + file + ": " + id + ": min is not a count");
    if (const json::Value* max = e.find("max")) {
      if (max->text() == "*") {
        c.max = -1;
      } else if (!count(max->text(), c.max)) {
        return Status::internal("profile: " + file + ": " + id + ": max is neither a count nor *");
      }
    }
    for (const auto& member : e.members()) {
      const std::string& key = member.first;  // named, not a structured binding: a lambda
      const json::Value& value = member.second;  // may capture it before C++20 (clang)
      auto suffixed = [&](const char* prefix, std::string& type, json::Value& out) {
        size_t n = std::char_traits<char>::length(prefix);
        if (key.size() > n && key.compare(0, n, prefix) == 0 &&
            std::isupper(static_cast<unsigned char>(key[n]))) {
          type = typeFromSuffix(key.substr(n));
          out = value;
          return true;
        }
        return false;
      };
      if (suffixed("fixed", c.fixedType, c.fixed) && c.fixedType.empty())
        return Status::internal("profile: " + file + ": " + id + ": unknown type in " + key);
      if (suffixed("pattern", c.patternType, c.pattern) && c.patternType.empty())
        return Status::internal("profile: " + file + ": " + id + ": unknown type in " + key);
    }
    if (const json::Value* types = e.find("type"); types && types->isArray()) {
      for (const json::Value& t : types->items()) {
        TypeConstraint tc;
        tc.code = t.getString("code");
        if (const json::Value* p = t.find("profile"); p && p->isArray())
          for (const json::Value& x : p->items())
            tc.profiles.emplace_back(withoutVersion(x.text()));
        if (const json::Value* p = t.find("targetProfile"); p && p->isArray())
          for (const json::Value& x : p->items())
            tc.targetProfiles.emplace_back(withoutVersion(x.text()));
        c.types.push_back(std::move(tc));
      }
    }
    if (const json::Value* b = e.find("binding")) {
      c.binding.strength = b->getString("strength");
      c.binding.valueSet = std::string(withoutVersion(b->getString("valueSet")));
    }
    if (const json::Value* s = e.find("slicing")) {
      Slicing sl;
      if (const json::Value* ds = s->find("discriminator"); ds && ds->isArray()) {
        for (const json::Value& d : ds->items()) {
          Discriminator disc;
          const std::string& type = d.getString("type");
          disc.kind = type == "pattern"   ? Discriminator::Kind::kPattern
                      : type == "exists"  ? Discriminator::Kind::kExists
                      : type == "type"    ? Discriminator::Kind::kType
                      : type == "profile" ? Discriminator::Kind::kProfile
                                          : Discriminator::Kind::kValue;
          disc.path = d.getString("path");
          sl.discriminators.push_back(std::move(disc));
        }
      }
      if (const std::string& rules = s->getString("rules"); !rules.empty()) sl.rules = rules;
      const json::Value* ordered = s->find("ordered");
      sl.ordered = ordered && ordered->isBool() && ordered->boolean();
      c.slicing = std::move(sl);
    }

    // Check the path against the model and find (or create) the node.
    const model::Model& m = *reg_.model_;
    const model::TypeDef* td = m.type(sd.type);
    ElementNode* node = &sd.root;
    std::string nodeId = sd.type;
    for (size_t i = 1; i < segs.size(); ++i) {
      const Segment& seg = segs[i];
      const model::ElementDef* el = nullptr;
      std::string chosen;
      if (td) {
        el = td->find(seg.name);
        if (!el) {
          el = td->findJson(seg.name, &chosen);
          if (el && !el->choice) el = nullptr;
        }
        if (!el)
          return Status::internal("profile: " + file + ": " + id + ": '" + seg.name +
                                  "' is not an element of " + td->name);
      }
      nodeId += "." + seg.name + (seg.choice ? "[x]" : "");
      ElementGroup* group = nullptr;
      for (ElementGroup& g : node->groups)
        if (g.name == seg.name) group = &g;
      if (!group) {
        node->groups.emplace_back();
        group = &node->groups.back();
        group->name = seg.name;
        group->choice = seg.choice || (el && el->choice && chosen.empty());
        group->element = std::make_unique<ElementNode>();
        group->element->id = nodeId;
        sd.byId[nodeId] = group->element.get();
      }
      ElementNode* next = group->element.get();
      if (!seg.slice.empty()) {
        nodeId += ":" + seg.slice;
        next = nullptr;
        for (auto& s : group->slices)
          if (s->sliceName == seg.slice) next = s.get();
        if (!next) {
          group->slices.push_back(std::make_unique<ElementNode>());
          next = group->slices.back().get();
          next->id = nodeId;
          next->sliceName = seg.slice;
          sd.byId[nodeId] = next;
        }
      }
      node = next;
      // The type of the next level, when it is known.
      const model::TypeDef* nextType = nullptr;
      if (el) {
        if (el->backbone && !el->choice) {
          nextType = el->backbone;
        } else if (!chosen.empty()) {
          nextType = m.type(chosen);
        } else if (el->choice) {
          // Children of a choice: through a type slice (value[x]:valueQuantity) or an earlier
          // element restricting it to one type.
          if (!seg.slice.empty()) {
            std::string t;
            if (td->findJson(seg.slice, &t) && !t.empty()) nextType = m.type(t);
          } else if (const ElementNode* n = node;
                     n->constraint && n->constraint->types.size() == 1) {
            nextType = m.type(n->constraint->types[0].code);
          }
        } else if (!el->types.empty()) {
          nextType = m.type(el->types[0].code);
        }
      }
      td = nextType;
    }
    if (node->constraint)
      return Status::internal("profile: " + file + ": element id " + id + " appears twice");
    node->constraint = std::move(c);
    return Status::ok();
  }

  Status resolveBase(StructureDef& sd) {
    auto it = reg_.structures_.find(sd.baseDefinition);
    if (it != reg_.structures_.end()) {
      if (it->second->type != sd.type)
        return Status::internal("profile: " + sd.url + " constrains " + sd.type + " but its base " +
                                sd.baseDefinition + " is a " + it->second->type);
      sd.base = it->second.get();
      return Status::ok();
    }
    if (coreTypeOf(sd.baseDefinition) == sd.type) return Status::ok();
    return Status::internal("profile: the baseDefinition " + sd.baseDefinition + " of " + sd.url +
                            " is neither the core " + sd.type + " nor a loaded profile");
  }

  // ---- terminology ---------------------------------------------------------------------------

  Status addCodeSystem(const ProfileRegistry::Source& src, const std::string& url) {
    if (src.resource.getString("content") != "complete") return Status::ok();
    std::unordered_set<std::string> codes;
    std::function<void(const json::Value&)> collect = [&](const json::Value& list) {
      if (!list.isArray()) return;
      for (const json::Value& c : list.items()) {
        const std::string& code = c.getString("code");
        if (!code.empty()) codes.insert(code);
        if (const json::Value* nested = c.find("concept")) collect(*nested);
      }
    };
    if (const json::Value* concepts = src.resource.find("concept")) collect(*concepts);
    if (!reg_.codeSystems_.emplace(url, std::move(codes)).second)
      return Status::internal("profile: two CodeSystems with the url " + url);
    return Status::ok();
  }

  // Expands one value set (memoised; a cycle or anything not enumerable gives nullopt).
  const std::optional<ValueSetContent>& expand(const std::string& url) {
    static const std::optional<ValueSetContent> kNone;
    auto done = reg_.valueSets_.find(url);
    if (done != reg_.valueSets_.end()) return done->second;
    auto src = valueSetSources_.find(url);
    if (src == valueSetSources_.end()) return kNone;
    if (!expanding_.insert(url).second) return kNone;  // circular
    std::optional<ValueSetContent> out = expandSource(src->second->resource);
    expanding_.erase(url);
    return reg_.valueSets_[url] = std::move(out);
  }

  std::optional<ValueSetContent> expandSource(const json::Value& vs) {
    ValueSetContent out;
    if (const json::Value* exp = vs.find("expansion")) {
      const json::Value* contains = exp->find("contains");
      if (!contains || !contains->isArray()) return std::nullopt;
      std::function<void(const json::Value&)> collect = [&](const json::Value& list) {
        for (const json::Value& c : list.items()) {
          const std::string& code = c.getString("code");
          if (!code.empty()) out.codes.bySystem[c.getString("system")].insert(code);
          if (const json::Value* nested = c.find("contains"); nested && nested->isArray())
            collect(*nested);
        }
      };
      collect(*contains);
      return out;
    }
    const json::Value* compose = vs.find("compose");
    if (!compose) return std::nullopt;
    if (const json::Value* includes = compose->find("include"); includes && includes->isArray()) {
      for (const json::Value& inc : includes->items()) {
        if (inc.find("filter")) return std::nullopt;
        const std::string system(withoutVersion(inc.getString("system")));
        const json::Value* concepts = inc.find("concept");
        ValueSetContent part;
        bool haveSystemPart = false;
        if (!system.empty()) {
          haveSystemPart = true;
          if (concepts && concepts->isArray()) {
            for (const json::Value& c : concepts->items())
              part.codes.bySystem[system].insert(c.getString("code"));
          } else {
            auto cs = reg_.codeSystems_.find(system);
            if (cs == reg_.codeSystems_.end()) return std::nullopt;
            part.codes.bySystem[system] = cs->second;
            part.completeSystems.insert(system);
          }
        }
        // include.valueSet: the intersection of the listed sets (and of the system part).
        if (const json::Value* sets = inc.find("valueSet"); sets && sets->isArray()) {
          for (const json::Value& ref : sets->items()) {
            const std::optional<ValueSetContent>& other =
                expand(std::string(withoutVersion(ref.text())));
            if (!other) return std::nullopt;
            if (!haveSystemPart) {
              part = *other;
              haveSystemPart = true;
              continue;
            }
            ValueSetContent both;
            for (const auto& [sys, codes] : part.codes.bySystem) {
              auto o = other->codes.bySystem.find(sys);
              if (o == other->codes.bySystem.end()) continue;
              for (const std::string& code : codes)
                if (o->second.count(code)) both.codes.bySystem[sys].insert(code);
            }
            for (const std::string& sys : part.completeSystems)
              if (other->completeSystems.count(sys)) both.completeSystems.insert(sys);
            part = std::move(both);
          }
        }
        for (auto& [sys, codes] : part.codes.bySystem)
          out.codes.bySystem[sys].insert(codes.begin(), codes.end());
        out.completeSystems.insert(part.completeSystems.begin(), part.completeSystems.end());
      }
    }
    if (const json::Value* excludes = compose->find("exclude"); excludes && excludes->isArray()) {
      for (const json::Value& exc : excludes->items()) {
        const std::string system(withoutVersion(exc.getString("system")));
        const json::Value* concepts = exc.find("concept");
        if (system.empty() || !concepts || !concepts->isArray() || exc.find("filter"))
          return std::nullopt;
        for (const json::Value& c : concepts->items())
          out.codes.bySystem[system].erase(c.getString("code"));
        // Not the whole system any more; codes outside the set may still be valid ones.
        out.completeSystems.erase(system);
      }
    }
    return out;
  }

  ProfileRegistry& reg_;
  model::Validator validator_;
  std::unordered_map<std::string, const ProfileRegistry::Source*> valueSetSources_;
  std::unordered_set<std::string> expanding_;
};

Result<std::shared_ptr<const ProfileRegistry>> ProfileRegistry::load(
    std::shared_ptr<const model::Model> model, const std::vector<std::string>& dirs,
    std::vector<Source> extra) {
  if (!model) return Status::internal("profile: no model");
  auto reg = std::shared_ptr<ProfileRegistry>(new ProfileRegistry());
  reg->model_ = std::move(model);
  RegistryLoader loader(*reg);
  std::vector<Source> sources;
  for (const std::string& dir : dirs) {
    Status s = loader.readDirectory(dir, sources);
    if (!s.isOk()) return s;
  }
  for (Source& e : extra) sources.push_back(std::move(e));
  for (const Source& src : sources) {
    Status s = loader.add(src);
    if (!s.isOk()) return s;
  }
  Status s = loader.finish();
  if (!s.isOk()) return s;
  return std::shared_ptr<const ProfileRegistry>(std::move(reg));
}

}  // namespace acp::profile
