// Every request leaves an AuditEvent (the security issue's audit), through the real server:
// reads, searches, operations and failures committed before the answer, REST writes in their
// own transaction; /AuditEvent serves the trail (append-only) and $verify-chain checks it.
// Here with gateway.auth.mode=none (the local superuser); who may search the trail with tokens
// is tested in tests/security.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <sstream>

#include "gateway/ingest/person_index.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::vector<json::Value> events(TestServer& server, const std::string& query) {
  HttpResult r = server.get("/AuditEvent" + query);
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<json::Value> out;
  if (const json::Value* e = r.json.find("entry"))
    for (const json::Value& x : e->items()) out.push_back(*x.find("resource"));
  return out;
}

// The interaction, or for an operation its name ("$acp-summary": the second coding).
std::string subtypeOf(const json::Value& event) {
  std::string code;
  for (const json::Value& c : event.find("subtype")->items())
    if (!c.getString("code").empty()) code = c.getString("code");
  return code;
}

std::string sample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AuditTrailHttp, ReadsSearchesWritesOperationsAndFailuresAreEachAudited) {
  TestServer server;
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", sample(), {{"Content-Type", "application/json"}})
                .status,
            200);
  const std::string child = ingest::personIdForNhsNumber("9992530820");
  ASSERT_EQ(server.get("/Patient/" + child).status, 200);
  ASSERT_EQ(server.get("/CarePlan?subject=Patient/" + child).status, 200);
  ASSERT_EQ(server.get("/Patient/" + child + "/$acp-summary").status, 200);
  ASSERT_EQ(server.get("/Patient/no-such-child").status, 404);
  HttpResult created = server.request(
      "POST", "/Organization", R"({"resourceType":"Organization","name":"Castle Street Surgery"})",
      {{"Content-Type", "application/fhir+json"}});
  ASSERT_EQ(created.status, 201);

  auto all = events(server, "?_count=100");
  std::vector<std::string> subtypes;
  for (const json::Value& e : all) subtypes.push_back(subtypeOf(e));
  for (const char* s : {"read", "search-type", "$acp-summary", "create", "$ingest"})
    EXPECT_NE(std::find(subtypes.begin(), subtypes.end(), s), subtypes.end()) << s;
  // The child's events name the child.
  auto aboutChild = events(server, "?patient=Patient/" + child);
  std::vector<std::string> childSubtypes;
  for (const json::Value& e : aboutChild) childSubtypes.push_back(subtypeOf(e));
  for (const char* s : {"read", "search-type", "$acp-summary"})
    EXPECT_NE(std::find(childSubtypes.begin(), childSubtypes.end(), s), childSubtypes.end()) << s;
  // The failed read is there with a failure outcome.
  auto failures = events(server, "?outcome=8");
  ASSERT_FALSE(failures.empty());
  EXPECT_EQ(subtypeOf(failures[0]), "read");
  // The write names what it wrote, versioned.
  bool named = false;
  for (const json::Value& e : all)
    if (subtypeOf(e) == "create")
      named = named || json::write(e).find("Organization/" + created.json.getString("id") +
                                           "/_history/1") != std::string::npos;
  EXPECT_TRUE(named);
}

TEST(AuditTrailHttp, TheTrailIsAppendOnlyAndItsChainVerifies) {
  TestServer server;
  ASSERT_EQ(server.get("/metadata").status, 200);
  ASSERT_EQ(server.get("/Patient?family=Hartley").status, 200);
  HttpResult post = server.request("POST", "/AuditEvent", R"({"resourceType":"AuditEvent"})",
                                   {{"Content-Type", "application/fhir+json"}});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.errorCode(), "audit.append-only");
  EXPECT_EQ(server.request("DELETE", "/AuditEvent/1", "", {}).status, 405);
  HttpResult verify = server.get("/AuditEvent/$verify-chain");
  ASSERT_EQ(verify.status, 200) << verify.body;
  bool intact = false;
  for (const json::Value& p : verify.json.find("parameter")->items())
    if (p.getString("name") == "result") intact = p.find("valueBoolean")->boolean();
  EXPECT_TRUE(intact);
  // One event can be read by id.
  auto all = events(server, "");
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(server.get("/AuditEvent/" + all[0].getString("id")).status, 200);
  // Unknown search parameters are refused, not ignored.
  EXPECT_EQ(server.get("/AuditEvent?nonsense=1").status, 400);
}

