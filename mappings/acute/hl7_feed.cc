#include "mappings/acute/hl7_feed.h"

#include <stdexcept>

#include "gateway/hl7v2/ack.h"
#include "gateway/hl7v2/parser.h"

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

}  // namespace

std::string Hl7Feed::handle(std::string_view message, const mllp::PeerInfo& peer) {
  // Resends are recognised by sender + MSH-10 (MappedRecord::deliveryKey).
  hl7v2::AckOptions options;
  hl7v2::ParseResult parsed = hl7v2::parse(message);
  if (certifiedSenders_ && parsed.ok() &&
      (peer.certificateOrganisation.empty() ||
       parsed.header.sendingFacility.namespaceId != peer.certificateOrganisation)) {
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
    return hl7v2::buildAck(parsed.message, hl7v2::AckCode::kReject, errors, options);
  }
  if (!parsed.ok()) {
    IssueList issues;
    for (const hl7v2::Error& e : parsed.errors.items())
      if (e.isError()) issues.error("structure", e.location(), e.message, "hl7.malformed");
    // What could be read of MSH still says which message it was and who sent it.
    ingest_->keepDocumentFailure(partner_->name(), "application/hl7-v2", std::string(message),
                                 issues, parsed.headerRead ? parsed.header.controlId : "",
                                 parsed.headerRead ? parsed.header.sendingFacility.namespaceId : "");
    return hl7v2::buildParseFailureAck(parsed, options);
  }
  MappedPush push;
  IssueList issues;
  if (!partner_->pushFor(parsed.message, push, issues)) {
    ingest_->keepDocumentFailure(partner_->name(), "application/hl7-v2", std::string(message),
                                 issues);
    return hl7v2::buildAck(parsed.message, hl7v2::AckCode::kReject, errorsOf(issues), options);
  }
  std::vector<RecordOutcome> outcomes = ingest_->commitGrouped(push);
  for (const RecordOutcome& o : outcomes) {
    if (o.result != RecordOutcome::Result::kRejected) continue;
    for (const Issue& i : o.issues.issues())
      if (i.code == "ingest.store-failed")
        throw std::runtime_error("store unavailable: no ACK, the sender resends");
    return hl7v2::buildAck(parsed.message, hl7v2::AckCode::kError, errorsOf(o.issues), options);
  }
  return hl7v2::buildAck(parsed.message, hl7v2::AckCode::kAccept, hl7v2::ErrorList(), options);
}

}  // namespace acp::mappings::acute
