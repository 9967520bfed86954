#include "gateway/mllp/mllp_listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/mllp/frame_reader.h"
#include "gateway/tls/tls_connection.h"
#include "gateway/tls/tls_context.h"

// ThreadSanitizer (GCC 12's, and LLVM's before llvm/llvm-project#220304) sees EPOLL_CTL_ADD
// but not EPOLL_CTL_MOD as a release, so every one-shot hand-over of a connection from the
// thread that re-arms it to the thread that gets its next event would be reported as a race.
// Under TSan only, the hand-over is annotated; elsewhere these are no-ops.
#if defined(__SANITIZE_THREAD__)
#define ACP_MLLP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ACP_MLLP_TSAN 1
#endif
#endif
#ifdef ACP_MLLP_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#define ACP_HANDOVER_RELEASE(p) __tsan_release(p)
#define ACP_HANDOVER_ACQUIRE(p) __tsan_acquire(p)
#else
#define ACP_HANDOVER_RELEASE(p) ((void)(p))
#define ACP_HANDOVER_ACQUIRE(p) ((void)(p))
#endif

namespace acp::mllp {

const char* closeReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed:
      return "peer-closed";
    case CloseReason::kIncompleteFrame:
      return "incomplete-frame";
    case CloseReason::kFrameTooLarge:
      return "frame-too-large";
    case CloseReason::kFrameTimeout:
      return "frame-timeout";
    case CloseReason::kIdleTimeout:
      return "idle-timeout";
    case CloseReason::kHandlerFailed:
      return "handler-failed";
    case CloseReason::kWriteTimeout:
      return "write-timeout";
    case CloseReason::kSocketError:
      return "socket-error";
    case CloseReason::kStopping:
      return "stopping";
    case CloseReason::kTlsFailed:
      return "tls-failed";
    case CloseReason::kTlsHandshakeTimeout:
      return "tls-handshake-timeout";
  }
  return "unknown";
}

bool isFailure(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed:
    case CloseReason::kIdleTimeout:
    case CloseReason::kStopping:
      return false;
    default:
      return true;
  }
}

namespace {

using Clock = std::chrono::steady_clock;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

// After the listener decides to close, at most this much is read and dropped, for at most
// kLingerMs, so that ACKs already sent reach the peer rather than being lost to a reset.
constexpr size_t kDrainLimit = 1024 * 1024;
constexpr int64_t kLingerMs = 2000;
// Bytes read from one connection per event, and frames handled per event, before the worker
// turns to other connections.
constexpr size_t kReadPerEvent = 256 * 1024;
constexpr int kFramesPerEvent = 16;
constexpr int kHousekeepingMs = 100;

void describe(const sockaddr_storage& a, PeerInfo& peer) {
  char ip[INET6_ADDRSTRLEN] = {0};
  if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
    peer.port = ntohs(v6->sin6_port);
  } else if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
    peer.port = ntohs(v4->sin_port);
  }
  peer.address = ip;
}

}  // namespace

// ---- the engine ---------------------------------------------------------------------------

class MllpListener::Engine {
 public:
  Engine(std::shared_ptr<MessageHandler> handler, MllpListenerOptions options)
      : handler_(std::move(handler)), options_(std::move(options)) {}
  ~Engine() { shutdownNow(); }

  Status start(int& port);
  void stop(int graceSeconds);

 private:
  // What a connection waits for while no worker holds it. kBusy: a worker has it. kCut is
  // or-ed in by the housekeeper when the wait's deadline passed (or the listener is stopping),
  // only with a compare-and-swap on the phase it saw, so a connection a worker has just taken
  // is never cut; the worker that takes the next event finds the mark in what it swapped out.
  enum Phase : int { kBusy, kIdle, kReading, kWriting, kLingering, kCut = 0x100 };

