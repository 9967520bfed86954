// MllpListener over real sockets on 127.0.0.1: framing, ordering, concurrency, deadlines,
// refusals and graceful stop. Waits are on events and handler state (with a generous guard so
// that a failure cannot hang the suite); the only sleeps are in tests of deadlines.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gateway/mllp/frame_reader.h"
#include "gateway/mllp/mllp_listener.h"

namespace acp::mllp {
namespace {

constexpr auto kGuard = std::chrono::seconds(10);  // only ever reached when a test fails

// A blocking TCP client; every receive gives up after kGuard.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{static_cast<time_t>(kGuard.count()), 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  int localPort() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
  }
  bool send(std::string_view bytes) {
    size_t at = 0;
    while (at < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return false;
      at += static_cast<size_t>(n);
    }
    return true;
  }
  bool sendFrame(std::string_view message) { return send(encodeFrame(message)); }
  void shutdownWrite() { shutdown(fd_, SHUT_WR); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // The content of the next framed reply; nullopt when the connection ends first.
  std::optional<std::string> readFrame() {
    for (;;) {
      size_t start = buf_.find('\x0b');
      size_t end = buf_.find("\x1c\x0d");
      if (start == 0 && end != std::string::npos) {
        std::string content = buf_.substr(1, end - 1);
        buf_.erase(0, end + 2);
        return content;
      }
      if (!buf_.empty() && start != 0) return std::nullopt;  // not a frame: fail loudly
      if (!receive()) return std::nullopt;
    }
  }
  // Exactly `n` bytes as they arrive (nullopt if the connection ends first).
  std::optional<std::string> readBytes(size_t n) {
    while (buf_.size() < n)
      if (!receive()) return std::nullopt;
    std::string out = buf_.substr(0, n);
    buf_.erase(0, n);
    return out;
  }
  // True when the server closes the connection (end of stream or reset) within the guard.
  // Anything that arrives first is kept in `rest`.
  bool waitClosed(std::string* rest = nullptr) {
    for (;;) {
      char b[4096];
      ssize_t n = recv(fd_, b, sizeof b, 0);
      if (n > 0) {
        buf_.append(b, static_cast<size_t>(n));
        continue;
      }
      if (rest) *rest = buf_;
      if (n == 0) return true;
      if (errno == EINTR) continue;
      return errno != EAGAIN && errno != EWOULDBLOCK;  // a timeout is not a close
    }
  }
  // Without waiting: true when the server has closed (or reset) the connection.
  bool closedNow() {
    char b[4096];
    ssize_t n = recv(fd_, b, sizeof b, MSG_DONTWAIT);
    if (n > 0) buf_.append(b, static_cast<size_t>(n));
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }

 private:
  bool receive() {
    char b[4096];
    ssize_t n = recv(fd_, b, sizeof b, 0);
    if (n <= 0) return false;
    buf_.append(b, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

// Acknowledges every message with an ACK that echoes it, and records what it got. It can
// block on one given message until released, and refuse given messages.
class TestHandler : public MessageHandler {
 public:
  struct Call {
    std::string message;
    PeerInfo peer;
  };

  static std::string ackFor(std::string_view message) {
    return "MSH|^~\\&|ACPGW|TEST|||||ACK||P|2.4\rMSA|AA|" + std::string(message) + "\r";
  }

  std::string handle(std::string_view message, const PeerInfo& peer) override {
    std::string m(message);
    {
      std::unique_lock<std::mutex> lock(mutex_);
      calls_.push_back({m, peer});
      if (m == blockOn_) {
        blocked_ = true;
        cv_.notify_all();
        cv_.wait(lock, [this] { return released_; });
      }
    }
    if (m == "THROW") throw std::runtime_error("the store is unavailable");
    if (m == "EMPTY") return "";
    if (m == "UNFRAMEABLE") return "MSA|AA|\x1c\x0d";
    return ackFor(m);
  }

  void blockOn(const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    blockOn_ = message;
  }
  bool waitUntilBlocked() {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, kGuard, [this] { return blocked_; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<Call> calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }
  std::vector<std::string> messages() {
    std::vector<std::string> out;
    for (const auto& c : calls()) out.push_back(c.message);
    return out;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  std::string blockOn_;
  bool blocked_ = false;
  bool released_ = false;
};

// Records the listener's events.
class EventLog {
 public:
  std::function<void(const Event&)> sink() {
    return [this](const Event& e) {
      std::lock_guard<std::mutex> lock(mutex_);
      events_.push_back(e);
      cv_.notify_all();
    };
  }
  // Waits for an event matching `match`; returns it (nullopt when the guard passes).
  std::optional<Event> waitFor(const std::function<bool(const Event&)>& match) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::optional<Event> found;
    cv_.wait_for(lock, kGuard, [&] {
      for (const auto& e : events_)
        if (match(e)) {
          found = e;
          return true;
        }
      return false;
    });
    return found;
  }
  std::optional<Event> waitClosed(CloseReason reason) {
    return waitFor(
        [reason](const Event& e) { return e.kind == Event::Kind::kClosed && e.reason == reason; });
  }
  std::vector<Event> all() {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

// A started listener on 127.0.0.1, any port, with a TestHandler and an EventLog.
struct Fixture {
  explicit Fixture(MllpListenerOptions o = {}) : handler(std::make_shared<TestHandler>()) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.onEvent = events.sink();
    listener = std::make_unique<MllpListener>(handler, o);
    Status s = listener->start();
    if (!s.isOk()) ADD_FAILURE() << "listener did not start: " << s.message();
  }
  ~Fixture() {
    handler->release();  // a failed test must not leave a worker blocked
    listener.reset();
  }
  int port() const { return listener->port(); }

  EventLog events;  // outlives the listener that reports to it
  std::shared_ptr<TestHandler> handler;
  std::unique_ptr<MllpListener> listener;
};

std::string msg(const std::string& id) {
  return "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|" + id +
         "|P|2.4\r"
         "PID|1||9992530820^^^NHS^NH\r";
}

TEST(MllpListener, OneMessageGetsAFramedAck) {
  Fixture f;
  Client c(f.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.sendFrame(msg("PAS0001")));
  std::string expected = "\x0b" + TestHandler::ackFor(msg("PAS0001")) + "\x1c\x0d";
  EXPECT_EQ(c.readBytes(expected.size()), expected);

  auto calls = f.handler->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].message, msg("PAS0001"));
  EXPECT_GE(calls[0].peer.connectionId, 1u);
  EXPECT_EQ(calls[0].peer.address, "127.0.0.1");
  EXPECT_EQ(calls[0].peer.port, c.localPort());
  EXPECT_EQ(calls[0].peer.endpoint(), "127.0.0.1:" + std::to_string(c.localPort()));

  c.close();
  auto closed = f.events.waitClosed(CloseReason::kPeerClosed);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->messages, 1u);
  EXPECT_EQ(closed->peer.connectionId, calls[0].peer.connectionId);
}

TEST(MllpListener, SeveralMessagesOnOneConnectionAreHandledInOrder) {
  Fixture f;
  Client c(f.port());
  std::vector<std::string> sent;
  for (int i = 0; i < 10; ++i) {
    sent.push_back(msg("M" + std::to_string(i)));
    ASSERT_TRUE(c.sendFrame(sent.back()));
    EXPECT_EQ(c.readFrame(), TestHandler::ackFor(sent.back()));
  }
  EXPECT_EQ(f.handler->messages(), sent);
  auto calls = f.handler->calls();
  for (const auto& call : calls) EXPECT_EQ(call.peer.connectionId, calls[0].peer.connectionId);
}

TEST(MllpListener, TwoFramesInOneWriteAreBothAcknowledgedInOrder) {
  Fixture f;
  Client c(f.port());
  ASSERT_TRUE(c.send(encodeFrame(msg("A")) + encodeFrame(msg("B"))));
  EXPECT_EQ(c.readFrame(), TestHandler::ackFor(msg("A")));
  EXPECT_EQ(c.readFrame(), TestHandler::ackFor(msg("B")));
  EXPECT_EQ(f.handler->messages(), (std::vector<std::string>{msg("A"), msg("B")}));
}

TEST(MllpListener, AFrameSentByteByByteIsOneMessage) {
  Fixture f;
  Client c(f.port());
  std::string frame = encodeFrame(msg("DRIP"));
  for (char ch : frame) ASSERT_TRUE(c.send(std::string_view(&ch, 1)));
  EXPECT_EQ(c.readFrame(), TestHandler::ackFor(msg("DRIP")));
  EXPECT_EQ(f.handler->messages(), std::vector<std::string>{msg("DRIP")});
}

TEST(MllpListener, BytesBetweenFramesAreIgnoredAndCounted) {
  Fixture f;
  Client c(f.port());
  const std::string before = "hello\r\n", between = "\r\n\r\n  ", after = "bye";
  ASSERT_TRUE(c.send(before + encodeFrame(msg("A")) + between + encodeFrame(msg("B")) + after));
  EXPECT_EQ(c.readFrame(), TestHandler::ackFor(msg("A")));
  EXPECT_EQ(c.readFrame(), TestHandler::ackFor(msg("B")));
  EXPECT_EQ(f.handler->messages(), (std::vector<std::string>{msg("A"), msg("B")}));
  c.close();
  auto closed = f.events.waitClosed(CloseReason::kPeerClosed);
  ASSERT_TRUE(closed);
  uint64_t discarded = 0;
  for (const auto& e : f.events.all())
    if (e.kind == Event::Kind::kDiscardedBytes) discarded += e.bytes;
  EXPECT_EQ(discarded, before.size() + between.size() + after.size());
}

TEST(MllpListener, AFrameOverTheCapClosesTheConnectionWithoutAck) {
  MllpListenerOptions o;
  o.maxFrameBytes = 1024;
  Fixture f(o);
  {
    Client c(f.port());  // exactly at the cap: accepted
    ASSERT_TRUE(c.sendFrame(std::string(1024, 'x')));
    EXPECT_EQ(c.readFrame(), TestHandler::ackFor(std::string(1024, 'x')));
  }
  Client c(f.port());
  c.send(encodeFrame(std::string(2000, 'y')));
  std::string rest;
  EXPECT_TRUE(c.waitClosed(&rest));
  EXPECT_EQ(rest, "");  // no ACK
  c.close();            // ends the listener's lingering close at once
  auto closed = f.events.waitClosed(CloseReason::kFrameTooLarge);
  ASSERT_TRUE(closed);
  EXPECT_GT(closed->bytes, 1024u);
  EXPECT_EQ(closed->messages, 0u);
  EXPECT_EQ(f.handler->calls().size(), 1u);  // only the first connection's
}

TEST(MllpListener, AnOversizeFrameIsRefusedWithoutWaitingForItsEnd) {
  MllpListenerOptions o;
  o.maxFrameBytes = 1024;
  Fixture f(o);
  Client c(f.port());
  c.send("\x0b" + std::string(4096, 'z'));  // no end marker, ever
  EXPECT_TRUE(c.waitClosed());
  c.close();
  EXPECT_TRUE(f.events.waitClosed(CloseReason::kFrameTooLarge));
  EXPECT_TRUE(f.handler->calls().empty());
}

TEST(MllpListener, EndOfStreamInTheMiddleOfAFrameHandsNothingOn) {
  Fixture f;
  Client c(f.port());
  std::string partial = msg("HALF").substr(0, 30);
  ASSERT_TRUE(c.send(encodeFrame(msg("WHOLE")) + "\x0b" + partial));
  c.shutdownWrite();
  EXPECT_EQ(c.readFrame(), TestHandler::ackFor(msg("WHOLE")));  // the complete one is served
  EXPECT_TRUE(c.waitClosed());
  auto closed = f.events.waitClosed(CloseReason::kIncompleteFrame);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->bytes, partial.size());
  EXPECT_EQ(closed->messages, 1u);
  EXPECT_EQ(f.handler->messages(), std::vector<std::string>{msg("WHOLE")});
}

TEST(MllpListener, ConcurrentConnectionsAreAllServedInOrder) {
  Fixture f;
  constexpr int kConnections = 20, kMessages = 50;
  std::atomic<int> wrongAcks{0};
  std::vector<std::thread> senders;
  for (int k = 0; k < kConnections; ++k) {
    senders.emplace_back([&, k] {
      Client c(f.port());
      for (int i = 0; i < kMessages; ++i) {
        std::string m = msg("C" + std::to_string(k) + "-" + std::to_string(i));
        if (!c.sendFrame(m) || c.readFrame() != TestHandler::ackFor(m)) ++wrongAcks;
      }
    });
  }
  for (auto& t : senders) t.join();
  EXPECT_EQ(wrongAcks, 0);

  // Per connection: one sender's messages, all of them, in the order sent.
  std::map<uint64_t, std::vector<std::string>> byConnection;
  for (const auto& call : f.handler->calls())
    byConnection[call.peer.connectionId].push_back(call.message);
  ASSERT_EQ(byConnection.size(), static_cast<size_t>(kConnections));
  for (const auto& [id, got] : byConnection) {
    ASSERT_EQ(got.size(), static_cast<size_t>(kMessages)) << "connection " << id;
    std::string sender = got[0].substr(got[0].find("|C") + 1);
    sender = sender.substr(0, sender.find('-'));
    for (int i = 0; i < kMessages; ++i)
      EXPECT_EQ(got[static_cast<size_t>(i)], msg(sender + "-" + std::to_string(i)));
  }
}

TEST(MllpListener, ASlowHandlerDoesNotHoldUpOtherConnections) {
  MllpListenerOptions o;
  o.workers = 2;
  Fixture f(o);
  f.handler->blockOn(msg("SLOW"));
  Client slow(f.port());
  ASSERT_TRUE(slow.sendFrame(msg("SLOW")));
  ASSERT_TRUE(f.handler->waitUntilBlocked());
  // While that handle() call is still running, another connection is served.
  Client other(f.port());
  ASSERT_TRUE(other.sendFrame(msg("FAST")));
  EXPECT_EQ(other.readFrame(), TestHandler::ackFor(msg("FAST")));
  f.handler->release();
  EXPECT_EQ(slow.readFrame(), TestHandler::ackFor(msg("SLOW")));
}

TEST(MllpListener, AnIdleConnectionIsClosed) {
  MllpListenerOptions o;
  o.idleTimeoutSeconds = 1;
  Fixture f(o);
  Client c(f.port());
  ASSERT_TRUE(c.sendFrame(msg("A")));
  EXPECT_EQ(c.readFrame(), TestHandler::ackFor(msg("A")));
  std::string rest;
  EXPECT_TRUE(c.waitClosed(&rest));  // silence: closed after about a second
  EXPECT_EQ(rest, "");
  auto closed = f.events.waitClosed(CloseReason::kIdleTimeout);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->messages, 1u);
}

TEST(MllpListener, BytesOutsideFramesDoNotKeepAConnectionOpen) {
  MllpListenerOptions o;
  o.idleTimeoutSeconds = 1;
  Fixture f(o);
  Client c(f.port());
  // A stray byte every 100 ms: never silent, but no frame ever starts.
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    closed = !c.send("\r") || c.closedNow();
  }
  EXPECT_TRUE(closed);
  c.close();
  EXPECT_TRUE(f.events.waitClosed(CloseReason::kIdleTimeout));
  EXPECT_TRUE(f.handler->calls().empty());
}

