#include "gateway/http/http_server.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Timestamp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <strings.h>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <set>
#include <vector>

#include "gateway/core/ids.h"
#include "gateway/http/request_parser.h"
#include "gateway/http/http_metrics.h"
#include "gateway/metrics/registry.h"
#include "gateway/tls/tls_connection.h"
#include "gateway/tls/tls_context.h"

namespace acp::http {

std::string routeTemplate(const std::string& path,
                          const std::function<bool(const std::string&)>& isServedType) {
  // Only fixed tokens reach the log: the names of the routes (a served type name, metadata,
  // token, .well-known/smart-configuration, $ingest, $candidate-links, AuditEvent, the health
  // checks, the clinician view's view/patient, view/assets and view/launch), _history, _search and the
  // operations' names; everything else (ids, partners, unknown names that
  // might be identifiers or injected text) becomes a placeholder.
  static const std::set<std::string> kRoots = {"metadata", "token", ".well-known", "_history",
                                               "$ingest", "$candidate-links", "AuditEvent",
                                               "healthz", "readyz", "view"};
  static const std::set<std::string> kAnywhere = {
      "_history", "_search", "$acp-summary", "$verify-chain", "$replay", "$confirm", "$reject"};
  std::string out;
  std::string root;  // the first segment, when it is fixed
  size_t start = 0;
  int index = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string seg = path.substr(start, slash - start);
    if (!seg.empty()) {
      ++index;
      std::string shown;
      if (index == 1) {
        shown = kRoots.count(seg) || isServedType(seg) ? seg : "{unknown}";
        if (shown == seg) root = seg;
      } else if (kAnywhere.count(seg) ||
                 (index == 2 && root == ".well-known" && seg == "smart-configuration") ||
                 (index == 2 && root == "$ingest" && seg == "failures") ||
                 (index == 2 && root == "view" && (seg == "patient" || seg == "assets" || seg == "launch"))) {
        shown = seg;
      } else if (index == 2 && root == "$ingest") {
        shown = "{partner}";
      } else {
        shown = index == 4 ? "{vid}" : "{id}";
      }
      out += "/" + shown;
    }
    start = slash + 1;
  }
  return out.empty() ? "/" : out;
}

namespace {

using Clock = std::chrono::steady_clock;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

// At most this much of a refused request is read and discarded after the error answer, for
// at most kLingerMs, before the connection closes.
constexpr size_t kDrainLimit = 1024 * 1024;
constexpr int64_t kLingerMs = 2000;
// Bytes read from one connection per event, and pipelined requests served per event, before
// the worker turns to other connections.
constexpr size_t kReadPerEvent = 256 * 1024;
constexpr int kRequestsPerEvent = 16;

// Host header "name[:port]" or "[v6]:port": letters, digits and . - : [ ] only.
bool validHost(const std::string& host) {
  if (host.empty() || host.size() > 255) return false;
  for (unsigned char c : host)
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
      return false;
  return true;
}

// A client's X-Request-Id worth keeping: a UUID (8-4-4-4-12 hexadecimal digits). It reaches the
// log and the audit trail, so nothing freer is taken: a "plain token" could be an NHS number or
// a name.
bool validRequestId(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !std::isxdigit(static_cast<unsigned char>(id[i]))) return false;
  }
  return true;
}

// Set on the write-lane threads.
thread_local bool inWriteLane = false;

bool takesWriteLane(const std::string& method) {
  return !(method == "GET" || method == "HEAD" || method == "OPTIONS");
}

bool hasEncodedSlash(const std::string& path) {
  for (size_t i = 0; i + 2 < path.size(); ++i)
    if (path[i] == '%' && path[i + 1] == '2' && (path[i + 2] == 'f' || path[i + 2] == 'F'))
      return true;
  return false;
}

// The Date header, formatted at most once per second per thread.
const std::string& httpDateNow() {
  thread_local std::string cached;
  thread_local int64_t cachedSecond = -1;
  int64_t second = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (second != cachedSecond) {
    cached = Poco::DateTimeFormatter::format(Poco::Timestamp(),
                                             Poco::DateTimeFormat::HTTP_FORMAT);
    cachedSecond = second;
  }
  return cached;
}

