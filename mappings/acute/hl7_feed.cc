#include "mappings/acute/hl7_feed.h"

#include <stdexcept>

#include "gateway/hl7v2/ack.h"
#include "gateway/hl7v2/parser.h"
#include "gateway/ingest/push_audit.h"
#include "gateway/ingest/source_ids.h"

namespace acp::mappings::acute {

using ingest::MappedPush;
using ingest::RecordOutcome;

namespace {

// The issues of a rejected message as ERR entries (table 0357: 101 for a missing required
// field, 207 otherwise).
hl7v2::ErrorList errorsOf(const IssueList& issues) {
  hl7v2::ErrorList out;
  for (const Issue& i : issues.issues()) {
    if (i.severity != Severity::kError) continue;
    hl7v2::Error e;
    e.code = i.code.find("required") != std::string::npos
                 ? hl7v2::ErrorCode::kRequiredFieldMissing
                 : hl7v2::ErrorCode::kApplicationInternalError;
    // "PID-3" style locations become the ERR location.
    size_t dash = i.location.find('-');
    if (i.location.size() >= 3 && dash == 3) {
      e.segmentId = i.location.substr(0, 3);
      e.segmentSequence = 1;
      try {
        e.field = std::stoi(i.location.substr(4));
      } catch (...) {
      }
    }
    e.message = i.message;
    out.add(std::move(e));
  }
  return out;
}

// The sender and the message as far as they can be read, for the message's AuditEvent
// (hl7_feed.h). MSH values are decoded, sanitised and capped by the parser (header.h).
audit::AuditRecord requesterOf(const hl7v2::ParseResult& parsed, const mllp::PeerInfo& peer) {
  audit::AuditRecord r;
  r.interaction = "hl7v2";
  r.sourceAddress = peer.address;
  const bool read = parsed.headerRead || parsed.ok();
  const hl7v2::Header& h = parsed.header;
  const std::string facility = read ? h.sendingFacility.namespaceId : "";
  r.organisation = !peer.certificateOrganisation.empty() ? peer.certificateOrganisation : facility;
  if (read) r.clientId = h.sendingApplication.namespaceId;
  r.message.system = std::string(ingest::kAcpBase) + "/Id/push/" + facility;
  r.message.id = read && !h.controlId.empty() ? h.controlId : "(unreadable)";
  r.message.name = "HL7 v2 message";
  if (read) {
    if (!facility.empty()) r.message.details.emplace_back("MSH-4", facility);
    std::string type = h.messageType + (h.triggerEvent.empty() ? "" : "^" + h.triggerEvent);
    if (!type.empty()) r.message.details.emplace_back("MSH-9", type);
    if (!h.controlId.empty()) r.message.details.emplace_back("MSH-10", h.controlId);
  }
  return r;
}

// The gateway's error codes of a list of issues, for an event's outcome text.
std::string codesOf(const IssueList& issues) {
  std::string out;
  for (const Issue& i : issues.issues())
    if (i.severity == Severity::kError && !i.code.empty() &&
        out.find(i.code) == std::string::npos && out.size() < 200)
      out += (out.empty() ? ": " : ", ") + i.code;
  return out;
}

}  // namespace

std::string Hl7Feed::refused(const audit::AuditRecord& requester, int outcome,
                             const std::string& why, std::string ack) const {
  if (!trail_) return ack;
  audit::AuditRecord r = requester;
  r.outcome = outcome;
  r.outcomeText = why;
  if (!trail_->record(r).isOk())
    throw std::runtime_error("audit unavailable: no ACK, the sender resends");
  return ack;
}

std::string Hl7Feed::handle(std::string_view message, const mllp::PeerInfo& peer) {
  // Resends are recognised by sender + MSH-10 (MappedRecord::deliveryKey).
  hl7v2::AckOptions options;
  hl7v2::ParseResult parsed = hl7v2::parse(message);
  const audit::AuditRecord requester = requesterOf(parsed, peer);
  const std::string& certified = peer.certificateOrganisation;
  if (certifiedSenders_ && (certified.empty() || (mayWrite_ && !mayWrite_(certified)))) {
    hl7v2::ErrorList errors;
    hl7v2::Error e;
    e.code = hl7v2::ErrorCode::kApplicationInternalError;
    e.segmentId = "MSH";
    e.segmentSequence = 1;
    e.field = 4;
    e.message = "this connection's client certificate names no organisation that sends records "
                "to the gateway (" + (certified.empty() ? std::string("none") : certified) + ")";
    errors.add(std::move(e));
    std::string ack = parsed.ok()
                          ? hl7v2::buildAck(parsed.message, hl7v2::AckCode::kReject, errors, options)
                          : hl7v2::buildParseFailureAck(parsed, options);
    return refused(requester, audit::kOutcomeMinorFailure,
                   "AR: the client certificate's organisation is not a registered source "
                   "system: auth.role",
                   std::move(ack));
  }
  if (certifiedSenders_ && !parsed.ok() &&
      (!parsed.headerRead || parsed.header.sendingFacility.namespaceId != certified)) {
    // Unreadable, and not even its header says it comes from the certified sender: refused,
    // not kept (the failure list is for a sender's own messages).
    return refused(requester, audit::kOutcomeMinorFailure,
                   "AR: the message cannot be parsed and does not name the connection's "
                   "organisation as its sending facility: auth.wrong-organisation",
                   hl7v2::buildParseFailureAck(parsed, options));
  }
  if (certifiedSenders_ && parsed.ok() &&
      parsed.header.sendingFacility.namespaceId != certified) {
    hl7v2::ErrorList errors;
    hl7v2::Error e;
    e.code = hl7v2::ErrorCode::kApplicationInternalError;
    e.segmentId = "MSH";
    e.segmentSequence = 1;
    e.field = 4;
    e.message = "the sending facility is not the organisation of this connection's client "
                "certificate (" +
                (peer.certificateOrganisation.empty() ? std::string("none")
                                                      : peer.certificateOrganisation) +
                "): a sender writes only as its own organisation";
    errors.add(std::move(e));
    return refused(requester, audit::kOutcomeMinorFailure,
                   "AR: the sending facility (MSH-4) is not the organisation of the connection's "
                   "client certificate: auth.wrong-organisation",
                   hl7v2::buildAck(parsed.message, hl7v2::AckCode::kReject, errors, options));
  }
  if (!parsed.ok()) {
    IssueList issues;
    for (const hl7v2::Error& e : parsed.errors.items())
      if (e.isError()) issues.error("structure", e.location(), e.message, "hl7.malformed");
    // What could be read of MSH still says which message it was and who sent it.
    (void)ingest_->keepDocumentFailure(partner_->name(), "application/hl7-v2", std::string(message),
                                 issues, parsed.headerRead ? parsed.header.controlId : "",
                                 parsed.headerRead ? parsed.header.sendingFacility.namespaceId : "");
    return refused(requester, audit::kOutcomeSeriousFailure,
                   "AR: the message cannot be parsed" + codesOf(issues),
                   hl7v2::buildParseFailureAck(parsed, options));
  }
  MappedPush push;
  IssueList issues;
  if (!partner_->pushFor(parsed.message, push, issues)) {
    (void)ingest_->keepDocumentFailure(partner_->name(), "application/hl7-v2", std::string(message),
                                 issues);
    return refused(requester, audit::kOutcomeSeriousFailure,
                   "AR: the message cannot be processed" + codesOf(issues),
                   hl7v2::buildAck(parsed.message, hl7v2::AckCode::kReject, errorsOf(issues),
                                   options));
  }
  // The message's event is written with its records (ingest/push_audit.h).
  ingest::PushAudit audit;
  audit.trail = trail_.get();
  audit.requester = requester;
  std::vector<RecordOutcome> outcomes = ingest_->commitGrouped(push, trail_ ? &audit : nullptr);
  for (const RecordOutcome& o : outcomes)
    if (ingest::failedInStore(o))
      throw std::runtime_error("store unavailable: no ACK, the sender resends");
  if (trail_ && !audit.complete)
    throw std::runtime_error("audit unavailable: no ACK, the sender resends");
  for (const RecordOutcome& o : outcomes)
    if (o.result == RecordOutcome::Result::kRejected)
      return hl7v2::buildAck(parsed.message, hl7v2::AckCode::kError, errorsOf(o.issues), options);
  return hl7v2::buildAck(parsed.message, hl7v2::AckCode::kAccept, hl7v2::ErrorList(), options);
}

}  // namespace acp::mappings::acute
