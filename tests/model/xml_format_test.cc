// Tests for FHIR R4 XML ⇄ JSON conversion (gateway/model/xml_format.h).
#include "gateway/model/xml_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gateway/core/xml.h"
#include "tests/support/model_fixture.h"

namespace acp::model {
namespace {

using acp::testing::r4;

json::Value parseJson(const std::string& text) {
  json::Value v;
  json::ParseError err;
  EXPECT_TRUE(json::parse(text, v, err)) << err.message << "\n" << text;
  return v;
}

std::string issuesText(const IssueList& issues) {
  std::string s;
  for (const Issue& i : issues.issues())
    s += i.type + " | " + i.location + " | " + i.code + " | " + i.message + "\n";
  return s;
}

// XML → JSON that must succeed.
json::Value toJson(const std::string& xml) {
  json::Value out;
  IssueList issues;
  EXPECT_TRUE(xmlToJson(r4(), xml, out, issues)) << issuesText(issues) << xml;
  EXPECT_TRUE(issues.empty()) << issuesText(issues);
  return out;
}

// XML → JSON that must fail; returns the issues.
IssueList failing(const std::string& xml) {
  json::Value out;
  IssueList issues;
  EXPECT_FALSE(xmlToJson(r4(), xml, out, issues)) << xml;
  EXPECT_TRUE(issues.hasErrors());
  return issues;
}

bool hasIssue(const IssueList& issues, const std::string& type, const std::string& location,
              const std::string& code) {
  for (const Issue& i : issues.issues())
    if (i.type == type && i.location == location && i.code == code) return true;
  return false;
}

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// JSON → XML → JSON must give the same resource, compact and pretty.
void expectJsonRoundTrip(const std::string& jsonText) {
  json::Value original = parseJson(jsonText);
  for (bool pretty : {false, true}) {
    std::string xml = jsonToXml(r4(), original, pretty);
    ASSERT_FALSE(xml.empty());
    json::Value back = toJson(xml);
    EXPECT_EQ(back, original) << "pretty=" << pretty << "\nXML:\n"
                              << xml << "\nJSON back:\n"
                              << json::write(back, true);
  }
}

// ---------------------------------------------------------------- round trips of real files

TEST(XmlFormatTest, UkCoreFilesRoundTrip) {
  const std::filesystem::path dir = std::string(ACP_SOURCE_DIR) + "/../shared/fhir/ukcore";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".xml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 16u);
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const std::string xml = readFile(file);
    json::Value first = toJson(xml);
    ASSERT_TRUE(first.isObject());
    EXPECT_FALSE(first.getString("resourceType").empty());
    for (bool pretty : {false, true}) {
      std::string xml2 = jsonToXml(r4(), first, pretty);
      json::Value second = toJson(xml2);
      EXPECT_EQ(second, first) << xml2;
      // Writing is deterministic: a second pass gives the same XML text.
      EXPECT_EQ(jsonToXml(r4(), second, pretty), xml2);
    }
  }
}

TEST(XmlFormatTest, UkCorePatientExampleContent) {
  const std::string xml =
      readFile(std::string(ACP_SOURCE_DIR) +
               "/../shared/fhir/ukcore/UKCore-Patient-RichardSmith-Example.xml");
  json::Value p = toJson(xml);
  EXPECT_EQ(p.getString("resourceType"), "Patient");
  EXPECT_EQ(p.getString("id"), "UKCore-Patient-RichardSmith-Example");
  const json::Value* text = p.find("text");
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->getString("div"),
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">An example to illustrate a generic "
            "patient</div>");
  const json::Value* ext = p.find("extension");
  ASSERT_TRUE(ext && ext->isArray());
  ASSERT_GE(ext->items().size(), 2u);
  EXPECT_EQ(ext->items()[0].getString("url"),
            "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory");
  EXPECT_TRUE(ext->items()[0].find("valueCodeableConcept"));
  // Repeating primitive inside an extension's Timing: dayOfWeek is an array of codes.
  const json::Value& timing = ext->items()[1].find("extension")->items()[1];
  const json::Value* dow = timing.find("valueTiming")->find("repeat")->find("dayOfWeek");
  ASSERT_TRUE(dow && dow->isArray());
  EXPECT_EQ(*dow, parseJson(R"(["mon","wed","fri"])"));
  const json::Value* freq = timing.find("valueTiming")->find("repeat")->find("frequency");
  ASSERT_TRUE(freq && freq->isNumber());
  EXPECT_EQ(freq->text(), "1");
}