TEST(MllpListener, AFrameDrippedPastTheDeadlineClosesTheConnection) {
  MllpListenerOptions o;
  o.frameTimeoutSeconds = 1;
  o.idleTimeoutSeconds = 60;
  Fixture f(o);
  Client c(f.port());
  ASSERT_TRUE(c.send("\x0bMSH|"));
  // One byte every 100 ms: the connection is never silent, only the frame deadline trips.
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    closed = !c.send("x") || c.closedNow();
  }
  EXPECT_TRUE(closed);
  c.close();
  auto event = f.events.waitClosed(CloseReason::kFrameTimeout);
  ASSERT_TRUE(event);
  EXPECT_GT(event->bytes, 0u);
  EXPECT_TRUE(f.handler->calls().empty());
}

TEST(MllpListener, AFailingHandlerClosesTheConnectionWithoutAck) {
  for (const std::string trigger : {"THROW", "EMPTY", "UNFRAMEABLE"}) {
    SCOPED_TRACE(trigger);
    Fixture f;
    Client c(f.port());
    // The frame after the failing one is never handled: order is kept by the resend.
    ASSERT_TRUE(c.send(encodeFrame(msg("A")) + encodeFrame(trigger) + encodeFrame(msg("C"))));
    EXPECT_EQ(c.readFrame(), TestHandler::ackFor(msg("A")));
    std::string rest;
    EXPECT_TRUE(c.waitClosed(&rest));
    EXPECT_EQ(rest, "");
    c.close();
    auto closed = f.events.waitClosed(CloseReason::kHandlerFailed);
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->messages, 1u);
    EXPECT_EQ(f.handler->messages(), (std::vector<std::string>{msg("A"), trigger}));
  }
}

