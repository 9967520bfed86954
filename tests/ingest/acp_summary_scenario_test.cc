// $acp-summary over the real server, fed in the partners' own formats: a hospice plan against
// the hospital's ReSPECT form, a superseding (corrected) ReSPECT form, a withdrawn plan, asking
// by NHS number, and the errors a GP system can meet.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gateway/ingest/person_index.h"
#include "gateway/ingest/source_ids.h"
#include "tests/ingest/fhir_reading.h"
#include "tests/ingest/hl7_messages.h"
#include "tests/support/acp_summary_reading.h"

namespace acp::testing {
namespace {

using namespace hl7;

constexpr const char* kNhs = "9992530820";

std::string hospiceSample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResult pushHospice(TestServer& server, const std::string& body) {
  return server.request("POST", "/$ingest/hospice", body, {{"Content-Type", "application/json"}});
}

// The hospital's ReSPECT form for the child (with the NHS number), CPR recommendation `cpr`.
std::string respectForm(const std::string& controlId, const std::string& cpr,
                        const std::string& resultStatus, const std::string& when) {
  return message({msh("ORU^R01^ORU_R01", controlId, when, "EPR"), pid("M123456", kNhs),
                  "OBR|1||RSP-1|1382601000000107^ReSPECT form^SCT|||" + when +
                      "||||||||||||||||||" + resultStatus,
                  "OBX|1|CWE|CPR^CPR recommendation^L||" + cpr + "||||||" + resultStatus});
}

HttpResult summaryByNhs(TestServer& server) {
  return server.get(std::string("/Patient/$acp-summary?identifier=") + ingest::kNhsNumberSystem +
                    "|" + kNhs);
}

std::string itemField(const json::Value& summary, const std::string& code, const std::string& which,
                      const std::string& name, size_t index = 0) {
  return summaryField(summary, code, which, name, index);
}

TEST(AcpSummaryScenario, AHospiceModifiedCprAgainstALaterHospitalReSpectForm) {
  TestServer server;
  ASSERT_EQ(pushHospice(server, hospiceSample()).status, 200);
  // The hospice plan (agreed 12/09/2026): modified CPR, home, hospice as second choice.
  HttpResult before = summaryByNhs(server);
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_EQ(before.json.getString("resourceType"), "Parameters");
  EXPECT_EQ(itemField(before.json, "resuscitation", "current", "value"), "modified-cpr");
  EXPECT_EQ(itemField(before.json, "resuscitation", "current", "source"), "8WB01");
  EXPECT_EQ(itemField(before.json, "preferred-place-of-death-1", "current", "value"), "home");
  EXPECT_EQ(itemField(before.json, "review-date", "current", "value"), "2026-12-12");
  EXPECT_NE(itemField(before.json, "key-worker", "current", "value").find("Jo Patel"), std::string::npos);
  EXPECT_EQ(itemField(before.json, "consent-to-share", "current", "value"), "given");

  // The hospital's ReSPECT form of 2 October says not for CPR: the newer decision is current,
  // the hospice's is listed as differing.
  ASSERT_EQ(outcomeOf(send(server, respectForm("EPR1", "450476008^Not for attempted CPR^SCT", "F",
                                               "20261002113000"))),
            "stored");
  HttpResult after = summaryByNhs(server);
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(itemField(after.json, "resuscitation", "current", "value"), "450476008");
  EXPECT_EQ(itemField(after.json, "resuscitation", "current", "source"), "RX8");
  EXPECT_EQ(itemField(after.json, "resuscitation", "differs", "value"), "modified-cpr");
  EXPECT_EQ(itemField(after.json, "resuscitation", "differs", "source"), "8WB01");
  // By id, the same answer.
  HttpResult byId = server.get("/Patient/" + ingest::personIdForNhsNumber(kNhs) + "/$acp-summary");
  ASSERT_EQ(byId.status, 200);
  EXPECT_EQ(itemField(byId.json, "resuscitation", "current", "value"), "450476008");
}

TEST(AcpSummaryScenario, ACorrectedReSpectFormSupersedesTheFirst) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, respectForm("EPR1", "450475007^For attempted CPR^SCT", "F",
                                               "20261101113000"))),
            "stored");
  EXPECT_EQ(itemField(summaryByNhs(server).json, "resuscitation", "current", "value"), "450475007");
  ASSERT_EQ(outcomeOf(send(server, respectForm("EPR2", "450476008^Not for attempted CPR^SCT", "C",
                                               "20261101113000"))),
            "stored");
  HttpResult s = summaryByNhs(server);
  // The form's new version replaces the old one: one answer, nothing differing.
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "value"), "450476008");
  EXPECT_EQ(itemField(s.json, "resuscitation", "differs", "value"), "");
  EXPECT_NE(itemField(s.json, "resuscitation", "current", "carePlan").find("/_history/2"),
            std::string::npos);
}

TEST(AcpSummaryScenario, AWithdrawnPlanIsNeverCurrent) {
  TestServer server;
  std::string doc = hospiceSample();
  replace(doc, "\"status\": \"AGREED\"", "\"status\": \"WITHDRAWN\"");
  ASSERT_EQ(pushHospice(server, doc).status, 200);
  HttpResult s = summaryByNhs(server);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(itemField(s.json, "resuscitation", "current", "value"), "");
  EXPECT_EQ(itemField(s.json, "preferred-place-of-death-1", "current", "value"), "");
}

TEST(AcpSummaryScenario, WhatAGpSystemIsToldWhenItCannotBeAnswered) {
  TestServer server;
  HttpResult none = server.get("/Patient/$acp-summary");
  EXPECT_EQ(none.status, 400);
  EXPECT_NE(none.body.find("acp.identifier-required"), std::string::npos);
  HttpResult unknown = summaryByNhs(server);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json.getString("resourceType"), "OperationOutcome");
  EXPECT_EQ(server.get("/Patient/no-such-child/$acp-summary").status, 404);
  EXPECT_EQ(server.request("POST", "/Patient/$acp-summary", "", {}).status, 405);
  // The CapabilityStatement says the operation is there.
  HttpResult cs = server.get("/metadata");
  EXPECT_NE(cs.body.find("https://acp-gateway.nhs.uk/OperationDefinition/acp-summary"),
            std::string::npos);
}

}  // namespace
}  // namespace acp::testing
