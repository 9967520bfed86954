// Profile validation: the registry (conformance/acp + conformance/ukcore), UK Core examples
// against their profiles, ACP-CarePlan and its extensions, UKCore-Patient slices, unknown
// profiles, profile chains, closed slicing, and concurrent use.
// Fixtures in tests/profile/data: the UK Core examples (copied unmodified from HL7 UK's UK Core
// 2.x, Apache 2.0) and the CarePlans the three partner mappers produce from their samples
// (mappings/*/samples, as stored by the gateway; see data/README.md).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gateway/model/validator.h"
#include "gateway/model/xml_format.h"
#include "gateway/profile/profile_registry.h"
#include "gateway/profile/profile_validator.h"
#include "tests/support/model_fixture.h"

namespace acp::profile {
namespace {

const std::string kSd = "https://acp-gateway.nhs.uk/StructureDefinition/";
const std::string kUk = "https://fhir.hl7.org.uk/StructureDefinition/";
const std::string kAcpCarePlan = kSd + "ACP-CarePlan";

std::string dump(const IssueList& list) {
  std::string s;
  for (const Issue& i : list.issues()) {
    s += "  [";
    s += severityCode(i.severity);
    s += "] " + i.type + " @ '" + i.location + "' " + i.code + ": " + i.message + "\n";
  }
  return s.empty() ? "  (no issues)\n" : s;
}

::testing::AssertionResult hasIssue(const IssueList& list, const std::string& location,
                                    const std::string& code, const std::string& message = "") {
  for (const Issue& i : list.issues())
    if (i.location == location && i.code == code && (message.empty() || i.message == message))
      return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "no issue " << code << " @ '" << location << "' " << message << "; got:\n"
         << dump(list);
}

size_t countCode(const IssueList& list, const std::string& code) {
  size_t n = 0;
  for (const Issue& i : list.issues()) n += i.code == code;
  return n;
}

json::Value parseJson(const std::string& text) {
  json::Value v;
  json::ParseError err;
  if (!json::parse(text, v, err)) ADD_FAILURE() << "test JSON does not parse: " << err.message;
  return v;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string dataDir() { return std::string(ACP_SOURCE_DIR) + "/tests/profile/data/"; }

json::Value dataJson(const std::string& name) { return parseJson(readFile(dataDir() + name)); }

json::Value dataXml(const std::string& name) {
  json::Value v;
  IssueList issues;
  EXPECT_TRUE(model::xmlToJson(acp::testing::r4(), readFile(dataDir() + name), v, issues))
      << name << "\n"
      << dump(issues);
  return v;
}

std::vector<std::string> conformanceDirs() {
  return {std::string(ACP_SOURCE_DIR) + "/conformance/acp",
          std::string(ACP_SOURCE_DIR) + "/conformance/ukcore"};
}

// Test-only profiles, loaded on top of the shipped ones.
//  - Test-Patient-NHS (on UKCore-Patient): an NHS number is required — a slice UK Core defines,
//    constrained one level further down the chain.
//  - Test-CarePlan-Strict (on ACP-CarePlan): the activity code binding tightened to required.
//  - Test-Flag-Closed (on UKCore-Flag): closed category slicing by a fixed coding, an exists
//    discriminator on Flag.identifier, and a pattern on a nested path.
std::vector<ProfileRegistry::Source> testProfiles() {
  std::vector<ProfileRegistry::Source> out;
  out.push_back({"Test-Patient-NHS", parseJson(R"({
    "resourceType": "StructureDefinition", "id": "Test-Patient-NHS",
    "url": "https://example.org/StructureDefinition/Test-Patient-NHS", "name": "TestPatientNHS",
    "status": "draft", "kind": "resource", "abstract": false, "type": "Patient",
    "baseDefinition": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient",
    "derivation": "constraint",
    "differential": {"element": [
      {"id": "Patient.identifier:nhsNumber", "path": "Patient.identifier", "sliceName": "nhsNumber",
       "min": 1}
    ]}})")});
  out.push_back({"Test-CarePlan-Strict", parseJson(R"({
    "resourceType": "StructureDefinition", "id": "Test-CarePlan-Strict",
    "url": "https://example.org/StructureDefinition/Test-CarePlan-Strict",
    "name": "TestCarePlanStrict", "status": "draft", "kind": "resource", "abstract": false,
    "type": "CarePlan",
    "baseDefinition": "https://acp-gateway.nhs.uk/StructureDefinition/ACP-CarePlan",
    "derivation": "constraint",
    "differential": {"element": [
      {"id": "CarePlan.activity.detail.code", "path": "CarePlan.activity.detail.code",
       "binding": {"strength": "required",
                   "valueSet": "https://acp-gateway.nhs.uk/ValueSet/acp-item"}}
    ]}})")});
  out.push_back({"Test-Flag-Closed", parseJson(R"({
    "resourceType": "StructureDefinition", "id": "Test-Flag-Closed",
    "url": "https://example.org/StructureDefinition/Test-Flag-Closed",
    "name": "TestFlagClosed", "status": "draft", "kind": "resource", "abstract": false,
    "type": "Flag",
    "baseDefinition": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Flag",
    "derivation": "constraint",
    "differential": {"element": [
      {"id": "Flag.identifier", "path": "Flag.identifier",
       "slicing": {"discriminator": [{"type": "exists", "path": "period"}], "rules": "open"}},
      {"id": "Flag.identifier:current", "path": "Flag.identifier", "sliceName": "current",
       "max": "1"},
      {"id": "Flag.identifier:current.period", "path": "Flag.identifier.period", "min": 1},
      {"id": "Flag.category", "path": "Flag.category",
       "slicing": {"discriminator": [{"type": "value", "path": "coding"}], "rules": "closed"}},
      {"id": "Flag.category:clinical", "path": "Flag.category", "sliceName": "clinical",
       "min": 1, "max": "1",
       "fixedCodeableConcept": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category",
                                             "code": "clinical"}]}},
      {"id": "Flag.category:admin", "path": "Flag.category", "sliceName": "admin",
       "fixedCodeableConcept": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category",
                                             "code": "admin"}]}},
      {"id": "Flag.code", "path": "Flag.code",
       "patternCodeableConcept": {"coding": [{"system": "http://snomed.info/sct"}]}},
      {"id": "Flag.subject", "path": "Flag.subject",
       "type": [{"code": "Reference",
                 "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Patient",
                                   "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization"]}]}
    ]}})")});
  return out;
}