TEST(MllpListener, ConnectionsOverTheCapAreClosedAtOnce) {
  MllpListenerOptions o;
  o.maxConnections = 2;
  Fixture f(o);
  auto a = std::make_unique<Client>(f.port());
  Client b(f.port());
  ASSERT_TRUE(a->sendFrame(msg("A")));
  ASSERT_TRUE(b.sendFrame(msg("B")));
  ASSERT_EQ(a->readFrame(), TestHandler::ackFor(msg("A")));
  ASSERT_EQ(b.readFrame(), TestHandler::ackFor(msg("B")));
  uint64_t idA = 0;
  for (const auto& call : f.handler->calls())
    if (call.message == msg("A")) idA = call.peer.connectionId;
  ASSERT_NE(idA, 0u);

  Client third(f.port());
  EXPECT_TRUE(third.waitClosed());
  EXPECT_TRUE(f.events.waitFor([](const Event& e) { return e.kind == Event::Kind::kRefused; }));

  // Closing one makes room again.
  a.reset();
  ASSERT_TRUE(f.events.waitFor([idA](const Event& e) {
    return e.kind == Event::Kind::kClosed && e.peer.connectionId == idA;
  }));
  Client fourth(f.port());
  ASSERT_TRUE(fourth.sendFrame(msg("D")));
  EXPECT_EQ(fourth.readFrame(), TestHandler::ackFor(msg("D")));
}

