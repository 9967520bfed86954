// The connection model: idle, slow and non-reading clients hold no worker; deadlines on
// request heads; the connection cap; Expect: 100-continue; pipelining; keep-alive rules.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gateway/app/options.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::unique_ptr<Poco::Net::StreamSocket> connect(int port) {
  auto s = std::make_unique<Poco::Net::StreamSocket>(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  s->setReceiveTimeout(Poco::Timespan(10, 0));
  return s;
}

void sendAll(Poco::Net::StreamSocket& s, const std::string& bytes) {
  s.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
}

// Reads until `count` complete responses (by Content-Length) have arrived, or the peer
// closes; returns the raw bytes.
std::string readResponses(Poco::Net::StreamSocket& s, int count) {
  std::string out;
  char buf[8192];
  auto complete = [&]() {
    int seen = 0;
    size_t at = 0;
    while (seen < count) {
      size_t head = out.find("\r\n\r\n", at);
      if (head == std::string::npos) return false;
      size_t cl = out.find("Content-Length: ", at);
      size_t len = 0;
      if (cl != std::string::npos && cl < head) len = std::stoul(out.substr(cl + 16));
      if (out.size() < head + 4 + len) return false;
      at = head + 4 + len;
      ++seen;
    }
    return true;
  };
  while (!complete()) {
    int n = 0;
    try {
      n = s.receiveBytes(buf, sizeof buf);
    } catch (...) {
      break;
    }
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Everything until the server closes.
std::string readToClose(Poco::Net::StreamSocket& s) {
  std::string out;
  char buf[8192];
  try {
    int n;
    while ((n = s.receiveBytes(buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  } catch (...) {
  }
  return out;
}

int countOf(const std::string& raw, const std::string& what) {
  int n = 0;
  for (size_t at = raw.find(what); at != std::string::npos; at = raw.find(what, at + 1)) ++n;
  return n;
}

const char kGetMetadata[] = "GET /metadata HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(Connections, IdleAndHalfSentClientsHoldNoWorker) {
  app::Options o;
  o.workers = 1;
  TestServer server(o);
  std::vector<std::unique_ptr<Poco::Net::StreamSocket>> idle;
  for (int i = 0; i < 20; ++i) {
    idle.push_back(connect(server.port()));
    if (i % 2) sendAll(*idle.back(), "GET /metadata HTTP/1.1\r\nHo");  // half a request
  }
  // With one worker, a thread-per-connection server would now be stuck behind them.
  HttpResult r = server.get("/metadata");
  EXPECT_EQ(r.status, 200);
}

TEST(Connections, AClientThatDoesNotReadHoldsNoWorker) {
  app::Options o;
  o.workers = 1;
  TestServer server(o);
  // Many pipelined requests for a large answer, never read: the server's writes block.
  auto stuck = connect(server.port());
  std::string many;
  for (int i = 0; i < 300; ++i) many += kGetMetadata;
  sendAll(*stuck, many);
  HttpResult r = server.get("/Patient?_summary=count");
  EXPECT_EQ(r.status, 200);
}

TEST(Connections, ARequestHeadDrippedPastTheDeadlineGets408) {
  app::Options o;
  o.timeoutSeconds = 1;
  TestServer server(o);
  auto s = connect(server.port());
  s->setReceiveTimeout(Poco::Timespan(0, 100000));
  sendAll(*s, "GET /metadata HTTP/1.1\r\nHost: x\r\n");
  std::string answer;
  // One header line every 100 ms: every receive is quick, only the total deadline trips.
  for (int i = 0; i < 60 && answer.empty(); ++i) {
    try {
      sendAll(*s, "X-Drip: 1\r\n");
    } catch (...) {
      break;
    }
    char buf[2048];
    try {
      int n = s->receiveBytes(buf, sizeof buf);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
    } catch (const Poco::TimeoutException&) {
    } catch (...) {
      break;
    }
  }
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 408") << answer.substr(0, 80);
  EXPECT_NE(answer.find("http.header-timeout"), std::string::npos);
}

TEST(Connections, OverTheConnectionCapIsAnswered503) {
  app::Options o;
  o.maxConnections = 2;
  TestServer server(o);
  auto a = connect(server.port());
  auto b = connect(server.port());
  sendAll(*a, kGetMetadata);
  sendAll(*b, kGetMetadata);
  ASSERT_NE(readResponses(*a, 1).find("HTTP/1.1 200"), std::string::npos);
  ASSERT_NE(readResponses(*b, 1).find("HTTP/1.1 200"), std::string::npos);
  auto c = connect(server.port());
  std::string raw = readToClose(*c);
  EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 503") << raw.substr(0, 80);
  EXPECT_NE(raw.find("Retry-After: "), std::string::npos);
  EXPECT_NE(raw.find("http.too-many-connections"), std::string::npos);
  // Closing one makes room again.
  a.reset();
  HttpResult r;
  for (int i = 0; i < 50 && r.status != 200; ++i) {
    r = server.get("/metadata");
    if (r.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(r.status, 200);
}

// Overload: with the write lane held up (another connection holds the SQLite write lock), a
// write beyond gateway.http.maxQueuedWrites is answered 503 http.overloaded with Retry-After
// and never run; the queued ones are served once the lane moves again.
TEST(Connections, WritesBeyondTheQueueLimitAreShedWith503) {
  app::Options o;
  o.writeWorkers = 1;
  o.maxQueuedWrites = 2;
  TestServer server(o);
  auto side = server.side();
  ASSERT_EQ(side->exec("BEGIN IMMEDIATE"), "");  // the lane's write waits for this
  // Four writes at once: the lane takes at most one (it waits on the lock), the queue holds
  // two, so one or two are shed — whichever arrive when the queue is full.
  std::vector<std::thread> threads;
  std::vector<HttpResult> results(4);
  std::atomic<int> answered{0};  // only a shed write can be answered while the lock is held
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      results[i] = server.post("/Patient", R"({"resourceType":"Patient","name":[{"family":"Queued)" +
                                               std::to_string(i) + R"("}]})");
      ++answered;
    });
  }
  for (int spin = 0; spin < 500 && answered.load() == 0; ++spin)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(side->exec("COMMIT"), "");  // the held writes wait up to the 5 s busy timeout
  for (auto& t : threads) t.join();
  int shedCount = 0;
  for (int i = 0; i < 4; ++i) {
    if (results[i].status == 503) {
      ++shedCount;
      EXPECT_EQ(results[i].headers["retry-after"], "1");
      EXPECT_NE(results[i].body.find("http.overloaded"), std::string::npos) << results[i].body;
      EXPECT_FALSE(server.get("/Patient?family=Queued" + std::to_string(i)).json.find("entry"))
          << "the shed write was never run";
    } else {
      EXPECT_EQ(results[i].status, 201) << i << ": " << results[i].body;
    }
  }
  // One in the lane (if it took one before the queue filled) and two queued are served: the
  // rest, one or two, are shed.
  EXPECT_GE(shedCount, 1);
  EXPECT_LE(shedCount, 2);
}

