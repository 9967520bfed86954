// Shared fixture for the audit tests: a SqlStore on a fresh file (tests/store's StoreTest:
// temp directory, injectable clock), an AuditTrail on it, records to fill in, a second SQLite
// connection to the same file for tampering, and the R4 validator.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "gateway/audit/audit_trail.h"
#include "gateway/core/issues.h"
#include "gateway/model/validator.h"
#include "tests/store/store_fixture.h"

namespace acp::audit::testing {

inline constexpr const char* kOds = "A81001";

inline AuditRecord readRecord(const std::string& patient, const std::string& client = "gp-app",
                              const std::string& organisation = kOds) {
  AuditRecord r;
  r.interaction = "read";
  r.clientId = client;
  r.organisation = organisation;
  r.role = "gp-practice";
  r.tokenId = "jti-1";
  r.sourceAddress = "10.0.0.7";
  r.patients = {patient};
  r.entities = {"Patient/" + patient + "/_history/1"};
  return r;
}

inline std::string dump(const IssueList& list) {
  std::string s;
  for (const Issue& i : list.issues())
    s += std::string("  [") + severityCode(i.severity) + "] " + i.location + " " + i.code + ": " +
         i.message + "\n";
  return s;
}

inline const model::Validator& validator() {
  static model::Validator v(acp::testing::r4Shared());
  return v;
}

// Valid against the R4 model (errors only; the issues listed on failure).
inline ::testing::AssertionResult validAuditEvent(const json::Value& event) {
  IssueList issues;
  if (validator().validate(event, issues, "AuditEvent")) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << dump(issues) << json::write(event, true);
}

class AuditTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    makeTrail();
  }

  void reopenAll() {
    trail_.reset();
    reopen();
    makeTrail();
  }

  void makeTrail() {
    AuditTrailOptions o;
    o.source.name = "ACP Gateway (test)";
    o.source.site = "test";
    o.source.address = store::testing::kBase;
    auto now = now_;
    o.nowMs = [now] { return now->load(); };
    // Non-owning: the fixture owns the store and destroys the trail first.
    trail_ = std::make_unique<AuditTrail>(
        std::shared_ptr<store::AuditLog>(store_.get(), [](store::AuditLog*) {}), o);
  }

  void TearDown() override {
    trail_.reset();
    StoreTest::TearDown();
  }

  void record(const AuditRecord& r) {
    Status s = trail_->record(r);
    ASSERT_TRUE(s.isOk()) << s.message();
  }

  std::vector<store::AuditRow> allRows() {
    store::AuditQuery q;
    q.count = 100000;
    auto page = store_->auditPage(q);
    EXPECT_TRUE(page.isOk()) << page.status().message();
    return page.isOk() ? page.value().rows : std::vector<store::AuditRow>{};
  }

  store::AuditChainCheck verify(int64_t anchorSeq = 0, const std::string& anchorHash = "") {
    auto c = store_->verifyAuditChain(anchorSeq, anchorHash);
    EXPECT_TRUE(c.isOk()) << c.status().message();
    return c.isOk() ? c.value() : store::AuditChainCheck{};
  }

  // Runs SQL on a connection of its own to the database file: what someone editing the file
  // behind the gateway's back would do. Returns SQLite's error message, "" on success.
  std::string tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      std::string m = db ? sqlite3_errmsg(db) : "open failed";
      sqlite3_close(db);
      return m;
    }
    sqlite3_busy_timeout(db, 5000);
    char* err = nullptr;
    std::string out;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK)
      out = err ? err : "failed";
    sqlite3_free(err);
    sqlite3_close(db);
    return out;
  }

  std::unique_ptr<AuditTrail> trail_;
};

}  // namespace acp::audit::testing
