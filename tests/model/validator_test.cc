#include "gateway/model/validator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/model_fixture.h"

namespace acp::model {
namespace {

std::string dump(const IssueList& list) {
  std::string s;
  for (const Issue& i : list.issues()) {
    s += "  [";
    s += severityCode(i.severity);
    s += "] " + i.type + " @ '" + i.location + "' " + i.code + ": " + i.message + "\n";
  }
  return s.empty() ? "  (no issues)\n" : s;
}

::testing::AssertionResult hasIssue(const IssueList& list, const std::string& type,
                                    const std::string& location, const std::string& code) {
  for (const Issue& i : list.issues())
    if (i.type == type && i.location == location && i.code == code)
      return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "no issue " << type << " @ '" << location << "' " << code << "; got:\n"
         << dump(list);
}

size_t countCode(const IssueList& list, const std::string& code) {
  size_t n = 0;
  for (const Issue& i : list.issues()) n += i.code == code;
  return n;
}

const Validator& validator() {
  static Validator v(acp::testing::r4Shared());
  return v;
}

json::Value parseJson(const std::string& text) {
  json::Value v;
  json::ParseError err;
  if (!json::parse(text, v, err)) ADD_FAILURE() << "test JSON does not parse: " << err.message;
  return v;
}

struct Outcome {
  bool ok = false;
  IssueList issues;
};

Outcome run(const std::string& text, std::string_view expectedType = {}) {
  Outcome o;
  o.ok = validator().validate(parseJson(text), o.issues, expectedType);
  return o;
}

void expectValid(const std::string& text) {
  Outcome o = run(text);
  EXPECT_TRUE(o.ok) << dump(o.issues);
  EXPECT_FALSE(o.issues.hasErrors()) << dump(o.issues);
}

void expectError(const std::string& text, const std::string& type, const std::string& location,
                 const std::string& code) {
  Outcome o = run(text);
  EXPECT_FALSE(o.ok) << "expected " << code << " @ " << location << "\n" << dump(o.issues);
  EXPECT_TRUE(hasIssue(o.issues, type, location, code));
}

// ---- realistic valid resources ------------------------------------------------------------

const char* kUkPatient = R"({
  "resourceType": "Patient",
  "id": "uk-patient-1",
  "meta": {
    "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"],
    "lastUpdated": "2024-01-05T10:00:00Z"
  },
  "text": {
    "status": "generated",
    "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Richard <b>SMITH</b>, born 11 Sep 1970</p></div>"
  },
  "extension": [
    {
      "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
      "valueCodeableConcept": {
        "coding": [{
          "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland",
          "code": "G",
          "display": "Mixed - Any other mixed background"
        }]
      }
    },
    {
      "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ContactPreference",
      "extension": [
        {
          "url": "PreferredContactMethod",
          "valueCodeableConcept": {
            "coding": [{
              "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-PreferredContactMethod",
              "code": "3",
              "display": "Telephone"
            }]
          }
        },
        {
          "url": "PreferredContactTimes",
          "valueTiming": {
            "repeat": {"frequency": 1, "period": 1, "periodUnit": "d",
                       "dayOfWeek": ["mon", "wed", "fri"], "when": ["MORN"]}
          }
        }
      ]
    }
  ],
  "identifier": [{
    "extension": [{
      "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
      "valueCodeableConcept": {
        "coding": [{
          "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
          "code": "01",
          "display": "Number present and verified"
        }]
      }
    }],
    "system": "https://fhir.nhs.uk/Id/nhs-number",
    "value": "9912003888"
  }],
  "active": true,
  "name": [{"use": "official", "family": "SMITH", "given": ["Richard", "John"],
            "prefix": ["Mr"], "period": {"start": "1970-09-11"}}],
  "telecom": [
    {"system": "phone", "value": "01131231234", "use": "home", "rank": 1},
    {"system": "email", "value": "richard.smith@example.nhs.uk", "use": "home"}
  ],
  "gender": "male",
  "birthDate": "1970-09-11",
  "_birthDate": {
    "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                   "valueDateTime": "1970-09-11T07:30:00+01:00"}]
  },
  "address": [{"use": "home", "type": "both", "line": ["4 Sandmoor Drive"], "city": "LEEDS",
               "district": "West Yorkshire", "postalCode": "LS17 7DF", "country": "GB"}],
  "maritalStatus": {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]
  },
  "contact": [{
    "relationship": [{
      "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N",
                  "display": "Next-of-Kin"}]
    }],
    "name": {"use": "official", "family": "Jackson", "given": ["Jane"], "prefix": ["Miss"]},
    "telecom": [{"system": "phone", "value": "07777123123", "use": "mobile"}],
    "address": {"use": "home", "line": ["5 Alwoodley Road"], "city": "LEEDS",
                "postalCode": "LS17 6EH"},
    "gender": "female"
  }],
  "communication": [{
    "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en-GB"}]},
    "preferred": true
  }],
  "generalPractitioner": [{
    "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y12345"},
    "display": "Moorside Surgery"
  }],
  "managingOrganization": {"reference": "Organization/ods-Y12345"}
})";

const char* kEncounter = R"({
  "resourceType": "Encounter",
  "id": "enc-1",
  "identifier": [{"system": "https://tools.ietf.org/html/rfc4122",
                  "value": "6f40cebe-7b55-461d-9d7f-eadb4c065762"}],
  "status": "finished",
  "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP",
            "display": "inpatient encounter"},
  "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "185212007",
                        "display": "Seen in hospital ward"}]}],
  "subject": {"reference": "Patient/uk-patient-1"},
  "participant": [{
    "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                          "code": "ATND"}]}],
    "individual": {"reference": "Practitioner/dr-gose"}
  }],
  "period": {"start": "2019-12-10T13:00:00+00:00", "end": "2019-12-11T13:00:00+00:00"},
  "reasonCode": [{"coding": [{"system": "http://snomed.info/sct", "code": "7922000"}]}],
  "hospitalization": {
    "dischargeDisposition": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-DischargeDestinationEngland", "code": "19"}]}
  },
  "location": [{"location": {"reference": "Location/ward-4"}, "status": "completed"}],
  "serviceProvider": {"reference": "Organization/ods-RR8"}
})";

