// acp-bench-https-load — a keep-alive HTTP/1.1 read load client for bench/run-tls.sh, for what
// wrk cannot do: present a client certificate (mutual TLS, gateway.tls.clientCertificates=
// required, the gateway's default).
//
// Each of --connections threads holds one connection — plain TCP for an http:// URL, TLS 1.2
// or later for https:// (the server's certificate verified against --ca, and its address
// against the certificate's subjectAltName; --cert/--key presented when the server asks) —
// and sends, one after the other, GET /Patient/<id> for an id drawn at random from --ids (one
// "<patient id>\t<NHS number>" line per patient, as bench/read.lua reads it), with
// Accept: application/fhir+json and, with --token, "Authorization: Bearer <the file's first
// line>". An answer is read by its Content-Length; a status other than 2xx counts as non2xx.
// A connection that fails, is closed or gets no answer within 10 s counts as an error and is
// opened again.
//
// Timing: the connections are opened (and their handshakes made) first; then requests run
// for --seconds. A request counts when its answer arrived inside the window; latency = from
// its first byte sent to its answer's last byte read.
//
// Usage: acp-bench-https-load --url=http[s]://HOST:PORT --ids=FILE [--token=FILE]
//   [--ca=PEM] [--cert=PEM --key=PEM] [--connections=32] [--seconds=10] [--seed=1]
// Prints one line on stdout, the one bench/read.lua prints:
//   BENCH requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E non2xx=C
// Exit codes: 0 ok (whatever the answers were), 64 bad arguments, 69 a connection could not
// be opened at the start, 70 the TLS set-up (a certificate or key file) failed.
// Thread-safety: one thread per connection; results are merged after they are joined.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;
constexpr int kExitSoftware = 70;

using Clock = std::chrono::steady_clock;

struct Args {
  std::string url, ids, token, ca, cert, key;
  long connections = 32;
  double seconds = 10;
  long seed = 1;
  // From the URL:
  bool tls = false;
  std::string host;
  int port = 0;
};

bool parseUrl(Args& a) {
  std::string rest;
  if (a.url.rfind("http://", 0) == 0) {
    rest = a.url.substr(7);
  } else if (a.url.rfind("https://", 0) == 0) {
    rest = a.url.substr(8);
    a.tls = true;
  } else {
    return false;
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || rest.find('/') != std::string::npos) return false;
  a.host = rest.substr(0, colon);
  char* end = nullptr;
  long port = std::strtol(rest.c_str() + colon + 1, &end, 10);
  if (*end != 0 || port < 1 || port > 65535) return false;
  a.port = static_cast<int>(port);
  in_addr probe{};
  return inet_pton(AF_INET, a.host.c_str(), &probe) == 1;  // an IPv4 address: no lookups
}

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) return false;
    std::string name = arg.substr(2, eq - 2), v = arg.substr(eq + 1);
    char* end = nullptr;
    if (name == "url") a.url = v;
    else if (name == "ids") a.ids = v;
    else if (name == "token") a.token = v;
    else if (name == "ca") a.ca = v;
    else if (name == "cert") a.cert = v;
    else if (name == "key") a.key = v;
    else if (name == "connections") {
      a.connections = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != 0 || a.connections < 1 || a.connections > 1024) return false;
    } else if (name == "seconds") {
      a.seconds = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != 0 || a.seconds < 0.1 || a.seconds > 3600) return false;
    } else if (name == "seed") {
      a.seed = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != 0) return false;
    } else {
      return false;
    }
  }
  if (a.cert.empty() != a.key.empty()) return false;
  return !a.url.empty() && !a.ids.empty() && parseUrl(a);
}

std::string tlsErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

// One connection: a socket and, for https, its SSL. Blocking I/O.
class Connection {
 public:
  Connection(const Args& args, SSL_CTX* ctx) : args_(args), ctx_(ctx) {}
  ~Connection() { close(); }

  // Opens the socket and makes the handshake; false (with why()) when either fails.
  bool open() {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(args_.port));
    inet_pton(AF_INET, args_.host.c_str(), &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return fail("connect");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval limit{10, 0};  // a server that stops answering is an error, not a hang
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (!ctx_) return true;
    ssl_ = SSL_new(ctx_);
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return fail("SSL_new");
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), args_.host.c_str());
    if (SSL_connect(ssl_) != 1) {
      why_ = "TLS handshake: " + tlsErrors();
      close();
      return false;
    }
    return true;
  }

  void close() {
    if (ssl_) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffered_.clear();
  }

  bool sendAll(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      int n;
      if (ssl_) {
        n = SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done));
      } else {
        n = static_cast<int>(::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL));
        if (n < 0 && errno == EINTR) continue;
      }
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads one answer; its status, or -1 when the connection failed or closed first.
  int readAnswer() {
    size_t headerEnd;
    while ((headerEnd = buffered_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return -1;
    int status = -1;
    if (buffered_.size() >= 12 && buffered_.compare(0, 5, "HTTP/") == 0)
      status = std::atoi(buffered_.c_str() + 9);
    size_t length = 0;
    std::string head = buffered_.substr(0, headerEnd);
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t at = head.find("\r\ncontent-length:");
    if (at != std::string::npos) length = std::strtoul(head.c_str() + at + 17, nullptr, 10);
    size_t total = headerEnd + 4 + length;
    while (buffered_.size() < total)
      if (!fill()) return -1;
    buffered_.erase(0, total);
    return status;
  }

  const std::string& why() const { return why_; }

 private:
  bool fill() {
    char buf[16384];
    int n;
    if (ssl_) {
      n = SSL_read(ssl_, buf, sizeof buf);
    } else {
      do n = static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
      while (n < 0 && errno == EINTR);
    }
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<size_t>(n));
    return true;
  }

  bool fail(const char* what) {
    why_ = std::string(what) + ": " + std::strerror(errno);
    close();
    return false;
  }

  const Args& args_;
  SSL_CTX* ctx_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buffered_;
  std::string why_;
};

