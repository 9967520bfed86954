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
  Hl7Feed(std::shared_ptr<const ingest::IngestService> ingest,
          std::shared_ptr<const AcutePartner> partner)
      : ingest_(std::move(ingest)), partner_(std::move(partner)) {}
  std::string handle(std::string_view message, const mllp::PeerInfo& peer) override;

 private:
  std::shared_ptr<const ingest::IngestService> ingest_;
  std::shared_ptr<const AcutePartner> partner_;
};

}  // namespace acp::mappings::acute