const char* kCarePlan = R"({
  "resourceType": "CarePlan",
  "id": "acp-1",
  "status": "active",
  "intent": "plan",
  "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "736366004",
                            "display": "Advance care plan"}]}],
  "title": "Advance care plan",
  "description": "Preferences for care at the end of life",
  "subject": {"reference": "Patient/uk-patient-1", "display": "Richard SMITH"},
  "period": {"start": "2024-01-01", "end": "2025-01-01"},
  "created": "2024-01-01T09:30:00Z",
  "author": {"reference": "Practitioner/dr-gose"},
  "careTeam": [{"reference": "CareTeam/team-1"}],
  "addresses": [{"reference": "Condition/cond-1"}],
  "activity": [{
    "detail": {
      "kind": "ServiceRequest",
      "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1406631000000107"}]},
      "status": "in-progress",
      "doNotPerform": false,
      "scheduledPeriod": {"start": "2024-01-02T09:00:00+00:00"},
      "location": {"reference": "Location/home"},
      "performer": [{"reference": "Practitioner/dr-gose"}],
      "description": "Review preferred place of care"
    }
  }],
  "note": [{"text": "Discussed with *family*.", "time": "2024-01-01T10:00:00Z"}]
})";

const char* kTransaction = R"({
  "resourceType": "Bundle",
  "type": "transaction",
  "entry": [
    {
      "fullUrl": "urn:uuid:9a3c5f2e-1d4b-4c8a-9e6f-2b7d8c1a0e51",
      "resource": {
        "resourceType": "Patient",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9912003888"}],
        "name": [{"family": "SMITH", "given": ["Richard"]}]
      },
      "request": {"method": "POST", "url": "Patient",
                  "ifNoneExist": "identifier=https://fhir.nhs.uk/Id/nhs-number|9912003888"}
    },
    {
      "fullUrl": "urn:uuid:0b1e2d3c-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
      "resource": {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": "urn:uuid:9a3c5f2e-1d4b-4c8a-9e6f-2b7d8c1a0e51"}
      },
      "request": {"method": "POST", "url": "CarePlan"}
    },
    {
      "resource": {
        "resourceType": "Flag",
        "status": "active",
        "code": {"text": "DNACPR in place"},
        "subject": {"reference": "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9912003888"}
      },
      "request": {"method": "PUT", "url": "Flag/dnacpr-1"}
    },
    {"request": {"method": "DELETE", "url": "Flag/old-flag"}}
  ]
})";

TEST(Validator, AcceptsRealisticUkPatient) { expectValid(kUkPatient); }
TEST(Validator, AcceptsEncounter) { expectValid(kEncounter); }
TEST(Validator, AcceptsCarePlan) { expectValid(kCarePlan); }
TEST(Validator, AcceptsTransactionBundleWithUuidFullUrls) { expectValid(kTransaction); }

// ---- minimal instances of the resource types the gateway serves ---------------------------

struct Minimal {
  const char* type;
  const char* json;
};

const Minimal kMinimal[] = {
    {"Patient", R"({"resourceType":"Patient"})"},
    {"Encounter", R"({"resourceType":"Encounter","status":"planned",
      "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"}})"},
    {"CarePlan", R"({"resourceType":"CarePlan","status":"draft","intent":"plan",
      "subject":{"reference":"Patient/p1"}})"},
    {"CareTeam", R"({"resourceType":"CareTeam"})"},
    {"Condition", R"({"resourceType":"Condition","subject":{"reference":"Patient/p1"}})"},
    {"Organization", R"({"resourceType":"Organization"})"},
    {"Practitioner", R"({"resourceType":"Practitioner"})"},
    {"PractitionerRole", R"({"resourceType":"PractitionerRole"})"},
    {"RelatedPerson", R"({"resourceType":"RelatedPerson","patient":{"reference":"Patient/p1"}})"},
    {"Provenance", R"({"resourceType":"Provenance","target":[{"reference":"CarePlan/c1"}],
      "recorded":"2024-01-01T10:00:00Z","agent":[{"who":{"reference":"Practitioner/d1"}}]})"},
    {"Flag", R"({"resourceType":"Flag","status":"active","code":{"text":"Risk"},
      "subject":{"reference":"Patient/p1"}})"},
    {"Consent", R"({"resourceType":"Consent","status":"active",
      "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
      "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}]})"},
    {"AuditEvent", R"({"resourceType":"AuditEvent",
      "type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest"},
      "recorded":"2024-01-01T10:00:00.123+00:00","agent":[{"requestor":true}],
      "source":{"observer":{"reference":"Device/gateway"}}})"},
    {"Subscription", R"({"resourceType":"Subscription","status":"requested","reason":"ACP changes",
      "criteria":"CarePlan?category=736366004","channel":{"type":"rest-hook"}})"},
    {"Bundle", R"({"resourceType":"Bundle","type":"collection"})"},
    {"OperationOutcome", R"({"resourceType":"OperationOutcome",
      "issue":[{"severity":"error","code":"structure"}]})"},
    {"Parameters", R"({"resourceType":"Parameters"})"},
};

TEST(Validator, MinimalInstancesOfServedTypesPass) {
  for (const Minimal& m : kMinimal) {
    SCOPED_TRACE(m.type);
    Outcome o = run(m.json, m.type);
    EXPECT_TRUE(o.ok) << dump(o.issues);
    EXPECT_TRUE(o.issues.empty()) << dump(o.issues);
  }
}

