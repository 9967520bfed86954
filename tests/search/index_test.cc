#include "gateway/search/index.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>

#include "tests/support/model_fixture.h"

namespace acp::search {
namespace {

using acp::testing::r4;
using Strings = std::vector<std::string>;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

json::Value parseJson(const std::string& text) {
  json::Value v;
  json::ParseError err;
  EXPECT_TRUE(json::parse(text, v, err)) << err.message << "\n" << text;
  return v;
}

std::vector<StringEntry> strings(const IndexValues& v, const std::string& param) {
  std::vector<StringEntry> out;
  for (const auto& e : v.strings)
    if (e.param == param) out.push_back(e);
  return out;
}
Strings exacts(const IndexValues& v, const std::string& param) {
  Strings out;
  for (const auto& e : strings(v, param)) out.push_back(e.exact);
  return out;
}
Strings normals(const IndexValues& v, const std::string& param) {
  Strings out;
  for (const auto& e : strings(v, param)) out.push_back(e.normalized);
  return out;
}
// "system|code|text" per token entry of `param`.
Strings tokens(const IndexValues& v, const std::string& param) {
  Strings out;
  for (const auto& e : v.tokens)
    if (e.param == param) out.push_back(e.system + "|" + e.code + "|" + e.text);
  return out;
}
std::vector<std::pair<int64_t, int64_t>> dates(const IndexValues& v, const std::string& param) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& e : v.dates)
    if (e.param == param) out.emplace_back(e.low, e.high);
  return out;
}
// "type|id|url|idSystem|idValue" per reference entry of `param`.
Strings refs(const IndexValues& v, const std::string& param) {
  Strings out;
  for (const auto& e : v.references)
    if (e.param == param)
      out.push_back(e.targetType + "|" + e.targetId + "|" + e.url + "|" + e.identifierSystem + "|" +
                    e.identifierValue);
  return out;
}
Strings uris(const IndexValues& v, const std::string& param) {
  Strings out;
  for (const auto& e : v.uris)
    if (e.param == param) out.push_back(e.uri);
  return out;
}
bool hasParam(const IndexValues& v, const std::string& param) {
  for (const auto& e : v.strings)
    if (e.param == param) return true;
  for (const auto& e : v.tokens)
    if (e.param == param) return true;
  for (const auto& e : v.dates)
    if (e.param == param) return true;
  for (const auto& e : v.references)
    if (e.param == param) return true;
  for (const auto& e : v.numbers)
    if (e.param == param) return true;
  for (const auto& e : v.quantities)
    if (e.param == param) return true;
  for (const auto& e : v.uris)
    if (e.param == param) return true;
  return false;
}

IndexValues index(const std::string& text, const IndexOptions& options = {}) {
  return extractIndex(r4(), parseJson(text), options);
}

// ---------------------------------------------------------------------------------------------

TEST(NormalizeString, LowerCasesFoldsAccentsStripsPunctuation) {
  EXPECT_EQ(normalizeString("  Zoë   O'Brien-Smith "), "zoe obriensmith");
  EXPECT_EQ(normalizeString("ÉLODIE Ångström"), "elodie angstrom");
  EXPECT_EQ(normalizeString("Straße"), "strasse");
  EXPECT_EQ(normalizeString("Łódź Œuvre Ærø"), "lodz oeuvre aero");
  EXPECT_EQ(normalizeString("Dvořák Čapek Şahin İnce"), "dvorak capek sahin ince");
  EXPECT_EQ(normalizeString("Jose\xCC\x81"), "jose");  // decomposed é (e + U+0301)
  EXPECT_EQ(normalizeString("St.\xC2\xA0John\xE2\x80\x99s\tRd,\n12"), "st johns rd 12");
  EXPECT_EQ(normalizeString("O\xE2\x80\x99Neill \xE2\x80\x93 GP"), "oneill gp");
  EXPECT_EQ(normalizeString("\xCE\xA3\xCE\xBF"), "\xCE\xA3\xCE\xBF");  // Greek kept as is
  EXPECT_EQ(normalizeString("'; DROP TABLE x;--"), "drop table x");
  EXPECT_EQ(normalizeString("..."), "");
  EXPECT_EQ(normalizeString(""), "");
  EXPECT_EQ(normalizeString("\xC3"), "\xC3");  // truncated sequence: kept, no overrun
}

