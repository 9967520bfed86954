// _summary / _elements. The reduced copy is built member by member (never copy-then-erase),
// and subsetted resources get meta.tag SUBSETTED only when something was really removed.
//
// Choices made where R4 leaves room (search.html#summary, #elements):
//  - _summary=true keeps, at every level, the elements marked isSummary plus modifiers and
//    mandatory elements (min > 0), so the result still validates and no modifier is lost.
//    `_name` companions are dropped with it (Element.id / Element.extension are not summary);
//    a primitive array then loses the null slots that only carried extensions. Objects and
//    array items left empty are dropped. Nested resources (Bundle.entry.resource) are
//    summarised in turn and tagged themselves.
//  - _summary=text keeps resourceType, id, meta, text and the mandatory top-level elements,
//    each whole.
//  - _summary=data removes the top-level text only.
//  - _elements keeps the named top-level elements (a choice by its base name "value" or its
//    JSON name "valueQuantity"; "name.family" keeps "name" whole, as R4 names top-level
//    elements only), plus resourceType, id, meta, mandatory elements and modifiers.
#include "gateway/model/summary.h"

#include <string_view>

namespace acp::model {
namespace {

using json::Value;

constexpr const char* kSubsettedSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

// The type holding the children of `el` (for the chosen type of a choice).
const TypeDef* childType(const Model& model, const ElementDef& el, const std::string& chosen) {
  if (el.backbone && !el.choice) return el.backbone;
  if (el.choice) return model.type(chosen);
  if (el.types.empty()) return nullptr;
  return model.type(el.types[0].code);
}

// Adds meta.tag SUBSETTED (once) to a resource object, placing a new meta after id.
void addSubsettedTag(Value& resource) {
  Value* meta = resource.find("meta");
  if (!meta || !meta->isObject()) {
    auto& members = resource.members();
    size_t at = 0;
    for (size_t i = 0; i < members.size(); ++i)
      if (members[i].first == "resourceType" || members[i].first == "id") at = i + 1;
    if (meta) resource.erase("meta");
    members.insert(members.begin() + static_cast<std::ptrdiff_t>(at),
                   Value::Member("meta", Value::makeObject()));
    meta = &members[at].second;
  }
  Value* tags = meta->find("tag");
  if (!tags || !tags->isArray()) tags = &meta->set("tag", Value::makeArray());
  for (const Value& t : tags->items())
    if (t.isObject() && t.getString("system") == kSubsettedSystem &&
        t.getString("code") == "SUBSETTED")
      return;
  Value tag = Value::makeObject();
  tag.set("system", Value::makeString(kSubsettedSystem));
  tag.set("code", Value::makeString("SUBSETTED"));
  tags->push(std::move(tag));
}

class Summariser {
 public:
  explicit Summariser(const Model& model) : model_(model) {}

  // _summary=true on one resource; `removed` is set when anything was dropped.
  Value resource(const Value& in, bool& removed) {
    const TypeDef* type = in.isObject() ? model_.type(in.getString("resourceType")) : nullptr;
    if (!type || type->kind != TypeKind::kResource || ++depth_ > 64) return in;
    bool own = false;
    Value out = object(in, *type, true, own);
    --depth_;
    if (own) {
      addSubsettedTag(out);
      removed = true;
    }
    return out;
  }

 private:
  static bool keep(const ElementDef& el) { return el.summary || el.modifier || el.min > 0; }

  Value object(const Value& in, const TypeDef& type, bool root, bool& removed) {
    Value out = Value::makeObject();
    out.members().reserve(in.members().size());
    for (const auto& [name, value] : in.members()) {
      if (root && name == "resourceType") {
        out.members().emplace_back(name, value);
        continue;
      }
      if (name.size() > 1 && name[0] == '_') {  // primitive extensions are not summary
        removed = true;
        continue;
      }
      std::string chosen;
      const ElementDef* el = type.findJson(name, &chosen);
      if (!el || !keep(*el)) {
        removed = true;
        continue;
      }
      const TypeDef* child = childType(model_, *el, chosen);
      Value v = element(value, child, removed);
      if (v.isNull()) {
        removed = true;
        continue;
      }
      out.members().emplace_back(name, std::move(v));
    }
    return out;
  }

