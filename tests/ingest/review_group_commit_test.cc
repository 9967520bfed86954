// Review of this session's IngestService group commit (commitItems / commitGrouped) and
// delivery keys, against a real SqlStore. Each test guards a defect found in review (since
// fixed); the comment above it says what was wrong and why it mattered.
//
// Faults are injected without mocks: a commit failure through a deferred foreign key that a
// trigger (added with a second SQLite connection) violates, and an allocation failure through
// a replaced global operator new that fails one large allocation on one thread when armed
// (inert otherwise).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <new>
#include <string>
#include <thread>

#include "gateway/ingest/ingest_service.h"
#include "gateway/store/sql_store.h"
#include "tests/support/model_fixture.h"
#include "tests/support/test_store.h"

namespace {
// When non-zero: the next allocation of at least this many bytes on this thread throws
// std::bad_alloc (then disarms).
thread_local std::size_t gFailAllocationFrom = 0;
}  // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (gFailAllocationFrom != 0 && n >= gFailAllocationFrom) {
    gFailAllocationFrom = 0;
    throw std::bad_alloc();
  }
  if (n == 0) n = 1;
  if (void* p = std::malloc(n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace acp::testing {
namespace {

using ingest::MappedPush;
using ingest::MappedRecord;
using ingest::RecordOutcome;

class ReviewGroupCommit : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/acp-review-group-XXXXXX";
    dir_ = mkdtemp(tmpl);
    location_ = std::make_unique<TestStoreLocation>(path());
    auto s = store::SqlStore::open(location_->location(), r4Shared());
    ASSERT_TRUE(s.isOk()) << s.status().message();
    store_ = std::shared_ptr<store::SqlStore>(std::move(s.value()));
    ingest_ = std::make_shared<ingest::IngestService>(r4Shared(), store_, store_);
  }
  void TearDown() override {
    ingest_.reset();
    store_.reset();
    location_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }
  std::string path() const { return dir_ + "/g.db"; }

  // Runs SQL on a second connection to the same database.
  void sql(const std::string& text) { EXPECT_EQ(location_->side()->exec(text), ""); }

  static MappedRecord record(const std::string& id, const std::string& family = "Hartley") {
    json::Value p;
    json::ParseError err;
    json::parse(R"({"resourceType":"Patient","id":")" + id + R"(","name":[{"family":")" + family +
                    R"("}],"birthDate":"2015-03-14"})",
                p, err);
    MappedRecord r;
    r.recordId = id;
    r.resources.push_back(std::move(p));
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

  std::string dir_;
  std::unique_ptr<TestStoreLocation> location_;
  std::shared_ptr<store::SqlStore> store_;
  std::shared_ptr<ingest::IngestService> ingest_;
};