// Removing any one top-level required element of a minimal instance is reported as
// validate.required at "<Type>.<element>": the required elements come from the model.
TEST(Validator, EachRequiredTopLevelElementIsEnforced) {
  const Model& model = acp::testing::r4();
  int checked = 0;
  for (const Minimal& m : kMinimal) {
    const TypeDef* type = model.type(m.type);
    ASSERT_NE(type, nullptr);
    for (const ElementDef& el : type->elements) {
      if (el.min == 0) continue;
      json::Value v = parseJson(m.json);
      ASSERT_TRUE(v.erase(el.name)) << m.type << "." << el.name << " missing from the fixture";
      IssueList issues;
      EXPECT_FALSE(validator().validate(v, issues));
      EXPECT_TRUE(
          hasIssue(issues, "required", std::string(m.type) + "." + el.name, "validate.required"));
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

// ---- resourceType ------------------------------------------------------------------------

TEST(Validator, ResourceTypeChecks) {
  expectError(R"({"id":"x"})", "required", "resourceType", "validate.resource-type-missing");
  expectError(R"({"resourceType":7})", "structure", "resourceType", "validate.json-type");
  expectError(R"({"resourceType":"Patinet"})", "value", "resourceType",
              "validate.resource-type-unknown");
  expectError(R"({"resourceType":"DomainResource"})", "value", "resourceType",
              "validate.resource-type-unknown");
  expectError(R"(["Patient"])", "structure", "", "validate.object-expected");
  Outcome o = run(R"({"resourceType":"Patient"})", "Patient");
  EXPECT_TRUE(o.ok);
  o = run(R"({"resourceType":"Patient"})", "CarePlan");
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "invalid", "resourceType", "validate.type-mismatch"));
}

TEST(Validator, ReturnsTrueWhenThisCallAddsNoError) {
  IssueList issues;
  issues.error("structure", "", "earlier problem", "parse.json.syntax");
  EXPECT_TRUE(validator().validate(parseJson(R"({"resourceType":"Patient"})"), issues));
  EXPECT_EQ(issues.size(), 1u);
}

TEST(Validator, WithoutModelReportsProcessingError) {
  Validator none(nullptr);
  IssueList issues;
  EXPECT_FALSE(none.validate(parseJson(R"({"resourceType":"Patient"})"), issues));
  EXPECT_TRUE(hasIssue(issues, "processing", "", "validate.no-model"));
}

// ---- unknown elements and JSON kinds -------------------------------------------------------

TEST(Validator, UnknownElements) {
  expectError(R"({"resourceType":"Patient","foo":1})", "structure", "Patient.foo",
              "validate.unknown-element");
  expectError(R"({"resourceType":"Patient","name":[{"family":"A","surname":"B"}]})", "structure",
              "Patient.name[0].surname", "validate.unknown-element");
  expectError(R"({"resourceType":"Patient","_foo":{"id":"a"}})", "structure", "Patient._foo",
              "validate.unknown-element");
  // A choice element needs its type suffix.
  expectError(R"({"resourceType":"Patient","deceased":true})", "structure", "Patient.deceased",
              "validate.unknown-element");
  // resourceType is only a property of a resource.
  expectError(R"({"resourceType":"Patient","name":[{"resourceType":"HumanName"}]})", "structure",
              "Patient.name[0].resourceType", "validate.unknown-element");
  expectValid(R"({"resourceType":"Patient","deceasedBoolean":false})");
}

TEST(Validator, ArraysAndSingleValues) {
  expectError(R"({"resourceType":"Patient","name":{"family":"A"}})", "structure", "Patient.name",
              "validate.array-expected");
  expectError(R"({"resourceType":"Patient","gender":["male"]})", "structure", "Patient.gender",
              "validate.array-unexpected");
  expectError(R"({"resourceType":"Patient","name":[{"given":"Ann"}]})", "structure",
              "Patient.name[0].given", "validate.array-expected");
  expectValid(R"({"resourceType":"Patient","name":[{"given":["Ann"]}],"gender":"female"})");
}

TEST(Validator, ObjectsAndPrimitivesInTheRightPlaces) {
  expectError(R"({"resourceType":"Patient","name":["Smith"]})", "structure", "Patient.name[0]",
              "validate.object-expected");
  expectError(R"({"resourceType":"Patient","birthDate":{"value":"1970"}})", "structure",
              "Patient.birthDate", "validate.primitive-expected");
  expectError(R"({"resourceType":"Patient","name":[{"given":[["Ann"]]}]})", "structure",
              "Patient.name[0].given[0]", "validate.primitive-expected");
}

TEST(Validator, PrimitiveJsonTypes) {
  expectError(R"({"resourceType":"Patient","active":"true"})", "structure", "Patient.active",
              "validate.json-type");
  expectError(R"({"resourceType":"Patient","birthDate":19700911})", "structure",
              "Patient.birthDate", "validate.json-type");
  expectError(R"({"resourceType":"Patient","multipleBirthInteger":"2"})", "structure",
              "Patient.multipleBirthInteger", "validate.json-type");
  expectError(R"({"resourceType":"Patient","telecom":[{"rank":"1"}]})", "structure",
              "Patient.telecom[0].rank", "validate.json-type");
  expectValid(R"({"resourceType":"Patient","active":true,"multipleBirthInteger":2,
                  "telecom":[{"system":"phone","value":"1","rank":1}]})");
}

TEST(Validator, EmptyObjectsArraysAndStrings) {
  expectError(R"({"resourceType":"Patient","maritalStatus":{}})", "structure",
              "Patient.maritalStatus", "validate.empty-object");
  expectError(R"({"resourceType":"Patient","name":[]})", "structure", "Patient.name",
              "validate.empty-array");
  expectError(R"({"resourceType":"Patient","name":[{"family":""}]})", "value",
              "Patient.name[0].family", "validate.empty-string");
  expectError(R"({"resourceType":"Patient","name":[{"given":["A",""]}]})", "value",
              "Patient.name[0].given[1]", "validate.empty-string");
  expectError(R"({"resourceType":"Patient","_birthDate":{}})", "structure", "Patient.birthDate",
              "validate.empty-object");
}