TEST(XmlFormatTest, ConcurrentConversionsAgree) {
  const std::string xml =
      readFile(std::string(ACP_SOURCE_DIR) +
               "/../shared/fhir/ukcore/UKCore-Patient-RichardSmith-Example.xml");
  const json::Value expected = toJson(xml);
  const std::string expectedXml = jsonToXml(r4(), expected, true);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        json::Value v;
        IssueList issues;
        if (!xmlToJson(r4(), xml, v, issues) || v != expected) ++wrong;
        if (jsonToXml(r4(), v, true) != expectedXml) ++wrong;
        IssueList bad;
        if (xmlToJson(r4(), "<Patient xmlns=\"http://hl7.org/fhir\"><x/></Patient>", v, bad))
          ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// ---------------------------------------------------------------- hand-written JSON resources

TEST(XmlFormatTest, PatientWithPrimitiveExtensionsRoundTrips) {
  expectJsonRoundTrip(R"({
    "resourceType": "Patient",
    "id": "p1",
    "meta": {"versionId": "2", "lastUpdated": "2024-01-02T03:04:05.678Z",
             "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},
    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">)"
                      R"(<p class=\"a\">&amp; &lt;3 <b>b <i>i</i></b> &gt;\"q\"</p>\n <br/></div>"},
    "extension": [{
      "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
      "valueCodeableConcept": {"coding": [{
        "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland",
        "code": "A"}]}}],
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}],
    "active": true,
    "name": [{"id": "n1", "use": "official", "family": "Smith",
             "_family": {"extension": [{
               "url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix",
               "valueString": "van"}]},
             "given": ["Ann", null, "Bea"],
             "_given": [null,
                        {"id": "g2",
                         "extension": [{"url": "http://example.org/x", "valueBoolean": false}]},
                        {"id": "g3"}]}],
    "telecom": [{"system": "phone", "value": "0113 496 0000", "rank": 1}],
    "birthDate": "1970-01-01",
    "_birthDate": {"extension": [{
      "url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
      "valueDateTime": "1970-01-01T10:00:00Z"}]},
    "deceasedBoolean": false,
    "multipleBirthInteger": 2,
    "contact": [{"relationship": [{"text": "mother"}], "name": {"text": "Eve \u00e9\u6771"}}]
  })");
}

TEST(XmlFormatTest, PrimitiveArrayWithOnlyExtensionsRoundTrips) {
  // No value in any repeat: only the "_given" array exists.
  expectJsonRoundTrip(R"({"resourceType": "Patient",
    "name": [{"_given": [{"extension": [{"url": "http://example.org/a", "valueCode": "masked"}]},
                         {"id": "b"}]}]})");
  // More values than companions: the companion array is padded on the way back.
  json::Value in = parseJson(R"({"resourceType": "Patient",
    "name": [{"given": ["a", "b", "c"], "_given": [{"id": "x"}]}]})");
  json::Value out = toJson(jsonToXml(r4(), in));
  EXPECT_EQ(out, parseJson(R"({"resourceType": "Patient",
    "name": [{"given": ["a", "b", "c"], "_given": [{"id": "x"}, null, null]}]})"));
}