TEST(DateRange, PartialDatesCoverTheirWholeExtent) {
  int64_t lo = 0, hi = 0;
  ASSERT_TRUE(dateRange("2019", lo, hi));
  EXPECT_EQ(lo, 1546300800000);
  EXPECT_EQ(hi, 1577836799999);
  ASSERT_TRUE(dateRange("2019-03", lo, hi));
  EXPECT_EQ(lo, 1551398400000);
  EXPECT_EQ(hi, 1554076799999);
  ASSERT_TRUE(dateRange("2020-02", lo, hi));
  EXPECT_EQ(hi, 1583020799999);  // leap year: to 29 Feb
  ASSERT_TRUE(dateRange("2019-03-10", lo, hi));
  EXPECT_EQ(lo, 1552176000000);
  EXPECT_EQ(hi, 1552262399999);
  ASSERT_TRUE(dateRange("2019-12", lo, hi));
  EXPECT_EQ(hi + 1, 1577836800000);
  ASSERT_TRUE(dateRange("0001", lo, hi));
  EXPECT_EQ(lo, -62135596800000);
  ASSERT_TRUE(dateRange("1969-12-31", lo, hi));
  EXPECT_EQ(lo, -86400000);
  EXPECT_EQ(hi, -1);
}

TEST(DateRange, TimesAndTimezones) {
  int64_t lo = 0, hi = 0;
  ASSERT_TRUE(dateRange("2019-03-10T10:15", lo, hi));  // no timezone: UTC, whole minute
  EXPECT_EQ(lo, 1552212900000);
  EXPECT_EQ(hi, 1552212959999);
  ASSERT_TRUE(dateRange("2019-03-10T10:15:30Z", lo, hi));
  EXPECT_EQ(lo, 1552212930000);
  EXPECT_EQ(hi, 1552212930999);
  ASSERT_TRUE(dateRange("2019-03-10T10:15:30.5+01:00", lo, hi));
  EXPECT_EQ(lo, 1552209330500);
  EXPECT_EQ(hi, 1552209330599);
  ASSERT_TRUE(dateRange("2019-03-10T10:15:30.50+01:00", lo, hi));
  EXPECT_EQ(hi, 1552209330509);
  ASSERT_TRUE(dateRange("2019-03-10T10:15:30.1234Z", lo, hi));
  EXPECT_EQ(lo, 1552212930123);
  EXPECT_EQ(hi, 1552212930123);
  ASSERT_TRUE(dateRange("2024-12-31T23:59:59-05:30", lo, hi));
  EXPECT_EQ(lo, 1735709399000);
  ASSERT_TRUE(dateRange("2016-12-31T23:59:60Z", lo, hi));  // leap second accepted
}

TEST(DateRange, RejectsMalformed) {
  int64_t lo = 0, hi = 0;
  for (const char* bad : {"",
                          "19",
                          "2019-3",
                          "2019-13",
                          "2019-00",
                          "2019-02-29",
                          "2019-04-31",
                          "0000",
                          "2019-03-10T25:00",
                          "2019-03-10T10",
                          "2019-03-10T10:60",
                          "2019-03-10T10:15:30+1:00",
                          "2019-03-10T10:15:30+15:00",
                          "2019-03-10 10:15",
                          "2019-03-10T10:15:30.Z",
                          "2019-03-10Z",
                          "2019-03-10T10:15:30Zjunk",
                          "2019-03-10T10:15:61",
                          "+2019",
                          "２０１９"}) {
    EXPECT_FALSE(dateRange(bad, lo, hi)) << bad;
  }
}

// ---------------------------------------------------------------------------------------------