std::string reasonFor(int status) {
  return Poco::Net::HTTPResponse::getReasonForStatus(
      static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
}

// One response as bytes. A header value holding CR or LF is dropped (never split a header).
std::string renderResponse(const FhirResponse& r, bool headOnly, bool keepAlive,
                           bool http10) {
  std::string out;
  out.reserve(256 + r.body.size());
  out += "HTTP/1.1 " + std::to_string(r.status) + " " + reasonFor(r.status) + "\r\n";
  out += "Date: " + httpDateNow() + "\r\n";
  for (const auto& [k, v] : r.headers) {
    if (v.find_first_of("\r\n") != std::string::npos) continue;
    out += k + ": " + v + "\r\n";
  }
  bool noBody = r.status == 204 || r.status == 304 || r.status < 200;
  if (!r.contentType.empty() && !noBody) out += "Content-Type: " + r.contentType + "\r\n";
  if (!noBody) out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (!keepAlive)
    out += "Connection: close\r\n";
  else if (http10)
    out += "Connection: Keep-Alive\r\n";
  out += "\r\n";
  if (!headOnly && !noBody) out += r.body;
  return out;
}

FhirResponse outcomeResponse(int status, const std::string& type, const std::string& message,
                             const std::string& code) {
  IssueList issues;
  issues.error(type, "", message, code);
  FhirResponse r;
  r.status = status;
  r.contentType = contentTypeOf(Format::kJson);
  r.body = json::write(issues.toOperationOutcome());
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

std::string issueTypeFor(int status) {
  switch (status) {
    case 408: return "timeout";
    case 413: return "too-long";
    case 501: return "not-supported";
    case 503: return "transient";
    default: return "structure";
  }
}

}  // namespace

// ---- the engine ---------------------------------------------------------------------------

class HttpServer::Engine {
 public:
  Engine(std::shared_ptr<FhirService> service, const HttpServerOptions& options)
      : service_(std::move(service)), options_(options) {}
  ~Engine() { shutdownNow(); }

  Status start(int& port);
  void stop(int graceSeconds);
  // At each scrape (options_.metrics): the gauges only the listener knows.
  void collect(std::vector<metrics::Sample>& out);

 private:
  // What a connection is waiting for while no worker holds it. kBusy: a worker has it.
  // kCut is or-ed in by the housekeeper when the wait's deadline passed: it sets it only with a
  // compare-and-swap on the phase it saw, so a connection a worker has just taken is never
  // cut, and the worker that takes the event next finds the mark in what it swapped out.
  enum Phase : int { kBusy, kIdle, kReading, kWriting, kLingering, kCut = 0x100 };

  struct Connection {
    int fd = -1;
    std::string localAddress;  // "ip:port", for HTTP/1.0 requests without Host
    std::string peerAddress;   // the client's IP, for the audit trail
    RequestParser parser;
    std::string out;  // response bytes not sent yet
    size_t outPos = 0;
    bool closeAfterWrite = false;
    bool continueSent = false;
    bool headSeen = false;      // the current request's head is complete
    bool peerClosed = false;    // the client has shut down its sending side
    int64_t requestStart = 0;   // first byte of the current request (ms), 0 = none yet
    int64_t queuedAt = 0;       // when the current request joined the write lane's queue (ms)
    size_t drained = 0;
    int64_t lingerUntil = 0;
    int served = 0;
    std::unique_ptr<tls::TlsConnection> tls;  // HTTPS only
    bool tlsFailed = false;                    // the handshake was refused, or a TLS error
    std::atomic<int> phase{kBusy};
    std::atomic<int64_t> deadline{0};  // ms; housekeeping acts after it (when not busy)
    size_t bodyCharge = 0;  // bytes of the shared body budget the current request holds
    explicit Connection(size_t maxBody) : parser(maxBody) {}
  };

  void workerLoop();
  void housekeepingLoop();
  void acceptAll();
  void onEvent(Connection* c, uint32_t events);
  // Processes every complete request in the buffer; returns when the connection waits for
  // bytes or a writable socket, or is closed.
  void process(Connection* c);
  // Serves the parsed request into c->out. True when the connection was parked: its
  // response waits for its AuditEvent's group commit, and the audit trail's committer hands
  // the connection back (resume()): the caller must not touch it any more.
  bool serveRequest(Connection* c);
  // GET /healthz and GET /readyz (docs/operations.md, "Health checks").
  FhirResponse healthResponse(const std::string& method, bool readiness) const;
  // On the audit committer: the parked connection's answer is settled (the response, or 503
  // when its event could not be recorded); it is armed for writing and a worker sends it.
  void resume(Connection* c, bool audited, std::string unaudited);
  void answerError(Connection* c, int status, const std::string& code, const std::string& msg);
  // Notes a refusal for the audit (options_.refusals); the method and route template only when
  // the request's head was read (`headRead`).
  void noteRefusal(Connection* c, int status, const std::string& code, bool headRead);
  void countRefusal(const std::string& code);  // acp_http_refusals_total (options_.metrics)
  // The route template of a request target (path only, ids replaced).
  std::string routeOf(const std::string& target) const;
  // 408 for a request whose head or body did not arrive within timeoutSeconds.
  void answerTimeout(Connection* c);
  // The body cap of a request target: partner pushes (/$ingest/...) have their own.
  size_t bodyCapFor(const std::string& target) const {
    return target.rfind("/$ingest/", 0) == 0 ? options_.maxIngestBodyBytes : options_.maxBodyBytes;
  }
  // Sends what is pending; false when the connection has been closed or re-armed to wait.
  bool flush(Connection* c);
  void startLingering(Connection* c);
  void readAvailable(Connection* c, bool discard);
  void readTls(Connection* c);
  // A refused handshake or a TLS error: logged, then a lingering close.
  void endTls(Connection* c);
  void wait(Connection* c, Phase phase, uint32_t events, int64_t deadline);
  void closeConnection(Connection* c);
  void shutdownNow();
  // The shared body budget (HttpServerOptions::maxBufferedBodyBytes). Bytes are charged as
  // they arrive, never on announcement alone (a client announcing a large Content-Length and
  // sending nothing must not be able to take the budget from everyone else). fitsBody: an
  // announced body would fit in what is left now (checked before the body, and before any
  // 100 Continue; nothing reserved). chargeBody raises c's charge to `bytes` and is false,
  // changing nothing, when the budget cannot take it; releaseBody returns c's charge once its
  // body is no longer held. shedBody answers the request that did not fit: 503
  // http.overloaded, and the connection closes.
  size_t bodyBudget() const;
  bool fitsBody(const Connection* c, size_t announced) const;
  bool chargeBody(Connection* c, size_t bytes);
  void releaseBody(Connection* c);
  void shedBody(Connection* c);
  std::atomic<size_t> bodyBytes_{0};

  std::shared_ptr<FhirService> service_;
  const HttpServerOptions& options_;
  Poco::Logger& log_ = Poco::Logger::get("acp.http");
  int listenFd_ = -1;
  int epollFd_ = -1;
  int wakeFd_ = -1;  // eventfd: readable once stopping, wakes every worker
  char listenTag_ = 0, wakeTag_ = 0;
  std::atomic<bool> accepting_{false};
  std::atomic<bool> acceptPaused_{false};  // set by a worker, cleared by the housekeeper
  void armListener();
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> workers_;
  // The write lane: connections whose next request writes, served in arrival order.
  std::vector<std::thread> writeWorkers_;
  std::mutex writeMutex_;
  std::condition_variable writeCv_;
  std::deque<Connection*> writeQueue_;
  void writeLaneLoop();
  std::thread housekeeper_;
  std::mutex housekeeperMutex_;
  std::condition_variable housekeeperCv_;
  // Every open connection. A connection leaves the map (under the mutex) before its socket
  // closes, so the housekeeper never touches a descriptor that was reused.
  std::mutex connectionsMutex_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  // Connections parked until their AuditEvent is durable; shutdownNow() waits for none.
  std::mutex parkedMutex_;
  std::condition_variable parkedCv_;
  int parked_ = 0;
};

Status HttpServer::Engine::start(int& port) {
  // Every connection is a descriptor: use the hard limit, and say so when the connection
  // cap cannot be reached under it.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      setrlimit(RLIMIT_NOFILE, &files);
    }
    if (files.rlim_cur != RLIM_INFINITY &&
        static_cast<rlim_t>(options_.maxConnections) + 64 > files.rlim_cur)
      log_.warning("gateway.http.maxConnections (%d) is above what the descriptor limit (%lu) "
                   "allows; accepting pauses when descriptors run out",
                   options_.maxConnections, static_cast<unsigned long>(files.rlim_cur));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(options_.port);
  int rc = getaddrinfo(options_.host.c_str(), service.c_str(), &hints, &found);
  std::string where = options_.host + ":" + std::to_string(options_.port);
  if (rc != 0 || !found) return Status::internal("cannot listen on " + where + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
  listenFd_ = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0) return Status::internal("cannot listen on " + where + ": " + strerror(errno));
  // SO_REUSEADDR for quick restarts, but never SO_REUSEPORT: a second instance must fail to
  // bind rather than silently share the port.
  int one = 1;
  setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listenFd_, found->ai_addr, found->ai_addrlen) != 0 || listen(listenFd_, 256) != 0) {
    std::string why = strerror(errno);
    ::close(listenFd_);
    listenFd_ = -1;
    return Status::internal("cannot listen on " + where + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(listenFd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epollFd_ < 0 || wakeFd_ < 0) return Status::internal("cannot create the event loop");
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.ptr = &listenTag_;
  epoll_ctl(epollFd_, EPOLL_CTL_ADD, listenFd_, &ev);
  ev.events = EPOLLIN;  // level-triggered: once written, every worker sees it
  ev.data.ptr = &wakeTag_;
  epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &ev);
  accepting_ = true;
  for (int i = 0; i < std::max(1, options_.workers); ++i)
    workers_.emplace_back([this] { workerLoop(); });
  for (int i = 0; i < std::max(1, options_.writeWorkers); ++i)
    writeWorkers_.emplace_back([this] { writeLaneLoop(); });
  housekeeper_ = std::thread([this] { housekeepingLoop(); });
  return Status::ok();
}

