// Hospital HL7 v2 messages through POST /$ingest/hl7v2 (the MLLP listener maps the same way).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "mappings/acute/acute_mapper.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string sample(const std::string& name) {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/acute/samples/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResult send(TestServer& server, const std::string& message) {
  return server.request("POST", "/$ingest/hl7v2", message, {{"Content-Type", "application/hl7-v2"}});
}

std::string outcomeOf(const HttpResult& r, std::vector<std::string>* codes = nullptr) {
  std::string outcome;
  for (const json::Value& p : r.json.find("parameter")->items()) {
    if (p.getString("name") != "record") continue;
    for (const json::Value& part : p.find("part")->items()) {
      if (part.getString("name") == "outcome") outcome = part.getString("valueCode");
      if (part.getString("name") == "issues" && codes)
        for (const json::Value& i : part.find("resource")->find("issue")->items())
          codes->push_back(i.find("details")->find("coding")->items()[0].getString("code"));
    }
  }
  return outcome;
}

const json::Value& onlyResource(TestServer& server, const std::string& query) {
  static HttpResult keep;
  keep = server.get(query);
  EXPECT_EQ(keep.status, 200) << query;
  const json::Value* entries = keep.json.find("entry");
  EXPECT_TRUE(entries && entries->items().size() == 1u) << query << " " << keep.body.substr(0, 300);
  return *entries->items()[0].find("resource");
}

TEST(AcuteDateTimes, LocalUkTimeGetsItsOffset) {
  using mappings::acute::fhirDateTime;
  EXPECT_EQ(fhirDateTime("20261028093000"), "2026-10-28T09:30:00+00:00");  // after BST ended
  EXPECT_EQ(fhirDateTime("20260715103000"), "2026-07-15T10:30:00+01:00");  // summer
  EXPECT_EQ(fhirDateTime("20261024120000"), "2026-10-24T12:00:00+01:00");  // last BST Saturday
  EXPECT_EQ(fhirDateTime("202610281015"), "2026-10-28T10:15:00+00:00");
  EXPECT_EQ(fhirDateTime("20261028093000+0100"), "2026-10-28T09:30:00+01:00");
  EXPECT_EQ(fhirDateTime("20150314"), "2015-03-14");
  EXPECT_EQ(fhirDateTime("2015"), "2015");
  EXPECT_EQ(fhirDateTime("20151314"), "");  // no month 13
  EXPECT_EQ(fhirDateTime("20151032"), "");  // no day 32
  EXPECT_EQ(fhirDateTime("2026-10-25T10:30"), "");  // not HL7 TS (was read as the year 2026)
  EXPECT_EQ(fhirDateTime("20261025+01"), "");
  EXPECT_EQ(fhirDateTime("2026102809300"), "");
  EXPECT_EQ(fhirDateTime("20261028250000"), "");
  EXPECT_EQ(fhirDateTime("abc"), "");
}

TEST(AcuteIngest, AdmissionThenDischargeIsOneEncounter) {
  TestServer server;
  std::vector<std::string> codes;
  HttpResult a01 = send(server, sample("adt-a01.hl7"));
  ASSERT_EQ(a01.status, 200) << a01.body;
  EXPECT_EQ(outcomeOf(a01, &codes), "stored");
  // The interface's examples carry the visit number in PV1-18: read, and said.
  EXPECT_NE(std::find(codes.begin(), codes.end(), "hl7.field-position"), codes.end());
  const json::Value& admitted = onlyResource(server, "/Encounter");
  EXPECT_EQ(admitted.getString("status"), "in-progress");
  EXPECT_EQ(admitted.find("period")->getString("start"), "2026-10-28T09:15:00+00:00");
  EXPECT_EQ(admitted.find("class")->getString("code"), "IMP");

  ASSERT_EQ(outcomeOf(send(server, sample("adt-a03.hl7"))), "stored");
  const json::Value& discharged = onlyResource(server, "/Encounter");
  EXPECT_EQ(discharged.getString("status"), "finished");
  EXPECT_EQ(discharged.find("period")->getString("end"), "2026-11-02T16:00:00+00:00");
  EXPECT_EQ(discharged.find("hospitalization")->find("dischargeDisposition")->find("coding")
                ->items()[0].getString("code"),
            "hosp");
  // The discharge's sparse PID does not erase what the admission said (fields not sent are
  // unchanged).
  const json::Value& patient = onlyResource(
      server, "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820");
  EXPECT_EQ(patient.find("address")->items()[0].getString("postalCode"), "NB3 4QT");
  EXPECT_EQ(patient.find("generalPractitioner")->items()[0].find("identifier")->getString("value"),
            "X81001");
  // The same message again changes nothing.
  EXPECT_EQ(outcomeOf(send(server, sample("adt-a03.hl7"))), "unchanged");
}