// Reads from `s` until `count` complete responses (by Content-Length) arrived or it closes.
std::string readResponses(Poco::Net::StreamSocket& s, int count) {
  std::string out;
  char buf[8192];
  auto complete = [&]() {
    size_t at = 0;
    for (int seen = 0; seen < count; ++seen) {
      size_t head = out.find("\r\n\r\n", at);
      if (head == std::string::npos) return false;
      size_t cl = out.find("Content-Length: ", at);
      size_t len = cl != std::string::npos && cl < head ? std::stoul(out.substr(cl + 16)) : 0;
      if (out.size() < head + 4 + len) return false;
      at = head + 4 + len;
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

size_t countOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A read's answer waits for its AuditEvent (the server parks it while the trail's group
// commit runs): when the event cannot be recorded the client gets 503 audit.unavailable and
// never the data; once it can, parked answers come back in order on the same connection,
// pipelined requests included.
TEST(AuditTrailHttp, AReadIsAnsweredOnlyWithItsEventRecordedElse503) {
  TestServer server;
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", sample(), {{"Content-Type", "application/json"}})
                .status,
            200);
  const std::string child = ingest::personIdForNhsNumber("9992530820");
  Poco::Net::StreamSocket socket(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(server.port())));
  socket.setReceiveTimeout(Poco::Timespan(30, 0));
  auto send = [&socket](const std::string& bytes) {
    socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  };
  const std::string read = "GET /Patient/" + child + " HTTP/1.1\r\nHost: gw\r\n\r\n";
  const std::string summary =
      "GET /Patient/" + child + "/$acp-summary HTTP/1.1\r\nHost: gw\r\n\r\n";

  // Another writer holds the database: the audit commit fails after the busy timeout.
  auto other = server.side();
  other->holdWriteLock();
  send(read);
  std::string refused = readResponses(socket, 1);
  other->releaseWriteLock();
  other.reset();
  EXPECT_EQ(refused.rfind("HTTP/1.1 503 ", 0), 0u) << refused.substr(0, 300);
  EXPECT_NE(refused.find("audit.unavailable"), std::string::npos);
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos);
  EXPECT_EQ(refused.find("\"resourceType\":\"Patient\""), std::string::npos)
      << "the data of an unaudited read never leaves";

  // The same connection goes on; two pipelined requests come back in order.
  send(read + summary);
  std::string answers = readResponses(socket, 2);
  EXPECT_EQ(countOf(answers, "HTTP/1.1 200 "), 2u) << answers.substr(0, 300);
  size_t patient = answers.find("\"resourceType\":\"Patient\"");
  size_t parameters = answers.find("\"resourceType\":\"Parameters\"");
  ASSERT_NE(patient, std::string::npos);
  ASSERT_NE(parameters, std::string::npos);
  EXPECT_LT(patient, parameters);

  // Both answered reads are in the trail; the refused one could not be written.
  auto aboutChild = events(server, "?patient=Patient/" + child);
  size_t reads = 0, summaries = 0;
  for (const json::Value& e : aboutChild) {
    EXPECT_EQ(e.getString("outcome"), "0");
    reads += subtypeOf(e) == "read";
    summaries += subtypeOf(e) == "$acp-summary";
  }
  EXPECT_EQ(reads, 1u);
  EXPECT_EQ(summaries, 1u);
}

}  // namespace
}  // namespace acp::testing
