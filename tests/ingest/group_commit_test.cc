// IngestService's shared commits: the records of a push and pushes arriving together share
// one transaction, yet each record is all-or-nothing and answered on its own. Real SQLite.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "gateway/ingest/ingest_service.h"
#include "gateway/profile/profile_validator.h"
#include "gateway/store/sql_store.h"
#include "tests/support/model_fixture.h"
#include "tests/support/test_store.h"

namespace acp::testing {
namespace {

using ingest::MappedPush;
using ingest::MappedRecord;
using ingest::RecordOutcome;

class GroupCommit : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/acp-group-XXXXXX";
    dir_ = mkdtemp(tmpl);
    location_ = std::make_unique<TestStoreLocation>(dir_ + "/g.db");
    auto s = store::SqlStore::open(location_->location(), r4Shared());
    ASSERT_TRUE(s.isOk()) << s.status().message();
    store_ = std::shared_ptr<store::SqlStore>(std::move(s.value()));
    ingest_ = std::make_unique<ingest::IngestService>(r4Shared(), store_, store_);
  }
  void TearDown() override {
    ingest_.reset();
    store_.reset();
    location_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  static json::Value patient(const std::string& id, const std::string& birthDate) {
    json::Value p;
    json::ParseError err;
    json::parse(R"({"resourceType":"Patient","id":")" + id +
                    R"(","name":[{"family":"Hartley"}],"birthDate":")" + birthDate + R"("})",
                p, err);
    return p;
  }
  static MappedRecord record(const std::string& id, const std::string& birthDate) {
    MappedRecord r;
    r.recordId = id;
    r.resources.push_back(patient(id, birthDate));
    r.content = "record " + id;
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
  int64_t provenanceCount() {
    search::SearchQuery q;
    q.resourceType = "Provenance";
    q.count = 0;
    q.totalAccurate = true;
    auto page = store_->search(q);
    return page.isOk() && page->total ? *page->total : -1;
  }

  std::string dir_;
  std::unique_ptr<TestStoreLocation> location_;
  std::shared_ptr<store::SqlStore> store_;
  std::unique_ptr<ingest::IngestService> ingest_;
};

TEST_F(GroupCommit, ARecordFailingValidationLeavesItsNeighboursInTheSameCommitStored) {
  MappedPush p = push("push-1", {record("a", "2015-03-14"), record("b", "2015-02-31"),
                                 record("c", "2016-01-01")});
  std::vector<RecordOutcome> out = ingest_->commit(p);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].result, RecordOutcome::Result::kStored);
  EXPECT_EQ(out[1].result, RecordOutcome::Result::kRejected);
  EXPECT_EQ(out[2].result, RecordOutcome::Result::kStored);
  EXPECT_TRUE(store_->read("Patient", "a").isOk());
  EXPECT_FALSE(store_->read("Patient", "b").isOk());  // nothing of it written
  EXPECT_TRUE(store_->read("Patient", "c").isOk());
  EXPECT_EQ(provenanceCount(), 2);  // one per stored record, none for the rejected one
  // The rejected record is kept with its own content.
  auto kept = store_->list("open", 10, 0);
  ASSERT_TRUE(kept.isOk());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ(kept->front().content, "record b");
}

TEST_F(GroupCommit, PushesFromManyThreadsAreEachStoredAndAnsweredOnTheirOwn) {
  constexpr int kThreads = 8, kEach = 25;
  std::atomic<int> stored{0}, rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string id = "p" + std::to_string(t) + "-" + std::to_string(i);
        // Every fifth message is invalid: it must fail alone, whatever shares its commit.
        MappedPush p = push(id, {record(id, i % 5 == 4 ? "2015-13-01" : "2015-03-14")});
        std::vector<RecordOutcome> out = ingest_->commitGrouped(p);
        if (out.size() == 1 && out[0].recordId == id &&
            out[0].result == RecordOutcome::Result::kStored)
          ++stored;
        if (out.size() == 1 && out[0].result == RecordOutcome::Result::kRejected) ++rejected;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(stored.load(), kThreads * kEach * 4 / 5);
  EXPECT_EQ(rejected.load(), kThreads * kEach / 5);
  EXPECT_EQ(provenanceCount(), kThreads * kEach * 4 / 5);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kEach; ++i)
      EXPECT_EQ(store_->read("Patient", "p" + std::to_string(t) + "-" + std::to_string(i)).isOk(),
                i % 5 != 4);
}

