// Hl7Feed — the MLLP message handler for HL7 v2 partners: one message in, one ACK out, the
// ACK sent only once the message's resources are committed (mllp/message_handler.h).
//
//   cannot be parsed               → AR with ERR segments; kept as a failure
//   parsed, not usable (rejected)  → AE with ERR segments; kept as a failure (replayable)
//   stored or unchanged            → AA (a resent MSH-10 maps to the same resources and
//                                    writes nothing: AA without a second write)
//   the store failed (transient)   → no ACK, the connection closes: the sender resends
// Thread-safety: handle() may run on many threads (messages of one connection in order).
#pragma once

#include <memory>
#include <string>

#include "gateway/ingest/ingest_service.h"
#include "gateway/mllp/message_handler.h"

namespace acp::ingest {

class Hl7Feed : public mllp::MessageHandler {
 public:
  // `partner`: the PartnerMapper that maps HL7 v2 messages (name "hl7v2").
  Hl7Feed(std::shared_ptr<const IngestService> ingest, const PartnerMapper* partner)
      : ingest_(std::move(ingest)), partner_(partner) {}
  std::string handle(std::string_view message, const mllp::PeerInfo& peer) override;

 private:
  std::shared_ptr<const IngestService> ingest_;
  const PartnerMapper* partner_;
};

}  // namespace acp::ingest
