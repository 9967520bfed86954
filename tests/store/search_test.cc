// SqlStore search: every parameter type and modifier (positive and negative), chains,
// _include / _revinclude, _sort, totals, keyset cursors, SQL metacharacters, query plans.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "gateway/store/sql_search.h"
#include "tests/store/store_fixture.h"

namespace acp::store::testing {
namespace {

using V = std::vector<std::string>;

class SearchTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    const std::string nhs = kNhs;
    seed("Patient", "p1",
         R"({"resourceType":"Patient","active":true,"gender":"male",
        "identifier":[{"system":")" +
             nhs + R"(","value":"9000000009"}],
        "name":[{"family":"Smith","given":["John"]}],"birthDate":"1970-05-01"})");
    seed("Patient", "p2",
         R"({"resourceType":"Patient","gender":"female",
        "identifier":[{"system":")" +
             nhs + R"(","value":"9000000017"}],
        "name":[{"family":"Smithers","given":["Anna"]}],"birthDate":"1985"})");
    seed("Patient", "p3", R"({"resourceType":"Patient",
        "identifier":[{"value":"local-1"}],
        "name":[{"family":"Jones"}],"birthDate":"1970-12-31"})");
    seed("Patient", "p4", R"({"resourceType":"Patient",
        "identifier":[{"system":"urn:sys","value":"a;b"}],"name":[{"family":"O'Brien"}]})");
    seed("Patient", "p5", R"({"resourceType":"Patient","name":[{"family":"100%_done"}]})");
    seed("Patient", "p6", R"({"resourceType":"Patient","name":[{"family":"José"}]})");
    seed("Patient", "p7", R"({"resourceType":"Patient","active":false})");

    seed("CarePlan", "cp1", R"({"resourceType":"CarePlan","status":"active","intent":"plan",
        "subject":{"reference":"Patient/p1"},
        "period":{"start":"2024-01-01","end":"2024-06-30"}})");
    seed("CarePlan", "cp2", R"({"resourceType":"CarePlan","status":"completed",
        "intent":"plan","subject":{"reference":"Patient/p1"},
        "period":{"start":"2023-01-01","end":"2023-12-31"}})");
    seed("CarePlan", "cp3", R"({"resourceType":"CarePlan","status":"active","intent":"plan",
        "subject":{"reference":"Patient/p2"}})");
    seed("CarePlan", "cp4",
         R"({"resourceType":"CarePlan","status":"draft","intent":"plan",
        "subject":{"identifier":{"system":")" +
             nhs + R"(","value":"9000000025"}}})");
    seed("CarePlan", "cp5",
         R"({"resourceType":"CarePlan","status":"active","intent":"plan",
        "subject":{"reference":")" +
             std::string(kBase) + R"(/Patient/p3"}})");
    seed("CarePlan", "cp6", R"({"resourceType":"CarePlan","status":"active","intent":"plan",
        "subject":{"reference":"Patient/p2"},"basedOn":[{"reference":"CarePlan/cp1"}]})");
    seed("CarePlan", "cp7", R"({"resourceType":"CarePlan","status":"active","intent":"plan"})");
    seed("CarePlan", "cp8", R"({"resourceType":"CarePlan","status":"active","intent":"plan",
        "subject":{"reference":"http://other.org/fhir/Patient/9"}})");

    seed("Observation", "o1", R"({"resourceType":"Observation","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"8867-4",
        "display":"Heart rate"}],"text":"Heart rate"},
        "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-01T10:00:00Z",
        "valueQuantity":{"value":72,"unit":"beats/minute","system":"http://unitsofmeasure.org",
        "code":"/min"}})");
    seed("Observation", "o2", R"({"resourceType":"Observation","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"8310-5",
        "display":"Body temperature"}]},
        "subject":{"reference":"Patient/p2"},"effectiveDateTime":"2024-03-02",
        "valueQuantity":{"value":37.5,"unit":"°C","system":"http://unitsofmeasure.org",
        "code":"Cel"}})");

    seed("RiskAssessment", "r1", R"({"resourceType":"RiskAssessment","status":"final",
        "subject":{"reference":"Patient/p1"},"prediction":[{"probabilityDecimal":0.35}]})");
    seed("RiskAssessment", "r2", R"({"resourceType":"RiskAssessment","status":"final",
        "subject":{"reference":"Patient/p2"},"prediction":[{"probabilityDecimal":0.8}]})");

    seed("ValueSet", "vs1", R"({"resourceType":"ValueSet","status":"active",
        "url":"http://example.org/fhir/ValueSet/abc"})");
    seed("ValueSet", "vs2", R"({"resourceType":"ValueSet","status":"active",
        "url":"http://example.org/other/ValueSet/xyz"})");

    seed("Practitioner", "prac1", R"({"resourceType":"Practitioner",
        "name":[{"family":"Who"}]})");
    seed("Provenance", "prov1", R"({"resourceType":"Provenance",
        "target":[{"reference":"CarePlan/cp1"}],"recorded":"2024-01-02T00:00:00Z",
        "agent":[{"who":{"reference":"Practitioner/prac1"}}]})");
    seed("Flag", "flag1", R"({"resourceType":"Flag","status":"active","code":{"text":"x"},
        "subject":{"reference":"Patient/p1"}})");
  }

  void seed(const std::string& type, const std::string& id, const std::string& json) {
    auto r = put(type, id, json);
    ASSERT_TRUE(r.isOk()) << type << "/" << id << ": " << r.status().message();
  }

  V included(const Page& p) {
    V out;
    for (const auto& e : p.included) out.push_back(e.type + "/" + e.id);
    std::sort(out.begin(), out.end());
    return out;
  }

  V order(const std::string& type, const Params& params) {
    V out;
    for (const auto& e : search(type, params).entries) out.push_back(e.id);
    return out;
  }
};