void HttpServer::Engine::workerLoop() {
  epoll_event ev{};
  while (!stopping_) {
    int n = epoll_wait(epollFd_, &ev, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (ev.data.ptr == &wakeTag_) continue;  // stopping_ is checked by the loop
    if (ev.data.ptr == &listenTag_) {
      acceptAll();
      continue;
    }
    onEvent(static_cast<Connection*>(ev.data.ptr), ev.events);
  }
}

void HttpServer::Engine::writeLaneLoop() {
  inWriteLane = true;
  for (;;) {
    Connection* c;
    {
      std::unique_lock<std::mutex> lock(writeMutex_);
      writeCv_.wait(lock, [this] { return stopping_ || !writeQueue_.empty(); });
      if (stopping_) return;
      c = writeQueue_.front();
      writeQueue_.pop_front();
    }
    if (options_.queueTimeoutSeconds > 0 &&
        nowMs() - c->queuedAt > int64_t{options_.queueTimeoutSeconds} * 1000) {
      answerError(c, 503, "http.overloaded",
                  "the request waited too long for the server; retry shortly");
      continue;
    }
    process(c);  // the parser holds the complete request; process() serves it
  }
}

void HttpServer::Engine::acceptAll() {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = accept4(listenFd_, reinterpret_cast<sockaddr*>(&peer), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the pending connection would fire again at once.
        // The listener stays disarmed; the housekeeper re-arms it a little later.
        if (!acceptPaused_.exchange(true)) log_.warning("accept paused: %s", std::string(strerror(errno)));
        return;
      }
      break;  // EAGAIN: all accepted
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // The parser enforces the larger cap; the route's own cap is checked once the target is
    // known (process()).
    auto c = std::make_unique<Connection>(std::max(options_.maxBodyBytes, options_.maxIngestBodyBytes));
    c->fd = fd;
    sockaddr_storage local{};
    len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
      char ip[INET6_ADDRSTRLEN] = {0};
      int p;
      if (local.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&local);
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        p = ntohs(a->sin6_port);
        c->localAddress = "[" + std::string(ip) + "]:" + std::to_string(p);
      } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&local);
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        p = ntohs(a->sin_port);
        c->localAddress = std::string(ip) + ":" + std::to_string(p);
      }
    }
    {
      char ip[INET6_ADDRSTRLEN] = {0};
      if (peer.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, ip, sizeof ip);
      else if (peer.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, ip, sizeof ip);
      c->peerAddress = ip;
    }
    Connection* raw = c.get();
    {
      std::lock_guard<std::mutex> lock(connectionsMutex_);
      if (static_cast<int>(connections_.size()) < options_.maxConnections) {
        connections_.emplace(raw, std::move(c));
      }
    }
    if (c) countRefusal("http.too-many-connections");
    if (c && options_.refusals) {
      Refusal r;
      r.address = c->peerAddress;
      r.status = 503;  // over TLS the connection closes without it (below)
      r.code = "http.too-many-connections";
      options_.refusals->note(r);
    }
    if (c && options_.tls) {
      ::close(fd);  // over the cap: a 503 would need a handshake first
      continue;
    }
    if (c) {
      // Over the cap: a short 503 (best effort: the socket is fresh, so it fits) and close
      // at once; such a connection never counts against the cap or waits for a worker.
      const std::string full = renderResponse(
          outcomeResponse(503, "transient", "the server is at its connection limit; retry shortly",
                          "http.too-many-connections"),
          false, false, false);
      char discard[4096];
      ssize_t ignored = recv(fd, discard, sizeof discard, 0);  // fewer resets: read what came
      ignored = send(fd, full.data(), full.size(), MSG_NOSIGNAL);
      (void)ignored;
      shutdown(fd, SHUT_WR);
      ::close(fd);
      continue;
    }
    if (options_.tls) {
      raw->tls = std::make_unique<tls::TlsConnection>(*options_.tls, fd);
      if (!raw->tls->valid()) {
        closeConnection(raw);
        continue;
      }
      raw->requestStart = nowMs();  // the handshake is the head of the first request
    }
    // The first request must start within timeoutSeconds.
    wait(raw, kIdle, EPOLLIN | EPOLLRDHUP, nowMs() + options_.timeoutSeconds * 1000LL);
  }
  armListener();
}

