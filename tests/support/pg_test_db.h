// A fresh PostgreSQL schema per test, in the throw-away cluster that tests/support/pg_cluster.sh
// starts (docs/testing.md). Header-only; the test binary links libpq (through acp_store).
//
// The cluster is found through ACP_TEST_PG_URL (any libpq URI or key=value conninfo) when set,
// else through the first line of ${ACP_TEST_PG_DIR}/url, which pg_cluster.sh writes; ctest starts
// it for every test registered with acp_tests(<folder> NEEDS_PG ...).
//
//   class MyPgTest : public ::testing::Test {
//    protected:
//     void SetUp() override { ACP_REQUIRE_PG_CLUSTER(); }
//     acp::testing::PgTestSchema schema_;  // connect to schema_.url()
//   };
//
// ACP_REQUIRE_PG_CLUSTER() skips the test with how to start the cluster when it cannot be reached,
// or fails it when ACP_TEST_PG_REQUIRED=1 (ctest sets it for NEEDS_PG tests: there the fixture
// must have started it). A PgTestSchema made without a reachable cluster records a failure and
// stays !ok().
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#ifndef ACP_TEST_PG_DIR
#error "ACP_TEST_PG_DIR is defined for test binaries by acp_tests() in CMakeLists.txt"
#endif

namespace acp::testing {

namespace pg_detail {

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;

// A connection to `conninfo`, or null with the reason in `error`. NOTICEs are not printed.
inline Connection connect(const std::string& conninfo, std::string& error) {
  Connection c(PQconnectdb(conninfo.c_str()), &PQfinish);
  if (!c || PQstatus(c.get()) != CONNECTION_OK) {
    error = c ? PQerrorMessage(c.get()) : "out of memory";
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    return Connection(nullptr, &PQfinish);
  }
  PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);
  return c;
}

// Runs `sql` (no parameters); empty on success, else the server's message.
inline std::string exec(PGconn* c, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c, sql.c_str()), &PQclear);
  ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return "";
  std::string error = PQerrorMessage(c);
  return error.empty() ? "query failed" : error;
}

inline bool isUri(const std::string& conninfo) {
  return conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
}

}  // namespace pg_detail

// The cluster's URL: ACP_TEST_PG_URL when set and not empty, else the first line of
// ACP_TEST_PG_DIR/url; empty when there is neither.
inline std::string pgClusterUrl() {
  if (const char* env = getenv("ACP_TEST_PG_URL"); env && *env) return env;
  std::ifstream in(std::string(ACP_TEST_PG_DIR) + "/url");
  std::string line;
  std::getline(in, line);
  return line;
}

// True when ACP_TEST_PG_REQUIRED=1: an unreachable cluster is then a failure, not a skip.
inline bool pgClusterRequired() {
  const char* env = getenv("ACP_TEST_PG_REQUIRED");
  return env && std::string(env) == "1";
}

// Empty when a connection to the cluster succeeds; else why not, and how to start it.
inline std::string pgClusterUnavailable() {
  const std::string how = std::string("PostgreSQL test cluster not running: run `bash "
                                      "tests/support/pg_cluster.sh start ") +
                          ACP_TEST_PG_DIR + "` (or set ACP_TEST_PG_URL)";
  std::string url = pgClusterUrl();
  if (url.empty()) return how;
  std::string error;
  if (!pg_detail::connect(url, error)) return how + "; connecting to " + url + ": " + error;
  return "";
}

// In a test body or SetUp(): returns from it, skipping the test (or failing it when
// ACP_TEST_PG_REQUIRED=1) when the cluster cannot be reached.
#define ACP_REQUIRE_PG_CLUSTER()                                                  \
  do {                                                                            \
    std::string acp_pg_why_ = ::acp::testing::pgClusterUnavailable();             \
    if (!acp_pg_why_.empty()) {                                                   \
      if (::acp::testing::pgClusterRequired()) FAIL() << acp_pg_why_;             \
      GTEST_SKIP() << acp_pg_why_;                                                \
    }                                                                             \
  } while (0)

// A uniquely named schema (t_<pid>_<counter>_<random>) created in the cluster's database on
// construction and dropped, CASCADE, on destruction. url() connects to the same database with
// search_path set to that schema only, so unqualified names (tables, sequences, functions) are
// made and found there; pg_catalog stays implicitly searched. Connections made through url()
// should be closed before the schema is destroyed: the drop waits at most 30 s for their locks,
// then records a failure.
class PgTestSchema {
 public:
  static bool available() { return pgClusterUnavailable().empty(); }

  PgTestSchema() {
    static std::atomic<unsigned> counter{0};
    std::random_device rd;
    char random[9];
    std::snprintf(random, sizeof random, "%08x", static_cast<unsigned>(rd()));
    name_ = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + random;

    base_ = pgClusterUrl();
    std::string error;
    auto c = base_.empty() ? pg_detail::Connection(nullptr, &PQfinish)
                           : pg_detail::connect(base_, error);
    if (!c) {
      ADD_FAILURE() << pgClusterUnavailable();
      return;
    }
    if (std::string e = pg_detail::exec(c.get(), "CREATE SCHEMA " + name_); !e.empty()) {
      ADD_FAILURE() << "CREATE SCHEMA " << name_ << ": " << e;
      return;
    }
    if (pg_detail::isUri(base_)) {
      url_ = base_ + (base_.find('?') == std::string::npos ? "?" : "&") +
             "options=-csearch_path%3D" + name_;
    } else {
      url_ = base_ + " options='-csearch_path=" + name_ + "'";
    }
    ok_ = true;
  }

  ~PgTestSchema() {
    if (!ok_) return;
    std::string error;
    auto c = pg_detail::connect(base_, error);
    if (!c) {
      ADD_FAILURE() << "dropping schema " << name_ << ": " << error;
      return;
    }
    std::string e = pg_detail::exec(c.get(), "SET lock_timeout = '30s'");
    if (e.empty()) e = pg_detail::exec(c.get(), "DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    if (!e.empty()) ADD_FAILURE() << "DROP SCHEMA " << name_ << " CASCADE: " << e;
  }

  PgTestSchema(const PgTestSchema&) = delete;
  PgTestSchema& operator=(const PgTestSchema&) = delete;

  // False when the schema could not be made (a failure has been recorded).
  bool ok() const { return ok_; }
  // The schema's name: lower-case letters, digits and '_', never needing quotes.
  const std::string& name() const { return name_; }
  // A libpq URI (a key=value conninfo when ACP_TEST_PG_URL is one) whose sessions use only this
  // schema: the cluster's URL plus options=-csearch_path%3D<name>. Empty when !ok().
  const std::string& url() const { return url_; }

 private:
  bool ok_ = false;
  std::string name_;
  std::string base_;
  std::string url_;
};

}  // namespace acp::testing