TEST_F(SearchTest, StringDefaultExactContainsMissing) {
  EXPECT_EQ(ids("Patient", {{"family", "smith"}}), (V{"p1", "p2"}));
  EXPECT_EQ(ids("Patient", {{"family", "SMITH"}}), (V{"p1", "p2"}));
  EXPECT_EQ(ids("Patient", {{"family", "smithe"}}), (V{"p2"}));
  EXPECT_EQ(ids("Patient", {{"family", "xyz"}}), V{});
  EXPECT_EQ(ids("Patient", {{"family", "mith"}}), V{});  // starts-with, not contains
  EXPECT_EQ(ids("Patient", {{"family:exact", "Smith"}}), (V{"p1"}));
  EXPECT_EQ(ids("Patient", {{"family:exact", "smith"}}), V{});
  EXPECT_EQ(ids("Patient", {{"family:contains", "mith"}}), (V{"p1", "p2"}));
  EXPECT_EQ(ids("Patient", {{"family:contains", "ONES"}}), (V{"p3"}));
  EXPECT_EQ(ids("Patient", {{"family:contains", "one"}}), (V{"p3", "p5"}));  // 100%_done
  EXPECT_EQ(ids("Patient", {{"family:contains", "zz"}}), V{});
  EXPECT_EQ(ids("Patient", {{"name", "john"}}), (V{"p1"}));  // given names count for name
  EXPECT_EQ(ids("Patient", {{"family", "jose"}}), (V{"p6"}));
  EXPECT_EQ(ids("Patient", {{"family", "José"}}), (V{"p6"}));
  EXPECT_EQ(ids("Patient", {{"family", "smith,jones"}}), (V{"p1", "p2", "p3"}));
  EXPECT_EQ(ids("Patient", {{"family", "smith"}, {"given", "anna"}}), (V{"p2"}));
  EXPECT_EQ(ids("Patient", {{"family:missing", "true"}}), (V{"p7"}));
  EXPECT_EQ(ids("Patient", {{"family:missing", "false"}}), (V{"p1", "p2", "p3", "p4", "p5", "p6"}));
}

TEST_F(SearchTest, TokenForms) {
  const std::string nhs = kNhs;
  EXPECT_EQ(ids("Patient", {{"identifier", nhs + "|9000000009"}}), (V{"p1"}));
  EXPECT_EQ(ids("Patient", {{"identifier", "9000000009"}}), (V{"p1"}));
  EXPECT_EQ(ids("Patient", {{"identifier", "other|9000000009"}}), V{});
  EXPECT_EQ(ids("Patient", {{"identifier", "|local-1"}}), (V{"p3"}));
  EXPECT_EQ(ids("Patient", {{"identifier", "|9000000009"}}), V{});  // it has a system
  EXPECT_EQ(ids("Patient", {{"identifier", nhs + "|"}}), (V{"p1", "p2"}));
  EXPECT_EQ(ids("Patient", {{"identifier", "9000000009,local-1"}}), (V{"p1", "p3"}));
  EXPECT_EQ(ids("Patient", {{"gender", "male"}}), (V{"p1"}));
  EXPECT_EQ(ids("Patient", {{"gender", "MALE"}}), V{});  // codes are case-sensitive
  EXPECT_EQ(ids("Patient", {{"gender:not", "male"}}),
            (V{"p2", "p3", "p4", "p5", "p6", "p7"}));  // includes those without gender
  EXPECT_EQ(ids("Patient", {{"active", "true"}}), (V{"p1"}));
  EXPECT_EQ(ids("Patient", {{"active", "false"}}), (V{"p7"}));
  EXPECT_EQ(ids("Patient", {{"gender:missing", "true"}}), (V{"p3", "p4", "p5", "p6", "p7"}));
  EXPECT_EQ(ids("Observation", {{"code", "http://loinc.org|8867-4"}}), (V{"o1"}));
  EXPECT_EQ(ids("Observation", {{"code", "8310-5"}}), (V{"o2"}));
  EXPECT_EQ(ids("Observation", {{"code:text", "heart"}}), (V{"o1"}));
  EXPECT_EQ(ids("Observation", {{"code:text", "body temp"}}), (V{"o2"}));
  EXPECT_EQ(ids("Observation", {{"code:text", "rate"}}), V{});
}

