// SqlStore: create / read / vread / update / delete, versions and meta, history,
// transactions (commit, rollback, failed operations), persistence, durability PRAGMAs.
#include <sqlite3.h>

#include <set>
#include <string>

#include "gateway/store/instant.h"
#include "gateway/store/pg_schema.h"
#include "gateway/store/sqlite_schema.h"
#include "tests/store/store_fixture.h"

namespace acp::store::testing {
namespace {

const char* kPatient = R"({"resourceType":"Patient",
  "identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],
  "name":[{"family":"Smith","given":["John"]}],"birthDate":"1970-05-01"})";

bool isUuidV4(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

// Runs a query on the database file through a separate raw connection.
class CrudTest : public StoreTest {};

TEST_F(CrudTest, CreateAssignsUuidVersionAndLastUpdated) {
  WriteResult w = create(R"({"resourceType":"Patient","id":"client-chosen",
      "meta":{"versionId":"77","lastUpdated":"1999-01-01T00:00:00Z","profile":["http://x/p"]},
      "name":[{"family":"Smith"}]})");
  EXPECT_TRUE(w.created);
  EXPECT_FALSE(w.noop);
  EXPECT_TRUE(isUuidV4(w.resource.id)) << w.resource.id;
  EXPECT_NE(w.resource.id, "client-chosen");
  EXPECT_EQ(w.resource.versionId, 1);
  EXPECT_EQ(w.resource.lastUpdated, "2024-01-01T00:00:00.000Z");

  auto r = store_->read("Patient", w.resource.id);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r.value().json, w.resource.json);
  json::Value v = parseJson(r.value().json);
  EXPECT_EQ(v.getString("id"), w.resource.id);
  const json::Value* meta = v.find("meta");
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->getString("versionId"), "1");
  EXPECT_EQ(meta->getString("lastUpdated"), "2024-01-01T00:00:00.000Z");
  ASSERT_NE(meta->find("profile"), nullptr);  // other meta content is kept
}

TEST_F(CrudTest, ServerIdsAreDistinct) {
  std::set<std::string> seen;
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  for (int i = 0; i < 200; ++i) {
    auto r = tx.value()->create("Basic", parseJson(R"({"resourceType":"Basic",
        "code":{"text":"x"}})"));
    ASSERT_TRUE(r.isOk()) << r.status().message();
    EXPECT_TRUE(isUuidV4(r.value().resource.id));
    seen.insert(r.value().resource.id);
  }
  ASSERT_TRUE(tx.value()->commit().isOk());
  EXPECT_EQ(seen.size(), 200u);
}

TEST_F(CrudTest, ReadUnknownIsNotFound) {
  auto r = store_->read("Patient", "nope");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(r.status().message().rfind("store.not-found", 0), 0u);
  auto v = store_->vread("Patient", "nope", 1);
  EXPECT_EQ(v.status().code(), Status::Code::kNotFound);
}

TEST_F(CrudTest, UpdateMakesVersionsAndVreadKeepsOldOnes) {
  WriteResult w = create(kPatient);
  tick();
  auto u = put(
      "Patient", w.resource.id,
      R"({"resourceType":"Patient","id":")" + w.resource.id + R"(","name":[{"family":"Jones"}]})");
  ASSERT_TRUE(u.isOk()) << u.status().message();
  EXPECT_FALSE(u.value().created);
  EXPECT_FALSE(u.value().noop);
  EXPECT_EQ(u.value().resource.versionId, 2);
  EXPECT_EQ(u.value().resource.lastUpdated, "2024-01-01T00:00:01.000Z");

  auto cur = store_->read("Patient", w.resource.id);
  ASSERT_TRUE(cur.isOk());
  EXPECT_EQ(cur.value().versionId, 2);
  EXPECT_NE(cur.value().json.find("Jones"), std::string::npos);

  auto v1 = store_->vread("Patient", w.resource.id, 1);
  ASSERT_TRUE(v1.isOk());
  EXPECT_NE(v1.value().json.find("Smith"), std::string::npos);
  EXPECT_NE(v1.value().json.find(R"("versionId":"1")"), std::string::npos);
  EXPECT_EQ(v1.value().method, "POST");
  auto v2 = store_->vread("Patient", w.resource.id, 2);
  ASSERT_TRUE(v2.isOk());
  EXPECT_EQ(v2.value().method, "PUT");
  EXPECT_EQ(v2.value().json, cur.value().json);
  EXPECT_EQ(store_->vread("Patient", w.resource.id, 3).status().code(), Status::Code::kNotFound);
}

