// AuditTrail on a real SQLite file: writes and their AuditEvents commit together, concurrent
// reads are all recorded (group commit) in one dense chain, and the privacy officer's search,
// read and $verify-chain answer as FHIR.
#include "gateway/audit/audit_trail.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gateway/profile/profile_validator.h"
#include "tests/audit/audit_fixture.h"

namespace acp::audit::testing {
namespace {

using store::testing::parseJson;

constexpr const char* kPatient = R"({"resourceType":"Patient","name":[{"family":"Audit"}]})";

class AuditTrailTest : public AuditTest {
 protected:
  // The AuditEvents of a search (its entries' resources), in order.
  std::vector<json::Value> events(const json::Value& bundle) {
    std::vector<json::Value> out;
    if (const json::Value* entries = bundle.find("entry"))
      for (const json::Value& e : entries->items()) out.push_back(*e.find("resource"));
    return out;
  }

  json::Value search(const QueryParams& params) {
    auto b = trail_->search(params, store::testing::kBase);
    EXPECT_TRUE(b.isOk()) << b.status().message();
    return b.isOk() ? b.take() : json::Value();
  }

  std::vector<std::string> ids(const QueryParams& params) {
    std::vector<std::string> out;
    for (const json::Value& e : events(search(params))) out.push_back(e.getString("id"));
    return out;
  }

  // The _cursor of the bundle's next link, "" when there is none.
  static std::string nextCursor(const json::Value& bundle) {
    for (const json::Value& l : bundle.find("link")->items()) {
      if (l.getString("relation") != "next") continue;
      const std::string& url = l.getString("url");
      size_t at = url.find("_cursor=");
      return at == std::string::npos ? "" : url.substr(at + 8);
    }
    return "";
  }
};

TEST_F(AuditTrailTest, AWriteAndItsAuditEventCommitTogether) {
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  auto w = tx.value()->create("Patient", parseJson(kPatient));
  ASSERT_TRUE(w.isOk());
  AuditRecord r = readRecord(w.value().resource.id, "hospice-system", "8HQ21");
  r.interaction = "create";
  r.entities = {"Patient/" + w.value().resource.id + "/_history/1"};
  ASSERT_TRUE(trail_->recordWithin(*tx.value(), r).isOk());
  ASSERT_TRUE(tx.value()->commit().isOk());

  EXPECT_TRUE(store_->read("Patient", w.value().resource.id).isOk());
  auto rows = allRows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].seq, 1);
  EXPECT_EQ(rows[0].action, "C");
  EXPECT_EQ(rows[0].client, "hospice-system");
  EXPECT_EQ(ids({{"patient", "Patient/" + w.value().resource.id}}),
            (std::vector<std::string>{"1"}));
  EXPECT_TRUE(verify().intact);
}

TEST_F(AuditTrailTest, ARolledBackWriteLeavesNoAuditEvent) {
  std::string id;
  {
    auto tx = store_->begin();
    ASSERT_TRUE(tx.isOk());
    auto w = tx.value()->create("Patient", parseJson(kPatient));
    ASSERT_TRUE(w.isOk());
    id = w.value().resource.id;
    AuditRecord r = readRecord(id);
    r.interaction = "create";
    ASSERT_TRUE(trail_->recordWithin(*tx.value(), r).isOk());
    // Destroyed without commit: rolled back.
  }
  EXPECT_EQ(store_->read("Patient", id).status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(allRows().empty());
  EXPECT_TRUE(ids({{"patient", id}}).empty());
  // The chain starts afresh: the next event is seq 1 after the genesis hash.
  record(readRecord("p1"));
  auto rows = allRows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].seq, 1);
  EXPECT_EQ(rows[0].prevHash, store::kAuditGenesisHash);
  EXPECT_TRUE(verify().intact);
}