TEST(XmlFormatTest, ObservationWithContainedDecimalsAndChoicesRoundTrips) {
  expectJsonRoundTrip(R"({
    "resourceType": "Observation",
    "id": "o1",
    "contained": [
      {"resourceType": "Patient", "id": "pat", "name": [{"family": "Jones"}]},
      {"resourceType": "Practitioner", "id": "doc", "active": false}
    ],
    "status": "final",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "27113001",
                         "display": "Body weight"}]},
    "subject": {"reference": "#pat"},
    "effectivePeriod": {"start": "2024-01-01", "end": "2024-01-02T10:00:00+01:00"},
    "performer": [{"reference": "#doc"}],
    "valueQuantity": {"value": 1.50, "unit": "kg", "system": "http://unitsofmeasure.org",
                      "code": "kg"},
    "interpretation": [{"text": "normal"}],
    "referenceRange": [{"low": {"value": 100}, "high": {"value": 1.5e3}}],
    "component": [
      {"code": {"text": "count"}, "valueInteger": 100},
      {"code": {"text": "flag"}, "valueBoolean": true},
      {"code": {"text": "note"}, "valueString": "line one\nline two\ttab \"quoted\" <x> & y"},
      {"code": {"text": "range"}, "valueRange": {"low": {"value": -0.001}}}
    ]
  })");
}

TEST(XmlFormatTest, DecimalTextIsKeptExactly) {
  json::Value obs = toJson(R"(<Observation xmlns="http://hl7.org/fhir"><status value="final"/>
    <code><text value="x"/></code>
    <valueQuantity><value value="1.50"/></valueQuantity>
    <referenceRange><low><value value="100"/></low><high><value value="0.000100"/></high>
    </referenceRange></Observation>)");
  const json::Value* v = obs.find("valueQuantity")->find("value");
  ASSERT_TRUE(v->isNumber());
  EXPECT_EQ(v->text(), "1.50");
  const json::Value& range = obs.find("referenceRange")->items()[0];
  EXPECT_EQ(range.find("low")->find("value")->text(), "100");
  EXPECT_EQ(range.find("high")->find("value")->text(), "0.000100");
  std::string xml = jsonToXml(r4(), obs);
  EXPECT_NE(xml.find("<value value=\"1.50\"/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<value value=\"0.000100\"/>"), std::string::npos) << xml;
}

TEST(XmlFormatTest, BundleWithEntriesRoundTrips) {
  expectJsonRoundTrip(R"({
    "resourceType": "Bundle",
    "id": "b1",
    "type": "transaction-response",
    "link": [{"relation": "self", "url": "https://example.org/fhir"}],
    "entry": [
      {"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
       "resource": {"resourceType": "Patient", "id": "a", "active": true,
                    "text": {"status": "generated",
                             "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">A</div>"}},
       "request": {"method": "POST", "url": "Patient"},
       "response": {"status": "201 Created", "location": "Patient/a/_history/1"}},
      {"resource": {"resourceType": "Bundle", "type": "collection",
                    "entry": [{"resource": {"resourceType": "Organization", "name": "Inner"}}]},
       "response": {"status": "400 Bad Request",
                    "outcome": {"resourceType": "OperationOutcome",
                                "issue": [{"severity": "error", "code": "structure",
                                           "expression": ["Patient.name[0]"]}]}}}
    ]
  })");
}

TEST(XmlFormatTest, ParametersWithResourceRoundTrips) {
  expectJsonRoundTrip(R"({
    "resourceType": "Parameters",
    "parameter": [
      {"name": "text", "valueString": "x"},
      {"name": "patient", "resource": {"resourceType": "Patient", "id": "p"}},
      {"name": "group", "part": [{"name": "amount", "valueDecimal": 0.10},
                                 {"name": "flag", "valueBoolean": false},
                                 {"name": "count", "valueUnsignedInt": 0}]}
    ]
  })");
}