// Found in review (message loss; fixed) — gateway/ingest/ingest_service.cc applyRecord/commitItems (~lines
// 243-260 and 200-205). A resend of a message that is in the *same* group as its original
// (the sender timed out waiting for the ACK while the original sat in a slow group commit and
// resent on another connection) claims nothing and is answered "unchanged" (ingest.resent)
// because the original's claim is visible inside the transaction. When that commit then
// fails, commitItems turns only the *stored* outcomes into store failures: the original gets
// no ACK, but the resend keeps "unchanged" — Hl7Feed answers it AA. The sender has its AA for
// that MSH-10 and never sends it again, yet nothing was committed: the message is lost.
// An outcome that depends on a claim made in this transaction must fail with the commit.
TEST_F(ReviewGroupCommit, AResendAnsweredFromAClaimInAFailedCommitIsNotUnchanged) {
  // The commit fails: a deferred foreign key violated by a trigger on Patient "poison"
  // (PostgreSQL: a deferred constraint trigger).
  if (location_->postgres()) {
    sql("CREATE FUNCTION review_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.id = 'poison' THEN RAISE EXCEPTION 'commit refused by the test'; END IF; "
        "RETURN NEW; END $$;"
        "CREATE CONSTRAINT TRIGGER review_fail_commit AFTER INSERT ON versions "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION review_fail();");
  } else {
    sql("CREATE TABLE review_parent(id INTEGER PRIMARY KEY);"
        "CREATE TABLE review_child(x INTEGER REFERENCES review_parent(id) "
        "  DEFERRABLE INITIALLY DEFERRED);"
        "CREATE TRIGGER review_fail_commit AFTER INSERT ON versions WHEN NEW.id = 'poison' "
        "BEGIN INSERT INTO review_child VALUES (1); END;");
  }
  MappedRecord original = record("poison");
  original.deliveryKey = "hl7v2|PAS|RX8|MSG-1";
  MappedRecord resend = record("poison");
  resend.deliveryKey = "hl7v2|PAS|RX8|MSG-1";
  std::vector<RecordOutcome> out = ingest_->commit(push("p", {original, resend}));
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].result, RecordOutcome::Result::kRejected) << "the commit was meant to fail";
  bool storeFailed = false;
  for (const Issue& i : out[0].issues.issues()) storeFailed |= i.code == "ingest.store-failed";
  ASSERT_TRUE(storeFailed) << "the original failed for another reason (test set-up)";
  // Nothing was committed, the key is free...
  EXPECT_FALSE(store_->read("Patient", "poison").isOk());
  // ...so the resend must not be answered as if its message had been applied.
  EXPECT_NE(out[1].result, RecordOutcome::Result::kUnchanged)
      << "answered unchanged (AA over MLLP) although nothing was committed";
}

// Found in review (availability: every MLLP worker hung) — gateway/ingest/ingest_service.cc
// commitGrouped. The leader sets groupLeader_ = true, unlocks and calls
// commitItems/keepRejected; if either throws (std::bad_alloc; any exception from validation,
// mapping of stored data, the profile validator or the failure log), the exception leaves
// commitGrouped without resetting groupLeader_, without marking the group's waiters done and
// without notifying. Every follower in that group waits forever, and so does every later
// commitGrouped() call: all MLLP workers block, no hospital message is acknowledged again
// until restart. Leader state must be restored (and waiters released) on every exit path.
TEST_F(ReviewGroupCommit, AnExceptionInACommitDoesNotWedgeEveryLaterGroupedCommit) {
  // A record holding a large string; the leader's first copy of it fails to allocate.
  MappedRecord big = record("big", std::string(2 << 20, 'x'));
  MappedPush first = push("first", {big});
  gFailAllocationFrom = 1 << 20;
  bool threw = false;
  std::vector<RecordOutcome> failed;
  try {
    failed = ingest_->commitGrouped(first);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  gFailAllocationFrom = 0;
  // The failure is answered as a store failure (the MLLP feed then sends no ACK and the
  // sender resends), not thrown through the group.
  EXPECT_FALSE(threw);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].result, RecordOutcome::Result::kRejected);
  bool storeFailedCode = false;
  for (const Issue& i : failed[0].issues.issues()) storeFailedCode |= i.code == "ingest.store-failed";
  EXPECT_TRUE(storeFailedCode) << "the allocation failure was not reached (test set-up)";

  // An ordinary message afterwards, from another MLLP worker.
  auto ingest = ingest_;
  auto second = std::make_shared<MappedPush>(push("second", {record("ok")}));
  auto result = std::make_shared<std::promise<size_t>>();
  std::future<size_t> done = result->get_future();
  std::thread worker([ingest, second, result] {
    result->set_value(ingest->commitGrouped(*second).size());
  });
  // The deadline is the behaviour under test: a grouped commit must not wait forever.
  if (done.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
    worker.detach();
    // The worker is blocked for good inside the service: keep the service and store alive
    // (never destroyed) so that the rest of the suite can run.
    new std::shared_ptr<ingest::IngestService>(ingest_);
    new std::shared_ptr<store::SqlStore>(store_);
    FAIL() << "commitGrouped() blocked forever after an exception in an earlier commit";
  }
  worker.join();
  EXPECT_EQ(done.get(), 1u);
  EXPECT_TRUE(store_->read("Patient", "ok").isOk());
}

}  // namespace
}  // namespace acp::testing