TEST(ExtractIndex, CarePlanSubjectGivesSubjectAndPatient) {
  IndexValues v = index(R"({"resourceType":"CarePlan","status":"active","intent":"plan",
      "subject":{"reference":"Patient/123","display":"Ann"},
      "category":[{"coding":[{"system":"http://snomed.info/sct","code":"736366004",
                              "display":"Advance care plan"}],"text":"ACP"}],
      "period":{"start":"2024-05-01"},
      "author":{"reference":"Practitioner/9"},
      "activity":[{"detail":{"status":"scheduled","code":{"coding":[{"system":"s","code":"c"}]},
                   "scheduledTiming":{"event":["2025-06-03T10:00:00Z","2025-06-01T10:00:00Z"]},
                   "performer":[{"reference":"Practitioner/9"}]}},
                  {"detail":{"status":"scheduled",
                             "scheduledPeriod":{"start":"2024-05-01T09:00:00Z"}}},
                  {"detail":{"status":"scheduled","scheduledString":"every morning"}}],
      "instantiatesCanonical":["http://example.org/fhir/PlanDefinition/acp|2"],
      "instantiatesUri":["https://nhs.example/acp-guide"]})");
  EXPECT_EQ(refs(v, "subject"), (Strings{"Patient|123|Patient/123||"}));
  EXPECT_EQ(refs(v, "patient"), (Strings{"Patient|123|Patient/123||"}));
  EXPECT_EQ(tokens(v, "status"), (Strings{"|active|"}));
  EXPECT_EQ(tokens(v, "intent"), (Strings{"|plan|"}));
  EXPECT_EQ(tokens(v, "category"),
            (Strings{"http://snomed.info/sct|736366004|advance care plan", "||acp"}));
  EXPECT_EQ(tokens(v, "activity-code"), (Strings{"s|c|"}));
  EXPECT_EQ(dates(v, "date"), (std::vector<std::pair<int64_t, int64_t>>{{1714521600000, kMax}}));
  EXPECT_EQ(dates(v, "activity-date"), (std::vector<std::pair<int64_t, int64_t>>{
                                           {1748772000000, 1748944800999}, {1714554000000, kMax}}));
  EXPECT_EQ(refs(v, "performer"), (Strings{"Practitioner|9|Practitioner/9||"}));
  EXPECT_EQ(refs(v, "instantiates-canonical"),
            (Strings{"PlanDefinition||http://example.org/fhir/PlanDefinition/acp|2||"}));
  EXPECT_EQ(uris(v, "instantiates-uri"), (Strings{"https://nhs.example/acp-guide"}));
  EXPECT_FALSE(hasParam(v, "encounter"));
}

TEST(ExtractIndex, GroupSubjectIsNotAPatient) {
  IndexValues v = index(R"({"resourceType":"CarePlan","status":"active","intent":"plan",
      "subject":{"reference":"Group/g1"}})");
  EXPECT_EQ(refs(v, "subject"), (Strings{"Group|g1|Group/g1||"}));
  EXPECT_TRUE(refs(v, "patient").empty());
}