TEST_F(AuditTrailTest, AnUndoneUnitTakesItsAuditEventWithIt) {
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  AuditRecord kept = readRecord("kept");
  kept.interaction = "update";
  ASSERT_TRUE(trail_->recordWithin(*tx.value(), kept).isOk());
  ASSERT_TRUE(tx.value()->beginUnit().isOk());
  AuditRecord undone = readRecord("undone");
  undone.interaction = "update";
  ASSERT_TRUE(trail_->recordWithin(*tx.value(), undone).isOk());
  ASSERT_TRUE(tx.value()->endUnit(false).isOk());
  AuditRecord after = readRecord("after");
  after.interaction = "update";
  ASSERT_TRUE(trail_->recordWithin(*tx.value(), after).isOk());
  ASSERT_TRUE(tx.value()->commit().isOk());

  auto rows = allRows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].seq, 2);
  EXPECT_EQ(rows[1].seq, 1);
  EXPECT_TRUE(ids({{"patient", "undone"}}).empty());
  EXPECT_EQ(ids({{"patient", "after"}}), (std::vector<std::string>{"2"}));
  auto check = verify();
  EXPECT_TRUE(check.intact) << check.problem;
  EXPECT_EQ(check.checked, 2);
}

TEST_F(AuditTrailTest, ConcurrentReadsAreAllRecordedInOneDenseChain) {
  constexpr int kThreads = 16;
  constexpr int kEach = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        AuditRecord r = readRecord("t" + std::to_string(t) + "-" + std::to_string(i),
                                   "client-" + std::to_string(t % 4));
        if (!trail_->record(r).isOk()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);

  auto rows = allRows();
  ASSERT_EQ(rows.size(), static_cast<size_t>(kThreads * kEach));
  std::set<int64_t> seqs;
  for (const auto& row : rows) seqs.insert(row.seq);
  EXPECT_EQ(seqs.size(), rows.size());
  EXPECT_EQ(*seqs.begin(), 1);
  EXPECT_EQ(*seqs.rbegin(), kThreads * kEach);
  // Every thread's every event is there, found by its patient.
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kEach; i += 13)
      EXPECT_EQ(ids({{"patient", "t" + std::to_string(t) + "-" + std::to_string(i)}}).size(), 1u);
  auto check = verify();
  EXPECT_TRUE(check.intact) << check.problem;
  EXPECT_EQ(check.checked, kThreads * kEach);
  EXPECT_EQ(check.lastSeq, kThreads * kEach);
}

TEST_F(AuditTrailTest, ReadsAndAuditedWritesInterleaveWithoutBreakingTheChain) {
  constexpr int kWriters = 3, kReaders = 6, kEach = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto tx = store_->begin();
        if (!tx.isOk()) {
          failures++;
          continue;
        }
        auto w = tx.value()->create("Patient", parseJson(kPatient));
        AuditRecord r = readRecord(w.isOk() ? w.value().resource.id : "x");
        r.interaction = "create";
        if (!w.isOk() || !trail_->recordWithin(*tx.value(), r).isOk() ||
            !tx.value()->commit().isOk())
          failures++;
      }
    });
  for (int t = 0; t < kReaders; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i)
        if (!trail_->record(readRecord("r")).isOk()) failures++;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto check = verify();
  EXPECT_TRUE(check.intact) << check.problem;
  EXPECT_EQ(check.checked, (kWriters + kReaders) * kEach);
  EXPECT_EQ(ids({{"action", "C"}, {"_count", "1000"}}).size(),
            static_cast<size_t>(kWriters * kEach));
}

TEST_F(AuditTrailTest, RecordOnAThreadHoldingTheWriterIsRefusedNotDeadlocked) {
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  Status s = trail_->record(readRecord("p1"));
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message().rfind("store.nested-transaction", 0), 0u) << s.message();
}

// submit(): each event's callback is called once, after the event is in the store, with the
// group's outcome; events queued when the trail is destroyed are committed first.
TEST_F(AuditTrailTest, SubmittedEventsAreReportedOnceEachAfterTheyAreDurable) {
  constexpr int kThreads = 4, kEach = 50;
  std::atomic<int> reported{0}, notThereYet{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string patient = "s" + std::to_string(t) + "-" + std::to_string(i);
        trail_->submit(readRecord(patient), [&, patient](Status s) {
          if (!s.isOk()) ++failed;
          // Durable means readable by another connection now.
          store::AuditQuery q;
          q.patient = patient;
          q.count = 5;
          auto page = store_->auditPage(q);
          if (!page.isOk() || page.value().rows.size() != 1) ++notThereYet;
          ++reported;
        });
      }
    });
  for (auto& t : threads) t.join();
  // Destroying the trail drains its queue: every callback has run when it returns.
  trail_.reset();
  EXPECT_EQ(reported.load(), kThreads * kEach);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(notThereYet.load(), 0);
  auto check = store_->verifyAuditChain(0, "");
  ASSERT_TRUE(check.isOk());
  EXPECT_TRUE(check.value().intact);
  EXPECT_EQ(check.value().checked, kThreads * kEach);
}