void HttpServer::Engine::armListener() {
  if (!accepting_) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.ptr = &listenTag_;
  epoll_ctl(epollFd_, EPOLL_CTL_MOD, listenFd_, &ev);
}

void HttpServer::Engine::wait(Connection* c, Phase phase, uint32_t events, int64_t deadline) {
  if (c->tls && phase != kLingering) {
    // TLS may need the other direction than the phase's: a read that must write (handshake
    // flights), a write that must read. Decrypted bytes already buffered must not wait for
    // the socket: writable fires at once.
    using Want = tls::TlsConnection::Want;
    Want want = phase == kWriting ? c->tls->writeWant() : c->tls->readWant();
    if (want == Want::kWrite) events = (events & ~EPOLLIN) | EPOLLOUT;
    if (want == Want::kRead) events = (events & ~EPOLLOUT) | EPOLLIN | EPOLLRDHUP;
    if (phase != kWriting && c->tls->pending() > 0) events |= EPOLLOUT;
  }
  c->deadline = deadline;
  c->phase = phase;
  epoll_event ev{};
  ev.events = events | EPOLLONESHOT;
  ev.data.ptr = c;
  int op = EPOLL_CTL_MOD;
  if (epoll_ctl(epollFd_, op, c->fd, &ev) != 0 && errno == ENOENT)
    epoll_ctl(epollFd_, EPOLL_CTL_ADD, c->fd, &ev);
}

void HttpServer::Engine::closeConnection(Connection* c) {
  std::unique_ptr<Connection> owned;
  {
    std::lock_guard<std::mutex> lock(connectionsMutex_);
    auto it = connections_.find(c);
    if (it == connections_.end()) return;
    owned = std::move(it->second);
    connections_.erase(it);
  }
  releaseBody(owned.get());
  epoll_ctl(epollFd_, EPOLL_CTL_DEL, owned->fd, nullptr);
  ::close(owned->fd);
  housekeeperCv_.notify_all();  // stop() waits for the map to empty
}

void HttpServer::Engine::readAvailable(Connection* c, bool discard) {
  // At most kReadPerEvent bytes per event: a client sending faster than it is parsed cannot
  // keep a worker in this loop or grow the buffer; what is left fires the (level-triggered)
  // event again, after the other ready connections.
  if (c->tls && !discard) {
    readTls(c);
    return;
  }
  char buf[65536];
  size_t total = 0;
  while (total < kReadPerEvent) {
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n > 0) {
      total += static_cast<size_t>(n);
      if (discard) {
        c->drained += static_cast<size_t>(n);
        if (c->drained > kDrainLimit) {
          c->peerClosed = true;
          return;
        }
      } else {
        if (c->requestStart == 0) c->requestStart = nowMs();
        c->parser.feed(buf, static_cast<size_t>(n));
      }
      if (static_cast<size_t>(n) < sizeof buf) return;  // drained the socket for now
      continue;
    }
    if (n == 0) {
      c->peerClosed = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) c->peerClosed = true;  // reset: treat as gone
    return;
  }
}

void HttpServer::Engine::readTls(Connection* c) {
  // As readAvailable(), through TLS: the handshake first, then whole records until the read
  // blocks (a short read says nothing about the socket here). Lingering drains the raw socket.
  char buf[65536];
  size_t total = 0;
  while (total < kReadPerEvent) {
    ssize_t n = c->tls->read(buf, sizeof buf);
    if (n > 0) {
      total += static_cast<size_t>(n);
      if (c->requestStart == 0) c->requestStart = nowMs();
      c->parser.feed(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      c->peerClosed = true;
    } else if (!c->tls->blocked()) {
      c->tlsFailed = true;
    }
    return;
  }
}

void HttpServer::Engine::endTls(Connection* c) {
  if (log_.notice()) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    char ip[INET6_ADDRSTRLEN] = "?";
    if (getpeername(c->fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
      if (peer.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, ip, sizeof ip);
      else
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, ip, sizeof ip);
    }
    log_.notice("%s from %s: %s",
                std::string(c->tls->established() ? "TLS error" : "TLS handshake refused"),
                std::string(ip), c->tls->error());
  }
  countRefusal(c->tls->established() ? "tls.error" : "tls.handshake-refused");
  if (options_.refusals) {
    Refusal r;
    r.address = c->peerAddress;
    r.code = c->tls->established() ? "tls.error" : "tls.handshake-refused";
    options_.refusals->note(r);
  }
  startLingering(c);
}

void HttpServer::Engine::onEvent(Connection* c, uint32_t events) {
  int swapped = c->phase.exchange(kBusy);
  bool cut = swapped & kCut;
  int phase = swapped & ~kCut;
  c->deadline = 0;
  if (phase == kWriting) {
    if (events & (EPOLLERR | EPOLLHUP) || cut) {
      closeConnection(c);
      return;
    }
    if (!flush(c)) return;
    process(c);
    return;
  }
  if (phase == kLingering) {
    readAvailable(c, /*discard=*/true);
    if (c->peerClosed || cut || (events & (EPOLLERR | EPOLLHUP))) {
      closeConnection(c);
      return;
    }
    wait(c, kLingering, EPOLLIN | EPOLLRDHUP, c->lingerUntil);
    return;
  }
  readAvailable(c, /*discard=*/false);
  if (c->tlsFailed) {
    endTls(c);
    return;
  }
  if (cut) {
    // The housekeeper cut a request that did not arrive in time (or an idle connection).
    if (draining_ && !c->headSeen) {
      closeConnection(c);  // shutting down: an idle connection, or one just starting
    } else if (c->parser.started()) {
      answerTimeout(c);
    } else {
      closeConnection(c);
    }
    return;
  }
  process(c);
}