  struct Connection {
    int fd = -1;
    PeerInfo peer;
    FrameReader reader;
    std::string out;  // ACK bytes (framed) not sent yet
    size_t outPos = 0;
    bool peerClosed = false;  // EOF or a socket error on reading
    bool socketError = false;
    int64_t idleSince = 0;   // ms: accepted, or the last ACK sent
    int64_t frameStart = 0;  // ms: the frame in progress became ours to read; 0 = none
    uint64_t messages = 0;   // ACKs sent
    uint64_t discardReported = 0;
    CloseReason closeReason = CloseReason::kPeerClosed;  // decided when lingering starts
    std::string closeDetail;                             // Event::detail
    std::unique_ptr<tls::TlsConnection> tls;             // MLLP over TLS only
    bool tlsFailed = false;  // the handshake was refused, or a TLS error
    uint64_t closeBytes = 0;
    size_t drained = 0;
    int64_t lingerUntil = 0;
    std::atomic<int> phase{kBusy};
    std::atomic<int64_t> deadline{0};  // ms; the housekeeper acts after it (when not busy)
    explicit Connection(size_t maxFrame) : reader(maxFrame) {}
  };

  void workerLoop();
  void housekeepingLoop();
  void acceptAll();
  void armListener();
  void onReady(Connection* c, uint32_t events);
  // Handles every complete frame buffered, in order; returns when the connection waits for
  // bytes or a writable socket, or is closing.
  void process(Connection* c);
  // Sends c->out. True: all sent, the connection is still this thread's. False: re-armed to
  // wait for room, or closed.
  bool flush(Connection* c);
  void readAvailable(Connection* c, bool discard);
  void readTls(Connection* c);
  bool handshaking(const Connection* c) const { return c->tls && !c->tls->established(); }
  void wait(Connection* c, Phase phase, uint32_t events, int64_t deadline);
  // Half-closes, then drops what the peer still sends (bounded) before closing.
  void startClosing(Connection* c, CloseReason reason);
  void closeConnection(Connection* c, CloseReason reason);
  void reportDiscarded(Connection* c);
  void emit(const Event& e);
  void shutdownNow();

  std::shared_ptr<MessageHandler> handler_;
  const MllpListenerOptions options_;
  int listenFd_ = -1;
  int epollFd_ = -1;
  int wakeFd_ = -1;  // eventfd: readable once stopping, wakes every worker
  char listenTag_ = 0, wakeTag_ = 0;
  std::atomic<bool> accepting_{false};
  std::atomic<bool> acceptPaused_{false};  // set by a worker, cleared by the housekeeper
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> nextId_{1};
  std::vector<std::thread> workers_;
  std::thread housekeeper_;
  std::mutex housekeeperMutex_;
  std::condition_variable housekeeperCv_;
  // Every open connection. A connection leaves the map (under the mutex) before its socket
  // closes, so the housekeeper never touches a descriptor that was reused.
  std::mutex connectionsMutex_;
  std::condition_variable closedCv_;  // notified when a connection leaves the map
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
};

Status MllpListener::Engine::start(int& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(options_.port);
  std::string where = options_.host + ":" + service;
  int rc = getaddrinfo(options_.host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0 || !found)
    return Status::internal("cannot listen for MLLP on " + where + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
  listenFd_ = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0)
    return Status::internal("cannot listen for MLLP on " + where + ": " + strerror(errno));
  // SO_REUSEADDR for quick restarts, but never SO_REUSEPORT: a second instance must fail to
  // bind rather than silently share the port (and the senders' messages).
  int one = 1;
  setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listenFd_, found->ai_addr, found->ai_addrlen) != 0 || listen(listenFd_, 128) != 0) {
    std::string why = strerror(errno);
    ::close(listenFd_);
    listenFd_ = -1;
    return Status::internal("cannot listen for MLLP on " + where + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(listenFd_, reinterpret_cast<sockaddr*>(&bound), &len);
  PeerInfo local;
  describe(bound, local);
  port = local.port;

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
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { workerLoop(); });
  housekeeper_ = std::thread([this] { housekeepingLoop(); });
  return Status::ok();
}

void MllpListener::Engine::emit(const Event& e) {
  if (!options_.onEvent) return;
  try {
    options_.onEvent(e);
  } catch (...) {
    // An observer's failure must not take a worker down.
  }
}

void MllpListener::Engine::workerLoop() {
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
    ACP_HANDOVER_ACQUIRE(ev.data.ptr);
    onReady(static_cast<Connection*>(ev.data.ptr), ev.events);
  }
}

