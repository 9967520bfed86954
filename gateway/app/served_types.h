// The resource types this gateway serves over REST. Adding a type is one line here: the
// model, validation, JSON⇄XML, search parameters and the CapabilityStatement all follow
// from the R4 definitions in conformance/r4.
#pragma once

#include <string>
#include <vector>

namespace acp::app {

inline const std::vector<std::string>& servedResourceTypes() {
  static const std::vector<std::string> types = {
      "Patient",         "Encounter",   "CarePlan",   "CareTeam",
      "Condition",       "Organization", "Practitioner", "PractitionerRole",
      "RelatedPerson",   "Provenance",  "Flag",       "Consent",
      "AuditEvent",      "Subscription",
  };
  return types;
}

}  // namespace acp::app