TEST_F(SearchTest, DatePrefixesFollowR4Ranges) {
  EXPECT_EQ(ids("Patient", {{"birthdate", "1970"}}), (V{"p1", "p3"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "1970-05"}}), (V{"p1"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "1970-05-01"}}), (V{"p1"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "eq1970-05-02"}}), V{});
  // p2 was born "1985": its range is not inside June 1985, so eq fails and ge succeeds.
  EXPECT_EQ(ids("Patient", {{"birthdate", "1985-06"}}), V{});
  EXPECT_EQ(ids("Patient", {{"birthdate", "ge1985-06"}}), (V{"p2"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "ne1970"}}), (V{"p2"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "gt1970-06"}}), (V{"p2", "p3"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "lt1970-06"}}), (V{"p1"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "ge1970-12-31"}}), (V{"p2", "p3"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "le1970-05-01"}}), (V{"p1"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "sa1970"}}), (V{"p2"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "eb1985"}}), (V{"p1", "p3"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "ap1970-05-02"}}), (V{"p1", "p3"}));
  EXPECT_EQ(ids("Patient", {{"birthdate", "ge1970"}, {"birthdate", "le1970"}}), (V{"p1", "p3"}));
  EXPECT_EQ(ids("Patient", {{"birthdate:missing", "true"}}), (V{"p4", "p5", "p6", "p7"}));

  // Periods: cp1 is Jan–Jun 2024, cp2 is 2023.
  EXPECT_EQ(ids("CarePlan", {{"date", "2024"}}), (V{"cp1"}));
  EXPECT_EQ(ids("CarePlan", {{"date", "2024-03"}}), V{});  // the period is wider
  EXPECT_EQ(ids("CarePlan", {{"date", "ge2024-03"}}), (V{"cp1"}));
  EXPECT_EQ(ids("CarePlan", {{"date", "sa2023"}}), (V{"cp1"}));
  EXPECT_EQ(ids("CarePlan", {{"date", "eb2024"}}), (V{"cp2"}));
  EXPECT_EQ(ids("CarePlan", {{"date", "lt2024-01-01T00:00:00Z"}}), (V{"cp2"}));
  EXPECT_EQ(ids("Observation", {{"date", "2024-03-01"}}), (V{"o1"}));
  EXPECT_EQ(ids("Observation", {{"date", "gt2024-03-01T12:00:00Z"}}), (V{"o2"}));
}

TEST_F(SearchTest, LastUpdatedAndId) {
  tick(86400000);  // a day later
  WriteResult late = create(R"({"resourceType":"Patient","name":[{"family":"Late"}]})");
  EXPECT_EQ(ids("Patient", {{"_lastUpdated", "ge2024-01-02"}}), (V{late.resource.id}));
  EXPECT_EQ(ids("Patient", {{"_lastUpdated", "2024-01-02"}}), (V{late.resource.id}));
  EXPECT_EQ(ids("Patient", {{"_lastUpdated", "lt2024-01-02"}}),
            (V{"p1", "p2", "p3", "p4", "p5", "p6", "p7"}));
  EXPECT_EQ(ids("Patient", {{"_lastUpdated", "gt2024-01-02T00:00:00.000Z"}}), V{});
  EXPECT_EQ(ids("Patient", {{"_id", "p1"}}), (V{"p1"}));
  EXPECT_EQ(ids("Patient", {{"_id", "p1,p3"}}), (V{"p1", "p3"}));
  EXPECT_EQ(ids("Patient", {{"_id", "cp1"}}), V{});  // other type
  EXPECT_EQ(ids("Patient", {{"_id", "p1"}, {"family", "jones"}}), V{});
}

TEST_F(SearchTest, References) {
  EXPECT_EQ(ids("CarePlan", {{"subject", "Patient/p1"}}), (V{"cp1", "cp2"}));
  EXPECT_EQ(ids("CarePlan", {{"subject", "p1"}}), (V{"cp1", "cp2"}));
  EXPECT_EQ(ids("CarePlan", {{"subject:Patient", "p1"}}), (V{"cp1", "cp2"}));
  EXPECT_EQ(ids("CarePlan", {{"subject:Group", "p1"}}), V{});
  EXPECT_EQ(ids("CarePlan", {{"subject", "Group/p1"}}), V{});
  EXPECT_EQ(ids("CarePlan", {{"patient", "p1"}}), (V{"cp1", "cp2"}));
  EXPECT_EQ(ids("CarePlan", {{"subject", "Patient/p1,Patient/p2"}}),
            (V{"cp1", "cp2", "cp3", "cp6"}));
  // An absolute reference to this server is the same as a relative one, both ways.
  EXPECT_EQ(ids("CarePlan", {{"subject", "Patient/p3"}}), (V{"cp5"}));
  EXPECT_EQ(ids("CarePlan", {{"subject", std::string(kBase) + "/Patient/p3"}}), (V{"cp5"}));
  EXPECT_EQ(ids("CarePlan", {{"subject", std::string(kBase) + "/Patient/p1"}}), (V{"cp1", "cp2"}));
  // A foreign absolute URL matches as written.
  EXPECT_EQ(ids("CarePlan", {{"subject", "http://other.org/fhir/Patient/9"}}), (V{"cp8"}));
  EXPECT_EQ(ids("CarePlan", {{"subject", "http://other.org/fhir/Patient/10"}}), V{});
  EXPECT_EQ(ids("CarePlan", {{"subject:identifier", std::string(kNhs) + "|9000000025"}}),
            (V{"cp4"}));
  EXPECT_EQ(ids("CarePlan", {{"subject:identifier", "other|9000000025"}}), V{});
  EXPECT_EQ(ids("CarePlan", {{"subject:missing", "true"}}), (V{"cp7"}));
  EXPECT_EQ(ids("CarePlan", {{"subject:missing", "false"}}),
            (V{"cp1", "cp2", "cp3", "cp4", "cp5", "cp6", "cp8"}));
  EXPECT_EQ(ids("Flag", {{"patient", "p1"}}), (V{"flag1"}));
  EXPECT_EQ(ids("Provenance", {{"target", "CarePlan/cp1"}}), (V{"prov1"}));
}