TEST(ExtractIndex, PatientDemographics) {
  IndexValues v = index(R"({"resourceType":"Patient","id":"p1",
      "meta":{"lastUpdated":"2024-01-01T00:00:00Z",
              "profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"],
              "tag":[{"system":"https://acp.example/tags","code":"test"}]},
      "identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919",
                     "type":{"text":"NHS Number"}},
                    {"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919",
                     "type":{"text":"NHS Number"}}],
      "active":true,
      "name":[{"use":"official","family":"O'Brien","given":["Zoë","Anne"],"prefix":["Mrs"],
               "text":"Mrs Zoë Anne O'Brien"}],
      "telecom":[{"system":"phone","value":"01632 960000"},
                 {"system":"email","value":"zoe@example.nhs.uk"}],
      "gender":"female","birthDate":"2019-03",
      "address":[{"use":"home","line":["1 High St","Flat 2"],"city":"Leeds","postalCode":"LS1 4AP",
                  "country":"GB"}],
      "generalPractitioner":[{"reference":"https://gw.example/fhir/Organization/Y12345"}],
      "managingOrganization":{"type":"Organization",
          "identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code",
                        "value":"Y12345"}}})");
  EXPECT_EQ(tokens(v, "identifier"),
            (Strings{"https://fhir.nhs.uk/Id/nhs-number|9434765919|nhs number"}));
  EXPECT_EQ(tokens(v, "active"), (Strings{"|true|"}));
  EXPECT_EQ(tokens(v, "gender"), (Strings{"|female|"}));
  EXPECT_EQ(tokens(v, "deceased"), (Strings{"|false|"}));
  EXPECT_EQ(tokens(v, "telecom"), (Strings{"|01632 960000|", "|zoe@example.nhs.uk|"}));
  EXPECT_EQ(tokens(v, "phone"), (Strings{"|01632 960000|"}));
  EXPECT_EQ(tokens(v, "email"), (Strings{"|zoe@example.nhs.uk|"}));
  EXPECT_EQ(tokens(v, "address-use"), (Strings{"|home|"}));
  EXPECT_EQ(tokens(v, "_tag"), (Strings{"https://acp.example/tags|test|"}));
  EXPECT_EQ(uris(v, "_profile"),
            (Strings{"https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"}));
  EXPECT_EQ(exacts(v, "name"),
            (Strings{"O'Brien", "Zoë", "Anne", "Mrs", "Mrs Zoë Anne O'Brien"}));
  EXPECT_EQ(normals(v, "name"), (Strings{"obrien", "zoe", "anne", "mrs", "mrs zoe anne obrien"}));
  EXPECT_EQ(exacts(v, "family"), (Strings{"O'Brien"}));
  EXPECT_EQ(exacts(v, "given"), (Strings{"Zoë", "Anne"}));
  EXPECT_EQ(exacts(v, "address"), (Strings{"1 High St", "Flat 2", "Leeds", "LS1 4AP", "GB"}));
  EXPECT_EQ(normals(v, "address-postalcode"), (Strings{"ls1 4ap"}));
  EXPECT_EQ(exacts(v, "address-city"), (Strings{"Leeds"}));
  EXPECT_EQ(dates(v, "birthdate"),
            (std::vector<std::pair<int64_t, int64_t>>{{1551398400000, 1554076799999}}));
  // An absolute reference off this server: type known, id not.
  EXPECT_EQ(refs(v, "general-practitioner"),
            (Strings{"Organization||https://gw.example/fhir/Organization/Y12345||"}));
  // A logical reference: identifier and Reference.type.
  EXPECT_EQ(refs(v, "organization"),
            (Strings{"Organization|||https://fhir.nhs.uk/Id/ods-organization-code|Y12345"}));
  EXPECT_FALSE(hasParam(v, "phonetic"));      // not implemented: not indexed
  EXPECT_FALSE(hasParam(v, "_id"));           // kept by the store
  EXPECT_FALSE(hasParam(v, "_lastUpdated"));  // kept by the store
}

TEST(ExtractIndex, AbsoluteReferencesOnThisServerGetTheirId) {
  const char* text = R"({"resourceType":"Patient",
      "generalPractitioner":[{"reference":"https://gw.example/fhir/Organization/Y12345"},
                             {"reference":"https://other.example/fhir/Organization/Z1"}]})";
  IndexOptions options;
  options.baseUrl = "https://gw.example/fhir/";
  EXPECT_EQ(refs(index(text, options), "general-practitioner"),
            (Strings{"Organization|Y12345|https://gw.example/fhir/Organization/Y12345||",
                     "Organization||https://other.example/fhir/Organization/Z1||"}));
}