TEST(XmlFormatTest, ExtensionsEverywhereRoundTrip) {
  expectJsonRoundTrip(R"({
    "resourceType": "CarePlan",
    "id": "cp",
    "modifierExtension": [{"url": "http://example.org/mod", "valueBoolean": true}],
    "extension": [
      {"url": "http://example.org/complex", "id": "e1",
       "extension": [{"url": "a", "valueInteger": -5},
                     {"url": "b", "valuePositiveInt": 7},
                     {"url": "c", "valueDecimal": 3.14159},
                     {"url": "d", "valueReference": {"reference": "Patient/x"}},
                     {"url": "e", "valueString": "s", "_valueString": {"id": "vs"}}]}
    ],
    "status": "active",
    "_status": {"id": "st",
                "extension": [{"url": "http://example.org/why", "valueString": "because"}]},
    "intent": "plan",
    "subject": {"reference": "Patient/x",
                "extension": [{"url": "http://example.org/r", "valueCode": "c"}]},
    "activity": [{"detail": {"status": "completed", "doNotPerform": false,
                             "scheduledString": "daily",
                             "productCodeableConcept": {"text": "thing"},
                             "dailyAmount": {"value": 2}, "quantity": {"value": 10.0}}}]
  })");
}

TEST(XmlFormatTest, NarrativeMarkupAndEntitiesArePreserved) {
  const std::string div =
      "<div xmlns=\"http://www.w3.org/1999/xhtml\"><h1 xml:lang=\"en\">T&amp;C</h1>"
      "<table><tr><td>a &lt; b</td></tr></table>\n  <p>caf\xC3\xA9 &amp;amp; <a "
      "href=\"x?a=1&amp;b=2\">"
      "link</a></p></div>";
  json::Value in = json::Value::makeObject();
  in.set("resourceType", json::Value::makeString("Patient"));
  json::Value text = json::Value::makeObject();
  text.set("status", json::Value::makeString("generated"));
  text.set("div", json::Value::makeString(div));
  in.set("text", std::move(text));
  for (bool pretty : {false, true}) {
    std::string xml = jsonToXml(r4(), in, pretty);
    EXPECT_NE(xml.find(div), std::string::npos) << xml;  // embedded verbatim, no indentation
    json::Value back = toJson(xml);
    EXPECT_EQ(back.find("text")->getString("div"), div);
  }
}

TEST(XmlFormatTest, NarrativeWithPrefixedNamespaceIsNormalised) {
  json::Value p = toJson(
      R"(<Patient xmlns="http://hl7.org/fhir" xmlns:h="http://www.w3.org/1999/xhtml">)"
      R"(<text><status value="generated"/><h:div><h:p>Hi <h:b>there</h:b><!-- c --></h:p></h:div>)"
      R"(</text></Patient>)");
  EXPECT_EQ(p.find("text")->getString("div"),
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Hi <b>there</b></p></div>");
}

TEST(XmlFormatTest, UnparsableNarrativeIsWrittenAsText) {
  json::Value in = parseJson(R"({"resourceType": "Patient",
    "text": {"status": "generated", "div": "<div><p>unclosed</div>"}})");
  std::string xml = jsonToXml(r4(), in);
  xml::XmlError err;
  ASSERT_NE(xml::parseUntrusted(xml, err), nullptr) << err.message << xml;
  json::Value back = toJson(xml);
  EXPECT_EQ(back.find("text")->getString("div"),
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">&lt;div&gt;&lt;p&gt;unclosed&lt;/div&gt;"
            "</div>");
}

TEST(XmlFormatTest, NarrativeWithDoctypeIsNotParsedAsMarkup) {
  json::Value in = parseJson(R"({"resourceType": "Patient",
    "text": {"status": "generated",
             "div": "<!DOCTYPE div [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><div>&x;</div>"}})");
  std::string xml = jsonToXml(r4(), in);
  EXPECT_EQ(xml.find("root:"), std::string::npos);
  EXPECT_EQ(xml.find("<!DOCTYPE"), std::string::npos);
  EXPECT_NE(xml.find("&lt;!DOCTYPE"), std::string::npos) << xml;
  toJson(xml);
}

// ---------------------------------------------------------------- exact output

constexpr const char* kOrderedObservation = R"({
  "valueQuantity": {"unit": "mg", "value": 1.50},
  "status": "final",
  "_status": {"id": "s1"},
  "extension": [{"valueString": "a", "url": "http://example.org/x"}],
  "code": {"text": "x", "id": "c1"},
  "category": [{"text": "vital"}, {"text": "lab"}],
  "id": "o1",
  "resourceType": "Observation",
  "text": {"div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a  b</p></div>",
           "status": "generated"},
  "unknownProperty": 1
})";