TEST_F(SearchTest, NumberAndQuantity) {
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "0.35"}}), (V{"r1"}));
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "0.8"}}), (V{"r2"}));
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "0.5"}}), V{});
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "gt0.5"}}), (V{"r2"}));
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "lt0.5"}}), (V{"r1"}));
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "ge0.8"}}), (V{"r2"}));
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "le0.35"}}), (V{"r1"}));
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "ne0.35"}}), (V{"r2"}));
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "ap0.33"}}), (V{"r1"}));
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "ap0.5"}}), V{});
  // Implicit precision: "1" covers [0.5, 1.5), so 0.8 matches.
  EXPECT_EQ(ids("RiskAssessment", {{"probability", "1"}}), (V{"r2"}));

  const std::string ucum = "http://unitsofmeasure.org";
  EXPECT_EQ(ids("Observation", {{"value-quantity", "72"}}), (V{"o1"}));
  EXPECT_EQ(ids("Observation", {{"value-quantity", "72|" + ucum + "|/min"}}), (V{"o1"}));
  EXPECT_EQ(ids("Observation", {{"value-quantity", "72|" + ucum + "|Cel"}}), V{});
  EXPECT_EQ(ids("Observation", {{"value-quantity", "72|other|/min"}}), V{});
  EXPECT_EQ(ids("Observation", {{"value-quantity", "gt40"}}), (V{"o1"}));
  EXPECT_EQ(ids("Observation", {{"value-quantity", "lt40"}}), (V{"o2"}));
  EXPECT_EQ(ids("Observation", {{"value-quantity", "37.5||Cel"}}), (V{"o2"}));
  EXPECT_EQ(ids("Observation", {{"value-quantity", "37.5||°C"}}), (V{"o2"}));  // unit text
  EXPECT_EQ(ids("Observation", {{"value-quantity", "37.5||/min"}}), V{});
}

TEST_F(SearchTest, Uri) {
  EXPECT_EQ(ids("ValueSet", {{"url", "http://example.org/fhir/ValueSet/abc"}}), (V{"vs1"}));
  EXPECT_EQ(ids("ValueSet", {{"url", "http://example.org/fhir/ValueSet"}}), V{});
  EXPECT_EQ(ids("ValueSet", {{"url:below", "http://example.org/fhir"}}), (V{"vs1"}));
  EXPECT_EQ(ids("ValueSet", {{"url:below", "http://example.org/"}}), (V{"vs1", "vs2"}));
  EXPECT_EQ(ids("ValueSet", {{"url:below", "http://example.org/fhir%"}}), V{});
  EXPECT_EQ(ids("ValueSet", {{"url:above", "http://example.org/fhir/ValueSet/abc/x"}}), (V{"vs1"}));
  EXPECT_EQ(ids("ValueSet", {{"url:above", "http://example.org/fhir/ValueSet/ab"}}), V{});
}

TEST_F(SearchTest, ChainedSearch) {
  const std::string nhs = kNhs;
  EXPECT_EQ(ids("CarePlan", {{"subject:Patient.identifier", nhs + "|9000000009"}}),
            (V{"cp1", "cp2"}));
  EXPECT_EQ(ids("CarePlan", {{"subject:Patient.identifier", nhs + "|9999999999"}}), V{});
  EXPECT_EQ(ids("CarePlan", {{"subject.identifier", nhs + "|9000000017"}}), (V{"cp3", "cp6"}));
  EXPECT_EQ(ids("CarePlan", {{"subject:Patient.family", "smith"}}),
            (V{"cp1", "cp2", "cp3", "cp6"}));
  EXPECT_EQ(ids("CarePlan", {{"patient.family", "jones"}}), (V{"cp5"}));
  EXPECT_EQ(
      ids("CarePlan", {{"subject:Patient.identifier", nhs + "|9000000009"}, {"status", "active"}}),
      (V{"cp1"}));
  EXPECT_EQ(ids("CarePlan", {{"subject:Patient.birthdate", "1970"}}), (V{"cp1", "cp2", "cp5"}));
  // Nested chain: Provenance → CarePlan → Patient.
  EXPECT_EQ(
      ids("Provenance", {{"target:CarePlan.subject:Patient.identifier", nhs + "|9000000009"}}),
      (V{"prov1"}));
  // A deleted target no longer satisfies the chain.
  ASSERT_TRUE(remove("Patient", "p2").isOk());
  EXPECT_EQ(ids("CarePlan", {{"subject.identifier", nhs + "|9000000017"}}), V{});
}

