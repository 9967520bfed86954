// MLLP metrics (docs/operations.md, "Metrics"): what the HL7 v2 listener's connections and
// answers look like to the people running it. Wired by app/gateway.cc around the listener;
// the listener itself stays transport only (mllp/message_handler.h).
//   acp_mllp_connections_total            connections accepted
//   acp_mllp_connections_open             connections open now
//   acp_mllp_connections_refused_total    connections closed at once, over the cap
//   acp_mllp_connections_closed_total{reason}   closed connections, by reason (peer-closed,
//                                         idle-timeout, frame-too-large, ... : closeReasonName)
//   acp_mllp_acks_total{code}             answers to messages: AA, AE, AR, or none (the
//                                         handler refused to acknowledge: the sender resends)
// Thread-safety: both are called on the listener's workers, concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "gateway/metrics/registry.h"
#include "gateway/mllp/message_handler.h"
#include "gateway/mllp/mllp_listener.h"

namespace acp::app {

// Counts one listener event.
void countMllpEvent(metrics::Registry& metrics, const mllp::Event& e) noexcept;

// A MessageHandler that hands each message to `inner` and counts the answer by its MSA-1
// (read back from the ACK `inner` built); an exception from `inner` is counted as "none" and
// passed on unchanged.
class CountingHandler : public mllp::MessageHandler {
 public:
  CountingHandler(std::shared_ptr<mllp::MessageHandler> inner,
                  std::shared_ptr<metrics::Registry> metrics)
      : inner_(std::move(inner)), metrics_(std::move(metrics)) {}
  std::string handle(std::string_view message, const mllp::PeerInfo& peer) override;

 private:
  void count(const std::string& code) noexcept;
  std::shared_ptr<mllp::MessageHandler> inner_;
  std::shared_ptr<metrics::Registry> metrics_;
};

// The MSA-1 of an ACK (AA, AE, AR, CA, CE, CR), "other" for anything else, "none" when it has
// none.
std::string ackCodeOf(std::string_view ack);

}  // namespace acp::app
