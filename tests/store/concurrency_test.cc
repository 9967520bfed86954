// SqlStore under real threads: the conditional-create race, keyset paging while another
// thread inserts, and readers running beside a writer. No timing assertions: every check is
// on the data.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/store/store_fixture.h"

namespace acp::store::testing {
namespace {

// Releases every waiting thread at once so the racers really overlap.
class StartGate {
 public:
  void wait() {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [this] { return open_; });
  }
  void open() {
    {
      std::lock_guard<std::mutex> lock(m_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

class ConcurrencyTest : public StoreTest {};

const char* kRacer = R"({"resourceType":"Patient",
  "identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000033"}],
  "name":[{"family":"Racer"}]})";

struct RaceOutcome {
  std::atomic<int> created{0};
  std::atomic<int> noop{0};
  std::atomic<int> failed{0};
  std::mutex m;
  std::set<std::string> ids;
  std::vector<std::string> errors;
};

void conditionalCreate(SqlStore& store, RaceOutcome& out) {
  const std::string key = std::string("identifier=") + kNhs + "|9000000033";
  auto q = parseSearch("Patient", {{"identifier", std::string(kNhs) + "|9000000033"}});
  auto tx = store.begin();
  if (!tx.isOk()) {
    std::lock_guard<std::mutex> lock(out.m);
    out.failed++;
    out.errors.push_back(tx.status().message());
    return;
  }
  auto r = tx.value()->create("Patient", parseJson(kRacer), &q, key);
  Status c = r.isOk() ? tx.value()->commit() : r.status();
  std::lock_guard<std::mutex> lock(out.m);
  if (!c.isOk()) {
    out.failed++;
    out.errors.push_back(c.message());
    return;
  }
  (r.value().created ? out.created : out.noop)++;
  out.ids.insert(r.value().resource.id);
}

TEST_F(ConcurrencyTest, FiftyThreadsConditionalCreateMakeExactlyOne) {
  RaceOutcome out;
  StartGate gate;
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      gate.wait();
      conditionalCreate(*store_, out);
    });
  }
  gate.open();
  for (auto& t : threads) t.join();
  EXPECT_EQ(out.failed.load(), 0) << (out.errors.empty() ? "" : out.errors[0]);
  EXPECT_EQ(out.created.load(), 1);
  EXPECT_EQ(out.noop.load(), 49);
  EXPECT_EQ(out.ids.size(), 1u);
  EXPECT_EQ(ids("Patient", {{"family", "racer"}}).size(), 1u);
  HistoryQuery h;
  h.type = "Patient";
  auto hist = store_->history(h);
  ASSERT_TRUE(hist.isOk());
  EXPECT_EQ(hist.value().entries.size(), 1u);
}

// Two stores (two writer connections) on one file: BEGIN IMMEDIATE serialises them.
TEST_F(ConcurrencyTest, ConditionalCreateRaceAcrossTwoStoresOnOneFile) {
  auto other = SqlStore::open(location(), acp::testing::r4Shared(), options());
  ASSERT_TRUE(other.isOk()) << other.status().message();
  std::unique_ptr<SqlStore> second = other.take();
  RaceOutcome out;
  StartGate gate;
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    SqlStore* s = i % 2 ? second.get() : store_.get();
    threads.emplace_back([&, s] {
      gate.wait();
      conditionalCreate(*s, out);
    });
  }
  gate.open();
  for (auto& t : threads) t.join();
  EXPECT_EQ(out.failed.load(), 0) << (out.errors.empty() ? "" : out.errors[0]);
  EXPECT_EQ(out.created.load(), 1);
  EXPECT_EQ(out.ids.size(), 1u);
  EXPECT_EQ(ids("Patient", {{"family", "racer"}}).size(), 1u);
}

