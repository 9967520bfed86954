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
// Thread-safety: handle() may run on many threads (messages of one connection in order).
#pragma once

#include <memory>
#include <string>

#include "gateway/ingest/ingest_service.h"
#include "gateway/mllp/message_handler.h"
#include "mappings/acute/acute_mapper.h"

namespace acp::mappings::acute {

class Hl7Feed : public mllp::MessageHandler {
 public:
  // `certifiedSenders`: every message's sending facility (MSH-4) must be the ODS code of the
  // connection's verified client certificate (mllp::PeerInfo::certificateOrganisation).
  Hl7Feed(std::shared_ptr<const ingest::IngestService> ingest,
          std::shared_ptr<const AcutePartner> partner, bool certifiedSenders = false)
      : ingest_(std::move(ingest)),
        partner_(std::move(partner)),
        certifiedSenders_(certifiedSenders) {}
  std::string handle(std::string_view message, const mllp::PeerInfo& peer) override;

 private:
  std::shared_ptr<const ingest::IngestService> ingest_;
  std::shared_ptr<const AcutePartner> partner_;
  bool certifiedSenders_ = false;
};

}  // namespace acp::mappings::acute