TEST(Validator, NullValues) {
  expectError(R"({"resourceType":"Patient","birthDate":null})", "structure", "Patient.birthDate",
              "validate.null-value");
  expectError(R"({"resourceType":"Patient","name":[{"given":["A",null]}]})", "structure",
              "Patient.name[0].given[1]", "validate.null-value");
  expectError(R"({"resourceType":"Patient","name":[null]})", "structure", "Patient.name[0]",
              "validate.null-value");
  expectError(R"({"resourceType":"Patient","maritalStatus":null})", "structure",
              "Patient.maritalStatus", "validate.null-value");
  expectError(R"({"resourceType":"Patient","_birthDate":null})", "structure", "Patient.birthDate",
              "validate.null-value");
  expectError(R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":null}]})",
              "structure", "Bundle.entry[0].resource", "validate.null-value");
  // A null value slot is fine when the companion carries an extension at that index.
  expectValid(R"({"resourceType":"Patient","name":[{"given":["A",null],
    "_given":[null,{"extension":[{"url":"http://example.org/x","valueString":"initial"}]}]}]})");
  // Both null at the same index.
  expectError(R"({"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,null]}]})",
              "structure", "Patient.name[0].given[1]", "validate.null-value");
}

// ---- `_name` companions ---------------------------------------------------------------------

TEST(Validator, PrimitiveExtensionCompanions) {
  expectValid(R"({"resourceType":"Patient","_birthDate":{"id":"bd",
    "extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}})");
  expectError(R"({"resourceType":"Patient","_name":[{"id":"n"}]})", "structure", "Patient._name",
              "validate.companion-not-primitive");
  expectError(R"({"resourceType":"Patient","name":[{"given":["A","B"],"_given":[null]}]})",
              "structure", "Patient.name[0].given", "validate.companion-length");
  expectError(R"({"resourceType":"Patient","name":[{"given":["A"],"_given":{"id":"x"}}]})",
              "structure", "Patient.name[0].given", "validate.array-expected");
  expectError(R"({"resourceType":"Patient","_birthDate":"x"})", "structure", "Patient.birthDate",
              "validate.object-expected");
  // Problems inside a companion are located at the primitive it extends.
  expectError(R"({"resourceType":"Patient","name":[{"given":["A","B"],
    "_given":[null,{"extension":[{"valueString":"x"}]}]}]})",
              "required", "Patient.name[0].given[1].extension[0].url", "validate.required");
  expectError(R"({"resourceType":"Patient","_birthDate":{"value":"1970"}})", "structure",
              "Patient.birthDate.value", "validate.unknown-element");
  // A companion alone satisfies a required primitive (value absent, extension present).
  expectValid(R"({"resourceType":"Bundle","_type":{"extension":[
    {"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}})");
}

// ---- cardinality -----------------------------------------------------------------------------

TEST(Validator, RequiredElements) {
  expectError(R"({"resourceType":"CarePlan","status":"active","intent":"plan"})", "required",
              "CarePlan.subject", "validate.required");
  expectError(R"({"resourceType":"CarePlan","status":"active","intent":"plan",
    "subject":{"reference":"Patient/p"},"activity":[{"detail":{"kind":"Task"}}]})",
              "required", "CarePlan.activity[0].detail.status", "validate.required");
  expectError(R"({"resourceType":"Patient","extension":[{"valueString":"x"}]})", "required",
              "Patient.extension[0].url", "validate.required");
  expectError(R"({"resourceType":"Patient","text":{"status":"generated"}})", "required",
              "Patient.text.div", "validate.required");
}

// ---- primitive formats -----------------------------------------------------------------------

struct FormatCase {
  const char* json;
  const char* location;
};

TEST(Validator, PrimitiveFormatsRejected) {
  const FormatCase cases[] = {
      {R"({"resourceType":"Patient","birthDate":"1970-02-30"})", "Patient.birthDate"},
      {R"({"resourceType":"Patient","birthDate":"2023-02-29"})", "Patient.birthDate"},
      {R"({"resourceType":"Patient","birthDate":"1970-9-11"})", "Patient.birthDate"},
      {R"({"resourceType":"Patient","birthDate":"0000"})", "Patient.birthDate"},
      {R"({"resourceType":"Patient","deceasedDateTime":"2020-01-01T10:00:00"})",
       "Patient.deceasedDateTime"},
      {R"({"resourceType":"Patient","deceasedDateTime":"2020-01-01T10:00Z"})",
       "Patient.deceasedDateTime"},
      {R"({"resourceType":"Patient","meta":{"lastUpdated":"2020-01-01"}})",
       "Patient.meta.lastUpdated"},
      {R"({"resourceType":"Patient","id":"bad id!"})", "Patient.id"},
      {R"({"resourceType":"Patient","id":"a123456789b123456789c123456789d123456789e123456789f123456789g1234"})",
       "Patient.id"},
      {R"({"resourceType":"Patient","multipleBirthInteger":2147483648})",
       "Patient.multipleBirthInteger"},
      {R"({"resourceType":"Patient","multipleBirthInteger":1.5})", "Patient.multipleBirthInteger"},
      {R"({"resourceType":"Patient","telecom":[{"rank":0}]})", "Patient.telecom[0].rank"},
      {R"({"resourceType":"Patient","photo":[{"size":-1}]})", "Patient.photo[0].size"},
      {R"({"resourceType":"Patient","photo":[{"data":"abc"}]})", "Patient.photo[0].data"},
      {R"({"resourceType":"Patient","language":"en  GB"})", "Patient.language"},
      {R"({"resourceType":"Patient","language":" en"})", "Patient.language"},
      {R"({"resourceType":"Patient","implicitRules":"http://example.org/a b"})",
       "Patient.implicitRules"},
      {R"({"resourceType":"Patient","name":[{"family":"A\u0001B"}]})", "Patient.name[0].family"},
      {R"({"resourceType":"Patient","text":{"status":"generated","div":"<p>hi</p>"}})",
       "Patient.text.div"},
      {R"({"resourceType":"Patient","extension":[{"url":"http://e.org/x","valueOid":"1.2.3"}]})",
       "Patient.extension[0].valueOid"},
      {R"({"resourceType":"Patient","extension":[{"url":"http://e.org/x","valueUuid":"urn:uuid:9A3C5F2E-1D4B-4C8A-9E6F-2B7D8C1A0E51"}]})",
       "Patient.extension[0].valueUuid"},
      {R"({"resourceType":"Patient","extension":[{"url":"http://e.org/x","valueTime":"25:00:00"}]})",
       "Patient.extension[0].valueTime"},
      {R"({"resourceType":"Patient","extension":[{"url":"http://e.org/x","valueUrl":"http://e.org/a\tb"}]})",
       "Patient.extension[0].valueUrl"},
      {R"({"resourceType":"CarePlan","status":"active","intent":"plan","subject":{"reference":"Patient/p"},
         "instantiatesCanonical":["http://e.org/PlanDefinition/a b"]})",
       "CarePlan.instantiatesCanonical[0]"},
  };
  for (const FormatCase& c : cases) {
    SCOPED_TRACE(c.json);
    expectError(c.json, "value", c.location, "validate.format");
  }
}

