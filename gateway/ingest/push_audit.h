// PushAudit — the AuditEvents of partner pushes: POST /$ingest/<partner> and its replays
// (http/ingest_endpoint.cc) and HL7 v2 messages over MLLP (mappings/acute/hl7_feed.h).
// IngestService writes them (ingest_service.h: commit, commitGrouped); docs/security.md,
// "Partner ingest and HL7 v2", says the same for readers of the trail.
//
// When they are written:
// - A push's records are stored in one or more store transactions (up to kRecordsPerCommit
//   records each; with commitGrouped, several pushes share one). Every transaction that
//   commits writes also holds, for each push with records in it, one AuditEvent reporting
//   those records, appended just before the commit: the records and the event that reports
//   them are durable together or not at all. A push stored in three transactions leaves
//   three events, each naming the patients and resources of its own part (detail "records":
//   "256 of 600: …"); none of them waits for the others.
// - Records that no committed transaction reported — all rejected before the store, nothing
//   to write (unchanged), or their transaction failed — are reported by one more event,
//   recorded (AuditTrail::record, durable before the caller answers) once the push's
//   transactions are over: nothing of them is stored, so there is nothing to commit it with.
//   So is a push without records.
// - PushAudit::complete says afterwards whether every record of the push is reported by a
//   durable event; the caller answers the sender only then (an HTTP 503, or no HL7 ACK,
//   otherwise: no answer goes out unaudited).
//
// What each event holds (pushEvent):
// - the requester's facts (AuditRecord: who pushed, from where, how — interaction "operation"
//   $ingest or $replay for HTTP, "hl7v2" for MLLP);
// - the patients (the gateway's Patient ids) of the records applied — stored or unchanged
//   (RecordOutcome::patients) — and, as entities, the versions those records wrote
//   (RecordOutcome::written);
// - action C when every version written is a first version, U when one is not, else the
//   requester's (E);
// - outcome 0 when every record was stored or unchanged, 4 (minor failure) when some were
//   rejected and others applied, 8 (serious failure) when all were rejected, 12 (major
//   failure) when a record was not stored because the store failed; outcomeDesc "<k> of <n>
//   records rejected: <issue codes>" — counts and the gateway's error codes only, never record
//   ids, names or numbers;
// - the push as AuditRecord::message: the push id (exportId, batchId, MSH-10) under
//   https://acp-gateway.nhs.uk/Id/push/<source ODS>, name "<partner> push", and details
//   "partner", "source" (the ODS code the push says it is from) and "records" ("<n> of
//   <total>: <a> stored, <b> unchanged, <c> rejected"), after the requester's own details
//   (MSH-9, MSH-10 for HL7).
// Plain value; not thread-safe (one per push, owned by the caller of commit()).
#pragma once

#include <vector>

#include "gateway/audit/audit_record.h"
#include "gateway/audit/audit_trail.h"
#include "gateway/ingest/ingest_service.h"

namespace acp::ingest {

struct PushAudit {
  const audit::AuditTrail* trail = nullptr;  // not owned; null: the push is not audited
  audit::AuditRecord requester;              // who pushed and how (see above)
  // Set by IngestService when commit() returns: every record of the push (or, for a push
  // without records, the push) is reported by a durable AuditEvent.
  bool complete = false;
};

// The event reporting the outcomes `reported` of records of `push` (see above).
audit::AuditRecord pushEvent(const PushAudit& audit, const MappedPush& push,
                             const std::vector<const RecordOutcome*>& reported);

}  // namespace acp::ingest
