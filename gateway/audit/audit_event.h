// AuditRecord → FHIR R4 AuditEvent, following IHE Basic Audit Log Patterns (BALP), and the
// audit trail row that keeps it (store/audit_log.h).
//
// The event (element by element):
//   type         audit-event-type#rest "Restful Operation"; for "login" DCM#110114 "User
//                Authentication"; for "hl7v2" DCM#110110 "Patient Record" (as IHE ATNA
//                audits an HL7 v2 feed)
//   subtype      restful-interaction#<interaction>; for operations also
//                https://acp-gateway.nhs.uk/CodeSystem/operation#<name, e.g. $acp-summary>;
//                for "login" DCM#110122 "Login"; for "hl7v2" kAuditSubtypeSystem#hl7v2 and,
//                when the message wrote, restful-interaction#create or #update (action C / U);
//                for "refused" kAuditSubtypeSystem#refused (type rest)
//   action       C R U D E (AuditRecord::action, or derived from the interaction)
//   recorded     the instant, millisecond precision, UTC
//   outcome      0 4 8 12; outcomeDesc the outcome text
//   purposeOfEvent  v3-ActReason#<purpose>, text = the break-glass reason
//   agent[0]     the client: type DCM#110153 "Source Role ID", who.identifier = the ODS code
//                (https://fhir.nhs.uk/Id/ods-organization-code) and who.display / name = the
//                client id, role.text = its gateway role, policy = the access token's jti,
//                network = its address; requestor true unless a user is named
//   agent[1]     the gateway: type DCM#110152 "Destination Role ID", requestor false,
//                network = its base URL
//   agent[2]     the user, when known: type v3-ParticipationType#IRCP, requestor true
//   source       observer = the gateway, type security-source-type#4 "Application Server"
//   entity       each patient (what Patient/<id>, type audit-entity-type#1 Person, role
//                object-role#1 Patient); each resource (what its reference, type #2 System
//                Object, role #4 Domain Resource); the query (type #2, role #24 Query, query =
//                the request base64); the partner document or HL7 v2 message
//                (AuditRecord::message: type #2, role #20 Job, what.identifier, name, and
//                detail type/valueString, e.g. MSH-10); the X-Request-Id (BALP
//                BasicAuditEntityType#XrequestId)
// One event may name several patients (a search across patients); BALP would write one
// event per patient. The trail indexes every patient of an event, so a search by patient
// finds it either way.
//
// The trail stores (and hashes) the event's facts (audit_facts.h), not this JSON: the
// AuditEvent served is rendered from them by renderAuditEvent, with id = seq,
// meta.lastUpdated = recorded, and the extension kAuditChainExtension with sub-extensions seq
// (valueDecimal: a busy trail outgrows FHIR's 32-bit integer), previousHash and hash
// (valueString, lower-case hex).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/audit/audit_facts.h"
#include "gateway/audit/audit_record.h"
#include "gateway/core/json.h"
#include "gateway/core/status.h"
#include "gateway/store/audit_log.h"

namespace acp::audit {

inline constexpr const char* kAuditChainExtension =
    "https://acp-gateway.nhs.uk/StructureDefinition/audit-chain";
inline constexpr const char* kOperationCodeSystem =
    "https://acp-gateway.nhs.uk/CodeSystem/operation";
inline constexpr const char* kOdsSystem = "https://fhir.nhs.uk/Id/ods-organization-code";
// The gateway's own event subtypes: hl7v2 (a message over MLLP), refused (by the listener).
inline constexpr const char* kAuditSubtypeSystem =
    "https://acp-gateway.nhs.uk/CodeSystem/audit-subtype";

// C R U D E for an interaction code (AuditRecord::action).
char actionOf(const std::string& interaction);

// The AuditEvent of `record`, recorded at `recordedMs` (no id, meta or chain extension).
// Errors (Status::invalid, "audit.invalid-record: ..."): no interaction, an operation
// without its name, an outcome other than 0 4 8 12, an action other than C R U D E.
Result<json::Value> auditEvent(const AuditRecord& record, int64_t recordedMs,
                               const AuditSource& source);

// The trail row for `record`: the searchable columns (subtype = the operation name for
// operations, else the interaction) and, as its json, the facts (audit_facts.h); seq and
// hashes are left to the store. Errors as auditEvent (checked without building the event).
Result<store::AuditRow> auditRow(const AuditRecord& record, int64_t recordedMs,
                                 const AuditSource& source);

// The AuditEvent served for a stored row (see above). Errors: Status::internal
// "audit.unreadable" when the stored facts cannot be read.
Result<json::Value> renderAuditEvent(const store::AuditRow& row);

// Standard base64 with padding (FHIR base64Binary).
std::string base64Encode(const std::string& bytes);

}  // namespace acp::audit
