#include "gateway/app/mllp_metrics.h"

#include "gateway/hl7v2/parser.h"

namespace acp::app {

namespace {

void countEvent(metrics::Registry& m, const mllp::Event& e) {
  using Kind = mllp::Event::Kind;
  metrics::Gauge& open = m.gauge("acp_mllp_connections_open", "Open MLLP connections");
  switch (e.kind) {
    case Kind::kConnected:
      m.counter("acp_mllp_connections_total", "MLLP connections accepted").inc();
      open.add(1);
      break;
    case Kind::kRefused:
      m.counter("acp_mllp_connections_refused_total",
                "MLLP connections closed at once because the listener was full")
          .inc();
      break;
    case Kind::kClosed:
      open.add(-1);
      m.counter("acp_mllp_connections_closed_total", "MLLP connections closed, by reason",
                {{"reason", mllp::closeReasonName(e.reason)}})
          .inc();
      break;
    case Kind::kDiscardedBytes:
      m.counter("acp_mllp_discarded_bytes_total",
                "Bytes received outside MLLP frames (or of abandoned frames) and dropped")
          .inc(e.bytes);
      break;
  }
}

}  // namespace

void countMllpEvent(metrics::Registry& m, const mllp::Event& e) noexcept {
  try {  // counting must never keep a refusal from its audit
    countEvent(m, e);
  } catch (...) {
  }
}

std::string ackCodeOf(std::string_view ack) {
  hl7v2::ParseResult parsed = hl7v2::parse(ack);
  std::string code = parsed.message.text("MSA", 1);
  // Only the codes an ACK may carry: the label stays bounded whatever a handler returns.
  static const char* const kCodes[] = {"AA", "AE", "AR", "CA", "CE", "CR"};
  for (const char* k : kCodes)
    if (code == k) return code;
  return code.empty() ? "none" : "other";
}

void CountingHandler::count(const std::string& code) noexcept {
  try {
    metrics_
        ->counter("acp_mllp_acks_total",
                  "Answers to HL7 v2 messages received over MLLP, by MSA-1", {{"code", code}})
        .inc();
  } catch (...) {
  }
}

std::string CountingHandler::handle(std::string_view message, const mllp::PeerInfo& peer) {
  std::string ack;
  try {
    ack = inner_->handle(message, peer);
  } catch (...) {
    count("none");
    throw;
  }
  count(ack.empty() ? "none" : ackCodeOf(ack));
  return ack;
}

}  // namespace acp::app
