// Fuzz target: FHIR JSON to the model — the JSON reader, then the R4 validator driven by the
// published definitions (gateway/model/validator.h), as every JSON write is read.
// Contract: never a crash; a refused resource has at least one error; an accepted one writes
// as FHIR XML that the XML reader turns back into the same resource (what a client asking
// for _format=xml is sent).
#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/model/validator.h"
#include "gateway/model/xml_format.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace acp;
  static const model::Validator validator(fuzz::fhirModel());
  json::Value resource;
  json::ParseError err;
  if (!json::parse(fuzz::bytes(data, size), resource, err)) return 0;
  IssueList issues;
  bool valid = validator.validate(resource, issues);
  fuzz::check(valid != issues.hasErrors(), "validate() is false exactly when it added an error");
  if (!valid) return 0;
  std::string xml = model::jsonToXml(*fuzz::fhirModel(), resource);
  fuzz::check(!xml.empty(), "a valid resource writes as XML");
  json::Value back;
  IssueList xmlIssues;
  fuzz::check(model::xmlToJson(*fuzz::fhirModel(), xml, back, xmlIssues),
              "the XML written for a valid resource reads back");
  fuzz::check(back == resource, "the XML written for a valid resource reads back the same");
  return 0;
}