TEST(Validator, PrimitiveFormatsAccepted) {
  expectValid(R"({"resourceType":"Patient","id":"A-1.b","birthDate":"2024-02-29",
    "deceasedDateTime":"2024-02-29T23:59:60.123-05:30","meta":{"lastUpdated":"2024-01-01T00:00:00+14:00"},
    "multipleBirthInteger":-2147483648,"language":"en-GB",
    "telecom":[{"rank":2147483647}],"photo":[{"size":0,"data":"SGVsbG8h\nV29ybGQ="}],
    "extension":[
      {"url":"http://e.org/a","valueOid":"urn:oid:2.16.840.1.113883"},
      {"url":"http://e.org/b","valueUuid":"urn:uuid:9a3c5f2e-1d4b-4c8a-9e6f-2b7d8c1a0e51"},
      {"url":"http://e.org/c","valueTime":"23:59:59.5"},
      {"url":"http://e.org/d","valueDecimal":-0.50e+3},
      {"url":"http://e.org/e","valueMarkdown":"*bold*\r\n\tnext"},
      {"url":"http://e.org/f","valueInstant":"2024-01-01T12:00:00.000Z"},
      {"url":"http://e.org/g","valueDate":"2024-12"},
      {"url":"http://e.org/h","valueCode":"a b"},
      {"url":"http://e.org/i","valueBase64Binary":"AAEC"}]})");
}

TEST(Validator, StringsOverOneMegabyteAreTooLong) {
  std::string big(1024 * 1024 + 1, 'a');
  expectError(R"({"resourceType":"Patient","name":[{"family":")" + big + R"("}]})", "too-long",
              "Patient.name[0].family", "validate.string-too-long");
  std::string max(1024 * 1024, 'a');
  expectValid(R"({"resourceType":"Patient","name":[{"family":")" + max + R"("}]})");
}

TEST(Validator, NarrativeMustBeSafe) {
  auto withDiv = [](const std::string& div) {
    return R"({"resourceType":"Patient","text":{"status":"generated","div":")" + div + R"("}})";
  };
  expectError(
      withDiv("<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><script>alert(1)</script></div>"),
      "invariant", "Patient.text.div", "validate.xhtml-unsafe");
  expectError(withDiv("<div><p onclick=\\\"x()\\\">a</p></div>"), "invariant", "Patient.text.div",
              "validate.xhtml-unsafe");
  expectError(withDiv("<div><a href=\\\"java&#115;cript:x()\\\">a</a></div>"), "invariant",
              "Patient.text.div", "validate.xhtml-unsafe");
  expectError(withDiv("<div><iframe src=\\\"http://e.org\\\"></iframe></div>"), "invariant",
              "Patient.text.div", "validate.xhtml-unsafe");
  expectValid(withDiv(
      "<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><h3>Plan</h3><table><tr><td "
      "style=\\\"color:red\\\">DNACPR</td></tr></table><a href=\\\"https://e.org\\\">more</a>"
      "<img src=\\\"#pic\\\" alt=\\\"x\\\"/><!-- note --></div>"));
}

// ---- choices and extensions ------------------------------------------------------------------

TEST(Validator, OneChoiceVariantAtMost) {
  expectError(R"({"resourceType":"Patient","deceasedBoolean":true,"deceasedDateTime":"2020"})",
              "structure", "Patient.deceasedDateTime", "validate.choice-multiple");
  expectError(R"({"resourceType":"Patient","extension":[{"url":"http://e.org/x",
    "valueString":"a","valueBoolean":true}]})",
              "structure", "Patient.extension[0].valueBoolean", "validate.choice-multiple");
  expectError(R"({"resourceType":"Patient","deceasedBoolean":true,
    "_deceasedDateTime":{"id":"x"}})",
              "structure", "Patient._deceasedDateTime", "validate.choice-multiple");
  expectValid(R"({"resourceType":"Patient","deceasedBoolean":true,"_deceasedBoolean":{"id":"x"}})");
}

TEST(Validator, ExtensionHasValueOrChildrenNotBoth) {
  expectError(R"({"resourceType":"Patient","extension":[{"url":"http://e.org/x",
    "valueString":"a","extension":[{"url":"y","valueString":"b"}]}]})",
              "invariant", "Patient.extension[0]", "validate.extension-value-and-children");
}

// ---- required bindings -----------------------------------------------------------------------

TEST(Validator, RequiredBindingOnCode) {
  expectError(R"({"resourceType":"Patient","gender":"m"})", "code-invalid", "Patient.gender",
              "validate.code-invalid");
  expectError(R"({"resourceType":"CarePlan","status":"active","intent":"plan",
    "subject":{"reference":"Patient/p"},"activity":[{"detail":{"status":"started"}}]})",
              "code-invalid", "CarePlan.activity[0].detail.status", "validate.code-invalid");
  expectError(R"({"resourceType":"Patient","name":[{"use":"Official"}]})", "code-invalid",
              "Patient.name[0].use", "validate.code-invalid");
  // A preferred binding (language) is not enforced.
  expectValid(R"({"resourceType":"Patient","gender":"unknown","language":"xx-YY"})");
}