TEST_F(SearchTest, IncludeAndRevinclude) {
  Page p = search("CarePlan", {{"_id", "cp1,cp2"}, {"_include", "CarePlan:subject"}});
  EXPECT_EQ(p.entries.size(), 2u);
  EXPECT_EQ(included(p), (V{"Patient/p1"}));  // once, though both point at it
  EXPECT_FALSE(p.includesTruncated);

  p = search("CarePlan", {{"_id", "cp1"}, {"_include", "CarePlan:subject:Group"}});
  EXPECT_EQ(included(p), V{});
  p = search("CarePlan", {{"_id", "cp6"}, {"_include", "CarePlan:based-on"}});
  EXPECT_EQ(included(p), (V{"CarePlan/cp1"}));
  // A match is never repeated as an include.
  p = search("CarePlan", {{"_id", "cp1,cp6"}, {"_include", "CarePlan:based-on"}});
  EXPECT_EQ(p.entries.size(), 2u);
  EXPECT_EQ(included(p), V{});
  p = search("CarePlan", {{"_id", "cp6"}, {"_include", "*"}});
  EXPECT_EQ(included(p), (V{"CarePlan/cp1", "Patient/p2"}));

  p = search("Patient", {{"_id", "p1"}, {"_revinclude", "CarePlan:subject"}});
  EXPECT_EQ(included(p), (V{"CarePlan/cp1", "CarePlan/cp2"}));
  p = search("CarePlan", {{"_id", "cp1"}, {"_revinclude", "Provenance:target"}});
  EXPECT_EQ(included(p), (V{"Provenance/prov1"}));
  p = search("Patient", {{"_id", "p1"}, {"_revinclude", "Flag:patient"}});
  EXPECT_EQ(included(p), (V{"Flag/flag1"}));
  p = search("Patient",
             {{"_id", "p1"}, {"_revinclude", "Flag:patient"}, {"_revinclude", "CarePlan:subject"}});
  EXPECT_EQ(included(p), (V{"CarePlan/cp1", "CarePlan/cp2", "Flag/flag1"}));

  // One level of iteration: Provenance → CarePlan → Patient.
  p = search("Provenance", {{"_id", "prov1"},
                            {"_include", "Provenance:target"},
                            {"_include:iterate", "CarePlan:subject"}});
  EXPECT_EQ(included(p), (V{"CarePlan/cp1", "Patient/p1"}));
  // Without :iterate the second step does not happen (a CarePlan:subject spec without
  // :iterate does not apply to included CarePlans; the parser refuses it, so build it).
  {
    auto q = parseSearch("Provenance", {{"_id", "prov1"}, {"_include", "Provenance:target"}});
    search::IncludeSpec spec;
    spec.sourceType = "CarePlan";
    spec.param = "subject";
    q.includes.push_back(spec);
    auto r = store_->search(q);
    ASSERT_TRUE(r.isOk()) << r.status().message();
    EXPECT_EQ(included(r.value()), (V{"CarePlan/cp1"}));
  }

  // Deleted resources are not included.
  ASSERT_TRUE(remove("Patient", "p1").isOk());
  p = search("CarePlan", {{"_id", "cp1"}, {"_include", "CarePlan:subject"}});
  EXPECT_EQ(included(p), V{});
}

TEST_F(SearchTest, IncludeLimitIsReported) {
  StoreOptions o = options();
  o.maxIncludes = 1;
  store_.reset();
  auto s = SqlStore::open(location(), acp::testing::r4Shared(), o);
  ASSERT_TRUE(s.isOk());
  store_ = s.take();
  Page p = search("Patient", {{"_id", "p1"}, {"_revinclude", "CarePlan:subject"}});
  EXPECT_EQ(p.included.size(), 1u);
  EXPECT_TRUE(p.includesTruncated);
}

TEST_F(SearchTest, SortAscendingDescendingMissingLast) {
  tick();
  seed("Patient", "s1", R"({"resourceType":"Patient","identifier":[{"system":"urn:sort",
      "value":"1"}],"name":[{"family":"Baker"}],"birthDate":"1990-01-01"})");
  tick();
  seed("Patient", "s2", R"({"resourceType":"Patient","identifier":[{"system":"urn:sort",
      "value":"2"}],"name":[{"family":"Able"},{"family":"Zed"}],"birthDate":"1980-01-01"})");
  tick();
  seed("Patient", "s3", R"({"resourceType":"Patient","identifier":[{"system":"urn:sort",
      "value":"3"}],"name":[{"family":"Cole"}]})");
  tick();
  seed("Patient", "s4", R"({"resourceType":"Patient","identifier":[{"system":"urn:sort",
      "value":"4"}]})");
  const Params f = {{"identifier", "urn:sort|"}};
  auto with = [&](const std::string& sort) {
    Params p = f;
    p.push_back({"_sort", sort});
    return order("Patient", p);
  };
  // s2 sorts by its smallest family ascending (Able) and its largest descending (Zed).
  EXPECT_EQ(with("family"), (V{"s2", "s1", "s3", "s4"}));
  EXPECT_EQ(with("-family"), (V{"s2", "s3", "s1", "s4"}));
  EXPECT_EQ(with("birthdate"), (V{"s2", "s1", "s3", "s4"}));
  EXPECT_EQ(with("-birthdate"), (V{"s1", "s2", "s3", "s4"}));
  EXPECT_EQ(with("-birthdate,family"), (V{"s1", "s2", "s3", "s4"}));
  EXPECT_EQ(with("birthdate,-family"), (V{"s2", "s1", "s3", "s4"}));
  EXPECT_EQ(with("_id"), (V{"s1", "s2", "s3", "s4"}));
  EXPECT_EQ(with("-_id"), (V{"s4", "s3", "s2", "s1"}));
  EXPECT_EQ(with("-_lastUpdated"), (V{"s4", "s3", "s2", "s1"}));
  EXPECT_EQ(with("_lastUpdated"), (V{"s1", "s2", "s3", "s4"}));
}

