#include "gateway/app/mllp_refusals.h"

#include <string>

#include "gateway/audit/audit_record.h"

namespace acp::app {

std::optional<http::Refusal> mllpRefusal(const mllp::Event& event) {
  http::Refusal r;
  r.address = event.peer.address;
  r.method = "MLLP";
  r.outcome = audit::kOutcomeSeriousFailure;
  if (event.kind == mllp::Event::Kind::kRefused) {
    r.code = "mllp.too-many-connections";
    return r;
  }
  if (event.kind != mllp::Event::Kind::kClosed) return std::nullopt;
  switch (event.reason) {
    case mllp::CloseReason::kTlsFailed:
      r.outcome = audit::kOutcomeMinorFailure;  // a denial, as a refused HTTPS handshake
      break;
    case mllp::CloseReason::kFrameTooLarge:
    case mllp::CloseReason::kFrameTimeout:
    case mllp::CloseReason::kTlsHandshakeTimeout:
      break;
    default:
      return std::nullopt;
  }
  r.code = std::string("mllp.") + mllp::closeReasonName(event.reason);
  return r;
}

}  // namespace acp::app