std::shared_ptr<const ProfileRegistry> registry() {
  static std::shared_ptr<const ProfileRegistry> reg = [] {
    auto r = ProfileRegistry::load(acp::testing::r4Shared(), conformanceDirs(), testProfiles());
    if (!r.isOk()) {
      ADD_FAILURE() << r.status().message();
      std::abort();
    }
    return r.value();
  }();
  return reg;
}

const ProfileValidator& validator() {
  static ProfileValidator v(registry());
  return v;
}

const model::Validator& base() {
  static model::Validator v(acp::testing::r4Shared());
  return v;
}

struct Outcome {
  bool ok = false;
  IssueList issues;
};

Outcome check(const json::Value& resource, const std::string& url) {
  Outcome o;
  o.ok = validator().validate(resource, url, o.issues);
  return o;
}

// Base R4 validation must pass for every case here: the profile is checked on top of it.
void expectValidR4(const json::Value& resource) {
  IssueList issues;
  EXPECT_TRUE(base().validate(resource, issues)) << dump(issues);
}

// ---- registry ---------------------------------------------------------------------------------

TEST(ProfileRegistry, LoadsTheShippedDefinitions) {
  auto r = ProfileRegistry::load(acp::testing::r4Shared(), conformanceDirs());
  ASSERT_TRUE(r.isOk()) << r.status().message();
  const ProfileRegistry& reg = *r.value();
  for (const char* name :
       {"UKCore-Patient", "UKCore-Encounter", "UKCore-CarePlan", "UKCore-Condition",
        "UKCore-Consent", "UKCore-Organization", "UKCore-Practitioner", "UKCore-PractitionerRole",
        "UKCore-RelatedPerson", "UKCore-Flag", "Extension-UKCore-EthnicCategory",
        "Extension-UKCore-NHSNumberVerificationStatus"}) {
    EXPECT_NE(reg.structure(kUk + name), nullptr) << name;
  }
  for (const char* name : {"ACP-CarePlan", "acp-decision-value", "acp-decision-date",
                           "acp-review-date", "source-order", "audit-chain"}) {
    EXPECT_NE(reg.structure(kSd + name), nullptr) << name;
  }
  EXPECT_EQ(reg.structureUrls().size(), 18u);

  const StructureDef* acp = reg.structure(kAcpCarePlan + "|1.0.0");  // version ignored
  ASSERT_NE(acp, nullptr);
  EXPECT_EQ(acp->type, "CarePlan");
  EXPECT_EQ(acp->label, "ACP-CarePlan");
  ASSERT_NE(acp->base, nullptr);
  EXPECT_EQ(acp->base->url, kUk + "UKCore-CarePlan");
  EXPECT_EQ(acp->base->base, nullptr);  // the core CarePlan is the model's
  EXPECT_EQ(acp->chain().size(), 2u);
  EXPECT_TRUE(acp->byId.count("CarePlan.category:acp"));
  EXPECT_TRUE(acp->byId.count("CarePlan.activity.detail.extension:decisionValue"));

  const StructureDef* src = reg.structure(kSd + "source-order");
  ASSERT_NE(src, nullptr);
  EXPECT_TRUE(src->isExtension());
  EXPECT_EQ(src->contexts.size(), 6u);

  // Our value set, expanded from our complete CodeSystem; the R4 ones through the model.
  const ValueSetContent* items = reg.valueSet("https://acp-gateway.nhs.uk/ValueSet/acp-item");
  ASSERT_NE(items, nullptr);
  EXPECT_TRUE(
      items->codes.contains("https://acp-gateway.nhs.uk/CodeSystem/acp-item", "resuscitation"));
  EXPECT_FALSE(items->codes.contains("https://acp-gateway.nhs.uk/CodeSystem/acp-item", "ccn01"));
  EXPECT_TRUE(items->completeSystems.count("https://acp-gateway.nhs.uk/CodeSystem/acp-item"));
  EXPECT_NE(reg.valueSetCodes("http://hl7.org/fhir/ValueSet/request-status|4.0.1"), nullptr);
  EXPECT_EQ(reg.valueSetCodes("https://fhir.hl7.org.uk/ValueSet/UKCore-EthnicCategory"), nullptr);
  ASSERT_NE(reg.codeSystem(
                "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"),
            nullptr);
  EXPECT_EQ(
      reg.codeSystem("https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland")
          ->size(),
      8u);
}