TEST_F(CrudTest, UpdateWithSameContentIsNoop) {
  WriteResult w = create(kPatient);
  tick();
  // Same content, members reordered, different meta.versionId / lastUpdated.
  std::string same = R"({"name":[{"family":"Smith","given":["John"]}],"birthDate":"1970-05-01",
      "meta":{"versionId":"9","lastUpdated":"2020-01-01T00:00:00Z"},
      "identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],
      "resourceType":"Patient","id":")" +
                     w.resource.id + R"("})";
  auto u = put("Patient", w.resource.id, same);
  ASSERT_TRUE(u.isOk()) << u.status().message();
  EXPECT_TRUE(u.value().noop);
  EXPECT_FALSE(u.value().created);
  EXPECT_EQ(u.value().resource.versionId, 1);
  EXPECT_EQ(u.value().resource.json, w.resource.json);
  HistoryQuery h;
  h.type = "Patient";
  h.id = w.resource.id;
  auto page = store_->history(h);
  ASSERT_TRUE(page.isOk());
  EXPECT_EQ(page.value().entries.size(), 1u);

  // A real change to meta (a tag) is not a noop.
  auto t = put("Patient", w.resource.id,
               R"({"resourceType":"Patient","meta":{"tag":[{"code":"x"}]},
      "identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],
      "name":[{"family":"Smith","given":["John"]}],"birthDate":"1970-05-01"})");
  ASSERT_TRUE(t.isOk()) << t.status().message();
  EXPECT_FALSE(t.value().noop);
  EXPECT_EQ(t.value().resource.versionId, 2);
}

TEST_F(CrudTest, StaleIfMatchIsPrecondition) {
  WriteResult w = create(kPatient);
  const std::string body = R"({"resourceType":"Patient","name":[{"family":"A"}]})";
  auto ok = put("Patient", w.resource.id, body, 1);
  ASSERT_TRUE(ok.isOk()) << ok.status().message();
  EXPECT_EQ(ok.value().resource.versionId, 2);
  auto stale = put("Patient", w.resource.id, R"({"resourceType":"Patient"})", 1);
  ASSERT_FALSE(stale.isOk());
  EXPECT_EQ(stale.status().code(), Status::Code::kPrecondition);
  EXPECT_EQ(stale.status().message().rfind("store.version-mismatch", 0), 0u);
  EXPECT_EQ(store_->read("Patient", w.resource.id).value().versionId, 2);
  // If-Match on a resource that does not exist cannot match.
  EXPECT_EQ(put("Patient", "new-one", body, 1).status().code(), Status::Code::kPrecondition);
  auto del = remove("Patient", w.resource.id, 1);
  EXPECT_EQ(del.status().code(), Status::Code::kPrecondition);
  EXPECT_TRUE(remove("Patient", w.resource.id, 2).isOk());
}

TEST_F(CrudTest, UpdateCreatesWithClientIdAndChecksInput) {
  auto c = put("Patient", "pat-1", R"({"resourceType":"Patient","id":"pat-1"})");
  ASSERT_TRUE(c.isOk()) << c.status().message();
  EXPECT_TRUE(c.value().created);
  EXPECT_EQ(c.value().resource.versionId, 1);
  EXPECT_TRUE(store_->read("Patient", "pat-1").isOk());

  EXPECT_EQ(put("Patient", "bad id!", R"({"resourceType":"Patient"})").status().code(),
            Status::Code::kInvalid);
  EXPECT_EQ(put("Patient", std::string(65, 'a'), R"({"resourceType":"Patient"})").status().code(),
            Status::Code::kInvalid);
  EXPECT_EQ(put("Patient", "pat-2", R"({"resourceType":"Patient","id":"other"})").status().code(),
            Status::Code::kInvalid);
  EXPECT_EQ(put("Patient", "pat-2", R"({"resourceType":"Observation"})").status().code(),
            Status::Code::kInvalid);
  EXPECT_EQ(put("NotAType", "x", R"({"resourceType":"NotAType"})").status().code(),
            Status::Code::kInvalid);
  EXPECT_EQ(store_->read("Patient", "pat-2").status().code(), Status::Code::kNotFound);
}

