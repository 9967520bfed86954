// The acp-gateway binary with TLS as an operator runs it: TLS is on unless turned off, a start
// without usable certificates stops with exit code 78 (EX_CONFIG) and says why, and with
// them both listeners speak TLS (checked with openssl s_client against the running process).
#include <Poco/File.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "tests/support/process_run.h"
#include "tests/tls/tls_client.h"

namespace acp::testing {
namespace {


std::vector<std::string> base(const std::string& db) {
  return {"-Dgateway.http.port=0", "-Dgateway.mllp.port=0", "-Dgateway.store.url=sqlite:" + db,
          "-Dgateway.flags.intervalSeconds=0", "-Dgateway.auth.mode=none"};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(TlsProcess, TlsIsOnByDefaultAndNeedsACertificate) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  ProcessRun r = runToExit(base(db));
  EXPECT_EQ(r.exitCode, 78) << r.err;
  EXPECT_NE(r.err.find("gateway.tls.certificate"), std::string::npos) << r.err;
  EXPECT_FALSE(Poco::File(db).exists());
}

TEST(TlsProcess, MissingOrBadCertificateFilesStopTheStart) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  std::vector<std::string> tls = {"-Dgateway.tls.certificate=/nonexistent/server.crt",
                                  "-Dgateway.tls.privateKey=" + certFile("server.key"),
                                  "-Dgateway.tls.caCertificates=" + certFile("ca.crt")};
  ProcessRun missing = runToExit(with(base(db), tls));
  EXPECT_EQ(missing.exitCode, 78) << missing.err;
  EXPECT_NE(missing.err.find("gateway.tls.certificate: cannot read /nonexistent/server.crt"),
            std::string::npos)
      << missing.err;

  tls[0] = "-Dgateway.tls.certificate=" + certFile("server.crt");
  tls[1] = "-Dgateway.tls.privateKey=" + certFile("clients/RX8.key");
  ProcessRun wrongKey = runToExit(with(base(db), tls));
  EXPECT_EQ(wrongKey.exitCode, 78) << wrongKey.err;
  EXPECT_NE(wrongKey.err.find("gateway.tls.privateKey: "), std::string::npos) << wrongKey.err;

  ProcessRun noCa =
      runToExit(with(base(db), {"-Dgateway.tls.certificate=" + certFile("server.crt"),
                                "-Dgateway.tls.privateKey=" + certFile("server.key")}));
  EXPECT_EQ(noCa.exitCode, 78) << noCa.err;
  EXPECT_NE(noCa.err.find("gateway.tls.caCertificates"), std::string::npos) << noCa.err;

  ProcessRun badMode = runToExit(with(base(db), {"-Dgateway.tls.clientCertificates=maybe"}));
  EXPECT_EQ(badMode.exitCode, 78) << badMode.err;
  if (Poco::File(db).exists()) Poco::File(db).remove();
}

TEST(TlsProcess, UnusableDeliveryTlsFilesStopTheStart) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  std::vector<std::string> plain = with(base(db), {"-Dgateway.http.tls=false",
                                                   "-Dgateway.mllp.tls=false"});
  ProcessRun noCas = runToExit(with(plain, {"-Dgateway.notify.caCertificates=/nonexistent/cas.pem"}));
  EXPECT_EQ(noCas.exitCode, 78) << noCas.err;
  EXPECT_NE(noCas.err.find("gateway.notify.caCertificates: cannot read /nonexistent/cas.pem"),
            std::string::npos)
      << noCas.err;
  EXPECT_FALSE(Poco::File(db).exists());  // stopped before the store was opened

  ProcessRun wrongKey =
      runToExit(with(plain, {"-Dgateway.notify.certificate=" + certFile("clients/RX8.crt"),
                             "-Dgateway.notify.privateKey=" + certFile("clients/X81001.key")}));
  EXPECT_EQ(wrongKey.exitCode, 78) << wrongKey.err;
  EXPECT_NE(wrongKey.err.find("gateway.notify.privateKey: "), std::string::npos) << wrongKey.err;

  ProcessRun keyless =
      runToExit(with(plain, {"-Dgateway.notify.certificate=" + certFile("clients/RX8.crt")}));
  EXPECT_EQ(keyless.exitCode, 78) << keyless.err;
  EXPECT_NE(keyless.err.find("gateway.notify.privateKey"), std::string::npos) << keyless.err;
  if (Poco::File(db).exists()) Poco::File(db).remove();
}

TEST(TlsProcess, ServesHttpsAndMllpOverTlsWithTheDevelopmentCertificates) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  Poco::Pipe outPipe;
  Poco::ProcessHandle h =
      Poco::Process::launch(ACP_BINARY,
                            with(base(db), {"-Dgateway.tls.certificate=" + certFile("server.crt"),
                                            "-Dgateway.tls.privateKey=" + certFile("server.key"),
                                            "-Dgateway.tls.caCertificates=" + certFile("ca.crt")}),
                            nullptr, &outPipe, nullptr);
  Poco::PipeInputStream out(outPipe);
  std::string line;
  std::getline(out, line);
  ASSERT_EQ(line.rfind("ready http=127.0.0.1:", 0), 0u) << line;
  int httpPort = std::stoi(line.substr(line.find(':') + 1));
  int mllpPort = std::stoi(line.substr(line.rfind(':') + 1));

  auto https = sClient(httpPort, "-cert " + certFile("clients/X81001.crt") + " -key " +
                                     certFile("clients/X81001.key"));
  EXPECT_NE(https.output.find("HTTP/1.1 200"), std::string::npos) << https.output;
  EXPECT_NE(https.output.find("Protocol  : TLSv1.3"), std::string::npos) << https.output;
  auto old = sClient(httpPort, "-tls1_1 -cipher \"DEFAULT:@SECLEVEL=0\" -cert " +
                                   certFile("clients/X81001.crt") + " -key " +
                                   certFile("clients/X81001.key"));
  EXPECT_NE(old.output.find("alert protocol version"), std::string::npos) << old.output;

  TlsClient mllp(mllpPort, asClient("RX8"));
  EXPECT_TRUE(mllp.handshake()) << mllp.error();
  EXPECT_EQ(mllp.protocol(), "TLSv1.3");

  ::kill(h.id(), SIGTERM);
  EXPECT_EQ(h.wait(), 0);
  Poco::File(db).remove();
}

}  // namespace
}  // namespace acp::testing
