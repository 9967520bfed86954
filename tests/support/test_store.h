// Which store a test runs on. Suites registered with acp_tests(<folder> BOTH_STORES …) run
// twice under ctest: as they are (SQLite, a file in the test's temp directory) and again with
// ACP_TEST_STORE=postgres, their names prefixed "pg:", on a fresh schema of the throw-away
// PostgreSQL cluster (tests/support/pg_test_db.h, docs/testing.md). A fixture makes one
// TestStoreLocation and opens every store (and gateway) of the test at location().
#pragma once

#include <libpq-fe.h>
#include <sqlite3.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>

#include "gateway/store/pg_connection.h"
#include "tests/support/pg_test_db.h"

namespace acp::testing {

// True when this run of the suite is the PostgreSQL one.
inline bool testStoreIsPostgres() {
  const char* env = getenv("ACP_TEST_STORE");
  return env && std::string(env) == "postgres";
}

// Skips a test that is about SQLite itself (its file, PRAGMAs, WAL) in the PostgreSQL run.
#define ACP_SQLITE_ONLY()                                                         \
  do {                                                                            \
    if (::acp::testing::testStoreIsPostgres())                                    \
      GTEST_SKIP() << "about the SQLite file itself; not run on PostgreSQL";      \
  } while (0)

// A connection of its own to a test's database — what another process, or someone behind the
// gateway's back, would do — for the tests of what the gateway does when the store fails.
class SideConnection {
 public:
  SideConnection(const std::string& location, bool postgres) : postgres_(postgres) {
    if (postgres_) {
      pg_ = PQconnectdb(location.c_str());
      EXPECT_EQ(PQstatus(pg_), CONNECTION_OK) << PQerrorMessage(pg_);
      PQsetNoticeProcessor(pg_, [](void*, const char*) {}, nullptr);
    } else {
      EXPECT_EQ(sqlite3_open(location.c_str(), &db_), SQLITE_OK);
      sqlite3_busy_timeout(db_, 5000);
    }
  }
  ~SideConnection() {
    if (pg_) PQfinish(pg_);
    if (db_) sqlite3_close(db_);
  }
  SideConnection(const SideConnection&) = delete;
  SideConnection& operator=(const SideConnection&) = delete;

  // Runs SQL; "" on success, else the database's message.
  std::string exec(const std::string& sql) {
    if (postgres_) {
      PGresult* r = PQexec(pg_, sql.c_str());
      ExecStatusType st = PQresultStatus(r);
      std::string out = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "" : PQerrorMessage(pg_);
      PQclear(r);
      return out;
    }
    char* err = nullptr;
    std::string out;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK)
      out = err ? err : "failed";
    sqlite3_free(err);
    return out;
  }

  // Runs a query; its rows' first columns, each followed by "\n" (PostgreSQL only: EXPLAIN
  // output). A failure is a test failure, and "".
  std::string query(const std::string& sql) {
    EXPECT_TRUE(postgres_) << "SideConnection::query is for PostgreSQL";
    if (!postgres_) return "";
    PGresult* r = PQexec(pg_, sql.c_str());
    std::string out;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      ADD_FAILURE() << sql << ": " << PQerrorMessage(pg_);
    } else {
      for (int i = 0; i < PQntuples(r); ++i) out += std::string(PQgetvalue(r, i, 0)) + "\n";
    }
    PQclear(r);
    return out;
  }

  // Holds the store's write lock, as another writer would (SQLite BEGIN IMMEDIATE; PostgreSQL
  // the gateways' advisory write lock), until releaseWriteLock(): the gateway's writes then
  // fail with store.busy after its busy timeout.
  void holdWriteLock() {
    EXPECT_EQ(exec(postgres_ ? "SELECT pg_advisory_lock(" + std::to_string(lockKey()) + ")"
                             : std::string("BEGIN IMMEDIATE")),
              "");
  }
  void releaseWriteLock() {
    EXPECT_EQ(exec(postgres_ ? "SELECT pg_advisory_unlock(" + std::to_string(lockKey()) + ")"
                             : std::string("ROLLBACK")),
              "");
  }

  // Makes every insert into audit_log fail (a trigger), until allowAuditAppends().
  void refuseAuditAppends() {
    EXPECT_EQ(exec(postgres_
                       ? "CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql "
                         "AS $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$; "
                         "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log "
                         "FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()"
                       : "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log "
                         "BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END;"),
              "");
  }
  void allowAuditAppends() {
    EXPECT_EQ(exec(postgres_ ? "DROP TRIGGER test_refuse_audit ON audit_log; "
                               "DROP FUNCTION test_refuse_audit()"
                             : "DROP TRIGGER test_refuse_audit"),
              "");
  }

 private:
  // The store's write lock key (PostgreSQL): that of the schema this session writes in.
  int64_t lockKey() {
    PGresult* r = PQexec(pg_, "SELECT current_schema()");
    std::string schema = PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return store::pg::writeLockKey(schema);
  }

  bool postgres_;
  PGconn* pg_ = nullptr;
  sqlite3* db_ = nullptr;
};

class TestStoreLocation {
 public:
  // `sqlitePath`: the database file for the SQLite run.
  explicit TestStoreLocation(std::string sqlitePath) : location_(std::move(sqlitePath)) {
    if (!testStoreIsPostgres()) return;
    schema_ = std::make_unique<PgTestSchema>();
    location_ = schema_->ok() ? schema_->url() : std::string("postgresql:///unavailable");
  }

  // What SqlStore::open() takes: the SQLite file path or the PostgreSQL URI.
  const std::string& location() const { return location_; }
  // The same as a gateway.store.url value.
  std::string storeUrl() const {
    return testStoreIsPostgres() ? location_ : "sqlite:" + location_;
  }
  bool postgres() const { return schema_ != nullptr; }
  std::unique_ptr<SideConnection> side() const {
    return std::make_unique<SideConnection>(location_, postgres());
  }

 private:
  std::unique_ptr<PgTestSchema> schema_;
  std::string location_;
};

}  // namespace acp::testing