void MllpListener::Engine::acceptAll() {
  for (;;) {
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    int fd =
        accept4(listenFd_, reinterpret_cast<sockaddr*>(&from), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the pending connection would fire again at once. The
        // listener stays disarmed; the housekeeper re-arms it a little later.
        acceptPaused_ = true;
        return;
      }
      break;  // EAGAIN: all accepted
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // ACKs are small: send now
    auto c = std::make_unique<Connection>(options_.maxFrameBytes);
    c->fd = fd;
    describe(from, c->peer);
    c->idleSince = nowMs();
    Connection* raw = c.get();
    {
      std::lock_guard<std::mutex> lock(connectionsMutex_);
      if (static_cast<int>(connections_.size()) < options_.maxConnections) {
        raw->peer.connectionId = nextId_++;
        connections_.emplace(raw, std::move(c));
      }
    }
    if (c) {
      // Over the cap: closed at once, never counted against the cap nor waiting for a worker
      // (with TLS too: MLLP has no way to say "busy" anyway).
      ::close(fd);
      Event e;
      e.kind = Event::Kind::kRefused;
      e.peer = c->peer;
      emit(e);
      continue;
    }
    Event e;
    e.kind = Event::Kind::kConnected;
    e.peer = raw->peer;
    emit(e);  // before the connection is armed: kConnected always comes first
    if (options_.tls) {
      raw->tls = std::make_unique<tls::TlsConnection>(*options_.tls, fd);
      if (!raw->tls->valid()) {
        closeConnection(raw, CloseReason::kSocketError);
        continue;
      }
      // The handshake must end within frameTimeoutSeconds (process() keeps that deadline).
      wait(raw, kReading, EPOLLIN | EPOLLRDHUP,
           raw->idleSince + options_.frameTimeoutSeconds * 1000LL);
      continue;
    }
    wait(raw, kIdle, EPOLLIN | EPOLLRDHUP, raw->idleSince + options_.idleTimeoutSeconds * 1000LL);
  }
  armListener();
}

void MllpListener::Engine::armListener() {
  if (!accepting_) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.ptr = &listenTag_;
  epoll_ctl(epollFd_, EPOLL_CTL_MOD, listenFd_, &ev);
}

void MllpListener::Engine::wait(Connection* c, Phase phase, uint32_t events, int64_t deadline) {
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
  int fd = c->fd;
  c->deadline = deadline;
  c->phase = phase;
  epoll_event ev{};
  ev.events = events | EPOLLONESHOT;
  ev.data.ptr = c;
  // Once armed, another worker may take the connection (and close it): `c` is not touched
  // after this point.
  ACP_HANDOVER_RELEASE(c);
  if (epoll_ctl(epollFd_, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
    epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev);
}

void MllpListener::Engine::reportDiscarded(Connection* c) {
  uint64_t total = c->reader.discardedBytes();
  if (total == c->discardReported) return;
  Event e;
  e.kind = Event::Kind::kDiscardedBytes;
  e.peer = c->peer;
  e.bytes = total - c->discardReported;
  c->discardReported = total;
  emit(e);
}

void MllpListener::Engine::closeConnection(Connection* c, CloseReason reason) {
  std::unique_ptr<Connection> owned;
  {
    std::lock_guard<std::mutex> lock(connectionsMutex_);
    auto it = connections_.find(c);
    if (it == connections_.end()) return;
    owned = std::move(it->second);
    connections_.erase(it);
  }
  epoll_ctl(epollFd_, EPOLL_CTL_DEL, owned->fd, nullptr);
  ::close(owned->fd);
  closedCv_.notify_all();  // stop() waits for the map to empty
  reportDiscarded(owned.get());
  Event e;
  e.kind = Event::Kind::kClosed;
  e.peer = owned->peer;
  e.reason = reason;
  e.bytes = owned->closeBytes;
  e.messages = owned->messages;
  e.detail = owned->closeDetail;
  emit(e);
}

void MllpListener::Engine::startClosing(Connection* c, CloseReason reason) {
  c->closeReason = reason;
  if (c->tls) c->tls->close();  // close_notify first, when it still can be said
  shutdown(c->fd, SHUT_WR);
  if (c->peerClosed) {
    closeConnection(c, reason);
    return;
  }
  c->drained = 0;
  c->lingerUntil = nowMs() + kLingerMs;
  wait(c, kLingering, EPOLLIN | EPOLLRDHUP, c->lingerUntil);
}

void MllpListener::Engine::readAvailable(Connection* c, bool discard) {
  // At most kReadPerEvent bytes per event: a sender faster than we handle cannot keep a worker
  // in this loop or grow the buffer; what is left fires the event again, after the other
  // ready connections.
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
        c->reader.feed(std::string_view(buf, static_cast<size_t>(n)));
      }
      if (static_cast<size_t>(n) < sizeof buf) return;  // drained the socket for now
      continue;
    }
    if (n == 0) {
      c->peerClosed = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) c->peerClosed = c->socketError = true;
    return;
  }
}

