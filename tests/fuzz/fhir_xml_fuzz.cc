// Fuzz target: FHIR XML to the model (gateway/model/xml_format.h), as every XML write is read,
// then the R4 validator. Contract: never a crash; a refusal has at least one error and leaves
// the output untouched; a resource read from XML and found valid writes back as XML that
// reads to the same resource.
#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/model/validator.h"
#include "gateway/model/xml_format.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace acp;
  static const model::Validator validator(fuzz::fhirModel());
  const model::Model& model = *fuzz::fhirModel();
  json::Value resource;
  IssueList issues;
  if (!model::xmlToJson(model, fuzz::bytes(data, size), resource, issues)) {
    fuzz::check(issues.hasErrors(), "a refusal says why");
    fuzz::check(resource.isNull(), "a refusal leaves the output untouched");
    return 0;
  }
  fuzz::checkJsonRoundTrip(resource);
  IssueList validation;
  if (!validator.validate(resource, validation)) return 0;
  std::string xml = model::jsonToXml(model, resource);
  json::Value back;
  IssueList again;
  fuzz::check(model::xmlToJson(model, xml, back, again), "the XML written reads back");
  fuzz::check(back == resource, "the XML written reads back the same");
  return 0;
}
