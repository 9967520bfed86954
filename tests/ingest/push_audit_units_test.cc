// IngestService with a PushAudit (ingest/push_audit.h) on real SQLite and a real AuditTrail:
// a push spread over several transactions leaves one event per transaction, each reporting
// its own records; pushes sharing a grouped commit each get their own event, naming only
// their own patients.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <thread>

#include "gateway/audit/audit_trail.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/ingest/push_audit.h"
#include "gateway/store/sql_store.h"
#include "tests/support/model_fixture.h"
#include "tests/support/test_store.h"

namespace acp::testing {
namespace {

using ingest::MappedPush;
using ingest::MappedRecord;
using ingest::RecordOutcome;

class PushAuditUnits : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/acp-pushaudit-XXXXXX";
    dir_ = mkdtemp(tmpl);
    location_ = std::make_unique<TestStoreLocation>(dir_ + "/p.db");
    auto s = store::SqlStore::open(location_->location(), r4Shared());
    ASSERT_TRUE(s.isOk()) << s.status().message();
    store_ = std::shared_ptr<store::SqlStore>(std::move(s.value()));
    ingest_ = std::make_unique<ingest::IngestService>(r4Shared(), store_, store_);
    trail_ = std::make_unique<audit::AuditTrail>(
        std::shared_ptr<store::AuditLog>(store_, store_.get()));
  }
  void TearDown() override {
    trail_.reset();
    ingest_.reset();
    store_.reset();
    location_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  static MappedRecord record(const std::string& id) {
    MappedRecord r;
    r.recordId = id;
    json::Value p;
    json::ParseError err;
    json::parse(R"({"resourceType":"Patient","id":")" + id +
                    R"(","name":[{"family":"Test"}],"birthDate":"2015-03-14"})",
                p, err);
    r.resources.push_back(std::move(p));
    return r;
  }
  static MappedPush push(const std::string& pushId, std::vector<MappedRecord> records) {
    MappedPush p;
    p.partner = "test";
    p.pushId = pushId;
    p.sourceOds = "X00001";
    p.sourceSystem = "test";
    p.contentType = "application/json";
    p.records = std::move(records);
    return p;
  }
  ingest::PushAudit audit() const {
    ingest::PushAudit a;
    a.trail = trail_.get();
    a.requester.interaction = "operation";
    a.requester.operation = "$ingest";
    a.requester.clientId = "test-client";
    a.requester.organisation = "X00001";
    return a;
  }
  // Every event of the trail, oldest first.
  std::vector<json::Value> events() {
    auto r = trail_->search({{"_count", "1000"}}, "http://x");
    EXPECT_TRUE(r.isOk()) << r.status().message();
    std::vector<json::Value> out;
    if (const json::Value* e = r.value().find("entry"))
      for (const json::Value& x : e->items()) out.insert(out.begin(), *x.find("resource"));
    return out;
  }
  static std::set<std::string> patientsOf(const json::Value& event) {
    std::set<std::string> out;
    for (const json::Value& e : event.find("entity")->items())
      if (e.find("role")->getString("code") == "1")
        out.insert(e.find("what")->getString("reference"));
    return out;
  }
  static std::string detail(const json::Value& event, const std::string& type,
                            std::string* id = nullptr) {
    for (const json::Value& e : event.find("entity")->items()) {
      if (e.find("role")->getString("code") != "20") continue;
      if (id) *id = e.find("what")->find("identifier")->getString("value");
      for (const json::Value& d : e.find("detail")->items())
        if (d.getString("type") == type) return d.getString("valueString");
    }
    return "";
  }

  std::string dir_;
  std::unique_ptr<TestStoreLocation> location_;
  std::shared_ptr<store::SqlStore> store_;
  std::unique_ptr<ingest::IngestService> ingest_;
  std::unique_ptr<audit::AuditTrail> trail_;
};

TEST_F(PushAuditUnits, APushOverSeveralTransactionsHasOneEventPerTransaction) {
  std::vector<MappedRecord> records;
  for (int i = 0; i < 300; ++i) records.push_back(record("child-" + std::to_string(i)));
  MappedPush p = push("big-push", std::move(records));
  ingest::PushAudit a = audit();
  std::vector<RecordOutcome> out = ingest_->commit(p, true, &a);
  ASSERT_EQ(out.size(), 300u);
  EXPECT_TRUE(a.complete);
  for (const RecordOutcome& o : out) {
    EXPECT_EQ(o.result, RecordOutcome::Result::kStored);
    EXPECT_TRUE(o.audited);
  }
  auto all = events();
  ASSERT_EQ(all.size(), 2u) << "256 records, then 44";
  EXPECT_EQ(detail(all[0], "records"), "256 of 300: 256 stored, 0 unchanged, 0 rejected");
  EXPECT_EQ(detail(all[1], "records"), "44 of 300: 44 stored, 0 unchanged, 0 rejected");
  std::set<std::string> first = patientsOf(all[0]), second = patientsOf(all[1]);
  EXPECT_EQ(first.size(), 256u);
  EXPECT_EQ(second.size(), 44u);
  EXPECT_TRUE(first.count("Patient/child-0"));
  EXPECT_TRUE(second.count("Patient/child-299"));
  for (const std::string& patient : second) EXPECT_FALSE(first.count(patient)) << patient;
  for (const json::Value& e : all) {
    EXPECT_EQ(e.getString("action"), "C");
    EXPECT_EQ(e.getString("outcome"), "0");
  }
  auto chain = trail_->verifyChain();
  ASSERT_TRUE(chain.isOk());
  EXPECT_TRUE(chain.value().find("parameter")->items()[0].find("valueBoolean")->boolean());
}

TEST_F(PushAuditUnits, PushesSharingAGroupedCommitEachReportOnlyTheirOwnRecords) {
  constexpr int kPushes = 8;
  std::vector<MappedPush> pushes;
  for (int i = 0; i < kPushes; ++i)
    pushes.push_back(push("msg-" + std::to_string(i), {record("p" + std::to_string(i))}));
  std::vector<ingest::PushAudit> audits(kPushes, audit());
  std::vector<std::thread> threads;
  for (int i = 0; i < kPushes; ++i)
    threads.emplace_back([&, i] { ingest_->commitGrouped(pushes[i], &audits[i]); });
  for (std::thread& t : threads) t.join();
  for (const ingest::PushAudit& a : audits) EXPECT_TRUE(a.complete);
  auto all = events();
  ASSERT_EQ(all.size(), static_cast<size_t>(kPushes));
  std::set<std::string> seen;
  for (const json::Value& e : all) {
    std::string id;
    EXPECT_EQ(detail(e, "records", &id), "1 of 1: 1 stored, 0 unchanged, 0 rejected");
    ASSERT_EQ(id.rfind("msg-", 0), 0u);
    EXPECT_EQ(patientsOf(e), std::set<std::string>{"Patient/p" + id.substr(4)}) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kPushes));
}

TEST_F(PushAuditUnits, APushWithoutRecordsStillLeavesAnEvent) {
  MappedPush p = push("empty-push", {});
  ingest::PushAudit a = audit();
  EXPECT_TRUE(ingest_->commit(p, true, &a).empty());
  EXPECT_TRUE(a.complete);
  auto all = events();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(detail(all[0], "records"), "0 of 0: 0 stored, 0 unchanged, 0 rejected");
  EXPECT_EQ(all[0].getString("outcome"), "0");
}

}  // namespace
}  // namespace acp::testing
