// Hl7Feed — the MLLP message handler for the hospital's HL7 v2 feed: one message in, one ACK
// out, the ACK sent only once the message's resources are committed (mllp/message_handler.h).
// Each message is parsed once: the parsed message gives both the mapping and the ACK header.
// Messages arriving together on several connections share one durable commit
// (IngestService::commitGrouped); each is ACKed once that commit has returned.
//
//   cannot be parsed               → AR with ERR segments; kept as a failure
//   parsed, not usable (rejected)  → AE with ERR segments; kept as a failure (replayable)
//   stored or unchanged            → AA (a resend — same MSH-10 from the same MSH-3/MSH-4 —
//                                    is recognised and answered AA without a second write)
//   the store failed (transient)   → no ACK, the connection closes: the sender resends
//   MSH-4 not the organisation of the connection's client certificate (when the feed
//   requires one: MLLP over mutual TLS, gateway.auth.mode=smart) → AR with an ERR saying so;
//   nothing stored, nothing kept — a sender writes only as its own organisation
//
// The audit (with a trail; docs/security.md "Partner ingest and HL7 v2"): every message
// leaves an AuditEvent of interaction "hl7v2" (type DICOM 110110 Patient Record, subtype
// hl7v2, and create / update when it wrote), the sender as its agent — organisation the
// certificate's ODS code when the connection has one, else MSH-4; name MSH-3; network the
// peer's address — and the message as an entity (what.identifier the MSH-10 under
// https://acp-gateway.nhs.uk/Id/push/<MSH-4>; details MSH-4, MSH-9 and MSH-10).
//   - A message that reaches the store: its event is written by IngestService in the same
//     transaction as its records, naming its patients and the versions written
//     (ingest/push_audit.h), so it is durable before the AA (or AE) is sent.
//   - A message refused before the store (AR: unreadable, not mappable, the wrong sender):
//     an event with a failure outcome (8; 4 for the wrong sender, a denial), recorded
//     before the AR is sent.
//   - When the event cannot be made durable, no ACK is sent (as for a store failure): the
//     sender resends. No answer goes out unaudited.
// Free text in the events holds counts and error codes only: never NHS numbers or names.
// Thread-safety: handle() may run on many threads (messages of one connection in order).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "gateway/audit/audit_trail.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/mllp/message_handler.h"
#include "mappings/acute/acute_mapper.h"

namespace acp::mappings::acute {

class Hl7Feed : public mllp::MessageHandler {
 public:
  // Whether an organisation (ODS code) may send records over the feed.
  using SenderCheck = std::function<bool(const std::string& ods)>;

  // `certifiedSenders`: the connection's verified client certificate must name an
  // organisation (mllp::PeerInfo::certificateOrganisation) that `mayWrite` accepts (when
  // set), and every message's sending facility (MSH-4) must be that organisation. Anything
  // else is AR and nothing of it is kept — not even in the failure list, which a stranger
  // could otherwise fill: only a message that cannot be read but names its certified sender
  // is kept for the integration team.
  // `trail`: where the messages' AuditEvents go (null: not audited; unit tests only).
  Hl7Feed(std::shared_ptr<const ingest::IngestService> ingest,
          std::shared_ptr<const AcutePartner> partner, bool certifiedSenders = false,
          std::shared_ptr<const audit::AuditTrail> trail = nullptr, SenderCheck mayWrite = nullptr)
      : ingest_(std::move(ingest)),
        partner_(std::move(partner)),
        certifiedSenders_(certifiedSenders),
        trail_(std::move(trail)),
        mayWrite_(std::move(mayWrite)) {}
  std::string handle(std::string_view message, const mllp::PeerInfo& peer) override;

 private:
  // Records a refused message's event (outcome, why) and returns `ack`; throws (no ACK) when
  // the event cannot be made durable.
  std::string refused(const audit::AuditRecord& requester, int outcome, const std::string& why,
                      std::string ack) const;

  std::shared_ptr<const ingest::IngestService> ingest_;
  std::shared_ptr<const AcutePartner> partner_;
  bool certifiedSenders_ = false;
  std::shared_ptr<const audit::AuditTrail> trail_;
  SenderCheck mayWrite_;
};

}  // namespace acp::mappings::acute
