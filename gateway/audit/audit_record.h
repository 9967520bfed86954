// AuditRecord — what the request path knows about one audited event (a read, search, write,
// operation, token request or denial), before it becomes an AuditEvent (audit_event.h) and a
// row of the audit trail (audit_trail.h).
//
// The caller fills in what it knows; everything else has a default. Patient ids and queries
// go into the access-controlled trail only, never into a log.
// Plain value; no thread-safety concerns.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace acp::audit {

// AuditEvent.outcome codes (http://hl7.org/fhir/audit-event-outcome).
inline constexpr int kOutcomeSuccess = 0;
inline constexpr int kOutcomeMinorFailure = 4;    // a denial (401, 403), a refused request
inline constexpr int kOutcomeSeriousFailure = 8;  // the request failed (4xx other than denials)
inline constexpr int kOutcomeMajorFailure = 12;   // the server failed (5xx)

struct AuditRecord {
  // --- What happened.
  // The FHIR restful-interaction code (http://hl7.org/fhir/restful-interaction): read, vread,
  // update, patch, delete, history-instance, history-type, history-system, create,
  // search-type, search-system, capabilities, transaction, batch, operation; or one of the
  // gateway's own kinds: "login" (a token request, POST /token), "hl7v2" (an HL7 v2 message
  // received over MLLP), "refused" (a request the HTTP listener refused before it became a
  // FHIR interaction: malformed, too large, too slow, over the connection cap, a bad Host, a
  // refused TLS handshake). Required.
  std::string interaction;
  // With interaction "operation": its name as called, e.g. "$acp-summary", "$ingest",
  // "$verify-chain". Required then, ignored otherwise.
  std::string operation;
  // C R U D E; 0 derives it from the interaction: create C; read, vread, history-* R; update,
  // patch U; delete D; everything else (searches, operations, transaction, batch, login,
  // hl7v2, refused) E. Partner ingest sets it from what was written (C or U).
  char action = 0;
  int outcome = kOutcomeSuccess;  // kOutcome*
  std::string outcomeText;        // why it failed or was denied (no patient data); "" on success

  // --- Who asked (from auth::Principal) and from where.
  std::string clientId;      // Principal::clientId; "" when not authenticated
  std::string organisation;  // Principal::organisation: ODS code; "" when unknown
  std::string role;          // auth::roleName(Principal::role): "gp-practice" …; "" when none
  std::string tokenId;       // Principal::tokenId (the access token's jti), "" without a token
  std::string userId;        // the person using the client system, when the request says
  std::string userName;      //   (both "" when unknown; userId is needed for a user agent)
  std::string sourceAddress; // the client's network address (IP), "" when unknown
  std::string requestId;     // X-Request-Id of the request, when it carried one

  // --- Why.
  // v3 PurposeOfUse code (http://terminology.hl7.org/CodeSystem/v3-ActReason): TREAT for
  // care, ETREAT for emergency (break-glass) access; "" when not stated (e.g. a denial
  // before authentication).
  std::string purpose = "TREAT";
  std::string breakGlassReason;  // the reason stated for break-glass access, "" otherwise

  // --- What it concerned.
  std::vector<std::string> patients;  // Patient ids (the gateway's), each once
  // References of the resources read, returned or written, versioned when known:
  // "CarePlan/123/_history/2", "Patient/9" …
  std::vector<std::string> entities;
  // The request as received, for searches and operations: method and path with the query
  // string, e.g. "GET /CarePlan?patient=123&status=active" (stored base64, as BALP's
  // entity.query). "" for none.
  std::string query;

  // The partner document or HL7 v2 message the event is about (ingest, push_audit.h); none
  // while id is "". An entity of type #2 System Object, role object-role#20 Job, what.identifier
  // {system, id}, with `details` as entity.detail (type → valueString), e.g. {"MSH-10",
  // "PAS0001234"}, {"records", "1 of 1: 1 stored"}. Never patient identifiers or names.
  struct Message {
    std::string system;  // the identifier system of id
    std::string id;      // the push id (exportId, batchId) or the HL7 message control id
    std::string name;    // what it is, e.g. "hospice push", "HL7 v2 message"
    std::vector<std::pair<std::string, std::string>> details;
  };
  Message message;

  // When it happened, ms since the epoch; 0 = now (AuditTrail's clock).
  int64_t recordedMs = 0;
};

}  // namespace acp::audit