TEST_F(SearchTest, SortedPagesConcatenateToTheFullOrder) {
  for (int i = 0; i < 9; ++i) {
    tick();
    const std::string fam = std::string(1, static_cast<char>('A' + (i * 5) % 9));
    seed("Patient", "q" + std::to_string(i),
         R"({"resourceType":"Patient","identifier":[{"system":"urn:page","value":"x"}],
         "name":[{"family":")" +
             fam + R"("}]})");
  }
  seed("Patient", "q9", R"({"resourceType":"Patient",
      "identifier":[{"system":"urn:page","value":"x"}]})");
  for (const std::string sort : {"family", "-family", "_lastUpdated", "-_lastUpdated", "_id"}) {
    Params base = {{"identifier", "urn:page|x"}, {"_sort", sort}};
    V full = order("Patient", base);
    ASSERT_EQ(full.size(), 10u) << sort;
    Params paged = base;
    paged.push_back({"_count", "3"});
    auto q = parseSearch("Patient", paged);
    V seen;
    for (int guard = 0; guard < 10; ++guard) {
      auto p = store_->search(q);
      ASSERT_TRUE(p.isOk()) << p.status().message();
      for (const auto& e : p.value().entries) seen.push_back(e.id);
      if (p.value().nextCursor.empty()) break;
      q.cursor = p.value().nextCursor;
    }
    EXPECT_EQ(seen, full) << sort;
  }
}

TEST_F(SearchTest, TotalsAndCount) {
  Page p =
      search("Patient",
             {{"identifier", std::string(kNhs) + "|"}, {"_total", "accurate"}, {"_count", "1"}});
  ASSERT_TRUE(p.total.has_value());
  EXPECT_EQ(*p.total, 2);
  EXPECT_EQ(p.entries.size(), 1u);
  EXPECT_FALSE(p.nextCursor.empty());
  p = search("Patient", {{"family", "smith"}, {"_count", "0"}});
  EXPECT_TRUE(p.entries.empty());
  ASSERT_TRUE(p.total.has_value());
  EXPECT_EQ(*p.total, 2);
  p = search("Patient", {{"family", "smith"}});
  EXPECT_FALSE(p.total.has_value());
  EXPECT_TRUE(p.nextCursor.empty());
}

TEST_F(SearchTest, SqlMetacharactersAreLiteral) {
  EXPECT_EQ(ids("Patient", {{"family", "' OR 1=1 --"}}), V{});
  EXPECT_EQ(ids("Patient", {{"family:exact", "' OR 1=1 --"}}), V{});
  EXPECT_EQ(ids("Patient", {{"family:exact", "O'Brien"}}), (V{"p4"}));
  EXPECT_EQ(ids("Patient", {{"family", "O'Brien"}}), (V{"p4"}));
  EXPECT_EQ(ids("Patient", {{"family:exact", "O'Brien' OR '1'='1"}}), V{});
  EXPECT_EQ(ids("Patient", {{"family:exact", "100%_done"}}), (V{"p5"}));
  EXPECT_EQ(ids("Patient", {{"family:exact", "100%"}}), V{});
  EXPECT_EQ(ids("Patient", {{"family:exact", "100%Xdone"}}), V{});  // _ is not a wildcard
  EXPECT_EQ(ids("Patient", {{"identifier", "urn:sys|a;b"}}), (V{"p4"}));
  EXPECT_EQ(ids("Patient", {{"identifier", "a;b"}}), (V{"p4"}));
  EXPECT_EQ(ids("Patient", {{"identifier", "a"}}), V{});
  EXPECT_EQ(ids("Patient", {{"identifier", "%|%"}}), V{});
  EXPECT_EQ(ids("CarePlan", {{"subject:Patient.family", "' OR 1=1 --"}}), V{});

  // Values the query parser already refuses (bad ids, malformed references, punctuation-only
  // strings) are built directly: the store must still take them literally.
  auto direct = [&](const std::string& type, const std::string& name, const std::string& paramType,
                    const std::string& modifier, const search::ParamValue& v) {
    search::SearchQuery q;
    q.resourceType = type;
    search::Criterion c;
    c.name = name;
    c.type = paramType;
    c.modifier = modifier;
    c.param = acp::testing::r4().searchParam(type, name);
    c.values.push_back(v);
    q.criteria.push_back(std::move(c));
    auto r = store_->search(q);
    EXPECT_TRUE(r.isOk()) << r.status().message();
    V out;
    if (r.isOk())
      for (const auto& e : r.value().entries) out.push_back(e.id);
    return out;
  };
  search::ParamValue v;
  v.raw = "p1' OR '1'='1";
  EXPECT_EQ(direct("Patient", "_id", "token", "", v), V{});
  v.raw = "p1;DROP TABLE resources";
  EXPECT_EQ(direct("Patient", "_id", "token", "", v), V{});
  v.raw = "%";
  EXPECT_EQ(direct("Patient", "family", "string", "contains", v), V{});
  EXPECT_EQ(direct("Patient", "family", "string", "", v), V{});
  v.raw = "_";
  EXPECT_EQ(direct("Patient", "family", "string", "contains", v), V{});
  v.raw = "%_";
  EXPECT_EQ(direct("Patient", "family", "string", "exact", v), V{});
  search::ParamValue ref;
  ref.raw = "Patient/p1' OR '1'='1";
  ref.refType = "Patient";
  ref.refId = "p1' OR '1'='1";
  EXPECT_EQ(direct("CarePlan", "subject", "reference", "", ref), V{});
  ref.refId = "p1";
  EXPECT_EQ(direct("CarePlan", "subject", "reference", "", ref), (V{"cp1", "cp2"}));
  EXPECT_EQ(ids("Patient", {{"_id", "p1"}}), (V{"p1"}));  // and the tables are all still there
}