  // One element's value reduced; null when nothing is left.
  Value element(const Value& value, const TypeDef* type, bool& removed) {
    if (!type) return value;
    if (value.isArray()) {
      Value out = Value::makeArray();
      out.items().reserve(value.items().size());
      for (const Value& item : value.items()) {
        if (item.isNull()) {  // a slot that only carried an extension in `_name`
          removed = true;
          continue;
        }
        Value v = single(item, *type, removed);
        if (v.isNull()) {
          removed = true;
          continue;
        }
        out.push(std::move(v));
      }
      if (out.items().empty()) return Value();
      return out;
    }
    return single(value, *type, removed);
  }

  Value single(const Value& value, const TypeDef& type, bool& removed) {
    if (type.kind == TypeKind::kPrimitive || !value.isObject()) return value;
    if (type.kind == TypeKind::kResource) return resource(value, removed);
    if (++depth_ > 64) {
      --depth_;
      return value;
    }
    Value out = object(value, type, false, removed);
    --depth_;
    if (out.members().empty()) return Value();
    return out;
  }

  const Model& model_;
  int depth_ = 0;
};

// Keeps the top-level members for which `wanted(el, jsonKey)` holds (resourceType always).
template <typename Pred>
Value filterTopLevel(const Model& model, const Value& resource, Pred wanted) {
  const TypeDef* type =
      resource.isObject() ? model.type(resource.getString("resourceType")) : nullptr;
  if (!type || type->kind != TypeKind::kResource) return resource;
  Value out = Value::makeObject();
  bool removed = false;
  for (const auto& [name, value] : resource.members()) {
    if (name == "resourceType") {
      out.members().emplace_back(name, value);
      continue;
    }
    std::string_view key = name;
    if (key.size() > 1 && key[0] == '_') key.remove_prefix(1);
    const ElementDef* el = type->findJson(key);
    if (el && wanted(*el, key)) {
      out.members().emplace_back(name, value);
    } else {
      removed = true;
    }
  }
  if (removed) addSubsettedTag(out);
  return out;
}

bool alwaysKept(const ElementDef& el) { return el.name == "id" || el.name == "meta" || el.min > 0; }

}  // namespace

Value applySummary(const Model& model, const Value& resource, search::SummaryMode mode) {
  switch (mode) {
    case search::SummaryMode::kNone:
    case search::SummaryMode::kFalse:
    case search::SummaryMode::kCount:
      return resource;
    case search::SummaryMode::kTrue: {
      Summariser s(model);
      bool removed = false;
      return s.resource(resource, removed);
    }
    case search::SummaryMode::kText:
      return filterTopLevel(model, resource, [](const ElementDef& el, std::string_view) {
        return alwaysKept(el) || el.name == "text";
      });
    case search::SummaryMode::kData:
      return filterTopLevel(model, resource, [](const ElementDef& el, std::string_view) {
        return el.name != "text";
      });
  }
  return resource;
}

Value applyElements(const Model& model, const Value& resource,
                    const std::vector<std::string>& elements) {
  std::vector<std::string_view> names;
  names.reserve(elements.size());
  for (const std::string& e : elements) {
    std::string_view n = e;
    while (!n.empty() && n.front() == ' ') n.remove_prefix(1);
    while (!n.empty() && n.back() == ' ') n.remove_suffix(1);
    if (size_t dot = n.find('.'); dot != std::string_view::npos) n = n.substr(0, dot);
    if (!n.empty()) names.push_back(n);
  }
  return filterTopLevel(model, resource, [&](const ElementDef& el, std::string_view key) {
    if (alwaysKept(el) || el.modifier) return true;
    for (std::string_view n : names)
      if (n == key || n == el.name) return true;
    return false;
  });
}

}  // namespace acp::model
