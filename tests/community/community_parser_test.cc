// Tests for the community export streaming parser (mappings/community/parser/).
#include "mappings/community/parser/community_parser.h"

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "mappings/community/parser/untrusted_xml_reader.h"
#include "tests/community/community_test_support.h"

namespace acp::mappings::community {
namespace {

using testing::Collected;
using testing::describe;
using testing::documentXml;
using testing::exampleXml;
using testing::hasIssue;
using testing::kFooter;
using testing::kHeader;
using testing::parseAll;
using testing::parser;
using testing::patientXml;
using testing::replaceOnce;

std::vector<std::string> patients(size_t n, const std::string& prefix = "C-") {
  std::vector<std::string> v;
  for (size_t i = 0; i < n; ++i) v.push_back(patientXml(prefix + std::to_string(i)));
  return v;
}

std::vector<bool> acceptedFlags(const Collected& c) {
  std::vector<bool> v;
  for (const auto& r : c.records) v.push_back(r.accepted());
  return v;
}

void expectDocumentFailure(const Collected& c, const std::string& code) {
  EXPECT_FALSE(c.outcome.status.isOk());
  EXPECT_EQ(c.outcome.status.code(), Status::Code::kInvalid);
  EXPECT_FALSE(c.outcome.complete);
  EXPECT_TRUE(hasIssue(c.outcome.issues, code, "CommunityExport")) << describe(c.outcome.issues);
}

// ---------------------------------------------------------------------------------------------
// The specification's example.

TEST(CommunityParserTest, SchemaLoads) {
  ASSERT_NE(testing::schema(), nullptr);
  EXPECT_NE(testing::schema()->get(), nullptr);
}

TEST(CommunityParserTest, SchemaLoadFailureIsAStatus) {
  auto missing = CommunitySchema::load("/nonexistent/community-export-1.xsd");
  EXPECT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), Status::Code::kInternal);
  EXPECT_NE(missing.status().message().find("nonexistent"), std::string::npos);
}

