// Validator — structural validation of a FHIR R4 resource against the model.
//
// Checks, with a FHIRPath location for each problem (e.g. "Patient.name[0].given[1]"):
// unknown elements; wrong JSON kinds (object/array/primitive); arrays where max=1 and single
// values where max>1; cardinality (min/max); primitive formats (id, date, dateTime, instant,
// time, decimal, integer, positiveInt, unsignedInt, boolean, uri, url, canonical, code, oid,
// uuid, base64Binary, string, markdown, xhtml); `_name` primitive extension objects and null
// alignment in primitive arrays; empty objects/arrays/strings (not allowed in FHIR JSON);
// one choice type at most per choice element; codes of required bindings (when enumerable);
// reference syntax (relative Type/id with a known type, absolute URL, #fragment, urn:uuid);
// contained resources (recursively) and Bundle.entry.resource; resourceType present and known.
//
// Locations (Issue::location) are FHIRPath-style paths from the root resource type:
//   - elements are joined with '.', and every element whose max is not 1 carries its index:
//     "Patient.name[0].given[1]", "CarePlan.activity[2].detail.code";
//   - a choice element is named as it appears in the JSON: "Observation.valueQuantity.value";
//   - a nested resource continues the path of the element holding it, without repeating its
//     type: "Patient.contained[0].name[0]", "Bundle.entry[3].resource.subject";
//   - problems found in a `_name` extension object are located at the primitive they extend
//     ("Patient.name[0].given[1].extension[0].url"); an unknown property is named as written
//     ("Patient.foo", "Patient._foo"); a missing required element is located where it should
//     be ("CarePlan.subject"); problems with resourceType itself are located at
//     "<resource path>.resourceType" ("resourceType" for the root).
// Error codes are "validate.*"; the list with their meanings heads validator.cc.
// Thread-safety: immutable after construction; validate() may run on many threads.
#pragma once

#include <memory>
#include <string_view>

#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/model/model.h"

namespace acp::model {

class Validator {
 public:
  explicit Validator(std::shared_ptr<const Model> model);

  // Validates `resource`; appends issues; returns true when no error was added.
  // `expectedType`, when given, must equal resourceType (e.g. the type in the URL); a
  // mismatch is an error with code "validate.type-mismatch".
  bool validate(const json::Value& resource, IssueList& issues,
                std::string_view expectedType = {}) const;

 private:
  struct Index;  // per-type lookup tables built once from the model (validator.cc)
  std::shared_ptr<const Model> model_;
  std::shared_ptr<const Index> index_;
};

// Format check for one primitive value given as JSON text (the string, or raw number /
// boolean text) as the JSON value it arrived as. Returns "" when valid, otherwise
// a short reason. Shared by the validator and the XML reader.
std::string checkPrimitive(std::string_view type, const json::Value& value);

}  // namespace acp::model
