// PatientCompartment — which patients a resource is about, from the published R4 Patient
// CompartmentDefinition (conformance/r4/compartment-patient.json): for each resource type, the
// search parameters whose Patient references put the resource in that patient's compartment
// (CarePlan: patient, performer; Encounter: subject; Flag: patient; ...). No code per type.
//
// Who may read a resource is decided per patient (access/access_policy.h): a resource in no
// patient's compartment (Organization, Practitioner...) is not patient data.
// Immutable after load(); patientsOf() may run on any number of threads.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/core/status.h"
#include "gateway/model/model.h"
#include "gateway/search/fhirpath.h"

namespace acp::access {

class PatientCompartment {
 public:
  // Reads `file` and compiles the expressions of the parameters it names against `model`
  // (which must outlive this). A parameter the model lacks or cannot compile is an error.
  static Result<std::shared_ptr<const PatientCompartment>> load(
      std::shared_ptr<const model::Model> model, const std::string& file);

  // The ids of the Patients `resource` belongs to: a Patient is in its own compartment (and
  // in those of the Patients its `link` names); other types through their compartment
  // parameters' references to Patient ("Patient/123", versioned or absolute with this
  // server's base). Empty for a type outside the compartment, or with no such reference.
  std::vector<std::string> patientsOf(const json::Value& resource) const;
  // True when resources of `type` can belong to a patient's compartment.
  bool covers(const std::string& type) const;
  const model::Model& model() const { return *model_; }

 private:
  std::shared_ptr<const model::Model> model_;
  std::unordered_map<std::string, std::vector<search::Expression>> byType_;
};

}  // namespace acp::access