TEST(CommunityParserTest, SpecExampleParsesIntoTypedValues) {
  Collected c = parseAll(exampleXml());
  ASSERT_TRUE(c.outcome.status.isOk()) << c.outcome.status.message() << describe(c.outcome.issues);
  EXPECT_TRUE(c.outcome.complete);
  EXPECT_TRUE(c.outcome.issues.empty());
  EXPECT_EQ(c.outcome.patientsDelivered, 1u);
  EXPECT_EQ(c.outcome.patientsAccepted, 1u);
  EXPECT_EQ(c.outcome.patientsRejected, 0u);

  ASSERT_TRUE(c.outcome.header.has_value());
  const ExportHeader& h = *c.outcome.header;
  EXPECT_EQ(h.generated.text, "2026-11-01T10:15:00Z");
  EXPECT_EQ(h.generated.date.year, 2026);
  EXPECT_EQ(h.generated.date.month, 11);
  EXPECT_EQ(h.generated.date.day, 1);
  EXPECT_EQ(h.generated.hour, 10);
  EXPECT_EQ(h.generated.minute, 15);
  EXPECT_EQ(h.generated.utcOffsetMinutes, 0);
  EXPECT_EQ(h.trust, "RX9");
  EXPECT_EQ(h.batchId, "RX9-20261101-1015");

  ASSERT_EQ(c.records.size(), 1u);
  const PatientRecord& r = c.records[0];
  EXPECT_TRUE(r.accepted()) << describe(r.issues);
  EXPECT_TRUE(r.issues.empty());
  EXPECT_EQ(r.index, 0u);
  const Patient& p = r.patient;
  EXPECT_EQ(p.localId, "C-77120");
  EXPECT_EQ(p.sourceLine, 3);
  EXPECT_EQ(p.nhsNumber.value, "9992530820");
  EXPECT_EQ(p.nhsNumber.status, NhsNumberStatus::kPresentVerified);
  EXPECT_EQ(p.name.family, "Hartley");
  EXPECT_EQ(p.name.given, (std::vector<std::string>{"Amelia", "Rose"}));
  EXPECT_EQ(p.name.preferred, "Millie");
  EXPECT_EQ(p.birthDate.year, 2015);
  EXPECT_EQ(p.birthDate.month, 3);
  EXPECT_EQ(p.birthDate.day, 14);
  EXPECT_EQ(p.birthDate.text, "2015-03-14");
  EXPECT_EQ(p.gender, Gender::kFemale);
  EXPECT_EQ(p.address.use, AddressUse::kHome);
  EXPECT_EQ(p.address.lines, (std::vector<std::string>{"12 Orchard Way", "Northby"}));
  EXPECT_EQ(p.address.postCode, "NB3 4QT");
  EXPECT_EQ(p.registeredGp.ods, "X81001");
  EXPECT_EQ(p.caseload.team, "Children's Community Nursing");
  EXPECT_EQ(p.caseload.from.text, "2022-05-01");
  EXPECT_FALSE(p.caseload.to.has_value());

  ASSERT_EQ(p.carePlans.size(), 1u);
  const CarePlan& cp = p.carePlans[0];
  EXPECT_EQ(cp.id, "CP-5512");
  EXPECT_EQ(cp.version, 2);
  EXPECT_EQ(cp.status, CarePlanStatus::kActive);
  EXPECT_EQ(cp.type, CarePlanType::kAcp);
  EXPECT_EQ(cp.period.start.text, "2026-09-12");
  EXPECT_FALSE(cp.period.end.has_value());
  EXPECT_EQ(cp.reviewDate.text, "2026-12-12");
  EXPECT_EQ(cp.title, "Advance care plan");
  EXPECT_EQ(cp.author.name, "Jo Patel");
  EXPECT_EQ(cp.author.role, "Community Nurse Specialist");
  EXPECT_EQ(cp.author.regBody, RegBody::kNmc);
  EXPECT_EQ(cp.author.regNumber, "12A3456E");
  EXPECT_EQ(
      cp.goals,
      (std::vector<std::string>{"Remain at home with family, avoiding unplanned admissions."}));
  ASSERT_EQ(cp.decisions.size(), 4u);
  EXPECT_EQ(cp.decisions[0].kind, DecisionKind::kCpr);
  EXPECT_EQ(cp.decisions[0].value, "modified");
  EXPECT_EQ(cp.decisions[0].details, "Airway support and oxygen only.");
  EXPECT_EQ(cp.decisions[1].kind, DecisionKind::kPpd);
  EXPECT_EQ(cp.decisions[1].value, "home");
  EXPECT_FALSE(cp.decisions[1].details.has_value());
  EXPECT_EQ(cp.decisions[2].kind, DecisionKind::kPpd2);
  EXPECT_EQ(cp.decisions[2].value, "hospice");
  EXPECT_EQ(cp.decisions[3].kind, DecisionKind::kVentilation);
  EXPECT_EQ(cp.decisions[3].value, "non-invasive-only");
  ASSERT_EQ(cp.activities.size(), 2u);
  EXPECT_EQ(cp.activities[0].code, "CCN01");
  EXPECT_EQ(cp.activities[0].status, ActivityStatus::kInProgress);
  EXPECT_EQ(cp.activities[0].description, "Weekly symptom review at home");
  EXPECT_EQ(cp.activities[1].code, "PHY01");
  EXPECT_EQ(cp.activities[1].description, "Chest physiotherapy twice weekly");
  EXPECT_EQ(cp.consent.sharing, ConsentSharing::kYes);
  EXPECT_EQ(cp.consent.date.text, "2026-09-12");

  ASSERT_EQ(p.contacts.size(), 1u);
  const Contact& ct = p.contacts[0];
  EXPECT_EQ(ct.id, "V-300145");
  EXPECT_EQ(ct.date.text, "2026-10-28T14:00:00Z");
  EXPECT_EQ(ct.date.date.day, 28);
  EXPECT_EQ(ct.date.hour, 14);
  EXPECT_EQ(ct.date.utcOffsetMinutes, 0);
  EXPECT_EQ(ct.minutes, 45);
  EXPECT_EQ(ct.type, ContactType::kHomeVisit);
  EXPECT_EQ(ct.staffRole, StaffRole::kCns);
  EXPECT_EQ(ct.outcome, ContactOutcome::kAttended);
  EXPECT_EQ(ct.text, "Settled week; parents confident with suction.");
}