TEST(XmlFormatTest, WritesElementsInDefinitionOrderCompact) {
  std::string xml = jsonToXml(r4(), parseJson(kOrderedObservation));
  EXPECT_EQ(xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            "<Observation xmlns=\"http://hl7.org/fhir\">"
            "<id value=\"o1\"/>"
            "<text><status value=\"generated\"/>"
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a  b</p></div></text>"
            "<extension url=\"http://example.org/x\"><valueString value=\"a\"/></extension>"
            "<status id=\"s1\" value=\"final\"/>"
            "<category><text value=\"vital\"/></category>"
            "<category><text value=\"lab\"/></category>"
            "<code id=\"c1\"><text value=\"x\"/></code>"
            "<valueQuantity><value value=\"1.50\"/><unit value=\"mg\"/></valueQuantity>"
            "</Observation>");
}

TEST(XmlFormatTest, WritesElementsInDefinitionOrderPretty) {
  std::string xml = jsonToXml(r4(), parseJson(kOrderedObservation), true);
  EXPECT_EQ(xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<Observation xmlns=\"http://hl7.org/fhir\">\n"
            "  <id value=\"o1\"/>\n"
            "  <text>\n"
            "    <status value=\"generated\"/>\n"
            "    <div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a  b</p></div>\n"
            "  </text>\n"
            "  <extension url=\"http://example.org/x\">\n"
            "    <valueString value=\"a\"/>\n"
            "  </extension>\n"
            "  <status id=\"s1\" value=\"final\"/>\n"
            "  <category>\n"
            "    <text value=\"vital\"/>\n"
            "  </category>\n"
            "  <category>\n"
            "    <text value=\"lab\"/>\n"
            "  </category>\n"
            "  <code id=\"c1\">\n"
            "    <text value=\"x\"/>\n"
            "  </code>\n"
            "  <valueQuantity>\n"
            "    <value value=\"1.50\"/>\n"
            "    <unit value=\"mg\"/>\n"
            "  </valueQuantity>\n"
            "</Observation>\n");
}

TEST(XmlFormatTest, WritesContainedAndPrimitiveArrays) {
  std::string xml = jsonToXml(r4(), parseJson(R"({"resourceType": "Patient",
    "contained": [{"resourceType": "Organization", "id": "o", "name": "Org"}],
    "name": [{"given": ["A", null],
              "_given": [null, {"extension": [{"url": "u", "valueCode": "x"}]}]}],
    "managingOrganization": {"reference": "#o"}})"));
  EXPECT_EQ(xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Patient xmlns=\"http://hl7.org/fhir\">"
            "<contained><Organization><id value=\"o\"/><name value=\"Org\"/></Organization>"
            "</contained>"
            "<name><given value=\"A\"/><given><extension url=\"u\"><valueCode value=\"x\"/>"
            "</extension></given></name>"
            "<managingOrganization><reference value=\"#o\"/></managingOrganization></Patient>");
}

TEST(XmlFormatTest, EscapesValuesSoOutputStaysWellFormed) {
  json::Value in = json::Value::makeObject();
  in.set("resourceType", json::Value::makeString("Patient"));
  in.set("id", json::Value::makeString("x"));
  json::Value name = json::Value::makeObject();
  name.set("text",
           json::Value::makeString(std::string("a\"b<c>&d\te\nf\rg\x01h") + "\xEF\xBF\xBF"));
  json::Value names = json::Value::makeArray();
  names.push(std::move(name));
  in.set("name", std::move(names));
  std::string xml = jsonToXml(r4(), in);
  EXPECT_NE(xml.find("<text value=\"a&quot;b&lt;c&gt;&amp;d&#9;e&#10;f&#13;g\xEF\xBF\xBDh"
                     "\xEF\xBF\xBD\"/>"),
            std::string::npos)
      << xml;
  json::Value back = toJson(xml);
  EXPECT_EQ(back.find("name")->items()[0].getString("text"),
            "a\"b<c>&d\te\nf\rg\xEF\xBF\xBDh\xEF\xBF\xBD");
}

