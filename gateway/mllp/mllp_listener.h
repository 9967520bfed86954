// MllpListener — the TCP listener that receives HL7 v2 messages over MLLP (release 2) from the
// hospital (../shared/partners/acute-hl7v2.md) and hands each one to a MessageHandler.
//
// Model (the same as http/http_server.h): a fixed set of worker threads share one epoll
// instance; sockets are non-blocking and registered one-shot, so a connection is held by at
// most one thread at a time. A worker is busy only while it reads what has arrived, runs
// handle() for a complete message and sends the ACK: an idle or slow sender holds no thread.
// Messages of one connection are handled in order, one at a time (the sender waits for each
// ACK anyway; frames that arrive together are still handled one after the other); different
// connections are handled concurrently, up to `workers` handle() calls at once. A housekeeping
// thread enforces the deadlines.
//
// Transport rules (framing in frame_reader.h; ../shared/reference/security.md):
//   - Bytes outside frames are dropped and reported (Event kDiscardedBytes).
//   - A frame over maxFrameBytes: no ACK, the connection closes (kFrameTooLarge); the frame is
//     refused as soon as the cap is passed, never buffered whole.
//   - A frame must end within frameTimeoutSeconds of its first byte (counted from when the
//     listener is ready to read it: time spent in handle() for an earlier message does not
//     count), else the connection closes without an ACK (kFrameTimeout).
//   - A connection with no frame in progress for idleTimeoutSeconds closes (kIdleTimeout).
//     Bytes outside frames do not count as activity.
//   - A frame unfinished when the peer closes is dropped, never handed on (kIncompleteFrame):
//     nothing half-read is processed, nothing acknowledged is lost.
//   - handle() throwing (or returning no ACK): no ACK, the connection closes, later frames
//     of that connection are dropped (kHandlerFailed); see message_handler.h for why.
//   - Over maxConnections: a new connection is closed at once (kRefused); MLLP has no way to
//     say "busy", and the sender retries.
//   - An ACK that cannot be sent within frameTimeoutSeconds of the socket stalling closes the
//     connection (kWriteTimeout).
// When the listener closes a connection on its own initiative it half-closes first and reads
// (and drops) what the peer still sends, for a bounded time, so ACKs already sent arrive
// instead of being lost to a reset. Message contents never reach the events.
//
// MLLP over TLS (options.tls set; policy in tls/tls_context.h), as the hospital sends in
// production: the handshake runs on the workers without blocking and must end within
// frameTimeoutSeconds of the accept (else kTlsHandshakeTimeout); a refused handshake (old
// protocol version, no or unverifiable client certificate) or a later TLS error closes the
// connection (kTlsFailed, OpenSSL's reason in Event::detail) after the same lingering, so
// the sender reads the alert. The client certificate's identity reaches handle() in
// PeerInfo (certificateOrganisation, certificateSubject: message_handler.h). The listener
// enforces no rule about who may send what: that is the handler's. Without options.tls the
// listener speaks plain TCP (loopback development and tests).
// Thread-safety: start()/stop() from one thread, never from handle() or onEvent. handle() and
// onEvent run on the worker threads.
// Error contract: start() returns a non-ok Status when the options are invalid or the socket
// cannot be bound (nothing is left running then); everything after that is reported through
// events, never thrown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gateway/core/status.h"
#include "gateway/mllp/message_handler.h"

namespace acp::tls {
class TlsContext;
}

