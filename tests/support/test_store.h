// Which store a test runs on. Suites registered with acp_tests(<folder> BOTH_STORES …) run
// twice under ctest: as they are (SQLite, a file in the test's temp directory) and again with
// ACP_TEST_STORE=postgres, their names prefixed "pg:", on a fresh schema of the throw-away
// PostgreSQL cluster (tests/support/pg_test_db.h, docs/testing.md). A fixture makes one
// TestStoreLocation and opens every store (and gateway) of the test at location().
#pragma once

#include <stdlib.h>

#include <memory>
#include <string>

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

 private:
  std::unique_ptr<PgTestSchema> schema_;
  std::string location_;
};

}  // namespace acp::testing
