// The PostgreSQL driver (store/pg_connection.h) and change feed (store/pg_change_feed.h), on
// the test cluster. They run in the suite's PostgreSQL run (pg:…) only.
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "gateway/store/pg_change_feed.h"
#include "gateway/store/pg_connection.h"
#include "tests/store/store_fixture.h"

namespace acp::store::testing {
namespace {

// libpq quotes a malformed connection URI in its error, password included: the gateway reports
// it without its text (the message reaches the log and check-config's report).
TEST(PgConnectionUrl, AMalformedUrlIsReportedWithoutItsText) {
  for (const char* url : {"postgresql://gw:s3cret@[::1/acp", "postgresql://gw:s3cret@host:5432/acp?x=%zz",
                          "postgresql://gw:s3cret@host/acp?nosuchoption=1"}) {
    auto c = pg::PgConnection::open(url, {});
    ASSERT_FALSE(c.isOk()) << url;
    EXPECT_EQ(c.status().message().find("s3cret"), std::string::npos) << c.status().message();
  }
}


using pg::PgConnection;
using sql::StepResult;

#define ACP_POSTGRES_RUN_ONLY()                                                   \
  do {                                                                            \
    if (!::acp::testing::testStoreIsPostgres())                                   \
      GTEST_SKIP() << "PostgreSQL driver: runs in the suite's pg: run";           \
  } while (0)

TEST(PgPlaceholders, NumberedAndBarePlaceholdersBecomeDenseDollarNumbers) {
  std::vector<int> slots;
  EXPECT_EQ(pg::toPostgresPlaceholders("a = ?1 AND b = ?3 OR c = ?1", &slots),
            "a = $1 AND b = $2 OR c = $1");
  ASSERT_EQ(slots.size(), 4u);
  EXPECT_EQ(slots[1], 1);
  EXPECT_EQ(slots[2], 0) << "?2 is not used: no $ number, its binds are dropped";
  EXPECT_EQ(slots[3], 2);
  EXPECT_EQ(pg::toPostgresPlaceholders("x IN (?, ?) AND y = ?5 AND z = ?", &slots),
            "x IN ($1, $2) AND y = $3 AND z = $4");
  EXPECT_EQ(slots[6], 4) << "a bare ? after ?5 is ?6";
  EXPECT_EQ(pg::toPostgresPlaceholders("s = 'what?' AND \"q?\" = ?2 -- why?\nAND t = ?", &slots),
            "s = 'what?' AND \"q?\" = $1 -- why?\nAND t = $2");
  EXPECT_EQ(pg::toPostgresPlaceholders("a /* ?9 */ = ?1", &slots), "a /* ?9 */ = $1");
}

TEST(PgChangeFeedPayload, TypesAreSplitOnCommas) {
  EXPECT_EQ(pg::splitTypes("Patient,CarePlan"), (std::vector<std::string>{"Patient", "CarePlan"}));
  EXPECT_EQ(pg::splitTypes("Patient"), (std::vector<std::string>{"Patient"}));
  EXPECT_TRUE(pg::splitTypes("").empty());
}

class PgConnectionTest : public StoreTest {
 protected:
  std::unique_ptr<PgConnection> connect() {
    auto c = PgConnection::open(location(), {});
    EXPECT_TRUE(c.isOk()) << c.status().message();
    return c.isOk() ? c.take() : nullptr;
  }
};

TEST_F(PgConnectionTest, SessionsCommitSynchronously) {
  ACP_POSTGRES_RUN_ONLY();
  auto c = connect();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->queryText("SHOW synchronous_commit").value(), "on");
  PgConnection::Settings readOnly;
  readOnly.readOnly = true;
  auto r = PgConnection::open(location(), readOnly);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r.value()->queryText("SHOW default_transaction_read_only").value(), "on");
  EXPECT_FALSE(r.value()->exec("CREATE TABLE nope(x int)").isOk()) << "a reader never writes";
}

TEST_F(PgConnectionTest, ACommitAfterAFailedStatementIsAnErrorNotASilentRollback) {
  ACP_POSTGRES_RUN_ONLY();
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->exec("CREATE TABLE t(k text PRIMARY KEY)").isOk());
  ASSERT_TRUE(c->beginWrite().isOk());
  auto ins = c->prepare("INSERT INTO t(k) VALUES (?1)");
  ASSERT_TRUE(ins.isOk());
  ins.value().bind(1, std::string_view("a"));
  EXPECT_EQ(ins.value().run(), StepResult::kDone);
  ins.value().reset();
  EXPECT_EQ(ins.value().run(), StepResult::kConstraint) << "the same key again";
  EXPECT_FALSE(c->inTransaction()) << "PostgreSQL failed the transaction";
  Status commit = c->exec("COMMIT");
  EXPECT_FALSE(commit.isOk());
  EXPECT_EQ(commit.message().rfind("store.transaction-aborted", 0), 0u) << commit.message();
  EXPECT_EQ(c->queryInt("SELECT count(*) FROM t").value(), 0) << "nothing half-written";
}