TEST_F(SearchTest, ForeignOrTamperedCursorsAreRejected) {
  Params p = {{"identifier", std::string(kNhs) + "|"}, {"_count", "1"}};
  Page first = search("Patient", p);
  ASSERT_FALSE(first.nextCursor.empty());
  // The cursor of an unsorted search used with a sorted one.
  Params sorted = p;
  sorted.push_back({"_sort", "family"});
  auto q = parseSearch("Patient", sorted);
  q.cursor = first.nextCursor;
  auto r = store_->search(q);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_EQ(r.status().message().rfind("store.bad-cursor", 0), 0u);
  for (const std::string& bad :
       std::vector<std::string>{"!!", "AAAA", "x", std::string(5000, 'A'), "UzA6aTE7"}) {
    auto q2 = parseSearch("Patient", p);
    q2.cursor = bad;
    auto r2 = store_->search(q2);
    EXPECT_FALSE(r2.isOk()) << bad;
    EXPECT_EQ(r2.status().code(), Status::Code::kInvalid) << bad;
  }
}

TEST_F(SearchTest, UnsupportedSearchesAreReported) {
  search::SearchQuery q;  // system-wide
  auto r = store_->search(q);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Status::Code::kNotSupported);
}

// The query plan of the NHS-number chain and of the common lookups: every index table is
// reached through an index (SEARCH), never a full SCAN.
TEST_F(SearchTest, PlansUseIndexes) {
  // PostgreSQL chooses plans by its table statistics, so on a test's few rows it scans; the
  // benchmark's store (bench/, 100 000 children) is where its plans are checked.
  ACP_SQLITE_ONLY();
  const std::string nhs = kNhs;
  struct Case {
    std::string type;
    Params params;
  };
  std::vector<Case> cases = {
      {"CarePlan", {{"subject:Patient.identifier", nhs + "|9000000009"}}},
      {"CarePlan", {{"patient.identifier", nhs + "|9000000009"}, {"status", "active"}}},
      {"CarePlan", {{"subject", "Patient/p1"}}},
      {"Patient", {{"identifier", nhs + "|9000000009"}}},
      {"Patient", {{"family", "smi"}}},
      {"Patient", {{"birthdate", "ge1970"}}},
      {"Observation", {{"value-quantity", "gt40"}}},
      {"ValueSet", {{"url", "http://example.org/fhir/ValueSet/abc"}}},
      {"CarePlan", {{"subject:identifier", nhs + "|9000000025"}}},
      {"Patient", {{"family:exact", "Smith"}}},
      {"CarePlan", {{"subject", "http://elsewhere.example/fhir/Patient/9"}}},
  };
  for (const Case& c : cases) {
    auto q = parseSearch(c.type, c.params);
    auto plan = store_->explainSearch(q);
    ASSERT_TRUE(plan.isOk()) << plan.status().message();
    std::string all;
    for (const auto& line : plan.value()) all += line + "\n";
    if (getenv("ACP_SHOW_PLANS")) std::cerr << c.type << " " << c.params[0].first << "\n" << all;
    if (&c == &cases[0]) {
      // The NHS-number chain starts from the identifier's index entry.
      EXPECT_NE(all.find("SEARCH token_idx USING COVERING INDEX token_idx_code (type=? AND "
                         "param=? AND code=? AND system=?)"),
                std::string::npos)
          << all;
      EXPECT_NE(all.find("USING COVERING INDEX reference_idx_target"), std::string::npos) << all;
    }
    if (&c == &cases[1]) {
      // The chain drives; status=active is only checked for the child's CarePlans, through the
      // resource's own index rows, never evaluated for every active CarePlan first.
      EXPECT_NE(all.find("CORRELATED SCALAR SUBQUERY"), std::string::npos) << all;
      EXPECT_NE(all.find("USING COVERING INDEX token_idx_pk (resource_pk=? AND param=? AND code=?)"),
                std::string::npos)
          << all;
      EXPECT_EQ(all.find("token_idx_code (type=? AND param=? AND code=?)\n"), std::string::npos) << all;
    }
    for (const auto& line : plan.value()) {
      EXPECT_EQ(line.rfind("SCAN", 0), std::string::npos)
          << c.type << " " << c.params[0].first << ":\n"
          << all;
    }
  }
}

}  // namespace
}  // namespace acp::store::testing