// A write that waited in the queue longer than gateway.http.queueTimeoutSeconds is answered
// 503 instead of being run late.
TEST(Connections, AWriteThatWaitedTooLongIsAnswered503NotRun) {
  app::Options o;
  o.writeWorkers = 1;
  o.queueTimeoutSeconds = 1;
  TestServer server(o);
  auto side = server.side();
  ASSERT_EQ(side->exec("BEGIN IMMEDIATE"), "");
  // Two writes: one waits in the lane for the lock, the other in the queue for the lane.
  std::vector<HttpResult> results(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&, i] {
      results[i] = server.post("/Patient", R"({"resourceType":"Patient","name":[{"family":"Waited)" +
                                               std::to_string(i) + R"("}]})");
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // past the queue timeout,
  ASSERT_EQ(side->exec("COMMIT"), "");                           // within the 5 s busy timeout
  for (auto& t : threads) t.join();
  std::multiset<int> statuses = {results[0].status, results[1].status};
  EXPECT_EQ(statuses, (std::multiset<int>{201, 503}));
  for (int i = 0; i < 2; ++i)
    if (results[i].status == 503) {
      EXPECT_NE(results[i].body.find("http.overloaded"), std::string::npos);
      EXPECT_FALSE(server.get("/Patient?family=Waited" + std::to_string(i)).json.find("entry"));
    }
}

