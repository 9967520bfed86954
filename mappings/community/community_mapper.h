// Community nursing export (Northshire Community Health NHS Trust, RX9) → UK Core FHIR, and
// CommunityPartner, the PartnerMapper for POST /$ingest/community (application/xml).
// docs/mappings/community.md has the field-by-field table.
//
// The document is streamed and schema-validated one Patient at a time (parser/); each
// Patient is one record: Patient, a CarePlan per CarePlan (its decisions as activities, as
// for the hospice), a Consent per CarePlan, an Encounter per Contact, and a CareTeam for the
// caseload. A Patient the parser rejected (schema, decision value) is a rejected record. A
// document that breaks off part-way keeps the Patients read before the break, and adds a
// rejected "document" record (kept whole for replay). A rejected record keeps the whole
// document as its replay content (replaying it re-sends the others as "unchanged").
// Source order (ingest::kSourceOrderExtension) on every resource, so an older export never
// overwrites newer data: CarePlan and Consent the plan version ("version:0000000002"),
// Patient, CareTeam and Encounter the export's @generated in UTC ("utc-time:20261101101500").
// Times: an xs:dateTime without a zone is Europe/London local time (the offset for that date
// is added, warning community.assumed-time-zone); xs:dates are written without their zone.
// Thread-safety: immutable after construction.
#pragma once

#include <memory>
#include <string>

#include "gateway/ingest/concept_maps.h"
#include "gateway/ingest/ingest_service.h"
#include "mappings/community/parser/community_parser.h"

namespace acp::mappings::community {

class CommunityPartner : public ingest::PartnerMapper {
 public:
  // `dir`: mappings/community (conceptmaps/ and community-export-1.xsd).
  static Result<std::shared_ptr<CommunityPartner>> create(const std::string& dir);
  std::string name() const override { return "community"; }
  bool acceptsMediaType(const std::string& t) const override {
    return t == "application/xml" || t == "text/xml";
  }
  bool map(std::string_view body, ingest::MappedPush& out, IssueList& issues) const override;

 private:
  ingest::ConceptMaps maps_;
  std::shared_ptr<const CommunitySchema> schema_;
};

}  // namespace acp::mappings::community