TEST(Validator, RequiredBindingOnCodeableConcept) {
  const std::string head = R"({"resourceType":"Condition","subject":{"reference":"Patient/p"},)";
  expectValid(head + R"("clinicalStatus":{"coding":[
    {"system":"http://snomed.info/sct","code":"55561003"},
    {"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}})");
  expectError(head + R"("clinicalStatus":{"coding":[
    {"system":"http://snomed.info/sct","code":"55561003"},
    {"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"bogus"}]}})",
              "code-invalid", "Condition.clinicalStatus.coding[1].code", "validate.code-invalid");
  expectError(head + R"("clinicalStatus":{"coding":[
    {"system":"http://snomed.info/sct","code":"55561003"}]}})",
              "code-invalid", "Condition.clinicalStatus", "validate.code-missing");
  expectError(head + R"("clinicalStatus":{"text":"active"}})", "code-invalid",
              "Condition.clinicalStatus", "validate.code-missing");
}

// ---- references ------------------------------------------------------------------------------

std::string carePlanWithSubject(const std::string& reference) {
  return R"({"resourceType":"CarePlan","status":"active","intent":"plan","subject":{"reference":")" +
         reference + R"("}})";
}

TEST(Validator, ReferenceSyntax) {
  for (const char* ok : {"Patient/p1", "Patient/p1/_history/3", "Group/g.1",
                         "https://fhir.example.nhs.uk/R4/Patient/p1",
                         "http://fhir.example.nhs.uk/Patient/p1/_history/2",
                         "https://fhir.example.nhs.uk/some/where",
                         "urn:uuid:9a3c5f2e-1d4b-4c8a-9e6f-2b7d8c1a0e51", "urn:oid:1.2.826.0.1"}) {
    SCOPED_TRACE(ok);
    expectValid(carePlanWithSubject(ok));
  }
  for (const char* bad :
       {"Patient/", "Patient/bad id", "Patinet/p1", "Patient", "Patient/p1/x",
        "Patient/p1/_history/", "Patient/p1/_history/2/x", "patient:p1", "urn:uuid:XYZ",
        "urn:oid:1..2", "https:///Patient/p1", "ftp://e.org/Patient/p1", "Patient?identifier=x"}) {
    SCOPED_TRACE(bad);
    expectError(carePlanWithSubject(bad), "value", "CarePlan.subject.reference",
                "validate.reference-format");
  }
}

TEST(Validator, ReferenceTargets) {
  expectError(carePlanWithSubject("Practitioner/d1"), "invalid", "CarePlan.subject.reference",
              "validate.reference-target");
  expectError(carePlanWithSubject("https://e.org/fhir/Practitioner/d1/_history/1"), "invalid",
              "CarePlan.subject.reference", "validate.reference-target");
  expectError(R"({"resourceType":"CarePlan","status":"active","intent":"plan",
    "subject":{"type":"Practitioner","identifier":{"value":"x"}}})",
              "invalid", "CarePlan.subject.type", "validate.reference-target");
  // Reference(Any) accepts every type.
  expectValid(R"({"resourceType":"CarePlan","status":"active","intent":"plan",
    "subject":{"reference":"Group/g1"},"supportingInfo":[{"reference":"Observation/o1"}]})");
  // Targets inside datatypes (Identifier.assigner is Reference(Organization)).
  expectError(R"({"resourceType":"Patient","identifier":[{"value":"1",
    "assigner":{"reference":"Patient/p2"}}]})",
              "invalid", "Patient.identifier[0].assigner.reference", "validate.reference-target");
}

TEST(Validator, ConditionalReferencesOnlyInTransactions) {
  expectError(carePlanWithSubject("Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|1"),
              "value", "CarePlan.subject.reference", "validate.reference-format");
  expectValid(kTransaction);  // holds Flag.subject "Patient?identifier=..."
  expectError(R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":
    {"resourceType":"CarePlan","status":"active","intent":"plan",
     "subject":{"reference":"Nothing?x=1"}},"request":{"method":"POST","url":"CarePlan"}}]})",
              "value", "Bundle.entry[0].resource.subject.reference", "validate.reference-format");
}

// ---- contained resources ---------------------------------------------------------------------

TEST(Validator, ContainedResources) {
  expectValid(R"({"resourceType":"CarePlan","status":"active","intent":"plan",
    "contained":[{"resourceType":"Patient","id":"pat","name":[{"family":"A"}]},
                 {"resourceType":"Practitioner","id":"gp","active":true}],
    "subject":{"reference":"#pat"},"author":{"reference":"#gp"}})");
  // A contained resource may point back at its container with "#".
  expectValid(R"({"resourceType":"Patient","contained":[{"resourceType":"Provenance","id":"prov",
    "target":[{"reference":"#"}],"recorded":"2024-01-01T00:00:00Z",
    "agent":[{"who":{"reference":"Practitioner/d"}}]}]})");
  expectError(R"({"resourceType":"CarePlan","status":"active","intent":"plan",
    "contained":[{"resourceType":"Patient","id":"pat"}],"subject":{"reference":"#other"}})",
              "invalid", "CarePlan.subject.reference", "validate.reference-fragment");
  expectError(carePlanWithSubject("#"), "invalid", "CarePlan.subject.reference",
              "validate.reference-fragment");
  expectError(R"({"resourceType":"CarePlan","status":"active","intent":"plan",
    "contained":[{"resourceType":"Practitioner","id":"gp"}],"subject":{"reference":"#gp"}})",
              "invalid", "CarePlan.subject.reference", "validate.reference-target");
  expectError(R"({"resourceType":"Patient","contained":[{"resourceType":"Organization",
    "name":"x"}]})",
              "required", "Patient.contained[0].id", "validate.contained-id-missing");
  expectError(R"({"resourceType":"Patient","managingOrganization":{"reference":"#o"},
    "contained":[{"resourceType":"Organization","id":"o",
    "contained":[{"resourceType":"Organization","id":"o2"}]}]})",
              "structure", "Patient.contained[0].contained", "validate.contained-nested");
  expectError(R"({"resourceType":"Patient","managingOrganization":{"reference":"#o"},
    "contained":[{"resourceType":"Organization","id":"o","meta":{"versionId":"2"}}]})",
              "invariant", "Patient.contained[0].meta.versionId", "validate.contained-meta");
  expectError(R"({"resourceType":"Patient","managingOrganization":{"reference":"#o"},
    "contained":[{"resourceType":"Organization","id":"o"},{"resourceType":"Organization","id":"o"}]})",
              "invariant", "Patient.contained[1].id", "validate.contained-duplicate-id");
  // Contained resources are validated recursively, with their own path.
  expectError(R"({"resourceType":"Patient","managingOrganization":{"reference":"#o"},
    "contained":[{"resourceType":"Organization","id":"o","telecom":[{"system":"pager2"}]}]})",
              "code-invalid", "Patient.contained[0].telecom[0].system", "validate.code-invalid");
  expectError(R"({"resourceType":"Patient","managingOrganization":{"reference":"#o"},
    "contained":{"resourceType":"Organization","id":"o"}})",
              "structure", "Patient.contained", "validate.array-expected");
  expectError(R"({"resourceType":"Patient","contained":[{"resourceType":"Nonsense","id":"o"}]})",
              "value", "Patient.contained[0].resourceType", "validate.resource-type-unknown");
}