struct Result {
  std::vector<uint32_t> latencyUs;
  long non2xx = 0;
  long errors = 0;
};

SSL_CTX* makeContext(const Args& a) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!a.ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, a.ca.c_str(), nullptr) != 1) return nullptr;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!a.cert.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx, a.cert.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx, a.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
       SSL_CTX_check_private_key(ctx) != 1))
    return nullptr;
  return ctx;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) {
    std::cerr << "usage: acp-bench-https-load --url=http[s]://IPV4:PORT --ids=FILE [--token=FILE] "
                 "[--ca=PEM] [--cert=PEM --key=PEM] [--connections=32] [--seconds=10] "
                 "[--seed=1]"
              << std::endl;
    return kExitUsage;
  }
  std::vector<std::string> requests;
  {
    std::string auth;
    if (!args.token.empty()) {
      std::ifstream t(args.token);
      std::string token;
      if (!std::getline(t, token) || token.empty()) {
        std::cerr << "acp-bench-https-load: no token in " << args.token << std::endl;
        return kExitUsage;
      }
      auth = "Authorization: Bearer " + token + "\r\n";
    }
    std::ifstream ids(args.ids);
    std::string line;
    while (std::getline(ids, line)) {
      size_t tab = line.find('\t');
      if (tab == std::string::npos || tab == 0) continue;
      requests.push_back("GET /Patient/" + line.substr(0, tab) + " HTTP/1.1\r\nHost: " +
                         args.host + ":" + std::to_string(args.port) +
                         "\r\nAccept: application/fhir+json\r\n" + auth + "\r\n");
    }
    if (requests.empty()) {
      std::cerr << "acp-bench-https-load: no ids in " << args.ids << std::endl;
      return kExitUsage;
    }
  }
  SSL_CTX* ctx = nullptr;
  if (args.tls && !(ctx = makeContext(args))) {
    std::cerr << "acp-bench-https-load: TLS set-up: " << tlsErrors() << std::endl;
    return kExitSoftware;
  }

  const size_t n = static_cast<size_t>(args.connections);
  std::vector<std::unique_ptr<Connection>> connections;
  for (size_t i = 0; i < n; ++i) {
    connections.push_back(std::make_unique<Connection>(args, ctx));
    if (!connections.back()->open()) {
      std::cerr << "acp-bench-https-load: " << connections.back()->why() << std::endl;
      return kExitUnavailable;
    }
  }

  std::atomic<bool> go{false}, stop{false};
  std::vector<Result> results(n);
  Clock::time_point start, end;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Connection& c = *connections[i];
      Result& r = results[i];
      std::mt19937 rng(static_cast<uint32_t>(args.seed * 1000 + static_cast<long>(i)));
      std::uniform_int_distribution<size_t> pick(0, requests.size() - 1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      bool open = true;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!open) {
          open = c.open();
          if (!open) {
            ++r.errors;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
          }
        }
        Clock::time_point sent = Clock::now();
        int status = c.sendAll(requests[pick(rng)]) ? c.readAnswer() : -1;
        Clock::time_point got = Clock::now();
        if (stop.load(std::memory_order_relaxed)) break;  // arrived after the window
        if (status < 0) {
          ++r.errors;
          open = false;
          continue;
        }
        if (status < 200 || status > 299) ++r.non2xx;
        r.latencyUs.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(got - sent).count()));
      }
    });
  }
  start = Clock::now();
  go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(args.seconds));
  stop.store(true);
  end = Clock::now();
  for (auto& t : threads) t.join();
  connections.clear();
  if (ctx) SSL_CTX_free(ctx);

  std::vector<uint32_t> all;
  long errors = 0, non2xx = 0;
  for (Result& r : results) {
    all.insert(all.end(), r.latencyUs.begin(), r.latencyUs.end());
    errors += r.errors;
    non2xx += r.non2xx;
  }
  std::sort(all.begin(), all.end());
  auto percentile = [&](double p) {
    if (all.empty()) return 0.0;
    size_t at = static_cast<size_t>(p / 100.0 * static_cast<double>(all.size() - 1) + 0.5);
    return all[std::min(at, all.size() - 1)] / 1000.0;
  };
  double seconds = std::chrono::duration<double>(end - start).count();
  std::printf("BENCH requests=%zu seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%ld "
              "non2xx=%ld\n",
              all.size(), seconds, static_cast<double>(all.size()) / seconds, percentile(50),
              percentile(99), errors, non2xx);
  return 0;
}
