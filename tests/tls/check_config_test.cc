// `acp-gateway check-config`: every check a start would make, without starting or changing
// anything (app/config_check.h) — run as an operator runs it.
#include <Poco/File.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include <fstream>

#include "tests/auth/auth_fixture.h"
#include "tests/support/process_run.h"

namespace {

using acp::testing::ProcessRun;
using acp::testing::runToExit;

const std::string kCerts = ACP_TEST_CERTS;

std::vector<std::string> plain(const std::string& db, int httpPort = 0) {
  return {"check-config", "-Dgateway.http.tls=false", "-Dgateway.mllp.tls=false",
          "-Dgateway.auth.mode=none", "-Dgateway.store.url=sqlite:" + db,
          "-Dgateway.http.port=" + std::to_string(httpPort), "-Dgateway.mllp.port=0"};
}

TEST(CheckConfig, AGoodConfigurationPassesAndNothingIsCreated) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  ProcessRun r = runToExit(plain(db));
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok    store: sqlite:" + db + ": empty; the start creates the schema"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok    model:"), std::string::npos);
  EXPECT_NE(r.out.find("ok    compartment:"), std::string::npos);
  EXPECT_NE(r.out.find("ok    mappings:"), std::string::npos);
  EXPECT_NE(r.out.find("WARN  auth: mode none"), std::string::npos);
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos);
  EXPECT_NE(r.out.find("ok    metrics: off"), std::string::npos) << r.out;
  EXPECT_FALSE(Poco::File(db).exists()) << "check-config creates no database";
}

TEST(CheckConfig, TlsAndTokensAreCheckedWithTheirFiles) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  ProcessRun r = runToExit({"check-config", "-Dgateway.tls.certificate=" + kCerts + "/server.crt",
                            "-Dgateway.tls.privateKey=" + kCerts + "/elsewhere.key",  // not its key
                            "-Dgateway.tls.caCertificates=" + kCerts + "/ca.crt",
                            "-Dgateway.auth.clients=/nonexistent/clients.json",
                            "-Dgateway.auth.tokenKey=/nonexistent/key.pem",
                            "-Dgateway.http.baseUrl=https://gw.example",
                            "-Dgateway.store.url=sqlite:" + db, "-Dgateway.http.port=0",
                            "-Dgateway.mllp.port=0"});
  EXPECT_EQ(r.exitCode, 78) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL  tls:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok    tls certificate: CN=localhost"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAIL  auth:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok    store:"), std::string::npos) << "every check runs, not only up to the first failure";
}

// A port in use is most likely the running gateway's (check-config is run before a restart):
// a warning. A schema newer than the build's is a failure. A stopped gateway's WAL database
// is read without leaving -wal or -shm files behind.
// A registry that loads, but no token signing key: tokens would end with a restart and other
// instances would refuse them — a warning, not a failure.
TEST(CheckConfig, NoTokenKeyIsAWarning) {
  std::string registry = Poco::TemporaryFile::tempName() + ".json";
  {
    std::ofstream f(registry);
    f << R"({"clients": [{"clientId":"castle-street","organisation":"X81001","role":"gp-practice",)"
      << R"("scopes":"system/*.rs","jwks":)"
      << acp::auth::testing::jwksText({acp::auth::testing::jwkWithKid(acp::auth::testing::ecKey(), "k1")}) << "}]}";
  }
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  ProcessRun r = runToExit({"check-config", "-Dgateway.http.tls=false", "-Dgateway.mllp.tls=false",
                            "-Dgateway.auth.clients=" + registry,
                            "-Dgateway.http.baseUrl=https://gw.example",
                            "-Dgateway.store.url=sqlite:" + db, "-Dgateway.http.port=0",
                            "-Dgateway.mllp.port=0"});
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("WARN  auth: clients from " + registry + "; no gateway.auth.tokenKey"),
            std::string::npos) << r.out;
  Poco::File(registry).remove();
}

TEST(CheckConfig, APortInUseWarnsANewerSchemaFailsAndNothingIsLeftBehind) {
  Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "PRAGMA journal_mode=WAL; CREATE TABLE schema_version(version INTEGER); "
                            "INSERT INTO schema_version VALUES (999)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(h);
  ASSERT_FALSE(Poco::File(db + "-wal").exists());
  std::vector<std::string> args = plain(db, taken.address().port());
  args.push_back("-Dgateway.metrics.port=" + std::to_string(taken.address().port()));
  ProcessRun r = runToExit(args);
  EXPECT_EQ(r.exitCode, 78) << r.out << r.err;
  EXPECT_NE(r.out.find("WARN  http: 127.0.0.1:" + std::to_string(taken.address().port()) +
                       " is in use"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("WARN  metrics: 127.0.0.1:" + std::to_string(taken.address().port()) +
                       " is in use"), std::string::npos) << r.out;
  EXPECT_FALSE(Poco::File(db + "-wal").exists()) << "nothing created beside the database";
  EXPECT_FALSE(Poco::File(db + "-shm").exists());
  EXPECT_NE(r.out.find("FAIL  store: sqlite:" + db + ": schema version 999 is newer"),
            std::string::npos) << r.out;
  Poco::File(db).remove();
}

TEST(CheckConfig, TheDemoBundleIsReadBeforeTheStart) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  std::vector<std::string> good = plain(db);
  good.push_back("-Dgateway.demo.load=" + std::string(ACP_SOURCE_DIR) + "/docs/demo/bundle.json");
  ProcessRun r = runToExit(good);
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok    demo: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" Bundle of "), std::string::npos) << r.out;
  std::string notJson = Poco::TemporaryFile::tempName() + ".json";
  std::ofstream(notJson) << "{\"resourceType\": ";
  std::vector<std::string> bad = plain(db);
  bad.push_back("-Dgateway.demo.load=" + notJson);
  ProcessRun broken = runToExit(bad);
  EXPECT_EQ(broken.exitCode, 78) << broken.out;
  EXPECT_NE(broken.out.find("FAIL  demo: " + notJson + " is not JSON"), std::string::npos) << broken.out;
  std::vector<std::string> missing = plain(db);
  missing.push_back("-Dgateway.demo.load=/nonexistent/demo.json");
  EXPECT_NE(runToExit(missing).out.find("FAIL  demo: cannot read /nonexistent/demo.json"), std::string::npos);
  Poco::File(notJson).remove();
}

TEST(CheckConfig, BadOptionsAndUnknownCommandsAreRefused) {
  ProcessRun typo = runToExit({"check-config", "-Dgateway.http.prot=8080"});
  EXPECT_EQ(typo.exitCode, 78);
  EXPECT_NE(typo.out.find("FAIL  options: "), std::string::npos) << typo.out;
  EXPECT_NE(typo.out.find("gateway.http.prot"), std::string::npos);
  ProcessRun unknown = runToExit({"check-everything"});
  EXPECT_EQ(unknown.exitCode, 64);
  EXPECT_NE(unknown.err.find("unknown command"), std::string::npos);
}

}  // namespace
