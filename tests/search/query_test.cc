#include "gateway/search/query.h"

#include <gtest/gtest.h>

#include "gateway/search/index.h"
#include "tests/support/model_fixture.h"

namespace acp::search {
namespace {

using acp::testing::r4;
using Params = std::vector<std::pair<std::string, std::string>>;

struct Parsed {
  bool ok = false;
  SearchQuery query;
  IssueList issues;
};

Parsed parse(const std::string& type, const Params& params, QueryOptions options = {}) {
  Parsed p;
  p.ok = parseQuery(r4(), type, params, options, p.query, p.issues);
  return p;
}

Parsed strict(const std::string& type, const Params& params) {
  QueryOptions o;
  o.strict = true;
  return parse(type, params, o);
}

// The single issue's code (or a description of what is there instead).
std::string onlyCode(const IssueList& issues) {
  if (issues.size() != 1) return "<" + std::to_string(issues.size()) + " issues>";
  return issues.issues()[0].code;
}

int64_t low(const std::string& d) {
  int64_t lo = 0, hi = 0;
  EXPECT_TRUE(dateRange(d, lo, hi)) << d;
  return lo;
}
int64_t high(const std::string& d) {
  int64_t lo = 0, hi = 0;
  EXPECT_TRUE(dateRange(d, lo, hi)) << d;
  return hi;
}

// ---------------------------------------------------------------------------------------------

TEST(ParseQuery, TokenWithSystemAndCode) {
  Parsed p = parse("Patient", {{"identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765919"}});
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.issues.empty());
  ASSERT_EQ(p.query.criteria.size(), 1u);
  const Criterion& c = p.query.criteria[0];
  EXPECT_EQ(c.name, "identifier");
  EXPECT_EQ(c.type, "token");
  ASSERT_NE(c.param, nullptr);
  EXPECT_EQ(c.param, r4().searchParam("Patient", "identifier"));
  ASSERT_EQ(c.values.size(), 1u);
  EXPECT_TRUE(c.values[0].hasSystem);
  EXPECT_EQ(c.values[0].system, "https://fhir.nhs.uk/Id/nhs-number");
  EXPECT_EQ(c.values[0].code, "9434765919");
  EXPECT_EQ(p.query.resourceType, "Patient");
  EXPECT_EQ(p.query.count, 50);
  EXPECT_EQ(p.query.echo, (Params{{"identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765919"}}));
}

TEST(ParseQuery, TokenForms) {
  Parsed p = parse("Condition", {{"code", "254637007,http://snomed.info/sct|1,|nosys,sys|"}});
  ASSERT_TRUE(p.ok) << onlyCode(p.issues);
  const auto& v = p.query.criteria[0].values;
  ASSERT_EQ(v.size(), 4u);
  EXPECT_FALSE(v[0].hasSystem);
  EXPECT_EQ(v[0].code, "254637007");
  EXPECT_EQ(v[1].system, "http://snomed.info/sct");
  EXPECT_EQ(v[1].code, "1");
  EXPECT_TRUE(v[2].hasSystem);
  EXPECT_EQ(v[2].system, "");
  EXPECT_EQ(v[2].code, "nosys");
  EXPECT_TRUE(v[3].hasSystem);
  EXPECT_EQ(v[3].system, "sys");
  EXPECT_EQ(v[3].code, "");

  p = parse("Condition", {{"code:text", "Heart  Failure!"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.criteria[0].modifier, "text");
  EXPECT_EQ(p.query.criteria[0].values[0].raw, "Heart  Failure!");
  EXPECT_EQ(p.query.criteria[0].values[0].normalized, "heart failure");

  p = parse("Condition", {{"clinical-status:not", "resolved"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.criteria[0].modifier, "not");

  for (const char* m : {"above", "below", "in", "not-in", "of-type"}) {
    p = parse("Condition", {{std::string("code:") + m, "x"}});
    EXPECT_FALSE(p.ok) << m;
    EXPECT_EQ(onlyCode(p.issues), "search.unsupported-modifier") << m;
    EXPECT_EQ(p.issues.issues()[0].type, "not-supported");
  }
  p = parse("Condition", {{"code:exact", "x"}});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.unknown-modifier");
  p = parse("Condition", {{"code", "a|b|c"}});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-token");
  p = parse("Condition", {{"code", "|"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-token");
}

TEST(ParseQuery, EscapingAndCommaOr) {
  Parsed p = parse("Patient", {{"family", "Smith\\,Jones,O\\\\Brien,,Ap\\$"}});
  ASSERT_TRUE(p.ok);
  const auto& v = p.query.criteria[0].values;
  ASSERT_EQ(v.size(), 3u);  // the empty piece is dropped
  EXPECT_EQ(v[0].raw, "Smith,Jones");
  EXPECT_EQ(v[0].normalized, "smithjones");
  EXPECT_EQ(v[1].raw, "O\\Brien");
  EXPECT_EQ(v[2].raw, "Ap$");
  EXPECT_EQ(p.query.echo, (Params{{"family", "Smith\\,Jones,O\\\\Brien,Ap\\$"}}));

  p = parse("Patient", {{"identifier", "urn:sys\\|x|val\\,ue"}});
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.query.criteria[0].values.size(), 1u);
  EXPECT_EQ(p.query.criteria[0].values[0].system, "urn:sys|x");
  EXPECT_EQ(p.query.criteria[0].values[0].code, "val,ue");
}

// A parameter ORs at most 100 values, a search at most 1000: more would make the store's query
// deeper than SQLite allows (found by fuzz target search: 600 values were a 500), so more is a
// 400 too-costly, never a store failure.
TEST(ParseQuery, TooManyValuesAreRefusedAsTooCostly) {
  auto values = [](int n) {
    std::string v;
    for (int i = 0; i < n; ++i) v += (i ? "," : "") + std::string("a") + std::to_string(i);
    return v;
  };
  EXPECT_TRUE(parse("Patient", {{"family", values(100)}}).ok);
  Parsed many = parse("Patient", {{"family", values(101)}});
  EXPECT_FALSE(many.ok);
  EXPECT_EQ(onlyCode(many.issues), "search.too-many-values");
  EXPECT_EQ(many.issues.issues()[0].type, "too-costly");
  Parsed chained = parse("CarePlan", {{"subject:Patient.family", values(101)}});
  EXPECT_FALSE(chained.ok);
  Params wide;
  for (int i = 0; i < 11; ++i) wide.push_back({"family", values(100)});
  Parsed total = parse("Patient", wide);
  EXPECT_FALSE(total.ok);
  EXPECT_EQ(onlyCode(total.issues), "search.too-many-values");
  wide.pop_back();
  EXPECT_TRUE(parse("Patient", wide).ok);
  Params many1;
  for (int i = 0; i < 101; ++i) many1.push_back({"family", "a" + std::to_string(i)});
  Parsed criteria = parse("Patient", many1);
  EXPECT_FALSE(criteria.ok) << "at most 100 parameters";
  EXPECT_EQ(onlyCode(criteria.issues), "search.too-many-values");
  many1.pop_back();
  EXPECT_TRUE(parse("Patient", many1).ok);
}

TEST(ParseQuery, RepeatedParametersAreAnded) {
  Parsed p = parse("Encounter", {{"date", "ge2024-01-01"}, {"date", "lt2024-02"}});
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.query.criteria.size(), 2u);
  EXPECT_EQ(p.query.criteria[0].values[0].prefix, Prefix::kGe);
  EXPECT_EQ(p.query.criteria[0].values[0].low, low("2024-01-01"));
  EXPECT_EQ(p.query.criteria[0].values[0].high, high("2024-01-01"));
  EXPECT_EQ(p.query.criteria[1].values[0].prefix, Prefix::kLt);
  EXPECT_EQ(p.query.criteria[1].values[0].raw, "2024-02");
  EXPECT_EQ(p.query.criteria[1].values[0].high, high("2024-02"));
}

TEST(ParseQuery, DatePrefixes) {
  const std::pair<const char*, Prefix> cases[] = {
      {"eq", Prefix::kEq}, {"ne", Prefix::kNe}, {"lt", Prefix::kLt},
      {"gt", Prefix::kGt}, {"le", Prefix::kLe}, {"ge", Prefix::kGe},
      {"sa", Prefix::kSa}, {"eb", Prefix::kEb}, {"ap", Prefix::kAp}};
  for (const auto& [text, prefix] : cases) {
    Parsed p = parse("Patient", {{"birthdate", std::string(text) + "2019-03"}});
    ASSERT_TRUE(p.ok) << text;
    EXPECT_EQ(p.query.criteria[0].values[0].prefix, prefix) << text;
    EXPECT_EQ(p.query.criteria[0].values[0].low, 1551398400000);
    EXPECT_EQ(p.query.criteria[0].values[0].high, 1554076799999);
  }
  Parsed p = parse("Patient", {{"birthdate", "xx2019"}});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-prefix");
  EXPECT_EQ(p.issues.issues()[0].type, "value");
  EXPECT_EQ(p.issues.issues()[0].location, "birthdate");
  p = parse("Patient", {{"birthdate", "2019-02-30"}});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-date");
  p = parse("Patient", {{"birthdate:exact", "2019"}});
  EXPECT_EQ(onlyCode(p.issues), "search.unknown-modifier");
  p = parse("Encounter", {{"_lastUpdated", "gt2024-05-01T10:00:00+01:00"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.criteria[0].type, "date");
  EXPECT_EQ(p.query.criteria[0].param, r4().searchParam("Encounter", "_lastUpdated"));
  EXPECT_EQ(p.query.criteria[0].values[0].low, low("2024-05-01T09:00:00Z"));
}

TEST(ParseQuery, NumbersAndQuantities) {
  Parsed p = parse("RiskAssessment", {{"probability", "gt0.5,-1e2"}});
  ASSERT_TRUE(p.ok) << onlyCode(p.issues);
  const auto& v = p.query.criteria[0].values;
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].prefix, Prefix::kGt);
  EXPECT_EQ(v[0].number, 0.5);
  EXPECT_EQ(v[0].raw, "0.5");
  EXPECT_EQ(v[1].number, -100);
  for (const char* bad : {"abc", "1.", ".5", "01", "1e", "gt", "0x10", "1,5 kg"}) {
    p = parse("RiskAssessment", {{"probability", bad}});
    EXPECT_FALSE(p.ok) << bad;
  }
  p = parse("Encounter", {{"length", "le5.4|http://unitsofmeasure.org|h"}});
  ASSERT_TRUE(p.ok);
  const ParamValue& q = p.query.criteria[0].values[0];
  EXPECT_EQ(q.prefix, Prefix::kLe);
  EXPECT_EQ(q.number, 5.4);
  EXPECT_EQ(q.quantitySystem, "http://unitsofmeasure.org");
  EXPECT_EQ(q.quantityCode, "h");
  p = parse("Encounter", {{"length", "5.4||h"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.criteria[0].values[0].quantitySystem, "");
  EXPECT_EQ(p.query.criteria[0].values[0].quantityCode, "h");
  p = parse("Encounter", {{"length", "5.4|h"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-quantity");
}

TEST(ParseQuery, StringModifiers) {
  Parsed p =
      parse("Patient", {{"name:exact", "Zoë"}, {"name:contains", "ZO"}, {"given", "Élodie"}});
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.query.criteria.size(), 3u);
  EXPECT_EQ(p.query.criteria[0].modifier, "exact");
  EXPECT_EQ(p.query.criteria[0].values[0].raw, "Zoë");
  EXPECT_EQ(p.query.criteria[1].modifier, "contains");
  EXPECT_EQ(p.query.criteria[1].values[0].normalized, "zo");
  EXPECT_EQ(p.query.criteria[2].values[0].normalized, "elodie");
  p = parse("Patient", {{"name:text", "x"}});
  EXPECT_EQ(onlyCode(p.issues), "search.unsupported-modifier");
  p = parse("Patient", {{"name", "!!!"}});  // would match every name
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-string");
}

TEST(ParseQuery, MissingModifier) {
  Parsed p = parse("CarePlan", {{"encounter:missing", "true"}, {"status:missing", "false"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.criteria[0].modifier, "missing");
  EXPECT_TRUE(p.query.criteria[0].missing);
  EXPECT_TRUE(p.query.criteria[0].values.empty());
  EXPECT_FALSE(p.query.criteria[1].missing);
  EXPECT_EQ(p.query.echo, (Params{{"encounter:missing", "true"}, {"status:missing", "false"}}));
  p = parse("CarePlan", {{"encounter:missing", "yes"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-missing");
}

TEST(ParseQuery, References) {
  QueryOptions o;
  o.baseUrl = "https://gw.example/fhir/";
  Parsed p = parse("CarePlan",
                   {{"subject",
                     "Patient/123,456,https://gw.example/fhir/Group/g1/_history/3,"
                     "https://other.example/fhir/Patient/9"}},
                   o);
  ASSERT_TRUE(p.ok) << onlyCode(p.issues);
  const auto& v = p.query.criteria[0].values;
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].refType, "Patient");
  EXPECT_EQ(v[0].refId, "123");
  EXPECT_EQ(v[0].url, "");
  EXPECT_EQ(v[1].refType, "");
  EXPECT_EQ(v[1].refId, "456");
  EXPECT_EQ(v[2].refType, "Group");
  EXPECT_EQ(v[2].refId, "g1");
  EXPECT_EQ(v[2].url, "https://gw.example/fhir/Group/g1/_history/3");
  EXPECT_EQ(v[3].refType, "");
  EXPECT_EQ(v[3].refId, "");
  EXPECT_EQ(v[3].url, "https://other.example/fhir/Patient/9");

  p = parse("CarePlan", {{"subject:Patient", "123"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.criteria[0].modifier, "Patient");
  EXPECT_EQ(p.query.criteria[0].values[0].refType, "Patient");
  EXPECT_EQ(p.query.criteria[0].values[0].refId, "123");

  p = parse("CarePlan", {{"subject:Patient", "Group/1"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-reference");
  p = parse("CarePlan", {{"subject:Device", "1"}});  // not a target of CarePlan.subject
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-reference");
  p = parse("CarePlan", {{"subject", "Device/1"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-reference");
  p = parse("CarePlan", {{"subject", "Foo/1"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-reference");
  p = parse("CarePlan", {{"subject", "#p1"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-reference");
  p = parse("CarePlan", {{"subject", "bad id!"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-reference");

  p = parse("Patient",
            {{"organization:identifier", "https://fhir.nhs.uk/Id/ods-organization-code|Y12345"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.criteria[0].modifier, "identifier");
  EXPECT_TRUE(p.query.criteria[0].values[0].hasSystem);
  EXPECT_EQ(p.query.criteria[0].values[0].system, "https://fhir.nhs.uk/Id/ods-organization-code");
  EXPECT_EQ(p.query.criteria[0].values[0].code, "Y12345");

  p = parse("CarePlan",
            {{"instantiates-canonical", "http://example.org/fhir/PlanDefinition/acp|2"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.criteria[0].values[0].url, "http://example.org/fhir/PlanDefinition/acp|2");
  p = parse("CarePlan", {{"subject:below", "Patient/1"}});
  EXPECT_EQ(onlyCode(p.issues), "search.unsupported-modifier");
}

TEST(ParseQuery, ChainsWithAnExplicitType) {
  Parsed p = parse(
      "CarePlan", {{"subject:Patient.identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765919"}});
  ASSERT_TRUE(p.ok) << onlyCode(p.issues);
  const Criterion& c = p.query.criteria[0];
  EXPECT_EQ(c.name, "subject");
  EXPECT_EQ(c.type, "reference");
  EXPECT_EQ(c.modifier, "Patient");
  EXPECT_EQ(c.chainTargetType, "Patient");
  EXPECT_EQ(c.chainTargetTypes, (std::vector<std::string>{"Patient"}));
  EXPECT_TRUE(c.values.empty());
  ASSERT_NE(c.chain, nullptr);
  EXPECT_EQ(c.chain->name, "identifier");
  EXPECT_EQ(c.chain->type, "token");
  EXPECT_EQ(c.chain->param, r4().searchParam("Patient", "identifier"));
  ASSERT_EQ(c.chain->values.size(), 1u);
  EXPECT_EQ(c.chain->values[0].system, "https://fhir.nhs.uk/Id/nhs-number");
  EXPECT_EQ(c.chain->values[0].code, "9434765919");
  EXPECT_EQ(
      p.query.echo,
      (Params{{"subject:Patient.identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765919"}}));
}

TEST(ParseQuery, ChainsThroughASingleTarget) {
  Parsed p =
      parse("CarePlan", {{"patient.identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765919"},
                         {"patient.name:exact", "Zoë"},
                         {"patient.organization.name", "Leeds"}});
  ASSERT_TRUE(p.ok) << onlyCode(p.issues);
  ASSERT_EQ(p.query.criteria.size(), 3u);
  EXPECT_EQ(p.query.criteria[0].chainTargetType, "Patient");
  EXPECT_EQ(p.query.criteria[0].chain->name, "identifier");
  EXPECT_EQ(p.query.criteria[1].chain->modifier, "exact");
  EXPECT_EQ(p.query.criteria[1].chain->values[0].raw, "Zoë");
  const Criterion& nested = p.query.criteria[2];
  ASSERT_NE(nested.chain, nullptr);
  EXPECT_EQ(nested.chain->name, "organization");
  EXPECT_EQ(nested.chain->chainTargetType, "Organization");
  ASSERT_NE(nested.chain->chain, nullptr);
  EXPECT_EQ(nested.chain->chain->name, "name");
  EXPECT_EQ(nested.chain->chain->values[0].normalized, "leeds");
}

TEST(ParseQuery, ChainsAcrossSeveralTargetsOrAmbiguous) {
  // CarePlan.subject targets Group and Patient; both define identifier (token): chain both.
  Parsed p = parse("CarePlan", {{"subject.identifier", "x|1"}});
  ASSERT_TRUE(p.ok) << onlyCode(p.issues);
  const Criterion& c = p.query.criteria[0];
  EXPECT_EQ(c.chainTargetType, "");
  EXPECT_EQ(c.chainTargetTypes, (std::vector<std::string>{"Group", "Patient"}));
  EXPECT_EQ(c.chain->name, "identifier");
  // Only Patient defines birthdate: ambiguous without the type.
  p = parse("CarePlan", {{"subject.birthdate", "2019"}});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.chain-ambiguous");
  p = parse("CarePlan", {{"subject:Patient.birthdate", "2019"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.criteria[0].chain->values[0].low, low("2019"));
}

TEST(ParseQuery, ChainErrors) {
  Parsed p = parse("CarePlan", {{"status.code", "x"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-chain");
  p = parse("CarePlan", {{"subject:Device.identifier", "x"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-chain");
  p = parse("CarePlan", {{"subject:missing.identifier", "x"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-chain");
  p = parse("CarePlan", {{"patient.", "x"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-chain");
  p = parse("CarePlan", {{"patient.organization.partof.partof.name", "x"}});
  EXPECT_EQ(onlyCode(p.issues), "search.chain-too-deep");
  // An unknown chained parameter is an unknown parameter: a warning when lenient.
  p = parse("CarePlan", {{"patient.nonsense", "x"}});
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.unknown-parameter");
  EXPECT_TRUE(p.query.criteria.empty());
}

TEST(ParseQuery, IdParameter) {
  Parsed p = parse("Patient", {{"_id", "a1,b-2.c"}});
  ASSERT_TRUE(p.ok);
  const Criterion& c = p.query.criteria[0];
  EXPECT_EQ(c.type, "token");
  EXPECT_EQ(c.param, r4().searchParam("Patient", "_id"));
  ASSERT_EQ(c.values.size(), 2u);
  EXPECT_EQ(c.values[0].code, "a1");
  EXPECT_EQ(c.values[1].code, "b-2.c");
  p = parse("Patient", {{"_id", "a1,bad_id"}});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-id");
  p = parse("Patient", {{"_id:not", "a1"}});
  EXPECT_EQ(onlyCode(p.issues), "search.unknown-modifier");
}

TEST(ParseQuery, SqlMetacharactersAreJustText) {
  Parsed p = parse(
      "Patient", {{"family", "x'; DROP TABLE resources;--"}, {"identifier", "' OR '1'='1|\"; --"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.criteria[0].values[0].raw, "x'; DROP TABLE resources;--");
  EXPECT_EQ(p.query.criteria[1].values[0].system, "' OR '1'='1");
  EXPECT_EQ(p.query.criteria[1].values[0].code, "\"; --");
}

TEST(ParseQuery, UnknownParametersWarnWhenLenientAndFailWhenStrict) {
  Parsed p = parse("Patient", {{"nonsense", "1"}, {"family", "smith"}});
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.issues.size(), 1u);
  const Issue& i = p.issues.issues()[0];
  EXPECT_EQ(i.severity, Severity::kWarning);
  EXPECT_EQ(i.type, "not-supported");
  EXPECT_EQ(i.code, "search.unknown-parameter");
  EXPECT_EQ(i.location, "nonsense");
  EXPECT_EQ(p.query.criteria.size(), 1u);
  EXPECT_EQ(p.query.echo, (Params{{"family", "smith"}}));

  p = strict("Patient", {{"nonsense", "1"}, {"family", "smith"}});
  EXPECT_FALSE(p.ok);
  ASSERT_EQ(p.issues.size(), 1u);
  EXPECT_EQ(p.issues.issues()[0].severity, Severity::kError);
  EXPECT_EQ(p.issues.issues()[0].code, "search.unknown-parameter");
}

TEST(ParseQuery, KnownButUnsupportedParameters) {
  for (const char* name :
       {"_has:Observation:patient:code", "_text", "_content", "_list", "phonetic", "_filter"}) {
    Parsed p = parse("Patient", {{name, "x"}});
    EXPECT_TRUE(p.ok) << name;
    EXPECT_EQ(onlyCode(p.issues), "search.unsupported-parameter") << name;
    EXPECT_TRUE(p.query.criteria.empty());
    p = strict("Patient", {{name, "x"}});
    EXPECT_FALSE(p.ok) << name;
  }
  Parsed p = parse("Observation", {{"code-value-quantity", "x$1"}});  // composite
  EXPECT_EQ(onlyCode(p.issues), "search.unsupported-parameter");
}

TEST(ParseQuery, TransportParametersAreIgnoredSilently) {
  Parsed p = parse("Patient", {{"_format", "json"}, {"_pretty", "true"}});
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.issues.empty());
  EXPECT_TRUE(p.query.echo.empty());
}

TEST(ParseQuery, EmptyValuesAreIgnored) {
  Parsed p = parse("Patient", {{"family", ""}, {"gender", ",,"}});
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.issues.empty());
  EXPECT_TRUE(p.query.criteria.empty());
  EXPECT_TRUE(p.query.echo.empty());
}

TEST(ParseQuery, Sort) {
  Parsed p = parse("Encounter", {{"_sort", "-date,status,_lastUpdated,-_id,subject"}});
  ASSERT_TRUE(p.ok) << onlyCode(p.issues);
  ASSERT_EQ(p.query.sort.size(), 5u);
  EXPECT_EQ(p.query.sort[0].name, "date");
  EXPECT_TRUE(p.query.sort[0].descending);
  EXPECT_EQ(p.query.sort[0].param, r4().searchParam("Encounter", "date"));
  EXPECT_FALSE(p.query.sort[1].descending);
  EXPECT_EQ(p.query.sort[2].name, "_lastUpdated");
  EXPECT_EQ(p.query.sort[3].name, "_id");
  EXPECT_TRUE(p.query.sort[3].descending);
  EXPECT_EQ(p.query.echo, (Params{{"_sort", "-date,status,_lastUpdated,-_id,subject"}}));
  for (const char* bad : {"nonsense", "length", "-", "date,date", "date,,status"}) {
    p = parse("Encounter", {{"_sort", bad}});
    EXPECT_FALSE(p.ok) << bad;
    EXPECT_EQ(onlyCode(p.issues), "search.invalid-sort") << bad;
  }
}

TEST(ParseQuery, Count) {
  Parsed p = parse("Patient", {{"_count", "10"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.count, 10);
  EXPECT_EQ(p.query.echo, (Params{{"_count", "10"}}));
  p = parse("Patient", {{"_count", "0"}});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.count, 0);

  QueryOptions o;
  o.maxCount = 200;
  o.defaultCount = 20;
  p = parse("Patient", {}, o);
  EXPECT_EQ(p.query.count, 20);
  p = parse("Patient", {{"_count", "5000"}}, o);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.count, 200);
  ASSERT_EQ(p.issues.size(), 1u);
  EXPECT_EQ(p.issues.issues()[0].severity, Severity::kWarning);
  EXPECT_EQ(p.issues.issues()[0].code, "search.count-clamped");
  EXPECT_EQ(p.query.echo, (Params{{"_count", "200"}}));
  p = parse("Patient", {{"_count", "99999999999999999999999"}}, o);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.query.count, 200);

  for (const char* bad : {"-1", "ten", "", "1.5", " 5"}) {
    p = parse("Patient", {{"_count", bad}});
    EXPECT_FALSE(p.ok) << bad;
    EXPECT_EQ(onlyCode(p.issues), "search.invalid-count") << bad;
  }
  p = parse("Patient", {{"_count", "5"}, {"_count", "6"}});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.repeated-parameter");
}

TEST(ParseQuery, IncludeAndRevinclude) {
  Parsed p = parse("CarePlan", {{"_include", "CarePlan:subject:Patient"},
                                {"_include", "CarePlan:*"},
                                {"_include:iterate", "Patient:general-practitioner"},
                                {"_revinclude", "Provenance:target"},
                                {"_include", "*"}});
  ASSERT_TRUE(p.ok) << onlyCode(p.issues);
  ASSERT_EQ(p.query.includes.size(), 4u);
  EXPECT_EQ(p.query.includes[0].sourceType, "CarePlan");
  EXPECT_EQ(p.query.includes[0].param, "subject");
  EXPECT_EQ(p.query.includes[0].targetType, "Patient");
  EXPECT_FALSE(p.query.includes[0].iterate);
  EXPECT_EQ(p.query.includes[1].param, "*");
  EXPECT_TRUE(p.query.includes[2].iterate);
  EXPECT_EQ(p.query.includes[2].sourceType, "Patient");
  EXPECT_EQ(p.query.includes[3].sourceType, "*");
  ASSERT_EQ(p.query.revincludes.size(), 1u);
  EXPECT_EQ(p.query.revincludes[0].sourceType, "Provenance");
  EXPECT_EQ(p.query.revincludes[0].param, "target");
  EXPECT_EQ(p.query.echo[2], (std::pair<std::string, std::string>{"_include:iterate",
                                                                  "Patient:general-practitioner"}));
  for (const Params& bad : std::vector<Params>{
           {{"_include", "Patient:general-practitioner"}},  // not the searched type
           {{"_include", "CarePlan:status"}},               // not a reference parameter
           {{"_include", "CarePlan:subject:Device"}},       // not a target
           {{"_include", "CarePlan"}},
           {{"_include", "Nope:subject"}},
           {{"_revinclude", "Flag:author"}},  // Flag.author cannot point at CarePlan
       }) {
    p = parse("CarePlan", bad);
    EXPECT_FALSE(p.ok) << bad[0].second;
    EXPECT_EQ(onlyCode(p.issues), "search.invalid-include") << bad[0].second;
  }
  p = parse("CarePlan", {{"_include:deep", "CarePlan:subject"}});
  EXPECT_EQ(onlyCode(p.issues), "search.unknown-modifier");
}

TEST(ParseQuery, TotalSummaryElementsCursor) {
  Parsed p = parse("Patient", {{"_total", "accurate"},
                               {"_summary", "count"},
                               {"_elements", "name, birthDate ,deceased"},
                               {"_cursor", "abc=="}});
  ASSERT_TRUE(p.ok) << onlyCode(p.issues);
  EXPECT_TRUE(p.query.totalAccurate);
  EXPECT_EQ(p.query.summary, SummaryMode::kCount);
  EXPECT_EQ(p.query.elements, (std::vector<std::string>{"name", "birthDate", "deceased"}));
  EXPECT_EQ(p.query.cursor, "abc==");
  EXPECT_EQ(p.query.echo, (Params{{"_total", "accurate"},
                                  {"_summary", "count"},
                                  {"_elements", "name,birthDate,deceased"}}));
  p = parse("Patient", {{"_total", "estimate"}});
  ASSERT_TRUE(p.ok);
  EXPECT_FALSE(p.query.totalAccurate);
  const std::pair<const char*, SummaryMode> modes[] = {{"true", SummaryMode::kTrue},
                                                       {"text", SummaryMode::kText},
                                                       {"data", SummaryMode::kData},
                                                       {"false", SummaryMode::kFalse}};
  for (const auto& [text, mode] : modes) {
    p = parse("Patient", {{"_summary", text}});
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.query.summary, mode);
  }
  p = parse("Patient", {{"_total", "all"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-total");
  p = parse("Patient", {{"_summary", "yes"}});
  EXPECT_EQ(onlyCode(p.issues), "search.invalid-summary");
  p = parse("Patient", {{"_elements", "name,nonsense"}});
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.unknown-element");
  EXPECT_EQ(p.query.elements, (std::vector<std::string>{"name"}));
  p = strict("Patient", {{"_elements", "name,nonsense"}});
  EXPECT_FALSE(p.ok);
}

TEST(ParseQuery, ResourceTypeChecks) {
  Parsed p = parse("", {{"_id", "1"}});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.system-search");
  p = parse("Nope", {});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(onlyCode(p.issues), "search.unknown-type");
}

TEST(ParseQuery, EarlierErrorsInTheListDoNotFailTheParse) {
  QueryOptions o;
  SearchQuery q;
  IssueList issues;
  issues.error("structure", "", "from an earlier stage", "x.y");
  EXPECT_TRUE(parseQuery(r4(), "Patient", {{"family", "smith"}}, o, q, issues));
  EXPECT_EQ(issues.size(), 1u);
}

TEST(ParseQuery, UriModifiers) {
  Parsed p = parse("Patient",
                   {{"_profile:below", "https://fhir.hl7.org.uk/StructureDefinition/"},
                    {"_profile", "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"}});
  ASSERT_TRUE(p.ok) << onlyCode(p.issues);
  EXPECT_EQ(p.query.criteria[0].type, "uri");
  EXPECT_EQ(p.query.criteria[0].modifier, "below");
  EXPECT_EQ(p.query.criteria[1].values[0].raw,
            "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient");
  p = parse("Patient", {{"_profile:contains", "x"}});
  EXPECT_EQ(onlyCode(p.issues), "search.unknown-modifier");
}

}  // namespace
}  // namespace acp::search
