// Fuzz target: the profile validator (gateway/profile/profile_validator.h) with the UK Core
// and ACP profiles the gateway claims (gateway/ingest/profiles.h), after the R4 validator, as
// an ingested or written resource is checked. Contract: never a crash; validate() is false
// exactly when it added an error.
#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/ingest/profiles.h"
#include "gateway/model/validator.h"
#include "gateway/profile/profile_validator.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace acp;
  static const model::Validator base(fuzz::fhirModel());
  static const profile::ProfileValidator profiles(fuzz::profiles());
  json::Value resource;
  json::ParseError err;
  if (!json::parse(fuzz::bytes(data, size), resource, err)) return 0;
  IssueList baseIssues;
  base.validate(resource, baseIssues);  // the profile validator runs on what base accepts,
  if (baseIssues.hasErrors()) return 0;  // as in the gateway
  for (const std::string& url : ingest::supportedProfiles(resource.getString("resourceType"))) {
    IssueList issues;
    bool ok = profiles.validate(resource, url, issues);
    fuzz::check(ok != issues.hasErrors(), "validate() is false exactly when it added an error");
  }
  return 0;
}
