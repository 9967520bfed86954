// acp-bench-mllp-load — an HL7 v2 MLLP load client that behaves like the hospital's senders
// (../shared/partners/acute-hl7v2.md): each of N connections sends one framed ADT message,
// waits for its ACK, checks it, and only then sends the next. Used by bench/run-ingest.sh
// against the gateway and against an ACK-only peer (bench/mllp_ack_peer.mjs).
//
// Messages come from bench/ingest_generate.h (AdtStream): one stream per connection, each with
// its own children (disjoint hospital numbers) and its own clock, MSH-10 = --prefix + the
// two-digit connection number + an 8-digit sequence, so every MSH-10 of a run is unique. An
// ACK is checked: MSA-1 must be AA and MSA-2 the message's MSH-10 (else it counts as a
// mismatch). A connection that closes, fails or sends no ACK within --timeout seconds counts
// as an error; the client reconnects and sends the same message again, as the hospital does.
//
// Timing: all connections are opened first; then --warmup seconds, then the measured window
// of --duration seconds. A message counts for the rate and the latency when it was sent
// inside the window and its ACK arrived inside it. Latency = from the first byte sent to the
// last byte of the ACK read. Counts of ACK codes, mismatches and errors cover the whole run
// (warm-up included): anything but AA is worth a look.
//
// Usage: acp-bench-mllp-load --port=P [--host=127.0.0.1] [--connections=1] [--duration=10]
//   [--warmup=2] [--timeout=30] [--prefix=B] [--seed=1] [--patients=1000] [--rate=0]
//   [--stream-offset=0]
// --stream-offset=K: connection i sends stream K+i+1 (its own children, hospital numbers and
// visit numbers), so two runs against the same gateway do not send the same messages.
// --rate=R (messages/s over all connections; 0 = as fast as the ACKs come back) paces each
// connection to R/N messages/s: a message is sent no earlier than its slot (connection start
// + k·N/R s), so the offered load is open-loop at R unless the ACKs are slower (the mixed run
// of bench/run.sh: ingest at half its measured capacity while GP queries run).
// Prints one line on stdout:
//   BENCH connections=N seconds=D acked=A rps=R p50_ms=.. p99_ms=.. max_ms=.. aa=.. ae=..
//         ar=.. other=.. mismatch=.. errors=.. sent=..
// The first few unexpected ACKs are shown on stderr. Only loopback or a host given on the
// command line is contacted. Exit codes: 0 ok (whatever the ACKs said), 64 bad arguments,
// 69 no connection could be opened at the start.
// Thread-safety: one thread per connection; results are merged after they are joined.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/ingest_generate.h"

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;

using Clock = std::chrono::steady_clock;

struct Args {
  std::string host = "127.0.0.1";
  int port = 0;
  long connections = 1;
  double duration = 10, warmup = 2, timeout = 30;
  std::string prefix = "B";
  long seed = 1;
  long patients = 1000;
  double rate = 0;  // messages/s over all connections; 0 = unpaced
  long streamOffset = 0;
};

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) return false;
    std::string key = arg.substr(2, eq - 2), v = arg.substr(eq + 1);
    char* end = nullptr;
    auto num = [&](double lo, double hi, double& out) {
      out = std::strtod(v.c_str(), &end);
      return !v.empty() && *end == 0 && out >= lo && out <= hi;
    };
    auto count = [&](long lo, long hi, long& out) {
      out = std::strtol(v.c_str(), &end, 10);
      return !v.empty() && *end == 0 && out >= lo && out <= hi;
    };
    long port = 0;
    bool ok = key == "host"          ? (a.host = v, !v.empty())
              : key == "port"        ? (count(1, 65535, port) && (a.port = port, true))
              : key == "connections" ? count(1, 256, a.connections)
              : key == "duration"    ? num(0.1, 3600, a.duration)
              : key == "warmup"      ? num(0, 3600, a.warmup)
              : key == "timeout"     ? num(0.1, 600, a.timeout)
              : key == "prefix"      ? (a.prefix = v, !v.empty() && v.size() <= 10)
              : key == "seed"        ? count(0, 1L << 30, a.seed)
              : key == "patients"    ? count(1, 1000000, a.patients)
              : key == "rate"        ? num(0, 1e6, a.rate)
              : key == "stream-offset" ? count(0, 10000, a.streamOffset)
                                     : false;
    if (!ok) return false;
  }
  return a.port > 0;
}