TEST(ExtractIndex, ReferenceForms) {
  IndexValues v = index(R"({"resourceType":"Encounter","status":"finished",
      "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HH",
               "display":"home health"},
      "contained":[{"resourceType":"Practitioner","id":"pr1"}],
      "subject":{"reference":"Patient/123/_history/2"},
      "participant":[{"individual":{"reference":"#pr1"}},
                     {"individual":{"reference":"urn:uuid:0b1c"}},
                     {"individual":{"reference":"77","type":"Practitioner"}},
                     {"individual":{"reference":"77"}},
                     {"individual":{"display":"just a name"}}],
      "period":{"start":"2024-05-01T09:00:00Z"},
      "length":{"value":45,"unit":"min","system":"http://unitsofmeasure.org","code":"min"},
      "type":[{"text":"Home visit"}]})");
  EXPECT_EQ(refs(v, "subject"), (Strings{"Patient|123|Patient/123/_history/2||"}));
  EXPECT_EQ(refs(v, "patient"), (Strings{"Patient|123|Patient/123/_history/2||"}));
  EXPECT_EQ(refs(v, "participant"),
            (Strings{"||#pr1||", "||urn:uuid:0b1c||", "Practitioner|77|77||", "||77||"}));
  // where(resolve() is Practitioner): the contained one and the typed bare id.
  EXPECT_EQ(refs(v, "practitioner"), (Strings{"||#pr1||", "Practitioner|77|77||"}));
  EXPECT_EQ(tokens(v, "class"),
            (Strings{"http://terminology.hl7.org/CodeSystem/v3-ActCode|HH|home health"}));
  EXPECT_EQ(tokens(v, "type"), (Strings{"||home visit"}));
  // Open-ended period.
  EXPECT_EQ(dates(v, "date"), (std::vector<std::pair<int64_t, int64_t>>{{1714554000000, kMax}}));
  ASSERT_EQ(v.quantities.size(), 1u);
  EXPECT_EQ(v.quantities[0].param, "length");
  EXPECT_EQ(v.quantities[0].value, 45);
  EXPECT_EQ(v.quantities[0].system, "http://unitsofmeasure.org");
  EXPECT_EQ(v.quantities[0].code, "min");
  EXPECT_EQ(v.quantities[0].unit, "min");
}

TEST(ExtractIndex, PeriodWithOnlyAnEnd) {
  IndexValues v = index(R"({"resourceType":"Encounter","status":"finished",
      "period":{"end":"2019-03"}})");
  EXPECT_EQ(dates(v, "date"), (std::vector<std::pair<int64_t, int64_t>>{{kMin, 1554076799999}}));
  // A malformed bound makes the whole period unusable, never half of it.
  v = index(R"({"resourceType":"Encounter","status":"finished",
      "period":{"start":"2019-03-01","end":"yesterday"}})");
  EXPECT_TRUE(dates(v, "date").empty());
}

TEST(ExtractIndex, ConditionChoices) {
  IndexValues v = index(R"({"resourceType":"Condition",
      "subject":{"reference":"Patient/1"},
      "code":{"coding":[{"system":"http://snomed.info/sct","code":"254637007"}]},
      "onsetDateTime":"2018-06-01",
      "abatementAge":{"value":70,"unit":"a","system":"http://unitsofmeasure.org","code":"a"},
      "recordedDate":"2018-06-02T12:00:00Z",
      "clinicalStatus":{"coding":[{
          "system":"http://terminology.hl7.org/CodeSystem/condition-clinical",
          "code":"active"}]}})");
  EXPECT_EQ(tokens(v, "code"), (Strings{"http://snomed.info/sct|254637007|"}));
  EXPECT_EQ(tokens(v, "clinical-status"),
            (Strings{"http://terminology.hl7.org/CodeSystem/condition-clinical|active|"}));
  int64_t lo = 0, hi = 0;
  ASSERT_TRUE(dateRange("2018-06-01", lo, hi));
  EXPECT_EQ(dates(v, "onset-date"), (std::vector<std::pair<int64_t, int64_t>>{{lo, hi}}));
  EXPECT_TRUE(dates(v, "abatement-date").empty());
  ASSERT_EQ(v.quantities.size(), 1u);
  EXPECT_EQ(v.quantities[0].param, "abatement-age");
  EXPECT_EQ(v.quantities[0].value, 70);
  EXPECT_EQ(refs(v, "patient"), (Strings{"Patient|1|Patient/1||"}));
  // A Range onset is not indexed (range quantity search is not implemented).
  v = index(R"({"resourceType":"Condition","subject":{"reference":"Patient/1"},
      "onsetRange":{"low":{"value":40},"high":{"value":50}},"onsetString":"in her forties"})");
  EXPECT_TRUE(v.quantities.empty());
  EXPECT_EQ(exacts(v, "onset-info"), (Strings{"in her forties"}));
}

