// SqliteStore transaction units (all-or-nothing parts of one commit) and delivery keys.
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

class UnitsTest : public StoreTest {};

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

}  // namespace
}  // namespace acp::store::testing