// A connected TCP socket with receive and send timeouts, or -1.
int connectTo(const Args& a) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(a.host.c_str(), std::to_string(a.port).c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* p = res; p; p = p->ai_next) {
    fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, p->ai_addr, p->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(a.timeout);
  tv.tv_usec = static_cast<suseconds_t>((a.timeout - tv.tv_sec) * 1e6);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

bool sendAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads one frame's content into `out`; false on close, error or timeout. `buf` keeps bytes
// read past the frame (a peer never sends them unasked, but the contract allows it).
bool readFrame(int fd, std::string& buf, std::string& out) {
  for (;;) {
    size_t start = buf.find('\x0b');
    if (start != std::string::npos) {
      size_t end = buf.find("\x1c\x0d", start + 1);
      if (end != std::string::npos) {
        out.assign(buf, start + 1, end - start - 1);
        buf.erase(0, end + 2);
        return true;
      }
    }
    char chunk[4096];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

// MSA-1 and MSA-2 of an ACK ("" when absent). Segments end in CR (or LF); the field
// separator is MSH-1.
void readMsa(const std::string& ack, std::string& code, std::string& controlId) {
  code.clear();
  controlId.clear();
  char sep = ack.size() > 3 && ack.compare(0, 3, "MSH") == 0 ? ack[3] : '|';
  size_t pos = 0;
  while (pos < ack.size()) {
    size_t eol = ack.find_first_of("\r\n", pos);
    if (eol == std::string::npos) eol = ack.size();
    if (ack.compare(pos, 4, std::string("MSA") + sep) == 0) {
      std::string seg = ack.substr(pos, eol - pos);
      size_t a = seg.find(sep);
      size_t b = seg.find(sep, a + 1);
      code = seg.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
      if (b != std::string::npos) {
        size_t c = seg.find(sep, b + 1);
        controlId = seg.substr(b + 1, c == std::string::npos ? std::string::npos : c - b - 1);
      }
      return;
    }
    pos = eol + 1;
  }
}

std::string controlIdOf(const std::string& msg) {  // MSH-10 of a generated message
  size_t pos = 0;
  for (int field = 0; field < 9; ++field) {
    pos = msg.find('|', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  return msg.substr(pos, msg.find('|', pos) - pos);
}

struct Totals {
  uint64_t sent = 0, aa = 0, ae = 0, ar = 0, other = 0, mismatch = 0, errors = 0;
  std::vector<double> latenciesUs;  // inside the window
};

std::mutex gReportMutex;
int gReported = 0;

void reportOdd(const std::string& what, const std::string& ack) {
  std::lock_guard<std::mutex> lock(gReportMutex);
  if (gReported++ >= 3) return;
  std::string shown = ack;
  std::replace(shown.begin(), shown.end(), '\r', '\n');
  std::cerr << "mllp-load: " << what << ":\n" << shown << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) {
    std::cerr << "usage: acp-bench-mllp-load --port=P [--host=H] [--connections=N] "
                 "[--duration=S] [--warmup=S] [--timeout=S] [--prefix=X (≤ 10 chars)] "
                 "[--seed=N] [--patients=N] [--rate=MSG_PER_S] [--stream-offset=K]\n";
    return kExitUsage;
  }
  int n = static_cast<int>(args.connections);
  std::vector<int> fds(n, -1);
  for (int i = 0; i < n; ++i) {
    fds[i] = connectTo(args);
    if (fds[i] < 0) {
      std::cerr << "mllp-load: cannot connect to " << args.host << ":" << args.port << ": "
                << std::strerror(errno) << "\n";
      for (int fd : fds)
        if (fd >= 0) close(fd);
      return kExitUnavailable;
    }
  }
  auto toDur = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const Clock::time_point begin = Clock::now();
  const Clock::time_point windowStart = begin + toDur(args.warmup);
  const Clock::time_point windowEnd = windowStart + toDur(args.duration);

  std::vector<Totals> totals(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Totals& t = totals[i];
      char conn[8];
      std::snprintf(conn, sizeof conn, "%02d", i % 100);
      acp::bench::AdtStream stream(static_cast<uint64_t>(args.seed),
                                   static_cast<int>(args.streamOffset) + i + 1,
                                   static_cast<int>(args.patients), args.prefix + conn);
      int fd = fds[i];
      std::string buf, ack, code, controlId, message, framed;
      bool resend = false;
      // --rate: this connection's slot for its next new message.
      const Clock::duration interval =
          args.rate > 0 ? toDur(static_cast<double>(n) / args.rate) : Clock::duration::zero();
      Clock::time_point slot = begin + interval * i / n;  // connections spread over a slot
      while (Clock::now() < windowEnd) {
        if (!resend && args.rate > 0) {
          Clock::time_point now = Clock::now();
          if (slot > now) std::this_thread::sleep_until(slot);
          if (slot < now - std::chrono::seconds(1)) slot = now;  // no catch-up burst
          slot += interval;
          if (Clock::now() >= windowEnd) break;
        }
        if (!resend) {
          message = stream.next();
          framed = "\x0b" + message + "\x1c\x0d";
        }
        resend = false;
        if (fd < 0) {
          fd = connectTo(args);
          if (fd < 0) {
            ++t.errors;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            resend = true;
            continue;
          }
          buf.clear();
        }
        Clock::time_point sentAt = Clock::now();
        ++t.sent;
        if (!sendAll(fd, framed) || !readFrame(fd, buf, ack)) {
          ++t.errors;
          close(fd);
          fd = -1;
          resend = true;  // as the hospital does: reconnect, the same message again
          continue;
        }
        Clock::time_point ackAt = Clock::now();
        readMsa(ack, code, controlId);
        if (controlId != controlIdOf(message)) {
          ++t.mismatch;
          reportOdd("MSA-2 does not match MSH-10 " + controlIdOf(message), ack);
        }
        if (code == "AA") {
          ++t.aa;
        } else {
          (code == "AE" ? t.ae : code == "AR" ? t.ar : t.other)++;
          reportOdd("ACK " + code + " for", message + "\n--- ACK ---\n" + ack);
        }
        if (sentAt >= windowStart && ackAt <= windowEnd)
          t.latenciesUs.push_back(
              std::chrono::duration<double, std::micro>(ackAt - sentAt).count());
      }
      if (fd >= 0) close(fd);
    });
  }
  for (std::thread& th : threads) th.join();

  Totals all;
  for (const Totals& t : totals) {
    all.sent += t.sent;
    all.aa += t.aa;
    all.ae += t.ae;
    all.ar += t.ar;
    all.other += t.other;
    all.mismatch += t.mismatch;
    all.errors += t.errors;
    all.latenciesUs.insert(all.latenciesUs.end(), t.latenciesUs.begin(), t.latenciesUs.end());
  }
  std::vector<double>& l = all.latenciesUs;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) {
    if (l.empty()) return 0.0;
    size_t idx = static_cast<size_t>(p * (l.size() - 1) + 0.5);
    return l[std::min(idx, l.size() - 1)] / 1000.0;
  };
  char line[512];
  std::snprintf(line, sizeof line,
                "BENCH connections=%d seconds=%.2f acked=%zu rps=%.1f p50_ms=%.3f p99_ms=%.3f "
                "max_ms=%.3f aa=%llu ae=%llu ar=%llu other=%llu mismatch=%llu errors=%llu "
                "sent=%llu",
                n, args.duration, l.size(), l.size() / args.duration, pct(0.50), pct(0.99),
                l.empty() ? 0.0 : l.back() / 1000.0, static_cast<unsigned long long>(all.aa),
                static_cast<unsigned long long>(all.ae), static_cast<unsigned long long>(all.ar),
                static_cast<unsigned long long>(all.other),
                static_cast<unsigned long long>(all.mismatch),
                static_cast<unsigned long long>(all.errors),
                static_cast<unsigned long long>(all.sent));
  std::cout << line << std::endl;
  return 0;
}