TEST(ExtractIndex, NumbersAndMoney) {
  IndexValues v = index(R"({"resourceType":"RiskAssessment","status":"final",
      "subject":{"reference":"Patient/1"},
      "prediction":[{"probabilityDecimal":0.25},{"probabilityDecimal":1.50}]})");
  ASSERT_EQ(v.numbers.size(), 2u);
  EXPECT_EQ(v.numbers[0].param, "probability");
  EXPECT_EQ(v.numbers[0].value, 0.25);
  EXPECT_EQ(v.numbers[1].text, "1.50");
  EXPECT_EQ(v.numbers[1].value, 1.5);
  v = index(R"({"resourceType":"Invoice","status":"issued",
      "totalGross":{"value":12.5,"currency":"GBP"}})");
  ASSERT_EQ(v.quantities.size(), 1u);
  EXPECT_EQ(v.quantities[0].param, "totalgross");
  EXPECT_EQ(v.quantities[0].system, "urn:iso:std:iso:4217");
  EXPECT_EQ(v.quantities[0].code, "GBP");
}

TEST(ExtractIndex, FlagProvenanceConsentAuditEvent) {
  IndexValues v = index(R"({"resourceType":"Flag","status":"active",
      "code":{"text":"DNACPR in place"},"subject":{"reference":"Patient/5"},
      "period":{"start":"2024-01-01","end":"2024-12-31"},
      "author":{"reference":"Practitioner/2"}})");
  EXPECT_EQ(refs(v, "patient"), (Strings{"Patient|5|Patient/5||"}));
  EXPECT_EQ(refs(v, "author"), (Strings{"Practitioner|2|Practitioner/2||"}));
  int64_t lo = 0, hi = 0, lo2 = 0, hi2 = 0;
  ASSERT_TRUE(dateRange("2024-01-01", lo, hi));
  ASSERT_TRUE(dateRange("2024-12-31", lo2, hi2));
  EXPECT_EQ(dates(v, "date"), (std::vector<std::pair<int64_t, int64_t>>{{lo, hi2}}));

  v = index(R"({"resourceType":"Provenance","recorded":"2024-02-03T04:05:06.789Z",
      "target":[{"reference":"CarePlan/c1"},{"reference":"Patient/5"}],
      "agent":[{"who":{"reference":"Organization/o1"}}],"occurredDateTime":"2024-02-03"})");
  EXPECT_EQ(refs(v, "target"), (Strings{"CarePlan|c1|CarePlan/c1||", "Patient|5|Patient/5||"}));
  EXPECT_EQ(refs(v, "patient"), (Strings{"Patient|5|Patient/5||"}));
  ASSERT_TRUE(dateRange("2024-02-03T04:05:06.789Z", lo, hi));
  EXPECT_EQ(dates(v, "recorded"), (std::vector<std::pair<int64_t, int64_t>>{{lo, lo}}));
  EXPECT_EQ(dates(v, "when").size(), 1u);

  v = index(R"({"resourceType":"Consent","status":"active",
      "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope",
                          "code":"patient-privacy"}]},
      "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
      "patient":{"reference":"Patient/5"},"dateTime":"2024-03-01",
      "provision":{"type":"permit","period":{"start":"2024-03-01"},
                   "actor":[{"role":{"text":"x"},"reference":{"reference":"Organization/o1"}}]}})");
  EXPECT_EQ(refs(v, "patient"), (Strings{"Patient|5|Patient/5||"}));
  EXPECT_EQ(refs(v, "actor"), (Strings{"Organization|o1|Organization/o1||"}));
  EXPECT_EQ(tokens(v, "scope"),
            (Strings{"http://terminology.hl7.org/CodeSystem/consentscope|patient-privacy|"}));
  EXPECT_EQ(dates(v, "period").size(), 1u);

  v = index(
      R"({"resourceType":"AuditEvent",
      "type":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"110110"},
      "action":"R","recorded":"2024-02-03T04:05:06Z","outcome":"0",
      "agent":[{"who":{"reference":"Practitioner/2"},"requestor":true,"name":"Dr Who"}],
      "source":{"observer":{"reference":"Device/d1"}},
      "entity":[{"what":{"reference":"Patient/5"}},{"what":{"reference":"CarePlan/c1"}}]})");
  EXPECT_EQ(refs(v, "patient"), (Strings{"Patient|5|Patient/5||"}));
  EXPECT_EQ(refs(v, "entity"), (Strings{"Patient|5|Patient/5||", "CarePlan|c1|CarePlan/c1||"}));
  EXPECT_EQ(tokens(v, "action"), (Strings{"|R|"}));
  EXPECT_EQ(exacts(v, "agent-name"), (Strings{"Dr Who"}));
}

