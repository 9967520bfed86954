// Shared fixture for the SQLite store tests: a fresh database file in a unique temp
// directory (removed afterwards), an injectable clock, and helpers to write resources and to
// run searches through search::parseQuery.
#pragma once

#include <gtest/gtest.h>
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
    now_->store(kJan2024);
    reopen();
  }

  void TearDown() override {
    store_.reset();
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
    auto s = SqlStore::open(path_, acp::testing::r4Shared(), options());
    ASSERT_TRUE(s.isOk()) << s.status().message();
    store_ = s.take();
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
  std::shared_ptr<std::atomic<int64_t>> now_ = std::make_shared<std::atomic<int64_t>>(0);
  std::unique_ptr<SqlStore> store_;
};

}  // namespace acp::store::testing
