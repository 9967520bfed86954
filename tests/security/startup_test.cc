// The acp-gateway binary in gateway.auth.mode=smart (the default): it refuses to start without
// a base URL or with a bad client registry (exit 78, EX_CONFIG, naming the key), and once
// started serves tokens and refuses requests without one. (Without gateway.auth.clients at
// all: tests/http/process_test.cc.)
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <signal.h>

#include <chrono>
#include <future>

#include "tests/support/process_run.h"
#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {


class SmartStartup : public ::testing::Test {
 protected:
  std::vector<std::string> args(const std::string& registry, const std::string& baseUrl) {
    std::vector<std::string> a = {"-Dgateway.http.port=0",
                                  "-Dgateway.mllp.port=0",
                                  "-Dgateway.http.tls=false",
                                  "-Dgateway.mllp.tls=false",
                                  "-Dgateway.flags.intervalSeconds=0",
                                  "-Dgateway.log.requests=false",
                                  "-Dgateway.store.url=sqlite:" + dir_.file("g.db")};
    if (!registry.empty()) a.push_back("-Dgateway.auth.clients=" + registry);
    if (!baseUrl.empty()) a.push_back("-Dgateway.http.baseUrl=" + baseUrl);
    return a;
  }
  auth::testing::TempDir dir_;
};

TEST_F(SmartStartup, RefusesToStartWithoutABaseUrl) {
  auth::testing::writeFile(dir_.file("clients.json"), registryText());
  ProcessRun r = runToExit(args(dir_.file("clients.json"), ""));
  EXPECT_EQ(r.exitCode, 78) << r.err;
  EXPECT_NE(r.err.find("gateway.http.baseUrl"), std::string::npos) << r.err;
}

TEST_F(SmartStartup, RefusesToStartWithABadRegistry) {
  std::string bad = registryText();
  replaceOnce(bad, "\"role\":\"gp-practice\"", "\"role\":\"gp\"");
  auth::testing::writeFile(dir_.file("bad.json"), bad);
  ProcessRun wrongRole = runToExit(args(dir_.file("bad.json"), kBase));
  EXPECT_EQ(wrongRole.exitCode, 78) << wrongRole.err;
  EXPECT_NE(wrongRole.err.find("gateway.auth"), std::string::npos) << wrongRole.err;
  EXPECT_NE(wrongRole.err.find("gp1"), std::string::npos) << "names the client: " << wrongRole.err;

  ProcessRun missing = runToExit(args(dir_.file("no-such-file.json"), kBase));
  EXPECT_EQ(missing.exitCode, 78) << missing.err;
  EXPECT_NE(missing.err.find("no-such-file.json"), std::string::npos) << missing.err;

  // A private key where a public one belongs is refused, not used.
  std::string leaked = registryText();
  std::string pem = auth::privateKeyPem(auth::testing::ecKey());
  std::string escaped;
  for (char c : pem) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  size_t jwks = leaked.find("\"jwks\":", leaked.find("\"clientId\":\"urgent\""));
  size_t end = leaked.find("]}", jwks) + 2;
  leaked.replace(jwks, end - jwks, "\"publicKeyPem\":\"" + escaped + "\"");
  auth::testing::writeFile(dir_.file("leaked.json"), leaked);
  ProcessRun privateKey = runToExit(args(dir_.file("leaked.json"), kBase));
  EXPECT_EQ(privateKey.exitCode, 78) << privateKey.err;
}

TEST_F(SmartStartup, ServesTokensAndRefusesRequestsWithoutOne) {
  auth::testing::writeFile(dir_.file("clients.json"), registryText());
  Poco::Pipe outPipe;
  Poco::ProcessHandle h =
      Poco::Process::launch(ACP_BINARY, args(dir_.file("clients.json"), kBase), nullptr,
                            &outPipe, nullptr);
  Poco::PipeInputStream out(outPipe);
  std::string line;
  std::getline(out, line);
  ASSERT_EQ(line.rfind("ready http=127.0.0.1:", 0), 0u) << line;
  const int port = std::stoi(line.substr(line.find(':') + 1));
  auto send = [port](const std::string& method, const std::string& path, const std::string& body,
                     const std::string& contentType, const std::string& authorization,
                     std::string& answer) {
    Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::HTTPRequest rq(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!authorization.empty()) rq.set("Authorization", authorization);
    if (!body.empty()) {
      rq.setContentType(contentType);
      rq.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    s.sendRequest(rq) << body;
    Poco::Net::HTTPResponse resp;
    answer.clear();
    Poco::StreamCopier::copyToString(s.receiveResponse(resp), answer);
    return std::make_pair(static_cast<int>(resp.getStatus()), resp.get("WWW-Authenticate", ""));
  };
  std::string answer;
  EXPECT_EQ(send("GET", "/metadata", "", "", "", answer).first, 200);
  // The health checks answer probes without credentials (and carry no patient data).
  EXPECT_EQ(send("GET", "/healthz", "", "", "", answer).first, 200);
  EXPECT_EQ(send("GET", "/readyz", "", "", "", answer).first, 200) << answer;
  auto refused = send("GET", "/CarePlan", "", "", "", answer);
  EXPECT_EQ(refused.first, 401);
  EXPECT_EQ(refused.second, "Bearer realm=\"acp-gateway\"");
  Form f = {{"grant_type", "client_credentials"},
            {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
            {"client_assertion",
             auth::testing::sign(auth::testing::claimsFor("gp1", "jti-" + newUuid(), nowMillis()),
                                 clientKey("gp1"), "k1")},
            {"scope", "system/CarePlan.rs"}};
  auto issued = send("POST", "/token", formEncode(f), "application/x-www-form-urlencoded", "",
                     answer);
  ASSERT_EQ(issued.first, 200) << answer;
  json::Value token = auth::testing::parseJson(answer);
  EXPECT_EQ(send("GET", "/CarePlan", "", "", "Bearer " + token.getString("access_token"), answer)
                .first,
            200)
      << answer;
  ::kill(h.id(), SIGTERM);
  EXPECT_EQ(h.wait(), 0);
}

}  // namespace
}  // namespace acp::testing::security
