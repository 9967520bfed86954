// `acp-gateway import` (app/import_command.h), run as an operator runs it: partner files
// back-loaded into the store with the same outcomes, failure list and audit as a live push;
// nothing imported when a file is missing; never into an SQLite file a gateway is serving; a
// progress bar on a terminal.
#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sqlite3.h>
#include <Poco/Pipe.h>
#include <Poco/Process.h>

#include "gateway/app/gateway.h"
#include "tests/support/audit_reading.h"
#include "tests/support/process_run.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

// `db`: an SQLite file, or a gateway.store.url ("sqlite:…", "postgresql:…").
std::vector<std::string> importArgs(const std::string& db, const std::string& source,
                                    const std::vector<std::string>& files) {
  std::string url = db.rfind("sqlite:", 0) == 0 || db.rfind("postgres", 0) == 0 ? db : "sqlite:" + db;
  std::vector<std::string> a = {"import", "--source", source, "-Dgateway.store.url=" + url,
                                "-Dgateway.auth.mode=none", "-Dgateway.http.tls=false",
                                "-Dgateway.mllp.tls=false"};
  a.insert(a.end(), files.begin(), files.end());
  return a;
}

std::string repo(const std::string& relative) { return std::string(ACP_SOURCE_DIR) + "/" + relative; }