TEST(XmlFormatTest, NonResourcesGiveEmptyOutput) {
  EXPECT_EQ(jsonToXml(r4(), parseJson(R"({"resourceType": "HumanName"})")), "");
  EXPECT_EQ(jsonToXml(r4(), parseJson(R"({"resourceType": "DomainResource"})")), "");
  EXPECT_EQ(jsonToXml(r4(), parseJson(R"({"id": "x"})")), "");
  EXPECT_EQ(jsonToXml(r4(), parseJson(R"([1])")), "");
}

// ---------------------------------------------------------------- XML → JSON specifics

TEST(XmlFormatTest, AlignsRepeatingPrimitivesWithNulls) {
  json::Value p = toJson(R"(<Patient xmlns="http://hl7.org/fhir"><name>
      <given value="A"/>
      <given id="x"><extension url="u"><valueString value="v"/></extension></given>
      <given value="C"/>
      <given id="y" value="D"/>
    </name><active value="true"/></Patient>)");
  EXPECT_EQ(p, parseJson(R"({"resourceType": "Patient", "active": true, "name": [{
      "given": ["A", null, "C", "D"],
      "_given": [null, {"id": "x", "extension": [{"url": "u", "valueString": "v"}]}, null,
                 {"id": "y"}]}]})"));
  const json::Value* active = p.find("active");
  ASSERT_TRUE(active->isBool());
  EXPECT_TRUE(active->boolean());
}

TEST(XmlFormatTest, AcceptsPrefixedFhirNamespaceAndSchemaLocation) {
  json::Value p = toJson(
      R"(<f:Patient xmlns:f="http://hl7.org/fhir")"
      R"( xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance")"
      R"( xsi:schemaLocation="http://hl7.org/fhir fhir-single.xsd"><f:id value="p"/></f:Patient>)");
  EXPECT_EQ(p, parseJson(R"({"resourceType": "Patient", "id": "p"})"));
}

TEST(XmlFormatTest, ReadsElementIdAndExtensionUrlAttributes) {
  json::Value p = toJson(R"(<Patient xmlns="http://hl7.org/fhir">
      <extension id="e" url="http://example.org/a"><valueInteger value="-3"/></extension>
      <name id="n"><family value="F"/></name></Patient>)");
  EXPECT_EQ(p, parseJson(R"({"resourceType": "Patient",
      "extension": [{"id": "e", "url": "http://example.org/a", "valueInteger": -3}],
      "name": [{"id": "n", "family": "F"}]})"));
}

// ---------------------------------------------------------------- errors

TEST(XmlFormatTest, UnknownElementHasLocation) {
  IssueList issues = failing(R"(<Patient xmlns="http://hl7.org/fhir"><name><family value="x"/>
      <foo value="1"/></name><name><bar/></name><whatever/></Patient>)");
  EXPECT_TRUE(hasIssue(issues, "structure", "Patient.name[0].foo", "parse.xml.unknown-element"))
      << issuesText(issues);
  EXPECT_TRUE(hasIssue(issues, "structure", "Patient.name[1].bar", "parse.xml.unknown-element"))
      << issuesText(issues);
  EXPECT_TRUE(hasIssue(issues, "structure", "Patient.whatever", "parse.xml.unknown-element"))
      << issuesText(issues);
}

TEST(XmlFormatTest, UnknownElementInsideNestedResource) {
  IssueList issues = failing(R"(<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>
      <entry><resource><Patient><bogus value="1"/></Patient></resource></entry></Bundle>)");
  EXPECT_TRUE(
      hasIssue(issues, "structure", "Bundle.entry[0].resource.bogus", "parse.xml.unknown-element"))
      << issuesText(issues);
}