namespace acp::store::testing {
namespace {

// One argument as an SQL literal, for PREPARE/EXECUTE on a side connection.
std::string sqlLiteral(const sql::SqlArg& a) {
  switch (a.kind) {
    case sql::SqlArg::Kind::kNull: return "NULL";
    case sql::SqlArg::Kind::kInt: return std::to_string(a.i);
    case sql::SqlArg::Kind::kReal: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", a.d);
      return buf;
    }
    case sql::SqlArg::Kind::kText: break;
  }
  std::string out = "'";
  for (char c : a.s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// PostgreSQL runs a cached statement with its generic plan (planned once for any values)
// after five runs. For an unsorted search driven by a selective criterion that plan must still
// start from the criterion's index rows — not walk every resource of the type in key order
// hoping to fill the page early, a walk that grows with the store (docs/performance.md,
// "PostgreSQL at 100 000 children"). 20 000 Patients with birthdates spread over 6 000 days,
// analysed, then the page queries of Patient?birthdate=<one day> and =<one of two days>
// planned generically.
TEST_F(SearchTest, PostgresGenericPlansStartFromTheDrivingIndex) {
  if (!acp::testing::testStoreIsPostgres())
    GTEST_SKIP() << "about PostgreSQL's generic plans (SQLite: PlansUseIndexes)";
  acp::testing::SideConnection side(location(), true);
  ASSERT_EQ(side.exec("INSERT INTO resources(type, id, version, last_updated, deleted, json) "
                      "SELECT 'Patient', 'syn' || g, 1, '2024-01-01T00:00:00.000Z', 0, "
                      "'{\"resourceType\":\"Patient\",\"id\":\"syn' || g || '\"}' "
                      "FROM generate_series(1, 20000) g"),
            "");
  // Whole days in ms, as the store's date index keeps them: [day start, next day start - 1].
  ASSERT_EQ(side.exec("INSERT INTO date_idx(resource_pk, type, param, low, high) "
                      "SELECT pk, 'Patient', 'birthdate', d * 86400000, d * 86400000 + 86399999 "
                      "FROM (SELECT pk, 14000 + pk % 6000 AS d FROM resources "
                      "WHERE id LIKE 'syn%') s"),
            "");
  ASSERT_EQ(side.exec("ANALYZE resources, date_idx"), "");
  for (const char* criterion : {"birthdate=2010-05-05", "birthdate=2010-05-05,2011-07-09"}) {
    Params params;
    std::string rest = criterion;
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      const std::string one = rest.substr(0, amp);
      const size_t eq = one.find('=');
      params.push_back({one.substr(0, eq), one.substr(eq + 1)});
      rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
    }
    auto q = parseSearch("Patient", params);
    sql::SearchSettings settings;
    settings.dialect = sql::Dialect::kPostgres;
    settings.nowMs = kJan2024;
    auto text = sql::pageSql(q, settings);
    ASSERT_TRUE(text.isOk()) << text.status().message();
    // As the store's driver prepares it (pg_connection.h): ?N → $M, arguments in $ order.
    std::vector<int> slots;
    const std::string prepared = store::pg::toPostgresPlaceholders(text.value().sql, &slots);
    std::vector<std::string> literals;
    for (size_t n = 1; n < slots.size() && n <= text.value().args.size(); ++n) {
      if (slots[n] == 0) continue;
      if (literals.size() < static_cast<size_t>(slots[n])) literals.resize(slots[n]);
      literals[slots[n] - 1] = sqlLiteral(text.value().args[n - 1]);
    }
    std::string execute = "EXPLAIN EXECUTE page(";
    for (size_t i = 0; i < literals.size(); ++i) execute += (i ? ", " : "") + literals[i];
    execute += ")";
    ASSERT_EQ(side.exec("DEALLOCATE ALL"), "");
    ASSERT_EQ(side.exec("SET plan_cache_mode = force_generic_plan"), "");
    ASSERT_EQ(side.exec("PREPARE page AS " + prepared), "") << prepared;
    const std::string plan = side.query(execute);
    if (getenv("ACP_SHOW_PLANS")) std::cerr << criterion << "\n" << plan;
    // The walk: every live resource of the type in key order, merged with every birthdate
    // row in key order (resources_live ⋈ date_idx_pk), stopping once the page is full —
    // cheap by the planner's estimate, a pass over the whole type when a few match.
    EXPECT_EQ(plan.find("Merge"), std::string::npos) << criterion << "\n" << plan;
    EXPECT_EQ(plan.find("Semi Join"), std::string::npos) << criterion << "\n" << plan;
    // Instead: the driver's rows first (an InitPlan over the birthdate's own index range),
    // then the resources by key.
    EXPECT_NE(plan.find("InitPlan"), std::string::npos) << criterion << "\n" << plan;
    EXPECT_NE(plan.find("Index Cond: (pk = ANY"), std::string::npos) << criterion << "\n" << plan;
    EXPECT_TRUE(plan.find("date_idx_low") != std::string::npos ||
                plan.find("date_idx_high") != std::string::npos)
        << criterion << "\n" << plan;
  }
}

}  // namespace
}  // namespace acp::store::testing