TEST(AcuteIngest, AnAdmissionArrivingAfterItsDischargeDoesNotReopenTheSpell) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, sample("adt-a03.hl7"))), "stored");
  std::vector<std::string> codes;
  send(server, sample("adt-a01.hl7"));
  const json::Value& spell = onlyResource(server, "/Encounter");
  EXPECT_EQ(spell.getString("status"), "finished");
  EXPECT_EQ(spell.find("period")->getString("end"), "2026-11-02T16:00:00+00:00");
}

std::string asEvent(std::string m, const std::string& from, const std::string& to,
                    const std::string& controlId, const std::string& time) {
  m.replace(m.find(from), from.size(), to);
  size_t msh10 = m.find("PAS000");
  m.replace(msh10, 10, controlId);
  // EVN-2: a later event time than the messages before it.
  size_t evn = m.find("EVN|");
  size_t t = m.find('|', evn + 4) + 1;
  m.replace(t, 14, time);
  return m;
}

TEST(AcuteIngest, CancelledDischargeReopensAndCancelledAdmissionIsEnteredInError) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, sample("adt-a01.hl7"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, sample("adt-a03.hl7"))), "stored");
  // A13: the discharge was a mistake.
  std::string a13 = asEvent(sample("adt-a03.hl7"), "ADT^A03^ADT_A03", "ADT^A13^ADT_A01",
                            "PAS0001400", "20261102170000");
  ASSERT_EQ(outcomeOf(send(server, a13)), "stored");
  const json::Value& reopened = onlyResource(server, "/Encounter");
  EXPECT_EQ(reopened.getString("status"), "in-progress");
  EXPECT_EQ(reopened.find("period")->find("end"), nullptr);
  EXPECT_EQ(reopened.find("hospitalization"), nullptr);
  // A11: the whole admission was sent in error.
  std::string a11 = asEvent(sample("adt-a01.hl7"), "ADT^A01^ADT_A01", "ADT^A11^ADT_A09",
                            "PAS0001500", "20261102180000");
  ASSERT_EQ(outcomeOf(send(server, a11)), "stored");
  EXPECT_EQ(onlyResource(server, "/Encounter").getString("status"), "entered-in-error");
}

TEST(AcuteIngest, RespectFormBecomesACarePlan) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, sample("oru-r01-respect.hl7"))), "stored");
  const json::Value& plan = onlyResource(
      server, "/CarePlan?subject:Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820");
  EXPECT_EQ(plan.find("category")->items()[0].find("coding")->items()[0].getString("code"),
            "1382601000000107");
  EXPECT_EQ(plan.getString("created"), "2026-11-01T11:30:00+00:00");
  std::string body = json::write(plan);
  EXPECT_NE(body.find("modified-cpr"), std::string::npos);
  EXPECT_NE(body.find("\"code\":\"hospice\""), std::string::npos);
  EXPECT_NE(body.find("2027-02-01"), std::string::npos);
  EXPECT_NE(body.find("no PICU transfer"), std::string::npos);
}

TEST(AcuteIngest, MalformedAndUnsupportedMessagesAreKept) {
  TestServer server;
  HttpResult bad = send(server, "PID|1||x\r");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.errorCode(), "hl7.malformed");
  std::string a17 = sample("adt-a01.hl7");
  a17.replace(a17.find("ADT^A01^ADT_A01"), 15, "ADT^A17^ADT_A17");  // swap beds: not part of the interface
  std::vector<std::string> codes;
  EXPECT_EQ(outcomeOf(send(server, a17), &codes), "rejected");
  EXPECT_NE(std::find(codes.begin(), codes.end(), "hl7.unsupported-event"), codes.end());
  std::string failures = server.get("/$ingest/failures").body;
  EXPECT_NE(failures.find("PAS0001234"), std::string::npos);  // the A17's MSH-10
  EXPECT_EQ(server.get("/Patient?_summary=count").json.find("total")->text(), "0");
}

TEST(AcuteIngest, AFailingNhsNumberIsNotStoredAsOne) {
  TestServer server;
  std::string m = sample("adt-a01.hl7");
  m.replace(m.find("9992530820"), 10, "9990831972");
  std::vector<std::string> codes;
  EXPECT_EQ(outcomeOf(send(server, m), &codes), "stored");
  EXPECT_NE(std::find(codes.begin(), codes.end(), "hl7.invalid-nhs-number"), codes.end());
  EXPECT_EQ(server.get("/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990831972")
                .json.find("entry"),
            nullptr);
}

}  // namespace
}  // namespace acp::testing