TEST(XmlFormatTest, WrongNamespaceIsAnError) {
  IssueList root =
      failing(R"(<Patient xmlns="http://hl7.org/fhir/other"><id value="1"/></Patient>)");
  EXPECT_TRUE(hasIssue(root, "structure", "Patient", "parse.xml.namespace")) << issuesText(root);
  IssueList none = failing(R"(<Patient><id value="1"/></Patient>)");
  EXPECT_TRUE(hasIssue(none, "structure", "Patient", "parse.xml.namespace")) << issuesText(none);
  IssueList child =
      failing(R"(<Patient xmlns="http://hl7.org/fhir"><id xmlns="urn:x" value="1"/></Patient>)");
  EXPECT_TRUE(hasIssue(child, "structure", "Patient.id", "parse.xml.namespace"))
      << issuesText(child);
  IssueList div = failing(R"(<Patient xmlns="http://hl7.org/fhir"><text>
      <status value="generated"/><div>plain</div></text></Patient>)");
  EXPECT_TRUE(hasIssue(div, "structure", "Patient.text.div", "parse.xml.namespace"))
      << issuesText(div);
  IssueList inner = failing(R"(<Patient xmlns="http://hl7.org/fhir"><text>
      <status value="generated"/>
      <div xmlns="http://www.w3.org/1999/xhtml"><p xmlns="urn:x">x</p></div>
      </text></Patient>)");
  EXPECT_TRUE(hasIssue(inner, "structure", "Patient.text.div", "parse.xml.xhtml"))
      << issuesText(inner);
}

TEST(XmlFormatTest, RootMustBeAResource) {
  IssueList issues = failing(R"(<HumanName xmlns="http://hl7.org/fhir"/>)");
  EXPECT_TRUE(hasIssue(issues, "structure", "HumanName", "parse.xml.unknown-resource"))
      << issuesText(issues);
  IssueList contained = failing(R"(<Patient xmlns="http://hl7.org/fhir"><contained>
      <HumanName/></contained></Patient>)");
  EXPECT_TRUE(hasIssue(contained, "structure", "Patient.contained[0].HumanName",
                       "parse.xml.unknown-resource"))
      << issuesText(contained);
  IssueList two = failing(R"(<Patient xmlns="http://hl7.org/fhir"><contained>
      <Patient/><Patient/></contained></Patient>)");
  EXPECT_TRUE(hasIssue(two, "structure", "Patient.contained[0]", "parse.xml.bad-resource"))
      << issuesText(two);
}

TEST(XmlFormatTest, DoctypeAndEntitiesAreRejected) {
  for (const char* xml :
       {"<!DOCTYPE Patient [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&x;\"/></Patient>",
        "<!DOCTYPE Patient [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>"
        "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&b;\"/></Patient>",
        "<!DOCTYPE Patient SYSTEM \"http://127.0.0.1:9/x.dtd\">"
        "<Patient xmlns=\"http://hl7.org/fhir\"/>"}) {
    IssueList issues = failing(xml);
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues.issues()[0].type, "structure");
    EXPECT_EQ(issues.issues()[0].code, "parse.xml.doctype");
    EXPECT_EQ(issues.issues()[0].message.find("root:"), std::string::npos);
  }
}

TEST(XmlFormatTest, MalformedXmlIsRejected) {
  IssueList issues = failing("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1\"></Patient>");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues.issues()[0].type, "structure");
  EXPECT_EQ(issues.issues()[0].code, "parse.xml.malformed");
}

TEST(XmlFormatTest, InvalidPrimitiveValues) {
  IssueList issues = failing(R"(<Observation xmlns="http://hl7.org/fhir"><status value="final"/>
      <code><text value="x"/></code>
      <valueQuantity><value value="1,5"/></valueQuantity>
      <component><code><text value="a"/></code><valueBoolean value="yes"/></component>
      <component><code><text value="b"/></code><valueInteger value="1.0"/></component>
      <component><code><text value="c"/></code><valueInteger value="+7"/></component>
    </Observation>)");
  EXPECT_TRUE(
      hasIssue(issues, "value", "Observation.valueQuantity.value", "parse.xml.invalid-value"))
      << issuesText(issues);
  EXPECT_TRUE(
      hasIssue(issues, "value", "Observation.component[0].valueBoolean", "parse.xml.invalid-value"))
      << issuesText(issues);
  EXPECT_TRUE(
      hasIssue(issues, "value", "Observation.component[1].valueInteger", "parse.xml.invalid-value"))
      << issuesText(issues);
  EXPECT_TRUE(
      hasIssue(issues, "value", "Observation.component[2].valueInteger", "parse.xml.invalid-value"))
      << issuesText(issues);
  std::string longNumber(65, '1');
  IssueList tooLong = failing(
      "<Observation xmlns=\"http://hl7.org/fhir\"><valueQuantity><value "
      "value=\"" +
      longNumber + "\"/></valueQuantity></Observation>");
  EXPECT_TRUE(
      hasIssue(tooLong, "value", "Observation.valueQuantity.value", "parse.xml.invalid-value"));
}

TEST(XmlFormatTest, StructuralMistakes) {
  IssueList issues = failing(R"(<Patient xmlns="http://hl7.org/fhir" id="no">
      <active value="true"/><active value="false"/>
      <gender value="male" foo="1"/>
      <birthDate/>
      <name>stray text<family value="x"/></name>
      <deceasedBoolean value="true"/><deceasedDateTime value="2020"/>
      <managingOrganization url="x"><reference value="a"/></managingOrganization>
      <contact><id value="c"/></contact>
    </Patient>)");
  std::string all = issuesText(issues);
  EXPECT_TRUE(hasIssue(issues, "structure", "Patient.id", "parse.xml.unknown-attribute")) << all;
  EXPECT_TRUE(hasIssue(issues, "structure", "Patient.active", "parse.xml.repeated-element")) << all;
  EXPECT_TRUE(hasIssue(issues, "structure", "Patient.gender.foo", "parse.xml.unknown-attribute"))
      << all;
  EXPECT_TRUE(hasIssue(issues, "structure", "Patient.birthDate", "parse.xml.empty-element")) << all;
  EXPECT_TRUE(hasIssue(issues, "structure", "Patient.name[0]", "parse.xml.unexpected-text")) << all;
  EXPECT_TRUE(
      hasIssue(issues, "structure", "Patient.deceasedDateTime", "parse.xml.repeated-element"))
      << all;
  EXPECT_TRUE(hasIssue(issues, "structure", "Patient.managingOrganization.url",
                       "parse.xml.unknown-attribute"))
      << all;
  // Element.id is an attribute; as an element it is unknown.
  EXPECT_TRUE(hasIssue(issues, "structure", "Patient.contact[0].id", "parse.xml.unknown-element"))
      << all;
}

TEST(XmlFormatTest, NestingBeyondTheJsonLimitIsRejected) {
  std::string xml =
      "<QuestionnaireResponse xmlns=\"http://hl7.org/fhir\"><status value=\"completed\"/>";
  for (int i = 0; i < 40; ++i) xml += "<item><linkId value=\"l\"/>";
  for (int i = 0; i < 40; ++i) xml += "</item>";
  xml += "</QuestionnaireResponse>";
  IssueList issues = failing(xml);
  bool found = false;
  for (const Issue& i : issues.issues())
    found |= i.type == "too-long" && i.code == "parse.xml.too-deep";
  EXPECT_TRUE(found) << issuesText(issues);

  // Shallower nesting converts, and its JSON is accepted by the JSON reader.
  std::string ok =
      "<QuestionnaireResponse xmlns=\"http://hl7.org/fhir\"><status value=\"completed\"/>";
  for (int i = 0; i < 20; ++i) ok += "<item><linkId value=\"l\"/>";
  for (int i = 0; i < 20; ++i) ok += "</item>";
  ok += "</QuestionnaireResponse>";
  json::Value v = toJson(ok);
  parseJson(json::write(v));
}

}  // namespace
}  // namespace acp::model