// Every StructureDefinition and ValueSet in conformance/acp is a valid R4 resource (the
// registry refuses to load anything else, and so does ingest_units_test's artefact test).
TEST(ProfileRegistry, ShippedAcpDefinitionsAreValidR4) {
  for (const char* file :
       {"StructureDefinition-acp-careplan.json", "StructureDefinition-acp-decision-value.json",
        "StructureDefinition-acp-decision-date.json", "StructureDefinition-acp-review-date.json",
        "StructureDefinition-source-order.json", "StructureDefinition-audit-chain.json",
        "ValueSet-acp-item.json"}) {
    json::Value v = parseJson(readFile(std::string(ACP_SOURCE_DIR) + "/conformance/acp/" + file));
    IssueList issues;
    EXPECT_TRUE(base().validate(v, issues)) << file << "\n" << dump(issues);
  }
}

Result<std::shared_ptr<const ProfileRegistry>> loadExtra(const std::string& json) {
  return ProfileRegistry::load(acp::testing::r4Shared(), conformanceDirs(),
                               {{"extra", parseJson(json)}});
}

TEST(ProfileRegistry, RefusesBrokenDefinitions) {
  const std::string head = R"("resourceType": "StructureDefinition", "url": "https://example.org/x",
      "name": "X", "status": "draft", "kind": "resource", "abstract": false, "type": "Patient",
      "derivation": "constraint",)";
  // An element path the model does not know.
  auto r =
      loadExtra("{" + head + R"("baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
      "differential": {"element": [{"id": "Patient.nickname", "path": "Patient.nickname", "min": 1}]}})");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("'nickname' is not an element of Patient"), std::string::npos)
      << r.status().message();
  // A base that is neither core nor loaded.
  r = loadExtra("{" + head + R"("baseDefinition": "https://example.org/nowhere"})");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("the baseDefinition https://example.org/nowhere"),
            std::string::npos)
      << r.status().message();
  // A base of another type.
  r = loadExtra("{" + head +
                R"("baseDefinition": "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Flag"})");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("is a Flag"), std::string::npos) << r.status().message();
  // Invalid against the R4 model (status is a required code).
  r = loadExtra(R"({"resourceType": "StructureDefinition", "url": "https://example.org/x",
      "name": "X", "status": "someday", "kind": "resource", "abstract": false, "type": "Patient",
      "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint"})");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("not a valid R4 StructureDefinition"), std::string::npos);
  // Two definitions with one url.
  r = loadExtra(readFile(std::string(ACP_SOURCE_DIR) +
                         "/conformance/acp/StructureDefinition-acp-review-date.json"));
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("two StructureDefinitions"), std::string::npos);
  // A max that is neither a count nor "*".
  r = loadExtra("{" + head + R"("baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
      "differential": {"element": [{"id": "Patient.name", "path": "Patient.name", "max": "many"}]}})");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("max is neither a count nor *"), std::string::npos);
  // A folder that does not exist.
  r = ProfileRegistry::load(acp::testing::r4Shared(), {"/nonexistent/profiles"});
  EXPECT_FALSE(r.isOk());
}

// ---- UK Core examples -------------------------------------------------------------------------

TEST(ProfileUkCoreExamples, ExamplesAreValidAgainstTheirProfiles) {
  for (const auto& [file, profile] : std::vector<std::pair<std::string, std::string>>{
           {"UKCore-Patient-RichardSmith-Example.xml", "UKCore-Patient"},
           {"UKCore-Encounter-InpatientEncounter-Example.xml", "UKCore-Encounter"},
           {"UKCore-CarePlan-WellnessPlan-Example.xml", "UKCore-CarePlan"}}) {
    json::Value v = dataXml(file);
    expectValidR4(v);
    Outcome o = check(v, kUk + profile);
    EXPECT_TRUE(o.ok) << file << "\n" << dump(o.issues);
    EXPECT_TRUE(o.issues.empty()) << file << "\n" << dump(o.issues);
  }
}

// ---- ACP-CarePlan -----------------------------------------------------------------------------

// What every partner mapper produces (hospice, community, acute ReSPECT form).
TEST(ProfileAcpCarePlan, MappedSamplesConform) {
  for (const char* file :
       {"careplan-hospice.json", "careplan-community.json", "careplan-acute.json"}) {
    json::Value v = dataJson(file);
    expectValidR4(v);
    Outcome o = check(v, kAcpCarePlan);
    EXPECT_TRUE(o.ok) << file << "\n" << dump(o.issues);
    EXPECT_TRUE(o.issues.empty()) << file << "\n" << dump(o.issues);
  }
}