TEST_F(CrudTest, DeleteIsLogicalAndGone) {
  WriteResult w = create(kPatient);
  tick();
  auto d = remove("Patient", w.resource.id);
  ASSERT_TRUE(d.isOk()) << d.status().message();
  EXPECT_FALSE(d.value().noop);
  EXPECT_TRUE(d.value().resource.deleted);
  EXPECT_EQ(d.value().resource.versionId, 2);

  auto r = store_->read("Patient", w.resource.id);
  EXPECT_EQ(r.status().code(), Status::Code::kGone);
  EXPECT_EQ(store_->vread("Patient", w.resource.id, 2).status().code(), Status::Code::kGone);
  EXPECT_TRUE(store_->vread("Patient", w.resource.id, 1).isOk());

  // Deleted resources leave searches and their index rows.
  EXPECT_TRUE(ids("Patient", {{"family", "smith"}}).empty());
  EXPECT_EQ(rawInt("SELECT count(*) FROM string_idx"), 0);
  EXPECT_EQ(rawInt("SELECT count(*) FROM token_idx"), 0);

  auto again = remove("Patient", w.resource.id);
  ASSERT_TRUE(again.isOk());
  EXPECT_TRUE(again.value().noop);
  EXPECT_EQ(again.value().resource.versionId, 2);
  auto missing = remove("Patient", "never-was");
  ASSERT_TRUE(missing.isOk());
  EXPECT_TRUE(missing.value().noop);
}

TEST_F(CrudTest, UpdateAfterDeleteResurrects) {
  WriteResult w = create(kPatient);
  ASSERT_TRUE(remove("Patient", w.resource.id).isOk());
  auto u = put("Patient", w.resource.id, kPatient);
  ASSERT_TRUE(u.isOk()) << u.status().message();
  EXPECT_TRUE(u.value().created);
  EXPECT_FALSE(u.value().noop);  // same content as version 1, but the current one is a delete
  EXPECT_EQ(u.value().resource.versionId, 3);
  auto r = store_->read("Patient", w.resource.id);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r.value().versionId, 3);
  EXPECT_EQ(ids("Patient", {{"family", "smith"}}), std::vector<std::string>{w.resource.id});
}

TEST_F(CrudTest, HistoryNewestFirstWithPagingAndSince) {
  WriteResult a = create(kPatient);
  for (int v = 2; v <= 5; ++v) {
    tick();
    ASSERT_TRUE(
        put("Patient", a.resource.id,
            R"({"resourceType":"Patient","name":[{"family":"V)" + std::to_string(v) + R"("}]})")
            .isOk());
  }
  tick();
  ASSERT_TRUE(remove("Patient", a.resource.id).isOk());  // version 6
  tick();
  WriteResult b = create(R"({"resourceType":"Observation","status":"final",
      "code":{"text":"x"}})");

  HistoryQuery h;
  h.type = "Patient";
  h.id = a.resource.id;
  h.count = 4;
  auto p1 = store_->history(h);
  ASSERT_TRUE(p1.isOk()) << p1.status().message();
  ASSERT_EQ(p1.value().entries.size(), 4u);
  EXPECT_EQ(p1.value().total, 6);
  EXPECT_EQ(p1.value().entries[0].versionId, 6);
  EXPECT_TRUE(p1.value().entries[0].deleted);
  EXPECT_EQ(p1.value().entries[0].method, "DELETE");
  EXPECT_TRUE(p1.value().entries[0].json.empty());
  EXPECT_EQ(p1.value().entries[1].versionId, 5);
  EXPECT_EQ(p1.value().entries[3].versionId, 3);
  ASSERT_FALSE(p1.value().nextCursor.empty());
  h.cursor = p1.value().nextCursor;
  auto p2 = store_->history(h);
  ASSERT_TRUE(p2.isOk());
  ASSERT_EQ(p2.value().entries.size(), 2u);
  EXPECT_EQ(p2.value().entries[0].versionId, 2);
  EXPECT_EQ(p2.value().entries[1].versionId, 1);
  EXPECT_EQ(p2.value().entries[1].method, "POST");
  EXPECT_TRUE(p2.value().nextCursor.empty());

  // Type history holds only Patients; system history has the Observation first.
  HistoryQuery type;
  type.type = "Patient";
  auto tp = store_->history(type);
  ASSERT_TRUE(tp.isOk());
  EXPECT_EQ(tp.value().entries.size(), 6u);
  HistoryQuery sys;
  auto sp = store_->history(sys);
  ASSERT_TRUE(sp.isOk());
  ASSERT_EQ(sp.value().entries.size(), 7u);
  EXPECT_EQ(sp.value().entries[0].id, b.resource.id);
  EXPECT_EQ(sp.value().entries[0].type, "Observation");

  // _since: versions at or after 00:00:04 are v5 (00:00:04), the delete and the Observation.
  sys.since = "2024-01-01T00:00:04Z";
  auto since = store_->history(sys);
  ASSERT_TRUE(since.isOk());
  ASSERT_EQ(since.value().entries.size(), 3u);
  EXPECT_EQ(since.value().entries[2].versionId, 5);

  HistoryQuery bad = h;
  bad.cursor = "not-a-cursor!";
  EXPECT_EQ(store_->history(bad).status().code(), Status::Code::kInvalid);
  HistoryQuery badSince;
  badSince.since = "yesterday";
  EXPECT_EQ(store_->history(badSince).status().code(), Status::Code::kInvalid);
  HistoryQuery unknown;
  unknown.type = "Patient";
  unknown.id = "unknown";
  EXPECT_EQ(store_->history(unknown).status().code(), Status::Code::kNotFound);
}

