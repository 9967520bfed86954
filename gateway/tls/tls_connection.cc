#include "gateway/tls/tls_connection.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "gateway/tls/tls_context.h"

namespace acp::tls {

namespace {

int clamp(size_t size) { return size > INT_MAX ? INT_MAX : static_cast<int>(size); }

// OpenSSL's socket BIO writes with write(): to a peer that has gone, that raises SIGPIPE,
// which ends the process. This BIO is the socket BIO writing with send(MSG_NOSIGNAL), as the
// listeners' plain path does.
int sendNoSignal(BIO* bio, const char* data, int size) {
  int fd = -1;
  BIO_get_fd(bio, &fd);
  errno = 0;
  ssize_t n = ::send(fd, data, static_cast<size_t>(size), MSG_NOSIGNAL);
  BIO_clear_retry_flags(bio);
  if (n <= 0 && BIO_sock_should_retry(static_cast<int>(n))) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

const BIO_METHOD* socketMethod() {
  static BIO_METHOD* method = [] {
    const BIO_METHOD* socket = BIO_s_socket();
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "socket, send without SIGPIPE");
    if (m) {
      BIO_meth_set_write(m, sendNoSignal);
      BIO_meth_set_read(m, BIO_meth_get_read(socket));
      BIO_meth_set_puts(m, BIO_meth_get_puts(socket));
      BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(socket));
      BIO_meth_set_create(m, BIO_meth_get_create(socket));
      BIO_meth_set_destroy(m, BIO_meth_get_destroy(socket));
    }
    return m;
  }();
  return method;
}

}  // namespace

TlsConnection::TlsConnection(const TlsContext& context, int fd) {
  ssl_ = SSL_new(context.native());
  const BIO_METHOD* method = socketMethod();
  BIO* bio = ssl_ && method ? BIO_new(method) : nullptr;
  if (!bio) {
    if (ssl_) SSL_free(ssl_);
    ssl_ = nullptr;
  } else {
    BIO_set_fd(bio, fd, BIO_NOCLOSE);
    SSL_set_bio(ssl_, bio, bio);  // one reference, owned by the SSL from now on
    SSL_set_accept_state(ssl_);
  }
  ERR_clear_error();
}

TlsConnection::~TlsConnection() {
  if (ssl_) SSL_free(ssl_);  // frees the BIO; the socket is the caller's (BIO_NOCLOSE)
}

ssize_t TlsConnection::settle(int result) {
  int code = SSL_get_error(ssl_, result);
  int savedErrno = errno;
  want_ = Want::kNothing;
  switch (code) {
    case SSL_ERROR_WANT_READ:
      want_ = Want::kRead;
      ERR_clear_error();
      return -1;
    case SSL_ERROR_WANT_WRITE:
      want_ = Want::kWrite;
      ERR_clear_error();
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      closed_ = true;
      ERR_clear_error();
      return 0;
    case SSL_ERROR_SYSCALL:
      // EOF (a port probe) or a socket error (a reset): the peer is gone, as with plain TCP.
      closed_ = true;
      if (savedErrno != 0) {
        reset_ = true;
        error_ = std::strerror(savedErrno);
      }
      ERR_clear_error();
      return 0;
    default: {
      failed_ = true;
      unsigned long e = ERR_peek_last_error();
      const char* reason = e ? ERR_reason_error_string(e) : nullptr;
      error_ = reason ? reason : "TLS error " + std::to_string(code);
      long verified = SSL_get_verify_result(ssl_);
      if (verified != X509_V_OK)
        error_ += std::string(": ") + X509_verify_cert_error_string(verified);
      ERR_clear_error();
      return -1;
    }
  }
}

ssize_t TlsConnection::read(char* buffer, size_t size) {
  if (!ssl_ || failed_) {
    want_ = Want::kNothing;
    failed_ = true;
    return -1;
  }
  if (closed_) return 0;
  if (!established_) {
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(ssl_);
    if (r != 1) {
      ssize_t s = settle(r);
      readWant_ = want_;
      return s;
    }
    established_ = true;
    X509* certificate = SSL_get0_peer_certificate(ssl_);
    // Verification failures end the handshake (SSL_VERIFY_PEER); this is a second lock.
    if (certificate && SSL_get_verify_result(ssl_) == X509_V_OK) peer_ = identityOf(certificate);
  }
  ERR_clear_error();
  errno = 0;
  int n = SSL_read(ssl_, buffer, clamp(size));
  if (n > 0) {
    want_ = readWant_ = Want::kNothing;
    return n;
  }
  ssize_t s = settle(n);
  readWant_ = want_;
  return s;
}

ssize_t TlsConnection::write(const char* data, size_t size) {
  if (!ssl_ || failed_ || reset_ || !established_) {
    if (!failed_ && ssl_ && !established_) error_ = "write before the handshake completed";
    want_ = Want::kNothing;
    failed_ = true;
    return -1;
  }
  ERR_clear_error();
  errno = 0;
  int n = SSL_write(ssl_, data, clamp(size));
  if (n > 0) {
    want_ = writeWant_ = Want::kNothing;
    return n;
  }
  ssize_t s = settle(n);
  if (s == 0) {  // the peer is gone (a reset, or its close_notify was read): nothing to retry
    failed_ = true;
    if (error_.empty()) error_ = "connection closed";
    s = -1;
  }
  writeWant_ = want_;
  return s;
}

size_t TlsConnection::pending() const {
  if (!ssl_ || failed_) return 0;
  int n = SSL_pending(ssl_);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

void TlsConnection::close() {
  if (!ssl_ || failed_ || reset_ || !established_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // queues and tries to send close_notify; never waits for the peer's
  ERR_clear_error();
}

std::string TlsConnection::protocol() const {
  return ssl_ && established_ ? SSL_get_version(ssl_) : "";
}

bool TlsConnection::resumed() const { return ssl_ && established_ && SSL_session_reused(ssl_); }

}  // namespace acp::tls