void HttpServer::Engine::process(Connection* c) {
  for (int served = 0;;) {
    if (served == kRequestsPerEvent) {
      // Fairness: after a burst of pipelined requests, let other connections go first. The
      // socket is writable, so the event returns at once, behind the others.
      wait(c, kWriting, EPOLLOUT, nowMs() + options_.timeoutSeconds * 1000LL);
      return;
    }
    RequestParser::State state = c->parser.next();
    switch (state) {
      case RequestParser::State::kNeedMore: {
        if (c->peerClosed) {
          // What arrived is not what was sent: an incomplete request is never processed.
          if (c->parser.started())
            answerError(c, 400, "http.incomplete-body",
                        "the request is incomplete: the connection closed before its end");
          else
            closeConnection(c);
          return;
        }
        if (draining_ && !c->parser.started()) {
          closeConnection(c);
          return;
        }
        if (c->tls && !c->tls->established()) {
          // Handshaking: bounded like a request's head, from the connection's accept.
          int64_t deadline = c->requestStart + options_.timeoutSeconds * 1000LL;
          if (nowMs() > deadline) {
            closeConnection(c);
            return;
          }
          wait(c, kIdle, EPOLLIN | EPOLLRDHUP, deadline);
          return;
        }
        if (c->parser.started()) {
          if (c->headSeen) {  // a body is arriving: its route's cap, then the shared budget
            const ParsedRequest& pr = c->parser.request();
            if (pr.body.size() > bodyCapFor(pr.target)) {  // a chunked body past its cap
              answerError(c, 413, "http.body-too-large",
                          "the body is larger than " + std::to_string(bodyCapFor(pr.target)) +
                              " bytes");
              return;
            }
            if (!chargeBody(c, pr.body.size())) {
              shedBody(c);  // the body grew past what the budget has left
              return;
            }
          }
          if (c->requestStart == 0) c->requestStart = nowMs();
          int64_t deadline = c->requestStart + options_.timeoutSeconds * 1000LL;
          if (nowMs() > deadline) {  // a client that kept the worker reading is cut here
            answerTimeout(c);
            return;
          }
          wait(c, kReading, EPOLLIN | EPOLLRDHUP, deadline);
        } else {
          c->requestStart = 0;
          wait(c, kIdle, EPOLLIN | EPOLLRDHUP, nowMs() + options_.keepAliveSeconds * 1000LL);
        }
        return;
      }
      case RequestParser::State::kHeadersDone: {
        c->headSeen = true;
        const std::string* length = c->parser.request().header("Content-Length");
        size_t cap = bodyCapFor(c->parser.request().target);
        if (length && std::stoull(*length) > cap) {  // digits only: checked by the parser
          answerError(c, 413, "http.body-too-large",
                      "the body is larger than " + std::to_string(cap) + " bytes");
          return;
        }
        if (length && !fitsBody(c, std::stoull(*length))) {
          shedBody(c);  // refused before the body is read (and before any 100 Continue)
          return;
        }
        if (c->parser.request().expectContinue && !c->continueSent) {
          c->continueSent = true;
          c->out = "HTTP/1.1 100 Continue\r\n\r\n";
          c->outPos = 0;
          if (!flush(c)) return;  // resumes here once written
        }
        continue;
      }
      case RequestParser::State::kError: {
        const ParseError& e = c->parser.error();
        answerError(c, e.status, e.code, e.message);
        return;
      }
      case RequestParser::State::kComplete: {
        if (c->parser.request().body.size() > bodyCapFor(c->parser.request().target)) {
          size_t cap = bodyCapFor(c->parser.request().target);
          answerError(c, 413, "http.body-too-large",
                      "the body is larger than " + std::to_string(cap) + " bytes");
          return;
        }
        if (!chargeBody(c, c->parser.request().body.size())) {
          shedBody(c);
          return;
        }
        if (!inWriteLane && takesWriteLane(c->parser.request().method)) {
          // Writes wait for the store's single writer and the disk: they run on the write
          // lane, so that reads never queue behind them. The connection stays disarmed (one
          // owner at a time); the lane thread continues from here.
          bool full;
          {
            std::lock_guard<std::mutex> lock(writeMutex_);
            full = static_cast<int>(writeQueue_.size()) >= options_.maxQueuedWrites;
            if (!full) {
              c->queuedAt = nowMs();
              writeQueue_.push_back(c);
            }
          }
          if (full) {
            // Shed the load now rather than queue past what the lane can serve in time.
            answerError(c, 503, "http.overloaded",
                        "the server is at its limit of queued writes; retry shortly");
            return;
          }
          writeCv_.notify_one();
          return;
        }
        if (serveRequest(c)) return;  // parked: resume() hands it back once audited
        ++served;
        if (!flush(c)) return;  // waiting to write, or closed
        continue;               // a pipelined request may already be buffered
      }
    }
  }
}

namespace {

// The path of a request target: decoded, without the query, absolute form reduced.
std::string targetPath(const std::string& target) {
  std::string path = percentDecode(target.substr(0, target.find('?')), false);
  // Absolute-form request targets ("http://host/Patient") are reduced to the path.
  if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
    size_t slash = path.find('/', path.find("//") + 2);
    path = slash == std::string::npos ? "/" : path.substr(slash);
  }
  return path;
}

}  // namespace

std::string HttpServer::Engine::routeOf(const std::string& target) const {
  return routeTemplate(targetPath(target),
                       [this](const std::string& t) { return service_->serves(t); });
}

void HttpServer::Engine::countRefusal(const std::string& code) {
  if (options_.metrics) http::countRefusal(*options_.metrics, code);
}

void HttpServer::Engine::noteRefusal(Connection* c, int status, const std::string& code,
                                     bool headRead) {
  countRefusal(code);
  if (!options_.refusals) return;
  Refusal r;
  r.address = c->peerAddress;
  r.status = status;
  r.code = code;
  if (headRead) {
    r.method = c->parser.request().method;
    r.route = routeOf(c->parser.request().target);
  }
  options_.refusals->note(r);
}

void HttpServer::Engine::collect(std::vector<metrics::Sample>& out) {
  size_t open = 0;
  {
    std::lock_guard<std::mutex> lock(connectionsMutex_);
    open = connections_.size();
  }
  size_t queued = 0;
  {
    std::lock_guard<std::mutex> lock(writeMutex_);
    queued = writeQueue_.size();
  }
  int parked = 0;
  {
    std::lock_guard<std::mutex> lock(parkedMutex_);
    parked = parked_;
  }
  out.push_back({"acp_http_connections", "Open HTTP connections", {}, double(open)});
  out.push_back({"acp_http_queued_writes", "Requests waiting for the write lane", {},
                 double(queued)});
  out.push_back({"acp_http_parked_answers",
                 "Answers waiting for their AuditEvent to be committed", {}, double(parked)});
  out.push_back({"acp_http_body_bytes", "Request body bytes held in memory now", {},
                 double(bodyBytes_.load())});
}

