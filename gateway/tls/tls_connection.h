// TlsConnection — the server side of one TLS connection over a non-blocking socket, for the
// epoll listeners (http/http_server.h, mllp/mllp_listener.h). It never waits: each call does
// what the socket allows and says what the socket must become ready for before the call is
// repeated, so a handshake, a read or a write is spread over as many events as it takes.
//
// Contract:
//   - read() runs (or continues) the handshake first, then returns decrypted bytes like
//     recv(): > 0 bytes; 0 when the peer has closed (close_notify, or a TCP close without
//     one: the protocols above detect truncation by their own framing; or a socket error such
//     as a reset: reset() says so); -1 otherwise. After
//     -1, blocked() tells a call that must be repeated once the socket is ready for want()
//     (a read may need to write, and a write to read) from a failure (failed(): the handshake
//     was refused — protocol version, cipher, certificate — or a TLS error; error() says why,
//     for the log). A failure is final: no further call does anything.
//   - write() sends, like send() with partial writes: > 0 bytes taken; -1 as for read(). A
//     write that returned -1 blocked must be repeated with the same bytes (the caller's
//     buffer may move). Only once established().
//   - pending(): decrypted bytes already buffered, which readiness of the socket will not
//     announce. The listeners read until read() blocks and by whole records, so this stays 0;
//     they still check it before they wait.
//   - close() sends close_notify, best effort and without waiting for the peer's (the
//     listeners then half-close the socket and drain it): only after an established,
//     unfailed connection.
//   - peer() is the client certificate's identity (peer_identity.h), set when the handshake
//     completes, including a resumed one (the session keeps the certificate it was verified
//     with).
// The socket is not owned: the listener closes it after destroying this object or not.
// Thread-safety: one thread at a time per connection (the listeners' one-shot hand-over).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "gateway/tls/peer_identity.h"

typedef struct ssl_st SSL;  // OpenSSL's

namespace acp::tls {

class TlsContext;

class TlsConnection {
 public:
  enum class Want { kNothing, kRead, kWrite };

  // For a socket just accepted. valid() is false when OpenSSL could not make the connection
  // (out of memory): the caller closes the socket.
  TlsConnection(const TlsContext& context, int fd);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  bool valid() const { return ssl_ != nullptr; }
  ssize_t read(char* buffer, size_t size);
  ssize_t write(const char* data, size_t size);
  bool blocked() const { return want_ != Want::kNothing && !failed_; }
  // What the last read() or write() that returned -1 blocked waits for.
  Want readWant() const { return readWant_; }
  Want writeWant() const { return writeWant_; }
  size_t pending() const;
  void close();

  bool established() const { return established_; }
  bool failed() const { return failed_; }
  bool reset() const { return reset_; }  // the socket failed (a reset): see read()
  const std::string& error() const { return error_; }
  const PeerIdentity& peer() const { return peer_; }
  // "TLSv1.3", for logs and tests; "" before the handshake.
  std::string protocol() const;
  bool resumed() const;

 private:
  // -1 with want_/failed_ set from an OpenSSL result; 0 for a closed connection.
  ssize_t settle(int result);

  SSL* ssl_ = nullptr;
  bool established_ = false;
  bool failed_ = false;
  bool closed_ = false;
  bool reset_ = false;
  Want want_ = Want::kNothing;
  Want readWant_ = Want::kNothing;
  Want writeWant_ = Want::kNothing;
  std::string error_;
  PeerIdentity peer_;
};

}  // namespace acp::tls
