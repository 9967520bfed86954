// Shared by the partner fuzz targets (hospice, community, acute): one push through a partner's
// mapper (bytes → partner parser → FHIR), as POST /$ingest/<partner> and the MLLP listener
// run it, then the R4 validator over what it made.
// Contract checked here: a document refused whole (map() false) says why; a document that broke
// off part-way (map() true with document-level errors) carries them in a rejected record that
// keeps the content for replay; a mapped record is either
// rejected with an error, or holds resources, each an object with a resourceType and an id,
// the Patient first. The R4 validator runs over every resource (never a crash there either).
#pragma once

#include <memory>
#include <string>

#include "gateway/core/issues.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/model/validator.h"
#include "tests/fuzz/fuzz_support.h"

namespace acp::fuzz {

// The mapper made by `create` (a partner's Result<shared_ptr<...>>), once per process.
template <typename Partner, typename Create>
const Partner& partnerOnce(Create create) {
  static std::shared_ptr<Partner> partner = [&] {
    auto p = create();
    if (!p.isOk()) {
      std::fprintf(stderr, "cannot load the partner: %s\n", p.status().message().c_str());
      std::abort();
    }
    return p.take();
  }();
  return *partner;
}

inline void mapAndCheck(const ingest::PartnerMapper& partner, std::string_view body) {
  static const model::Validator validator(fhirModel());
  ingest::MappedPush push;
  IssueList issues;
  bool ok = partner.map(body, push, issues);
  if (!ok) {
    check(issues.hasErrors(), "a document refused whole says why");
    return;
  }
  if (issues.hasErrors()) {  // broke off part-way: what was read goes on, the rest is a
    bool kept = false;       // rejected record, so the error is reported and kept for replay
    for (const ingest::MappedRecord& record : push.records)
      kept = kept || (record.rejected && record.issues.hasErrors() && !record.content.empty());
    check(kept, "a document-level error travels with a rejected record");
  }
  for (const ingest::MappedRecord& record : push.records) {
    if (record.rejected) {
      check(record.issues.hasErrors(), "a rejected record says why");
      continue;
    }
    check(!record.resources.empty(), "an accepted record holds resources");
    check(record.resources[0].getString("resourceType") == "Patient", "the Patient first");
    for (const json::Value& r : record.resources) {
      check(r.isObject() && !r.getString("resourceType").empty() && !r.getString("id").empty(),
            "each resource has a type and an id");
      IssueList validation;
      validator.validate(r, validation);
    }
  }
}

}  // namespace acp::fuzz