FhirResponse HttpServer::Engine::healthResponse(const std::string& method, bool readiness) const {
  FhirResponse r;
  r.contentType = "application/health+json";
  r.headers.emplace_back("Cache-Control", "no-store");
  if (method != "GET" && method != "HEAD") {
    r.status = 405;
    r.headers.emplace_back("Allow", "GET, HEAD");
    r.body = R"({"status":"fail","reason":"method not allowed"})";
    return r;
  }
  // Liveness: this answer itself (a worker thread and the event loop are running).
  // Readiness: not draining, and the store answers a read with the schema this build expects.
  std::string reason;
  if (readiness) {
    if (draining_) {
      reason = "server.draining: the gateway is shutting down";
    } else if (Status s = service_->readiness(); !s.isOk()) {
      reason = s.message();
    }
  }
  if (reason.empty()) {
    r.status = 200;
    r.body = R"({"status":"pass"})";
    return r;
  }
  json::Value body = json::Value::makeObject();
  body.set("status", json::Value::makeString("fail"));
  body.set("reason", json::Value::makeString(reason.substr(0, reason.find(':'))));
  r.status = 503;
  r.headers.emplace_back("Retry-After", "1");
  r.body = json::write(body);
  return r;
}

bool HttpServer::Engine::serveRequest(Connection* c) {
  auto started = Clock::now();
  // The request's first byte (ms resolution; a pipelined request already read has none: then
  // now): the metrics' latency includes reading its body and waiting for the write lane.
  const Clock::time_point firstByte =
      c->requestStart ? std::min(started, Clock::time_point(std::chrono::milliseconds(c->requestStart)))
                      : started;
  ParsedRequest& pr = c->parser.request();
  FhirRequest fr;
  fr.method = pr.method;
  const std::string& target = pr.target;
  size_t q = target.find('?');
  fr.path = targetPath(target);
  std::string route =
      routeTemplate(fr.path, [this](const std::string& t) { return service_->serves(t); });
  if (q != std::string::npos) fr.query = parseQueryString(target.substr(q + 1));
  for (auto& [k, v] : pr.headers) fr.headers.emplace(k, v);  // the first of repeated names
  fr.body = std::move(pr.body);
  // The request id: the client's X-Request-Id when it is a UUID (a caller tracing a request
  // across systems), else a new one. It goes back in the response, into the access
  // log and into the request's AuditEvent, so one request can be followed through all three.
  std::string requestId = fr.header("X-Request-Id");
  if (!validRequestId(requestId)) {
    requestId = newUuid();
    fr.headers.erase("X-Request-Id");
    fr.headers.emplace("X-Request-Id", requestId);
  }

  bool http10 = pr.minorVersion == 0;
  bool keepAlive = pr.keepAlive && !draining_;
  ++c->served;
  if (options_.maxKeepAliveRequests > 0 && c->served >= options_.maxKeepAliveRequests)
    keepAlive = false;

  FhirResponse r;
  std::string refused;  // the code of a refusal by the listener itself, audited below
  const std::string* host = pr.header("Host");
  int hosts = 0;
  for (const auto& h : pr.headers)
    if (h.first.size() == 4 && strncasecmp(h.first.c_str(), "Host", 4) == 0) ++hosts;
  // The health checks answer before the Host rules (a probe may send none) and before
  // authentication: load balancers and orchestrators probe them without credentials; they
  // carry no patient data (not audited).
  const bool health = hosts <= 1 && (fr.path == "/healthz" || fr.path == "/readyz") &&
                      (!options_.serves || options_.serves(fr.method, fr.path));
  if (hosts > 1) {
    // RFC 9112 section 3.2: more than one Host is a 400.
    r = outcomeResponse(400, "structure", "a request must carry one Host header",
                        refused = "http.bad-host");
    keepAlive = false;
  } else if (health) {
    r = healthResponse(fr.method, fr.path == "/readyz");
  } else if (options_.serves && !options_.serves(fr.method, fr.path)) {
    r = outcomeResponse(404, "not-found", "this listener does not serve that",
                        refused = "http.not-served");
  } else if (hasEncodedSlash(target.substr(0, q))) {
    // Paths are decoded before routing: an encoded "/" would change which route is taken.
    r = outcomeResponse(400, "structure", "an encoded '/' is not allowed in the path",
                        refused = "http.invalid-path");
  } else if (!options_.baseUrl.empty()) {
    fr.baseUrl = options_.baseUrl;
  } else if (host && validHost(*host)) {
    fr.baseUrl = (c->tls ? "https://" : "http://") + *host;
  } else if (!http10 || host) {
    r = outcomeResponse(400, "structure", "a valid Host header is required",
                        refused = "http.bad-host");
    keepAlive = false;
  } else {
    fr.baseUrl = (c->tls ? "https://" : "http://") + c->localAddress;
  }
  fr.context.clientAddress = c->peerAddress;
  if (c->tls) {
    // Who the client certificate says is asking; authorisation decides what it may do.
    fr.context.certificateOrganisation = c->tls->peer().organisation;
    fr.context.certificateSubject = c->tls->peer().subject;
  }
  if (!health && fr.baseUrl.size()) {
    try {
      // gateway.auth.mode=none: the local superuser (RequestContext defaults).
      r = service_->handleDeferred(fr);
    } catch (...) {
      // handle() answers every expected failure; this is the last line of defence. The log
      // gets the route template only (no values from the request).
      log_.error("unexpected failure serving %s %s", fr.method, route);
      r = outcomeResponse(500, "exception", "the request could not be processed",
                          refused = "http.internal");
      keepAlive = false;
    }
  }
  const bool head = fr.method == "HEAD";
  if (refused.empty() && !r.listenerRefusal.empty()) refused = r.listenerRefusal;
  r.headers.emplace_back("X-Request-Id", requestId);
  if (!refused.empty()) noteRefusal(c, r.status, refused, /*headRead=*/true);
  c->out = renderResponse(r, head, keepAlive, http10);
  c->outPos = 0;
  c->closeAfterWrite = !keepAlive;
  c->parser.reset();
  releaseBody(c);  // served: the body is no longer held (fr's copy ends with this call)
  c->continueSent = false;
  c->headSeen = false;
  c->requestStart = 0;
  std::shared_ptr<DeferredAudit> deferred = std::move(r.audit);
  // The access log line: method, route template, status, time, organisation, request id — no
  // values from the request (ids, query, body). The same as fields, for gateway.log.format=json.
  auto logLine = [this, method = fr.method, route, started, firstByte, requestId,
                  org = fr.context.certificateOrganisation](int status) {
    auto now = Clock::now();
    double ms = std::chrono::duration<double, std::milli>(now - started).count();
    if (options_.metrics)
      countAnswer(*options_.metrics, method, route, status,
                  std::chrono::duration<double>(now - firstByte).count());
    if (!options_.logRequests || !log_.information()) return;
    char took[32];
    std::snprintf(took, sizeof took, "%.1f", ms);
    std::string text = method + " " + route + " " + std::to_string(status) + " " + took + "ms" +
                       (org.empty() ? "" : " org=" + org) + " rid=" + requestId;
    Poco::Message line(log_.name(), text, Poco::Message::PRIO_INFORMATION);
    line.set("method", method);
    line.set("route", route);
    line.set("status", std::to_string(status));
    line.set("ms", took);
    if (!org.empty()) line.set("org", org);
    line.set("requestId", requestId);
    log_.log(line);
  };
  if (!deferred) {
    logLine(r.status);
    return false;
  }
  // Parked: the answer goes once the request's AuditEvent is durable (the trail commits the
  // events of every parked request together). Nothing below touches the connection: the
  // callback may already have run, and a worker may own it again.
  {
    std::lock_guard<std::mutex> lock(parkedMutex_);
    ++parked_;
  }
  service_->commitAudit(
      *deferred, [this, c, deferred, logLine, okStatus = r.status, head, keepAlive, http10,
                  requestId](Status s) {
        if (s.isOk()) {
          logLine(okStatus);
          resume(c, true, "");
          return;
        }
        // Rendered only now: almost every commit succeeds.
        FhirResponse unaudited = service_->unauditedAnswer(*deferred);
        unaudited.headers.emplace_back("X-Request-Id", requestId);
        logLine(unaudited.status);
        resume(c, false, renderResponse(unaudited, head, keepAlive, http10));
      });
  return true;
}