void MllpListener::Engine::readTls(Connection* c) {
  // As readAvailable(), through TLS: the handshake first, then whole records until the read
  // blocks (a short read says nothing about the socket here). Lingering drains the raw socket.
  char buf[65536];
  size_t total = 0;
  while (total < kReadPerEvent) {
    bool wasEstablished = c->tls->established();
    ssize_t n = c->tls->read(buf, sizeof buf);
    if (!wasEstablished && c->tls->established()) {
      c->peer.certificateOrganisation = c->tls->peer().organisation;
      c->peer.certificateSubject = c->tls->peer().subject;
    }
    if (n > 0) {
      total += static_cast<size_t>(n);
      c->reader.feed(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0) {
      c->peerClosed = true;
      c->socketError = c->tls->reset();
    } else if (!c->tls->blocked()) {
      c->tlsFailed = true;
      c->closeDetail = c->tls->error();
    }
    return;
  }
}

void MllpListener::Engine::onReady(Connection* c, uint32_t events) {
  int swapped = c->phase.exchange(kBusy);
  bool cut = swapped & kCut;
  int phase = swapped & ~kCut;
  c->deadline = 0;
  if (phase == kWriting) {
    if (cut || (events & (EPOLLERR | EPOLLHUP))) {
      closeConnection(c, cut ? CloseReason::kWriteTimeout : CloseReason::kSocketError);
      return;
    }
    if (!flush(c)) return;
    process(c);
    return;
  }
  if (phase == kLingering) {
    readAvailable(c, /*discard=*/true);
    if (c->peerClosed || cut || (events & (EPOLLERR | EPOLLHUP))) {
      closeConnection(c, c->closeReason);
      return;
    }
    wait(c, kLingering, EPOLLIN | EPOLLRDHUP, c->lingerUntil);
    return;
  }
  if (cut) {
    // The housekeeper shut the reading side: a deadline passed, or the listener is stopping.
    // Whatever arrived since is not handled: it was never acknowledged.
    if (phase == kReading) c->closeBytes = c->reader.pendingFrameBytes();
    closeConnection(c, draining_           ? CloseReason::kStopping
                       : handshaking(c)    ? CloseReason::kTlsHandshakeTimeout
                       : phase == kReading ? CloseReason::kFrameTimeout
                                           : CloseReason::kIdleTimeout);
    return;
  }
  readAvailable(c, /*discard=*/false);
  if (c->tlsFailed) {
    c->closeBytes = c->reader.pendingFrameBytes();
    startClosing(c, CloseReason::kTlsFailed);
    return;
  }
  process(c);
}

void MllpListener::Engine::process(Connection* c) {
  for (int handled = 0;;) {
    if (draining_) {
      // No new handle() call once stopping; an ACK just sent is delivered by the half-close.
      c->closeBytes = c->reader.pendingFrameBytes();
      startClosing(c, CloseReason::kStopping);
      return;
    }
    if (handled == kFramesPerEvent) {
      // Fairness: after a burst of frames, let other connections go first. The socket is
      // writable, so the event returns at once, behind the others.
      wait(c, kWriting, EPOLLOUT, nowMs() + options_.frameTimeoutSeconds * 1000LL);
      return;
    }
    FrameReader::State state = c->reader.next();
    if (state == FrameReader::State::kTooLarge) {
      c->closeBytes = c->reader.pendingFrameBytes();
      startClosing(c, CloseReason::kFrameTooLarge);
      return;
    }
    if (state == FrameReader::State::kNeedMore) {
      int64_t now = nowMs();
      if (c->peerClosed) {
        // What arrived is not all that was sent: an unfinished frame is never handed on.
        if (c->reader.inFrame()) {
          c->closeBytes = c->reader.pendingFrameBytes();
          closeConnection(c, CloseReason::kIncompleteFrame);
        } else {
          closeConnection(c, c->socketError ? CloseReason::kSocketError : CloseReason::kPeerClosed);
        }
        return;
      }
      if (handshaking(c)) {
        int64_t deadline = c->idleSince + options_.frameTimeoutSeconds * 1000LL;
        if (now > deadline) {
          closeConnection(c, CloseReason::kTlsHandshakeTimeout);
          return;
        }
        wait(c, kReading, EPOLLIN | EPOLLRDHUP, deadline);
        return;
      }
      if (c->reader.inFrame()) {
        reportDiscarded(c);  // a run of stray bytes ended with this frame's start
        if (c->frameStart == 0) c->frameStart = now;
        int64_t deadline = c->frameStart + options_.frameTimeoutSeconds * 1000LL;
        if (now > deadline) {  // a sender that kept the worker reading is cut here
          c->closeBytes = c->reader.pendingFrameBytes();
          startClosing(c, CloseReason::kFrameTimeout);
          return;
        }
        wait(c, kReading, EPOLLIN | EPOLLRDHUP, deadline);
      } else {
        c->frameStart = 0;
        int64_t deadline = c->idleSince + options_.idleTimeoutSeconds * 1000LL;
        if (now > deadline) {
          startClosing(c, CloseReason::kIdleTimeout);
          return;
        }
        wait(c, kIdle, EPOLLIN | EPOLLRDHUP, deadline);
      }
      return;
    }
    // A complete frame: handle it, then send its ACK, before anything else of this connection.
    reportDiscarded(c);
    ++handled;
    c->frameStart = 0;
    std::string ack;
    bool ok = false;
    try {
      ack = handler_->handle(c->reader.frame(), c->peer);
      ok = !ack.empty() && isFrameable(ack);
    } catch (...) {
      // No ACK: the sender resends on a new connection (message_handler.h says why).
    }
    if (!ok) {
      startClosing(c, CloseReason::kHandlerFailed);
      return;
    }
    c->out = encodeFrame(ack);
    c->outPos = 0;
    if (!flush(c)) return;
  }
}

bool MllpListener::Engine::flush(Connection* c) {
  while (c->outPos < c->out.size()) {
    ssize_t n = c->tls ? c->tls->write(c->out.data() + c->outPos, c->out.size() - c->outPos)
                       : send(c->fd, c->out.data() + c->outPos, c->out.size() - c->outPos,
                              MSG_NOSIGNAL);
    if (n > 0) {
      c->outPos += static_cast<size_t>(n);
      continue;
    }
    if (c->tls) {
      if (c->tls->blocked()) {  // wait() turns this into the direction TLS needs
        wait(c, kWriting, EPOLLOUT, nowMs() + options_.frameTimeoutSeconds * 1000LL);
        return false;
      }
      if (c->tls->reset()) {
        closeConnection(c, CloseReason::kSocketError);
      } else {
        c->closeDetail = c->tls->error();
        closeConnection(c, CloseReason::kTlsFailed);
      }
      return false;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The peer is not reading: wait for room, for at most frameTimeoutSeconds per stall.
      wait(c, kWriting, EPOLLOUT, nowMs() + options_.frameTimeoutSeconds * 1000LL);
      return false;
    }
    closeConnection(c, CloseReason::kSocketError);
    return false;
  }
  if (!c->out.empty()) {
    ++c->messages;
    c->idleSince = nowMs();
  }
  c->out.clear();
  c->outPos = 0;
  return true;
}

void MllpListener::Engine::housekeepingLoop() {
  std::unique_lock<std::mutex> wakeLock(housekeeperMutex_);
  while (!stopping_) {
    housekeeperCv_.wait_for(wakeLock, std::chrono::milliseconds(kHousekeepingMs));
    if (stopping_) break;
    int64_t now = nowMs();
    bool draining = draining_;
    if (acceptPaused_.exchange(false)) armListener();
    std::lock_guard<std::mutex> lock(connectionsMutex_);
    for (auto& [raw, c] : connections_) {
      int phase = c->phase.load();
      if (phase == kBusy || (phase & kCut)) continue;
      int64_t deadline = c->deadline.load();
      bool expired = deadline != 0 && now > deadline;
      bool closeForStop = draining && (phase == kIdle || phase == kReading);
      if (!expired && !closeForStop) continue;
      if (!c->phase.compare_exchange_strong(phase, phase | kCut)) continue;  // a worker took it
      // Reading side shut: the worker wakes (EPOLLIN), finds the mark and closes. A stalled
      // writer is shut both ways (EPOLLHUP) and closed.
      shutdown(c->fd, phase == kWriting ? SHUT_RDWR : SHUT_RD);
    }
  }
}

void MllpListener::Engine::stop(int graceSeconds) {
  if (epollFd_ < 0) return;
  // 1. Stop accepting. The descriptor closes in shutdownNow(), after the workers: one may be
  //    accepting now (it gets EINVAL and stops).
  //    Shutting the listening socket down (Linux) stops listening: new connection attempts
  //    are refused at once, instead of waiting in the backlog until the grace period ends.
  if (accepting_.exchange(false) && listenFd_ >= 0) {
    epoll_ctl(epollFd_, EPOLL_CTL_DEL, listenFd_, nullptr);
    shutdown(listenFd_, SHUT_RDWR);
  }
  // 2. Idle connections close now (the housekeeper cuts them); busy ones after their ACK.
  draining_ = true;
  housekeeperCv_.notify_all();
  // 3. Wait for them, up to the grace period.
  {
    std::unique_lock<std::mutex> lock(connectionsMutex_);
    closedCv_.wait_until(lock, Clock::now() + std::chrono::seconds(std::max(0, graceSeconds)),
                         [this] { return connections_.empty(); });
  }
  shutdownNow();
}

void MllpListener::Engine::shutdownNow() {
  if (epollFd_ < 0) {
    if (listenFd_ >= 0) ::close(listenFd_);  // start() failed half-way
    if (wakeFd_ >= 0) ::close(wakeFd_);
    listenFd_ = wakeFd_ = -1;
    return;
  }
  stopping_ = true;
  accepting_ = false;
  draining_ = true;
  uint64_t one = 1;
  if (write(wakeFd_, &one, sizeof one) < 0) {
    // eventfd writes cannot fail short of overflow; the workers also see stopping_.
  }
  { std::lock_guard<std::mutex> lock(housekeeperMutex_); }  // not between its check and wait
  housekeeperCv_.notify_all();
  for (auto& t : workers_) t.join();  // waits for handle() calls still running
  workers_.clear();
  if (housekeeper_.joinable()) housekeeper_.join();
  std::unordered_map<Connection*, std::unique_ptr<Connection>> left;
  {
    std::lock_guard<std::mutex> lock(connectionsMutex_);
    left.swap(connections_);
  }
  for (auto& [raw, c] : left) {
    ::close(c->fd);
    Event e;
    e.kind = Event::Kind::kClosed;
    e.peer = c->peer;
    e.reason = c->phase.load() == kLingering ? c->closeReason : CloseReason::kStopping;
    e.messages = c->messages;
    emit(e);
  }
  if (listenFd_ >= 0) ::close(listenFd_);
  ::close(wakeFd_);
  ::close(epollFd_);
  listenFd_ = wakeFd_ = epollFd_ = -1;
}

// ---- MllpListener -------------------------------------------------------------------------

MllpListener::MllpListener(std::shared_ptr<MessageHandler> handler, MllpListenerOptions options)
    : handler_(std::move(handler)), options_(std::move(options)) {}

MllpListener::~MllpListener() { stop(0); }

Status MllpListener::start() {
  if (engine_) return Status::internal("the MLLP listener is already started");
  if (!handler_) return Status::invalid("the MLLP listener needs a message handler");
  if (options_.port < 0 || options_.port > 65535)
    return Status::invalid("MLLP port must be 0..65535");
  if (options_.workers < 1) return Status::invalid("MLLP workers must be at least 1");
  if (options_.maxConnections < 1) return Status::invalid("MLLP maxConnections must be at least 1");
  if (options_.maxFrameBytes < 1) return Status::invalid("MLLP maxFrameBytes must be at least 1");
  if (options_.idleTimeoutSeconds < 1 || options_.frameTimeoutSeconds < 1)
    return Status::invalid("MLLP timeouts must be at least 1 second");
  engine_ = std::make_unique<Engine>(handler_, options_);
  Status s = engine_->start(port_);
  if (!s.isOk()) {
    engine_.reset();
    port_ = 0;
  }
  return s;
}

void MllpListener::stop(int graceSeconds) {
  if (!engine_) return;
  engine_->stop(graceSeconds);
  engine_.reset();
}

}  // namespace acp::mllp
