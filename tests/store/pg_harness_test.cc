// The PostgreSQL test harness itself (tests/support/pg_test_db.h, tests/support/pg_cluster.sh):
// every PgTestSchema is a separate, durable schema in the throw-away cluster, gone afterwards.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <stdlib.h>

#include <memory>
#include <optional>
#include <string>

#include "tests/support/pg_test_db.h"

namespace acp::testing {
namespace {

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

Conn connectTo(const std::string& conninfo) {
  Conn c(PQconnectdb(conninfo.c_str()), &PQfinish);
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << conninfo << ": " << PQerrorMessage(c.get());
  return c;
}

void run(PGconn* c, const std::string& sql) {
  Result r(PQexec(c, sql.c_str()), &PQclear);
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(c);
}

// The first column of the first row; nullopt for SQL NULL (or a failure, recorded).
std::optional<std::string> value(PGconn* c, const std::string& sql,
                                 const std::string& param = "") {
  const char* values[1] = {param.c_str()};
  Result r(PQexecParams(c, sql.c_str(), param.empty() ? 0 : 1, nullptr, values, nullptr, nullptr,
                        0),
           &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) < 1) {
    ADD_FAILURE() << sql << ": " << PQerrorMessage(c);
    return std::nullopt;
  }
  if (PQgetisnull(r.get(), 0, 0)) return std::nullopt;
  return std::string(PQgetvalue(r.get(), 0, 0));
}

class PgHarness : public ::testing::Test {
 protected:
  void SetUp() override { ACP_REQUIRE_PG_CLUSTER(); }

  std::string schemaCount(const std::string& name) {
    Conn c = connectTo(pgClusterUrl());
    return value(c.get(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", name)
        .value_or("?");
  }
};

TEST_F(PgHarness, EachSchemaHasItsOwnNameAndExists) {
  PgTestSchema a, b;
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a.name(), b.name());
  EXPECT_NE(a.url(), b.url());
  EXPECT_EQ(schemaCount(a.name()), "1");
  EXPECT_EQ(schemaCount(b.name()), "1");
}

TEST_F(PgHarness, TheUrlCarriesTheSearchPathAsLibpqParsesIt) {
  PgTestSchema s;
  ASSERT_TRUE(s.ok());
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(s.url().c_str(), &error);
  ASSERT_NE(options, nullptr) << (error ? error : "");
  std::string parsed;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (std::string(o->keyword) == "options" && o->val) parsed = o->val;
  }
  PQconninfoFree(options);
  EXPECT_EQ(parsed, "-csearch_path=" + s.name());

  Conn c = connectTo(s.url());
  EXPECT_EQ(value(c.get(), "SHOW search_path"), s.name());
  EXPECT_EQ(value(c.get(), "SELECT current_schema()"), s.name());
}

TEST_F(PgHarness, ATableMadeThroughOneSchemaIsInvisibleThroughTheOther) {
  PgTestSchema a, b;
  ASSERT_TRUE(a.ok() && b.ok());
  {
    Conn ca = connectTo(a.url());
    run(ca.get(), "CREATE TABLE items (id integer PRIMARY KEY)");
    run(ca.get(), "INSERT INTO items VALUES (1), (2)");
    EXPECT_EQ(value(ca.get(), "SELECT count(*) FROM items"), "2");
    EXPECT_EQ(value(ca.get(), "SELECT to_regclass('items')::text"), "items");
  }
  Conn cb = connectTo(b.url());
  EXPECT_EQ(value(cb.get(), "SELECT to_regclass('items')::text"), std::nullopt);
  Result r(PQexec(cb.get(), "SELECT count(*) FROM items"), &PQclear);
  EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
  // The same name in b is a different table.
  run(cb.get(), "CREATE TABLE items (id integer PRIMARY KEY)");
  EXPECT_EQ(value(cb.get(), "SELECT count(*) FROM items"), "0");
}

TEST_F(PgHarness, TheSchemaAndItsTablesAreGoneAfterDestruction) {
  std::string name;
  {
    PgTestSchema s;
    ASSERT_TRUE(s.ok());
    name = s.name();
    Conn c = connectTo(s.url());
    run(c.get(), "CREATE TABLE items (id integer)");
    run(c.get(), "INSERT INTO items VALUES (1)");
    EXPECT_EQ(schemaCount(name), "1");
  }
  EXPECT_EQ(schemaCount(name), "0");
  Conn c = connectTo(pgClusterUrl());
  EXPECT_EQ(value(c.get(), "SELECT to_regclass($1)::text", name + ".items"), std::nullopt);
}

// The throw-away cluster does not flush its files (pg_cluster.sh: it is thrown away); commits
// still wait for the WAL write, as the gateway asks on every session.
TEST_F(PgHarness, TheClusterIsThrowAwayButCommitsAreSynchronous) {
  PgTestSchema s;
  ASSERT_TRUE(s.ok());
  Conn c = connectTo(s.url());
  EXPECT_EQ(value(c.get(), "SHOW synchronous_commit"), "on");
  EXPECT_EQ(value(c.get(), "SHOW fsync"), "off");
}

TEST_F(PgHarness, TheDatabaseIsUtf8) {
  Conn c = connectTo(pgClusterUrl());
  EXPECT_EQ(value(c.get(), "SHOW server_encoding"), "UTF8");
}

// Without the harness's fixture (ACP_TEST_PG_URL naming nothing), the reason says how to start it.
TEST(PgHarnessUnavailable, TheReasonSaysHowToStartTheCluster) {
  const char* old = getenv("ACP_TEST_PG_URL");
  std::string saved = old ? old : "";
  setenv("ACP_TEST_PG_URL", "postgresql:///postgres?host=/nonexistent/acp-pg&user=postgres", 1);
  std::string why = pgClusterUnavailable();
  bool available = PgTestSchema::available();
  if (old) {
    setenv("ACP_TEST_PG_URL", saved.c_str(), 1);
  } else {
    unsetenv("ACP_TEST_PG_URL");
  }
  EXPECT_FALSE(available);
  EXPECT_NE(why.find("PostgreSQL test cluster not running: run `bash tests/support/pg_cluster.sh "
                     "start "),
            std::string::npos)
      << why;
  EXPECT_NE(why.find(ACP_TEST_PG_DIR), std::string::npos) << why;
}

}  // namespace
}  // namespace acp::testing
