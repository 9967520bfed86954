#include "gateway/model/summary.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/model/validator.h"
#include "tests/support/model_fixture.h"

namespace acp::model {
namespace {

using acp::testing::r4;
using search::SummaryMode;

json::Value parseJson(const std::string& text) {
  json::Value v;
  json::ParseError err;
  if (!json::parse(text, v, err)) ADD_FAILURE() << "test JSON does not parse: " << err.message;
  return v;
}

std::vector<std::string> keys(const json::Value& v) {
  std::vector<std::string> out;
  for (const auto& m : v.members()) out.push_back(m.first);
  return out;
}

bool isSubsetted(const json::Value& resource) {
  const json::Value* meta = resource.find("meta");
  const json::Value* tags = meta ? meta->find("tag") : nullptr;
  if (!tags) return false;
  int n = 0;
  for (const json::Value& t : tags->items())
    n += t.getString("system") == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue" &&
         t.getString("code") == "SUBSETTED";
  EXPECT_LE(n, 1) << "SUBSETTED tag repeated";
  return n == 1;
}

void expectValid(const json::Value& v) {
  static Validator validator(acp::testing::r4Shared());
  IssueList issues;
  EXPECT_TRUE(validator.validate(v, issues)) << json::write(v) << "\n"
                                             << json::write(issues.toOperationOutcome());
}

const char* kPatient = R"({
  "resourceType": "Patient",
  "id": "p1",
  "meta": {"versionId": "3", "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Richard SMITH</div>"},
  "extension": [{"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
                 "valueCodeableConcept": {"text": "Mixed"}}],
  "modifierExtension": [{"url": "http://e.org/fhir/StructureDefinition/test-patient", "valueBoolean": true}],
  "identifier": [{
    "extension": [{"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
                   "valueCodeableConcept": {"text": "verified"}}],
    "system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9912003888"}],
  "active": true,
  "name": [{"family": "SMITH", "given": ["Richard", null],
            "_given": [null, {"extension": [{"url": "http://e.org/x", "valueString": "J"}]}]}],
  "gender": "male",
  "birthDate": "1970-09-11",
  "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                "valueDateTime": "1970-09-11T07:30:00+01:00"}]},
  "maritalStatus": {"text": "Married"},
  "contact": [{"name": {"family": "Jackson"}}],
  "generalPractitioner": [{"reference": "Organization/gp"}],
  "managingOrganization": {"reference": "Organization/trust"},
  "link": [{"other": {"reference": "Patient/p0", "display": "old record"}, "type": "replaces"}]
})";

TEST(Summary, NoneFalseAndCountReturnTheResourceUnchanged) {
  json::Value p = parseJson(kPatient);
  EXPECT_EQ(applySummary(r4(), p, SummaryMode::kNone), p);
  EXPECT_EQ(applySummary(r4(), p, SummaryMode::kFalse), p);
  EXPECT_EQ(applySummary(r4(), p, SummaryMode::kCount), p);
}

TEST(Summary, TrueKeepsSummaryElementsRecursively) {
  json::Value s = applySummary(r4(), parseJson(kPatient), SummaryMode::kTrue);
  EXPECT_EQ(keys(s), (std::vector<std::string>{"resourceType", "id", "meta", "modifierExtension",
                                               "identifier", "active", "name", "gender",
                                               "birthDate", "managingOrganization", "link"}));
  EXPECT_TRUE(isSubsetted(s));
  EXPECT_EQ(s.find("meta")->getString("versionId"), "3");
  EXPECT_NE(s.find("meta")->find("profile"), nullptr);
  // Inside datatypes too: Identifier.extension is not a summary element.
  const json::Value& id = s.find("identifier")->items()[0];
  EXPECT_EQ(keys(id), (std::vector<std::string>{"system", "value"}));
  // The `_given` companion goes, and with it the null slot it explained.
  const json::Value& name = s.find("name")->items()[0];
  EXPECT_EQ(json::write(name), R"({"family":"SMITH","given":["Richard"]})");
  // Backbone children follow their own flags (Patient.link.other / type are summary).
  EXPECT_EQ(json::write(s.find("link")->items()[0]),
            R"({"other":{"reference":"Patient/p0","display":"old record"},"type":"replaces"})");
  expectValid(s);
}

TEST(Summary, TrueDropsObjectsLeftEmpty) {
  json::Value s = applySummary(r4(), parseJson(R"({"resourceType":"Patient",
    "identifier":[{"extension":[{"url":"http://e.org/x","valueString":"y"}]},{"value":"1"}]})"),
                               SummaryMode::kTrue);
  EXPECT_EQ(json::write(*s.find("identifier")), R"([{"value":"1"}])");
  expectValid(s);
}

TEST(Summary, TrueWithNothingToRemoveIsNotTagged) {
  json::Value p = parseJson(R"({"resourceType":"Patient","id":"p","gender":"male",
                               "name":[{"family":"A"}]})");
  json::Value s = applySummary(r4(), p, SummaryMode::kTrue);
  EXPECT_EQ(s, p);
  EXPECT_FALSE(isSubsetted(s));
}

TEST(Summary, TrueKeepsMandatoryElementsOfSummaryParents) {
  json::Value s = applySummary(r4(), parseJson(R"({"resourceType":"CarePlan","id":"c",
    "status":"active","intent":"plan","subject":{"reference":"Patient/p"},"title":"ACP",
    "activity":[{"detail":{"status":"scheduled"}}],"note":[{"text":"x"}]})"),
                               SummaryMode::kTrue);
  EXPECT_EQ(keys(s), (std::vector<std::string>{"resourceType", "id", "meta", "status", "intent",
                                               "subject", "title"}));
  EXPECT_TRUE(isSubsetted(s));
  expectValid(s);
}