// The store's audit log, with a note of how each batch was committed and of each flush.
class RecordingLog : public store::AuditLog {
 public:
  explicit RecordingLog(store::AuditLog& real) : real_(real) {}
  Status appendAudit(std::vector<store::AuditRow>& rows,
                     store::AuditDurability durability) override {
    {
      std::lock_guard<std::mutex> lock(m_);
      appends_.push_back(durability);
    }
    Status s = real_.appendAudit(rows, durability);
    std::this_thread::sleep_for(std::chrono::milliseconds(slow_.exchange(0)));
    return s;
  }
  // The next append returns `d` after its commit.
  void slowNextAppend(std::chrono::milliseconds d) { slow_ = d.count(); }
  Status flushAudit() override {
    ++flushes_;
    return real_.flushAudit();
  }
  bool writerHeldByThisThread() override { return real_.writerHeldByThisThread(); }
  Result<store::AuditPage> auditPage(const store::AuditQuery& q) override {
    return real_.auditPage(q);
  }
  Result<std::optional<store::AuditRow>> auditRow(int64_t seq) override {
    return real_.auditRow(seq);
  }
  Result<store::AuditChainCheck> verifyAuditChain(int64_t anchorSeq,
                                                  const std::string& anchorHash) override {
    return real_.verifyAuditChain(anchorSeq, anchorHash);
  }

  std::vector<store::AuditDurability> appends() {
    std::lock_guard<std::mutex> lock(m_);
    return appends_;
  }
  int flushes() const { return flushes_.load(); }

 private:
  store::AuditLog& real_;
  std::mutex m_;
  std::vector<store::AuditDurability> appends_;
  std::atomic<int> flushes_{0};
  std::atomic<int64_t> slow_{0};
};

// A trail of its own on `log` (the fixture's trail is closed first: one committer at a time).
std::unique_ptr<AuditTrail> trailOn(RecordingLog& log, store::AuditDurability durability,
                                    int flushMs = 100) {
  AuditTrailOptions o;
  o.source.name = "ACP Gateway (test)";
  o.durability = durability;
  o.flushMs = flushMs;
  return std::make_unique<AuditTrail>(
      std::shared_ptr<store::AuditLog>(&log, [](store::AuditLog*) {}), o);
}