TEST(MllpListener, StopLetsARunningHandlerFinishAndItsAckGoOut) {
  MllpListenerOptions o;
  o.workers = 2;
  Fixture f(o);
  f.handler->blockOn(msg("SLOW"));
  Client idle(f.port());
  ASSERT_TRUE(idle.sendFrame(msg("FIRST")));
  ASSERT_EQ(idle.readFrame(), TestHandler::ackFor(msg("FIRST")));
  Client busy(f.port());
  ASSERT_TRUE(busy.sendFrame(msg("SLOW")));
  ASSERT_TRUE(f.handler->waitUntilBlocked());

  std::thread stopper([&] { f.listener->stop(30); });
  // The idle connection closes while the handler still runs, and nothing new is accepted.
  EXPECT_TRUE(idle.waitClosed());
  Client late(f.port());
  EXPECT_TRUE(!late.connected() || late.waitClosed());

  f.handler->release();
  EXPECT_EQ(busy.readFrame(), TestHandler::ackFor(msg("SLOW")));
  EXPECT_TRUE(busy.waitClosed());
  busy.close();
  stopper.join();
  uint64_t idBusy = f.handler->calls().at(1).peer.connectionId;  // FIRST was acknowledged first
  auto closed = f.events.waitFor([idBusy](const Event& e) {
    return e.kind == Event::Kind::kClosed && e.peer.connectionId == idBusy;
  });
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->reason, CloseReason::kStopping);
  EXPECT_EQ(closed->messages, 1u);
  EXPECT_EQ(f.handler->messages(), (std::vector<std::string>{msg("FIRST"), msg("SLOW")}));
}