TEST_F(CrudTest, LastUpdatedNeverGoesBackwards) {
  WriteResult a = create(kPatient);
  now_->store(kJan2024 - 3600000);  // the clock steps back an hour
  auto u = put("Patient", a.resource.id, R"({"resourceType":"Patient","active":true})");
  ASSERT_TRUE(u.isOk());
  EXPECT_EQ(u.value().resource.lastUpdated, "2024-01-01T00:00:00.000Z");
  // ... also after a restart.
  reopen();
  now_->store(kJan2024 - 7200000);
  auto again = put("Patient", a.resource.id, R"({"resourceType":"Patient","active":false})");
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(again.value().resource.lastUpdated, "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(formatInstant(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatInstant(951782400123), "2000-02-29T00:00:00.123Z");
  EXPECT_EQ(formatInstant(-1), "1969-12-31T23:59:59.999Z");
}

TEST_F(CrudTest, DroppedTransactionLeavesNothing) {
  WriteResult existing = create(kPatient);
  {
    auto tx = store_->begin();
    ASSERT_TRUE(tx.isOk());
    auto c = tx.value()->create("Patient", parseJson(R"({"resourceType":"Patient",
        "name":[{"family":"Ghost"}]})"));
    ASSERT_TRUE(c.isOk());
    ASSERT_TRUE(
        tx.value()
            ->update("Patient", existing.resource.id,
                     parseJson(R"({"resourceType":"Patient","name":[{"family":"Changed"}]})"))
            .isOk());
    ASSERT_TRUE(tx.value()
                    ->update("Patient", "client-1", parseJson(R"({"resourceType":
        "Patient","name":[{"family":"Ghost"}]})"))
                    .isOk());
    // Inside the transaction its own writes are visible ...
    EXPECT_TRUE(tx.value()->read("Patient", c.value().resource.id).isOk());
    auto m = tx.value()->match(parseSearch("Patient", {{"family", "ghost"}}), 10);
    ASSERT_TRUE(m.isOk());
    EXPECT_EQ(m.value().size(), 2u);
    // ... and invisible to readers until commit.
    EXPECT_EQ(store_->read("Patient", c.value().resource.id).status().code(),
              Status::Code::kNotFound);
    // A later operation fails; the caller gives up and drops the transaction.
    auto bad = tx.value()->update("Patient", existing.resource.id,
                                  parseJson(R"({"resourceType":"Patient"})"), 1);
    EXPECT_EQ(bad.status().code(), Status::Code::kPrecondition);
  }
  EXPECT_EQ(store_->read("Patient", "client-1").status().code(), Status::Code::kNotFound);
  auto cur = store_->read("Patient", existing.resource.id);
  ASSERT_TRUE(cur.isOk());
  EXPECT_EQ(cur.value().versionId, 1);
  EXPECT_EQ(cur.value().json, existing.resource.json);
  EXPECT_TRUE(ids("Patient", {{"family", "ghost"}}).empty());
  EXPECT_TRUE(ids("Patient", {{"family", "changed"}}).empty());
  EXPECT_EQ(rawInt("SELECT count(*) FROM versions"), 1);
  EXPECT_EQ(rawInt("SELECT count(*) FROM resources"), 1);
  // The writer is free again.
  EXPECT_TRUE(store_->begin().isOk());
}

TEST_F(CrudTest, FailedOperationMidTransactionLeavesNoTrace) {
  // A fixed id generator makes the second create collide half-way (after the id was chosen
  // and the resource stamped): the operation fails with nothing of it written.
  StoreOptions o = options();
  o.newId = [] { return std::string("fixed-id"); };
  store_.reset();
  auto s = SqlStore::open(location(), acp::testing::r4Shared(), o);
  ASSERT_TRUE(s.isOk());
  store_ = s.take();

  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  auto first = tx.value()->create("Patient", parseJson(R"({"resourceType":"Patient",
      "name":[{"family":"First"}]})"));
  ASSERT_TRUE(first.isOk());
  auto second = tx.value()->create("Patient", parseJson(R"({"resourceType":"Patient",
      "name":[{"family":"Second"}],"identifier":[{"system":"s","value":"v2"}]})"));
  ASSERT_FALSE(second.isOk());
  EXPECT_EQ(second.status().code(), Status::Code::kConflict);
  EXPECT_EQ(second.status().message().rfind("store.id-collision", 0), 0u);
  // The transaction goes on and commits the rest.
  ASSERT_TRUE(tx.value()->commit().isOk());
  EXPECT_EQ(tx.value()->commit().code(), Status::Code::kInternal);  // closed

  auto r = store_->read("Patient", "fixed-id");
  ASSERT_TRUE(r.isOk());
  EXPECT_NE(r.value().json.find("First"), std::string::npos);
  EXPECT_EQ(ids("Patient", {{"family", "first"}}), std::vector<std::string>{"fixed-id"});
  EXPECT_TRUE(ids("Patient", {{"family", "second"}}).empty());
  EXPECT_TRUE(ids("Patient", {{"identifier", "s|v2"}}).empty());
  EXPECT_EQ(rawInt("SELECT count(*) FROM versions"), 1);
}

TEST_F(CrudTest, NestedBeginOnOneThreadIsAnErrorNotADeadlock) {
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  auto again = store_->begin();
  ASSERT_FALSE(again.isOk());
  EXPECT_EQ(again.status().message().rfind("store.nested-transaction", 0), 0u);
  // Reads on the same thread still work while the transaction is open.
  EXPECT_EQ(store_->read("Patient", "x").status().code(), Status::Code::kNotFound);
}

TEST_F(CrudTest, DataPersistsAcrossReopen) {
  WriteResult a = create(kPatient);
  ASSERT_TRUE(put("Patient", a.resource.id, R"({"resourceType":"Patient","active":true})").isOk());
  reopen();
  auto r = store_->read("Patient", a.resource.id);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r.value().versionId, 2);
  EXPECT_TRUE(store_->vread("Patient", a.resource.id, 1).isOk());
  EXPECT_EQ(ids("Patient", {{"identifier", std::string(kNhs) + "|9000000009"}}),
            std::vector<std::string>{});  // version 2 has no identifier
  EXPECT_EQ(ids("Patient", {{"active", "true"}}), std::vector<std::string>{a.resource.id});
  EXPECT_EQ(rawInt("SELECT version FROM schema_version"),
            postgres() ? pg::currentSchemaVersion() : sqlite::currentSchemaVersion());
}

