// Adversarial review of candidate links (docs/api.md "Candidate links"): near-identical
// children (twins), links whose Patients changed before the review (a later NHS number, an
// A40 merge, another confirmed link), later records after a decision, Flags, Provenance and
// idempotency. A test that fails states the behaviour a safe review must have.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "gateway/ingest/person_index.h"
#include "tests/ingest/fhir_reading.h"
#include "tests/ingest/hl7_messages.h"

namespace acp::testing {
namespace {

using namespace hl7;

const std::map<std::string, std::string> kFhirJson{{"Content-Type", "application/fhir+json"}};

// A Modulus 11-valid NHS number starting with the nine digits `first9`.
std::string nhsNumber(const std::string& first9) {
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (first9[i] - '0') * (10 - i);
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  EXPECT_NE(check, 10) << first9;
  return first9 + std::to_string(check);
}
const std::string kNhsA = nhsNumber("999111222");
const std::string kNhsB = nhsNumber("999333444");

// The hospice's Amelia Hartley (14/03/2015, postcode NB3 4QT, record WB-004471) with the NHS
// number `nhs` ("" for none).
std::string hospice(const std::string& nhs = "",
                    const std::string& modified = "2026-10-30T16:02:00+00:00") {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  replace(doc, "\"nhsNumber\": \"999 253 0820\", \"nhsNumberVerified\": true,",
          nhs.empty() ? "" : "\"nhsNumber\": \"" + nhs + "\", \"nhsNumberVerified\": true,");
  replace(doc, "\"lastModified\": \"2026-10-30T16:02:00+00:00\"",
          "\"lastModified\": \"" + modified + "\"");
  return doc;
}

void sendHospice(TestServer& server, const std::string& doc) {
  HttpResult h =
      server.request("POST", "/$ingest/hospice", doc, {{"Content-Type", "application/json"}});
  ASSERT_EQ(h.status, 200) << h.body;
  ASSERT_EQ(h.body.find("\"valueCode\":\"rejected\""), std::string::npos) << h.body;
}

// A hospital PID for a Hartley born 14/03/2015 with `given`, `sex`, the postcode NB3 4QT.
std::string hospitalPid(const std::string& mrn, const std::string& given,
                        const std::string& nhs = "", const std::string& sex = "F") {
  std::string ids = (nhs.empty() ? "" : nhs + "^^^NHS^NH~") + mrn + "^^^RX8^MR";
  return "PID|1||" + ids + "||Hartley^" + given + "^^^Miss||20150314|" + sex +
         "|||12 Orchard Way^^Northby^^NB3 4QT";
}

std::string admit(const std::string& controlId, const std::string& pidSegment,
                  const std::string& visit, const std::string& time = "20261001090000") {
  return message({msh("ADT^A01^ADT_A01", controlId, time), "EVN|A01|" + time, pidSegment,
                  "PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr||420||||19||||||" + visit +
                      "|||||||||||||||||||||||||20261001085000"});
}

std::vector<json::Value> entries(TestServer& server, const std::string& query) {
  HttpResult r = server.get(query);
  std::vector<json::Value> out;
  if (const json::Value* e = r.json.find("entry"))
    for (const json::Value& x : e->items())
      if (x.find("resource")->getString("resourceType") != "OperationOutcome")
        out.push_back(*x.find("resource"));
  return out;
}

bool isActive(const json::Value& patient) {
  const json::Value* a = patient.find("active");
  return !(a && a->isBool() && !a->boolean());
}

// The Patients served for Hartley, 14/03/2015 that are not replaced (active), as references.
std::vector<std::string> liveHartleys(TestServer& server) {
  std::vector<std::string> out;
  for (const json::Value& p :
       entries(server, "/Patient?family=Hartley&birthdate=2015-03-14&_count=100"))
    if (isActive(p)) out.push_back("Patient/" + p.getString("id"));
  return out;
}

struct Link {
  std::string id, status;
  std::vector<std::string> patients;
};
std::vector<Link> links(TestServer& server, const std::string& query = "") {
  HttpResult r = server.get("/$candidate-links" + query);
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<Link> out;
  if (const json::Value* params = r.json.find("parameter"))
    for (const json::Value& p : params->items()) {
      Link l;
      for (const json::Value& part : p.find("part")->items()) {
        const std::string& n = part.getString("name");
        if (n == "id") l.id = part.find("valueInteger")->text();
        if (n == "status") l.status = part.getString("valueCode");
        if (n == "patient")
          l.patients.push_back(part.find("valueReference")->getString("reference"));
      }
      out.push_back(l);
    }
  return out;
}

// The open link between the two Patients (either order); an empty id when none.
Link openLinkBetween(TestServer& server, const std::string& a, const std::string& b) {
  for (const Link& l : links(server, "?status=open"))
    if ((l.patients[0] == a && l.patients[1] == b) || (l.patients[0] == b && l.patients[1] == a))
      return l;
  return Link{};
}

struct Decision {
  HttpResult http;
  std::string survivor, replaced;
};
Decision decide(TestServer& server, const std::string& id, const char* op) {
  Decision d;
  d.http = server.request("POST", "/$candidate-links/" + id + "/" + op, "", kFhirJson);
  if (const json::Value* params = d.http.json.find("parameter"))
    for (const json::Value& p : params->items()) {
      if (p.getString("name") == "survivor")
        d.survivor = p.find("valueReference")->getString("reference");
      if (p.getString("name") == "replaced")
        d.replaced = p.find("valueReference")->getString("reference");
    }
  return d;
}

std::string hospicePatient() {
  return "Patient/" + ingest::derivedId("Patient", "8WB01", "WB-004471");
}
std::string hospitalPatient(const std::string& mrn) { return "Patient/" + patientId(mrn); }
std::string nhsPatient(const std::string& nhs) {
  return "Patient/" + ingest::personIdForNhsNumber(nhs);
}

// The Patients that the Encounters, CarePlans and Conditions of every source refer to.
std::set<std::string> subjectsOfEverything(TestServer& server) {
  std::set<std::string> out;
  for (const char* type : {"Encounter", "CarePlan", "Condition"})
    for (const json::Value& r : entries(server, std::string("/") + type + "?_count=100"))
      out.insert(at(r, {"subject", "reference"}));
  return out;
}

std::vector<std::string> duplicateFlagStatuses(TestServer& server, const std::string& patientRef) {
  std::vector<std::string> out;
  for (const json::Value& f : entries(server, "/Flag?patient=" + patientRef))
    if (json::write(*f.find("code")).find("possible-duplicate") != std::string::npos)
      out.push_back(f.getString("status"));
  return out;
}

int replacedByLinks(const json::Value& patient) {
  int n = 0;
  if (const json::Value* ls = patient.find("link"); ls && ls->isArray())
    for (const json::Value& l : ls->items()) n += l.getString("type") == "replaced-by";
  return n;
}

// ---------------------------------------------------------------------------------------------
// Twins: same birth date, family name and postcode, different given names (and sex).

TEST(ReviewLinks, TwinsAreProposedOnThePostcodeAloneUnlessTheirSexDiffersAndNeverMerged) {
  TestServer server;
  sendHospice(server, hospice());  // Amelia
  ASSERT_EQ(outcomeOf(send(server, admit("T1", hospitalPid("M1", "Ava"), "V1"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, admit("T2", hospitalPid("M2", "Oliver", "", "M"), "V2"))),
            "stored");
  // Three children, none merged.
  EXPECT_EQ(liveHartleys(server).size(), 3u);
  // The two girls are proposed on the postcode alone (twins are the classic false positive,
  // left to the reviewer); the boy is not: a known, different sex is two children.
  EXPECT_EQ(links(server, "?status=open").size(), 1u);
  HttpResult all = server.get("/$candidate-links?status=open");
  EXPECT_EQ(all.body.find("given name"), std::string::npos)
      << "no link may claim a given-name match: " << all.body;
}

// ---------------------------------------------------------------------------------------------
// Links whose Patients changed before the review.

// A link confirmed after one of its Patients was already replaced by another confirmed link
// (three records of one child): everything must end up on ONE live Patient (or the stale
// link is refused with 409) — never a replaced Patient brought back to life.
TEST(ReviewLinks, ConfirmingASecondLinkOfAnAlreadyReplacedPatientKeepsOneLivePatient) {
  TestServer server;
  sendHospice(server, hospice());
  ASSERT_EQ(outcomeOf(send(server, admit("A1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, admit("A2", hospitalPid("M2", "Amelia"), "V2"))), "stored");
  ASSERT_EQ(links(server, "?status=open").size(), 3u);
  Link first = openLinkBetween(server, hospicePatient(), hospitalPatient("M1"));
  ASSERT_FALSE(first.id.empty());
  Decision d1 = decide(server, first.id, "$confirm");
  ASSERT_EQ(d1.http.status, 200) << d1.http.body;
  // The loser's other link (to M2) is still open; confirm it too.
  Link second = openLinkBetween(server, d1.replaced, hospitalPatient("M2"));
  ASSERT_FALSE(second.id.empty()) << "the loser's other link is gone";
  Decision d2 = decide(server, second.id, "$confirm");
  if (d2.http.status == 409) return;  // refused as stale: acceptable
  ASSERT_EQ(d2.http.status, 200) << d2.http.body;
  EXPECT_EQ(liveHartleys(server).size(), 1u)
      << "three records of one child, two confirmed links: one live Patient expected";
  HttpResult old = server.get("/" + d1.replaced);
  EXPECT_FALSE(isActive(old.json)) << "the Patient replaced by the first confirm came back: "
                                   << old.body;
  EXPECT_EQ(subjectsOfEverything(server).size(), 1u);
}

// One record of the pair got an NHS number before the review: its Patient is now replaced by
// the NHS-number Patient. Confirming the old link must join the other record to THAT Patient
// (or be refused with 409), never revive the replaced one.
TEST(ReviewLinks, ConfirmingAfterOneSideGotAnNhsNumberJoinsTheCurrentPatient) {
  TestServer server;
  sendHospice(server, hospice());
  ASSERT_EQ(outcomeOf(send(server, admit("B1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, hospicePatient(), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  // The hospital learns the NHS number: M1's record moves to the NHS-number Patient.
  ASSERT_EQ(outcomeOf(send(server, admit("B2", hospitalPid("M1", "Amelia", kNhsA), "V1",
                                         "20261002090000"))),
            "stored");
  ASSERT_FALSE(isActive(server.get("/" + hospitalPatient("M1")).json));
  Decision d = decide(server, l.id, "$confirm");
  if (d.http.status == 409) return;  // refused as stale: acceptable
  ASSERT_EQ(d.http.status, 200) << d.http.body;
  EXPECT_EQ(liveHartleys(server), std::vector<std::string>{nhsPatient(kNhsA)})
      << "the reviewer confirmed one child: one live Patient, the one with the NHS number";
  EXPECT_EQ(subjectsOfEverything(server), std::set<std::string>{nhsPatient(kNhsA)});
}

// The hospital record of the pair was merged away by the hospital's own A40 before the review.
TEST(ReviewLinks, ConfirmingAfterAnA40MergedOneSideJoinsTheA40Survivor) {
  TestServer server;
  sendHospice(server, hospice());
  ASSERT_EQ(outcomeOf(send(server, admit("C1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, hospicePatient(), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  // A second hospital registration, then the hospital merges M1 into M2.
  ASSERT_EQ(outcomeOf(send(server, admit("C2", hospitalPid("M2", "Amelia"), "V2"))), "stored");
  const std::string time = "20261005100000";
  ASSERT_EQ(outcomeOf(send(server, message({msh("ADT^A40^ADT_A39", "C3", time), "EVN|A40|" + time,
                                            hospitalPid("M2", "Amelia"), "MRG|M1^^^RX8^MR"}))),
            "stored");
  ASSERT_FALSE(isActive(server.get("/" + hospitalPatient("M1")).json));
  Decision d = decide(server, l.id, "$confirm");
  if (d.http.status == 409) return;  // refused as stale: acceptable
  ASSERT_EQ(d.http.status, 200) << d.http.body;
  EXPECT_EQ(liveHartleys(server).size(), 1u)
      << "hospice + hospital (after its A40) confirmed as one child: one live Patient expected";
  EXPECT_EQ(subjectsOfEverything(server).size(), 1u);
  json::Value m1 = server.get("/" + hospitalPatient("M1")).json;
  EXPECT_FALSE(isActive(m1));
  EXPECT_LE(replacedByLinks(m1), 1) << json::write(m1);
}

// The hospital's side got a different NHS number after the proposal: two children. 409,
// nothing written.
TEST(ReviewLinks, ConfirmingAfterBothSidesGotDifferentNhsNumbersIs409) {
  TestServer server;
  sendHospice(server, hospice(kNhsA));
  ASSERT_EQ(outcomeOf(send(server, admit("D1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, nhsPatient(kNhsA), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  ASSERT_EQ(outcomeOf(send(server, admit("D2", hospitalPid("M1", "Amelia", kNhsB), "V1",
                                         "20261002090000"))),
            "stored");
  // The newest version in the whole store (the bundle around it has a fresh id each time).
  auto newest = [&] {
    return json::write(*server.get("/_history?_count=1").json.find("entry")->items()[0].find("resource"));
  };
  std::string before = newest();
  Decision d = decide(server, l.id, "$confirm");
  EXPECT_EQ(d.http.status, 409) << "NHS numbers " << kNhsA << " and " << kNhsB
                                << " are two children; got " << d.http.body;
  EXPECT_EQ(liveHartleys(server).size(), 2u);
  if (d.http.status == 409) {
    EXPECT_EQ(newest(), before) << "nothing written on a 409";
    EXPECT_EQ(links(server, "?status=open").size(), 1u);
  }
  json::Value m1 = server.get("/" + hospitalPatient("M1")).json;
  EXPECT_LE(replacedByLinks(m1), 1) << json::write(m1);
  EXPECT_EQ(at(server.get("/" + nhsPatient(kNhsA)).json, {"link"}), "")
      << "the NHS-number Patient now claims to replace another child's record";
}

// Both records (no NHS number) are confirmed as one child. Later the surviving source learns
// the NHS number: the confirmed child must stay ONE Patient (the reviewer's decision holds),
// not split with the hospice's plan on one Patient and the hospital's records on another.
TEST(ReviewLinks, ALaterNhsNumberDoesNotSplitAConfirmedChild) {
  TestServer server;
  sendHospice(server, hospice());
  ASSERT_EQ(outcomeOf(send(server, admit("E1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, hospicePatient(), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  Decision d = decide(server, l.id, "$confirm");
  ASSERT_EQ(d.http.status, 200) << d.http.body;
  ASSERT_EQ(liveHartleys(server).size(), 1u);
  // The source whose record survived now sends the NHS number.
  if (d.survivor == hospicePatient())
    sendHospice(server, hospice(kNhsA, "2026-11-02T10:00:00+00:00"));
  else
    ASSERT_EQ(outcomeOf(send(server, admit("E2", hospitalPid("M1", "Amelia", kNhsA), "V1",
                                           "20261002090000"))),
              "stored");
  EXPECT_EQ(liveHartleys(server).size(), 1u) << "the confirmed child was split in two";
  EXPECT_EQ(subjectsOfEverything(server).size(), 1u)
      << "the hospice's plan and the hospital's encounters are on different Patients";
}

// Same, but the source whose record was REPLACED learns the NHS number.
TEST(ReviewLinks, ALaterNhsNumberOnTheReplacedSideDoesNotSplitAConfirmedChild) {
  TestServer server;
  sendHospice(server, hospice());
  ASSERT_EQ(outcomeOf(send(server, admit("E1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, hospicePatient(), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  Decision d = decide(server, l.id, "$confirm");
  ASSERT_EQ(d.http.status, 200) << d.http.body;
  if (d.replaced == hospicePatient())
    sendHospice(server, hospice(kNhsA, "2026-11-02T10:00:00+00:00"));
  else
    ASSERT_EQ(outcomeOf(send(server, admit("E2", hospitalPid("M1", "Amelia", kNhsA), "V1",
                                           "20261002090000"))),
              "stored");
  EXPECT_EQ(liveHartleys(server).size(), 1u) << "the confirmed child was split in two";
  EXPECT_EQ(subjectsOfEverything(server).size(), 1u)
      << "the hospice's plan and the hospital's encounters are on different Patients";
}

// ---------------------------------------------------------------------------------------------
// Later records after a decision.

TEST(ReviewLinks, AfterConfirmEachSourcesLaterRecordsLandOnTheSurvivor) {
  TestServer server;
  sendHospice(server, hospice(kNhsA));
  ASSERT_EQ(outcomeOf(send(server, admit("F1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, nhsPatient(kNhsA), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  Decision d = decide(server, l.id, "$confirm");
  ASSERT_EQ(d.http.status, 200) << d.http.body;
  EXPECT_EQ(d.survivor, nhsPatient(kNhsA)) << "the Patient with an NHS number survives";
  EXPECT_EQ(d.replaced, hospitalPatient("M1"));
  ASSERT_EQ(outcomeOf(send(server, admit("F2", hospitalPid("M1", "Amelia"), "V2",
                                         "20261003090000"))),
            "stored");
  sendHospice(server, hospice(kNhsA, "2026-11-02T10:00:00+00:00"));
  EXPECT_EQ(liveHartleys(server), std::vector<std::string>{nhsPatient(kNhsA)});
  EXPECT_EQ(subjectsOfEverything(server), std::set<std::string>{nhsPatient(kNhsA)});
  EXPECT_FALSE(isActive(server.get("/" + d.replaced).json)) << "the loser came back to life";
  // The survivor carries the NHS number and the hospital's number.
  std::string ids = at(server.get("/" + d.survivor).json, {"identifier"});
  EXPECT_NE(ids.find(kNhsA), std::string::npos);
  EXPECT_NE(ids.find("M1"), std::string::npos);
  EXPECT_TRUE(links(server, "?status=open").empty());
}

// A Patient written through the REST API with an NHS number, proposed against a hospital
// record without one: confirming keeps the one with the NHS number — and it must still carry
// its NHS number afterwards.
TEST(ReviewLinks, ConfirmingKeepsTheSurvivorsNhsNumberWhenItWasWrittenThroughTheApi) {
  TestServer server;
  HttpResult created = server.request(
      "POST", "/Patient",
      "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/"
      "nhs-number\",\"value\":\"" +
          kNhsA +
          "\"}],\"name\":[{\"family\":\"Hartley\",\"given\":[\"Amelia\"]}],\"gender\":\"female\","
          "\"birthDate\":\"2015-03-14\"}",
      kFhirJson);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string api = "Patient/" + created.json.getString("id");
  ASSERT_EQ(outcomeOf(send(server, admit("G1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, api, hospitalPatient("M1"));
  if (l.id.empty()) GTEST_SKIP() << "not proposed against an API-written Patient";
  Decision d = decide(server, l.id, "$confirm");
  ASSERT_EQ(d.http.status, 200) << d.http.body;
  ASSERT_EQ(d.survivor, api);
  json::Value survivor = server.get("/" + api).json;
  EXPECT_NE(at(survivor, {"identifier"}).find(kNhsA), std::string::npos)
      << "the survivor lost its NHS number in the merge: " << json::write(survivor);
  EXPECT_TRUE(isActive(survivor));
}

// ---------------------------------------------------------------------------------------------
// Reject: never proposed again.

TEST(ReviewLinks, AfterRejectResendingEitherRecordNeverProposesThePairAgain) {
  TestServer server;
  sendHospice(server, hospice());
  ASSERT_EQ(outcomeOf(send(server, admit("H1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, hospicePatient(), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  Decision d = decide(server, l.id, "$reject");
  ASSERT_EQ(d.http.status, 200) << d.http.body;
  EXPECT_EQ(decide(server, l.id, "$reject").http.status, 409);
  EXPECT_EQ(decide(server, l.id, "$confirm").http.status, 409);
  sendHospice(server, hospice("", "2026-11-02T10:00:00+00:00"));
  ASSERT_EQ(outcomeOf(send(server, admit("H2", hospitalPid("M1", "Amelia"), "V2",
                                         "20261003090000"))),
            "stored");
  EXPECT_TRUE(links(server, "?status=open").empty());
  for (const std::string& p : {hospicePatient(), hospitalPatient("M1")})
    for (const std::string& s : duplicateFlagStatuses(server, p)) EXPECT_EQ(s, "inactive") << p;
  EXPECT_EQ(liveHartleys(server).size(), 2u);
}

// The reviewer said "two children". One of them later gets an NHS number (its Patient id
// changes): the same pair must not come back for review as a "new" link.
TEST(ReviewLinks, AfterRejectALaterNhsNumberDoesNotProposeTheRejectedPairAgain) {
  TestServer server;
  sendHospice(server, hospice());
  ASSERT_EQ(outcomeOf(send(server, admit("J1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, hospicePatient(), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  ASSERT_EQ(decide(server, l.id, "$reject").http.status, 200);
  ASSERT_EQ(outcomeOf(send(server, admit("J2", hospitalPid("M1", "Amelia", kNhsA), "V1",
                                         "20261002090000"))),
            "stored");
  EXPECT_TRUE(links(server, "?status=open").empty())
      << "the rejected pair (hospice record, hospital M1) was proposed again under the "
         "hospital record's new Patient id";
  for (const std::string& s : duplicateFlagStatuses(server, hospicePatient()))
    EXPECT_EQ(s, "inactive");
}

// ---------------------------------------------------------------------------------------------
// Provenance and Flags.

TEST(ReviewLinks, ConfirmRecordsAProvenanceOverEverythingItWroteAndClosesTheFlags) {
  TestServer server;
  sendHospice(server, hospice(kNhsA));
  ASSERT_EQ(outcomeOf(send(server, admit("K1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, nhsPatient(kNhsA), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  Decision d = decide(server, l.id, "$confirm");
  ASSERT_EQ(d.http.status, 200) << d.http.body;
  std::vector<json::Value> provs = entries(server, "/Provenance?_count=100");
  const json::Value* review = nullptr;
  for (const json::Value& p : provs)
    if (json::write(p).find("candidate link " + l.id) != std::string::npos) review = &p;
  ASSERT_NE(review, nullptr) << "no Provenance for the review";
  std::string targets = at(*review, {"target"});
  EXPECT_NE(targets.find(d.survivor + "/_history/"), std::string::npos) << targets;
  EXPECT_NE(targets.find(d.replaced + "/_history/"), std::string::npos) << targets;
  EXPECT_NE(targets.find("Encounter/"), std::string::npos) << "re-pointed Encounter: " << targets;
  // Every target names a version that exists.
  for (const json::Value& t : review->find("target")->items())
    EXPECT_EQ(server.get("/" + t.getString("reference")).status, 200) << t.getString("reference");
  // Flags: closed, and none left pointing at the replaced Patient.
  for (const std::string& s : duplicateFlagStatuses(server, d.survivor)) EXPECT_EQ(s, "inactive");
  EXPECT_TRUE(entries(server, "/Flag?patient=" + d.replaced).empty());
  // The replaced Patient's history is kept.
  HttpResult hist = server.get("/" + d.replaced + "/_history");
  ASSERT_NE(hist.json.find("entry"), nullptr) << hist.body;
  EXPECT_GE(hist.json.find("entry")->items().size(), 2u);
}

TEST(ReviewLinks, RejectRecordsAProvenanceToo) {
  TestServer server;
  sendHospice(server, hospice());
  ASSERT_EQ(outcomeOf(send(server, admit("L1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, hospicePatient(), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  ASSERT_EQ(decide(server, l.id, "$reject").http.status, 200);
  bool found = false;
  for (const json::Value& p : entries(server, "/Provenance?_count=100"))
    found = found || json::write(p).find("rejected candidate link " + l.id) != std::string::npos;
  EXPECT_TRUE(found);
}

// ---------------------------------------------------------------------------------------------
// Status codes.

TEST(ReviewLinks, StatusCodes) {
  TestServer server;
  EXPECT_EQ(decide(server, "0", "$confirm").http.status, 404);
  EXPECT_EQ(decide(server, "99999999999999999999", "$confirm").http.status, 404);
  EXPECT_EQ(decide(server, "-1", "$confirm").http.status, 404);
  EXPECT_EQ(decide(server, "1", "$undo").http.status, 404);
  EXPECT_EQ(server.request("DELETE", "/$candidate-links", "", kFhirJson).status, 405);
  EXPECT_EQ(server.get("/$candidate-links?status=").status, 200);
  sendHospice(server, hospice());
  ASSERT_EQ(outcomeOf(send(server, admit("N1", hospitalPid("M1", "Amelia"), "V1"))), "stored");
  Link l = openLinkBetween(server, hospicePatient(), hospitalPatient("M1"));
  ASSERT_FALSE(l.id.empty());
  // One of the two deleted through the API: 409, nothing merged.
  ASSERT_EQ(server.request("DELETE", "/" + hospitalPatient("M1"), "", kFhirJson).status, 200);
  EXPECT_EQ(decide(server, l.id, "$confirm").http.status, 409);
  EXPECT_EQ(links(server, "?status=open").size(), 1u);
}

}  // namespace
}  // namespace acp::testing
