// The audit of partner pushes (POST /$ingest/<partner>; ingest/push_audit.h) against a real
// server and its SQLite store: a push's AuditEvent names its patients and the versions it
// wrote, says create or update, reports refused records by count and code only, and is
// committed in the same transaction as the push's records — when the event cannot be
// written, neither is the data.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "gateway/ingest/person_index.h"
#include "tests/support/audit_reading.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string sample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void replace(std::string& s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
}

HttpResult push(TestServer& server, const std::string& body) {
  return server.request("POST", "/$ingest/hospice", body, {{"Content-Type", "application/json"}});
}

// The references the push's answer gives for its records.
std::vector<std::string> answeredReferences(const HttpResult& r) {
  std::vector<std::string> out;
  for (const json::Value& p : r.json.find("parameter")->items()) {
    if (p.getString("name") != "record") continue;
    for (const json::Value& part : p.find("part")->items())
      if (part.getString("name") == "resource")
        out.push_back(part.find("valueReference")->getString("reference"));
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The sample with a second record for another child, born on 31/02: rejected by the mapper.
std::string withImpossibleSecondRecord() {
  std::string doc = sample();
  size_t start = doc.find("{\n    \"recordId\"");
  size_t end = doc.rfind("}]");
  std::string second = doc.substr(start, end + 1 - start);
  replace(second, "WB-004471", "WB-009999");
  replace(second, "14/03/2015", "31/02/2015");
  replace(second, "E-90021", "E-90022");
  replace(second, "ACP-2231", "ACP-9999");
  doc.insert(end + 1, ",\n" + second);
  return doc;
}

const std::string kChild = ingest::personIdForNhsNumber("9992530820");

TEST(PushAudit, APushIsAuditedWithItsPatientsAndTheVersionsItWrote) {
  TestServer server;
  HttpResult r = push(server, sample());
  ASSERT_EQ(r.status, 200) << r.body;
  auto pushes = auditEvents(server, "?subtype=%24ingest");
  ASSERT_EQ(pushes.size(), 1u);
  const json::Value& e = pushes[0];
  EXPECT_EQ(e.getString("outcome"), "0");
  EXPECT_EQ(e.getString("action"), "C") << "every version written is a first one";
  EXPECT_TRUE(contains(auditSubtypes(e), "$ingest"));
  EXPECT_EQ(auditEntities(e, "1"), std::vector<std::string>{"Patient/" + kChild});
  // Every version the answer names, the Provenance included, is in the event.
  std::vector<std::string> written = auditEntities(e, "4");
  std::vector<std::string> answered = answeredReferences(r);
  ASSERT_FALSE(answered.empty());
  for (const std::string& ref : answered) EXPECT_TRUE(contains(written, ref)) << ref;
  AuditedMessage m = auditMessage(e);
  EXPECT_EQ(m.id, "WB-EXP-20261101-0930");
  EXPECT_EQ(m.detail("partner"), "hospice");
  EXPECT_EQ(m.detail("source"), "8WB01");
  EXPECT_EQ(m.detail("records"), "1 of 1: 1 stored, 0 unchanged, 0 rejected");
  // The privacy officer finds it by the child.
  EXPECT_EQ(auditEvents(server, "?patient=Patient/" + kChild + "&subtype=%24ingest").size(), 1u);

  // The same push again writes nothing: an event all the same, naming the child, no versions.
  ASSERT_EQ(push(server, sample()).status, 200);
  pushes = auditEvents(server, "?subtype=%24ingest");
  ASSERT_EQ(pushes.size(), 2u);
  EXPECT_EQ(pushes[0].getString("action"), "E");
  EXPECT_EQ(pushes[0].getString("outcome"), "0");
  EXPECT_EQ(auditEntities(pushes[0], "1"), std::vector<std::string>{"Patient/" + kChild});
  EXPECT_TRUE(auditEntities(pushes[0], "4").empty());
  EXPECT_EQ(auditMessage(pushes[0]).detail("records"),
            "1 of 1: 0 stored, 1 unchanged, 0 rejected");

  // A newer plan version updates the CarePlan: an update.
  std::string newer = sample();
  replace(newer, "\"version\": 3", "\"version\": 4");
  replace(newer, "Call hospice 24h line first", "Call the hospice 24h line first");
  ASSERT_EQ(push(server, newer).status, 200);
  pushes = auditEvents(server, "?subtype=%24ingest&action=U");
  ASSERT_EQ(pushes.size(), 1u);
  bool carePlanV2 = false;
  for (const std::string& ref : auditEntities(pushes[0], "4"))
    carePlanV2 = carePlanV2 || (ref.rfind("CarePlan/", 0) == 0 &&
                                ref.find("/_history/2") != std::string::npos);
  EXPECT_TRUE(carePlanV2);
  EXPECT_TRUE(auditChainIntact(server));
}

TEST(PushAudit, RefusedRecordsAreReportedByCountAndCodeNeverByWhoTheyAreAbout) {
  TestServer server;
  HttpResult r = push(server, withImpossibleSecondRecord());
  ASSERT_EQ(r.status, 200) << r.body;
  auto pushes = auditEvents(server, "?subtype=%24ingest");
  ASSERT_EQ(pushes.size(), 1u);
  const json::Value& e = pushes[0];
  EXPECT_EQ(e.getString("outcome"), "4") << "a push partly refused is a minor failure";
  const std::string desc = e.getString("outcomeDesc");
  EXPECT_NE(desc.find("1 of 2 records rejected"), std::string::npos) << desc;
  EXPECT_NE(desc.find("hospice.invalid-date"), std::string::npos) << desc;
  for (const char* identifying : {"9992530820", "999 253 0820", "Hartley", "Amelia", "WB-0"})
    EXPECT_EQ(json::write(e).find(identifying), std::string::npos) << identifying;
  // The stored child is named; the refused record's child is not (nothing of it is stored).
  EXPECT_EQ(auditEntities(e, "1"), std::vector<std::string>{"Patient/" + kChild});
  EXPECT_EQ(auditMessage(e).detail("records"), "2 of 2: 1 stored, 0 unchanged, 1 rejected");

  // A push whose only record is refused: a failure event, naming nobody.
  std::string bad = sample();
  replace(bad, "14/03/2015", "31/02/2015");
  replace(bad, "WB-EXP-20261101-0930", "WB-EXP-20261101-0931");
  ASSERT_EQ(push(server, bad).status, 200);
  auto failed = auditEvents(server, "?subtype=%24ingest&outcome=8");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].getString("outcomeDesc"), "the record was rejected: hospice.invalid-date");
  EXPECT_TRUE(auditEntities(failed[0], "1").empty());
  EXPECT_EQ(auditMessage(failed[0]).id, "WB-EXP-20261101-0931");
  EXPECT_TRUE(auditChainIntact(server));
}

TEST(PushAudit, WhenTheEventCannotBeWrittenNeitherIsTheData) {
  TestServer server;
  // Another connection to the same database makes every audit append fail.
  auto other = server.side();
  other->refuseAuditAppends();
  HttpResult r = push(server, sample());
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.errorCode(), "audit.unavailable");
  other->allowAuditAppends();
  other.reset();
  HttpResult count = server.get("/Patient?_summary=count");
  ASSERT_EQ(count.status, 200) << count.body;
  EXPECT_EQ(count.json.find("total")->text(), "0")
      << "the records were not committed without their event";
  EXPECT_EQ(server.get("/Provenance?_summary=count").json.find("total")->text(), "0");
  EXPECT_TRUE(auditEvents(server, "?subtype=%24ingest").empty());
  // The sender retries: now the data and its event are there together.
  ASSERT_EQ(push(server, sample()).status, 200);
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "1");
  EXPECT_EQ(auditEvents(server, "?subtype=%24ingest&outcome=0").size(), 1u);
  EXPECT_TRUE(auditChainIntact(server));
}

}  // namespace
}  // namespace acp::testing