// A small plan: review date, source order, one decided item.
std::string plan() {
  return R"({
    "resourceType": "CarePlan", "id": "p1",
    "extension": [
      {"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-review-date", "valueDate": "2026-03-01"},
      {"url": "https://acp-gateway.nhs.uk/StructureDefinition/source-order", "valueString": "version:0000000002"}
    ],
    "status": "active", "intent": "plan",
    "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "736366004",
                              "display": "Advance care plan"}]}],
    "subject": {"reference": "Patient/pat-1"},
    "activity": [
      {"detail": {
        "extension": [
          {"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-value",
           "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "450476008"}]}},
          {"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-date", "valueDate": "2025-11-02"}
        ],
        "code": {"coding": [{"system": "https://acp-gateway.nhs.uk/CodeSystem/acp-item", "code": "resuscitation"}]},
        "status": "in-progress"}},
      {"detail": {
        "code": {"coding": [{"system": "https://acp-gateway.nhs.uk/CodeSystem/community-activity", "code": "ccn01"}]},
        "status": "scheduled"}},
      {"detail": {"code": {"text": "Hydrotherapy, no translation"}, "status": "scheduled"}}
    ]})";
}

void replace(std::string& s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
}

Outcome checkPlan(const std::string& text, const std::string& url = kAcpCarePlan) {
  json::Value v = parseJson(text);
  expectValidR4(v);
  return check(v, url);
}

TEST(ProfileAcpCarePlan, APlanWithItemsCommunityActivitiesAndTextPasses) {
  Outcome o = checkPlan(plan());
  EXPECT_TRUE(o.ok) << dump(o.issues);
  EXPECT_TRUE(o.issues.empty()) << dump(o.issues);
}

TEST(ProfileAcpCarePlan, MissingAcpCategory) {
  std::string s = plan();
  replace(s, R"("code": "736366004")", R"("code": "734163000")");
  Outcome o = checkPlan(s);
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.category", "profile.min",
                       "ACP-CarePlan: CarePlan.category:acp min 1, found 0"));
  EXPECT_EQ(o.issues.size(), 1u) << dump(o.issues);

  // No category at all: the element's own min as well.
  s = plan();
  replace(s, R"("category": [{"coding": [{"system": "http://snomed.info/sct", "code": "736366004",
                              "display": "Advance care plan"}]}],)",
          "");
  o = checkPlan(s);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.category", "profile.min",
                       "ACP-CarePlan: CarePlan.category min 1, found 0"));
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.category", "profile.min",
                       "ACP-CarePlan: CarePlan.category:acp min 1, found 0"));
}

TEST(ProfileAcpCarePlan, OtherCategoriesBesideTheAcpOneAreAllowedButNotTwoAcpOnes) {
  std::string s = plan();
  replace(
      s, R"("category": [)",
      R"("category": [{"coding": [{"system": "http://snomed.info/sct", "code": "1382601000000107"}]},)");
  Outcome o = checkPlan(s);
  EXPECT_TRUE(o.ok) << dump(o.issues);

  s = plan();
  replace(
      s, R"("category": [)",
      R"("category": [{"text": "ACP", "coding": [{"system": "http://snomed.info/sct", "code": "736366004"}]},)");
  o = checkPlan(s);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.category[1]", "profile.max",
                       "ACP-CarePlan: CarePlan.category:acp max 1, found 2"));
}

TEST(ProfileAcpCarePlan, TwoReviewDates) {
  std::string s = plan();
  replace(
      s, R"("extension": [)",
      R"("extension": [{"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-review-date", "valueDate": "2026-06-01"},)");
  Outcome o = checkPlan(s);
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.extension[1]", "profile.max",
                       "ACP-CarePlan: CarePlan.extension:reviewDate max 1, found 2"));
  EXPECT_EQ(o.issues.size(), 1u) << dump(o.issues);
}

TEST(ProfileAcpCarePlan, WrongValueTypeOnDecisionValue) {
  std::string s = plan();
  replace(
      s,
      R"("valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "450476008"}]})",
      R"("valueString": "Not for CPR")");
  Outcome o = checkPlan(s);
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.activity[0].detail.extension[0].valueString",
                       "profile.type",
                       "acp-decision-value: Extension.value[x] type string is not allowed "
                       "(allowed: CodeableConcept)"));
  EXPECT_EQ(o.issues.size(), 1u) << dump(o.issues);
}

TEST(ProfileAcpCarePlan, ExtensionWithoutValueAndWrongDateType) {
  std::string s = plan();
  replace(s, R"("valueDate": "2025-11-02")", R"("valueDateTime": "2025-11-02T10:00:00Z")");
  Outcome o = checkPlan(s);
  EXPECT_TRUE(
      hasIssue(o.issues, "CarePlan.activity[0].detail.extension[1].valueDateTime", "profile.type"));

  s = plan();
  replace(
      s,
      R"({"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-date", "valueDate": "2025-11-02"})",
      R"({"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-date",
              "extension": [{"url": "note", "valueString": "x"}]})");
  o = checkPlan(s);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.activity[0].detail.extension[1].value", "profile.min",
                       "acp-decision-date: Extension.value[x] min 1, found 0"));
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.activity[0].detail.extension[1].extension[0]",
                       "profile.max", "acp-decision-date: Extension.extension max 0, found 1"));
}