TEST_F(CrudTest, DurabilityPragmas) {
  ACP_SQLITE_ONLY();
  EXPECT_EQ(store_->pragma("journal_mode").value(), "wal");
  EXPECT_EQ(store_->pragma("synchronous").value(), "2");  // FULL
  EXPECT_EQ(store_->pragma("foreign_keys").value(), "1");
  EXPECT_EQ(store_->pragma("busy_timeout").value(), "5000");
  EXPECT_EQ(store_->pragma("query_only").value(), "0");
  EXPECT_EQ(store_->pragma("journal_mode", true).value(), "wal");
  EXPECT_EQ(store_->pragma("synchronous", true).value(), "2");
  EXPECT_EQ(store_->pragma("foreign_keys", true).value(), "1");
  EXPECT_EQ(store_->pragma("query_only", true).value(), "1");
  EXPECT_FALSE(store_->pragma("writable_schema=1").isOk());
  // The WAL mode is a property of the file: a fresh connection sees it too.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(CrudTest, NewerSchemaIsRefused) {
  store_.reset();
  rawRows("UPDATE schema_version SET version = 999");
  auto s = SqlStore::open(location(), acp::testing::r4Shared(), options());
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.status().message().find("store.schema-too-new"), std::string::npos);
}

TEST_F(CrudTest, OpenRefusesMemoryDatabases) {
  auto s = SqlStore::open(":memory:", acp::testing::r4Shared(), options());
  EXPECT_FALSE(s.isOk());
}

}  // namespace
}  // namespace acp::store::testing

