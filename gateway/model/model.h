// Model — the FHIR R4 structure definitions as data (see docs/architecture.md).
//
// Loaded once at start-up from conformance/r4 (types.json, search-parameters.json,
// valuesets.json, extracted from HL7's published definitions) and immutable afterwards, so
// any number of threads may read it. It drives validation, JSON⇄XML conversion,
// _summary/_elements and search-index extraction; no code is written per resource type.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <typeindex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gateway/core/status.h"

namespace acp::model {

struct TypeDef;

struct TypeRef {
  std::string code;                  // FHIR type name: "string", "CodeableConcept", "Reference"
  std::vector<std::string> targets;  // Reference/canonical target types ("Patient", "Group")
  std::string regex;                 // primitive value regex from the definition, if any
};

struct Binding {
  std::string strength;  // required | extensible | preferred | example
  std::string valueSet;  // canonical URL without version
};

struct ElementDef {
  std::string name;  // last path segment without "[x]": "status", "value", "activity"
  std::string path;  // full path in its StructureDefinition: "CarePlan.activity.detail.status"
  int min = 0;
  int max = 1;        // -1 means "*"
  bool choice = false;   // defined as name[x]; JSON names are name + TypeName
  bool summary = false;  // isSummary
  bool modifier = false;
  bool xmlAttribute = false;  // represented as an XML attribute (Element.id, Extension.url)
  std::vector<TypeRef> types;
  Binding binding;
  std::string contentReference;  // path of the element whose children this one reuses
  // For BackboneElement / Element with children defined inline, or a contentReference:
  // the anonymous type holding the children. nullptr otherwise.
  const TypeDef* backbone = nullptr;

  bool isArray() const { return max != 1; }
};

enum class TypeKind { kPrimitive, kComplex, kResource, kBackbone };

struct TypeDef {
  std::string name;  // "CarePlan", "HumanName", "string"; backbones are named by path
                     // ("CarePlan.activity")
  TypeKind kind = TypeKind::kComplex;
  bool abstract = false;
  std::string base;                  // base type name ("DomainResource"), "" at the root
  std::vector<ElementDef> elements;  // direct children in definition order

  // Resolves a JSON property name ("valueString", "status", "_status" without the
  // underscore) to its element. For a choice element `choiceType` receives the chosen type
  // ("string"); otherwise it is left empty. nullptr when the name is not an element.
  const ElementDef* findJson(std::string_view jsonName, std::string* choiceType = nullptr) const;
  const ElementDef* find(std::string_view name) const;  // by element name

  struct JsonRef {
    const ElementDef* element;
    std::string type;  // chosen type for choice elements
  };
  std::unordered_map<std::string, JsonRef> byJsonName;  // filled by the loader
};

// The codes of a required-binding value set, by code system.
struct ValueSetCodes {
  std::unordered_map<std::string, std::unordered_set<std::string>> bySystem;
  bool contains(const std::string& code) const;  // in any system
  bool contains(const std::string& system, const std::string& code) const;
};

struct SearchParamDef {
  std::string url;
  std::string code;                // "patient", "identifier", "_lastUpdated"
  std::vector<std::string> base;   // resource types it applies to
  std::string type;                // number date string token reference composite quantity uri special
  std::string expression;          // FHIRPath, possibly spanning several bases joined with |
  std::vector<std::string> target; // reference targets
};

class Model {
 public:
  // Loads conformance data from `dir` (the folder holding types.json etc.).
  static Result<std::shared_ptr<const Model>> load(const std::string& dir);

  const TypeDef* type(std::string_view name) const;
  bool isResourceType(std::string_view name) const;  // concrete (non-abstract) resource
  bool isPrimitive(std::string_view name) const;
  const ValueSetCodes* valueSet(std::string_view url) const;  // nullptr if not enumerable
  // Search parameters applying to `resourceType` (including Resource/DomainResource ones).
  std::vector<const SearchParamDef*> searchParams(std::string_view resourceType) const;
  const SearchParamDef* searchParam(std::string_view resourceType, std::string_view code) const;
  const std::vector<std::string>& resourceTypes() const { return resourceTypes_; }

  // A process-unique number for this loaded model: caches keyed by it can never confuse a
  // freed model with a new one allocated at the same address.
  uint64_t serial() const { return serial_; }

  // Data derived from the model and owned by it, built by `make` on first use (e.g. the
  // compiled search-parameter expressions of search/index.h). One instance per type T per
  // model; lives exactly as long as the model. Thread-safe.
  template <typename T, typename Make>
  const T& derived(Make make) const {
    std::lock_guard<std::mutex> lock(derivedMutex_);
    std::shared_ptr<void>& slot = derived_[std::type_index(typeid(T))];
    if (!slot) slot = std::shared_ptr<T>(make(*this));
    return *static_cast<const T*>(slot.get());
  }

 private:
  uint64_t serial_ = 0;
  mutable std::mutex derivedMutex_;
  mutable std::unordered_map<std::type_index, std::shared_ptr<void>> derived_;
  std::unordered_map<std::string, std::unique_ptr<TypeDef>> types_;
  std::unordered_map<std::string, ValueSetCodes> valueSets_;
  std::vector<std::unique_ptr<SearchParamDef>> params_;
  std::unordered_map<std::string, std::vector<const SearchParamDef*>> paramsByType_;
  std::vector<std::string> resourceTypes_;
  friend class ModelLoader;
};

// "valueString" ← ("value", "string"); "valueCodeableConcept" ← ("value", "CodeableConcept").
std::string choiceJsonName(std::string_view base, std::string_view typeCode);

}  // namespace acp::model
