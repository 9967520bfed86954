// Hospice mapper: hospice::Record → UK Core FHIR resources (docs/mappings/hospice.md has the
// field-by-field table), and HospicePartner, the PartnerMapper for POST /$ingest/hospice.
//
// One record maps to: Patient; a Condition per diagnosis; an Encounter per episode; and, when
// the record has an advance care plan, a CarePlan (category 736366004 "Advance care plan"),
// a Consent for its consent to share, and a CareTeam for the key worker. Ids derive from
// (type, source ODS, the hospice's key: recordId, planId, episodeId...), so a re-sent record
// updates the same resources. An NHS number that fails the Modulus 11 check is never stored
// as an NHS number (warning hospice.invalid-nhs-number; the record keeps its local
// identifier). Unknown codes keep their text and get a warning. Thread-safety: the partner is
// immutable after construction; map() may run on many threads.
#pragma once

#include <memory>
#include <string>

#include "gateway/ingest/concept_maps.h"
#include "gateway/ingest/ingest_service.h"
#include "mappings/hospice/hospice_export.h"

namespace acp::mappings::hospice {

ingest::MappedRecord mapRecord(const Export& doc, const Record& record,
                               const ingest::ConceptMaps& maps);

class HospicePartner : public ingest::PartnerMapper {
 public:
  // `conceptMapDir`: mappings/hospice/conceptmaps.
  static Result<std::shared_ptr<HospicePartner>> create(const std::string& conceptMapDir);
  std::string name() const override { return "hospice"; }
  bool acceptsMediaType(const std::string& t) const override {
    return t == "application/json";
  }
  bool map(std::string_view body, ingest::MappedPush& out, IssueList& issues) const override;

 private:
  ingest::ConceptMaps maps_;
};

}  // namespace acp::mappings::hospice
