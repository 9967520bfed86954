// Validator implementation. Error codes introduced here (issue type in brackets):
//
//   validate.no-model                 [processing] the validator was built without a model
//   validate.object-expected          [structure] a resource or complex value is not a JSON object
//   validate.array-expected           [structure] an element with max > 1 is not a JSON array
//   validate.array-unexpected         [structure] an element with max = 1 is a JSON array
//   validate.primitive-expected       [structure] a primitive element holds an object or array
//   validate.json-type                [structure] a primitive has the wrong JSON kind (e.g. the
//                                     string "true" for a boolean, a number for a date)
//   validate.null-value               [structure] null where no value may be: a single value,
//                                     a complex or resource value, a single `_name`
//                                     companion, or an array slot whose `_name` companion
//                                     carries nothing at that index
//   validate.empty-object             [structure] {} (FHIR JSON forbids empty objects)
//   validate.empty-array              [structure] [] (FHIR JSON forbids empty arrays)
//   validate.empty-string             [value] "" (FHIR JSON forbids empty strings)
//   validate.unknown-element          [structure] a property the model does not define
//   validate.choice-multiple          [structure] two variants of one choice element
//                                     (valueString and valueBoolean)
//   validate.companion-not-primitive  [structure] a `_name` companion for a non-primitive
//   validate.companion-length         [structure] `name` and `_name` arrays differ in length
//   validate.required                 [required] an element with min > 0 is absent
//   validate.too-many                 [structure] more array items than the element's max
//   validate.format                   [value] a primitive value breaks its type's format
//   validate.string-too-long          [too-long] a string / markdown / code / id over 1 MB
//   validate.xhtml-unsafe             [invariant] narrative with script, forbidden elements,
//                                     event handlers or script URLs (txt-1)
//   validate.extension-value-and-children [invariant] an extension with both a value and
//                                     nested extensions (ext-1)
//   validate.code-invalid             [code-invalid] a code outside its required value set
//   validate.code-missing             [code-invalid] a Coding / CodeableConcept under a
//                                     required binding with no code from the value set
//   validate.reference-format         [value] Reference.reference is not Type/id,
//                                     Type/id/_history/vid, an http(s) URL, #fragment,
//                                     urn:uuid, urn:oid (or Type?query in a transaction/batch)
//   validate.reference-target         [invalid] the referenced type is not an allowed target
//   validate.reference-fragment       [invalid] "#id" matches no contained resource, or "#"
//                                     used outside a contained resource
//   validate.resource-type-missing    [required] no resourceType
//   validate.resource-type-unknown    [value] resourceType is not a concrete resource type
//   validate.resource-type-not-allowed [invalid] a nested resource of a type the element
//                                     does not allow (Bundle.entry.response.outcome)
//   validate.type-mismatch            [invalid] resourceType differs from the expected type
//   validate.contained-id-missing     [required] a contained resource without an id
//   validate.contained-nested         [structure] a contained resource containing resources
//   validate.contained-duplicate-id   [invariant] two contained resources with one id
//   validate.contained-meta           [invariant] a contained resource with meta.versionId /
//                                     meta.lastUpdated (dom-4)
//   validate.contained-unreferenced   [invariant, warning] a contained resource nothing
//                                     refers to and that does not refer to its container (dom-3)
//   validate.too-deep                 [structure] nesting deeper than the validator follows
#include "gateway/model/validator.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "gateway/model/primitives.h"

namespace acp::model {

// Named (not anonymous) because Validator::Index derives from Tables.
namespace validator_detail {

using primitives::Primitive;

enum class Category : unsigned char { kNone, kPrimitive, kComplex, kResource };
enum class BindKind : unsigned char { kNone, kCode, kCoding, kCodeableConcept };

constexpr int kMaxDepth = 128;

struct TypeInfo;

// One JSON property name of one type: the element, its (chosen) type, resolved once.
struct Slot {
  const ElementDef* el = nullptr;
  uint32_t index = 0;  // position of el in its TypeDef::elements
  Category cat = Category::kNone;
  Primitive prim = Primitive::kUnknown;
  const TypeInfo* info = nullptr;  // complex or backbone type
  const TypeRef* ref = nullptr;    // the chosen type (targets), nullptr for contentReference
  std::string_view resourceType;   // for kResource: required type ("Resource" = any)
  const ValueSetCodes* valueSet = nullptr;  // required, enumerable binding
  BindKind bind = BindKind::kNone;
  bool array = false;
  bool contained = false;  // DomainResource.contained
};

struct TypeInfo {
  const TypeDef* def = nullptr;
  std::unordered_map<std::string_view, Slot> byJson;
  std::vector<uint32_t> required;  // element indexes with min > 0
  bool resource = false;
  bool extension = false;
  bool reference = false;
  uint32_t extensionIndex = UINT32_MAX;  // for ext-1
  uint32_t valueIndex = UINT32_MAX;
};

bool startsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

bool isStringLike(Primitive p) {
  return p == Primitive::kString || p == Primitive::kMarkdown || p == Primitive::kCode ||
         p == Primitive::kId;
}

struct Tables {
  std::unordered_map<const TypeDef*, std::unique_ptr<TypeInfo>> types;
  std::unordered_map<std::string_view, const TypeInfo*> resources;
  const TypeInfo* element = nullptr;  // Element: the shape of a `_name` companion object

