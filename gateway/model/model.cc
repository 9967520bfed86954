#include "gateway/model/model.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <sstream>

#include "gateway/core/json.h"

namespace acp::model {

std::string choiceJsonName(std::string_view base, std::string_view typeCode) {
  std::string s(base);
  if (!typeCode.empty()) {
    s += static_cast<char>(std::toupper(static_cast<unsigned char>(typeCode[0])));
    s.append(typeCode.substr(1));
  }
  return s;
}

const ElementDef* TypeDef::findJson(std::string_view jsonName, std::string* choiceType) const {
  auto it = byJsonName.find(std::string(jsonName));
  if (it == byJsonName.end()) return nullptr;
  if (choiceType) *choiceType = it->second.type;
  return it->second.element;
}

const ElementDef* TypeDef::find(std::string_view name) const {
  for (const auto& e : elements)
    if (e.name == name) return &e;
  return nullptr;
}

bool ValueSetCodes::contains(const std::string& code) const {
  for (const auto& [system, codes] : bySystem)
    if (codes.count(code)) return true;
  return false;
}

bool ValueSetCodes::contains(const std::string& system, const std::string& code) const {
  auto it = bySystem.find(system);
  return it != bySystem.end() && it->second.count(code);
}

const TypeDef* Model::type(std::string_view name) const {
  auto it = types_.find(std::string(name));
  return it == types_.end() ? nullptr : it->second.get();
}

bool Model::isResourceType(std::string_view name) const {
  const TypeDef* t = type(name);
  return t && t->kind == TypeKind::kResource && !t->abstract;
}

bool Model::isPrimitive(std::string_view name) const {
  const TypeDef* t = type(name);
  return t && t->kind == TypeKind::kPrimitive;
}

const ValueSetCodes* Model::valueSet(std::string_view url) const {
  auto it = valueSets_.find(std::string(url));
  return it == valueSets_.end() ? nullptr : &it->second;
}

std::vector<const SearchParamDef*> Model::searchParams(std::string_view resourceType) const {
  std::vector<const SearchParamDef*> out;
  for (const char* t : {"Resource", "DomainResource"}) {
    auto it = paramsByType_.find(t);
    if (it != paramsByType_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  }
  auto it = paramsByType_.find(std::string(resourceType));
  if (it != paramsByType_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  return out;
}

const SearchParamDef* Model::searchParam(std::string_view resourceType,
                                         std::string_view code) const {
  for (const SearchParamDef* p : searchParams(resourceType))
    if (p->code == code) return p;
  return nullptr;
}

class ModelLoader {
 public:
  static Status readJson(const std::string& file, json::Value& out) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status::internal("cannot read " + file);
    std::stringstream ss;
    ss << in.rdbuf();
    json::ParseError err;
    json::ParseLimits limits;
    if (!json::parse(ss.str(), out, err, limits))
      return Status::internal(file + ": " + err.message);
    return Status::ok();
  }

  static Status loadTypes(Model& m, const json::Value& doc) {
    const json::Value* types = doc.find("types");
    if (!types || !types->isArray()) return Status::internal("types.json: no types");
    for (const json::Value& sd : types->items()) {
      auto root = std::make_unique<TypeDef>();
      root->name = sd.getString("name");
      const std::string& kind = sd.getString("kind");
      root->kind = kind == "primitive-type" ? TypeKind::kPrimitive
                   : kind == "resource"     ? TypeKind::kResource
                                            : TypeKind::kComplex;
      const json::Value* abs = sd.find("abstract");
      root->abstract = abs && abs->isBool() && abs->boolean();
      root->base = sd.getString("base");
      const json::Value* elements = sd.find("elements");
      if (!elements || !elements->isArray()) continue;
      // Containers by path: the root type and every backbone created below.
      std::unordered_map<std::string, TypeDef*> containers;
      containers[root->name] = root.get();
      std::vector<std::unique_ptr<TypeDef>> backbones;
      for (const json::Value& e : elements->items()) {
        const std::string& path = e.getString("path");
        size_t dot = path.rfind('.');
        if (dot == std::string::npos) continue;  // the root element itself
        std::string parentPath = path.substr(0, dot);
        auto parent = containers.find(parentPath);
        if (parent == containers.end())
          return Status::internal("types.json: " + path + " has no parent element");
        ElementDef def;
        def.path = path;
        def.name = path.substr(dot + 1);
        if (def.name.size() > 3 && def.name.compare(def.name.size() - 3, 3, "[x]") == 0) {
          def.choice = true;
          def.name.resize(def.name.size() - 3);
        }
        const json::Value* min = e.find("min");
        def.min = min && min->isNumber() ? std::stoi(min->text()) : 0;
        const std::string& max = e.getString("max");
        def.max = max == "*" ? -1 : (max.empty() ? 1 : std::stoi(max));
        const json::Value* flag = e.find("summary");
        def.summary = flag && flag->isBool() && flag->boolean();
        flag = e.find("modifier");
        def.modifier = flag && flag->isBool() && flag->boolean();
        if (const json::Value* rep = e.find("representation"))
          for (const auto& r : rep->items()) def.xmlAttribute |= r.text() == "xmlAttr";
        if (const json::Value* ts = e.find("types")) {
          for (const json::Value& t : ts->items()) {
            TypeRef ref;
            ref.code = t.getString("code");
            ref.regex = t.getString("regex");
            if (const json::Value* targets = t.find("targets"))
              for (const auto& x : targets->items()) ref.targets.push_back(x.text());
            def.types.push_back(std::move(ref));
          }
        }
        if (const json::Value* b = e.find("binding")) {
          def.binding.strength = b->getString("strength");
          def.binding.valueSet = b->getString("valueSet");
        }
        parent->second->elements.push_back(std::move(def));
        ElementDef& stored = parent->second->elements.back();
        const std::string& contentRef = e.getString("contentReference");
        bool inlineChildren = stored.types.size() == 1 && (stored.types[0].code == "BackboneElement" ||
                                                           stored.types[0].code == "Element");
        if (!contentRef.empty()) {
          stored.contentReference = contentRef;
        } else if (inlineChildren && root->kind != TypeKind::kPrimitive) {
          auto bb = std::make_unique<TypeDef>();
          bb->name = path;
          bb->kind = TypeKind::kBackbone;
          containers[path] = bb.get();
          backbones.push_back(std::move(bb));
        }
      }
      // Element vectors are complete now: link backbones and content references.
      for (auto& [path, container] : containers) {
        for (ElementDef& el : container->elements) {
          auto c = containers.find(el.path);
          if (c != containers.end() && c->second != container) el.backbone = c->second;
        }
      }
      for (auto& bb : backbones) m.types_[bb->name] = std::move(bb);
      m.types_[root->name] = std::move(root);
    }
    // Resolve contentReference elements (the target is a backbone path) and index JSON
    // names.
    for (auto& [name, t] : m.types_) {
      (void)name;
      for (ElementDef& el : t->elements) {
        if (!el.contentReference.empty()) {
          auto target = m.types_.find(el.contentReference);
          if (target == m.types_.end())
            return Status::internal("types.json: unresolved contentReference " + el.contentReference);
          el.backbone = target->second.get();
        }
        if (el.choice) {
          for (const TypeRef& tr : el.types)
            t->byJsonName[choiceJsonName(el.name, tr.code)] = {&el, tr.code};
        } else {
          t->byJsonName[el.name] = {&el, ""};
        }
      }
      if (t->kind == TypeKind::kResource && !t->abstract) m.resourceTypes_.push_back(t->name);
    }
    std::sort(m.resourceTypes_.begin(), m.resourceTypes_.end());
    return Status::ok();
  }

  static Status loadValueSets(Model& m, const json::Value& doc) {
    const json::Value* sets = doc.find("valueSets");
    if (!sets || !sets->isObject()) return Status::internal("valuesets.json: no valueSets");
    for (const auto& [url, systems] : sets->members()) {
      ValueSetCodes& codes = m.valueSets_[url];
      for (const auto& [system, list] : systems.members())
        for (const auto& c : list.items()) codes.bySystem[system].insert(c.text());
    }
    return Status::ok();
  }

  static Status loadSearchParams(Model& m, const json::Value& doc) {
    const json::Value* params = doc.find("searchParameters");
    if (!params || !params->isArray())
      return Status::internal("search-parameters.json: no searchParameters");
    for (const json::Value& p : params->items()) {
      auto def = std::make_unique<SearchParamDef>();
      def->url = p.getString("url");
      def->code = p.getString("code");
      def->type = p.getString("type");
      def->expression = p.getString("expression");
      if (const json::Value* base = p.find("base"))
        for (const auto& b : base->items()) def->base.push_back(b.text());
      if (const json::Value* target = p.find("target"))
        for (const auto& t : target->items()) def->target.push_back(t.text());
      for (const auto& b : def->base) m.paramsByType_[b].push_back(def.get());
      m.params_.push_back(std::move(def));
    }
    return Status::ok();
  }
};

Result<std::shared_ptr<const Model>> Model::load(const std::string& dir) {
  static std::atomic<uint64_t> nextSerial{1};
  auto m = std::make_shared<Model>();
  m->serial_ = nextSerial++;
  json::Value doc;
  Status s = ModelLoader::readJson(dir + "/types.json", doc);
  if (s.isOk()) s = ModelLoader::loadTypes(*m, doc);
  if (s.isOk()) s = ModelLoader::readJson(dir + "/valuesets.json", doc);
  if (s.isOk()) s = ModelLoader::loadValueSets(*m, doc);
  if (s.isOk()) s = ModelLoader::readJson(dir + "/search-parameters.json", doc);
  if (s.isOk()) s = ModelLoader::loadSearchParams(*m, doc);
  if (!s.isOk()) return s;
  return std::shared_ptr<const Model>(std::move(m));
}

}  // namespace acp::model
