// Logs for the people who run the service: request ids followed from the response to the log
// and the audit trail, JSON lines with the access log's fields (gateway.log.format=json), and
// no NHS number, name or query string in any line.
#include <Poco/File.h>
#include <Poco/Message.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "gateway/app/json_log_formatter.h"
#include "gateway/core/json.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

TEST(Logs, EveryResponseCarriesARequestId) {
  TestServer server;
  HttpResult given = server.get("/metadata", {{"X-Request-Id", "3f2b8c1e-0d4a-4b6f-9e21-7c5a3b9d0e12"}});
  EXPECT_EQ(given.header("x-request-id"), "3f2b8c1e-0d4a-4b6f-9e21-7c5a3b9d0e12") << "a client's UUID is kept";
  HttpResult token = server.get("/metadata", {{"X-Request-Id", "9992530820"}});
  EXPECT_NE(token.header("x-request-id"), "9992530820") << "not a plain token: it could be an NHS number";
  HttpResult none = server.get("/metadata");
  EXPECT_EQ(none.header("x-request-id").size(), 36u) << "else a new one (a UUID)";
  HttpResult bad = server.get("/metadata", {{"X-Request-Id", "9992530820 Amelia Hartley"}});
  EXPECT_NE(bad.header("x-request-id"), "9992530820 Amelia Hartley") << "only a plain token is kept";
  EXPECT_EQ(bad.header("x-request-id").size(), 36u);
  EXPECT_EQ(server.get("/Patient/none").header("x-request-id").size(), 36u) << "errors too";
}

TEST(Logs, AJsonLineHasTheAccessLogsFieldsAndEscapesTheMessage) {
  app::JsonLogFormatter f;
  Poco::Message m("acp.http", "GET /Patient/{id} 200 1.5ms \"quoted\"\nline", Poco::Message::PRIO_INFORMATION);
  m.set("method", "GET");
  m.set("route", "/Patient/{id}");
  m.set("status", "200");
  m.set("ms", "1.5");
  m.set("requestId", "abc");
  std::string text;
  f.format(m, text);
  EXPECT_EQ(text.find('\n'), std::string::npos) << "one line";
  json::Value v;
  json::ParseError err;
  ASSERT_TRUE(json::parse(text, v, err)) << text;
  EXPECT_EQ(v.getString("level"), "information");
  EXPECT_EQ(v.getString("logger"), "acp.http");
  EXPECT_EQ(v.getString("message"), "GET /Patient/{id} 200 1.5ms \"quoted\"\nline");
  EXPECT_EQ(v.getString("route"), "/Patient/{id}");
  EXPECT_EQ(v.getString("requestId"), "abc");
  EXPECT_EQ(json::write(*v.find("status")), "200");
  EXPECT_EQ(json::write(*v.find("ms")), "1.5");
  EXPECT_EQ(v.getString("time").size(), 24u);
  // Bytes that are not UTF-8 (a path, a library's error) still make valid JSON.
  Poco::Message broken("acp.app", "cannot read /tmp/caf\xE9.pem", Poco::Message::PRIO_ERROR);
  f.format(broken, text);
  ASSERT_TRUE(json::parse(text, v, err)) << text;
  EXPECT_EQ(v.getString("message"), "cannot read /tmp/caf\xEF\xBF\xBD.pem");
}

// The binary with gateway.log.format=json: every stderr line is a JSON object; the access log
// names routes, never the NHS number, the name or the query it was asked with.
TEST(Logs, TheGatewaysJsonLogHoldsNoPatientIdentifiers) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  Poco::Pipe outPipe, errPipe;
  Poco::ProcessHandle h = Poco::Process::launch(
      ACP_BINARY,
      {"-Dgateway.http.port=0", "-Dgateway.mllp.port=0", "-Dgateway.store.url=sqlite:" + db,
       "-Dgateway.auth.mode=none", "-Dgateway.http.tls=false", "-Dgateway.mllp.tls=false",
       "-Dgateway.log.format=json"},
      nullptr, &outPipe, &errPipe);
  Poco::PipeInputStream out(outPipe);
  std::string ready;
  std::getline(out, ready);
  ASSERT_EQ(ready.rfind("ready http=127.0.0.1:", 0), 0u) << ready;
  int port = std::stoi(ready.substr(ready.find(':') + 1));
  auto send = [&](const std::string& method, const std::string& path, const std::string& body) {
    Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::HTTPRequest rq(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    rq.set("X-Request-Id", "00000000-0000-4000-8000-000000000007");
    if (!body.empty()) {
      rq.setContentType("application/json");
      rq.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    s.sendRequest(rq) << body;
    Poco::Net::HTTPResponse resp;
    std::string answer;
    Poco::StreamCopier::copyToString(s.receiveResponse(resp), answer);
    return resp.getStatus();
  };
  std::ifstream sample(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream doc;
  doc << sample.rdbuf();
  EXPECT_EQ(send("POST", "/$ingest/hospice", doc.str()), 200);
  EXPECT_EQ(send("GET", "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820&family=Hartley", ""), 200);
  EXPECT_EQ(send("GET", "/view/patient?nhs=9992530820", ""), 200);
  EXPECT_EQ(send("GET", "/Patient/$acp-summary?identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820", ""), 200);
  ::kill(h.id(), SIGTERM);
  EXPECT_EQ(h.wait(), 0);
  Poco::PipeInputStream err(errPipe);
  std::string line;
  int lines = 0, access = 0;
  while (std::getline(err, line)) {
    ++lines;
    json::Value v;
    json::ParseError e;
    ASSERT_TRUE(json::parse(line, v, e)) << "not JSON: " << line;
    EXPECT_EQ(line.find("9992530820"), std::string::npos) << line;
    EXPECT_EQ(line.find("Hartley"), std::string::npos) << line;
    EXPECT_EQ(line.find("Amelia"), std::string::npos) << line;
    EXPECT_EQ(line.find("identifier="), std::string::npos) << line;
    if (v.getString("logger") == "acp.http" && v.find("route")) {
      ++access;
      EXPECT_EQ(v.getString("requestId"), "00000000-0000-4000-8000-000000000007") << line;
    }
  }
  EXPECT_GE(lines, 5);
  EXPECT_EQ(access, 4) << "one access line per request";
  Poco::File(db).remove();
}

}  // namespace
}  // namespace acp::testing
