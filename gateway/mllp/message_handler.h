// MessageHandler — what the MLLP listener (mllp_listener.h) hands each received message to,
// and PeerInfo, which connection it came on.
//
// The listener is transport only: it finds message boundaries, calls handle() with the
// message's bytes (without the MLLP framing) and sends back, framed, the bytes handle()
// returns. Parsing, storing and building the HL7 ACK (gateway/hl7v2/ack.h) are the handler's.
//
// Contract of handle():
//   - It returns the complete ACK message (segments and their CR separators, no framing).
//     The ACK is sent only after handle() returns, so a handler that returns AA must have
//     committed the message durably before returning (../shared/reference/security.md: "an
//     ACK means committed").
//   - Messages of one connection are handed over strictly in order, one at a time; messages
//     of different connections may be handled at the same time on different worker threads,
//     so the handler must be thread-safe. A call occupies a worker until it returns.
//   - To refuse without acknowledging, throw (or return an empty string): the listener sends
//     no ACK and closes the connection, dropping whatever that connection sent after the
//     message. The sender then reconnects and resends the same message (same MSH-10), so a
//     transient failure of ours (store unavailable, out of memory) is neither acknowledged as
//     stored nor answered AE/AR (which would make the sender stop resending), and the order
//     of that sender's messages is kept. Handlers should therefore detect resent MSH-10s per
//     sender (see PeerInfo) and answer them AA without a second write. An ACK holding 0x0B or
//     0x1C cannot be framed and is treated the same way (the ACK builder escapes values, so
//     a real ACK never holds them).
//   - The message may hold any bytes except 0x0B (and the 0x1C 0x0D pair); its character set
//     is for the HL7 parser to decide.
//   - `message` and `peer` are valid only during the call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace acp::mllp {

// The connection a message came on. Stable for the connection's life once the TLS handshake
// (if any) is complete, which is before any message.
struct PeerInfo {
  uint64_t connectionId = 0;  // unique within one listener's life, from 1, in accept order
  std::string address;        // the peer's numeric IP address ("10.1.2.3", "::1")
  int port = 0;               // the peer's TCP port
  // MLLP over TLS: the verified client certificate's ODS code (tls/peer_identity.h says how a
  // certificate names its organisation) and its subject (RFC 2253); "" without TLS, without
  // a certificate, or before the handshake completes (Event kConnected).
  std::string certificateOrganisation;
  std::string certificateSubject;
  // "10.1.2.3:40112" or "[::1]:40112", for logs.
  std::string endpoint() const {
    bool v6 = address.find(':') != std::string::npos;
    return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
  }
};

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // Processes one message; returns the ACK to send (see the contract above).
  virtual std::string handle(std::string_view message, const PeerInfo& peer) = 0;
};

}  // namespace acp::mllp
