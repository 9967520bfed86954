// Hospice mapper: hospice::Record → UK Core FHIR resources (docs/mappings/hospice.md has the
// field-by-field table), and HospicePartner, the PartnerMapper for POST /$ingest/hospice.
//
// One record maps to: Patient; a Condition per diagnosis; an Encounter per episode; a
// CareTeam for the key worker; and, when the record has an advance care plan, a CarePlan
// (category 736366004 "Advance care plan") and a Consent for its consent to share. Ids derive
// from (type, source ODS, the hospice's key: recordId, planId, episodeId...), so a re-sent
// record updates the same resources. Every resource carries its source order
// (ingest::kSourceOrderExtension) so that an older record never overwrites newer data:
// CarePlan and Consent the plan version ("version:0000000003"), the others the record's
// lastModified in UTC ("utc-time:20261030160200"). An NHS number that fails the Modulus 11
// check is never stored as an NHS number (warning hospice.invalid-nhs-number; the record keeps
// its local identifier). Unknown codes keep their text (CodeableConcept.text, the code as
// sent) and get a warning (hospice.unmapped-code); a resuscitation decision is never kept as
// text alone (the record is rejected). deceased.place has no FHIR home and is reported
// (hospice.unused-field). Thread-safety: the partner is immutable after construction; map()
// may run on many threads.
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
