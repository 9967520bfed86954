// Shared fixture for the store tests: a fresh database — a file in a unique temp directory
// (removed afterwards), or in the PostgreSQL run a fresh schema (tests/support/test_store.h) —
// an injectable clock, and helpers to write resources and to run searches through
// search::parseQuery. path_ is the SQLite file (tests about the file use ACP_SQLITE_ONLY()).
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/search/query.h"
#include "gateway/store/sql_store.h"
#include "tests/support/model_fixture.h"
#include "tests/support/test_store.h"

namespace acp::store::testing {

inline constexpr const char* kBase = "https://gateway.test/fhir";
inline constexpr const char* kNhs = "https://fhir.nhs.uk/Id/nhs-number";
// 2024-01-01T00:00:00.000Z
inline constexpr int64_t kJan2024 = 1704067200000;

inline std::string makeTempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "acp-store-XXXXXX").string();
  char* made = mkdtemp(templ.data());
  if (!made) {
    ADD_FAILURE() << "mkdtemp failed";
    return "";
  }
  return made;
}

inline json::Value parseJson(const std::string& text) {
  json::Value v;
  json::ParseError err;
  EXPECT_TRUE(json::parse(text, v, err)) << err.message << " in " << text;
  return v;
}

using Params = std::vector<std::pair<std::string, std::string>>;

inline search::SearchQuery parseSearch(const std::string& type, const Params& params) {
  search::SearchQuery q;
  IssueList issues;
  search::QueryOptions options;
  options.baseUrl = kBase;
  options.strict = true;
  bool ok = search::parseQuery(acp::testing::r4(), type, params, options, q, issues);
  std::string problems;
  for (const auto& i : issues.issues()) problems += i.code + ": " + i.message + "\n";
  EXPECT_TRUE(ok) << problems;
  return q;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = makeTempDir();
    path_ = dir_ + "/store.db";
    location_ = std::make_unique<acp::testing::TestStoreLocation>(path_);
    now_->store(kJan2024);
    reopen();
  }

  void TearDown() override {
    store_.reset();
    location_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  StoreOptions options() {
    StoreOptions o;
    o.poolSize = 3;
    o.baseUrl = kBase;
    auto now = now_;
    o.clock = [now] { return now->load(); };
    return o;
  }

  void reopen() {
    store_.reset();
    auto s = SqlStore::open(location(), acp::testing::r4Shared(), options());
    ASSERT_TRUE(s.isOk()) << s.status().message();
    store_ = s.take();
  }

  const std::string& location() const { return location_->location(); }
  bool postgres() const { return location_->postgres(); }

  // Runs SQL on a connection of its own to the test's database (either store); the first
  // column of each row as text. Fails the test on an error.
  std::vector<std::string> rawRows(const std::string& sql) {
    std::vector<std::string> out;
    if (postgres()) {
      PGconn* c = PQconnectdb(location().c_str());
      PGresult* r = PQexec(c, sql.c_str());
      ExecStatusType st = PQresultStatus(r);
      EXPECT_TRUE(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(c);
      if (st == PGRES_TUPLES_OK)
        for (int i = 0; i < PQntuples(r); ++i) out.push_back(PQgetvalue(r, i, 0));
      PQclear(r);
      PQfinish(c);
      return out;
    }
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    int rc = SQLITE_DONE;
    while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      out.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    if (st) {
      EXPECT_EQ(rc, SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }
  // The first column of the first row as an integer (-1 when there is no row).
  int64_t rawInt(const std::string& sql) {
    auto rows = rawRows(sql);
    return rows.empty() ? -1 : std::stoll(rows[0]);
  }

  void tick(int64_t ms = 1000) { now_->fetch_add(ms); }

  WriteResult create(const std::string& json) {
    auto v = parseJson(json);
    auto tx = store_->begin();
    EXPECT_TRUE(tx.isOk()) << tx.status().message();
    if (!tx.isOk()) return {};
    auto type = v.getString("resourceType");
    auto r = tx.value()->create(type, std::move(v));
    EXPECT_TRUE(r.isOk()) << r.status().message();
    Status c = tx.value()->commit();
    EXPECT_TRUE(c.isOk()) << c.message();
    return r.isOk() ? r.value() : WriteResult{};
  }

  Result<WriteResult> put(const std::string& type, const std::string& id, const std::string& json,
                          std::optional<int64_t> ifMatch = std::nullopt) {
    auto tx = store_->begin();
    if (!tx.isOk()) return tx.status();
    auto r = tx.value()->update(type, id, parseJson(json), ifMatch);
    if (!r.isOk()) return r;
    Status c = tx.value()->commit();
    if (!c.isOk()) return c;
    return r;
  }

  Result<WriteResult> remove(const std::string& type, const std::string& id,
                             std::optional<int64_t> ifMatch = std::nullopt) {
    auto tx = store_->begin();
    if (!tx.isOk()) return tx.status();
    auto r = tx.value()->remove(type, id, ifMatch);
    if (!r.isOk()) return r;
    Status c = tx.value()->commit();
    if (!c.isOk()) return c;
    return r;
  }

  Page search(const std::string& type, const Params& params) {
    auto q = parseSearch(type, params);
    auto p = store_->search(q);
    EXPECT_TRUE(p.isOk()) << p.status().message();
    return p.isOk() ? p.take() : Page{};
  }

  // Ids of the page's matches, sorted (for order-independent comparisons).
  std::vector<std::string> ids(const std::string& type, const Params& params) {
    Page p = search(type, params);
    std::vector<std::string> out;
    for (const auto& e : p.entries) out.push_back(e.id);
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<acp::testing::TestStoreLocation> location_;
  std::shared_ptr<std::atomic<int64_t>> now_ = std::make_shared<std::atomic<int64_t>>(0);
  std::unique_ptr<SqlStore> store_;
};

}  // namespace acp::store::testing