TEST_F(ConcurrencyTest, ConditionalCreateOutcomes) {
  auto q = parseSearch("Patient", {{"family", "dup"}});
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  auto a = tx.value()->create("Patient",
                              parseJson(R"({"resourceType":"Patient","name":[{"family":"Dup"}]})"),
                              &q, "family=dup");
  ASSERT_TRUE(a.isOk());
  EXPECT_TRUE(a.value().created);
  auto b = tx.value()->create("Patient",
                              parseJson(R"({"resourceType":"Patient","name":[{"family":"Dup"}]})"),
                              &q, "family=dup");
  ASSERT_TRUE(b.isOk());
  EXPECT_TRUE(b.value().noop);
  EXPECT_EQ(b.value().resource.id, a.value().resource.id);
  EXPECT_EQ(b.value().resource.json, a.value().resource.json);
  // An unconditional second one, then the criteria match two: 412.
  ASSERT_TRUE(
      tx.value()
          ->create("Patient", parseJson(R"({"resourceType":"Patient","name":[{"family":"Dup"}]})"))
          .isOk());
  auto c = tx.value()->create("Patient",
                              parseJson(R"({"resourceType":"Patient","name":[{"family":"Dup"}]})"),
                              &q, "family=dup");
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().code(), Status::Code::kPrecondition);
  EXPECT_EQ(c.status().message().rfind("store.multiple-matches", 0), 0u);
  // The recorded key holds even when the criteria no longer find its resource.
  auto none = parseSearch("Patient", {{"family", "nobody"}});
  auto d = tx.value()->create("Patient",
                              parseJson(R"({"resourceType":"Patient","name":[{"family":"X"}]})"),
                              &none, "family=dup");
  ASSERT_TRUE(d.isOk());
  EXPECT_TRUE(d.value().noop);
  EXPECT_EQ(d.value().resource.id, a.value().resource.id);
  ASSERT_TRUE(tx.value()->commit().isOk());

  // Once its resource is deleted, the key is free again.
  ASSERT_TRUE(remove("Patient", a.value().resource.id).isOk());
  auto tx2 = store_->begin();
  ASSERT_TRUE(tx2.isOk());
  auto e = tx2.value()->create("Patient",
                               parseJson(R"({"resourceType":"Patient","name":[{"family":"X"}]})"),
                               &none, "family=dup");
  ASSERT_TRUE(e.isOk());
  EXPECT_TRUE(e.value().created);
  EXPECT_NE(e.value().resource.id, a.value().resource.id);
  ASSERT_TRUE(tx2.value()->commit().isOk());
}

// Pages are fetched while another thread inserts rows between the fetches (rows that sort
// both before and after the cursor): no page repeats a row, and no row that existed before
// the first page is skipped.
void pageWhileInserting(std::atomic<int64_t>& clock, SqlStore& store, const std::string& sort) {
  std::set<std::string> preexisting;
  for (int i = 0; i < 30; ++i) {
    clock += 1000;
    auto tx = store.begin();
    ASSERT_TRUE(tx.isOk());
    const std::string family(1, static_cast<char>('a' + (i * 7) % 26));
    auto r = tx.value()->create(
        "Patient", parseJson(R"({"resourceType":"Patient","identifier":[{"system":"urn:k",
            "value":"v"}],"name":[{"family":")" +
                             family + std::to_string(i) + R"("}]})"));
    ASSERT_TRUE(r.isOk());
    ASSERT_TRUE(tx.value()->commit().isOk());
    preexisting.insert(r.value().resource.id);
  }

  std::mutex m;
  std::condition_variable cv;
  int requested = 0, done = 0;
  bool stop = false;
  std::thread writer([&] {
    int n = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return stop || requested > done; });
        if (stop && requested == done) return;
      }
      for (int k = 0; k < 3; ++k, ++n) {
        clock += 1000;  // newer rows: they sort before the cursor with -_lastUpdated
        auto tx = store.begin();
        if (!tx.isOk()) {
          ADD_FAILURE() << tx.status().message();
          continue;
        }
        const std::string family(1, static_cast<char>('a' + (n * 11) % 26));
        auto r = tx.value()->create("Patient", parseJson(R"({"resourceType":"Patient",
            "identifier":[{"system":"urn:k","value":"v"}],
            "name":[{"family":")" + family + "new" + R"("}]})"));
        EXPECT_TRUE(r.isOk()) << r.status().message();
        EXPECT_TRUE(tx.value()->commit().isOk());
      }
      {
        std::lock_guard<std::mutex> lock(m);
        ++done;
      }
      cv.notify_all();
    }
  });

  Params params = {{"identifier", "urn:k|v"}, {"_count", "7"}};
  if (!sort.empty()) params.push_back({"_sort", sort});
  auto q = parseSearch("Patient", params);
  std::vector<std::string> seen;
  for (int guard = 0; guard < 100; ++guard) {
    auto p = store.search(q);
    if (!p.isOk()) {
      ADD_FAILURE() << p.status().message();
      break;
    }
    for (const auto& e : p.value().entries) seen.push_back(e.id);
    if (p.value().nextCursor.empty()) break;
    q.cursor = p.value().nextCursor;
    // Let the writer insert three more rows before the next page, and wait for it.
    std::unique_lock<std::mutex> lock(m);
    ++requested;
    cv.notify_all();
    cv.wait(lock, [&] { return done == requested; });
  }
  {
    std::lock_guard<std::mutex> lock(m);
    stop = true;
  }
  cv.notify_all();
  writer.join();

  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a row was returned twice (sort " << sort << ")";
  for (const auto& id : preexisting)
    EXPECT_EQ(unique.count(id), 1u) << id << " skipped (sort " << sort << ")";
}