namespace acp::mllp {

// Why a connection ended (Event kClosed).
enum class CloseReason {
  kPeerClosed,       // the peer closed between frames
  kIncompleteFrame,  // the peer closed in the middle of a frame: the frame was dropped
  kFrameTooLarge,    // a frame over maxFrameBytes: no ACK
  kFrameTimeout,     // a frame did not end within frameTimeoutSeconds: no ACK
  kIdleTimeout,      // no frame for idleTimeoutSeconds
  kHandlerFailed,    // handle() threw, or returned an empty or unframeable ACK: no ACK
  kWriteTimeout,     // the peer did not take an ACK within frameTimeoutSeconds
  kSocketError,      // a reset or another socket error
  kStopping,         // stop(): idle connections, and busy ones once their ACK is sent
  kTlsFailed,        // TLS: the handshake was refused, or a TLS error (Event::detail says why)
  kTlsHandshakeTimeout,  // TLS: no completed handshake within frameTimeoutSeconds
};
const char* closeReasonName(CloseReason reason);  // "frame-too-large", ...
// The reasons that mean a sender misbehaved or we failed (worth a warning in the log).
bool isFailure(CloseReason reason);

// Something that happened on a connection, for the log and for metrics.
struct Event {
  enum class Kind {
    kConnected,       // a connection was accepted
    kRefused,         // over maxConnections: closed at once (peer.connectionId is 0)
    kDiscardedBytes,  // `bytes` outside frames (or of abandoned frames) were dropped
    kClosed,          // the socket is closed: the last event of every accepted connection
                      // (after a lingering close, up to 2 s after the decision to close)
  };
  Kind kind = Kind::kConnected;
  PeerInfo peer;
  CloseReason reason = CloseReason::kPeerClosed;  // kClosed only
  // kDiscardedBytes: bytes dropped since the last such event. kClosed: the content bytes
  // received of a frame that was dropped unfinished (kIncompleteFrame, kFrameTimeout,
  // kStopping) or refused (kFrameTooLarge: at least maxFrameBytes + 1); otherwise 0.
  uint64_t bytes = 0;
  uint64_t messages = 0;  // kClosed: messages acknowledged on the connection
  std::string detail;     // kClosed with kTlsFailed: OpenSSL's reason ("unsupported protocol")
};

struct MllpListenerOptions {
  std::string host = "127.0.0.1";
  int port = 2575;                     // 0 = any free port (2575: the registered HL7 port)
  int workers = 4;                     // threads; also the most handle() calls at once
  int maxConnections = 64;             // open connections; more are closed at once
  size_t maxFrameBytes = 1024 * 1024;  // content bytes of one frame
  int idleTimeoutSeconds = 600;        // no frame in progress for this long: close
  int frameTimeoutSeconds = 30;        // one frame, from its first byte; and a stalled ACK
                                       // (and, with TLS, the handshake from the accept)
  std::shared_ptr<const tls::TlsContext> tls;  // nullptr: plain TCP; else TLS only
  // Called on worker threads (never with the listener's locks held), possibly concurrently:
  // must be thread-safe and quick, must not call start()/stop(). Exceptions are swallowed.
  std::function<void(const Event&)> onEvent;
};

class MllpListener {
 public:
  MllpListener(std::shared_ptr<MessageHandler> handler, MllpListenerOptions options);
  ~MllpListener();  // stop(0)
  MllpListener(const MllpListener&) = delete;
  MllpListener& operator=(const MllpListener&) = delete;

  // Binds (SO_REUSEADDR, never SO_REUSEPORT: a second listener on the port fails) and starts
  // serving. After ok, port() is the bound port. Fails if already started.
  Status start();
  int port() const { return port_; }
  const std::string& host() const { return options_.host; }
  // Stops accepting; closes idle connections (and ones with a frame half received: it is
  // never acknowledged, so the sender resends it elsewhere or later); lets handle() calls in
  // progress finish and their ACKs go out, then closes those connections too; waits up to
  // `graceSeconds` for that, then closes whatever is left and joins the threads. A handle()
  // call still running then is waited for (it cannot be interrupted). Safe to call twice.
  void stop(int graceSeconds = 10);

 private:
  class Engine;
  std::shared_ptr<MessageHandler> handler_;
  MllpListenerOptions options_;
  std::unique_ptr<Engine> engine_;
  int port_ = 0;
};

}  // namespace acp::mllp