  const TypeInfo* get(const TypeDef* def, std::vector<TypeInfo*>& pending) {
    auto it = types.find(def);
    if (it != types.end()) return it->second.get();
    auto info = std::make_unique<TypeInfo>();
    info->def = def;
    TypeInfo* raw = info.get();
    types.emplace(def, std::move(info));
    pending.push_back(raw);
    return raw;
  }

  void build(const Model& model) {
    std::vector<TypeInfo*> pending;
    for (const std::string& name : model.resourceTypes()) {
      const TypeDef* def = model.type(name);
      if (def) resources.emplace(def->name, get(def, pending));
    }
    if (const TypeDef* el = model.type("Element")) element = get(el, pending);
    while (!pending.empty()) {
      TypeInfo* info = pending.back();
      pending.pop_back();
      fill(model, *info, pending);
    }
  }

  void fill(const Model& model, TypeInfo& info, std::vector<TypeInfo*>& pending) {
    const TypeDef& def = *info.def;
    info.resource = def.kind == TypeKind::kResource;
    info.extension = def.name == "Extension";
    info.reference = def.name == "Reference";
    for (uint32_t i = 0; i < def.elements.size(); ++i) {
      const ElementDef& el = def.elements[i];
      if (el.min > 0) info.required.push_back(i);
      if (info.extension && el.name == "extension") info.extensionIndex = i;
      if (info.extension && el.name == "value") info.valueIndex = i;
    }
    for (const auto& [jsonName, jref] : def.byJsonName) {
      const ElementDef& el = *jref.element;
      Slot slot;
      slot.el = &el;
      slot.index = static_cast<uint32_t>(&el - def.elements.data());
      slot.array = el.isArray();
      std::string_view code;
      if (el.choice) {
        code = jref.type;
        for (const TypeRef& t : el.types)
          if (t.code == jref.type) slot.ref = &t;
      } else if (!el.types.empty()) {
        slot.ref = &el.types[0];
        code = el.types[0].code;
      }
      const TypeDef* target = code.empty() ? nullptr : model.type(code);
      if (el.backbone && !el.choice) {
        slot.cat = Category::kComplex;
        slot.info = get(el.backbone, pending);
      } else if (target && target->kind == TypeKind::kPrimitive) {
        slot.cat = Category::kPrimitive;
        slot.prim = primitives::primitiveFromName(code);
        if (slot.prim == Primitive::kUnknown) slot.cat = Category::kNone;
      } else if (code == "http://hl7.org/fhirpath/System.String") {
        slot.cat = Category::kPrimitive;
        slot.prim = Primitive::kString;
      } else if (target && target->kind == TypeKind::kResource) {
        slot.cat = Category::kResource;
        slot.resourceType = target->name;
        slot.contained = info.resource && el.name == "contained";
      } else if (target) {
        slot.cat = Category::kComplex;
        slot.info = get(target, pending);
      }
      // Resource.id is of type id (the definitions carry it as a FHIRPath System.String).
      if (info.resource && el.name == "id") {
        slot.cat = Category::kPrimitive;
        slot.prim = Primitive::kId;
      }
      if (el.binding.strength == "required") {
        const ValueSetCodes* vs = model.valueSet(el.binding.valueSet);
        if (vs) {
          if (slot.cat == Category::kPrimitive &&
              (slot.prim == Primitive::kCode || slot.prim == Primitive::kString ||
               slot.prim == Primitive::kUri)) {
            slot.bind = BindKind::kCode;
          } else if (code == "Coding") {
            slot.bind = BindKind::kCoding;
          } else if (code == "CodeableConcept") {
            slot.bind = BindKind::kCodeableConcept;
          }
          if (slot.bind != BindKind::kNone) slot.valueSet = vs;
        }
      }
      info.byJson.emplace(std::string_view(jsonName), slot);
    }
  }
};

}  // namespace validator_detail

struct Validator::Index : validator_detail::Tables {};

namespace {

using namespace validator_detail;  // NOLINT: implementation detail of this file

// The resources one container holds, for "#id" references and the contained rules.
struct Container {
  struct Entry {
    std::string_view id;
    std::string_view type;
    bool referenced = false;         // some "#id" points at it
    bool refersToContainer = false;  // it holds a "#" reference
  };
  std::vector<Entry> entries;
  int current = -1;  // index of the contained resource being validated, -1 for the container
};

class Run {
 public:
  Run(const Model& model, const Tables& index, IssueList& issues)
      : model_(model), index_(index), issues_(issues) {
    path_.reserve(256);
  }

