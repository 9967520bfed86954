// Acute hospital HL7 v2.4 (Northshire University Hospitals, RX8) → UK Core FHIR, and
// AcutePartner, the PartnerMapper for HL7 v2 messages (POST /$ingest/hl7v2 now; the MLLP
// listener uses the same mapper). docs/mappings/acute.md has the field-by-field table.
//
// One message = one record (record id = MSH-10; delivery key = MSH-3|MSH-4|MSH-10, so a
// resend is never applied twice). Mapped: ADT A01 A02 A03 A04 A05 A08 (Patient + the spell's
// Encounter, keyed by PV1-19), A11 (that Encounter entered-in-error), A13 (back in progress,
// discharge removed), A28 A31 (Patient), A40 (Patient from PID plus a merge of the MRG-1
// duplicate into it, applied by IngestService), ORU^R01 ReSPECT (Patient + CarePlan keyed by
// OBR-3). Patient and Encounter are overlays: a field not sent leaves the stored value, the
// explicit null `""` removes it. A message that cannot be parsed is a document-level failure
// (the MLLP answer is AR); a message whose content cannot be used is a rejected record (AE).
// The Patient's id derives from the hospital number (PID-3 type MR).
// Thread-safety: immutable after construction.
#pragma once

#include <memory>
#include <string>

#include "gateway/hl7v2/message.h"
#include "gateway/ingest/concept_maps.h"
#include "gateway/ingest/ingest_service.h"

namespace acp::mappings::acute {

// "20261028093000" (HL7 TS, local UK time unless an offset is given) → FHIR dateTime with
// the Europe/London offset of that moment ("2026-10-28T09:30:00+00:00"); a date only stays
// a date. "" when malformed.
std::string fhirDateTime(const std::string& ts);

class AcutePartner : public ingest::PartnerMapper {
 public:
  static Result<std::shared_ptr<AcutePartner>> create(const std::string& conceptMapDir);
  std::string name() const override { return "hl7v2"; }
  bool acceptsMediaType(const std::string& t) const override {
    return t == "application/hl7-v2" || t == "x-application/hl7-v2+er7" || t == "text/plain";
  }
  bool map(std::string_view body, ingest::MappedPush& out, IssueList& issues) const override;
  // Maps one parsed message into one record (for the MLLP path, which parses first).
  ingest::MappedRecord mapMessage(const hl7v2::Message& msg, const std::string& ods) const;
  // The push of one already parsed message; false (with issues) when MSH-4 is missing.
  bool pushFor(const hl7v2::Message& msg, ingest::MappedPush& out, IssueList& issues) const;

 private:
  ingest::ConceptMaps maps_;
};

}  // namespace acp::mappings::acute