TEST(ExtractIndex, SkipsMalformedValuesAndUnknownTypes) {
  IndexValues v = index(R"({"resourceType":"Patient","birthDate":"2019-13-45",
      "name":"not an array of names","gender":7,"active":"yes",
      "identifier":[{"system":"s"},{"value":""},{}],"telecom":[null,{"system":"phone"}]})");
  EXPECT_TRUE(dates(v, "birthdate").empty());
  EXPECT_TRUE(tokens(v, "gender").empty());
  EXPECT_TRUE(tokens(v, "active").empty());
  EXPECT_TRUE(strings(v, "name").empty());
  EXPECT_EQ(tokens(v, "identifier"), (Strings{"s||"}));
  EXPECT_TRUE(tokens(v, "telecom").empty());
  IndexValues none = index(R"({"resourceType":"NotAType","status":"x"})");
  EXPECT_TRUE(none.tokens.empty() && none.strings.empty() && none.references.empty());
  none = index(R"([{"resourceType":"Patient","gender":"male"}])");
  EXPECT_TRUE(none.tokens.empty());
}

TEST(ExtractIndex, ExtractorListsSkippedParameters) {
  const IndexExtractor& ex = IndexExtractor::forModel(r4());
  EXPECT_EQ(&ex, &IndexExtractor::forModel(r4()));  // built once per model
  bool bundleComposition = false, patientPhonetic = false, observationComposite = false;
  for (const SkippedParam& s : ex.skipped()) {
    if (s.resourceType == "Bundle" && s.code == "composition") {
      bundleComposition = true;
      EXPECT_NE(s.reason.find("cannot be indexed"), std::string::npos) << s.reason;
    }
    patientPhonetic |= s.resourceType == "Patient" && s.code == "phonetic";
    observationComposite |= s.resourceType == "Observation" && s.code == "code-value-quantity";
  }
  EXPECT_TRUE(bundleComposition);
  EXPECT_TRUE(patientPhonetic);
  EXPECT_TRUE(observationComposite);
  EXPECT_TRUE(ex.isIndexed("Patient", "identifier"));
  EXPECT_FALSE(ex.isIndexed("Patient", "_id"));
  EXPECT_FALSE(ex.isIndexed("Patient", "nonsense"));
  EXPECT_FALSE(ex.isIndexed("Nope", "identifier"));
}

TEST(ExtractIndex, ConcurrentExtractionGivesTheSameRows) {
  json::Value cp = parseJson(R"({"resourceType":"CarePlan","status":"active","intent":"plan",
      "subject":{"reference":"Patient/123"},"category":[{"text":"ACP"}]})");
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        IndexValues v = extractIndex(r4(), cp);
        ok[t] += refs(v, "patient") == Strings{"Patient|123|Patient/123||"} &&
                 tokens(v, "category") == Strings{"||acp"};
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int n : ok) EXPECT_EQ(n, 500);
}

}  // namespace
}  // namespace acp::search
