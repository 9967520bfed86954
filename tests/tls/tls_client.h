// A blocking OpenSSL client for the TLS tests (the real library, real sockets on 127.0.0.1),
// the development certificates the build makes (certs/make-dev-certs.sh into
// ACP_TEST_CERTS, and a second, unrelated CA in ACP_TEST_CERTS/other-ca), and `openssl
// s_client` run as a subprocess. Every wait gives up after kGuard, so a failure cannot hang
// the suite.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace acp::testing {

constexpr int kGuardSeconds = 10;  // only ever reached when a test fails

// A file of the development certificates: "ca.crt", "server.key", "clients/RX8.crt",
// "other-ca/clients/RX8.crt" (the same organisation, another CA).
inline std::string certFile(const std::string& relative) {
  return std::string(ACP_TEST_CERTS) + "/" + relative;
}

using Session = std::shared_ptr<SSL_SESSION>;

struct ClientOptions {
  std::string certificate;  // PEM; "" = no client certificate
  std::string key;
  std::string ca = certFile("ca.crt");  // what the server's certificate must chain to
  int minVersion = 0;                   // TLS1_2_VERSION ...; 0 = the library's
  int maxVersion = 0;
  // Lets the client offer what OpenSSL's defaults no longer do (TLS 1.0 and 1.1, SHA-1):
  // security level 0. For testing that the server refuses them.
  bool legacy = false;
  Session session;  // to resume
};

// The options for the client certificate of NAME ("RX8", "X81001"...) under the dev CA, or
// under the other CA.
inline ClientOptions asClient(const std::string& name, bool otherCa = false) {
  ClientOptions o;
  std::string dir = otherCa ? "other-ca/clients/" : "clients/";
  o.certificate = certFile(dir + name + ".crt");
  o.key = certFile(dir + name + ".key");
  return o;
}

class TlsClient {
 public:
  TlsClient(int port, const ClientOptions& options) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (options.legacy) {
      SSL_CTX_set_security_level(ctx_, 0);
      SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
    }
    if (options.minVersion) SSL_CTX_set_min_proto_version(ctx_, options.minVersion);
    if (options.maxVersion) SSL_CTX_set_max_proto_version(ctx_, options.maxVersion);
    if (!options.certificate.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx_, options.certificate.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, options.key.c_str(), SSL_FILETYPE_PEM);
    }
    SSL_CTX_load_verify_locations(ctx_, options.ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      error_ = "cannot connect";
      return;
    }
    timeval tv{kGuardSeconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    // The server's certificate must name 127.0.0.1.
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    if (options.session) SSL_set_session(ssl_, options.session.get());
  }
  ~TlsClient() {
    // close_notify: OpenSSL keeps a session resumable only after a proper shutdown.
    if (ssl_ && SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
    ERR_clear_error();
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // True when the handshake completed as far as the client can tell (with TLS 1.3 the server
  // checks the client's certificate after that: its refusal shows on the first read).
  bool handshake() {
    if (!ssl_) return false;
    ERR_clear_error();
    if (SSL_connect(ssl_) == 1) return true;
    noteError();
    return false;
  }
  bool send(std::string_view bytes) {
    size_t at = 0;
    while (at < bytes.size()) {
      ERR_clear_error();
      int n = SSL_write(ssl_, bytes.data() + at, static_cast<int>(bytes.size() - at));
      if (n <= 0) {
        noteError();
        return false;
      }
      at += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads until `until` appears in what was received (or, with "", until the connection
  // ends); returns everything received. ended() tells whether the connection ended first.
  std::string receive(std::string_view until = "") {
    std::string in;
    char buf[16384];
    while (until.empty() || in.find(until) == std::string::npos) {
      ERR_clear_error();
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) {
        if (SSL_get_error(ssl_, n) != SSL_ERROR_ZERO_RETURN) noteError();
        ended_ = true;
        break;
      }
      in.append(buf, static_cast<size_t>(n));
    }
    return in;
  }
  // One HTTP/1.1 request with Connection: close; the whole answer ("" when refused).
  std::string http(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    if (!handshake()) return "";
    std::string rq =
        method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!body.empty() || method == "POST" || method == "PUT")
      rq +=
          "Content-Type: application/fhir+json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n";
    rq += "\r\n" + body;
    if (!send(rq)) return "";
    return receive();
  }

  SSL* ssl() const { return ssl_; }
  std::string protocol() const { return SSL_get_version(ssl_); }
  std::string cipher() const { return SSL_get_cipher_name(ssl_); }
  bool resumed() const { return SSL_session_reused(ssl_) == 1; }
  Session session() const { return Session(SSL_get1_session(ssl_), SSL_SESSION_free); }
  bool ended() const { return ended_; }
  // OpenSSL's reason for the last failure ("tlsv13 alert certificate required").
  const std::string& error() const { return error_; }

 private:
  void noteError() {
    unsigned long e = ERR_peek_last_error();
    const char* reason = e ? ERR_reason_error_string(e) : nullptr;
    if (reason)
      error_ = reason;
    else if (error_.empty())
      error_ = "connection ended";
    ERR_clear_error();
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ended_ = false;
  std::string error_;
};

// The status code of an HTTP answer ("HTTP/1.1 200 OK..." → 200), 0 when there is none.
inline int statusOf(const std::string& answer) {
  if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12) return 0;
  return std::stoi(answer.substr(9, 3));
}

struct CommandResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command (stdin from /dev/null unless the command pipes into it), bounded by
// `timeout`, and captures its output.
inline CommandResult runCommand(const std::string& command) {
  CommandResult r;
  std::string full =
      "timeout " + std::to_string(kGuardSeconds * 2) + " sh -c '" + command + "' 2>&1 </dev/null";
  FILE* p = popen(full.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// `openssl s_client` against 127.0.0.1:port with `args`, sending an HTTP GET of /metadata
// when the handshake succeeds; the whole transcript.
inline CommandResult sClient(int port, const std::string& args) {
  return runCommand(
      "printf \"GET /metadata HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: "
      "close\\r\\n\\r\\n\" | " ACP_OPENSSL " s_client -connect 127.0.0.1:" +
      std::to_string(port) + " -ign_eof -CAfile " + certFile("ca.crt") + " " + args);
}

}  // namespace acp::testing
