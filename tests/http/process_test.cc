// The acp-gateway binary as an operator runs it: ready line, configuration errors, SIGTERM.
#include <Poco/File.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "tests/support/process_run.h"

namespace {

using acp::testing::ProcessRun;
using acp::testing::runToExit;


std::string tempDb() {
  return Poco::TemporaryFile::tempName() + ".db";
}

TEST(Process, PrintsReadyLineServesAndStopsOnSigterm) {
  std::string db = tempDb();
  Poco::Pipe outPipe;
  Poco::ProcessHandle h = Poco::Process::launch(
      ACP_BINARY, {"-Dgateway.http.port=0", "-Dgateway.mllp.port=0", "-Dgateway.store.url=sqlite:" + db,
                   "-Dgateway.auth.mode=none", "-Dgateway.http.tls=false", "-Dgateway.mllp.tls=false"}, nullptr,
      &outPipe, nullptr);
  Poco::PipeInputStream out(outPipe);
  std::string line;
  std::getline(out, line);
  ASSERT_EQ(line.rfind("ready http=127.0.0.1:", 0), 0u) << line;
  int port = std::stoi(line.substr(line.find(':') + 1));
  EXPECT_NE(line.find(" mllp=127.0.0.1:"), std::string::npos) << line;
  ASSERT_GT(port, 0);
  Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(port));
  Poco::Net::HTTPRequest rq("GET", "/metadata");
  s.sendRequest(rq);
  Poco::Net::HTTPResponse resp;
  std::string body;
  Poco::StreamCopier::copyToString(s.receiveResponse(resp), body);
  EXPECT_EQ(resp.getStatus(), 200);
  EXPECT_NE(body.find("CapabilityStatement"), std::string::npos);
  ::kill(h.id(), SIGTERM);
  EXPECT_EQ(h.wait(), 0);
  EXPECT_TRUE(Poco::File(db).exists());
  Poco::File(db).remove();
}

TEST(Process, ConfigFileIsReadAndOverriddenByDefines) {
  std::string cfg = Poco::TemporaryFile::tempName() + ".properties";
  {
    std::ofstream f(cfg);
    f << "gateway.http.port = 0\n" << "gateway.mllp.port = 0\n" << "gateway.auth.mode = none\n"
      << "gateway.log.level = nonsense\n";
  }
  ProcessRun bad = runToExit({"--config=" + cfg});
  EXPECT_EQ(bad.exitCode, 78) << bad.err;
  EXPECT_NE(bad.err.find("gateway.log.level"), std::string::npos);
  Poco::File(cfg).remove();
}

TEST(Process, RefusesBadConfiguration) {
  ProcessRun typo = runToExit({"-Dgateway.http.prot=8080"});
  EXPECT_EQ(typo.exitCode, 78);
  EXPECT_NE(typo.err.find("gateway.http.prot"), std::string::npos);
  ProcessRun openHost = runToExit({"-Dgateway.http.host=0.0.0.0", "-Dgateway.auth.mode=none"});
  EXPECT_EQ(openHost.exitCode, 78);
  EXPECT_NE(openHost.err.find("loopback"), std::string::npos);
  ProcessRun port = runToExit({"-Dgateway.http.port=70000"});
  EXPECT_EQ(port.exitCode, 78);
  // SMART tokens are the default: without a client registry the gateway does not start.
  ProcessRun noClients = runToExit({"-Dgateway.http.tls=false", "-Dgateway.mllp.tls=false"});
  EXPECT_EQ(noClients.exitCode, 78);
  EXPECT_NE(noClients.err.find("gateway.auth.clients"), std::string::npos) << noClients.err;
}

}  // namespace

namespace {

TEST(Process, SigtermLetsAnInFlightRequestFinish) {
  std::string db = tempDb();
  Poco::Pipe outPipe;
  Poco::ProcessHandle h = Poco::Process::launch(
      ACP_BINARY, {"-Dgateway.http.port=0", "-Dgateway.mllp.port=0", "-Dgateway.store.url=sqlite:" + db,
                   "-Dgateway.auth.mode=none", "-Dgateway.http.tls=false", "-Dgateway.mllp.tls=false"}, nullptr,
      &outPipe, nullptr);
  Poco::PipeInputStream out(outPipe);
  std::string line;
  std::getline(out, line);
  int port = std::stoi(line.substr(line.find(':') + 1));
  EXPECT_NE(line.find(" mllp=127.0.0.1:"), std::string::npos) << line;
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
  std::string body = R"({"resourceType":"Patient","gender":"female"})";
  std::string head = "POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
                     "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  // Headers and half the body are in; the request is being served when SIGTERM arrives.
  std::string first = head + body.substr(0, 10);
  s.sendBytes(first.data(), static_cast<int>(first.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(h.id(), SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string rest = body.substr(10);
  s.sendBytes(rest.data(), static_cast<int>(rest.size()));
  s.setReceiveTimeout(Poco::Timespan(15, 0));
  std::string answer;
  char buf[4096];
  try {
    int n;
    while ((n = s.receiveBytes(buf, sizeof buf)) > 0) answer.append(buf, static_cast<size_t>(n));
  } catch (...) {
  }
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 201") << answer.substr(0, 120);
  EXPECT_EQ(h.wait(), 0);
  Poco::File(db).remove();
}

}  // namespace