  size_t errors() const { return errors_; }

  void root(const json::Value& resource, std::string_view expectedType) {
    validateResource(resource, {}, Role::kRoot, expectedType);
  }

 private:
  enum class Role { kRoot, kContained, kNested };

  // ---- issues and paths ----------------------------------------------------------------

  void error(const char* type, const char* code, std::string message) {
    ++errors_;
    issues_.error(type, path_, std::move(message), code);
  }
  void errorAt(const char* type, const char* code, std::string location, std::string message) {
    ++errors_;
    issues_.error(type, std::move(location), std::move(message), code);
  }
  std::string child(std::string_view name) const {
    std::string s;
    s.reserve(path_.size() + 1 + name.size());
    s = path_;
    if (!s.empty()) s += '.';
    s.append(name);
    return s;
  }
  void pushName(std::string_view name) {
    if (!path_.empty()) path_ += '.';
    path_.append(name);
  }
  void pushIndex(size_t i) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), i);
    path_ += '[';
    path_.append(buf, r.ptr);
    path_ += ']';
  }

  // ---- resources -------------------------------------------------------------------------

  void validateResource(const json::Value& v, std::string_view allowedType, Role role,
                        std::string_view expectedType) {
    if (!v.isObject()) {
      error("structure", "validate.object-expected", "a resource must be a JSON object");
      return;
    }
    const json::Value* rt = v.find("resourceType");
    if (!rt) {
      errorAt("required", "validate.resource-type-missing", child("resourceType"),
              "resourceType is missing");
      return;
    }
    if (!rt->isString()) {
      errorAt("structure", "validate.json-type", child("resourceType"),
              "resourceType must be a JSON string");
      return;
    }
    auto it = index_.resources.find(rt->text());
    if (it == index_.resources.end()) {
      errorAt("value", "validate.resource-type-unknown", child("resourceType"),
              "'" + rt->text() + "' is not a concrete FHIR R4 resource type");
      return;
    }
    const TypeInfo& info = *it->second;
    if (role == Role::kRoot) {
      path_ = rt->text();
      if (!expectedType.empty() && expectedType != rt->text()) {
        errorAt("invalid", "validate.type-mismatch", "resourceType",
                "resourceType '" + rt->text() + "' does not match the expected type '" +
                    std::string(expectedType) + "'");
      }
    } else if (!allowedType.empty() && allowedType != "Resource" &&
               allowedType != "DomainResource" && allowedType != rt->text()) {
      errorAt(
          "invalid", "validate.resource-type-not-allowed", child("resourceType"),
          "a " + rt->text() + " is not allowed here (expected " + std::string(allowedType) + ")");
    }

    if (role == Role::kContained) {
      checkContainedRules(v);
      validateObject(v, info, nullptr, true);
      return;
    }
    // The root of a container: collect its contained resources for "#id" references.
    Container own;
    if (const json::Value* contained = v.find("contained")) {
      auto add = [&own](const json::Value& c) {
        Container::Entry e;
        if (c.isObject()) {
          e.id = c.getString("id");
          e.type = c.getString("resourceType");
        }
        own.entries.push_back(e);
      };
      if (contained->isArray()) {
        for (const json::Value& c : contained->items()) add(c);
      } else {
        add(*contained);  // reported as validate.array-expected, still validated as [0]
      }
    }
    Container* saved = container_;
    container_ = &own;
    // Conditional references (Type?query) are resolved by transaction / batch processing.
    bool conditional = false;
    if (rt->text() == "Bundle") {
      const std::string& type = v.getString("type");
      conditional = type == "transaction" || type == "batch";
    }
    conditionalDepth_ += conditional;
    validateObject(v, info, nullptr, true);
    conditionalDepth_ -= conditional;
    container_ = saved;
    checkContainedReferences(own);
  }

  void checkContainedRules(const json::Value& v) {
    const json::Value* id = v.find("id");
    if (!id) {
      errorAt("required", "validate.contained-id-missing", child("id"),
              "a contained resource must have an id");
    }
    if (v.find("contained")) {
      errorAt("structure", "validate.contained-nested", child("contained"),
              "a contained resource must not contain resources");
    }
    if (const json::Value* meta = v.find("meta"); meta && meta->isObject()) {
      for (const char* name : {"versionId", "lastUpdated"}) {
        if (meta->find(name)) {
          errorAt("invariant", "validate.contained-meta", child("meta") + "." + name,
                  std::string("a contained resource must not have meta.") + name);
        }
      }
    }
    // Duplicate ids make "#id" ambiguous; reported on the later one.
    if (container_ && id && id->isString()) {
      int self = std::min(container_->current, static_cast<int>(container_->entries.size()));
      for (int i = 0; i < self; ++i) {
        if (container_->entries[i].id == id->text()) {
          errorAt("invariant", "validate.contained-duplicate-id", child("id"),
                  "contained id '" + id->text() + "' is used twice");
          break;
        }
      }
    }
  }

  void checkContainedReferences(const Container& c) {
    for (size_t i = 0; i < c.entries.size(); ++i) {
      const Container::Entry& e = c.entries[i];
      if (e.id.empty() || e.referenced || e.refersToContainer) continue;
      std::string loc = path_;
      loc += ".contained[";
      loc += std::to_string(i);
      loc += ']';
      issues_.warning("invariant", std::move(loc),
                      "contained resource '" + std::string(e.id) +
                          "' is not referenced from its container and does not refer to it",
                      "validate.contained-unreferenced");
    }
  }

  // ---- objects ---------------------------------------------------------------------------

  static const json::Value* findCompanion(const json::Value& obj, std::string_view name) {
    for (const auto& m : obj.members()) {
      const std::string& k = m.first;
      if (k.size() == name.size() + 1 && k[0] == '_' && k.compare(1, name.size(), name) == 0)
        return &m.second;
    }
    return nullptr;
  }

  void validateObject(const json::Value& obj, const TypeInfo& info, const Slot* from,
                      bool resourceRoot) {
    if (++depth_ > kMaxDepth) {
      error("structure", "validate.too-deep", "content nested too deeply");
      --depth_;
      return;
    }
    const size_t n = info.def->elements.size();
    const Slot* local[64];
    std::unique_ptr<const Slot*[]> heap;
    const Slot** seen = local;
    if (n > 64) {
      heap.reset(new const Slot*[n]);
      seen = heap.get();
    }
    for (size_t i = 0; i < n; ++i) seen[i] = nullptr;

    for (const auto& member : obj.members()) {
      std::string_view name = member.first;
      if (resourceRoot && name == "resourceType") continue;
      bool companion = name.size() > 1 && name[0] == '_';
      std::string_view key = companion ? name.substr(1) : name;
      auto it = info.byJson.find(key);
      if (it == info.byJson.end()) {
        errorAt("structure", "validate.unknown-element", child(name),
                "unknown element '" + std::string(name) + "'");
        continue;
      }
      const Slot* slot = &it->second;
      if (seen[slot->index] && seen[slot->index] != slot) {
        errorAt("structure", "validate.choice-multiple", child(name),
                "only one type of " + slot->el->name + "[x] may be present");
        continue;
      }
      seen[slot->index] = slot;
      if (companion) {
        validateCompanion(obj, member.second, *slot, name, key);
      } else {
        validateElement(obj, member.second, *slot, key);
      }
    }

    for (uint32_t idx : info.required) {
      if (!seen[idx]) {
        const ElementDef& el = info.def->elements[idx];
        errorAt("required", "validate.required", child(el.name),
                el.name + " is required (min " + std::to_string(el.min) + ")");
      }
    }
    if (info.extension && info.extensionIndex < n && info.valueIndex < n &&
        seen[info.extensionIndex] && seen[info.valueIndex]) {
      error("invariant", "validate.extension-value-and-children",
            "an extension must have either a value or nested extensions, not both (ext-1)");
    }
    if (info.reference) checkReference(obj, from);
    --depth_;
  }

  void validateElement(const json::Value& parent, const json::Value& value, const Slot& slot,
                       std::string_view name) {
    const size_t mark = path_.size();
    pushName(name);
    if (slot.array) {
      if (!value.isArray()) {
        error("structure", "validate.array-expected",
              slot.el->name + " repeats and must be a JSON array");
        validateItem(value, slot, false);
      } else if (value.items().empty()) {
        error("structure", "validate.empty-array", "empty arrays are not allowed");
      } else {
        const auto& items = value.items();
        if (slot.el->max >= 0 && items.size() > static_cast<size_t>(slot.el->max)) {
          error("structure", "validate.too-many",
                slot.el->name + " allows at most " + std::to_string(slot.el->max) + " items");
        }
        const json::Value* comp = nullptr;
        if (slot.cat == Category::kPrimitive) {
          comp = findCompanion(parent, name);
          if (comp && !comp->isArray()) comp = nullptr;
        }
        const size_t itemMark = path_.size();
        for (size_t i = 0; i < items.size(); ++i) {
          pushIndex(i);
          bool hasExt = comp && i < comp->items().size() && comp->items()[i].isObject();
          validateItem(items[i], slot, hasExt);
          path_.resize(itemMark);
        }
      }
    } else if (value.isArray()) {
      error("structure", "validate.array-unexpected",
            slot.el->name + " does not repeat and must not be a JSON array");
    } else {
      bool hasExt = false;
      if (slot.cat == Category::kPrimitive && value.isNull()) {
        const json::Value* comp = findCompanion(parent, name);
        hasExt = comp && comp->isObject();
      }
      validateItem(value, slot, hasExt);
    }
    path_.resize(mark);
  }

  void validateItem(const json::Value& value, const Slot& slot, bool hasExtension) {
    if (value.isNull() && slot.cat != Category::kPrimitive && slot.cat != Category::kNone) {
      error("structure", "validate.null-value", "null is not allowed for " + slot.el->name);
      return;
    }
    switch (slot.cat) {
      case Category::kNone:
        return;
      case Category::kPrimitive:
        validatePrimitive(value, slot, hasExtension);
        return;
      case Category::kComplex:
        if (!value.isObject()) {
          error("structure", "validate.object-expected", slot.el->name + " must be a JSON object");
          return;
        }
        if (value.members().empty()) {
          error("structure", "validate.empty-object", "empty objects are not allowed");
          return;
        }
        validateObject(value, *slot.info, &slot, false);
        if (slot.bind == BindKind::kCoding) {
          checkCodingBinding(value, slot);
        } else if (slot.bind == BindKind::kCodeableConcept) {
          checkConceptBinding(value, slot);
        }
        return;
      case Category::kResource: {
        if (++depth_ > kMaxDepth) {
          error("structure", "validate.too-deep", "content nested too deeply");
          --depth_;
          return;
        }
        if (slot.contained && container_) {
          // Resources inside a contained resource's "contained" were already reported
          // (validate.contained-nested) and are not validated as siblings.
          if (container_->current < 0 ||
              static_cast<size_t>(container_->current) >= container_->entries.size()) {
            container_->current = containedIndexFromPath();
            validateResource(value, slot.resourceType, Role::kContained, {});
            container_->current = -1;
          }
        } else {
          validateResource(value, slot.resourceType, Role::kNested, {});
        }
        --depth_;
        return;
      }
    }
  }

  int containedIndexFromPath() const {
    // path_ ends with "contained[<i>]" for arrays; a non-array contained gives 0.
    if (path_.empty() || path_.back() != ']') return 0;
    size_t open = path_.rfind('[');
    int v = 0;
    std::from_chars(path_.data() + open + 1, path_.data() + path_.size() - 1, v);
    return v;
  }

  void validatePrimitive(const json::Value& value, const Slot& slot, bool hasExtension) {
    if (value.isNull()) {
      if (!hasExtension) {
        error("structure", "validate.null-value",
              "null is only allowed in an array whose `_" + slot.el->name +
                  "` companion has an extension at the same index");
      }
      return;
    }
    if (value.isObject() || value.isArray()) {
      error("structure", "validate.primitive-expected",
            std::string(primitives::primitiveName(slot.prim)) + " value must be a JSON " +
                (primitives::jsonKindOf(slot.prim) == primitives::JsonKind::kString   ? "string"
                 : primitives::jsonKindOf(slot.prim) == primitives::JsonKind::kNumber ? "number"
                                                                                      : "boolean"));
      return;
    }
    primitives::JsonKind want = primitives::jsonKindOf(slot.prim);
    bool kindOk = (want == primitives::JsonKind::kString && value.isString()) ||
                  (want == primitives::JsonKind::kNumber && value.isNumber()) ||
                  (want == primitives::JsonKind::kBoolean && value.isBool());
    if (!kindOk) {
      error("structure", "validate.json-type",
            std::string(primitives::primitiveName(slot.prim)) + " must be a JSON " +
                (want == primitives::JsonKind::kString   ? "string"
                 : want == primitives::JsonKind::kNumber ? "number"
                                                         : "boolean"));
      return;
    }
    const std::string& text = value.text();
    if (value.isString()) {
      if (text.empty()) {
        error("value", "validate.empty-string", "empty strings are not allowed");
        return;
      }
      if (isStringLike(slot.prim) && text.size() > primitives::kMaxStringBytes) {
        error("too-long", "validate.string-too-long", "string longer than 1 MB");
        return;
      }
    }
    if (const char* reason = primitives::checkText(slot.prim, text)) {
      std::string shown = text.size() > 64 ? text.substr(0, 64) + "..." : text;
      error("value", "validate.format",
            "invalid " + std::string(primitives::primitiveName(slot.prim)) + " '" + shown +
                "': " + reason);
      return;
    }
    if (slot.prim == Primitive::kXhtml) {
      if (const char* reason = primitives::checkXhtmlSafety(text))
        error("invariant", "validate.xhtml-unsafe", std::string("narrative: ") + reason);
    } else if (slot.prim == Primitive::kCanonical && text[0] == '#') {
      markFragment(std::string_view(text).substr(1));
    }
    if (slot.bind == BindKind::kCode && !slot.valueSet->contains(text)) {
      error("code-invalid", "validate.code-invalid",
            "'" + text + "' is not in the required value set " + slot.el->binding.valueSet);
    }
  }

  void validateCompanion(const json::Value& parent, const json::Value& value, const Slot& slot,
                         std::string_view jsonName, std::string_view key) {
    if (slot.cat != Category::kPrimitive) {
      errorAt("structure", "validate.companion-not-primitive", child(jsonName),
              "'" + std::string(jsonName) + "' is only allowed for primitive elements");
      return;
    }
    const size_t mark = path_.size();
    pushName(key);
    if (slot.array) {
      if (!value.isArray()) {
        error("structure", "validate.array-expected",
              "_" + slot.el->name + " must be a JSON array");
      } else if (value.items().empty()) {
        error("structure", "validate.empty-array", "empty arrays are not allowed");
      } else {
        const json::Value* values = parent.find(key);
        if (values && !values->isArray()) values = nullptr;
        if (values && values->items().size() != value.items().size()) {
          error("structure", "validate.companion-length",
                slot.el->name + " has " + std::to_string(values->items().size()) + " values but _" +
                    slot.el->name + " has " + std::to_string(value.items().size()));
        } else if (!values && slot.el->max >= 0 &&
                   value.items().size() > static_cast<size_t>(slot.el->max)) {
          error("structure", "validate.too-many",
                slot.el->name + " allows at most " + std::to_string(slot.el->max) + " items");
        }
        const size_t itemMark = path_.size();
        for (size_t i = 0; i < value.items().size(); ++i) {
          const json::Value& item = value.items()[i];
          pushIndex(i);
          if (item.isNull()) {
            // Both null: reported here only when no value array covers this index.
            if (!values || i >= values->items().size()) {
              error("structure", "validate.null-value",
                    "null companion without a value at the same index");
            }
          } else {
            validateCompanionObject(item);
          }
          path_.resize(itemMark);
        }
      }
    } else {
      validateCompanionObject(value);
    }
    path_.resize(mark);
  }

  void validateCompanionObject(const json::Value& v) {
    if (v.isNull()) {
      error("structure", "validate.null-value", "a single `_name` companion must not be null");
    } else if (!v.isObject()) {
      error("structure", "validate.object-expected",
            "a primitive's extension companion must be a JSON object");
    } else if (v.members().empty()) {
      error("structure", "validate.empty-object", "empty objects are not allowed");
    } else if (index_.element) {
      validateObject(v, *index_.element, nullptr, false);
    }
  }

  // ---- bindings --------------------------------------------------------------------------

  void checkCodingBinding(const json::Value& coding, const Slot& slot) {
    const json::Value* code = coding.find("code");
    if (!code || !code->isString() || code->text().empty()) {
      error("code-invalid", "validate.code-missing",
            "a code from the required value set " + slot.el->binding.valueSet + " is needed");
      return;
    }
    const json::Value* system = coding.find("system");
    bool ok = system && system->isString() ? slot.valueSet->contains(system->text(), code->text())
                                           : slot.valueSet->contains(code->text());
    if (!ok) {
      errorAt(
          "code-invalid", "validate.code-invalid", child("code"),
          "'" + code->text() + "' is not in the required value set " + slot.el->binding.valueSet);
    }
  }

  void checkConceptBinding(const json::Value& concept, const Slot& slot) {
    const json::Value* codings = concept.find("coding");
    bool fromValueSet = false;
    if (codings && codings->isArray()) {
      const auto& items = codings->items();
      for (size_t i = 0; i < items.size(); ++i) {
        const json::Value& c = items[i];
        if (!c.isObject()) continue;
        const std::string& system = c.getString("system");
        auto sys = slot.valueSet->bySystem.find(system);
        if (sys == slot.valueSet->bySystem.end()) continue;
        fromValueSet = true;
        const std::string& code = c.getString("code");
        if (!sys->second.count(code)) {
          std::string loc = path_;
          loc += ".coding[";
          loc += std::to_string(i);
          loc += "].code";
          errorAt("code-invalid", "validate.code-invalid", std::move(loc),
                  "'" + code + "' is not in the required value set " + slot.el->binding.valueSet);
        }
      }
    }
    if (!fromValueSet) {
      error("code-invalid", "validate.code-missing",
            "no coding from the required value set " + slot.el->binding.valueSet);
    }
  }

  // ---- references ------------------------------------------------------------------------

  static bool allowsTarget(const Slot* from, std::string_view type) {
    if (!from || !from->ref || from->ref->targets.empty()) return true;
    for (const std::string& t : from->ref->targets)
      if (t == type || t == "Resource") return true;
    return false;
  }

  void targetError(const Slot* from, std::string_view type) {
    std::string allowed;
    for (const std::string& t : from->ref->targets) {
      if (!allowed.empty()) allowed += ", ";
      allowed += t;
    }
    error(
        "invalid", "validate.reference-target",
        "a reference to " + std::string(type) + " is not allowed here (allowed: " + allowed + ")");
  }

  void markFragment(std::string_view id) {
    if (!container_) return;
    for (auto& e : container_->entries)
      if (!e.id.empty() && e.id == id) e.referenced = true;
  }

  void checkReference(const json::Value& obj, const Slot* from) {
    const size_t mark = path_.size();
    if (const json::Value* ref = obj.find("reference");
        ref && ref->isString() && !ref->text().empty()) {
      pushName("reference");
      checkReferenceText(ref->text(), from);
      path_.resize(mark);
    }
    if (const json::Value* type = obj.find("type"); type && type->isString()) {
      if (model_.isResourceType(type->text()) && !allowsTarget(from, type->text())) {
        pushName("type");
        targetError(from, type->text());
        path_.resize(mark);
      }
    }
  }

  void formatError(std::string_view ref, const char* why) {
    error("value", "validate.reference-format",
          "invalid reference '" + std::string(ref.substr(0, 128)) + "': " + why);
  }

  // Type/id[/_history/vid] at the end of `s` (after a base URL); false when not of that form.
  static bool splitTail(std::string_view s, std::string_view& type, std::string_view& id) {
    std::string_view segs[4];
    int n = 0;
    while (n < 4) {
      size_t slash = s.rfind('/');
      segs[n++] = slash == std::string_view::npos ? s : s.substr(slash + 1);
      if (slash == std::string_view::npos) break;
      s = s.substr(0, slash);
    }
    // segs[0] is the last segment.
    if (n >= 4 && segs[1] == "_history") {
      type = segs[3];
      id = segs[2];
      return true;
    }
    if (n >= 2) {
      type = segs[1];
      id = segs[0];
      return true;
    }
    return false;
  }

  void checkReferenceText(std::string_view ref, const Slot* from) {
    if (ref[0] == '#') {
      std::string_view frag = ref.substr(1);
      if (!container_) return;
      if (frag.empty()) {
        if (container_->current < 0 ||
            static_cast<size_t>(container_->current) >= container_->entries.size()) {
          error("invalid", "validate.reference-fragment",
                "'#' refers to the container and is only valid inside a contained resource");
        } else {
          container_->entries[container_->current].refersToContainer = true;
        }
        return;
      }
      for (auto& e : container_->entries) {
        if (!e.id.empty() && e.id == frag) {
          e.referenced = true;
          if (!e.type.empty() && !allowsTarget(from, e.type)) targetError(from, e.type);
          return;
        }
      }
      error("invalid", "validate.reference-fragment",
            "no contained resource has the id '" + std::string(frag) + "'");
      return;
    }
    if (startsWith(ref, "urn:uuid:")) {
      if (!primitives::isValidUuid(ref)) formatError(ref, "not a valid urn:uuid");
      return;
    }
    if (startsWith(ref, "urn:oid:")) {
      if (!primitives::isValidOid(ref)) formatError(ref, "not a valid urn:oid");
      return;
    }
    if (startsWith(ref, "http://") || startsWith(ref, "https://")) {
      size_t hostStart = ref.find("://") + 3;
      if (!primitives::isValidUri(ref) || hostStart >= ref.size() || ref[hostStart] == '/') {
        formatError(ref, "not a valid absolute URL");
        return;
      }
      std::string_view rest = ref.substr(hostStart);
      size_t cut = rest.find_first_of("?#");
      if (cut != std::string_view::npos) rest = rest.substr(0, cut);
      size_t firstSlash = rest.find('/');
      if (firstSlash == std::string_view::npos) return;  // host only
      std::string_view type, id;
      if (splitTail(rest.substr(firstSlash + 1), type, id) && model_.isResourceType(type) &&
          primitives::isValidId(id) && !allowsTarget(from, type)) {
        targetError(from, type);
      }
      return;
    }
    // Relative: Type/id or Type/id/_history/vid, or Type?query (transaction/batch only).
    size_t q = ref.find('?');
    if (q != std::string_view::npos) {
      std::string_view type = ref.substr(0, q);
      if (conditionalDepth_ == 0) {
        formatError(ref,
                    "conditional references are only allowed in transaction or batch "
                    "Bundles");
        return;
      }
      if (!model_.isResourceType(type)) {
        formatError(ref, "unknown resource type");
      } else if (q + 1 >= ref.size() || !primitives::isValidUri(ref)) {
        formatError(ref, "malformed conditional reference");
      } else if (!allowsTarget(from, type)) {
        targetError(from, type);
      }
      return;
    }
    std::string_view parts[5];
    int n = 0;
    std::string_view s = ref;
    while (n < 5) {
      size_t slash = s.find('/');
      parts[n++] = s.substr(0, slash);
      if (slash == std::string_view::npos) break;
      s = s.substr(slash + 1);
      if (n == 5) {
        n = 6;  // too many segments
        break;
      }
    }
    bool shape = (n == 2) || (n == 4 && parts[2] == "_history");
    if (!shape) {
      formatError(ref,
                  "expected Type/id, Type/id/_history/vid, an absolute URL, #id, "
                  "urn:uuid or urn:oid");
      return;
    }
    if (!model_.isResourceType(parts[0])) {
      formatError(ref, "unknown resource type");
      return;
    }
    if (!primitives::isValidId(parts[1])) {
      formatError(ref, "invalid id");
      return;
    }
    if (n == 4 && !primitives::isValidId(parts[3])) {
      formatError(ref, "invalid version id");
      return;
    }
    if (!allowsTarget(from, parts[0])) targetError(from, parts[0]);
  }

  const Model& model_;
  const Tables& index_;
  IssueList& issues_;
  std::string path_;
  size_t errors_ = 0;
  int depth_ = 0;
  Container* container_ = nullptr;
  int conditionalDepth_ = 0;  // enclosing transaction / batch Bundles
};

}  // namespace

