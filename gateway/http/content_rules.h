// Content rules the published profiles do not express, checked with them on every write
// through the API (a resource, and each entry of a transaction or batch): FhirService::
// checkProfiles runs them beside the claimed profiles and reports both.
//   - An Identifier in the NHS number system (https://fhir.nhs.uk/Id/nhs-number), anywhere in
//     the resource (Patient.identifier, a Reference's identifier, a contained resource), has a
//     value of ten digits with a valid Modulus 11 check digit (NHS Data Dictionary). Refused
//     with issue type "value", code "rule.nhs-number", at the value's FHIRPath: 422 (a "rule."
//     code is a rule failure whatever its issue type; FhirService::fromIssues).
// The partner mappers apply the same check where records enter (a failing number is not used
// to link the child: ../shared/partners, tests/golden/*/nhs-number-fails-modulus-11).
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "gateway/core/issues.h"
#include "gateway/core/json.h"

namespace acp::http {

// Adds an error for each rule `resource` breaks; `at` is the FHIRPath of the resource ("" for
// its type, e.g. "Bundle.entry[2].resource" inside a Bundle). True when none was added.
bool checkContentRules(const json::Value& resource, const std::string& at, IssueList& issues);

}  // namespace acp::http