TEST(MllpListener, ASecondListenerOnTheSamePortFails) {
  Fixture f;
  MllpListenerOptions o;
  o.host = "127.0.0.1";
  o.port = f.port();
  MllpListener second(std::make_shared<TestHandler>(), o);
  Status s = second.start();
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("cannot listen"), std::string::npos) << s.message();
  // The first still serves.
  Client c(f.port());
  ASSERT_TRUE(c.sendFrame(msg("A")));
  EXPECT_EQ(c.readFrame(), TestHandler::ackFor(msg("A")));
}

TEST(MllpListener, InvalidOptionsAreRefusedByStart) {
  auto handler = std::make_shared<TestHandler>();
  auto refused = [&](const std::function<void(MllpListenerOptions&)>& change) {
    MllpListenerOptions o;
    o.port = 0;
    change(o);
    MllpListener l(handler, o);
    return l.start().code() == Status::Code::kInvalid;
  };
  EXPECT_TRUE(refused([](MllpListenerOptions& o) { o.workers = 0; }));
  EXPECT_TRUE(refused([](MllpListenerOptions& o) { o.maxConnections = 0; }));
  EXPECT_TRUE(refused([](MllpListenerOptions& o) { o.maxFrameBytes = 0; }));
  EXPECT_TRUE(refused([](MllpListenerOptions& o) { o.idleTimeoutSeconds = 0; }));
  EXPECT_TRUE(refused([](MllpListenerOptions& o) { o.frameTimeoutSeconds = 0; }));
  EXPECT_TRUE(refused([](MllpListenerOptions& o) { o.port = 70000; }));
  MllpListener noHandler(nullptr, MllpListenerOptions{});
  EXPECT_EQ(noHandler.start().code(), Status::Code::kInvalid);
}

TEST(MllpListener, StartTwiceFailsAndStopTwiceIsHarmless) {
  MllpListenerOptions o;
  o.port = 0;
  MllpListener l(std::make_shared<TestHandler>(), o);
  ASSERT_TRUE(l.start().isOk());
  EXPECT_GT(l.port(), 0);
  EXPECT_FALSE(l.start().isOk());
  l.stop(1);
  l.stop(1);
}

}  // namespace
}  // namespace acp::mllp