TEST(ProfileAcpCarePlan, ExtensionsOutsideTheirContext) {
  std::string s = plan();
  // A decision date on the plan itself, a review date on an activity.
  replace(
      s, R"({"url": "https://acp-gateway.nhs.uk/StructureDefinition/source-order")",
      R"({"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-date", "valueDate": "2025-01-01"},
             {"url": "https://acp-gateway.nhs.uk/StructureDefinition/source-order")");
  replace(
      s,
      R"({"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-date", "valueDate": "2025-11-02"})",
      R"({"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-review-date", "valueDate": "2025-11-02"})");
  Outcome o = checkPlan(s);
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(
      hasIssue(o.issues, "CarePlan.extension[1]", "profile.extension-context",
               "acp-decision-date: not allowed on CarePlan (context: CarePlan.activity.detail)"));
  EXPECT_TRUE(
      hasIssue(o.issues, "CarePlan.activity[0].detail.extension[1]", "profile.extension-context",
               "acp-review-date: not allowed on CarePlan.activity.detail (context: CarePlan)"));
  EXPECT_EQ(o.issues.size(), 2u) << dump(o.issues);
}

TEST(ProfileAcpCarePlan, IntentNotPlan) {
  std::string s = plan();
  replace(s, R"("intent": "plan")", R"("intent": "proposal")");
  Outcome o = checkPlan(s);
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.intent", "profile.fixed",
                       "ACP-CarePlan: CarePlan.intent must be \"plan\", found \"proposal\""));
  EXPECT_EQ(o.issues.size(), 1u) << dump(o.issues);
}

TEST(ProfileAcpCarePlan, UnknownActivityCode) {
  // Extensible: another code system or text is fine, but not a code acp-item does not define.
  std::string s = plan();
  replace(s, R"("code": "resuscitation")", R"("code": "resus")");
  Outcome o = checkPlan(s);
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.activity[0].detail.code.coding[0].code",
                       "profile.code-invalid",
                       "ACP-CarePlan: CarePlan.activity.detail.code code 'resus' is not in the "
                       "extensible value set https://acp-gateway.nhs.uk/ValueSet/acp-item"));
  EXPECT_EQ(o.issues.size(), 1u) << dump(o.issues);
}

TEST(ProfileAcpCarePlan, UnknownActivityCodeUnderARequiredBinding) {
  const std::string strict = "https://example.org/StructureDefinition/Test-CarePlan-Strict";
  // The plan's community activity and its text-only activity have no acp-item code.
  Outcome o = checkPlan(plan(), strict);
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.activity[1].detail.code", "profile.code-missing",
                       "Test-CarePlan-Strict: CarePlan.activity.detail.code needs a coding from "
                       "the required value set https://acp-gateway.nhs.uk/ValueSet/acp-item"));
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.activity[2].detail.code", "profile.code-missing"));
  EXPECT_EQ(o.issues.size(), 2u) << dump(o.issues);

  std::string s = plan();
  replace(s, R"("code": "resuscitation")", R"("code": "resus")");
  o = checkPlan(s, strict);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.activity[0].detail.code.coding[0].code",
                       "profile.code-invalid",
                       "Test-CarePlan-Strict: CarePlan.activity.detail.code code 'resus' is not "
                       "in the required value set https://acp-gateway.nhs.uk/ValueSet/acp-item"));
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.activity[0].detail.code.coding[0].code",
                       "profile.code-invalid",
                       "ACP-CarePlan: CarePlan.activity.detail.code code 'resus' is not in the "
                       "extensible value set https://acp-gateway.nhs.uk/ValueSet/acp-item"));
}

TEST(ProfileAcpCarePlan, SubjectMissingOrNotAPatient) {
  std::string s = plan();
  replace(s, R"("subject": {"reference": "Patient/pat-1"},)", "");
  json::Value v = parseJson(s);
  Outcome o = check(v, kAcpCarePlan);  // (the base R4 validator reports it too)
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.subject", "profile.min",
                       "ACP-CarePlan: CarePlan.subject min 1, found 0"));
  EXPECT_EQ(o.issues.size(), 1u) << dump(o.issues);

  s = plan();
  replace(s, R"("reference": "Patient/pat-1")", R"("reference": "Group/g1")");
  o = checkPlan(s);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.subject.reference", "profile.reference-target",
                       "ACP-CarePlan: CarePlan.subject must refer to Patient, found Group"));
  // Absolute URLs and logical references by type are read too.
  s = plan();
  replace(s, R"("reference": "Patient/pat-1")",
          R"("reference": "https://example.org/fhir/Group/g1/_history/2")");
  o = checkPlan(s);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.subject.reference", "profile.reference-target"));
  s = plan();
  replace(
      s, R"("reference": "Patient/pat-1")",
      R"("type": "Patient", "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9912003888"})");
  o = checkPlan(s);
  EXPECT_TRUE(o.ok) << dump(o.issues);
}

TEST(ProfileAcpCarePlan, CardinalityOnNestedPathsPerParentOccurrence) {
  std::string s = plan();
  // The second activity loses its code; the first gets two decision values.
  replace(
      s,
      R"("code": {"coding": [{"system": "https://acp-gateway.nhs.uk/CodeSystem/community-activity", "code": "ccn01"}]},)",
      "");
  replace(s, R"("extension": [
          {"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-value",)",
          R"("extension": [
          {"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-value", "valueCodeableConcept": {"text": "x"}},
          {"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-value",)");
  Outcome o = checkPlan(s);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.activity[1].detail.code", "profile.min",
                       "ACP-CarePlan: CarePlan.activity.detail.code min 1, found 0"));
  EXPECT_TRUE(
      hasIssue(o.issues, "CarePlan.activity[0].detail.extension[1]", "profile.max",
               "ACP-CarePlan: CarePlan.activity.detail.extension:decisionValue max 1, found 2"));
  EXPECT_EQ(o.issues.size(), 2u) << dump(o.issues);
}