// The shared body budget (gateway.limits.maxBufferedBodyBytes): body bytes held on several
// connections at once are bounded in total, counted as they arrive. A request whose announced
// body does not fit in what is left is answered 503 http.overloaded before its body is read; a
// body that grows past it is cut the same way; a request finished, refused or abandoned gives
// its share back.
TEST(Connections, BodiesBeyondTheSharedBudgetAreShedWith503) {
  app::Options o;
  o.maxBodyBytes = 8192;
  o.maxIngestBodyBytes = 8192;
  o.maxBufferedBodyBytes = 8192;
  TestServer server(o);
  auto patient = [](size_t size) {
    std::string body = R"({"resourceType":"Patient","name":[{"family":"Budget"}]})";
    body.append(size - body.size(), ' ');  // JSON allows trailing whitespace
    return body;
  };
  auto head = [](size_t length, bool expectContinue) {
    return "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n" +
           std::string(expectContinue ? "Expect: 100-continue\r\n" : "") +
           "Content-Length: " + std::to_string(length) + "\r\n\r\n";
  };
  // Two bodies of 4000 bytes, 3900 of each sent: 7800 of the 8192 bytes held.
  const std::string body = patient(4000);
  auto a = connect(server.port());
  auto b = connect(server.port());
  sendAll(*a, head(body.size(), false) + body.substr(0, 3900));
  sendAll(*b, head(body.size(), false) + body.substr(0, 3900));
  // A third announcing 4000 bytes does not fit in the 392 left: refused before its body (it
  // asks for 100 Continue and gets the 503 instead), connection closed. Until the server has
  // read a's and b's bytes it would fit, so the probe is repeated until it is refused.
  std::string raw;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto c = connect(server.port());
    sendAll(*c, head(body.size(), true));
    raw = readResponses(*c, 1);
    if (raw.rfind("HTTP/1.1 503", 0) == 0) break;
    ASSERT_EQ(raw.substr(0, 12), "HTTP/1.1 100") << raw.substr(0, 80);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 503") << raw.substr(0, 80);
  EXPECT_NE(raw.find("Retry-After: 1"), std::string::npos);
  EXPECT_NE(raw.find("http.overloaded"), std::string::npos);
  EXPECT_NE(raw.find("Connection: close"), std::string::npos);
  // A chunked body that grows past what is left is cut as it arrives.
  auto d = connect(server.port());
  sendAll(*d, "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
              "Transfer-Encoding: chunked\r\n\r\n400\r\n" + std::string(1024, ' ') + "\r\n");
  raw = readToClose(*d);
  EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 503") << raw.substr(0, 80);
  EXPECT_NE(raw.find("http.overloaded"), std::string::npos);
  // The two held requests finish normally.
  sendAll(*a, body.substr(3900));
  sendAll(*b, body.substr(3900));
  EXPECT_NE(readResponses(*a, 1).find("HTTP/1.1 201"), std::string::npos);
  EXPECT_NE(readResponses(*b, 1).find("HTTP/1.1 201"), std::string::npos);
  // A client that goes away part-way through its body gives its share back too.
  {
    auto gone = connect(server.port());
    sendAll(*gone, head(body.size(), false) + body.substr(0, 3000));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Every share came back: one body of 8100 of the 8192 bytes fits (retried while the server
  // has not yet seen the abandoned connection close).
  const std::string large = patient(8100);
  HttpResult whole;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto e = connect(server.port());
    sendAll(*e, head(large.size(), false) + large);
    raw = readResponses(*e, 1);
    if (raw.rfind("HTTP/1.1 503", 0) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 201") << raw.substr(0, 200);
  // Nothing refused was stored: three Budget patients, from a, b and the last.
  HttpResult found = server.get("/Patient?family=Budget&_summary=count");
  EXPECT_NE(found.body.find("\"total\":3"), std::string::npos) << found.body;
}

// A chunked body is held to its route's cap as it arrives (413, final), not to the larger cap
// of partner pushes.
TEST(Connections, AChunkedBodyPastItsRoutesCapIs413AsItArrives) {
  app::Options o;
  o.maxBodyBytes = 2048;
  o.maxIngestBodyBytes = 1 << 20;
  TestServer server(o);
  auto s = connect(server.port());
  sendAll(*s, "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
              "Transfer-Encoding: chunked\r\n\r\n1000\r\n" + std::string(4096, ' ') + "\r\n");
  std::string raw = readToClose(*s);  // the body's end is never sent
  EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 413") << raw.substr(0, 80);
  EXPECT_NE(raw.find("http.body-too-large"), std::string::npos);
}

TEST(Connections, ExpectContinueIsAnsweredBeforeTheBody) {
  TestServer server;
  std::string body = R"({"resourceType":"Patient","active":true})";
  auto s = connect(server.port());
  sendAll(*s, "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
              "Expect: 100-continue\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n");
  char buf[256];
  int n = s->receiveBytes(buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
  sendAll(*s, body);
  EXPECT_EQ(readResponses(*s, 1).substr(0, 12), "HTTP/1.1 201");
}

TEST(Connections, ExpectContinueWithATooLargeBodyGetsOnly413) {
  app::Options o;
  o.maxBodyBytes = 1000;
  TestServer server(o);
  auto s = connect(server.port());
  sendAll(*s, "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
              "Expect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
  std::string raw = readToClose(*s);
  EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 413") << raw.substr(0, 80);
  EXPECT_EQ(countOf(raw, "100 Continue"), 0);
}

TEST(Connections, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/p1", R"({"resourceType":"Patient","id":"p1"})").status, 201);
  auto s = connect(server.port());
  sendAll(*s,
          "GET /Patient/p1 HTTP/1.1\r\nHost: x\r\n\r\n"
          "GET /Patient/nope HTTP/1.1\r\nHost: x\r\n\r\n"
          "GET /Patient/p1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string raw = readToClose(*s);
  size_t first = raw.find("HTTP/1.1 200");
  size_t second = raw.find("HTTP/1.1 404");
  size_t third = raw.find("HTTP/1.1 200", first + 1);
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(third, std::string::npos);
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(raw.find("Connection: close", third), std::string::npos);
}

TEST(Connections, Http10KeepsAliveOnlyWhenAsked) {
  TestServer server;
  auto s = connect(server.port());
  sendAll(*s, "GET /metadata HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  std::string first = readResponses(*s, 1);
  EXPECT_EQ(first.substr(0, 12), "HTTP/1.1 200");
  EXPECT_NE(first.find("Connection: Keep-Alive"), std::string::npos);
  sendAll(*s, "GET /metadata HTTP/1.0\r\n\r\n");
  std::string second = readToClose(*s);  // no keep-alive asked: the server closes
  EXPECT_EQ(second.substr(0, 12), "HTTP/1.1 200");
  EXPECT_NE(second.find("Connection: close"), std::string::npos);
}

TEST(Connections, KeepAliveRequestLimitClosesTheConnection) {
  app::Options o;
  o.maxKeepAliveRequests = 2;
  TestServer server(o);
  auto s = connect(server.port());
  sendAll(*s, std::string(kGetMetadata) + kGetMetadata + kGetMetadata);
  std::string raw = readToClose(*s);
  EXPECT_EQ(countOf(raw, "HTTP/1.1 200"), 2);
  EXPECT_NE(raw.find("Connection: close"), std::string::npos);
}

TEST(Connections, UnsupportedTransferCodingIs501) {
  TestServer server;
  auto s = connect(server.port());
  sendAll(*s, "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
              "Transfer-Encoding: gzip\r\n\r\n");
  std::string raw = readToClose(*s);
  EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 501") << raw.substr(0, 80);
  EXPECT_NE(raw.find("http.unsupported-transfer-encoding"), std::string::npos);
}

TEST(Connections, TwoHostHeadersAre400) {
  TestServer server;
  auto s = connect(server.port());
  sendAll(*s, "GET /metadata HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  std::string raw = readToClose(*s);
  EXPECT_EQ(raw.substr(0, 12), "HTTP/1.1 400") << raw.substr(0, 80);
  EXPECT_NE(raw.find("http.bad-host"), std::string::npos);
}

TEST(Connections, ManyPipelinedRequestsAreAllAnsweredInOrder) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/p1", R"({"resourceType":"Patient","id":"p1"})").status, 201);
  auto s = connect(server.port());
  std::string many;
  for (int i = 0; i < 40; ++i)
    many += i % 2 ? "GET /Patient/p1 HTTP/1.1\r\nHost: x\r\n\r\n"
                  : "GET /Patient/none HTTP/1.1\r\nHost: x\r\n\r\n";
  many += "GET /Patient/p1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  sendAll(*s, many);
  std::string raw = readToClose(*s);
  std::string order;
  for (size_t at = raw.find("HTTP/1.1 "); at != std::string::npos;
       at = raw.find("HTTP/1.1 ", at + 1))
    order += raw.substr(at + 9, 3) == "200" ? "A" : "N";
  std::string expected;
  for (int i = 0; i < 40; ++i) expected += i % 2 ? "A" : "N";
  EXPECT_EQ(order, expected + "A");
}

TEST(Connections, AClientSendingWithoutEndIsCutAtTheDeadline) {
  app::Options o;
  o.timeoutSeconds = 1;
  TestServer server(o);
  auto s = connect(server.port());
  s->setReceiveTimeout(Poco::Timespan(0, 1000));
  sendAll(*s, "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
              "Transfer-Encoding: chunked\r\n\r\n");
  // One-byte chunks with long extensions, as fast as the socket takes them.
  std::string chunk = "1;" + std::string(1000, 'x') + "\r\n \r\n";
  std::string burst;
  for (int i = 0; i < 64; ++i) burst += chunk;
  std::string answer;
  for (int i = 0; i < 20000 && answer.empty(); ++i) {
    try {
      sendAll(*s, burst);
    } catch (...) {
      break;  // closed by the server
    }
    char buf[2048];
    try {
      int n = s->receiveBytes(buf, sizeof buf);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
    } catch (...) {
    }
  }
  if (answer.empty()) answer = readToClose(*s);
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 408") << answer.substr(0, 80);
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "0");
}

TEST(Connections, AnEncodedSlashInThePathIs400) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/p1", R"({"resourceType":"Patient","id":"p1"})").status, 201);
  HttpResult r = server.get("/Patient/p1%2F_history%2F1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.errorCode(), "http.invalid-path");
}

TEST(Connections, AnIdleKeepAliveConnectionIsClosed) {
  app::Options o;
  o.keepAliveSeconds = 1;
  TestServer server(o);
  auto s = connect(server.port());
  sendAll(*s, kGetMetadata);
  ASSERT_EQ(readResponses(*s, 1).substr(0, 12), "HTTP/1.1 200");
  // Nothing more is sent: the server closes the connection after the idle timeout, without
  // an answer (there is no request to answer).
  std::string rest = readToClose(*s);
  EXPECT_EQ(rest, "");
}

}  // namespace
}  // namespace acp::testing
