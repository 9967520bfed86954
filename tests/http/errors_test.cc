// The bad-input table (../shared/reference/security.md) for the REST server: every row that
// applies to the FHIR server core has a test here.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string patientJson() { return readRepoFile("tests/fixtures/patient-amelia.json"); }

// Sends raw bytes and returns what the server answered (until it closes or 5 s pass).
std::string rawExchange(int port, const std::string& bytes) {
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  s.setReceiveTimeout(Poco::Timespan(5, 0));
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

TEST(BadInput, XmlDoctypeAndEntitiesAre400Structure) {
  TestServer server;
  std::string xxe =
      "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"&x;\"/></Patient>";
  HttpResult r = server.post("/Patient", xxe, {{"Content-Type", "application/fhir+xml"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.issueCode(), "structure");
  EXPECT_EQ(r.body.find("root:"), std::string::npos);
  std::string laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
      "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><Patient xmlns=\"http://hl7.org/fhir\">"
      "<gender value=\"&b;\"/></Patient>";
  EXPECT_EQ(server.post("/Patient", laughs, {{"Content-Type", "application/fhir+xml"}}).status,
            400);
}

TEST(BadInput, JsonDepthBodyCapDuplicateKeysEncodingTrailingGarbage) {
  app::Options o;
  o.maxBodyBytes = 64 * 1024;
  TestServer server(o);
  std::string deep = "{\"resourceType\":\"Patient\",\"extension\":" + std::string(70, '[') +
                     std::string(70, ']') + "}";
  HttpResult r = server.post("/Patient", deep);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.issueCode(), "too-long");
  HttpResult big = server.post("/Patient", std::string(70 * 1024, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.issueCode(), "too-long");
  r = server.post("/Patient", "{\"resourceType\":\"Patient\",\"gender\":\"male\",\"gender\":\"female\"}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.issueCode(), "structure");
  r = server.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xff\"}]}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.issueCode(), "structure");
  r = server.post("/Patient", "{\"resourceType\":\"Patient\"} {}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.issueCode(), "structure");
}

TEST(BadInput, LongNumbersAndMalformedDatesAre400Value) {
  TestServer server;
  HttpResult r = server.post(
      "/Patient", "{\"resourceType\":\"Patient\",\"multipleBirthInteger\":" + std::string(80, '1') + "}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.issueCode(), "value");
  r = server.post("/Patient", "{\"resourceType\":\"Patient\",\"birthDate\":\"2016-02-31\"}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.issueCode(), "value");
  ASSERT_NE(r.json.find("issue")->items()[0].find("expression"), nullptr);
  EXPECT_EQ(r.json.find("issue")->items()[0].find("expression")->items()[0].text(),
            "Patient.birthDate");
}

TEST(BadInput, LengthRequiredAndAmbiguousFraming) {
  TestServer server;
  std::string noLength =
      "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n\r\n{}";
  EXPECT_EQ(statusOf(rawExchange(server.port(), noLength)), 411);
  std::string both =
      "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
      "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
  EXPECT_EQ(statusOf(rawExchange(server.port(), both)), 400);
}

TEST(BadInput, OversizeAndTooManyHeadersAre400AndClose) {
  TestServer server;
  std::string big = "GET /metadata HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') +
                    "\r\n\r\n";
  EXPECT_EQ(statusOf(rawExchange(server.port(), big)), 400);
  std::string many = "GET /metadata HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 150; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  EXPECT_EQ(statusOf(rawExchange(server.port(), many)), 400);
}

TEST(BadInput, UnsupportedContentTypeAndFormat) {
  TestServer server;
  HttpResult r = server.post("/Patient", patientJson(), {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.issueCode(), "not-supported");
  r = server.post("/Patient", patientJson(),
                  {{"Content-Type", "application/fhir+json; charset=iso-8859-1"}});
  EXPECT_EQ(r.status, 415);
  r = server.get("/metadata?_format=text/csv");
  EXPECT_EQ(r.status, 406);
  EXPECT_EQ(r.issueCode(), "not-supported");
  r = server.get("/metadata", {{"Accept", "text/html"}});
  EXPECT_EQ(r.status, 406);
}

TEST(BadInput, BadIdsRoutesMethodsAndTypes) {
  TestServer server;
  HttpResult r = server.get("/Patient/" + std::string(65, 'a'));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.issueCode(), "value");
  EXPECT_EQ(server.get("/Patient/a_b").status, 400);
  EXPECT_EQ(server.get("/Patient/does-not-exist").status, 404);
  EXPECT_EQ(server.get("/NotAType/1").status, 404);
  HttpResult unserved = server.get("/Observation/1");
  EXPECT_EQ(unserved.status, 404);
  EXPECT_EQ(unserved.issueCode(), "not-supported");
  HttpResult method = server.request("PATCH", "/Patient/1", "{}");
  EXPECT_EQ(method.status, 405);
  EXPECT_FALSE(method.header("allow").empty());
  EXPECT_EQ(server.get("/").status, 405);
  HttpResult putType = server.put("/Patient", R"({"resourceType":"Patient"})");
  EXPECT_EQ(putType.status, 405);
  EXPECT_FALSE(putType.header("allow").empty());
  EXPECT_EQ(server.del("/Patient").status, 405);
  EXPECT_EQ(server.get("/Patient/1/_history/1/extra").status, 404);
}

TEST(BadInput, WrongResourceTypeAndNotAResource) {
  TestServer server;
  HttpResult r = server.post("/Patient", "{\"resourceType\":\"CarePlan\",\"status\":\"active\","
                                         "\"intent\":\"plan\",\"subject\":{\"reference\":\"Patient/1\"}}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.errorCode(), "validate.type-mismatch");
  EXPECT_EQ(server.post("/Patient", "[1,2]").status, 400);
  EXPECT_EQ(server.post("/Patient", "").status, 400);
}

TEST(BadInput, ValidationFailuresCarryLocations) {
  TestServer server;
  HttpResult r = server.post("/Patient", "{\"resourceType\":\"Patient\",\"gender\":\"f\"}");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.issueCode(), "code-invalid");
  r = server.post("/Patient", "{\"resourceType\":\"Patient\",\"colour\":\"blue\"}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json.find("issue")->items()[0].find("expression")->items()[0].text(),
            "Patient.colour");
  r = server.post("/CarePlan", "{\"resourceType\":\"CarePlan\",\"intent\":\"plan\","
                               "\"subject\":{\"reference\":\"Patient/1\"}}");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.issueCode(), "required");
}

TEST(BadInput, UnknownSearchParameterLenientAndStrict) {
  TestServer server;
  HttpResult lenient = server.get("/Patient?colour=blue");
  ASSERT_EQ(lenient.status, 200);
  bool outcome = false;
  for (const auto& e : lenient.json.find("entry")->items())
    outcome |= e.find("search")->getString("mode") == "outcome";
  EXPECT_TRUE(outcome) << "the ignored parameter is reported";
  HttpResult strict = server.get("/Patient?colour=blue", {{"Prefer", "handling=strict"}});
  EXPECT_EQ(strict.status, 400);
  EXPECT_EQ(strict.issueCode(), "not-supported");
}

TEST(BadInput, SqlMetacharactersAreLiteral) {
  TestServer server;
  ASSERT_EQ(server.post("/Patient", patientJson()).status, 201);
  for (const char* q : {"/Patient?family=%27%20OR%201%3D1%20--", "/Patient?family:exact=%25",
                        "/Patient?family:exact=_", "/Patient?family:exact=O%27kafor",
                        "/Patient?identifier=x%27%3B%20DROP%20TABLE%20resources%3B--",
                        "/Patient?name:contains=k%25r", "/Patient?name:contains=o_a"}) {
    HttpResult r = server.get(q);
    ASSERT_EQ(r.status, 200) << q << " " << r.body;
    EXPECT_EQ(r.json.find("entry") ? r.json.find("entry")->items().size() : 0u, 0u) << q;
  }
  EXPECT_EQ(server.get("/Patient?family=Okafor").json.find("entry")->items().size(), 1u);
  // A value with nothing searchable left after normalisation would match everything: refused.
  HttpResult onlyPunctuation = server.get("/Patient?family=%25");
  EXPECT_EQ(onlyPunctuation.status, 400);
  EXPECT_EQ(onlyPunctuation.errorCode(), "search.invalid-string");
}

TEST(BadInput, NoStackTraceOrInternalDetailOnGarbage) {
  TestServer server;
  for (const std::string& body : {std::string("\x00\x01\x02", 3), std::string("{\"resourceType\":1}"),
                                 std::string("{\"resourceType\":\"Patient\",\"name\":{}}"),
                                 std::string("<Patient>"), std::string("nul")}) {
    HttpResult r = server.post("/Patient", body);
    EXPECT_GE(r.status, 400);
    EXPECT_LT(r.status, 500) << body;
    EXPECT_EQ(r.json.getString("resourceType"), "OperationOutcome");
  }
}

}  // namespace
}  // namespace acp::testing

namespace acp::testing {
namespace {

TEST(BadInput, UnfinishedHeadersAreCutAfterTheTimeout) {
  app::Options o;
  o.timeoutSeconds = 1;
  TestServer server(o);
  Poco::Net::StreamSocket s(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(server.port())));
  std::string partial = "GET /metadata HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  s.sendBytes(partial.data(), static_cast<int>(partial.size()));
  // The server must close the connection by itself; the client's own limit is far larger.
  s.setReceiveTimeout(Poco::Timespan(20, 0));
  char buf[256];
  int n = -1;
  bool closed = false;
  try {
    while ((n = s.receiveBytes(buf, sizeof buf)) > 0) {
    }
    closed = (n == 0);
  } catch (const Poco::TimeoutException&) {
    closed = false;
  } catch (const Poco::Exception&) {
    closed = true;  // reset by the server
  }
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace acp::testing