std::string writeTemp(const std::string& text, const std::string& suffix) {
  std::string path = Poco::TemporaryFile::tempName() + suffix;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// A gateway on the imported store, to read back what the import stored.
app::Options on(const TestStoreLocation& store) {
  app::Options o;
  o.storeUrl = store.storeUrl();
  return o;
}

// An import writes only into a store that exists: a gateway started once made it.
void createStore(const TestStoreLocation& store) { TestServer once(on(store)); }

TEST(Import, HospiceFilesAreStoredAuditedAndAnImportAgainChangesNothing) {
  // The suite's store: SQLite, or PostgreSQL in the pg: run (gateways may run meanwhile there).
  TestStoreLocation store(Poco::TemporaryFile::tempName() + ".db");
  const std::string db = store.storeUrl();
  createStore(store);
  std::string sample = repo("mappings/hospice/samples/example-1.2.json");
  ProcessRun first = runToExit(importArgs(db, "hospice", {sample}));
  EXPECT_EQ(first.exitCode, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("records   1 stored, 0 unchanged, 0 rejected"), std::string::npos) << first.out;
  ProcessRun again = runToExit(importArgs(db, "hospice", {sample}));
  EXPECT_EQ(again.exitCode, 0) << again.out;
  EXPECT_NE(again.out.find("records   0 stored, 1 unchanged, 0 rejected"), std::string::npos) << again.out;
  for (const std::string& printed : {first.out, first.err, again.out, again.err})
    for (const char* secret : {"9992530820", "999 253 0820", "Hartley", "Amelia"})
      EXPECT_EQ(printed.find(secret), std::string::npos) << secret;

  TestServer server(on(store));
  HttpResult found = server.get("/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820");
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(found.json.find("entry")->items().size(), 1u) << found.body;
  EXPECT_EQ(server.get("/CarePlan?status=active").json.find("entry")->items().size(), 1u);
  // The privacy officer sees who back-loaded what: operation $import, by an operating-system
  // account, naming the push and its partner.
  std::vector<json::Value> events = auditEvents(server, "?subtype=$import");
  ASSERT_EQ(events.size(), 2u);
  const json::Value& e = events.back();  // the first import, oldest
  EXPECT_EQ(e.getString("action"), "C");
  EXPECT_EQ(e.getString("outcome"), "0");
  EXPECT_FALSE(auditEntities(e, "1").empty()) << "the child concerned";
  AuditedMessage pushed = auditMessage(e);
  EXPECT_EQ(pushed.id, "WB-EXP-20261101-0930");
  std::string agents = json::write(*e.find("agent"));
  EXPECT_NE(agents.find("\"display\":\"acp-gateway import\""), std::string::npos) << agents;
  EXPECT_NE(agents.find("\"name\":\"operating-system account "), std::string::npos) << agents;
  EXPECT_TRUE(auditChainIntact(server));
}

TEST(Import, Hl7FilesAreSplitIntoMessagesAndWhatIsRejectedIsKept) {
  // The suite's store: SQLite, or PostgreSQL in the pg: run (gateways may run meanwhile there).
  TestStoreLocation store(Poco::TemporaryFile::tempName() + ".db");
  const std::string db = store.storeUrl();
  createStore(store);
  std::string messages;
  for (const char* name : {"adt-a01.hl7", "adt-a03.hl7", "oru-r01-respect.hl7"})
    messages += readRepoFile(std::string("mappings/acute/samples/") + name) + "\n";
  messages += "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01^ADT_A01|PAS9|P|2.4\nPID|1\n";
  std::string file = writeTemp(messages, ".hl7");
  std::string broken = writeTemp("{\"exportVersion\": ", ".json");
  ProcessRun r = runToExit(importArgs(db, "hl7v2", {file}));
  EXPECT_EQ(r.exitCode, 65) << r.out << r.err;
  EXPECT_NE(r.out.find("imported  4 of 4 messages (hl7v2, 1 file)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("records   3 stored, 0 unchanged, 1 rejected"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rejected  " + file + " message 4 record 1 of 1: hl7.required at PID-3"),
            std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("PAS9"), std::string::npos) << "never a partner's record id";
  ProcessRun unreadable = runToExit(importArgs(db, "hospice", {broken}));
  EXPECT_EQ(unreadable.exitCode, 65) << unreadable.out;
  EXPECT_NE(unreadable.out.find("refused   " + broken + ": hospice.not-json"), std::string::npos) << unreadable.out;

  TestServer server(on(store));
  HttpResult open = server.get("/$ingest/failures?status=open");
  ASSERT_EQ(open.status, 200) << open.body;
  size_t kept = 0;
  for (const json::Value& p : open.json.find("parameter")->items())
    if (p.getString("name") == "failure") ++kept;
  EXPECT_EQ(kept, 2u) << "the rejected message and the unreadable document, for replay";
  Poco::File(file).remove();
  Poco::File(broken).remove();
}

TEST(Import, NothingIsImportedWhenAFileCannotBeRead) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  ProcessRun r = runToExit(
      importArgs(db, "community", {repo("mappings/community/samples/example.xml"), "/nonexistent/x.xml"}));
  EXPECT_EQ(r.exitCode, 66) << r.out << r.err;
  EXPECT_NE(r.out.find("cannot read /nonexistent/x.xml"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing imported"), std::string::npos);
  EXPECT_FALSE(Poco::File(db).exists()) << "the store was not even opened";
}

TEST(Import, NeverIntoAnSqliteFileAGatewayServes) {
  TestServer server;
  if (server.storeLocation().rfind("postgres", 0) == 0) GTEST_SKIP() << "SQLite only";
  ProcessRun r = runToExit(importArgs(server.databasePath(), "hospice",
                                      {repo("mappings/hospice/samples/example-1.2.json")}));
  EXPECT_EQ(r.exitCode, 75) << r.out << r.err;
  EXPECT_NE(r.out.find("store.in-use"), std::string::npos) << r.out;
  EXPECT_EQ(server.get("/Patient").json.find("entry"), nullptr) << "nothing written";
}

// A mistyped store URL must not hide records in a new file; a store of another schema version
// is neither migrated nor written.
TEST(Import, NeverIntoANewStoreOrAnotherSchemaVersion) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  ProcessRun none = runToExit(importArgs(db, "hospice", {repo("mappings/hospice/samples/example-1.2.json")}));
  EXPECT_EQ(none.exitCode, 78) << none.out;
  EXPECT_NE(none.out.find("there is no store at sqlite:" + db), std::string::npos) << none.out;
  EXPECT_FALSE(Poco::File(db).exists());
  {
    TestStoreLocation store(db);
    if (!store.postgres()) createStore(store);
  }
  if (!Poco::File(db).exists()) GTEST_SKIP() << "SQLite only";
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "UPDATE schema_version SET version = version - 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(h);
  ProcessRun older = runToExit(importArgs(db, "hospice", {repo("mappings/hospice/samples/example-1.2.json")}));
  EXPECT_EQ(older.exitCode, 78) << older.out;
  EXPECT_NE(older.out.find("start this version's gateway once: it migrates the store"), std::string::npos) << older.out;
}

// The import holds the file: a gateway starting meanwhile is refused, not a second writer.
TEST(Import, AGatewayCannotStartOnAFileBeingImported) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  TestStoreLocation store(db);
  if (store.postgres()) GTEST_SKIP() << "SQLite only";
  createStore(store);
  // A long import: many copies of one message (each a push, each audited).
  std::string message = readRepoFile("mappings/acute/samples/adt-a01.hl7");
  std::string many;
  for (int i = 0; i < 2000; ++i) many += message + "\n";
  std::string file = writeTemp(many, ".hl7");
  Poco::Pipe outPipe;
  Poco::ProcessHandle h = Poco::Process::launch(ACP_BINARY, importArgs(db, "hl7v2", {file}), nullptr,
                                                &outPipe, nullptr);
  // Once the import holds the file's lock (the kernel lists it in /proc/locks), a gateway
  // is refused.
  auto importHoldsLock = [pid = h.id()] {
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line))
      if (line.find("FLOCK") != std::string::npos &&
          line.find(" " + std::to_string(pid) + " ") != std::string::npos)
        return true;
    return false;
  };
  bool held = false;
  for (int i = 0; i < 2000 && !(held = importHoldsLock()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(held) << "the import never held the lock";
  app::Options o = on(store);
  o.httpPort = o.mllpPort = 0;
  o.httpTls = o.mllpTls = false;
  o.authMode = "none";
  o.conformanceDir = std::string(ACP_SOURCE_DIR) + "/conformance/r4";
  o.mappingsDir = std::string(ACP_SOURCE_DIR) + "/mappings";
  app::Gateway gateway(o);
  Status s = gateway.start();
  bool refused = !s.isOk() && s.message().rfind("store.in-use", 0) == 0;
  gateway.stop();
  EXPECT_TRUE(refused) << "the gateway started while the import wrote: " << s.message();
  EXPECT_EQ(h.wait(), 0);
  Poco::File(file).remove();
}

TEST(Import, UsageMistakesAreRefused) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  EXPECT_EQ(runToExit(importArgs(db, "gp", {"x"})).exitCode, 64);
  EXPECT_EQ(runToExit(importArgs(db, "hospice", {})).exitCode, 64);
  EXPECT_EQ(runToExit({"--source", "hospice", "x.json"}).exitCode, 64) << "not without the command";
  EXPECT_FALSE(Poco::File(db).exists());
}

// On a terminal the import draws a progress bar on stderr, ending at 100 %.
TEST(Import, OnATerminalAProgressBarIsDrawn) {
  std::string db = Poco::TemporaryFile::tempName() + ".db";
  {
    TestStoreLocation store(db);
    if (store.postgres()) GTEST_SKIP() << "the SQLite run shows it";
    createStore(store);
  }
  std::vector<std::string> args = importArgs(db, "hospice", {repo("mappings/hospice/samples/example-1.2.json")});
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::vector<char*> argv;
    std::string binary = ACP_BINARY;
    argv.push_back(binary.data());
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  std::string seen;
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child has exited and the pty is drained
    seen.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << seen;
  EXPECT_NE(seen.find("\r[------------------------------] 0%  0/1 documents"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\r[##############################] 100%  1/1 documents  1 records"),
            std::string::npos) << seen;
  EXPECT_NE(seen.find("records   1 stored"), std::string::npos);
  Poco::File(db).remove();
}

}  // namespace
}  // namespace acp::testing
