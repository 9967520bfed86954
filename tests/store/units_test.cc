// SqlStore transaction units (all-or-nothing parts of one commit) and delivery keys.
#include <sqlite3.h>

#include <string>

#include "tests/store/store_fixture.h"

namespace acp::store::testing {
namespace {

json::Value patient(const std::string& family) {
  json::Value v;
  json::ParseError err;
  json::parse(R"({"resourceType":"Patient","name":[{"family":")" + family + R"("}]})", v, err);
  return v;
}

class UnitsTest : public StoreTest {
 protected:
  // Where one resource's token rows are (SQLite rowid, PostgreSQL ctid), as a sorted list:
  // what an update kept in place.
  std::vector<std::string> tokenRowAddresses(const std::string& id) {
    const char* address = postgres() ? "t.ctid::text" : "t.rowid";
    auto rows = rawRows(std::string("SELECT ") + address +
                        " FROM token_idx t JOIN resources r ON r.pk = t.resource_pk "
                        "WHERE r.type = 'Patient' AND r.id = '" + id +
                        "' AND t.param = 'identifier' AND t.code = 'KEEP-1'");
    std::sort(rows.begin(), rows.end());
    return rows;
  }
};

TEST_F(UnitsTest, AnUndoneUnitLeavesNothingAndAKeptOneCommitsWithTheTransaction) {
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  ASSERT_TRUE(tx.value()->beginUnit().isOk());
  ASSERT_TRUE(tx.value()->update("Patient", "kept", patient("Kept")).isOk());
  ASSERT_TRUE(tx.value()->endUnit(true).isOk());
  ASSERT_TRUE(tx.value()->beginUnit().isOk());
  ASSERT_TRUE(tx.value()->update("Patient", "undone", patient("Undone")).isOk());
  ASSERT_TRUE(tx.value()->update("Patient", "kept", patient("Changed")).isOk());
  ASSERT_TRUE(tx.value()->endUnit(false).isOk());
  // Inside the transaction the undone writes are gone already.
  EXPECT_FALSE(tx.value()->read("Patient", "undone").isOk());
  ASSERT_TRUE(tx.value()->commit().isOk());
  auto kept = store_->read("Patient", "kept");
  ASSERT_TRUE(kept.isOk());
  EXPECT_NE(kept->json.find("Kept"), std::string::npos);
  EXPECT_EQ(kept->versionId, 1);
  EXPECT_EQ(store_->read("Patient", "undone").status().code(), Status::Code::kNotFound);
}

TEST_F(UnitsTest, EndingAUnitThatWasNeverBegunIsAnError) {
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  EXPECT_FALSE(tx.value()->endUnit(true).isOk());
}

TEST_F(UnitsTest, ADeliveryKeyIsClaimedOnceAcrossCommitsAndFreedByARollback) {
  {
    auto tx = store_->begin();
    ASSERT_TRUE(tx.isOk());
    EXPECT_TRUE(tx.value()->claimDelivery("hl7v2|PAS|RX8|1").value());
    EXPECT_FALSE(tx.value()->claimDelivery("hl7v2|PAS|RX8|1").value());  // same transaction
    // dropped without commit: rolled back
  }
  {
    auto tx = store_->begin();
    ASSERT_TRUE(tx.isOk());
    EXPECT_TRUE(tx.value()->claimDelivery("hl7v2|PAS|RX8|1").value());
    ASSERT_TRUE(tx.value()->beginUnit().isOk());
    EXPECT_TRUE(tx.value()->claimDelivery("hl7v2|PAS|RX8|2").value());
    ASSERT_TRUE(tx.value()->endUnit(false).isOk());  // the unit's claim is undone
    ASSERT_TRUE(tx.value()->commit().isOk());
  }
  reopen();  // durable
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  EXPECT_FALSE(tx.value()->claimDelivery("hl7v2|PAS|RX8|1").value());
  EXPECT_TRUE(tx.value()->claimDelivery("hl7v2|PAS|RX8|2").value());
}

TEST_F(UnitsTest, SourceOrdersAreKeptBesideResourcesAndUndoneWithTheirUnit) {
  {
    auto tx = store_->begin();
    ASSERT_TRUE(tx.isOk());
    EXPECT_EQ(tx.value()->sourceOrder("Patient", "p").value(), "");
    ASSERT_TRUE(tx.value()->setSourceOrder("Patient", "p", "utc-time:20261001090000").isOk());
    ASSERT_TRUE(tx.value()->beginUnit().isOk());
    ASSERT_TRUE(tx.value()->setSourceOrder("Patient", "p", "utc-time:20261002090000").isOk());
    EXPECT_EQ(tx.value()->sourceOrder("Patient", "p").value(), "utc-time:20261002090000");
    ASSERT_TRUE(tx.value()->endUnit(false).isOk());
    EXPECT_EQ(tx.value()->sourceOrder("Patient", "p").value(), "utc-time:20261001090000");
    ASSERT_TRUE(tx.value()->commit().isOk());
  }
  reopen();
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  EXPECT_EQ(tx.value()->sourceOrder("Patient", "p").value(), "utc-time:20261001090000");
  EXPECT_EQ(tx.value()->sourceOrder("Encounter", "p").value(), "");
}


TEST_F(UnitsTest, AnUpdateChangesOnlyTheIndexRowsWhoseValuesChanged) {
  ASSERT_TRUE(put("Patient", "p1", R"({"resourceType":"Patient","id":"p1",
      "identifier":[{"system":"s","value":"KEEP-1"},{"system":"s","value":"OLD-2"}],
      "name":[{"family":"Smith","given":["Ann"]}],"birthDate":"2015-03-14"})").isOk());
  std::vector<std::string> before = tokenRowAddresses("p1");
  ASSERT_EQ(before.size(), 1u);
  tick();
  ASSERT_TRUE(put("Patient", "p1", R"({"resourceType":"Patient","id":"p1",
      "identifier":[{"system":"s","value":"KEEP-1"},{"system":"s","value":"NEW-2"}],
      "name":[{"family":"Jones","given":["Ann"]}],"birthDate":"2015-03-14"})").isOk());
  // Searches see exactly the new values.
  EXPECT_EQ(ids("Patient", {{"identifier", "s|KEEP-1"}}), std::vector<std::string>{"p1"});
  EXPECT_EQ(ids("Patient", {{"identifier", "s|NEW-2"}}), std::vector<std::string>{"p1"});
  EXPECT_TRUE(ids("Patient", {{"identifier", "s|OLD-2"}}).empty());
  EXPECT_EQ(ids("Patient", {{"family", "Jones"}}), std::vector<std::string>{"p1"});
  EXPECT_TRUE(ids("Patient", {{"family", "Smith"}}).empty());
  EXPECT_EQ(ids("Patient", {{"given", "Ann"}, {"birthdate", "2015-03-14"}}),
            std::vector<std::string>{"p1"});
  // The unchanged identifier's row was not rewritten.
  EXPECT_EQ(tokenRowAddresses("p1"), before);
  // Deleted, then brought back: the rows come back whole.
  ASSERT_TRUE(remove("Patient", "p1").isOk());
  EXPECT_TRUE(ids("Patient", {{"identifier", "s|KEEP-1"}}).empty());
  ASSERT_TRUE(put("Patient", "p1", R"({"resourceType":"Patient","id":"p1",
      "identifier":[{"system":"s","value":"KEEP-1"}],"name":[{"family":"Jones"}]})").isOk());
  EXPECT_EQ(ids("Patient", {{"identifier", "s|KEEP-1"}}), std::vector<std::string>{"p1"});
  EXPECT_TRUE(ids("Patient", {{"identifier", "s|NEW-2"}}).empty());
}

}  // namespace
}  // namespace acp::store::testing