TEST_F(ConcurrencyTest, KeysetPagingWhileInsertingDefaultOrder) {
  pageWhileInserting(*now_, *store_, "");
}

TEST_F(ConcurrencyTest, KeysetPagingWhileInsertingSortedByFamily) {
  pageWhileInserting(*now_, *store_, "family");
}

TEST_F(ConcurrencyTest, KeysetPagingWhileInsertingNewestFirst) {
  pageWhileInserting(*now_, *store_, "-_lastUpdated");
}

// Readers on several threads while one thread keeps updating: every read sees a complete
// version (the JSON's meta.versionId is the row's version) and versions never go back.
TEST_F(ConcurrencyTest, ReadersSeeWholeVersionsWhileAWriterUpdates) {
  ASSERT_TRUE(
      put("Patient", "hot", R"({"resourceType":"Patient","name":[{"family":"V1"}]})").isOk());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      int64_t last = 0;
      while (!stop.load()) {
        reads++;
        auto r = store_->read("Patient", "hot");
        if (!r.isOk()) {
          bad++;
          continue;
        }
        json::Value v = parseJson(r.value().json);
        const json::Value* meta = v.find("meta");
        if (!meta || meta->getString("versionId") != std::to_string(r.value().versionId) ||
            r.value().versionId < last)
          bad++;
        last = r.value().versionId;
        auto page = store_->search(parseSearch("Patient", {{"_id", "hot"}}));
        if (!page.isOk() || page.value().entries.size() != 1) bad++;
      }
    });
  }
  for (int v = 2; v <= 40; ++v) {
    EXPECT_TRUE(
        put("Patient", "hot",
            R"({"resourceType":"Patient","name":[{"family":"V)" + std::to_string(v) + R"("}]})")
            .isOk());
  }
  // Make sure the readers ran at least a little before stopping them.
  while (reads.load() < 20) std::this_thread::yield();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store_->read("Patient", "hot").value().versionId, 40);
}

}  // namespace
}  // namespace acp::store::testing

namespace acp::store::testing {
namespace {

// One gateway of several on a store leads a named job at a time (the timed Flag sweep); a
// store that closes lets go. On SQLite (one gateway per file) every store may go ahead.
TEST_F(ConcurrencyTest, OneStoreAtATimeLeadsANamedJob) {
  auto opened = SqlStore::open(location(), acp::testing::r4Shared(), options());
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  std::unique_ptr<SqlStore> other = opened.take();
  ASSERT_TRUE(store_->tryLead("timed-flags"));
  if (!postgres()) {
    EXPECT_TRUE(other->tryLead("timed-flags"));
    return;
  }
  EXPECT_FALSE(other->tryLead("timed-flags")) << "another store leads it";
  EXPECT_TRUE(other->tryLead("another-job")) << "leads are per name";
  store_->endLead("timed-flags");
  EXPECT_TRUE(other->tryLead("timed-flags"));
  other.reset();  // its session ends: the lead is free again once the server has ended it
  bool led = false;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       !led && std::chrono::steady_clock::now() < until;)
    led = store_->tryLead("timed-flags");
  EXPECT_TRUE(led);
  store_->endLead("timed-flags");
}

}  // namespace
}  // namespace acp::store::testing