TEST_F(PgConnectionTest, BlobsKeepEveryByteAndTextWithANulIsRefused) {
  ACP_POSTGRES_RUN_ONLY();
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->exec("CREATE TABLE b(v bytea, t text)").isOk());
  const std::string bytes("\x00\x01\xff\xfe MSH|^~\\&\r\x00", 16);
  auto ins = c->prepare("INSERT INTO b(v) VALUES (?1)");
  ASSERT_TRUE(ins.isOk());
  ins.value().bindBlob(1, bytes);
  ASSERT_EQ(ins.value().run(), StepResult::kDone) << ins.value().error("insert").message();
  auto sel = c->prepare("SELECT v FROM b");
  ASSERT_TRUE(sel.isOk());
  ASSERT_EQ(sel.value().step(), StepResult::kRow);
  EXPECT_EQ(sel.value().columnBlob(0), bytes);

  auto text = c->prepare("INSERT INTO b(t) VALUES (?1)");
  ASSERT_TRUE(text.isOk());
  text.value().bind(1, std::string_view("cut\0short", 9));
  EXPECT_EQ(text.value().run(), StepResult::kError) << "never stored cut short";
  EXPECT_EQ(c->queryInt("SELECT count(*) FROM b WHERE t IS NOT NULL").value(), 0);
}

TEST_F(PgConnectionTest, ABrokenConnectionIsReestablishedOutsideATransaction) {
  ACP_POSTGRES_RUN_ONLY();
  auto c = connect();
  ASSERT_TRUE(c);
  const int64_t pid = c->queryInt("SELECT pg_backend_pid()").value();
  auto killer = connect();
  ASSERT_TRUE(killer);
  ASSERT_TRUE(killer->exec(("SELECT pg_terminate_backend(" + std::to_string(pid) + ")").c_str())
                  .isOk());
  // The first use after the kill may fail (the driver learns of it then); the next works, on
  // a new session with the same settings.
  (void)c->queryInt("SELECT 1");
  auto again = c->queryInt("SELECT 1");
  ASSERT_TRUE(again.isOk()) << again.status().message();
  EXPECT_NE(c->queryInt("SELECT pg_backend_pid()").value(), pid);
  EXPECT_EQ(c->queryText("SHOW synchronous_commit").value(), "on");
}

// Waits (at most 20 s) for the feed's callback to have seen `type`.
class Heard {
 public:
  void add(const std::vector<std::string>& types) {
    std::lock_guard<std::mutex> lock(m_);
    for (const auto& t : types) seen_.push_back(t);
    cv_.notify_all();
  }
  bool has(const std::string& type) {
    std::lock_guard<std::mutex> lock(m_);
    return std::find(seen_.begin(), seen_.end(), type) != seen_.end();
  }
  bool waitFor(const std::string& type) {
    std::unique_lock<std::mutex> lock(m_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] {
      return std::find(seen_.begin(), seen_.end(), type) != seen_.end();
    });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::string> seen_;
};

TEST_F(PgConnectionTest, AnotherStoreHearsWhatACommitWroteAndNothingOfARollback) {
  ACP_POSTGRES_RUN_ONLY();
  auto opened = SqlStore::open(location(), acp::testing::r4Shared(), options());
  ASSERT_TRUE(opened.isOk());
  std::unique_ptr<SqlStore> other = opened.take();
  auto heard = std::make_shared<Heard>();
  other->setChangeListener([heard](const std::vector<std::string>& t) { heard->add(t); });
  {
    auto tx = store_->begin();  // rolled back: never heard
    ASSERT_TRUE(tx.isOk());
    ASSERT_TRUE(tx.value()->create("Observation", parseJson(R"({"resourceType":"Observation",
        "status":"final","code":{"text":"x"}})")).isOk());
  }
  // Wait until the feed listens, then commit.
  for (int i = 0; i < 2000 && !other->changeFeedListening(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(other->changeFeedListening());
  create(R"({"resourceType":"Patient","name":[{"family":"Heard"}]})");
  ASSERT_TRUE(heard->waitFor("Patient"));
  create(R"({"resourceType":"Subscription","status":"requested","reason":"r",
      "criteria":"CarePlan?status=active","channel":{"type":"rest-hook",
      "endpoint":"https://gp.example/hook","payload":"application/fhir+json"}})");
  ASSERT_TRUE(heard->waitFor("Subscription"));
  // Notices arrive in commit order: had the rolled-back Observation been announced, it would
  // have come before the Patient.
  EXPECT_FALSE(heard->has("Observation"));
}

TEST_F(PgConnectionTest, AFeedWhoseConnectionBrokeSaysAnythingMayHaveChanged) {
  ACP_POSTGRES_RUN_ONLY();
  auto heard = std::make_shared<Heard>();
  pg::PgChangeFeed feed(location(), [heard](const std::vector<std::string>& t) { heard->add(t); });
  for (int i = 0; i < 2000 && !feed.listening(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(feed.listening());
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE query = 'LISTEN acp_change' AND pid <> pg_backend_pid()")
                  .isOk());
  ASSERT_TRUE(heard->waitFor("*"));
}

}  // namespace
}  // namespace acp::store::testing