TEST(Summary, TrueSummarisesBundleEntries) {
  json::Value s = applySummary(r4(), parseJson(R"({"resourceType":"Bundle","type":"searchset",
    "entry":[{"fullUrl":"https://e.org/Patient/p","resource":
      {"resourceType":"Patient","id":"p","text":{"status":"empty","div":"<div>x</div>"},"gender":"male"},
      "search":{"mode":"match"}}]})"),
                               SummaryMode::kTrue);
  const json::Value& entry = s.find("entry")->items()[0];
  const json::Value& patient = *entry.find("resource");
  EXPECT_EQ(patient.find("text"), nullptr);
  EXPECT_TRUE(isSubsetted(patient));
  EXPECT_NE(entry.find("search"), nullptr);
  expectValid(s);
}

TEST(Summary, TextKeepsTextIdMetaAndMandatoryTopLevelElements) {
  json::Value s = applySummary(r4(), parseJson(R"({"resourceType":"CarePlan","id":"c",
    "text":{"status":"generated","div":"<div>ACP</div>"},
    "status":"active","intent":"plan","subject":{"reference":"Patient/p","display":"A"},
    "title":"ACP","activity":[{"detail":{"status":"scheduled"}}]})"),
                               SummaryMode::kText);
  EXPECT_EQ(keys(s), (std::vector<std::string>{"resourceType", "id", "meta", "text", "status",
                                               "intent", "subject"}));
  EXPECT_EQ(s.find("subject")->getString("display"), "A");  // kept whole
  EXPECT_TRUE(isSubsetted(s));
  expectValid(s);
}

TEST(Summary, DataRemovesTextOnly) {
  json::Value p = parseJson(kPatient);
  json::Value s = applySummary(r4(), p, SummaryMode::kData);
  EXPECT_EQ(s.find("text"), nullptr);
  EXPECT_TRUE(isSubsetted(s));
  EXPECT_EQ(s.members().size(), p.members().size() - 1);  // text gone, meta already there
  EXPECT_NE(s.find("_birthDate"), nullptr);
  EXPECT_NE(s.find("contact"), nullptr);
  expectValid(s);
  json::Value noText = parseJson(R"({"resourceType":"Patient","gender":"male"})");
  json::Value d = applySummary(r4(), noText, SummaryMode::kData);
  EXPECT_EQ(d, noText);
  EXPECT_FALSE(isSubsetted(d));
}

TEST(Summary, TagIsAddedOnceAndMetaPlacedAfterId) {
  json::Value tagged = parseJson(
      R"({"resourceType":"Patient","id":"p","text":{"status":"empty","div":"<div>x</div>"},
    "meta":{"tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"},
                   {"system":"http://e.org/tags","code":"keep"}]}})");
  json::Value s = applySummary(r4(), tagged, SummaryMode::kData);
  EXPECT_TRUE(isSubsetted(s));
  EXPECT_EQ(s.find("meta")->find("tag")->items().size(), 2u);
  json::Value fresh = applySummary(
      r4(),
      parseJson(
          R"({"resourceType":"Patient","id":"p","text":{"status":"empty","div":"<div>x</div>"},"gender":"male"})"),
      SummaryMode::kData);
  EXPECT_EQ(keys(fresh), (std::vector<std::string>{"resourceType", "id", "meta", "gender"}));
}

TEST(Summary, UnknownResourceTypeIsReturnedUnchanged) {
  json::Value v = parseJson(R"({"resourceType":"Nonsense","a":1})");
  EXPECT_EQ(applySummary(r4(), v, SummaryMode::kTrue), v);
  EXPECT_EQ(applyElements(r4(), v, {"a"}), v);
}

TEST(Elements, KeepsNamedMandatoryAndModifierElements) {
  json::Value s = applyElements(r4(), parseJson(kPatient), {"name", "birthDate"});
  EXPECT_EQ(keys(s),
            (std::vector<std::string>{"resourceType", "id", "meta", "modifierExtension", "active",
                                      "name", "birthDate", "_birthDate", "link"}));
  EXPECT_TRUE(isSubsetted(s));
  expectValid(s);
  json::Value c = applyElements(r4(), parseJson(R"({"resourceType":"CarePlan","status":"active",
    "intent":"plan","subject":{"reference":"Patient/p"},"title":"ACP","description":"d"})"),
                                {"title"});
  EXPECT_EQ(keys(c), (std::vector<std::string>{"resourceType", "meta", "status", "intent",
                                               "subject", "title"}));
}

TEST(Elements, ChoiceAndDottedNames) {
  json::Value p = parseJson(R"({"resourceType":"Patient","deceasedDateTime":"2020",
    "multipleBirthInteger":2,"name":[{"family":"A","given":["B"]}],"gender":"male"})");
  json::Value s = applyElements(r4(), p, {"deceased", " name.family", "multipleBirthInteger"});
  EXPECT_EQ(keys(s), (std::vector<std::string>{"resourceType", "meta", "deceasedDateTime",
                                               "multipleBirthInteger", "name"}));
  EXPECT_EQ(json::write(*s.find("name")), R"([{"family":"A","given":["B"]}])");
  json::Value all = applyElements(r4(), p, {"deceased", "multipleBirth", "name", "gender"});
  EXPECT_EQ(all, p);
  EXPECT_FALSE(isSubsetted(all));
}

}  // namespace
}  // namespace acp::model