namespace acp::store::testing {
namespace {

// SQLite's page caches are held to StoreOptions::sqliteMemoryLimitBytes together (the resident
// size must not grow with the database).
TEST_F(CrudTest, SqliteCachesAreHeldToTheMemoryLimit) {
  ACP_SQLITE_ONLY();
  const StoreOptions defaults;
  EXPECT_EQ(sqlite3_soft_heap_limit64(-1),
            defaults.sqliteMemoryLimitBytes + defaults.sqliteWriterCacheBytes);
  StoreOptions o = options();
  o.sqliteMemoryLimitBytes = 8 * 1024 * 1024;
  o.sqliteWriterCacheBytes = 2 * 1024 * 1024;
  store_.reset();
  auto s = SqlStore::open(location(), acp::testing::r4Shared(), o);
  ASSERT_TRUE(s.isOk());
  store_ = s.take();
  EXPECT_EQ(sqlite3_soft_heap_limit64(-1), 10 * 1024 * 1024);
  // Per role (negative: KiB): the writer its own cache, each reader its share of the limit.
  EXPECT_EQ(store_->pragma("cache_size").value(), "-2048");
  EXPECT_EQ(store_->pragma("cache_size", true).value(),
            "-" + std::to_string(o.sqliteMemoryLimitBytes / o.poolSize / 1024));
  reopen();  // back to the default for the tests after this one
  EXPECT_EQ(sqlite3_soft_heap_limit64(-1),
            defaults.sqliteMemoryLimitBytes + defaults.sqliteWriterCacheBytes);
}

// The writer's cache may grow during a large write (StoreOptions::sqliteWriterCacheBytes) but
// is given back after it, down to one reader's share of sqliteMemoryLimitBytes: the resident
// size at rest does not keep the last large write's pages. Without a limit nothing is given
// back (which is what shows the write did fill the cache).
TEST_F(CrudTest, SqliteWriterGivesItsCacheBackAfterALargeWrite) {
  ACP_SQLITE_ONLY();
  auto largeWrite = [&] {
    auto tx = store_->begin();
    ASSERT_TRUE(tx.isOk());
    for (int i = 0; i < 3000; ++i) {
      auto r = tx.value()->create("Patient", parseJson(R"({"resourceType":"Patient",
          "identifier":[{"system":"urn:test","value":")" + std::to_string(i) + R"("}],
          "name":[{"family":"Family)" + std::to_string(i) + R"(","given":["A"]}],
          "birthDate":"2015-01-0)" + std::to_string(1 + i % 9) + R"("})"));
      ASSERT_TRUE(r.isOk()) << r.status().message();
    }
    ASSERT_TRUE(tx.value()->commit().isOk());
  };
  StoreOptions o = options();
  o.sqliteMemoryLimitBytes = 0;  // no limit: the writer keeps what it cached
  store_.reset();
  auto unlimited = SqlStore::open(location(), acp::testing::r4Shared(), o);
  ASSERT_TRUE(unlimited.isOk());
  store_ = unlimited.take();
  largeWrite();
  EXPECT_GT(store_->sqliteWriterCacheBytes(), 2 * 1024 * 1024);

  o.sqliteMemoryLimitBytes = 4 * 1024 * 1024;  // each reader's share: the writer's rest
  o.sqliteWriterCacheBytes = 24 * 1024 * 1024;
  store_.reset();
  auto limited = SqlStore::open(location(), acp::testing::r4Shared(), o);
  ASSERT_TRUE(limited.isOk());
  store_ = limited.take();
  largeWrite();
  const int64_t after = store_->sqliteWriterCacheBytes();
  EXPECT_GE(after, 0);
  EXPECT_LE(after, o.sqliteMemoryLimitBytes / o.poolSize);
  reopen();
}

}  // namespace
}  // namespace acp::store::testing