void HttpServer::Engine::resume(Connection* c, bool audited, std::string unaudited) {
  if (!audited) {
    c->out = std::move(unaudited);
    c->outPos = 0;
  }
  // Writable at once: the next event hands it to a worker, which sends it and goes on with
  // any pipelined request (onEvent, kWriting).
  wait(c, kWriting, EPOLLOUT, nowMs() + options_.timeoutSeconds * 1000LL);
  std::lock_guard<std::mutex> lock(parkedMutex_);
  if (--parked_ == 0) parkedCv_.notify_all();
}

void HttpServer::Engine::answerTimeout(Connection* c) {
  if (c->headSeen)
    answerError(c, 408, "http.body-timeout", "the request body did not arrive in time");
  else
    answerError(c, 408, "http.header-timeout", "the request head did not arrive in time");
}

void HttpServer::Engine::answerError(Connection* c, int status, const std::string& code,
                                     const std::string& message) {
  // Before the answer: once the client has read it, the refusal is noted.
  noteRefusal(c, status, code, c->headSeen);
  if (options_.metrics) {
    // An answer too: counted with the requests (its route only when its head was read).
    const ParsedRequest& pr = c->parser.request();
    double seconds = c->requestStart ? std::max<int64_t>(0, nowMs() - c->requestStart) / 1000.0 : 0;
    countAnswer(*options_.metrics, c->headSeen ? pr.method : "other",
                c->headSeen ? routeOf(pr.target) : "/{unread}", status, seconds);
  }
  FhirResponse r = outcomeResponse(status, issueTypeFor(status), message, code);
  bool head = c->parser.request().method == "HEAD";
  c->out = renderResponse(r, head, /*keepAlive=*/false, false);
  c->outPos = 0;
  c->closeAfterWrite = true;
  // The connection closes: whatever body was read is dropped now, not at the close.
  std::string().swap(c->parser.request().body);
  releaseBody(c);
  if (options_.logRequests && log_.information())
    log_.information("refused %d %s", status, code);
  flush(c);
}

size_t HttpServer::Engine::bodyBudget() const {
  if (options_.maxBufferedBodyBytes == 0) return 0;
  return std::max({options_.maxBufferedBodyBytes, options_.maxBodyBytes,
                   options_.maxIngestBodyBytes});
}

bool HttpServer::Engine::fitsBody(const Connection* c, size_t announced) const {
  size_t budget = bodyBudget();
  if (budget == 0 || announced <= c->bodyCharge) return true;
  return bodyBytes_.load() + (announced - c->bodyCharge) <= budget;
}

bool HttpServer::Engine::chargeBody(Connection* c, size_t bytes) {
  size_t budget = bodyBudget();
  if (budget == 0 || bytes <= c->bodyCharge) return true;
  size_t more = bytes - c->bodyCharge;
  size_t held = bodyBytes_.load();
  do {
    if (held + more > budget) return false;
  } while (!bodyBytes_.compare_exchange_weak(held, held + more));
  c->bodyCharge = bytes;
  return true;
}

void HttpServer::Engine::releaseBody(Connection* c) {
  if (c->bodyCharge == 0) return;
  bodyBytes_.fetch_sub(c->bodyCharge);
  c->bodyCharge = 0;
}

void HttpServer::Engine::shedBody(Connection* c) {
  answerError(c, 503, "http.overloaded",
              "the server holds as many request bodies as it can; retry shortly");
}