// readDurability=process: each event is committed before its caller hears (another
// connection reads it at once), the committer flushes once the window has passed with nothing
// else to commit, and a batch that comes after the window is committed on disk instead.
TEST_F(AuditTrailTest, ProcessDurableEventsAreCommittedAtOnceAndFlushedWithinTheWindow) {
  trail_.reset();
  RecordingLog log(*store_);
  auto trail = trailOn(log, store::AuditDurability::kProcess, 200);
  ASSERT_TRUE(trail->record(readRecord("p1")).isOk());
  {
    store::AuditQuery q;
    q.patient = "p1";
    auto page = store_->auditPage(q);
    ASSERT_TRUE(page.isOk());
    EXPECT_EQ(page.value().rows.size(), 1u);
  }
  ASSERT_EQ(log.appends().size(), 1u);
  EXPECT_EQ(log.appends()[0], store::AuditDurability::kProcess);
  // Idle: the flush comes once the window has passed (polled).
  for (int i = 0; i < 1000 && log.flushes() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(log.flushes(), 1);

  // Nothing waits now: p2 opens a new window. p3's commit then takes longer than that window
  // (the store is made slow for it), and p4, queued meanwhile, is committed on disk.
  ASSERT_TRUE(trail->record(readRecord("p2")).isOk());
  log.slowNextAppend(std::chrono::milliseconds(400));
  std::atomic<bool> p3done{false};
  trail->submit(readRecord("p3"), [&](Status s) {
    EXPECT_TRUE(s.isOk());
    p3done = true;
  });
  for (int i = 0; i < 1000 && log.appends().size() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(trail->record(readRecord("p4")).isOk());
  EXPECT_TRUE(p3done.load());
  auto appends = log.appends();
  ASSERT_EQ(appends.size(), 4u);
  EXPECT_EQ(appends[1], store::AuditDurability::kProcess);
  EXPECT_EQ(appends[2], store::AuditDurability::kProcess);
  EXPECT_EQ(appends[3], store::AuditDurability::kDisk);
  // p4's disk commit synced everything: closing the trail has nothing left to flush.
  trail.reset();
  EXPECT_EQ(log.flushes(), 1);
  auto check = store_->verifyAuditChain(0, "");
  ASSERT_TRUE(check.isOk());
  EXPECT_TRUE(check.value().intact);
  EXPECT_EQ(check.value().checked, 4);
}

// Closing the trail flushes what still waits for its window.
TEST_F(AuditTrailTest, ClosingTheTrailFlushesWhatWaits) {
  trail_.reset();
  RecordingLog log(*store_);
  auto trail = trailOn(log, store::AuditDurability::kProcess, 10000);
  ASSERT_TRUE(trail->record(readRecord("p1")).isOk());
  EXPECT_EQ(log.flushes(), 0);
  trail.reset();
  EXPECT_EQ(log.flushes(), 1);
}

// The default: every batch on disk, no flushes.
TEST_F(AuditTrailTest, DiskDurableEventsAreNeverLeftToAFlush) {
  trail_.reset();
  RecordingLog log(*store_);
  auto trail = trailOn(log, AuditTrailOptions{}.durability);
  for (const char* p : {"p1", "p2", "p3"}) ASSERT_TRUE(trail->record(readRecord(p)).isOk());
  trail.reset();
  for (store::AuditDurability d : log.appends()) EXPECT_EQ(d, store::AuditDurability::kDisk);
  EXPECT_EQ(log.appends().size(), 3u);
  EXPECT_EQ(log.flushes(), 0);
}

// An invalid record never reaches the queue: its callback hears at once, on the caller.
TEST_F(AuditTrailTest, AnInvalidSubmittedRecordIsReportedAtOnce) {
  AuditRecord r = readRecord("p1");
  r.interaction = "";
  bool heard = false;
  std::thread::id on;
  trail_->submit(r, [&](Status s) {
    heard = true;
    on = std::this_thread::get_id();
    EXPECT_FALSE(s.isOk());
  });
  EXPECT_TRUE(heard);
  EXPECT_EQ(on, std::this_thread::get_id());
}

TEST_F(AuditTrailTest, AnInvalidRecordIsRefusedAndWritesNothing) {
  AuditRecord r = readRecord("p1");
  r.interaction = "";
  EXPECT_EQ(trail_->record(r).code(), Status::Code::kInvalid);
  EXPECT_TRUE(allRows().empty());
}

TEST_F(AuditTrailTest, SeveralEventsAtOnceAreAppendedInOrderOrNotAtAll) {
  std::vector<AuditRecord> batch = {readRecord("p1"), readRecord("p2"), readRecord("p3")};
  ASSERT_TRUE(trail_->recordAll(batch).isOk());
  ASSERT_EQ(allRows().size(), 3u);
  for (int64_t seq = 1; seq <= 3; ++seq) {  // in the order given
    auto row = store_->auditRow(seq);
    ASSERT_TRUE(row.isOk() && row.value());
    EXPECT_EQ(row.value()->patients, std::vector<std::string>{"p" + std::to_string(seq)});
  }
  EXPECT_TRUE(verify().intact);
  // One invalid record: none of the batch is appended.
  batch[1].interaction = "";
  EXPECT_EQ(trail_->recordAll(batch).code(), Status::Code::kInvalid);
  EXPECT_EQ(allRows().size(), 3u);
  EXPECT_TRUE(trail_->recordAll({}).isOk());
}

// 24 events, one hour apart from 2024-01-01T00:00Z: clients a/b/c in turn, patients p0..p3 in
// turn, every 6th break-glass (ETREAT), every 8th a denial, every 5th a create.
class AuditSearchTest : public AuditTrailTest {
 protected:
  void SetUp() override {
    AuditTrailTest::SetUp();
    for (int i = 0; i < 24; ++i) {
      AuditRecord r = readRecord("p" + std::to_string(i % 4), std::string(1, "abc"[i % 3]),
                                 i % 3 == 2 ? "RYE01" : kOds);
      if (i % 6 == 0) {
        r.purpose = "ETREAT";
        r.breakGlassReason = "emergency";
      }
      if (i % 8 == 0) {
        r.outcome = kOutcomeMinorFailure;
        r.outcomeText = "forbidden";
      }
      if (i % 5 == 0) r.interaction = "create";
      r.recordedMs = store::testing::kJan2024 + i * 3600 * 1000LL;
      record(r);
    }
  }
};

TEST_F(AuditSearchTest, ByPatientNewestFirstWithPaging) {
  auto all = ids({{"patient", "Patient/p1"}});
  EXPECT_EQ(all, (std::vector<std::string>{"22", "18", "14", "10", "6", "2"}));
  EXPECT_EQ(ids({{"patient", "p1"}}), all);

  std::vector<std::string> paged;
  QueryParams params = {{"patient", "Patient/p1"}, {"_count", "4"}};
  json::Value first = search(params);
  for (const auto& e : events(first)) paged.push_back(e.getString("id"));
  std::string cursor = nextCursor(first);
  ASSERT_FALSE(cursor.empty());
  params.push_back({"_cursor", cursor});
  json::Value second = search(params);
  for (const auto& e : events(second)) paged.push_back(e.getString("id"));
  EXPECT_EQ(nextCursor(second), "");
  EXPECT_EQ(paged, all);
  // The links carry the criteria.
  std::string self = second.find("link")->items()[0].getString("url");
  EXPECT_EQ(self, std::string(store::testing::kBase) +
                      "/AuditEvent?patient=Patient%2Fp1&_count=4&_cursor=" + cursor);
}

TEST_F(AuditTrailTest, PagesAreNewestFirstByRecordedThenSeqAndPageThroughTies) {
  // Appended out of time order (a caller's instant), and seven events in one millisecond.
  AuditRecord late = readRecord("p1");
  late.recordedMs = store::testing::kJan2024 + 10000;
  record(late);  // seq 1
  AuditRecord early = readRecord("p1");
  early.recordedMs = store::testing::kJan2024;
  record(early);  // seq 2
  for (int i = 0; i < 7; ++i) {
    AuditRecord same = readRecord("p1");
    same.recordedMs = store::testing::kJan2024 + 5000;
    record(same);  // seq 3..9
  }
  const std::vector<std::string> expected = {"1", "9", "8", "7", "6", "5", "4", "3", "2"};
  EXPECT_EQ(ids({{"_count", "100"}}), expected);
  for (const QueryParams& base : std::vector<QueryParams>{{}, {{"patient", "p1"}}, {{"agent", "gp-app"}}}) {
    std::vector<std::string> paged;
    QueryParams params = base;
    params.push_back({"_count", "2"});
    json::Value page = search(params);
    for (int guard = 0; guard < 10; ++guard) {
      for (const auto& e : events(page)) paged.push_back(e.getString("id"));
      std::string cursor = nextCursor(page);
      if (cursor.empty()) break;
      QueryParams next = params;
      next.push_back({"_cursor", cursor});
      page = search(next);
    }
    EXPECT_EQ(paged, expected) << (base.empty() ? "all" : base[0].first);
  }
}

TEST_F(AuditSearchTest, ByDateRange) {
  // 03:00 inclusive to 06:00 exclusive: events 3, 4, 5 (seq 4, 5, 6).
  EXPECT_EQ(ids({{"date", "ge2024-01-01T03:00:00Z"}, {"date", "lt2024-01-01T06:00:00Z"}}),
            (std::vector<std::string>{"6", "5", "4"}));
  EXPECT_EQ(ids({{"date", "gt2024-01-01T21:00:00Z"}}), (std::vector<std::string>{"24", "23"}));
  EXPECT_EQ(ids({{"date", "le2024-01-01T01:00:00Z"}}), (std::vector<std::string>{"2", "1"}));
  EXPECT_EQ(ids({{"date", "2024-01-01T05:00:00.000Z"}}), (std::vector<std::string>{"6"}));
  EXPECT_EQ(ids({{"date", "2024-01-01"}, {"_count", "100"}}).size(), 24u);
  EXPECT_TRUE(ids({{"date", "2024-01-02"}}).empty());
  EXPECT_TRUE(ids({{"date", "gt2024-01-01T05:00:00Z"}, {"date", "lt2024-01-01T05:00:00Z"}}).empty());
}

TEST_F(AuditSearchTest, ByAgentOrganisationPurposeOutcomeSubtypeAndAction) {
  EXPECT_EQ(ids({{"agent", "b"}, {"_count", "100"}}).size(), 8u);
  EXPECT_EQ(ids({{"organization", "RYE01"}, {"_count", "100"}}).size(), 8u);
  EXPECT_EQ(ids({{"organization", "https://fhir.nhs.uk/Id/ods-organization-code|RYE01"},
                 {"agent", "c"}, {"_count", "100"}})
                .size(),
            8u);
  EXPECT_EQ(ids({{"purpose", "ETREAT"}}), (std::vector<std::string>{"19", "13", "7", "1"}));
  EXPECT_EQ(ids({{"purpose", "http://terminology.hl7.org/CodeSystem/v3-ActReason|ETREAT"}}),
            (std::vector<std::string>{"19", "13", "7", "1"}));
  EXPECT_EQ(ids({{"outcome", "4"}}), (std::vector<std::string>{"17", "9", "1"}));
  EXPECT_EQ(ids({{"subtype", "create"}}), (std::vector<std::string>{"21", "16", "11", "6", "1"}));
  EXPECT_EQ(ids({{"action", "C"}, {"outcome", "4"}}), (std::vector<std::string>{"1"}));
  EXPECT_EQ(ids({{"subtype", "http://hl7.org/fhir/restful-interaction|read"}, {"agent", "a"},
                 {"purpose", "TREAT"}, {"patient", "p3"}}),
            (std::vector<std::string>{"4"}));  // 15 is a create
}

TEST_F(AuditSearchTest, UnsupportedOrMalformedParametersAre400s) {
  auto unknown = trail_->search({{"entity-type", "2"}}, store::testing::kBase);
  ASSERT_FALSE(unknown.isOk());
  EXPECT_EQ(unknown.status().code(), Status::Code::kNotSupported);
  EXPECT_EQ(unknown.status().message().rfind("audit.unsupported-parameter: ", 0), 0u);
  for (const QueryParams& bad : std::vector<QueryParams>{
           {{"date", "yesterday"}},
           {{"outcome", "3"}},
           {{"_count", "-1"}},
           {{"_cursor", "abc"}},
           {{"patient", "Patient/"}},
           {{"agent", "a"}, {"agent", "b"}},
           {{"action", "X"}},
           {{"agent", ""}}}) {
    auto r = trail_->search(bad, store::testing::kBase);
    ASSERT_FALSE(r.isOk()) << bad[0].first;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalid) << bad[0].first;
    EXPECT_EQ(r.status().message().rfind("audit.invalid-parameter: ", 0), 0u);
  }
  EXPECT_EQ(trail_->search({{"agent", "a,b"}}, store::testing::kBase).status().code(),
            Status::Code::kNotSupported);
  EXPECT_EQ(trail_->search({{"date", "sa2024-01-01"}}, store::testing::kBase).status().code(),
            Status::Code::kNotSupported);
  EXPECT_TRUE(trail_->search({{"_sort", "-date"}, {"_format", "json"}}, store::testing::kBase).isOk());
}

TEST_F(AuditSearchTest, ServedAuditEventsAreValidAndCarryTheirChainLink) {
  json::Value bundle = search({{"_count", "100"}});
  EXPECT_EQ(bundle.getString("type"), "searchset");
  auto served = events(bundle);
  ASSERT_EQ(served.size(), 24u);
  auto rows = allRows();
  for (size_t i = 0; i < served.size(); ++i) {
    const json::Value& e = served[i];
    EXPECT_TRUE(validAuditEvent(e));
    EXPECT_EQ(e.getString("id"), std::to_string(rows[i].seq));
    EXPECT_EQ(e.find("meta")->getString("lastUpdated"), rows[i].recorded);
    const json::Value& chain = e.find("extension")->items()[0];
    EXPECT_EQ(chain.getString("url"), kAuditChainExtension);
    const auto& parts = chain.find("extension")->items();
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[0].getString("url"), "seq");
    EXPECT_EQ(parts[0].find("valueDecimal")->text(), std::to_string(rows[i].seq));
    EXPECT_EQ(parts[1].find("valueString")->text(), rows[i].prevHash);
    EXPECT_EQ(parts[2].find("valueString")->text(), rows[i].hash);
  }
  EXPECT_EQ(bundle.find("entry")->items()[0].getString("fullUrl"),
            std::string(store::testing::kBase) + "/AuditEvent/24");
}

