// The audit of requests the HTTP listener refuses itself (http/refusal_audit.h), through the
// real server: a too-large, a malformed, a badly addressed and a too-slow request each leave
// an event with the client's address and, when the head was read, the method and route
// template — never the query string — and a flood from one address is summarised.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "gateway/audit/audit_event.h"
#include "gateway/http/refusal_audit.h"
#include "tests/support/audit_reading.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

// Sends raw bytes and returns what the server answered, until it closes the connection.
std::string rawExchange(int port, const std::string& bytes) {
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  s.setReceiveTimeout(Poco::Timespan(20, 0));
  s.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  std::string out;
  char buf[4096];
  try {
    int n;
    while ((n = s.receiveBytes(buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  } catch (...) {
  }
  return out;
}

int statusOf(const std::string& raw) {
  return raw.size() > 12 ? std::atoi(raw.substr(9, 3).c_str()) : 0;
}

// The query entity's request (base64), "" when none.
std::string queryOf(const json::Value& event) {
  if (const json::Value* es = event.find("entity"))
    for (const json::Value& e : es->items())
      if (const json::Value* r = e.find("role"); r && r->getString("code") == "24")
        return e.getString("query");
  return "";
}

const json::Value* withOutcomeDesc(const std::vector<json::Value>& events,
                                   const std::string& desc) {
  for (const json::Value& e : events)
    if (e.getString("outcomeDesc") == desc) return &e;
  return nullptr;
}

TEST(RefusalAudit, EachKindOfListenerRefusalLeavesAnEvent) {
  app::Options o;
  o.maxBodyBytes = 64 * 1024;
  o.timeoutSeconds = 1;
  TestServer server(o);
  // Too large: refused from its head (the query string names a child: it must not be kept).
  EXPECT_EQ(statusOf(rawExchange(server.port(),
                                 "POST /Patient?family=Hartley HTTP/1.1\r\nHost: x\r\n"
                                 "Content-Type: application/fhir+json\r\n"
                                 "Content-Length: 999999\r\n\r\n")),
            413);
  // Malformed.
  EXPECT_EQ(statusOf(rawExchange(server.port(), "NOT A REQUEST\r\n\r\n")), 400);
  // A bad Host.
  EXPECT_EQ(statusOf(rawExchange(server.port(), "GET /Patient/123 HTTP/1.1\r\nHost: a b\r\n\r\n")),
            400);
  // Too slow: the body never comes; the server answers 408 after its deadline.
  EXPECT_EQ(statusOf(rawExchange(server.port(),
                                 "POST /Patient HTTP/1.1\r\nHost: x\r\n"
                                 "Content-Type: application/fhir+json\r\n"
                                 "Content-Length: 200\r\n\r\n{")),
            408);
  ASSERT_TRUE(server.gateway().refusals()->flush().isOk());

  auto refused = auditEvents(server, "?subtype=refused");
  ASSERT_EQ(refused.size(), 4u);
  for (const json::Value& e : refused) {
    EXPECT_EQ(e.getString("outcome"), "8");
    EXPECT_EQ(auditAddress(e), "127.0.0.1");
    EXPECT_EQ(auditOrganisation(e), "") << "no identity was checked";
    EXPECT_TRUE(auditEntities(e, "1").empty());
    EXPECT_EQ(json::write(e).find("Hartley"), std::string::npos);
  }
  const json::Value* tooLarge = withOutcomeDesc(refused, "413 http.body-too-large");
  ASSERT_NE(tooLarge, nullptr);
  EXPECT_EQ(queryOf(*tooLarge), audit::base64Encode("POST /Patient")) << "no query string";
  EXPECT_NE(withOutcomeDesc(refused, "400 http.bad-request-line"), nullptr);
  const json::Value* badHost = withOutcomeDesc(refused, "400 http.bad-host");
  ASSERT_NE(badHost, nullptr);
  EXPECT_EQ(queryOf(*badHost), audit::base64Encode("GET /Patient/{id}")) << "ids are replaced";
  const json::Value* slow = withOutcomeDesc(refused, "408 http.body-timeout");
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(queryOf(*slow), audit::base64Encode("POST /Patient"));
  EXPECT_TRUE(auditChainIntact(server));
}

TEST(RefusalAudit, AFloodFromOneAddressIsSummarisedNotRecordedOneByOne) {
  app::Options o;
  o.auditRefusalsPerMinute = 2;
  TestServer server(o);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(statusOf(rawExchange(server.port(), "NOT A REQUEST\r\n\r\n")), 400);
  ASSERT_EQ(statusOf(rawExchange(server.port(), std::string("GET /") + std::string(70000, 'a') +
                                                    " HTTP/1.1\r\n\r\n")),
            414);
  // The window is closed now: its summary is written with the rest.
  ASSERT_TRUE(server.gateway().refusals()->flush().isOk());
  auto refused = auditEvents(server, "?subtype=refused");
  ASSERT_EQ(refused.size(), 3u) << "two one by one, then one summary";
  EXPECT_EQ(std::count_if(refused.begin(), refused.end(),
                          [](const json::Value& e) {
                            return e.getString("outcomeDesc") == "400 http.bad-request-line";
                          }),
            2);
  const json::Value* summary = nullptr;
  for (const json::Value& e : refused)
    if (e.getString("outcomeDesc").rfind("4 more refusals from this address", 0) == 0)
      summary = &e;
  ASSERT_NE(summary, nullptr) << json::write(refused[0]);
  const std::string desc = summary->getString("outcomeDesc");
  EXPECT_NE(desc.find("3 × 400 http.bad-request-line"), std::string::npos) << desc;
  EXPECT_NE(desc.find("1 × 414 http.uri-too-long"), std::string::npos) << desc;
  EXPECT_EQ(auditAddress(*summary), "127.0.0.1");
  EXPECT_EQ(summary->getString("outcome"), "8");

  // A new window: the address has its budget again.
  ASSERT_EQ(statusOf(rawExchange(server.port(), "NOT A REQUEST\r\n\r\n")), 400);
  ASSERT_TRUE(server.gateway().refusals()->flush().isOk());
  EXPECT_EQ(auditEvents(server, "?subtype=refused").size(), 4u);
  EXPECT_TRUE(auditChainIntact(server));
}

}  // namespace
}  // namespace acp::testing