bool HttpServer::Engine::flush(Connection* c) {
  while (c->outPos < c->out.size()) {
    ssize_t n = c->tls ? c->tls->write(c->out.data() + c->outPos, c->out.size() - c->outPos)
                       : send(c->fd, c->out.data() + c->outPos, c->out.size() - c->outPos,
                              MSG_NOSIGNAL);
    if (n > 0) {
      c->outPos += static_cast<size_t>(n);
      continue;
    }
    if (c->tls) {
      if (!c->tls->blocked()) {
        closeConnection(c);
        return false;
      }
      // wait() turns this into the direction TLS needs.
      wait(c, kWriting, EPOLLOUT, nowMs() + options_.timeoutSeconds * 1000LL);
      return false;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The client is not reading: wait for room, for at most timeoutSeconds per stall.
      wait(c, kWriting, EPOLLOUT, nowMs() + options_.timeoutSeconds * 1000LL);
      return false;
    }
    closeConnection(c);
    return false;
  }
  c->out.clear();
  c->outPos = 0;
  if (c->closeAfterWrite) {
    startLingering(c);
    return false;
  }
  return true;
}

void HttpServer::Engine::startLingering(Connection* c) {
  // Half-close and read what the client still sends (bounded), so that it sees the answer
  // rather than a reset; then close. TLS says close_notify first (when it still can).
  if (c->tls) c->tls->close();
  shutdown(c->fd, SHUT_WR);
  if (c->peerClosed) {
    closeConnection(c);
    return;
  }
  c->drained = 0;
  c->lingerUntil = nowMs() + kLingerMs;
  wait(c, kLingering, EPOLLIN | EPOLLRDHUP, c->lingerUntil);
}

void HttpServer::Engine::housekeepingLoop() {
  std::unique_lock<std::mutex> wakeLock(housekeeperMutex_);
  while (!stopping_) {
    housekeeperCv_.wait_for(wakeLock, std::chrono::milliseconds(100));
    int64_t now = nowMs();
    bool draining = draining_;
    if (acceptPaused_.exchange(false)) armListener();
    std::lock_guard<std::mutex> lock(connectionsMutex_);
    for (auto& [raw, c] : connections_) {
      int phase = c->phase.load();
      if (phase == kBusy || (phase & kCut)) continue;
      int64_t deadline = c->deadline.load();
      bool expired = deadline != 0 && now > deadline;
      bool idleWhileDraining = draining && phase == kIdle;
      if (!expired && !idleWhileDraining) continue;
      if (!c->phase.compare_exchange_strong(phase, phase | kCut)) continue;  // a worker took it
      // Reading side shut: the worker wakes (EPOLLIN), finds the mark and answers 408 or
      // closes. A stalled writer is shut both ways (EPOLLHUP) and closed.
      shutdown(c->fd, phase == kWriting ? SHUT_RDWR : SHUT_RD);
    }
  }
}

void HttpServer::Engine::stop(int graceSeconds) {
  if (epollFd_ < 0) return;
  // 1. Stop accepting.
  // The descriptor closes in shutdownNow(), after the workers: one may be accepting now.
  // Shutting the listening socket refuses new connections at once (and resets those still in
  // the kernel's queue) instead of letting them wait through the grace period.
  if (accepting_.exchange(false) && listenFd_ >= 0) {
    epoll_ctl(epollFd_, EPOLL_CTL_DEL, listenFd_, nullptr);
    shutdown(listenFd_, SHUT_RDWR);
  }
  // 2. Idle connections close now; answers in progress end with "Connection: close".
  draining_ = true;
  housekeeperCv_.notify_all();
  // 3. In-flight requests finish, up to the grace period.
  auto deadline = Clock::now() + std::chrono::seconds(graceSeconds);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(connectionsMutex_);
      if (connections_.empty()) break;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  shutdownNow();
}

void HttpServer::Engine::shutdownNow() {
  if (epollFd_ < 0) {
    if (listenFd_ >= 0) ::close(listenFd_);  // start() failed half-way
    if (wakeFd_ >= 0) ::close(wakeFd_);
    listenFd_ = wakeFd_ = -1;
    return;
  }
  stopping_ = true;
  accepting_ = false;
  uint64_t one = 1;
  if (write(wakeFd_, &one, sizeof one) < 0) {
    // eventfd writes cannot fail short of overflow; the workers also see stopping_.
  }
  housekeeperCv_.notify_all();
  { std::lock_guard<std::mutex> lock(writeMutex_); }  // no lane thread between check and wait
  writeCv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  writeCv_.notify_all();
  for (auto& t : writeWorkers_) t.join();
  writeWorkers_.clear();
  writeQueue_.clear();  // their connections close with the others below
  if (housekeeper_.joinable()) housekeeper_.join();
  {
    // A parked connection is still the audit committer's: its answer is settled within the
    // store's busy timeout; the connection (and the event loop it is armed on) outlive that.
    std::unique_lock<std::mutex> lock(parkedMutex_);
    parkedCv_.wait(lock, [this] { return parked_ == 0; });
  }
  {
    std::lock_guard<std::mutex> lock(connectionsMutex_);
    for (auto& [raw, c] : connections_) ::close(c->fd);
    connections_.clear();
  }
  if (listenFd_ >= 0) ::close(listenFd_);
  ::close(wakeFd_);
  ::close(epollFd_);
  listenFd_ = wakeFd_ = epollFd_ = -1;
}

// ---- HttpServer ---------------------------------------------------------------------------

HttpServer::HttpServer(std::shared_ptr<FhirService> service, HttpServerOptions options)
    : service_(std::move(service)), options_(std::move(options)) {}

HttpServer::~HttpServer() { stop(0); }

Status HttpServer::start() {
  engine_ = std::make_unique<Engine>(service_, options_);
  Status s = engine_->start(port_);
  if (!s.isOk()) {
    engine_.reset();
    return s;
  }
  if (options_.metrics)
    collector_ = options_.metrics->addCollector(
        [engine = engine_.get()](std::vector<metrics::Sample>& out) { engine->collect(out); });
  return s;
}

void HttpServer::stop(int graceSeconds) {
  if (!engine_) return;
  if (collector_) options_.metrics->removeCollector(collector_);  // waits for a running scrape
  collector_ = 0;
  engine_->stop(graceSeconds);
  engine_.reset();
}

}  // namespace acp::http
