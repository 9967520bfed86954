// The audit trail's hash chain on a real SQLite file: what the hash covers, that the tables
// refuse changes, that changes made behind the gateway's back (a second connection to the
// file, the triggers dropped) are found at the right seq, and that the chain continues across
// a restart.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gateway/store/audit_log.h"
#include "tests/audit/audit_fixture.h"

namespace acp::audit::testing {
namespace {

std::string sha256Hex(const std::string& text) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : d) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

class AuditChainTest : public AuditTest {
 protected:
  // Five reads of patients p1..p5 (seq 1..5).
  void recordFive() {
    for (int i = 1; i <= 5; ++i) record(readRecord("p" + std::to_string(i)));
  }

  store::AuditRow row(int64_t seq) {
    auto r = store_->auditRow(seq);
    EXPECT_TRUE(r.isOk() && r.value()) << seq;
    return r.isOk() && r.value() ? *r.value() : store::AuditRow{};
  }

  void dropTriggers() {
    ASSERT_EQ(tamper("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; "
                     "DROP TRIGGER audit_patient_no_update; DROP TRIGGER audit_patient_no_delete;"),
              "");
  }
};

TEST_F(AuditChainTest, TheHashIsTheDocumentedSha256) {
  AuditRecord r = readRecord("p1");
  r.patients = {"p2", "p1"};
  record(r);
  store::AuditRow first = row(1);
  EXPECT_EQ(first.prevHash, std::string(64, '0'));
  EXPECT_EQ(first.patients, (std::vector<std::string>{"p1", "p2"}));
  // Recomputed from the documented form, independently of auditHashInput.
  std::string text = first.prevHash + "\n[1,\"" + first.recorded +
                     "\",\"gp-app\",\"A81001\",\"R\",\"read\",0,\"TREAT\",[\"p1\",\"p2\"]]\n" +
                     first.json;
  EXPECT_EQ(store::auditHashInput(first), text);
  EXPECT_EQ(first.hash, sha256Hex(text));
  record(readRecord("p3"));
  EXPECT_EQ(row(2).prevHash, first.hash);
}

TEST_F(AuditChainTest, TheTablesRefuseUpdatesAndDeletes) {
  recordFive();
  EXPECT_NE(tamper("UPDATE audit_log SET client = 'x' WHERE seq = 2"), "");
  EXPECT_NE(tamper("DELETE FROM audit_log WHERE seq = 5"), "");
  EXPECT_NE(tamper("UPDATE audit_patient SET patient = 'x' WHERE seq = 2"), "");
  EXPECT_NE(tamper("DELETE FROM audit_patient WHERE seq = 2"), "");
  auto check = verify();
  EXPECT_TRUE(check.intact) << check.problem;
  EXPECT_EQ(check.checked, 5);
  EXPECT_EQ(check.lastSeq, 5);
  EXPECT_EQ(check.lastHash, row(5).hash);
}

TEST_F(AuditChainTest, AnEditedEventIsFoundAtItsSeq) {
  recordFive();
  dropTriggers();
  ASSERT_EQ(tamper("UPDATE audit_log SET json = replace(json, 'Patient/p3', 'Patient/p9') "
                   "WHERE seq = 3"),
            "");
  auto check = verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.firstBrokenSeq, 3);
  EXPECT_EQ(check.checked, 3);
  EXPECT_EQ(check.lastSeq, 2);
  EXPECT_NE(check.problem.find("does not match its hash"), std::string::npos) << check.problem;
}

TEST_F(AuditChainTest, AnEditedSearchColumnIsFound) {
  recordFive();
  dropTriggers();
  ASSERT_EQ(tamper("UPDATE audit_log SET client = 'someone-else' WHERE seq = 2"), "");
  auto check = verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.firstBrokenSeq, 2);
}

TEST_F(AuditChainTest, AHashRecomputedForAnEditIsFoundAtTheNextRow) {
  recordFive();
  dropTriggers();
  // The editor fixes the edited row's own hash; the next row still names the old one.
  store::AuditRow edited = row(3);
  edited.client = "someone-else";
  ASSERT_EQ(tamper("UPDATE audit_log SET client = 'someone-else', hash = '" +
                   store::auditRowHash(edited) + "' WHERE seq = 3"),
            "");
  auto check = verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.firstBrokenSeq, 4);
  EXPECT_NE(check.problem.find("previous hash"), std::string::npos) << check.problem;
}

TEST_F(AuditChainTest, ARemovedEventIsFound) {
  recordFive();
  dropTriggers();
  ASSERT_EQ(tamper("DELETE FROM audit_log WHERE seq = 3; DELETE FROM audit_patient WHERE seq = 3"),
            "");
  auto check = verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.firstBrokenSeq, 3);
  EXPECT_NE(check.problem.find("missing"), std::string::npos) << check.problem;
}

TEST_F(AuditChainTest, ARemovedPatientRowIsFound) {
  recordFive();
  dropTriggers();
  // Would hide event 2 from a search by its patient.
  ASSERT_EQ(tamper("DELETE FROM audit_patient WHERE seq = 2"), "");
  auto check = verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.firstBrokenSeq, 2);
}