TEST(Validator, UnreferencedContainedResourceIsAWarning) {
  Outcome o = run(R"({"resourceType":"Patient",
    "contained":[{"resourceType":"Organization","id":"o"}]})");
  EXPECT_TRUE(o.ok) << dump(o.issues);
  ASSERT_EQ(o.issues.size(), 1u) << dump(o.issues);
  EXPECT_EQ(o.issues.issues()[0].severity, Severity::kWarning);
  EXPECT_TRUE(
      hasIssue(o.issues, "invariant", "Patient.contained[0]", "validate.contained-unreferenced"));
}

// ---- nested resources ------------------------------------------------------------------------

TEST(Validator, BundleAndParametersResourcesAreValidated) {
  expectError(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"Patient"}},
    {"resource":{"resourceType":"Patient","gender":"x","name":[{"given":["A",1]}]}}]})",
              "code-invalid", "Bundle.entry[1].resource.gender", "validate.code-invalid");
  Outcome o = run(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"Patient","name":[{"given":["A",1]}]}}]})");
  EXPECT_TRUE(hasIssue(o.issues, "structure", "Bundle.entry[0].resource.name[0].given[1]",
                       "validate.json-type"));
  expectError(R"({"resourceType":"Parameters","parameter":[{"name":"p",
    "resource":{"resourceType":"Flag","status":"active","code":{"text":"x"}}}]})",
              "required", "Parameters.parameter[0].resource.subject", "validate.required");
  expectError(R"({"resourceType":"Bundle","type":"batch-response","entry":[{"response":
    {"status":"200","outcome":{"resourceType":"Patient"}}}]})",
              "invalid", "Bundle.entry[0].response.outcome.resourceType",
              "validate.resource-type-not-allowed");
  expectError(R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"id":"x"}}]})",
              "required", "Bundle.entry[0].resource.resourceType",
              "validate.resource-type-missing");
  // Each entry resource is its own container for "#id" references.
  expectValid(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"CarePlan","status":"active","intent":"plan",
      "contained":[{"resourceType":"Patient","id":"p"}],"subject":{"reference":"#p"}}}]})");
  expectError(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Patient","id":"q"}],
      "link":[{"other":{"reference":"#q"},"type":"seealso"}]}},
    {"resource":{"resourceType":"CarePlan","status":"active","intent":"plan",
      "subject":{"reference":"#q"}}}]})",
              "invalid", "Bundle.entry[1].resource.subject.reference",
              "validate.reference-fragment");
}

TEST(Validator, DeepNestingIsCutOffWithoutCrashing) {
  json::Value ext = json::Value::makeObject();
  ext.set("url", json::Value::makeString("http://e.org/x"));
  ext.set("valueString", json::Value::makeString("leaf"));
  for (int i = 0; i < 300; ++i) {
    json::Value outer = json::Value::makeObject();
    outer.set("url", json::Value::makeString("http://e.org/x"));
    json::Value list = json::Value::makeArray();
    list.push(std::move(ext));
    outer.set("extension", std::move(list));
    ext = std::move(outer);
  }
  json::Value patient = json::Value::makeObject();
  patient.set("resourceType", json::Value::makeString("Patient"));
  json::Value list = json::Value::makeArray();
  list.push(std::move(ext));
  patient.set("extension", std::move(list));
  IssueList issues;
  EXPECT_FALSE(validator().validate(patient, issues));
  EXPECT_EQ(countCode(issues, "validate.too-deep"), 1u) << dump(issues);
}

TEST(Validator, CollectsEveryProblemInOnePass) {
  Outcome o = run(R"({"resourceType":"Patient","gender":"x","birthDate":"1970-13-01",
    "foo":true,"name":[{"given":[""]}]})");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.issues.size(), 4u) << dump(o.issues);
}

// ---- checkPrimitive --------------------------------------------------------------------------

TEST(CheckPrimitive, ChecksKindAndFormat) {
  using json::Value;
  EXPECT_EQ(checkPrimitive("date", Value::makeString("2024-02-29")), "");
  EXPECT_NE(checkPrimitive("date", Value::makeString("2023-02-29")), "");
  EXPECT_NE(checkPrimitive("date", Value::makeNumber("2024")), "");
  EXPECT_EQ(checkPrimitive("boolean", Value::makeBool(false)), "");
  EXPECT_NE(checkPrimitive("boolean", Value::makeString("false")), "");
  EXPECT_EQ(checkPrimitive("integer", Value::makeNumber("-12")), "");
  EXPECT_NE(checkPrimitive("integer", Value::makeNumber("4294967296")), "");
  EXPECT_NE(checkPrimitive("decimal", Value::makeString("1.0")), "");
  EXPECT_EQ(checkPrimitive("decimal", Value::makeNumber("1.0")), "");
  EXPECT_NE(checkPrimitive("string", Value::makeString("")), "");
  EXPECT_NE(checkPrimitive("nonsense", Value::makeString("x")), "");
  EXPECT_NE(checkPrimitive("string", Value::makeString(std::string(1024 * 1024 + 1, 'x'))), "");
}

