// ProfileValidator — checks a FHIR R4 resource against StructureDefinition profiles
// (constraints on top of the base R4 model) and against the definitions of the extensions it
// carries, from a ProfileRegistry.
//
// Division of work: the base R4 rules (structure, cardinality, formats, required bindings of
// the core definitions, reference syntax) are model::Validator's; run it first. This validator
// assumes a structurally valid resource: on anything else it never fails or throws, but skips
// what it cannot read.
//
// Checked, for every level of a profile's chain (ACP-CarePlan → UKCore-CarePlan; the core
// level is model::Validator's), from each level's differential:
//   - cardinality (min/max) of elements, also on nested paths: counted within every
//     occurrence of the parent ("CarePlan.activity.detail.code min 1" holds in each activity);
//   - fixed[x] (equal) and pattern[x] (the instance contains the pattern: every property of
//     the pattern present with the same value; every item of a pattern array matched by some
//     item of the instance array);
//   - bindings: required — the code (code, Coding, or one coding of a CodeableConcept) must be
//     in the value set; extensible — a coding in a code system the value set includes
//     completely must be one of its codes (other systems and text are allowed). Only value
//     sets that can be enumerated count: the registry's (conformance/acp) and the R4 required
//     ones of the model; bindings to others (UK Core value sets, SNOMED CT refsets) and the
//     strengths preferred / example are not checked;
//   - type restrictions of choice elements (value[x] restricted to CodeableConcept);
//   - Reference targetProfile: the referenced type (from Reference.reference —
//     Type/id, an absolute URL ending in Type/id, #id of a contained resource — else
//     Reference.type) must be one the target profiles name: a core type or a loaded profile of
//     that type. Whether the target conforms to that profile is not checked (it is not
//     resolved); a target profile the registry does not know disables the check;
//   - slicing: slices of an element are counted per parent occurrence (min/max) and each
//     matching item gets the slice's constraints. Items are assigned to the first slice they
//     match by the discriminators: value / pattern on a path ("$this", "system",
//     "coding.code", "url", ...) against the slice's fixed[x] / pattern[x] at that path, exists,
//     and type on "$this"; extension and modifierExtension slices with a type profile match
//     the extensions whose url is that profile's url (the R4 default slicing of extensions).
//     The slicing (discriminators, rules) may come from a less derived level. With rules
//     "closed", an item matching no slice is an error ("openAtEnd" is treated as open and
//     "ordered" is not checked). Slices whose discriminators cannot be evaluated (type
//     profile, paths with functions such as resolve() or extension(), no value to compare)
//     are skipped;
//   - extensions: every extension (and modifierExtension, also in a primitive's `_name`
//     object, also in contained resources) whose url names an extension definition in the
//     registry is checked against that definition's chain (value[x] types, min/max, fixed url,
//     bindings as above) and its context: an "element" context must name the element it sits
//     on ("CarePlan.activity.detail"), that element's data type ("Identifier"), a base of it
//     ("Element", "DomainResource"), or the resource type; an "extension" context the url of
//     the enclosing extension; "fhirpath" contexts are not evaluated. Extensions with unknown
//     urls are allowed silently.
// Not checked: FHIRPath invariants (constraint), mustSupport, maxLength, minValue/maxValue,
// slice order, type profiles other than extension definitions, snapshots.
//
// Issues: codes "profile.*" (listed with their issue types at the head of
// profile_validator.cc); severity error. Locations are FHIRPath-style exactly as
// model/validator.h describes ("CarePlan.activity[0].detail.extension[1]",
// "Patient.identifier[0].system"; a missing element is located where it should be,
// "CarePlan.subject"; a count over the maximum at the first item too many). Messages name the
// profile (its id) and the constraint, e.g.
//   "ACP-CarePlan: CarePlan.category:acp min 1, found 0".
// Thread-safety: immutable after construction; validate() may run on many threads.
#pragma once

#include <memory>
#include <string_view>

#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/profile/profile_registry.h"

namespace acp::profile {

class ProfileValidator {
 public:
  // `registry` must be non-null.
  explicit ProfileValidator(std::shared_ptr<const ProfileRegistry> registry);

  // Validates `resource` against the profile with this canonical url (a "|version" suffix is
  // ignored) and the extension definitions. Appends issues; returns true when none of them is
  // an error. An unknown url is an error "profile.unknown"; a profile of another type than the
  // resource's is "profile.type-mismatch".
  bool validate(const json::Value& resource, std::string_view profileUrl, IssueList& issues) const;

  // Validates against every profile in meta.profile (each unknown url an error
  // "profile.unknown" located at "<Type>.meta.profile[i]") and the extension definitions
  // (also when nothing is claimed). Levels shared by several claimed profiles are checked once.
  bool validateClaimed(const json::Value& resource, IssueList& issues) const;

  const ProfileRegistry& registry() const { return *registry_; }

 private:
  std::shared_ptr<const ProfileRegistry> registry_;
};

}  // namespace acp::profile