TEST_F(AuditSearchTest, TheChainExtensionConformsToItsDefinition) {
  auto registry = profile::ProfileRegistry::load(
      acp::testing::r4Shared(), {std::string(ACP_SOURCE_DIR) + "/conformance/acp",
                                 std::string(ACP_SOURCE_DIR) + "/conformance/ukcore"});
  ASSERT_TRUE(registry.isOk()) << registry.status().message();
  profile::ProfileValidator profiles(registry.value());
  auto e = trail_->read("3");
  ASSERT_TRUE(e.isOk());
  IssueList issues;
  EXPECT_TRUE(profiles.validateClaimed(e.value(), issues)) << dump(issues);
  // Without its hash the extension breaks its definition (the validator really looks).
  json::Value broken = e.value();
  broken.find("extension")->items()[0].find("extension")->items().pop_back();
  IssueList brokenIssues;
  EXPECT_FALSE(profiles.validateClaimed(broken, brokenIssues));
}

TEST_F(AuditSearchTest, ReadOneEvent) {
  auto e = trail_->read("7");
  ASSERT_TRUE(e.isOk()) << e.status().message();
  EXPECT_EQ(e.value().getString("id"), "7");
  EXPECT_EQ(e.value().getString("recorded"), "2024-01-01T06:00:00.000Z");
  EXPECT_TRUE(validAuditEvent(e.value()));
  for (const char* missing : {"25", "0", "07", "abc", ""})
    EXPECT_EQ(trail_->read(missing).status().code(), Status::Code::kNotFound) << missing;
}

