// AuditRecord → AuditEvent (IHE BALP): the elements each kind of event carries, and that every
// one is a valid R4 AuditEvent for the project's model and validator.
#include "gateway/audit/audit_event.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/audit/audit_fixture.h"

namespace acp::audit::testing {
namespace {

constexpr int64_t kWhen = 1704067200123;  // 2024-01-01T00:00:00.123Z

AuditSource source() {
  AuditSource s;
  s.name = "ACP Gateway";
  s.site = "london-1";
  s.address = "https://gateway.test/fhir";
  return s;
}

json::Value event(const AuditRecord& r) {
  auto e = auditEvent(r, kWhen, source());
  EXPECT_TRUE(e.isOk()) << e.status().message();
  return e.isOk() ? e.take() : json::Value();
}

const json::Value& at(const json::Value& v, std::initializer_list<const char*> path) {
  static const json::Value kNull;
  const json::Value* cur = &v;
  for (const char* step : path) {
    if (cur->isArray()) {
      size_t i = static_cast<size_t>(std::stoul(step));
      if (i >= cur->items().size()) return kNull;
      cur = &cur->items()[i];
    } else {
      cur = cur->find(step);
      if (!cur) return kNull;
    }
  }
  return *cur;
}

std::string text(const json::Value& v, std::initializer_list<const char*> path) {
  return at(v, path).text();
}

TEST(AuditEventTest, ReadOfAPatientsPlanIsABalpPatientRead) {
  AuditRecord r = readRecord("p1");
  r.entities = {"CarePlan/cp1/_history/3"};
  r.requestId = "req-42";
  json::Value e = event(r);
  EXPECT_TRUE(validAuditEvent(e));
  EXPECT_EQ(text(e, {"type", "system"}), "http://terminology.hl7.org/CodeSystem/audit-event-type");
  EXPECT_EQ(text(e, {"type", "code"}), "rest");
  EXPECT_EQ(text(e, {"subtype", "0", "system"}), "http://hl7.org/fhir/restful-interaction");
  EXPECT_EQ(text(e, {"subtype", "0", "code"}), "read");
  EXPECT_EQ(text(e, {"action"}), "R");
  EXPECT_EQ(text(e, {"recorded"}), "2024-01-01T00:00:00.123Z");
  EXPECT_EQ(text(e, {"outcome"}), "0");
  EXPECT_EQ(e.find("outcomeDesc"), nullptr);
  EXPECT_EQ(text(e, {"purposeOfEvent", "0", "coding", "0", "system"}),
            "http://terminology.hl7.org/CodeSystem/v3-ActReason");
  EXPECT_EQ(text(e, {"purposeOfEvent", "0", "coding", "0", "code"}), "TREAT");
  // The client: Source Role ID, its organisation by ODS code, its network address.
  EXPECT_EQ(text(e, {"agent", "0", "type", "coding", "0", "code"}), "110153");
  EXPECT_EQ(text(e, {"agent", "0", "who", "identifier", "system"}),
            "https://fhir.nhs.uk/Id/ods-organization-code");
  EXPECT_EQ(text(e, {"agent", "0", "who", "identifier", "value"}), kOds);
  EXPECT_EQ(text(e, {"agent", "0", "name"}), "gp-app");
  EXPECT_EQ(text(e, {"agent", "0", "role", "0", "text"}), "gp-practice");
  EXPECT_EQ(text(e, {"agent", "0", "policy", "0"}), "jti-1");
  EXPECT_TRUE(at(e, {"agent", "0", "requestor"}).boolean());
  EXPECT_EQ(text(e, {"agent", "0", "network", "address"}), "10.0.0.7");
  EXPECT_EQ(text(e, {"agent", "0", "network", "type"}), "2");
  // The gateway: Destination Role ID, not the requestor.
  EXPECT_EQ(text(e, {"agent", "1", "type", "coding", "0", "code"}), "110152");
  EXPECT_FALSE(at(e, {"agent", "1", "requestor"}).boolean());
  EXPECT_EQ(text(e, {"agent", "1", "network", "address"}), "https://gateway.test/fhir");
  EXPECT_EQ(at(e, {"agent"}).items().size(), 2u);
  EXPECT_EQ(text(e, {"source", "observer", "display"}), "ACP Gateway");
  EXPECT_EQ(text(e, {"source", "site"}), "london-1");
  EXPECT_EQ(text(e, {"source", "type", "0", "code"}), "4");
  // Entities: the patient (Person / Patient), the resource (System Object / Domain
  // Resource), the X-Request-Id.
  EXPECT_EQ(text(e, {"entity", "0", "what", "reference"}), "Patient/p1");
  EXPECT_EQ(text(e, {"entity", "0", "type", "code"}), "1");
  EXPECT_EQ(text(e, {"entity", "0", "role", "system"}),
            "http://terminology.hl7.org/CodeSystem/object-role");
  EXPECT_EQ(text(e, {"entity", "0", "role", "code"}), "1");
  EXPECT_EQ(text(e, {"entity", "1", "what", "reference"}), "CarePlan/cp1/_history/3");
  EXPECT_EQ(text(e, {"entity", "1", "type", "code"}), "2");
  EXPECT_EQ(text(e, {"entity", "1", "role", "code"}), "4");
  EXPECT_EQ(text(e, {"entity", "2", "type", "code"}), "XrequestId");
  EXPECT_EQ(text(e, {"entity", "2", "what", "identifier", "value"}), "req-42");
}

TEST(AuditEventTest, TheValidatorWouldNoticeAMistake) {
  json::Value e = event(readRecord("p1"));
  e.set("outcome", json::Value::makeString("5"));  // not in the required value set
  EXPECT_FALSE(validAuditEvent(e));
  json::Value noAgent = event(readRecord("p1"));
  noAgent.erase("agent");  // 1..*
  EXPECT_FALSE(validAuditEvent(noAgent));
}

TEST(AuditEventTest, SearchKeepsTheRequestBase64AsTheQueryEntity) {
  AuditRecord r = readRecord("p1");
  r.interaction = "search-type";
  r.entities = {"CarePlan/a", "CarePlan/b"};
  r.query = "GET /CarePlan?patient=p1";
  json::Value e = event(r);
  EXPECT_TRUE(validAuditEvent(e));
  EXPECT_EQ(text(e, {"action"}), "E");  // BALP Query: execute
  EXPECT_EQ(text(e, {"subtype", "0", "code"}), "search-type");
  const json::Value& q = at(e, {"entity", "3"});
  EXPECT_EQ(text(q, {"role", "code"}), "24");
  EXPECT_EQ(text(q, {"type", "code"}), "2");
  EXPECT_EQ(q.find("what"), nullptr);
  EXPECT_EQ(text(q, {"query"}), "R0VUIC9DYXJlUGxhbj9wYXRpZW50PXAx");
}

TEST(AuditEventTest, ActionsFollowTheInteraction) {
  EXPECT_EQ(actionOf("create"), 'C');
  EXPECT_EQ(actionOf("read"), 'R');
  EXPECT_EQ(actionOf("vread"), 'R');
  EXPECT_EQ(actionOf("history-instance"), 'R');
  EXPECT_EQ(actionOf("update"), 'U');
  EXPECT_EQ(actionOf("patch"), 'U');
  EXPECT_EQ(actionOf("delete"), 'D');
  EXPECT_EQ(actionOf("search-type"), 'E');
  EXPECT_EQ(actionOf("operation"), 'E');
  EXPECT_EQ(actionOf("transaction"), 'E');
  EXPECT_EQ(actionOf("login"), 'E');
}

TEST(AuditEventTest, DenialIsAMinorFailureWithItsReason) {
  AuditRecord r = readRecord("p2", "urgent-app", "RYE01");
  r.outcome = kOutcomeMinorFailure;
  r.outcomeText = "forbidden: no legitimate relationship with the patient";
  r.entities.clear();
  json::Value e = event(r);
  EXPECT_TRUE(validAuditEvent(e));
  EXPECT_EQ(text(e, {"outcome"}), "4");
  EXPECT_EQ(text(e, {"outcomeDesc"}), "forbidden: no legitimate relationship with the patient");
}

TEST(AuditEventTest, UnauthenticatedDenialStillValidates) {
  AuditRecord r;
  r.interaction = "search-type";
  r.outcome = kOutcomeMinorFailure;
  r.outcomeText = "login: no access token";
  r.purpose = "";
  r.sourceAddress = "2001:db8::1";
  json::Value e = event(r);
  EXPECT_TRUE(validAuditEvent(e));
  EXPECT_EQ(text(e, {"agent", "0", "who", "display"}), "unidentified client");
  EXPECT_EQ(at(e, {"agent", "0", "who"}).find("identifier"), nullptr);
  EXPECT_EQ(text(e, {"agent", "0", "network", "type"}), "2");
  EXPECT_EQ(e.find("purposeOfEvent"), nullptr);
  EXPECT_EQ(e.find("entity"), nullptr);
}

TEST(AuditEventTest, BreakGlassNamesTheUserAndTheReason) {
  AuditRecord r = readRecord("p3", "ambulance-app", "RRU00");
  r.purpose = "ETREAT";
  r.breakGlassReason = "unconscious patient, no relationship on record";
  r.userId = "user-77";
  r.userName = "Dr A Example";
  r.sourceAddress = "host.example";
  json::Value e = event(r);
  EXPECT_TRUE(validAuditEvent(e));
  EXPECT_EQ(text(e, {"purposeOfEvent", "0", "coding", "0", "code"}), "ETREAT");
  EXPECT_EQ(text(e, {"purposeOfEvent", "0", "text"}),
            "unconscious patient, no relationship on record");
  ASSERT_EQ(at(e, {"agent"}).items().size(), 3u);
  EXPECT_FALSE(at(e, {"agent", "0", "requestor"}).boolean());  // the user asked
  EXPECT_EQ(text(e, {"agent", "0", "network", "type"}), "1");   // a machine name
  EXPECT_EQ(text(e, {"agent", "2", "type", "coding", "0", "code"}), "IRCP");
  EXPECT_EQ(text(e, {"agent", "2", "who", "identifier", "value"}), "user-77");
  EXPECT_EQ(text(e, {"agent", "2", "name"}), "Dr A Example");
  EXPECT_TRUE(at(e, {"agent", "2", "requestor"}).boolean());
}

TEST(AuditEventTest, OperationsNameTheOperation) {
  AuditRecord r = readRecord("p1");
  r.interaction = "operation";
  r.operation = "$acp-summary";
  r.query = "GET /Patient/p1/$acp-summary";
  json::Value e = event(r);
  EXPECT_TRUE(validAuditEvent(e));
  EXPECT_EQ(text(e, {"subtype", "0", "code"}), "operation");
  EXPECT_EQ(text(e, {"subtype", "1", "system"}), kOperationCodeSystem);
  EXPECT_EQ(text(e, {"subtype", "1", "code"}), "$acp-summary");
  EXPECT_EQ(text(e, {"action"}), "E");
  auto row = auditRow(r, kWhen, source());
  ASSERT_TRUE(row.isOk());
  EXPECT_EQ(row.value().subtype, "$acp-summary");
  EXPECT_EQ(row.value().action, "E");
}

TEST(AuditEventTest, TokenRequestIsALogin) {
  AuditRecord r;
  r.interaction = "login";
  r.clientId = "gp-app";
  r.organisation = kOds;
  r.purpose = "";
  r.sourceAddress = "10.0.0.7";
  json::Value e = event(r);
  EXPECT_TRUE(validAuditEvent(e));
  EXPECT_EQ(text(e, {"type", "system"}), "http://dicom.nema.org/resources/ontology/DCM");
  EXPECT_EQ(text(e, {"type", "code"}), "110114");
  EXPECT_EQ(text(e, {"subtype", "0", "code"}), "110122");
  EXPECT_EQ(text(e, {"action"}), "E");
}

TEST(AuditEventTest, AnHl7MessageIsAPatientRecordEventNamingTheMessage) {
  AuditRecord r;
  r.interaction = "hl7v2";
  r.action = 'C';
  r.clientId = "PAS";
  r.organisation = "RX8";
  r.sourceAddress = "10.1.2.3";
  r.patients = {"p1"};
  r.entities = {"Encounter/e1/_history/1", "Provenance/v1/_history/1"};
  r.message.system = "https://acp-gateway.nhs.uk/Id/push/RX8";
  r.message.id = "PAS0001234";
  r.message.name = "HL7 v2 message";
  r.message.details = {{"MSH-9", "ADT^A01"}, {"MSH-10", "PAS0001234"}};
  json::Value e = event(r);
  EXPECT_TRUE(validAuditEvent(e));
  EXPECT_EQ(text(e, {"type", "system"}), "http://dicom.nema.org/resources/ontology/DCM");
  EXPECT_EQ(text(e, {"type", "code"}), "110110");
  EXPECT_EQ(text(e, {"subtype", "0", "system"}), kAuditSubtypeSystem);
  EXPECT_EQ(text(e, {"subtype", "0", "code"}), "hl7v2");
  EXPECT_EQ(text(e, {"subtype", "1", "code"}), "create");
  EXPECT_EQ(text(e, {"action"}), "C");
  // Patient, two resources, then the message with its details.
  EXPECT_EQ(text(e, {"entity", "3", "role", "code"}), "20");
  EXPECT_EQ(text(e, {"entity", "3", "what", "identifier", "value"}), "PAS0001234");
  EXPECT_EQ(text(e, {"entity", "3", "name"}), "HL7 v2 message");
  EXPECT_EQ(text(e, {"entity", "3", "detail", "0", "type"}), "MSH-9");
  EXPECT_EQ(text(e, {"entity", "3", "detail", "0", "valueString"}), "ADT^A01");
  auto row = auditRow(r, kWhen, source());
  ASSERT_TRUE(row.isOk());
  EXPECT_EQ(row.value().subtype, "hl7v2");
  // The message survives the stored facts.
  auto facts = readFacts(row.value().json);
  ASSERT_TRUE(facts.isOk()) << facts.status().message();
  EXPECT_EQ(json::write(event(facts.value().record)), json::write(e));
  EXPECT_EQ(facts.value().record.message.details, r.message.details);
}

TEST(AuditEventTest, AListenerRefusalNamesNobodyAndValidates) {
  AuditRecord r;
  r.interaction = "refused";
  r.purpose = "";
  r.outcome = kOutcomeSeriousFailure;
  r.outcomeText = "413 http.body-too-large";
  r.sourceAddress = "192.0.2.7";
  r.query = "POST /Patient";
  json::Value e = event(r);
  EXPECT_TRUE(validAuditEvent(e));
  EXPECT_EQ(text(e, {"type", "code"}), "rest");
  EXPECT_EQ(text(e, {"subtype", "0", "code"}), "refused");
  EXPECT_EQ(text(e, {"action"}), "E");
  EXPECT_EQ(text(e, {"agent", "0", "who", "display"}), "unidentified client");
  EXPECT_EQ(auditRow(r, kWhen, source()).value().subtype, "refused");
}

TEST(AuditEventTest, TheRowCarriesTheSearchableFactsAndRendersAsTheEvent) {
  AuditRecord r = readRecord("p9");
  r.interaction = "update";
  r.patients = {"p9", "p1", "p9"};
  r.purpose = "ETREAT";
  r.breakGlassReason = "collapsed in clinic";
  auto row = auditRow(r, kWhen, source());
  ASSERT_TRUE(row.isOk());
  EXPECT_EQ(row.value().recorded, "2024-01-01T00:00:00.123Z");
  EXPECT_EQ(row.value().client, "gp-app");
  EXPECT_EQ(row.value().organisation, kOds);
  EXPECT_EQ(row.value().action, "U");
  EXPECT_EQ(row.value().subtype, "update");
  EXPECT_EQ(row.value().outcome, 0);
  EXPECT_EQ(row.value().purpose, "ETREAT");
  EXPECT_EQ(row.value().patients, (std::vector<std::string>{"p1", "p9"}));
  // The row keeps the facts, a fraction of the event's size…
  const std::string full = json::write(event(r));
  EXPECT_LT(row.value().json.size() * 2, full.size());
  // …and renders as exactly the event, with id, meta and the chain extension added.
  store::AuditRow stored = row.take();
  stored.seq = 12;
  stored.prevHash = std::string(64, '1');
  stored.hash = std::string(64, '2');
  auto rendered = renderAuditEvent(stored);
  ASSERT_TRUE(rendered.isOk()) << rendered.status().message();
  EXPECT_TRUE(validAuditEvent(rendered.value()));
  EXPECT_EQ(rendered.value().getString("id"), "12");
  json::Value bare = rendered.value();
  bare.erase("id");
  bare.erase("meta");
  bare.erase("extension");
  EXPECT_EQ(json::write(bare), full);
}

TEST(AuditEventTest, FactsRoundTripEveryField) {
  AuditRecord r;
  r.interaction = "operation";
  r.operation = "$acp-summary";
  r.action = 'E';
  r.outcome = kOutcomeMajorFailure;
  r.outcomeText = "store failed \"badly\"\n";
  r.clientId = "c";
  r.organisation = "o";
  r.role = "urgent-care";
  r.tokenId = "t";
  r.userId = "u";
  r.userName = "Ü Name";
  r.sourceAddress = "::1";
  r.requestId = "rq";
  r.purpose = "ETREAT";
  r.breakGlassReason = "line one\nline two";
  r.patients = {"a", "b"};
  r.entities = {"CarePlan/1/_history/2", "Flag/3"};
  r.query = "GET /Patient/a/$acp-summary?x=\"y\"";
  AuditSource src = source();
  auto facts = readFacts(writeFacts(r, kWhen, src));
  ASSERT_TRUE(facts.isOk()) << facts.status().message();
  const AuditRecord& back = facts.value().record;
  r.recordedMs = kWhen;
  EXPECT_EQ(json::write(event(back)), json::write(event(r)));
  EXPECT_EQ(back.recordedMs, kWhen);
  EXPECT_EQ(back.breakGlassReason, r.breakGlassReason);
  EXPECT_EQ(back.query, r.query);
  EXPECT_EQ(facts.value().source.site, "london-1");
  // A record without purpose stays without.
  AuditRecord none = readRecord("p1");
  none.action = 'R';
  none.purpose = "";
  auto noPurpose = readFacts(writeFacts(none, kWhen, src));
  ASSERT_TRUE(noPurpose.isOk());
  EXPECT_EQ(noPurpose.value().record.purpose, "");
  for (const char* bad : {"", "[]", "{\"v\":2}", "{\"v\":1,\"interaction\":1}"})
    EXPECT_EQ(readFacts(bad).status().code(), Status::Code::kInternal) << bad;
}

TEST(AuditEventTest, MalformedRecordsAreRefused) {
  AuditRecord none;
  EXPECT_EQ(auditEvent(none, kWhen, source()).status().code(), Status::Code::kInvalid);
  AuditRecord op = readRecord("p1");
  op.interaction = "operation";
  EXPECT_EQ(auditEvent(op, kWhen, source()).status().code(), Status::Code::kInvalid);
  AuditRecord outcome = readRecord("p1");
  outcome.outcome = 5;
  EXPECT_EQ(auditRow(outcome, kWhen, source()).status().code(), Status::Code::kInvalid);
  AuditRecord action = readRecord("p1");
  action.action = 'X';
  auto bad = auditEvent(action, kWhen, source());
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().message().rfind("audit.invalid-record: ", 0), 0u);
}

TEST(AuditEventTest, Base64IsStandardWithPadding) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode(std::string("\xff\xfe", 2)), "//4=");
}

// The definitions published for the trail: the chain extension and $verify-chain.
TEST(AuditEventTest, PublishedDefinitionsAreValidR4) {
  for (const char* file :
       {"StructureDefinition-audit-chain.json", "OperationDefinition-verify-chain.json",
        "CodeSystem-audit-subtype.json"}) {
    std::ifstream in(std::string(ACP_SOURCE_DIR) + "/conformance/acp/" + file);
    std::stringstream ss;
    ss << in.rdbuf();
    json::Value v;
    json::ParseError err;
    ASSERT_TRUE(json::parse(ss.str(), v, err)) << file << ": " << err.message;
    IssueList issues;
    EXPECT_TRUE(validator().validate(v, issues)) << file << "\n" << dump(issues);
  }
}

}  // namespace
}  // namespace acp::audit::testing