TEST(ProfileAcpCarePlan, StatusBindingAndUnknownExtensionsAreFine) {
  std::string s = plan();
  replace(s, R"("extension": [)",
          R"("extension": [{"url": "https://example.org/unknown", "valueBoolean": true},)");
  Outcome o = checkPlan(s);
  EXPECT_TRUE(o.ok) << dump(o.issues);
  EXPECT_TRUE(o.issues.empty()) << dump(o.issues);
  // A status outside request-status (the base validator says so too).
  s = plan();
  replace(s, R"("status": "active", "intent")", R"("status": "planned", "intent")");
  o = check(parseJson(s), kAcpCarePlan);
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.status", "profile.code-invalid"));
}

// ---- UKCore-Patient ---------------------------------------------------------------------------

json::Value richardSmith() { return dataXml("UKCore-Patient-RichardSmith-Example.xml"); }

json::Value& identifier0(json::Value& p) { return p.find("identifier")->items()[0]; }

TEST(ProfileUkCorePatient, TwoNhsNumbersAndAnNhsNumberWithoutValue) {
  json::Value p = richardSmith();
  json::Value second = identifier0(p);
  p.find("identifier")->push(second);
  expectValidR4(p);
  Outcome o = check(p, kUk + "UKCore-Patient");
  EXPECT_TRUE(hasIssue(o.issues, "Patient.identifier[1]", "profile.max",
                       "UKCore-Patient: Patient.identifier:nhsNumber max 1, found 2"));
  EXPECT_EQ(o.issues.size(), 1u) << dump(o.issues);

  p = richardSmith();
  identifier0(p).erase("value");
  expectValidR4(p);
  o = check(p, kUk + "UKCore-Patient");
  EXPECT_TRUE(hasIssue(o.issues, "Patient.identifier[0].value", "profile.min",
                       "UKCore-Patient: Patient.identifier:nhsNumber.value min 1, found 0"));

  // Other identifiers are not NHS numbers: the slice does not apply to them.
  p = richardSmith();
  identifier0(p).set("system", json::Value::makeString("https://example.org/mrn"));
  identifier0(p).erase("value");
  o = check(p, kUk + "UKCore-Patient");
  EXPECT_TRUE(o.ok) << dump(o.issues);
}

TEST(ProfileUkCorePatient, VerificationStatusExtension) {
  // Wrong value type, per Extension-UKCore-NHSNumberVerificationStatus.
  json::Value p = richardSmith();
  json::Value& ext = identifier0(p).find("extension")->items()[0];
  ext.erase("valueCodeableConcept");
  ext.set("valueCode", json::Value::makeString("01"));
  expectValidR4(p);
  Outcome o = check(p, kUk + "UKCore-Patient");
  EXPECT_TRUE(hasIssue(o.issues, "Patient.identifier[0].extension[0].valueCode", "profile.type"));

  // Twice on one identifier.
  p = richardSmith();
  json::Value copy = identifier0(p).find("extension")->items()[0];
  identifier0(p).find("extension")->push(copy);
  o = check(p, kUk + "UKCore-Patient");
  EXPECT_TRUE(hasIssue(
      o.issues, "Patient.identifier[0].extension[1]", "profile.max",
      "UKCore-Patient: Patient.identifier:nhsNumber.extension:nhsNumberVerificationStatus max 1, "
      "found 2"));

  // On the patient instead of the identifier: its context is Patient.identifier.
  p = richardSmith();
  p.find("extension")->push(copy);
  o = check(p, kUk + "UKCore-Patient");
  EXPECT_TRUE(hasIssue(o.issues, "Patient.extension[4]", "profile.extension-context",
                       "Extension-UKCore-NHSNumberVerificationStatus: not allowed on Patient "
                       "(context: Patient.identifier)"));
}

TEST(ProfileUkCorePatient, EthnicCategoryAtMostOnceAndOnlyOnPatients) {
  json::Value p = richardSmith();
  json::Value eth = p.find("extension")->items()[0];
  p.find("extension")->push(eth);
  Outcome o = check(p, kUk + "UKCore-Patient");
  EXPECT_TRUE(hasIssue(o.issues, "Patient.extension[4]", "profile.max",
                       "UKCore-Patient: Patient.extension:ethnicCategory max 1, found 2"));

  json::Value e = dataXml("UKCore-Encounter-InpatientEncounter-Example.xml");
  e.find("extension")->push(eth);
  expectValidR4(e);
  o = check(e, kUk + "UKCore-Encounter");
  EXPECT_TRUE(hasIssue(o.issues, "Encounter.extension[1]", "profile.extension-context"));
  EXPECT_EQ(o.issues.size(), 1u) << dump(o.issues);
}

TEST(ProfileUkCorePatient, ExtensionsInPrimitiveCompanionsAreChecked) {
  json::Value p = richardSmith();
  p.set("_birthDate", parseJson(R"({"extension": [
      {"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-review-date", "valueDate": "2026-01-01"}]})"));
  expectValidR4(p);
  Outcome o = check(p, kUk + "UKCore-Patient");
  EXPECT_TRUE(hasIssue(o.issues, "Patient.birthDate.extension[0]", "profile.extension-context",
                       "acp-review-date: not allowed on Patient.birthDate (context: CarePlan)"));
}