Validator::Validator(std::shared_ptr<const Model> model) : model_(std::move(model)) {
  if (model_) {
    auto index = std::make_shared<Index>();
    index->build(*model_);
    index_ = std::move(index);
  }
}

bool Validator::validate(const json::Value& resource, IssueList& issues,
                         std::string_view expectedType) const {
  if (!model_ || !index_) {
    issues.error("processing", "", "the validator has no model", "validate.no-model");
    return false;
  }
  Run run(*model_, *index_, issues);
  run.root(resource, expectedType);
  return run.errors() == 0;
}

std::string checkPrimitive(std::string_view type, const json::Value& value) {
  Primitive p = primitives::primitiveFromName(type);
  if (p == Primitive::kUnknown) return "unknown primitive type '" + std::string(type) + "'";
  switch (primitives::jsonKindOf(p)) {
    case primitives::JsonKind::kString:
      if (!value.isString()) return "must be a JSON string";
      break;
    case primitives::JsonKind::kNumber:
      if (!value.isNumber()) return "must be a JSON number";
      break;
    case primitives::JsonKind::kBoolean:
      if (!value.isBool()) return "must be a JSON boolean";
      break;
  }
  if (isStringLike(p) && value.text().size() > primitives::kMaxStringBytes)
    return "longer than 1 MB";
  const char* reason = primitives::checkText(p, value.text());
  return reason ? reason : "";
}

}  // namespace acp::model