TEST(CommunityParserTest, XmllintValidatesTheExampleAgainstTheXsd) {
  if (std::system("command -v xmllint >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "xmllint is not installed; the parser tests above validate with libxml2";
  }
  char dir[] = "/tmp/community-xsd-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string good = std::string(dir) + "/example.xml";
  std::string bad = std::string(dir) + "/bad.xml";
  {
    std::FILE* f = std::fopen(good.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(exampleXml().data(), 1, exampleXml().size(), f);
    std::fclose(f);
    std::string b = replaceOnce(exampleXml(), "<Gender>female", "<Gender>f");
    f = std::fopen(bad.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(b.data(), 1, b.size(), f);
    std::fclose(f);
  }
  std::string cmd = "xmllint --noout --nonet --schema '" + testing::kXsdPath + "' ";
  EXPECT_EQ(std::system((cmd + "'" + good + "' 2>/dev/null").c_str()), 0);
  EXPECT_EQ(std::system((cmd + "--stream '" + good + "' 2>/dev/null").c_str()), 0);
  EXPECT_NE(std::system((cmd + "'" + bad + "' 2>/dev/null").c_str()), 0);
  std::remove(good.c_str());
  std::remove(bad.c_str());
  rmdir(dir);
}

// ---------------------------------------------------------------------------------------------
// Refused before parsing.

std::atomic<int> gLoads{0};
xmlParserInputPtr countingLoader(const char*, const char*, xmlParserCtxtPtr) {
  ++gLoads;
  return nullptr;
}

// Counts every external entity load attempt while alive (it never loads anything).
class LoaderSpy {
 public:
  LoaderSpy() {
    // The schema is loaded (from a file, through the loader) before the spy counts loads:
    // under ctest each test runs in its own process, so nothing else has loaded it yet.
    acp::mappings::community::testing::schema();
    acp::xml::XmlError ignored;
    openUntrustedReader("<a/>", ignored);  // installs the guarded loaders first
    previous_ = xmlGetExternalEntityLoader();
    gLoads = 0;
    xmlSetExternalEntityLoader(countingLoader);
  }
  ~LoaderSpy() { xmlSetExternalEntityLoader(previous_); }

 private:
  xmlExternalEntityLoader previous_ = nullptr;
};

TEST(CommunityParserTest, DoctypeEntityAndExternalDtdAreRefusedBeforeParsing) {
  const std::string body = patientXml("C-1") + kFooter;
  const std::string root =
      "<CommunityExport xmlns=\"urn:northshire:community:export:1\" "
      "generated=\"2026-11-01T10:15:00Z\" trust=\"RX9\" batchId=\"B1\">\n";
  const std::vector<std::string> docs = {
      // XXE through an internal subset.
      "<?xml version=\"1.0\"?>\n<!DOCTYPE CommunityExport [<!ENTITY xxe SYSTEM "
      "\"file:///etc/passwd\">]>\n" +
          replaceOnce(root + body, "Settled week", "&xxe;"),
      // Billion laughs.
      "<!DOCTYPE CommunityExport [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">"
      "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;\">]>\n" +
          replaceOnce(root + body, "Settled week", "&c;"),
      // External DTD, on the network and on disk.
      "<!DOCTYPE CommunityExport SYSTEM \"http://attacker.example/x.dtd\">\n" + root + body,
      "<!DOCTYPE CommunityExport PUBLIC \"-//X//Y\" \"file:///etc/passwd\">\n" + root + body,
      // Hidden after a comment, in lower case, and a bare entity declaration.
      "<?xml version=\"1.0\"?><!-- x --><!doctype CommunityExport>\n" + root + body,
      "<!ENTITY x \"y\">\n" + root + body,
  };
  LoaderSpy spy;
  for (const auto& doc : docs) {
    Collected c = parseAll(doc);
    expectDocumentFailure(c, "community.doctype");
    EXPECT_TRUE(c.records.empty()) << doc;
    EXPECT_FALSE(c.outcome.header.has_value());
  }
  EXPECT_EQ(gLoads.load(), 0);
}

TEST(CommunityParserTest, EntityReferenceWithoutDoctypeIsNotWellFormed) {
  LoaderSpy spy;
  std::string doc = documentXml({replaceOnce(patientXml("C-1"), "Settled week", "&xxe;")});
  Collected c = parseAll(doc);
  expectDocumentFailure(c, "community.not-well-formed");
  EXPECT_TRUE(c.records.empty());
  EXPECT_EQ(gLoads.load(), 0);
}

TEST(CommunityParserTest, NonUtf8EncodingIsRefused) {
  std::string doc =
      replaceOnce(documentXml(patients(1)), "encoding=\"UTF-8\"", "encoding=\"UTF-16\"");
  expectDocumentFailure(parseAll(doc), "community.encoding");
  std::string withNul = documentXml(patients(1));
  withNul[60] = '\0';
  expectDocumentFailure(parseAll(withNul), "community.encoding");
}

// ---------------------------------------------------------------------------------------------
// Whole-document failures.

TEST(CommunityParserTest, EmptyDocument) {
  for (std::string doc : {std::string(), std::string(" \n\t ")}) {
    Collected c = parseAll(doc);
    expectDocumentFailure(c, "community.empty");
    EXPECT_TRUE(c.records.empty());
  }
  Collected declOnly = parseAll("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  expectDocumentFailure(declOnly, "community.not-well-formed");
}

TEST(CommunityParserTest, ExportWithoutPatientsIsReadButInvalid) {
  for (std::string doc :
       {std::string(kHeader) + kFooter,
        replaceOnce(std::string(kHeader), "\">\n", "\"/>\n")}) {  // <CommunityExport .../>
    Collected c = parseAll(doc);
    EXPECT_TRUE(c.records.empty());
    EXPECT_TRUE(c.outcome.complete);
    EXPECT_TRUE(c.outcome.header.has_value());
    EXPECT_EQ(c.outcome.status.code(), Status::Code::kInvalid);
    ASSERT_EQ(c.outcome.issues.size(), 1u) << describe(c.outcome.issues);
    const Issue& i = c.outcome.issues.issues()[0];
    EXPECT_EQ(i.code, "community.schema");
    EXPECT_EQ(i.type, "required");
    EXPECT_EQ(i.location, "CommunityExport");
    EXPECT_NE(i.message.find("Patient"), std::string::npos) << i.message;
  }
}

TEST(CommunityParserTest, WrongNamespaceOrRootFailsTheDocument) {
  std::string doc = documentXml(patients(2));
  Collected other = parseAll(
      replaceOnce(doc, "urn:northshire:community:export:1", "urn:northshire:community:export:2"));
  expectDocumentFailure(other, "community.namespace");
  EXPECT_TRUE(other.records.empty());
  EXPECT_FALSE(other.outcome.header.has_value());
  EXPECT_NE(other.outcome.status.message().find("export:2"), std::string::npos);

  Collected none = parseAll(replaceOnce(doc, " xmlns=\"urn:northshire:community:export:1\"", ""));
  expectDocumentFailure(none, "community.namespace");
  EXPECT_TRUE(none.records.empty());

  Collected root =
      parseAll("<Patient xmlns=\"urn:northshire:community:export:1\" localId=\"C-1\"/>");
  expectDocumentFailure(root, "community.root");
}

TEST(CommunityParserTest, HeaderIsCheckedBeforeAnyPatient) {
  std::string doc = documentXml(patients(2));
  struct Case {
    std::string from, to, type;
  };
  for (const Case& k : std::vector<Case>{
           {" batchId=\"RX9-20261101-1015\"", "", "required"},
           {" generated=\"2026-11-01T10:15:00Z\"", "", "required"},
           {"generated=\"2026-11-01T10:15:00Z\"", "generated=\"2026-11-31T10:15:00Z\"", "value"},
           {"generated=\"2026-11-01T10:15:00Z\"", "generated=\"yesterday\"", "value"},
           {"trust=\"RX9\"", "trust=\"rx-9\"", "value"},
           {"batchId=\"RX9-20261101-1015\"", "batchId=\"  \"", "value"},
           {"trust=\"RX9\"", "trust=\"RX9\" site=\"A\"", "structure"},
       }) {
    Collected c = parseAll(replaceOnce(doc, k.from, k.to));
    expectDocumentFailure(c, "community.header");
    EXPECT_TRUE(c.records.empty()) << k.to;
    EXPECT_FALSE(c.outcome.header.has_value());
    EXPECT_EQ(c.outcome.issues.issues()[0].type, k.type) << k.to;
  }
  // xsi:schemaLocation is a hint and allowed.
  Collected hint = parseAll(replaceOnce(
      doc, "trust=\"RX9\"",
      "trust=\"RX9\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
      "xsi:schemaLocation=\"urn:northshire:community:export:1 community-export-1.xsd\""));
  EXPECT_TRUE(hint.outcome.status.isOk()) << describe(hint.outcome.issues);
  EXPECT_EQ(hint.records.size(), 2u);
}

TEST(CommunityParserTest, NotWellFormedInTheMiddleKeepsEarlierPatientsDelivered) {
  std::vector<std::string> ps = patients(9);
  ps[5] = replaceOnce(ps[5], "</Contact>", "</Contcat>");  // at the end of Patient[5]
  Collected c = parseAll(documentXml(ps));
  expectDocumentFailure(c, "community.not-well-formed");
  ASSERT_EQ(c.records.size(), 5u);  // Patient[0..4]; nothing at or after the break
  for (size_t i = 0; i < c.records.size(); ++i) {
    EXPECT_EQ(c.records[i].index, i);
    EXPECT_EQ(c.records[i].patient.localId, "C-" + std::to_string(i));
    EXPECT_TRUE(c.records[i].accepted()) << describe(c.records[i].issues);
  }
  EXPECT_EQ(c.outcome.patientsDelivered, 5u);
  EXPECT_NE(c.outcome.status.message().find("line"), std::string::npos)
      << c.outcome.status.message();
}

TEST(CommunityParserTest, TruncatedDocumentNeverDeliversAnUnfinishedPatient) {
  std::string doc = documentXml(patients(4));
  size_t cut = doc.find("<Patient localId=\"C-2\"");
  cut = doc.find("</CarePlan>", cut);  // inside Patient[2]
  Collected c = parseAll(std::string_view(doc).substr(0, cut));
  expectDocumentFailure(c, "community.not-well-formed");
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[1].patient.localId, "C-1");

  // Cut right after a Patient's end tag: that Patient is complete, yet the document fails.
  std::string afterEnd = doc.substr(0, doc.find("  <Patient localId=\"C-3\""));
  Collected d = parseAll(afterEnd);
  expectDocumentFailure(d, "community.not-well-formed");
  EXPECT_LE(d.records.size(), 3u);
  for (const auto& r : d.records) EXPECT_TRUE(r.accepted());
}

TEST(CommunityParserTest, ElementBetweenPatientsStopsTheDocument) {
  std::vector<std::string> ps = patients(4);
  ps[2] = "  <Note>moved</Note>\n" + ps[2];
  ps[3] = replaceOnce(ps[3], "<Gender>female", "<Gender>f");
  Collected c = parseAll(documentXml(ps));
  EXPECT_EQ(c.outcome.status.code(), Status::Code::kInvalid);
  EXPECT_FALSE(c.outcome.complete);
  EXPECT_TRUE(hasIssue(c.outcome.issues, "community.schema", "CommunityExport.Note[0]"))
      << describe(c.outcome.issues);
  ASSERT_EQ(c.records.size(), 2u);  // later Patients could not be validated
  EXPECT_TRUE(c.records[0].accepted());
  EXPECT_TRUE(c.records[1].accepted());
}

TEST(CommunityParserTest, TextBetweenPatientsIsADocumentIssue) {
  std::vector<std::string> ps = patients(3);
  ps[1] = "  stray text\n" + replaceOnce(ps[1], "<Gender>female", "<Gender>f");
  Collected c = parseAll(documentXml(ps));
  EXPECT_TRUE(c.outcome.complete);
  EXPECT_EQ(c.outcome.status.code(), Status::Code::kInvalid);
  EXPECT_TRUE(hasIssue(c.outcome.issues, "community.schema", "CommunityExport"))
      << describe(c.outcome.issues);
  EXPECT_EQ(acceptedFlags(c), (std::vector<bool>{true, false, true}));
}

TEST(CommunityParserTest, CallbackStatusStopsTheParse) {
  size_t calls = 0;
  DocumentOutcome out = parser().parse(documentXml(patients(5)), [&calls](PatientRecord&&) {
    return ++calls == 2 ? Status::internal("store unavailable") : Status::ok();
  });
  EXPECT_EQ(calls, 2u);
  EXPECT_EQ(out.patientsDelivered, 2u);
  EXPECT_FALSE(out.complete);
  EXPECT_EQ(out.status.code(), Status::Code::kInternal);
  EXPECT_EQ(out.status.message(), "store unavailable");
}

// ---------------------------------------------------------------------------------------------
// One Patient rejected, the others delivered.

TEST(CommunityParserTest, BadGenderAndDecisionValueRejectOnlyTheirPatients) {
  std::vector<std::string> ps = patients(5);
  ps[1] = replaceOnce(ps[1], "<Gender>female", "<Gender>femal");
  ps[3] = replaceOnce(ps[3], "kind=\"ppd\" value=\"home\"", "kind=\"cpr\" value=\"home\"");
  Collected c = parseAll(documentXml(ps));
  EXPECT_TRUE(c.outcome.status.isOk()) << describe(c.outcome.issues);
  EXPECT_TRUE(c.outcome.complete);
  ASSERT_EQ(c.records.size(), 5u);
  EXPECT_EQ(acceptedFlags(c), (std::vector<bool>{true, false, true, false, true}));
  EXPECT_EQ(c.outcome.patientsAccepted, 3u);
  EXPECT_EQ(c.outcome.patientsRejected, 2u);

  const IssueList& gender = c.records[1].issues;
  ASSERT_EQ(gender.size(), 1u) << describe(gender);
  EXPECT_EQ(gender.issues()[0].code, "community.schema");
  EXPECT_EQ(gender.issues()[0].type, "value");
  EXPECT_EQ(gender.issues()[0].location, "CommunityExport.Patient[1].Gender");
  EXPECT_NE(gender.issues()[0].message.find("femal"), std::string::npos);
  EXPECT_EQ(gender.issues()[0].message.find("urn:northshire"), std::string::npos);
  EXPECT_EQ(c.records[1].patient.localId, "C-1");

  const IssueList& decision = c.records[3].issues;
  ASSERT_EQ(decision.size(), 1u) << describe(decision);
  EXPECT_EQ(decision.issues()[0].code, "community.decision-value");
  EXPECT_EQ(decision.issues()[0].type, "code-invalid");
  EXPECT_EQ(decision.issues()[0].location, "CommunityExport.Patient[3].CarePlan[0].Decision[1]");
  EXPECT_NE(decision.issues()[0].message.find("attempt, dnacpr, modified"), std::string::npos);
}

TEST(CommunityParserTest, UnknownDecisionCodeIsASchemaError) {
  Collected c = parseAll(documentXml(
      {replaceOnce(patientXml("C-0"), "value=\"hospice\"", "value=\"hospital-at-home\"")}));
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_FALSE(c.records[0].accepted());
  EXPECT_TRUE(hasIssue(c.records[0].issues, "community.schema",
                       "CommunityExport.Patient[0].CarePlan[0].Decision[2]"))
      << describe(c.records[0].issues);
  EXPECT_FALSE(hasIssue(c.records[0].issues, "community.decision-value",
                        "CommunityExport.Patient[0].CarePlan[0].Decision[2]"));
}

TEST(CommunityParserTest, MissingLocalIdRejectsThePatient) {
  std::vector<std::string> ps = patients(3);
  ps[1] = replaceOnce(ps[1], " localId=\"C-1\"", "");
  Collected c = parseAll(documentXml(ps));
  EXPECT_TRUE(c.outcome.status.isOk());
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(acceptedFlags(c), (std::vector<bool>{true, false, true}));
  const PatientRecord& r = c.records[1];
  EXPECT_EQ(r.patient.localId, "");
  EXPECT_EQ(r.patient.sourceLine, 3 + 24);
  ASSERT_EQ(r.issues.size(), 1u) << describe(r.issues);
  EXPECT_EQ(r.issues.issues()[0].code, "community.schema");
  EXPECT_EQ(r.issues.issues()[0].type, "required");
  EXPECT_EQ(r.issues.issues()[0].location, "CommunityExport.Patient[1]");
  EXPECT_NE(r.issues.issues()[0].message.find("localId"), std::string::npos);
}

TEST(CommunityParserTest, NhsNumberWithFailingCheckDigitPassesTheParser) {
  // 9992530820 passes Modulus 11; 9992530821 fails it: the mapper reports that.
  Collected c = parseAll(documentXml({replaceOnce(patientXml("C-0"), "9992530820", "9992530821")}));
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_TRUE(c.records[0].accepted()) << describe(c.records[0].issues);
  EXPECT_EQ(c.records[0].patient.nhsNumber.value, "9992530821");

  Collected nine =
      parseAll(documentXml({replaceOnce(patientXml("C-0"), "9992530820", "999253082")}));
  ASSERT_EQ(nine.records.size(), 1u);
  EXPECT_TRUE(
      hasIssue(nine.records[0].issues, "community.schema", "CommunityExport.Patient[0].NHSNumber"))
      << describe(nine.records[0].issues);
}

TEST(CommunityParserTest, UnknownLocalActivityCodePassesTheParser) {
  Collected c =
      parseAll(documentXml({replaceOnce(patientXml("C-0"), "code=\"PHY01\"", "code=\"ZZZ99\"")}));
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_TRUE(c.records[0].accepted()) << describe(c.records[0].issues);
  EXPECT_EQ(c.records[0].patient.carePlans[0].activities[1].code, "ZZZ99");
}

TEST(CommunityParserTest, UnknownElementsAndAttributesRejectThePatient) {
  std::vector<std::string> ps = patients(4);
  ps[0] = replaceOnce(ps[0], "<Title>", "<Allergy>nuts</Allergy><Title>");
  ps[1] = replaceOnce(ps[1], "<Gender>", "<Gender note=\"x\">");
  ps[2] = replaceOnce(ps[2], "    <Contact", "    <Contact id=\"V-x\"/>\n    <Contact");
  Collected c = parseAll(documentXml(ps));
  ASSERT_EQ(c.records.size(), 4u);
  EXPECT_EQ(acceptedFlags(c), (std::vector<bool>{false, false, false, true}));
  EXPECT_TRUE(hasIssue(c.records[0].issues, "community.schema",
                       "CommunityExport.Patient[0].CarePlan[0].Allergy[0]"))
      << describe(c.records[0].issues);
  EXPECT_TRUE(
      hasIssue(c.records[1].issues, "community.schema", "CommunityExport.Patient[1].Gender"))
      << describe(c.records[1].issues);
  // Missing required attributes of the first Contact, reported one by one.
  EXPECT_TRUE(
      hasIssue(c.records[2].issues, "community.schema", "CommunityExport.Patient[2].Contact[0]"))
      << describe(c.records[2].issues);
  EXPECT_GE(c.records[2].issues.size(), 5u);
}

TEST(CommunityParserTest, MissingRequiredElementIsReportedOnItsParent) {
  Collected c =
      parseAll(documentXml({patientXml("C-0"), replaceOnce(patientXml("C-1"),
                                                           "      <Consent sharing=\"yes\" "
                                                           "date=\"2026-09-12\"/>\n",
                                                           "")}));
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_TRUE(c.records[0].accepted());
  ASSERT_FALSE(c.records[1].accepted());
  const Issue& i = c.records[1].issues.issues()[0];
  EXPECT_EQ(i.location, "CommunityExport.Patient[1].CarePlan[0]");
  EXPECT_EQ(i.type, "required");
  EXPECT_NE(i.message.find("Consent"), std::string::npos) << i.message;
}

TEST(CommunityParserTest, DuplicateIdsRejectTheLaterPatient) {
  std::vector<std::string> ps = patients(4);
  ps[2] = patientXml("C-0");                                     // localId, CarePlan, Contact
  ps[3] = replaceOnce(ps[3], "id=\"CP-C-3\"", "id=\"CP-C-1\"");  // CarePlan id only
  Collected c = parseAll(documentXml(ps));
  ASSERT_EQ(c.records.size(), 4u);
  EXPECT_EQ(acceptedFlags(c), (std::vector<bool>{true, true, false, false}));
  EXPECT_TRUE(
      hasIssue(c.records[2].issues, "community.duplicate-id", "CommunityExport.Patient[2]"));
  EXPECT_TRUE(hasIssue(c.records[2].issues, "community.duplicate-id",
                       "CommunityExport.Patient[2].CarePlan[0]"));
  EXPECT_TRUE(hasIssue(c.records[2].issues, "community.duplicate-id",
                       "CommunityExport.Patient[2].Contact[0]"));
  ASSERT_EQ(c.records[3].issues.size(), 1u) << describe(c.records[3].issues);
  EXPECT_EQ(c.records[3].issues.issues()[0].type, "duplicate");
  EXPECT_EQ(c.records[3].issues.issues()[0].location, "CommunityExport.Patient[3].CarePlan[0]");
}

TEST(CommunityParserTest, WhitespaceInTokensIsCollapsedAndFreeTextKept) {
  std::string p = patientXml("C-0");
  p = replaceOnce(p, "<Gender>female", "<Gender>\n      female\n    ");
  p = replaceOnce(p, "given=\"Amelia Rose\"", "given=\"  Amelia   Rose \"");
  p = replaceOnce(p, "Settled week;", "  Settled\n week;");
  p = replaceOnce(p, "<Title>Advance care plan", "<Title> Advance  care plan ");
  Collected c = parseAll(documentXml({p}));
  ASSERT_EQ(c.records.size(), 1u);
  ASSERT_TRUE(c.records[0].accepted()) << describe(c.records[0].issues);
  const Patient& pt = c.records[0].patient;
  EXPECT_EQ(pt.gender, Gender::kFemale);
  EXPECT_EQ(pt.name.given, (std::vector<std::string>{"Amelia", "Rose"}));
  EXPECT_EQ(pt.carePlans[0].title, "Advance care plan");
  EXPECT_EQ(pt.contacts[0].text, "  Settled\n week; parents confident with suction.");
}

TEST(CommunityParserTest, ValuesTheSchemaAcceptsButTheModelCannotHoldAreRejected) {
  // xs:date allows five-digit years; the model (and FHIR) does not.
  Collected c = parseAll(documentXml(
      {replaceOnce(patientXml("C-0"), "<BirthDate>2015-03-14", "<BirthDate>12015-03-14")}));
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_FALSE(c.records[0].accepted());
  EXPECT_TRUE(
      hasIssue(c.records[0].issues, "community.value", "CommunityExport.Patient[0].BirthDate"))
      << describe(c.records[0].issues);
}

// ---------------------------------------------------------------------------------------------
// Attribution while libxml2 parses ahead of the reader.

TEST(CommunityParserTest, ErrorsAreAttributedToTheRightPatientOnOneLine) {
  // No newlines at all: libxml2's parse-ahead and line numbers cannot tell Patients apart;
  // the attribution must still be exact.
  std::vector<std::string> ps;
  std::vector<bool> expected;
  for (int i = 0; i < 60; ++i) {
    std::string p = patientXml("C-" + std::to_string(i));
    bool bad = true;
    switch (i % 5) {
      case 1:
        p = replaceOnce(p, "<Gender>female", "<Gender>x");
        break;
      case 2:
        p = replaceOnce(p, "minutes=\"45\"", "minutes=\"-45\"");  // last element of Patient
        break;
      case 3:
        p = replaceOnce(p, "      <Title>Advance care plan</Title>\n", "");  // missing child
        break;
      default:
        bad = false;
    }
    p.erase(std::remove(p.begin(), p.end(), '\n'), p.end());
    ps.push_back(p);
    expected.push_back(!bad);
  }
  std::string doc = documentXml(ps);
  doc.erase(std::remove(doc.begin(), doc.end(), '\n'), doc.end());
  Collected c = parseAll(doc);
  EXPECT_TRUE(c.outcome.status.isOk()) << describe(c.outcome.issues);
  ASSERT_EQ(c.records.size(), 60u);
  EXPECT_EQ(acceptedFlags(c), expected);
  for (size_t i = 0; i < c.records.size(); ++i) {
    const std::string base = "CommunityExport.Patient[" + std::to_string(i) + "]";
    EXPECT_EQ(c.records[i].patient.sourceLine, 1);
    for (const auto& issue : c.records[i].issues.issues()) {
      EXPECT_EQ(issue.location.compare(0, base.size(), base), 0) << issue.location;
    }
    switch (i % 5) {
      case 1:
        EXPECT_TRUE(hasIssue(c.records[i].issues, "community.schema", base + ".Gender"));
        break;
      case 2:
        EXPECT_TRUE(hasIssue(c.records[i].issues, "community.schema", base + ".Contact[0]"));
        break;
      case 3:  // libxml2 reports the element found where Title was expected
        EXPECT_TRUE(hasIssue(c.records[i].issues, "community.schema", base + ".CarePlan[0].Author"))
            << describe(c.records[i].issues);
        break;
      default:
        EXPECT_TRUE(c.records[i].issues.empty()) << describe(c.records[i].issues);
    }
  }
}

TEST(CommunityParserTest, SourceLinesSurviveCommentsCdataAndQuotedBrackets) {
  std::vector<std::string> ps = patients(3);
  ps[0] = replaceOnce(ps[0], "team=\"Children's Community Nursing\"",
                      "team=\"Nursing &gt; &lt;Patient&gt; 'a' > b\"");
  ps[1] = "  <!-- <Patient localId=\"fake\"> \n\n -->\n" +
          replaceOnce(ps[1], "Settled week;", "<![CDATA[\n<Patient>\n]]>");
  ps[2] = "  <?pi <Patient>\n?>\n" + ps[2];
  Collected c = parseAll(documentXml(ps));
  ASSERT_TRUE(c.outcome.status.isOk()) << describe(c.outcome.issues);
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.records[0].patient.sourceLine, 3);
  EXPECT_EQ(c.records[0].patient.caseload.team, "Nursing > <Patient> 'a' > b");
  EXPECT_EQ(c.records[1].patient.sourceLine, 3 + 24 + 3);
  EXPECT_EQ(c.records[1].patient.contacts[0].text, "\n<Patient>\n parents confident with suction.");
  EXPECT_EQ(c.records[2].patient.sourceLine, 3 + 24 + 3 + 26 + 2);
}

TEST(CommunityParserTest, LoneCarriageReturnsCountAsLineBreaks) {
  std::string doc = documentXml(patients(2));
  std::replace(doc.begin(), doc.end(), '\n', '\r');
  Collected c = parseAll(doc);
  ASSERT_TRUE(c.outcome.status.isOk()) << describe(c.outcome.issues);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[1].patient.sourceLine, 3 + 24);
}

TEST(CommunityParserTest, SchemaIssuesPerPatientAreCapped) {
  std::string contacts;
  for (int i = 0; i < 300; ++i) {
    contacts += "    <Contact id=\"V-" + std::to_string(i) +
                "\" date=\"2026-10-28T14:00:00Z\" minutes=\"x\" type=\"home-visit\" "
                "staffRole=\"CNS\" outcome=\"attended\"/>\n";
  }
  std::string p = replaceOnce(patientXml("C-0"), "  </Patient>", contacts + "  </Patient>");
  Collected c = parseAll(documentXml({p, patientXml("C-1")}));
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_FALSE(c.records[0].accepted());
  EXPECT_LE(c.records[0].issues.size(), 60u);
  EXPECT_NE(c.records[0].issues.issues().back().message.find("further schema errors"),
            std::string::npos)
      << describe(c.records[0].issues);
  EXPECT_TRUE(c.records[1].accepted());
}

TEST(CommunityParserTest, CallbackRunsOutsideTheUntrustedScope) {
  // The callback may load its own files through libxml2 (here: the schema again); the
  // parser's refusal of external loads must not apply to it.
  size_t loaded = 0;
  DocumentOutcome out = parser().parse(documentXml(patients(2)), [&loaded](PatientRecord&&) {
    if (CommunitySchema::load(testing::kXsdPath).isOk()) ++loaded;
    return Status::ok();
  });
  EXPECT_TRUE(out.status.isOk()) << describe(out.issues);
  EXPECT_EQ(loaded, 2u);
}

TEST(CommunityParserTest, NestedParseFromTheCallback) {
  size_t inner = 0;
  Collected outer;
  outer.outcome = parser().parse(documentXml(patients(2)), [&](PatientRecord&& r) {
    inner += parseAll(exampleXml()).records.size();
    outer.records.push_back(std::move(r));
    return Status::ok();
  });
  EXPECT_TRUE(outer.outcome.status.isOk());
  EXPECT_EQ(outer.records.size(), 2u);
  EXPECT_EQ(inner, 2u);
}

// ---------------------------------------------------------------------------------------------
// Scale and threads.

long maxRssKb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

TEST(CommunityParserTest, LargeDocumentIsStreamedPatientByPatient) {
  constexpr size_t kPatients = 20000;
  std::string doc = kHeader;
  doc.reserve(kPatients * 1600);
  for (size_t i = 0; i < kPatients; ++i) doc += patientXml("C-" + std::to_string(i));
  doc += kFooter;
  EXPECT_GT(doc.size(), 20u * 1000 * 1000);  // tens of MB of input

  long before = maxRssKb();
  size_t delivered = 0, accepted = 0, inOrder = 0, lastLine = 0;
  DocumentOutcome out = parser().parse(doc, [&](PatientRecord&& r) {
    if (r.index == delivered && r.patient.localId == "C-" + std::to_string(delivered)) ++inOrder;
    ++delivered;
    if (r.accepted()) ++accepted;
    lastLine = static_cast<size_t>(r.patient.sourceLine);
    return Status::ok();
  });
  long after = maxRssKb();

  EXPECT_TRUE(out.status.isOk()) << out.status.message() << describe(out.issues);
  EXPECT_TRUE(out.complete);
  EXPECT_EQ(delivered, kPatients);
  EXPECT_EQ(accepted, kPatients);
  EXPECT_EQ(inOrder, kPatients);
  EXPECT_EQ(lastLine, 3 + 24 * (kPatients - 1));  // beyond libxml2's 16-bit line numbers
  std::printf(
      "[ info     ] %zu Patients, %.1f MB of XML; peak RSS %ld KB before parsing, "
      "%ld KB after (growth %ld KB)\n",
      kPatients, doc.size() / 1e6, before, after, after - before);
}

TEST(CommunityParserTest, OneParserServesManyThreads) {
  std::vector<std::string> ps = patients(30);
  ps[7] = replaceOnce(ps[7], "<Gender>female", "<Gender>x");
  ps[19] = replaceOnce(ps[19], "value=\"non-invasive-only\"", "value=\"dnacpr\"");
  const std::string doc = documentXml(ps);
  Collected reference = parseAll(doc);
  ASSERT_EQ(reference.records.size(), 30u);
  const std::vector<bool> expected = acceptedFlags(reference);

  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int n = 0; n < 10; ++n) {
        Collected c = parseAll(doc);
        if (!c.outcome.status.isOk() || acceptedFlags(c) != expected ||
            c.records[19].issues.issues().at(0).location !=
                "CommunityExport.Patient[19].CarePlan[0].Decision[3]") {
          ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_FALSE(expected[7]);
  EXPECT_FALSE(expected[19]);
}

}  // namespace
}  // namespace acp::mappings::community
