// mllpRefusal — which events of the MLLP listener (mllp/mllp_listener.h) are refusals by the
// listener, audited with the HTTP listener's (http/refusal_audit.h: the same per-address rate
// limit and event shape; docs/security.md "Refusals by the listener").
//
// A refusal is a connection the listener ends because the sender broke a transport rule or
// was not let in, before any message of it reached the handler:
//   - over maxConnections (Event kRefused)                  mllp.too-many-connections   8
//   - a frame over maxFrameBytes (kFrameTooLarge)            mllp.frame-too-large        8
//   - a frame not ended in time (kFrameTimeout)              mllp.frame-timeout          8
//   - a refused handshake or a TLS error (kTlsFailed)        mllp.tls-failed             4
//   - no completed handshake in time (kTlsHandshakeTimeout)  mllp.tls-handshake-timeout  8
// (code "mllp." + closeReasonName(), then the AuditEvent outcome). Not refusals, so not here:
// normal closes (the peer's, idle, stopping); a peer that closes or resets mid-frame
// (kIncompleteFrame, kSocketError) or takes no ACK (kWriteTimeout): it left, nothing was
// refused; kHandlerFailed: the message reached the handler, whose own events say why
// (mappings/acute/hl7_feed.h); bytes outside frames (kDiscardedBytes): dropped, the frames
// around them still served.
// The Refusal holds the peer's address, status 0, method "MLLP" (the event's query), the code
// and the outcome; never a byte of what the sender sent, nor the TLS error's text.
#pragma once

#include <optional>

#include "gateway/http/refusal_audit.h"
#include "gateway/mllp/mllp_listener.h"

namespace acp::app {

// The refusal an event reports, or nullopt when it reports none.
std::optional<http::Refusal> mllpRefusal(const mllp::Event& event);

}  // namespace acp::app