// ---- unknown profiles, claims, chains ---------------------------------------------------------

TEST(Profiles, UnknownProfileUrl) {
  json::Value p = richardSmith();
  IssueList issues;
  EXPECT_FALSE(validator().validate(p, "https://example.org/StructureDefinition/Nope", issues));
  EXPECT_TRUE(hasIssue(issues, "Patient", "profile.unknown",
                       "unknown profile https://example.org/StructureDefinition/Nope"));

  // A profile of another type, and an extension definition used as a profile.
  issues = IssueList();
  EXPECT_FALSE(validator().validate(p, kAcpCarePlan, issues));
  EXPECT_TRUE(hasIssue(issues, "resourceType", "profile.type-mismatch"));
  issues = IssueList();
  EXPECT_FALSE(validator().validate(p, kSd + "source-order", issues));
  EXPECT_TRUE(hasIssue(issues, "resourceType", "profile.type-mismatch"));
}

TEST(Profiles, ValidateClaimed) {
  json::Value p = richardSmith();
  p.set("meta", parseJson(R"({"profile": [
      "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient",
      "https://example.org/StructureDefinition/Nope",
      "https://acp-gateway.nhs.uk/StructureDefinition/ACP-CarePlan"]})"));
  json::Value second = identifier0(p);
  p.find("identifier")->push(second);
  IssueList issues;
  EXPECT_FALSE(validator().validateClaimed(p, issues));
  EXPECT_TRUE(hasIssue(issues, "Patient.meta.profile[1]", "profile.unknown"));
  EXPECT_TRUE(hasIssue(issues, "Patient.meta.profile[2]", "profile.type-mismatch"));
  EXPECT_TRUE(hasIssue(issues, "Patient.identifier[1]", "profile.max"));
  EXPECT_EQ(issues.size(), 3u) << dump(issues);

  // Nothing claimed: only the extension definitions apply.
  json::Value plain = parseJson(plan());
  plain.find("extension")
      ->items()[0]
      .set("url", json::Value::makeString(
                      "https://acp-gateway.nhs.uk/StructureDefinition/acp-decision-date"));
  issues = IssueList();
  EXPECT_FALSE(validator().validateClaimed(plain, issues));
  EXPECT_TRUE(hasIssue(issues, "CarePlan.extension[0]", "profile.extension-context"));
  EXPECT_EQ(issues.size(), 1u) << dump(issues);

  // ACP-CarePlan and UKCore-CarePlan claimed together: each level is checked once.
  json::Value claimed = parseJson(plan());
  claimed.set("intent", json::Value::makeString("order"));
  claimed.set("meta", parseJson(R"({"profile": [
      "https://acp-gateway.nhs.uk/StructureDefinition/ACP-CarePlan",
      "https://fhir.hl7.org.uk/StructureDefinition/UKCore-CarePlan"]})"));
  issues = IssueList();
  EXPECT_FALSE(validator().validateClaimed(claimed, issues));
  EXPECT_EQ(countCode(issues, "profile.fixed"), 1u) << dump(issues);
  EXPECT_EQ(issues.size(), 1u) << dump(issues);
}

TEST(Profiles, ChainAppliesEveryLevel) {
  const std::string nhs = "https://example.org/StructureDefinition/Test-Patient-NHS";
  const StructureDef* sd = registry()->structure(nhs);
  ASSERT_NE(sd, nullptr);
  ASSERT_EQ(sd->chain().size(), 2u);
  EXPECT_EQ(sd->chain()[1]->label, "UKCore-Patient");
  const StructureDef* strict =
      registry()->structure("https://example.org/StructureDefinition/Test-CarePlan-Strict");
  ASSERT_NE(strict, nullptr);
  EXPECT_EQ(strict->chain().size(), 3u);  // → ACP-CarePlan → UKCore-CarePlan (→ core)

  json::Value p = richardSmith();
  Outcome o = check(p, nhs);
  EXPECT_TRUE(o.ok) << dump(o.issues);
  // The slice is UK Core's (system fixed there); the min is this level's.
  identifier0(p).set("system", json::Value::makeString("https://example.org/mrn"));
  o = check(p, nhs);
  EXPECT_TRUE(hasIssue(o.issues, "Patient.identifier", "profile.min",
                       "Test-Patient-NHS: Patient.identifier:nhsNumber min 1, found 0"));
  // The lower level still applies: two NHS numbers break UK Core's max 1.
  p = richardSmith();
  json::Value second = identifier0(p);
  p.find("identifier")->push(second);
  o = check(p, nhs);
  EXPECT_TRUE(hasIssue(o.issues, "Patient.identifier[1]", "profile.max",
                       "UKCore-Patient: Patient.identifier:nhsNumber max 1, found 2"));

  // Three levels: the strict binding and ACP-CarePlan's fixed intent both apply.
  std::string s = plan();
  replace(s, R"("intent": "plan")", R"("intent": "order")");
  o = checkPlan(s, "https://example.org/StructureDefinition/Test-CarePlan-Strict");
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.intent", "profile.fixed"));
  EXPECT_TRUE(hasIssue(o.issues, "CarePlan.activity[1].detail.code", "profile.code-missing"));
}

// ---- slicing details (Test-Flag-Closed) -------------------------------------------------------

