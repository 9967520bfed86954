// ProfileRegistry — FHIR R4 StructureDefinition profiles and extension definitions, and the
// ValueSets / CodeSystems their bindings name, loaded once at start-up (conformance/acp,
// conformance/ukcore) and immutable afterwards.
//
// What is loaded: every *.json and *.xml file directly inside the given folders (not
// recursive; other files and resources of other types — OperationDefinition, ConceptMap — are
// skipped). XML is read with model::xmlToJson against the R4 model. Every StructureDefinition,
// ValueSet and CodeSystem found must be valid against the base R4 model (model::Validator);
// otherwise loading fails naming the file and the first problem.
//
// StructureDefinitions: only `derivation: constraint` is supported. Each is compiled from its
// `differential` (UK Core publishes differentials only; a snapshot, if present, is ignored)
// into a tree of ElementNodes keyed by element id ("Patient.identifier:nhsNumber.system");
// every element path must exist in the R4 model (a typo is a load error). baseDefinition must
// be the core definition of the same type (http://hl7.org/fhir/StructureDefinition/<type>) or
// another loaded profile of the same type: profiles chain (ACP-CarePlan → UKCore-CarePlan →
// core CarePlan) and the validator applies the constraints of every level. An unresolvable
// base, a cycle, or two definitions with one url are load errors.
// ValueSets are expanded at load when they can be: compose.include of a whole CodeSystem that
// is loaded with content "complete", of listed concepts, or of other expandable ValueSets;
// compose.exclude of listed concepts; or an expansion.contains list. A value set with
// filters, or including a code system not loaded here, is known but not enumerable.
// Canonical references are compared without their "|version" suffix.
//
// Thread-safety: immutable once load() returns; any number of threads may read it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/core/status.h"
#include "gateway/model/model.h"

namespace acp::profile {

// How instances of a sliced element are assigned to slices (ElementDefinition.slicing).
struct Discriminator {
  enum class Kind { kValue, kPattern, kExists, kType, kProfile };
  Kind kind = Kind::kValue;
  std::string path;  // FHIRPath relative to the element: "$this", "system", "coding.code", "url"
};

struct Slicing {
  std::vector<Discriminator> discriminators;
  std::string rules = "open";  // open | closed | openAtEnd
  bool ordered = false;
};

// One ElementDefinition.type of a differential element.
struct TypeConstraint {
  std::string code;                         // "Reference", "CodeableConcept", "Extension"
  std::vector<std::string> profiles;        // type.profile (e.g. an extension definition url)
  std::vector<std::string> targetProfiles;  // type.targetProfile (Reference / canonical)
};

// One element of a differential, compiled. Only what the differential states is set.
struct ElementConstraint {
  std::optional<int> min;
  std::optional<int> max;  // -1 means "*"
  std::string fixedType;   // type of fixed[x] ("uri" for fixedUri); "" when none
  json::Value fixed;
  std::string patternType;  // type of pattern[x] ("CodeableConcept"); "" when none
  json::Value pattern;
  std::vector<TypeConstraint> types;
  model::Binding binding;  // strength "" when the differential has no binding; valueSet
                           // without "|version"
  std::optional<Slicing> slicing;
};

// The differential as a tree. A node stands for one element of the profiled type, or for one
// slice of it; nodes the differential does not describe itself (only their descendants) have
// no constraint.
struct ElementNode;

// The children of a node that share one element name: the element itself and its slices.
struct ElementGroup {
  std::string name;     // element name as written in the id, without "[x]": "value", "identifier"
  bool choice = false;  // written as name[x]
  std::unique_ptr<ElementNode> element;              // the element as a whole (never null)
  std::vector<std::unique_ptr<ElementNode>> slices;  // in differential order
};

struct ElementNode {
  std::string id;         // element id: "CarePlan.category:acp"; for the root the type name
  std::string sliceName;  // "" unless this node is a slice
  std::optional<ElementConstraint> constraint;
  std::vector<ElementGroup> groups;  // children, in differential order
};

// One context of an extension definition (StructureDefinition.context).
struct ExtensionContext {
  std::string type;        // element | extension | fhirpath
  std::string expression;  // "CarePlan.activity.detail", "Patient", an extension url, ...
};

// A compiled StructureDefinition (profile of a resource or data type, or extension definition).
struct StructureDef {
  std::string url;
  std::string id;
  std::string name;
  std::string label;           // how messages name it: the id, else the last segment of the url
  std::string kind;            // resource | complex-type | primitive-type | logical
  std::string type;            // the constrained type: "CarePlan", "Extension"
  std::string baseDefinition;  // without "|version"
  const StructureDef* base = nullptr;  // the loaded base profile; nullptr when it is the core type
  std::vector<ExtensionContext> contexts;
  ElementNode root;                                          // differential tree; root.id == type
  std::unordered_map<std::string, const ElementNode*> byId;  // every node by element id
  std::string source;  // the file (or name) it was loaded from

  bool isExtension() const { return type == "Extension"; }
  // This definition and its loaded bases, most derived first.
  std::vector<const StructureDef*> chain() const;
};

// The codes of an enumerable value set, and which code systems it includes completely
// (a code claimed in such a system that the system does not define is never valid).
struct ValueSetContent {
  model::ValueSetCodes codes;
  std::unordered_set<std::string> completeSystems;
};

class ProfileRegistry {
 public:
  // A conformance resource given as parsed FHIR JSON; `name` identifies it in load errors.
  struct Source {
    std::string name;
    json::Value resource;
  };

  // Loads the folders in order, then `extra` (e.g. definitions built by tests). Fails (with
  // the file and reason) on unreadable or invalid files and on the definition errors listed
  // above. `model` must be non-null.
  static Result<std::shared_ptr<const ProfileRegistry>> load(
      std::shared_ptr<const model::Model> model, const std::vector<std::string>& dirs,
      std::vector<Source> extra = {});

  const model::Model& model() const { return *model_; }
  const std::shared_ptr<const model::Model>& modelShared() const { return model_; }

  // A StructureDefinition by canonical url (a "|version" suffix is ignored); nullptr if unknown.
  const StructureDef* structure(std::string_view url) const;
  // Every loaded StructureDefinition url, sorted.
  std::vector<std::string> structureUrls() const;

  // An enumerable value set loaded here; nullptr when unknown or not enumerable.
  const ValueSetContent* valueSet(std::string_view url) const;
  // Codes of a value set: one loaded here, else an R4 required value set of the model;
  // nullptr when neither can enumerate it.
  const model::ValueSetCodes* valueSetCodes(std::string_view url) const;
  // Whether a ValueSet with this url was loaded (enumerable or not).
  bool knowsValueSet(std::string_view url) const;
  // A loaded CodeSystem with content "complete": its codes; nullptr otherwise.
  const std::unordered_set<std::string>* codeSystem(std::string_view url) const;

 private:
  friend class RegistryLoader;
  std::shared_ptr<const model::Model> model_;
  std::unordered_map<std::string, std::unique_ptr<StructureDef>> structures_;
  std::unordered_map<std::string, std::optional<ValueSetContent>> valueSets_;
  std::unordered_map<std::string, std::unordered_set<std::string>> codeSystems_;
};

// "https://x/StructureDefinition/A|1.0" → "https://x/StructureDefinition/A".
std::string_view withoutVersion(std::string_view canonical);

// The core R4 type a canonical url names ("http://hl7.org/fhir/StructureDefinition/Patient"
// → "Patient"), or "" when it is not a core definition url.
std::string_view coreTypeOf(std::string_view url);

}  // namespace acp::profile