// ---- a synthetic model: Coding and string bindings, finite max -------------------------------

class SyntheticModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new std::string(::testing::TempDir() + "acp-validator-model-" + std::to_string(::getpid()));
    std::filesystem::create_directories(*dir_);
    auto prim = [](const char* name, const char* kind) {
      return std::string(R"({"name":")") + name + R"(","kind":"primitive-type","base":"Element",
        "elements":[{"path":")" +
             name + R"(","min":0,"max":"*"},
        {"path":")" +
             name + R"(.value","min":0,"max":"1","types":[{"code":")" + kind + R"("}]}]})";
    };
    std::string types = R"({"types":[)" + prim("string", "string") + "," + prim("code", "string") +
                        "," + prim("uri", "uri") + R"(,
      {"name":"Element","kind":"complex-type","abstract":true,"elements":[
        {"path":"Element","min":0,"max":"*"},
        {"path":"Element.id","min":0,"max":"1","types":[{"code":"string"}]},
        {"path":"Element.extension","min":0,"max":"*","types":[{"code":"Extension"}]}]},
      {"name":"Extension","kind":"complex-type","base":"Element","elements":[
        {"path":"Extension","min":0,"max":"*"},
        {"path":"Extension.url","min":1,"max":"1","types":[{"code":"uri"}]},
        {"path":"Extension.value[x]","min":0,"max":"1","types":[{"code":"string"}]}]},
      {"name":"Coding","kind":"complex-type","base":"Element","elements":[
        {"path":"Coding","min":0,"max":"*"},
        {"path":"Coding.system","min":0,"max":"1","types":[{"code":"uri"}]},
        {"path":"Coding.code","min":0,"max":"1","types":[{"code":"code"}]}]},
      {"name":"Resource","kind":"resource","abstract":true,"elements":[
        {"path":"Resource","min":0,"max":"*"},
        {"path":"Resource.id","min":0,"max":"1","types":[{"code":"string"}]}]},
      {"name":"Thing","kind":"resource","base":"Resource","elements":[
        {"path":"Thing","min":0,"max":"*"},
        {"path":"Thing.id","min":0,"max":"1","types":[{"code":"string"}]},
        {"path":"Thing.kind","min":0,"max":"1","types":[{"code":"Coding"}],
         "binding":{"strength":"required","valueSet":"http://e.org/vs/kinds"}},
        {"path":"Thing.label","min":0,"max":"1","types":[{"code":"string"}],
         "binding":{"strength":"required","valueSet":"http://e.org/vs/labels"}},
        {"path":"Thing.pair","min":0,"max":"2","types":[{"code":"string"}]},
        {"path":"Thing.never","min":0,"max":"0","types":[{"code":"string"}]}]}]})";
    std::ofstream(*dir_ + "/types.json") << types;
    std::ofstream(*dir_ + "/valuesets.json") << R"({"valueSets":{
      "http://e.org/vs/kinds":{"http://e.org/cs/kinds":["a","b"]},
      "http://e.org/vs/labels":{"http://e.org/cs/labels":["red","green"]}}})";
    std::ofstream(*dir_ + "/search-parameters.json") << R"({"searchParameters":[]})";
    auto loaded = Model::load(*dir_);
    ASSERT_TRUE(loaded.isOk()) << loaded.status().message();
    validator_ = new Validator(loaded.value());
  }
  static void TearDownTestSuite() {
    delete validator_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static Outcome check(const std::string& text) {
    Outcome o;
    o.ok = validator_->validate(parseJson(text), o.issues);
    return o;
  }
  static std::string* dir_;
  static Validator* validator_;
};
std::string* SyntheticModel::dir_ = nullptr;
Validator* SyntheticModel::validator_ = nullptr;

TEST_F(SyntheticModel, RequiredBindingOnCoding) {
  Outcome o =
      check(R"({"resourceType":"Thing","kind":{"system":"http://e.org/cs/kinds","code":"a"}})");
  EXPECT_TRUE(o.ok) << dump(o.issues);
  o = check(R"({"resourceType":"Thing","kind":{"system":"http://e.org/cs/kinds","code":"z"}})");
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "code-invalid", "Thing.kind.code", "validate.code-invalid"));
  o = check(R"({"resourceType":"Thing","kind":{"system":"http://other","code":"a"}})");
  EXPECT_TRUE(hasIssue(o.issues, "code-invalid", "Thing.kind.code", "validate.code-invalid"));
  o = check(R"({"resourceType":"Thing","kind":{"system":"http://e.org/cs/kinds"}})");
  EXPECT_TRUE(hasIssue(o.issues, "code-invalid", "Thing.kind", "validate.code-missing"));
}

TEST_F(SyntheticModel, RequiredBindingOnString) {
  EXPECT_TRUE(check(R"({"resourceType":"Thing","label":"green"})").ok);
  Outcome o = check(R"({"resourceType":"Thing","label":"blue"})");
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "code-invalid", "Thing.label", "validate.code-invalid"));
}

TEST_F(SyntheticModel, FiniteMaximumCardinality) {
  EXPECT_TRUE(check(R"({"resourceType":"Thing","pair":["a","b"]})").ok);
  Outcome o = check(R"({"resourceType":"Thing","pair":["a","b","c"]})");
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(hasIssue(o.issues, "structure", "Thing.pair", "validate.too-many"));
  o = check(R"({"resourceType":"Thing","never":["a"]})");
  EXPECT_TRUE(hasIssue(o.issues, "structure", "Thing.never", "validate.too-many"));
  o = check(R"({"resourceType":"Thing","_pair":[{"id":"1"},{"id":"2"},{"id":"3"}]})");
  EXPECT_TRUE(hasIssue(o.issues, "structure", "Thing.pair", "validate.too-many"));
}

}  // namespace
}  // namespace acp::model