std::string flag() {
  return R"({"resourceType": "Flag", "id": "f1", "status": "active",
    "identifier": [{"system": "https://example.org/flags", "value": "1", "period": {"start": "2025-01-01"}},
                   {"system": "https://example.org/flags", "value": "0"}],
    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category", "code": "clinical"}]}],
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "736366004"}]},
    "subject": {"reference": "Patient/p1"}})";
}

const std::string kFlag = "https://example.org/StructureDefinition/Test-Flag-Closed";

TEST(ProfileSlicing, ClosedFixedExistsPatternAndTargetProfiles) {
  Outcome o = checkPlan(flag(), kFlag);
  EXPECT_TRUE(o.ok) << dump(o.issues);

  // A category matching no slice of a closed slicing; fixed means exactly equal.
  std::string s = flag();
  replace(s, R"("code": "clinical"}]}])", R"("code": "clinical", "display": "Clinical"}]}])");
  o = checkPlan(s, kFlag);
  EXPECT_TRUE(hasIssue(o.issues, "Flag.category[0]", "profile.slice-closed"));
  EXPECT_TRUE(hasIssue(o.issues, "Flag.category", "profile.min",
                       "Test-Flag-Closed: Flag.category:clinical min 1, found 0"));

  // Two identifiers with a period: the exists-sliced "current" allows one.
  s = flag();
  replace(s, R"("value": "0"})", R"("value": "0", "period": {"start": "2024-01-01"}})");
  o = checkPlan(s, kFlag);
  EXPECT_TRUE(hasIssue(o.issues, "Flag.identifier[1]", "profile.max",
                       "Test-Flag-Closed: Flag.identifier:current max 1, found 2"));

  // The pattern: a code without a SNOMED CT coding.
  s = flag();
  replace(s, R"("code": {"coding": [{"system": "http://snomed.info/sct", "code": "736366004"}]})",
          R"("code": {"text": "ACP"})");
  o = checkPlan(s, kFlag);
  EXPECT_TRUE(hasIssue(o.issues, "Flag.code", "profile.pattern"));

  // Target profiles: a core type and a known profile of Organization.
  s = flag();
  replace(s, R"("reference": "Patient/p1")", R"("reference": "Organization/o1")");
  o = checkPlan(s, kFlag);
  EXPECT_TRUE(o.ok) << dump(o.issues);
  s = flag();
  replace(s, R"("reference": "Patient/p1")", R"("reference": "Location/l1")");
  o = checkPlan(s, kFlag);
  EXPECT_TRUE(hasIssue(o.issues, "Flag.subject.reference", "profile.reference-target",
                       "Test-Flag-Closed: Flag.subject must refer to Patient, Organization, found "
                       "Location"));
}

// ---- robustness -------------------------------------------------------------------------------

// The validator expects resources the base validator accepted, but must never crash or throw
// on anything else.
TEST(Profiles, MalformedInputIsSkippedNotFatal) {
  const char* cases[] = {
      R"([])",
      R"("CarePlan")",
      R"({})",
      R"({"resourceType": 7})",
      R"({"resourceType": "NoSuchType"})",
      R"({"resourceType": "CarePlan", "category": "x", "extension": {"url": 1},
          "subject": [], "intent": {"a": 1}, "activity": [1, "x", null, {"detail": []},
          {"detail": {"extension": [null, 5, {"url": null}], "code": "resuscitation"}}]})",
      R"({"resourceType": "CarePlan", "meta": {"profile": [5, null, {}]},
          "_intent": [null], "subject": {"reference": "#"}, "category": [{"coding": "x"}]})",
      R"({"resourceType": "CarePlan", "subject": {"reference": "https://"},
          "contained": [{"resourceType": "Nope"}, 3, {"resourceType": "Patient",
            "extension": [{"url": "https://acp-gateway.nhs.uk/StructureDefinition/acp-review-date",
                           "valueDate": "2026-01-01"}]}]})",
  };
  for (const char* text : cases) {
    json::Value v = parseJson(text);
    IssueList a, b;
    validator().validate(v, kAcpCarePlan, a);
    validator().validateClaimed(v, b);
  }
  // Not a resource of the profile's type: refused as a type mismatch.
  IssueList issues;
  EXPECT_FALSE(validator().validate(parseJson("{}"), kAcpCarePlan, issues));
  EXPECT_TRUE(hasIssue(issues, "resourceType", "profile.type-mismatch"));
  // Extensions in contained resources are checked where they are.
  issues = IssueList();
  validator().validateClaimed(parseJson(cases[7]), issues);
  EXPECT_TRUE(hasIssue(issues, "CarePlan.contained[2].extension[0]", "profile.extension-context",
                       "acp-review-date: not allowed on Patient (context: CarePlan)"));
}

// ---- concurrency ------------------------------------------------------------------------------

TEST(Profiles, ConcurrentValidationGivesTheSameAnswers) {
  json::Value good = parseJson(plan());
  std::string s = plan();
  replace(s, R"("intent": "plan")", R"("intent": "order")");
  json::Value bad = parseJson(s);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        IssueList a, b;
        if (!validator().validate(good, kAcpCarePlan, a) || !a.empty()) ++failures[t];
        if (validator().validate(bad, kAcpCarePlan, b) || b.size() != 1) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace acp::profile
