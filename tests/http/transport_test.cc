// HTTP transport rules: framing, Host, reason phrases, port ownership, log safety.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include "gateway/app/options.h"
#include "gateway/http/http_server.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

// Sends raw bytes, optionally half-closes, and returns everything the server answered.
std::string exchange(int port, const std::string& bytes, bool shutdownSend = false) {
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  s.setReceiveTimeout(Poco::Timespan(10, 0));
  s.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  if (shutdownSend) s.shutdownSend();
  std::string out;
  char buf[4096];
  try {
    int n;
    while ((n = s.receiveBytes(buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  } catch (...) {
  }
  return out;
}

int countResponses(const std::string& raw) {
  int n = 0;
  for (size_t at = raw.find("HTTP/1."); at != std::string::npos; at = raw.find("HTTP/1.", at + 1))
    ++n;
  return n;
}

TEST(Transport, TruncatedBodyIsNeverStored) {
  TestServer server;
  std::string partial =
      "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
      "Content-Length: 100\r\n\r\n{\"resourceType\":\"Patient\"}";
  exchange(server.port(), partial, /*shutdownSend=*/true);
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "0");
}

TEST(Transport, MalformedChunksNeverDesynchroniseTheConnection) {
  TestServer server;
  std::string badFirst =
      "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
      "Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"resourceType\":\"Patient\"}\r\n0\r\n\r\n"
      "GET /metadata HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string raw = exchange(server.port(), badFirst);
  EXPECT_EQ(raw.substr(9, 3), "400") << raw.substr(0, 200);
  EXPECT_EQ(countResponses(raw), 1);
  std::string badLater =
      "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n1a\r\n{\"resourceType\":\"Patient\"}\r\nzz\r\n"
      "GET /metadata HTTP/1.1\r\nHost: x\r\n\r\n";
  raw = exchange(server.port(), badLater);
  EXPECT_EQ(countResponses(raw), 1) << "what follows a chunked body is never read as a request";
}

TEST(Transport, BodyOnGetIsNotParsedAsTheNextRequest) {
  TestServer server;
  std::string smuggle =
      "GET /metadata HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\nGET /Patient HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string raw = exchange(server.port(), smuggle);
  EXPECT_EQ(raw.substr(9, 3), "200");
  EXPECT_EQ(countResponses(raw), 1) << "the connection closes after a request with an unread body";
}

TEST(Transport, HostHeaderRules) {
  TestServer server;
  EXPECT_EQ(exchange(server.port(), "GET /metadata HTTP/1.1\r\n\r\n").substr(9, 3), "400");
  EXPECT_EQ(exchange(server.port(), "GET /metadata HTTP/1.0\r\n\r\n").substr(9, 3), "200");
  std::string evil = exchange(server.port(), "GET /Patient HTTP/1.1\r\nHost: a\"b<c>\r\n\r\n");
  EXPECT_EQ(evil.substr(9, 3), "400");
}

TEST(Transport, ReasonPhrasesMatchTheStatus) {
  TestServer server;
  std::string raw = exchange(
      server.port(),
      "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
      "Content-Length: 26\r\nConnection: close\r\n\r\n{\"resourceType\":\"Patient\"}");
  EXPECT_EQ(raw.substr(0, 21), "HTTP/1.1 201 Created\r");
  raw = exchange(server.port(), "GET /Patient/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw.substr(0, 23), "HTTP/1.1 404 Not Found\r");
}

TEST(Transport, ASecondInstanceCannotTakeThePort) {
  TestServer first;
  app::Options o;
  o.httpHost = "127.0.0.1";
  o.httpPort = first.port();
  o.storeUrl = "sqlite:" + Poco::TemporaryFile::tempName() + ".db";
  o.conformanceDir = std::string(ACP_SOURCE_DIR) + "/conformance/r4";
  app::Gateway second(o);
  Status s = second.start();
  EXPECT_FALSE(s.isOk());
}

TEST(Transport, HeadAnswersWithoutBodyWhereverGetDoes) {
  TestServer server;
  ASSERT_EQ(server.put("/Patient/h1", R"({"resourceType":"Patient","id":"h1"})").status, 201);
  for (const char* path : {"/Patient/h1", "/Patient/h1/_history", "/Patient/h1/_history/1",
                           "/Patient/_history", "/_history", "/Patient", "/metadata"}) {
    HttpResult r = server.request("HEAD", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_TRUE(r.body.empty()) << path;
  }
}

TEST(Transport, FormatWithUnencodedPlus) {
  TestServer server;
  HttpResult r = server.get("/metadata?_format=application/fhir+xml");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/fhir+xml;charset=utf-8");
}

TEST(Transport, LogRoutesCarryNoValuesFromTheRequest) {
  auto served = [](const std::string& t) { return t == "Patient"; };
  EXPECT_EQ(http::routeTemplate("/Patient/123/_history/2", served), "/Patient/{id}/_history/{vid}");
  EXPECT_EQ(http::routeTemplate("/9434765919", served), "/{unknown}");
  EXPECT_EQ(http::routeTemplate("/Smith\n2026 forged line", served), "/{unknown}");
  EXPECT_EQ(http::routeTemplate("/Patient/_9434765919", served), "/Patient/{id}");
  EXPECT_EQ(http::routeTemplate("/metadata", served), "/metadata");
}

TEST(Transport, LogRoutesKeepTheNamesOfTheFixedRoutes) {
  auto served = [](const std::string& t) { return t == "Patient"; };
  auto route = [&](const std::string& path) { return http::routeTemplate(path, served); };
  EXPECT_EQ(route("/token"), "/token");
  EXPECT_EQ(route("/view/patient"), "/view/patient");
  EXPECT_EQ(route("/view/patient/9434765919"), "/view/patient/{id}");
  EXPECT_EQ(route("/view/assets/view.css"), "/view/assets/{id}");
  EXPECT_EQ(route("/view/9434765919"), "/view/{id}");
  EXPECT_EQ(route("/.well-known/smart-configuration"), "/.well-known/smart-configuration");
  EXPECT_EQ(route("/.well-known/9434765919"), "/.well-known/{id}");
  EXPECT_EQ(route("/$ingest/hospice"), "/$ingest/{partner}");
  EXPECT_EQ(route("/$ingest/Smith"), "/$ingest/{partner}");
  EXPECT_EQ(route("/$ingest/failures"), "/$ingest/failures");
  EXPECT_EQ(route("/$ingest/failures/17/$replay"), "/$ingest/failures/{id}/$replay");
  EXPECT_EQ(route("/$candidate-links"), "/$candidate-links");
  EXPECT_EQ(route("/$candidate-links/3/$confirm"), "/$candidate-links/{id}/$confirm");
  EXPECT_EQ(route("/$candidate-links/3/$reject"), "/$candidate-links/{id}/$reject");
  EXPECT_EQ(route("/AuditEvent"), "/AuditEvent");
  EXPECT_EQ(route("/AuditEvent/$verify-chain"), "/AuditEvent/$verify-chain");
  EXPECT_EQ(route("/AuditEvent/42"), "/AuditEvent/{id}");
  EXPECT_EQ(route("/Patient/$acp-summary"), "/Patient/$acp-summary");
  EXPECT_EQ(route("/Patient/p1/$acp-summary"), "/Patient/{id}/$acp-summary");
  EXPECT_EQ(route("/_history"), "/_history");
  EXPECT_EQ(route("/Patient/_search"), "/Patient/_search");
  // Only the exact names: anything near them is still a placeholder.
  EXPECT_EQ(route("/tokens"), "/{unknown}");
  EXPECT_EQ(route("/$acp-summary9434765919"), "/{unknown}");
  EXPECT_EQ(route("/Patient/$acp-summary9434765919"), "/Patient/{id}");
  EXPECT_EQ(route("/token/9434765919"), "/token/{id}");
}

TEST(Transport, LoopbackMeansLoopback) {
  EXPECT_TRUE(app::isLoopback("127.0.0.1"));
  EXPECT_TRUE(app::isLoopback("127.1.2.3"));
  EXPECT_TRUE(app::isLoopback("::1"));
  EXPECT_TRUE(app::isLoopback("[::1]"));
  EXPECT_TRUE(app::isLoopback("localhost"));
  EXPECT_FALSE(app::isLoopback("127.attacker.invalid"));
  EXPECT_FALSE(app::isLoopback("0.0.0.0"));
  EXPECT_FALSE(app::isLoopback("10.0.0.1"));
}

}  // namespace
}  // namespace acp::testing

namespace acp::testing {
namespace {

TEST(Transport, ADrippedBodyIsCutAtTheDeadline) {
  app::Options o;
  o.timeoutSeconds = 1;
  TestServer server(o);
  Poco::Net::StreamSocket s(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(server.port())));
  std::string head =
      "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
      "Content-Length: 200\r\n\r\n{";
  s.sendBytes(head.data(), static_cast<int>(head.size()));
  // One byte every 100 ms never trips the per-receive timeout, only the total deadline.
  std::string answer;
  s.setReceiveTimeout(Poco::Timespan(0, 100000));
  for (int i = 0; i < 60 && answer.empty(); ++i) {
    try {
      s.sendBytes(" ", 1);
    } catch (...) {
      break;  // the server closed the connection
    }
    char buf[1024];
    try {
      int n = s.receiveBytes(buf, sizeof buf);
      if (n > 0) answer.append(buf, static_cast<size_t>(n));
      if (n == 0) break;
    } catch (const Poco::TimeoutException&) {
    } catch (...) {
      break;
    }
  }
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 408") << answer.substr(0, 100);
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "0");
}

}  // namespace
}  // namespace acp::testing