TEST_F(GroupCommit, ADeliveryKeyIsClaimedOnlyWhenItsRecordIsStored) {
  MappedRecord bad = record("k", "2015-02-31");
  bad.deliveryKey = "test|A|B|MSG1";
  EXPECT_EQ(ingest_->commit(push("1", {bad}))[0].result, RecordOutcome::Result::kRejected);
  // Fixed and resent under the same control id: applied, since nothing was applied before.
  MappedRecord fixed = record("k", "2015-02-28");
  fixed.deliveryKey = "test|A|B|MSG1";
  EXPECT_EQ(ingest_->commit(push("2", {fixed}))[0].result, RecordOutcome::Result::kStored);
  // Resent again with other content: recognised, not applied.
  MappedRecord again = record("k", "2015-02-27");
  again.deliveryKey = "test|A|B|MSG1";
  EXPECT_EQ(ingest_->commit(push("3", {again}))[0].result, RecordOutcome::Result::kUnchanged);
  EXPECT_NE(store_->read("Patient", "k")->json.find("2015-02-28"), std::string::npos);
}

TEST_F(GroupCommit, ALargePushIsSplitIntoSeveralCommitsAndEveryRecordIsAnswered) {
  std::vector<MappedRecord> records;
  const size_t n = ingest::IngestService::kRecordsPerCommit * 2 + 7;
  for (size_t i = 0; i < n; ++i) records.push_back(record("r" + std::to_string(i), "2015-03-14"));
  std::vector<RecordOutcome> out = ingest_->commit(push("big", std::move(records)));
  ASSERT_EQ(out.size(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(out[i].recordId, "r" + std::to_string(i));
    EXPECT_EQ(out[i].result, RecordOutcome::Result::kStored);
  }
  EXPECT_EQ(provenanceCount(), static_cast<int64_t>(n));
}

TEST_F(GroupCommit, WrittenResourcesClaimTheirProfilesAndAreValidatedAgainstThem) {
  auto registry = profile::ProfileRegistry::load(
      r4Shared(), {std::string(ACP_SOURCE_DIR) + "/conformance/acp",
                   std::string(ACP_SOURCE_DIR) + "/conformance/ukcore"});
  ASSERT_TRUE(registry.isOk()) << registry.status().message();
  ingest_->setProfiles(std::make_shared<profile::ProfileValidator>(registry.value()));
  auto plan = [](const std::string& id, int reviewDates) {
    std::string ext;
    for (int i = 0; i < reviewDates; ++i)
      ext += std::string(i ? "," : "") +
             R"({"url":"https://acp-gateway.nhs.uk/StructureDefinition/acp-review-date","valueDate":"2027-02-01"})";
    json::Value v;
    json::ParseError err;
    json::parse(R"({"resourceType":"CarePlan","id":")" + id + R"(","extension":[)" + ext +
                    R"(],"status":"active","intent":"plan","category":[{"coding":[{"system":"http://snomed.info/sct","code":"736366004"}]}],
        "subject":{"reference":"Patient/a"},"activity":[{"detail":{"code":{"text":"x"},"status":"in-progress"}}]})",
                v, err);
    return v;
  };
  MappedRecord good = record("a", "2015-03-14");
  good.resources.push_back(plan("plan-1", 1));
  MappedRecord bad;  // R4-valid, but ACP-CarePlan allows one review date
  bad.recordId = "b";
  bad.resources.push_back(plan("plan-2", 2));
  std::vector<RecordOutcome> out = ingest_->commit(push("p", {good, bad}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].result, RecordOutcome::Result::kStored);
  EXPECT_EQ(out[1].result, RecordOutcome::Result::kRejected);
  bool maxIssue = false;
  for (const Issue& i : out[1].issues.issues()) maxIssue = maxIssue || i.code == "profile.max";
  EXPECT_TRUE(maxIssue);
  auto stored = store_->read("CarePlan", "plan-1");
  ASSERT_TRUE(stored.isOk());
  EXPECT_NE(stored->json.find(R"("profile":["https://acp-gateway.nhs.uk/StructureDefinition/ACP-CarePlan"])"),
            std::string::npos);
  EXPECT_NE(store_->read("Patient", "a")->json.find("UKCore-Patient"), std::string::npos);
}

}  // namespace
}  // namespace acp::testing