TEST_F(AuditSearchTest, VerifyChainAnswersWithParameters) {
  auto p = trail_->verifyChain();
  ASSERT_TRUE(p.isOk()) << p.status().message();
  IssueList issues;
  EXPECT_TRUE(validator().validate(p.value(), issues, "Parameters")) << dump(issues);
  std::map<std::string, json::Value> byName;
  for (const json::Value& param : p.value().find("parameter")->items())
    byName[param.getString("name")] = param;
  EXPECT_TRUE(byName["result"].find("valueBoolean")->boolean());
  EXPECT_EQ(byName["checked"].find("valueDecimal")->text(), "24");
  EXPECT_EQ(byName["lastSeq"].find("valueDecimal")->text(), "24");
  const std::string head = byName["lastHash"].find("valueString")->text();
  EXPECT_EQ(head.size(), 64u);
  EXPECT_EQ(byName.count("firstBrokenSeq"), 0u);

  // Anchored at the head: still intact.
  auto anchored = trail_->verifyChain({{"anchorSeq", "24"}, {"anchorHash", head}});
  ASSERT_TRUE(anchored.isOk());
  EXPECT_TRUE(anchored.value().find("parameter")->items()[0].find("valueBoolean")->boolean());
  // A wrong anchor: broken at the anchor.
  auto wrong = trail_->verifyChain({{"anchorSeq", "10"}, {"anchorHash", head}});
  ASSERT_TRUE(wrong.isOk());
  byName.clear();
  for (const json::Value& param : wrong.value().find("parameter")->items())
    byName[param.getString("name")] = param;
  EXPECT_FALSE(byName["result"].find("valueBoolean")->boolean());
  EXPECT_EQ(byName["firstBrokenSeq"].find("valueDecimal")->text(), "10");

  EXPECT_EQ(trail_->verifyChain({{"anchorSeq", "3"}}).status().code(), Status::Code::kInvalid);
  EXPECT_EQ(trail_->verifyChain({{"from", "3"}}).status().code(), Status::Code::kNotSupported);
}

}  // namespace
}  // namespace acp::audit::testing