TEST_F(AuditChainTest, AMisdatedPatientRowIsFound) {
  recordFive();
  dropTriggers();
  // Would move event 3 out of a date range searched by patient.
  ASSERT_EQ(tamper("UPDATE audit_patient SET recorded = '2001-01-01T00:00:00.000Z' WHERE seq = 3"),
            "");
  auto check = verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.firstBrokenSeq, 3);
  EXPECT_NE(check.problem.find("recorded"), std::string::npos) << check.problem;
}

TEST_F(AuditChainTest, AnAddedPatientRowIsFound) {
  recordFive();
  dropTriggers();
  const std::string recorded = row(4).recorded;
  ASSERT_EQ(tamper("INSERT INTO audit_patient(patient, recorded, seq) VALUES ('p9', '" + recorded +
                   "', 4)"),
            "");
  EXPECT_EQ(verify().firstBrokenSeq, 4);
  ASSERT_EQ(tamper("DELETE FROM audit_patient WHERE seq = 4 AND patient = 'p9'; "
                   "INSERT INTO audit_patient(patient, recorded, seq) VALUES ('p9', '" + recorded +
                   "', 7)"),
            "");
  auto check = verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.firstBrokenSeq, 7);
}

TEST_F(AuditChainTest, RemovingTheNewestEventsIsFoundAgainstAnAnchor) {
  recordFive();
  auto head = verify();
  ASSERT_TRUE(head.intact);
  ASSERT_EQ(head.lastSeq, 5);
  dropTriggers();
  ASSERT_EQ(tamper("DELETE FROM audit_log WHERE seq >= 4; DELETE FROM audit_patient WHERE seq >= 4"),
            "");
  // The chain alone cannot tell…
  EXPECT_TRUE(verify().intact);
  // …the head recorded earlier can.
  auto check = verify(head.lastSeq, head.lastHash);
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.firstBrokenSeq, 4);
}

TEST_F(AuditChainTest, TheChainContinuesAfterReopening) {
  record(readRecord("p1"));
  record(readRecord("p2"));
  record(readRecord("p3"));
  const std::string third = row(3).hash;
  reopenAll();
  record(readRecord("p4"));
  auto tx = store_->begin();
  ASSERT_TRUE(tx.isOk());
  AuditRecord w = readRecord("p5");
  w.interaction = "update";
  ASSERT_TRUE(trail_->recordWithin(*tx.value(), w).isOk());
  ASSERT_TRUE(tx.value()->commit().isOk());
  EXPECT_EQ(row(4).prevHash, third);
  EXPECT_EQ(row(5).prevHash, row(4).hash);
  auto check = verify();
  EXPECT_TRUE(check.intact) << check.problem;
  EXPECT_EQ(check.checked, 5);
}

TEST_F(AuditChainTest, VerifyingWhileEventsAreAppendedFindsNothingWrong) {
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        AuditRecord r = readRecord("w" + std::to_string(t));
        r.patients.push_back("x" + std::to_string(i % 5));
        if (!trail_->record(r).isOk()) failures++;
      }
    });
  int64_t last = 0;
  for (int round = 0; round < 30; ++round) {
    auto check = verify();
    EXPECT_TRUE(check.intact) << check.problem;
    EXPECT_GE(check.lastSeq, last);
    last = check.lastSeq;
  }
  stop = true;
  for (auto& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(verify().intact);
}

TEST_F(AuditChainTest, AnEmptyTrailIsIntact) {
  auto check = verify();
  EXPECT_TRUE(check.intact);
  EXPECT_EQ(check.checked, 0);
  EXPECT_EQ(check.lastSeq, 0);
  // A head that no longer exists at all.
  EXPECT_EQ(verify(3, std::string(64, 'a')).firstBrokenSeq, 1);
}

TEST_F(AuditChainTest, AWalkLongerThanOneChunkStaysChained) {
  // More rows than one verification chunk (1000), appended in batches.
  std::vector<store::AuditRow> rows;
  for (int i = 0; i < 2500; ++i) {
    auto r = auditRow(readRecord("p" + std::to_string(i % 7)), store::testing::kJan2024 + i, {});
    ASSERT_TRUE(r.isOk());
    rows.push_back(r.take());
    if (rows.size() == 600) {
      ASSERT_TRUE(store_->appendAudit(rows).isOk());
      rows.clear();
    }
  }
  ASSERT_TRUE(store_->appendAudit(rows).isOk());
  auto check = verify();
  EXPECT_TRUE(check.intact) << check.problem;
  EXPECT_EQ(check.checked, 2500);
  dropTriggers();
  ASSERT_EQ(tamper("UPDATE audit_log SET outcome = 4 WHERE seq = 1700"), "");
  check = verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.firstBrokenSeq, 1700);
  EXPECT_EQ(check.checked, 1700);
}

}  // namespace
}  // namespace acp::audit::testing
