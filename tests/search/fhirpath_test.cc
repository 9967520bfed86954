#include "gateway/search/fhirpath.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "gateway/search/index.h"
#include "tests/support/model_fixture.h"

namespace acp::search {
namespace {

using acp::testing::r4;

// The resource types the gateway serves (plus Resource/DomainResource parameters, which
// Model::searchParams includes for each of them).
const char* const kServedTypes[] = {
    "Patient",      "Encounter",    "CarePlan",         "CareTeam",      "Condition",
    "Organization", "Practitioner", "PractitionerRole", "RelatedPerson", "Provenance",
    "Flag",         "Consent",      "AuditEvent",       "Subscription"};

json::Value parseJson(const std::string& text) {
  json::Value v;
  json::ParseError err;
  EXPECT_TRUE(json::parse(text, v, err)) << err.message << "\n" << text;
  return v;
}

Expression compileOk(const std::string& expr, const std::string& type) {
  Result<Expression> r = Expression::compile(r4(), expr, type);
  EXPECT_TRUE(r.isOk()) << expr << ": " << r.status().message();
  return r.isOk() ? r.take() : Expression();
}

// The text of each result item ("" for non-primitives).
std::vector<std::string> texts(const std::vector<PathItem>& items) {
  std::vector<std::string> out;
  for (const PathItem& i : items) out.push_back(i.node ? i.node->text() : "<null>");
  return out;
}

std::vector<std::string> types(const std::vector<PathItem>& items) {
  std::vector<std::string> out;
  for (const PathItem& i : items) out.emplace_back(i.type);
  return out;
}

using Strings = std::vector<std::string>;

TEST(FhirPath, EveryParameterOfTheServedTypesCompiles) {
  size_t checked = 0;
  for (const char* type : kServedTypes) {
    for (const model::SearchParamDef* p : r4().searchParams(type)) {
      if (p->expression.empty()) continue;  // _text, _content, _query
      Result<Expression> e = Expression::compile(r4(), p->expression, type);
      ASSERT_TRUE(e.isOk()) << type << "." << p->code << ": " << e.status().message();
      EXPECT_FALSE(e->empty()) << type << "." << p->code << " has no branch for " << type;
      EXPECT_FALSE(e->resultTypes().empty()) << type << "." << p->code;
      ++checked;
    }
  }
  EXPECT_GT(checked, 250u);
}

TEST(FhirPath, EveryR4ExpressionCompilesForEachOfItsBases) {
  // Wider than the served types: the whole R4 set uses only the supported subset.
  size_t checked = 0;
  for (const std::string& type : r4().resourceTypes()) {
    for (const model::SearchParamDef* p : r4().searchParams(type)) {
      if (p->expression.empty()) continue;
      Result<Expression> e = Expression::compile(r4(), p->expression, type);
      EXPECT_TRUE(e.isOk()) << type << "." << p->code << ": " << e.status().message();
      ++checked;
    }
  }
  EXPECT_GT(checked, 2000u);
}

TEST(FhirPath, EveryServedParameterIsIndexedUnlessItCannotBe) {
  const IndexExtractor& ex = IndexExtractor::forModel(r4());
  for (const char* type : kServedTypes) {
    for (const model::SearchParamDef* p : r4().searchParams(type)) {
      bool storeKept = p->code == "_id" || p->code == "_lastUpdated";
      bool expected = !storeKept && !p->expression.empty() && p->type != "composite" &&
                      p->type != "special" && p->code != "phonetic";
      EXPECT_EQ(ex.isIndexed(type, p->code), expected) << type << "." << p->code;
    }
  }
  std::set<std::string> skippedServed;
  for (const SkippedParam& s : ex.skipped())
    for (const char* type : kServedTypes)
      if (s.resourceType == type) skippedServed.insert(s.resourceType + "." + s.code);
  EXPECT_TRUE(skippedServed.count("Patient.phonetic"));
  EXPECT_TRUE(skippedServed.count("Patient._text"));
  EXPECT_FALSE(skippedServed.count("Patient.name"));
}

TEST(FhirPath, NavigatesPathsAndArrays) {
  json::Value p = parseJson(R"({"resourceType":"Patient","name":[
      {"family":"Smith","given":["Ann","Marie"]},{"family":"Jones","given":["Annie"]}]})");
  Expression e = compileOk("Patient.name.given", "Patient");
  std::vector<PathItem> r = e.evaluate(p);
  EXPECT_EQ(texts(r), (Strings{"Ann", "Marie", "Annie"}));
  EXPECT_EQ(types(r), (Strings{"string", "string", "string"}));
  EXPECT_EQ(texts(compileOk("Patient.name.family", "Patient").evaluate(p)),
            (Strings{"Smith", "Jones"}));
  EXPECT_EQ(types(compileOk("Patient.name", "Patient").evaluate(p)),
            (Strings{"HumanName", "HumanName"}));
  EXPECT_EQ(texts(compileOk("Patient.name.first().given", "Patient").evaluate(p)),
            (Strings{"Ann", "Marie"}));
  EXPECT_EQ(texts(compileOk("Patient.name.last().family", "Patient").evaluate(p)),
            (Strings{"Jones"}));
  EXPECT_EQ(texts(compileOk("Patient.name[1].given", "Patient").evaluate(p)), (Strings{"Annie"}));
  EXPECT_TRUE(compileOk("Patient.name[5]", "Patient").evaluate(p).empty());
}

TEST(FhirPath, BackboneElementsCarryTheirPathAsType) {
  json::Value cp = parseJson(R"({"resourceType":"CarePlan","activity":[{"detail":{
      "scheduledPeriod":{"start":"2024-01-01"},"code":{"text":"walk"}}}]})");
  std::vector<PathItem> r = compileOk("CarePlan.activity.detail", "CarePlan").evaluate(cp);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, "CarePlan.activity.detail");
  ASSERT_NE(r[0].typeDef, nullptr);
  EXPECT_EQ(types(compileOk("CarePlan.activity.detail.scheduled", "CarePlan").evaluate(cp)),
            (Strings{"Period"}));
}

TEST(FhirPath, ChoiceElementsAndTypeFilters) {
  json::Value obs = parseJson(R"({"resourceType":"Observation","status":"final",
      "code":{"text":"weight"},"valueQuantity":{"value":72.5,"unit":"kg"}})");
  json::Value str = parseJson(R"({"resourceType":"Observation","status":"final",
      "code":{"text":"note"},"valueString":"high"})");
  for (const char* expr : {"Observation.value as Quantity", "(Observation.value as Quantity)",
                           "Observation.value.as(Quantity)", "Observation.value.ofType(Quantity)",
                           "Observation.value.ofType(FHIR.Quantity)"}) {
    Expression e = compileOk(expr, "Observation");
    std::vector<PathItem> r = e.evaluate(obs);
    ASSERT_EQ(r.size(), 1u) << expr;
    EXPECT_EQ(r[0].type, "Quantity") << expr;
    EXPECT_EQ(r[0].node, obs.find("valueQuantity")) << expr;
    EXPECT_TRUE(e.evaluate(str).empty()) << expr;
  }
  std::vector<PathItem> any = compileOk("Observation.value", "Observation").evaluate(str);
  ASSERT_EQ(any.size(), 1u);
  EXPECT_EQ(any[0].type, "string");
  EXPECT_EQ(any[0].node->text(), "high");
  // Subtypes match their base type: Age is a Quantity.
  json::Value cond = parseJson(R"({"resourceType":"Condition","subject":{"reference":"Patient/1"},
      "onsetAge":{"value":40,"unit":"a"}})");
  EXPECT_EQ(types(compileOk("Condition.onset.ofType(Quantity)", "Condition").evaluate(cond)),
            (Strings{"Age"}));
  EXPECT_EQ(texts(compileOk("Condition.onset is Age", "Condition").evaluate(cond)),
            (Strings{"true"}));
  EXPECT_EQ(texts(compileOk("Condition.onset.is(Period)", "Condition").evaluate(cond)),
            (Strings{"false"}));
}

TEST(FhirPath, KeepsOnlyBranchesOfTheResourceType) {
  const std::string expr =
      "AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | "
      "(Condition.subject.where(resolve() is Patient))";
  Expression carePlan = compileOk(expr, "CarePlan");
  EXPECT_FALSE(carePlan.empty());
  EXPECT_EQ(carePlan.resultTypes(), (Strings{"Reference"}));
  Expression condition = compileOk(expr, "Condition");
  EXPECT_FALSE(condition.empty());
  EXPECT_TRUE(compileOk(expr, "Observation").empty());

  json::Value cp =
      parseJson(R"({"resourceType":"CarePlan","subject":{"reference":"Patient/123"}})");
  std::vector<PathItem> r = carePlan.evaluate(cp);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].node, cp.find("subject"));
  // The CarePlan-compiled expression yields nothing for a Condition.
  json::Value c = parseJson(R"({"resourceType":"Condition","subject":{"reference":"Patient/1"}})");
  EXPECT_TRUE(carePlan.evaluate(c).empty());
  EXPECT_EQ(condition.evaluate(c).size(), 1u);
}

TEST(FhirPath, ResourceAndDomainResourceBranchesApplyToEveryType) {
  json::Value p = parseJson(R"({"resourceType":"Patient","meta":{"tag":[
      {"system":"s","code":"a"}],"profile":["http://p"]}})");
  EXPECT_EQ(types(compileOk("Resource.meta.tag", "Patient").evaluate(p)), (Strings{"Coding"}));
  EXPECT_EQ(texts(compileOk("Resource.meta.profile", "Patient").evaluate(p)),
            (Strings{"http://p"}));
  EXPECT_FALSE(compileOk("DomainResource.text", "Patient").empty());
  EXPECT_TRUE(compileOk("DomainResource.text", "Bundle").empty());
}

TEST(FhirPath, WhereResolveIsChecksTheReferenceType) {
  json::Value enc = parseJson(R"({"resourceType":"Encounter","status":"finished",
      "contained":[{"resourceType":"Practitioner","id":"pr1"}],
      "participant":[
        {"individual":{"reference":"Practitioner/7"}},
        {"individual":{"reference":"RelatedPerson/8"}},
        {"individual":{"reference":"https://other.example/fhir/Practitioner/9/_history/2"}},
        {"individual":{"type":"Practitioner",
                       "identifier":{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"55"}}},
        {"individual":{"type":"http://hl7.org/fhir/StructureDefinition/Practitioner",
                       "display":"Dr X"}},
        {"individual":{"reference":"#pr1"}},
        {"individual":{"reference":"urn:uuid:0b1c"}},
        {"individual":{"display":"nobody"}}]})");
  Expression e =
      compileOk("Encounter.participant.individual.where(resolve() is Practitioner)", "Encounter");
  std::vector<PathItem> r = e.evaluate(enc);
  const auto& parts = enc.find("participant")->items();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].node, parts[0].find("individual"));
  EXPECT_EQ(r[1].node, parts[2].find("individual"));
  EXPECT_EQ(r[2].node, parts[3].find("individual"));
  EXPECT_EQ(r[3].node, parts[4].find("individual"));
  EXPECT_EQ(r[4].node, parts[5].find("individual"));
  for (const PathItem& i : r) EXPECT_EQ(i.type, "Reference");

  // resolve() itself: a placeholder for external references, the resource for contained ones.
  std::vector<PathItem> resolved =
      compileOk("Encounter.participant.individual.resolve()", "Encounter").evaluate(enc);
  ASSERT_EQ(resolved.size(), 6u);
  EXPECT_TRUE(resolved[0].placeholder);
  EXPECT_EQ(resolved[1].type, "RelatedPerson");
  EXPECT_FALSE(resolved[5].placeholder);
  EXPECT_EQ(resolved[5].node, &enc.find("contained")->items()[0]);
}

TEST(FhirPath, WhereWithEqualityFilter) {
  json::Value p = parseJson(R"({"resourceType":"Patient","telecom":[
      {"system":"phone","value":"01632 960000"},{"system":"email","value":"a@b.nhs.uk"},
      {"system":"email","value":"c@d.nhs.uk"},{"value":"no system"}]})");
  std::vector<PathItem> r =
      compileOk("Patient.telecom.where(system='email')", "Patient").evaluate(p);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].node->getString("value"), "a@b.nhs.uk");
  EXPECT_EQ(r[1].node->getString("value"), "c@d.nhs.uk");
  EXPECT_EQ(compileOk("Patient.telecom.where(system != 'email')", "Patient").evaluate(p).size(),
            1u);
  EXPECT_EQ(compileOk("Patient.telecom.where(system = 'phone' or system = 'email')", "Patient")
                .evaluate(p)
                .size(),
            3u);
  EXPECT_EQ(compileOk("Patient.telecom.where($this.system = 'phone').value", "Patient")
                .evaluate(p)
                .size(),
            1u);
}

TEST(FhirPath, DeceasedBooleanExpression) {
  Expression e = compileOk(r4().searchParam("Patient", "deceased")->expression, "Patient");
  auto eval = [&](const std::string& text) {
    std::vector<PathItem> r = e.evaluate(parseJson(text));
    EXPECT_EQ(r.size(), 1u) << text;
    EXPECT_EQ(r.empty() ? "" : std::string(r[0].type), "boolean");
    return r.empty() ? std::string("<empty>") : r[0].node->text();
  };
  EXPECT_EQ(eval(R"({"resourceType":"Patient"})"), "false");
  EXPECT_EQ(eval(R"({"resourceType":"Patient","deceasedBoolean":true})"), "true");
  EXPECT_EQ(eval(R"({"resourceType":"Patient","deceasedBoolean":false})"), "false");
  EXPECT_EQ(eval(R"({"resourceType":"Patient","deceasedDateTime":"2020-01-02"})"), "true");
}

TEST(FhirPath, BooleanLogicIsThreeValued) {
  json::Value p = parseJson(R"({"resourceType":"Patient","active":true})");
  auto eval = [&](const std::string& expr) {
    std::vector<PathItem> r = compileOk(expr, "Patient").evaluate(p);
    return r.empty() ? std::string("{}") : r[0].node->text();
  };
  EXPECT_EQ(eval("Patient.active and Patient.gender.exists()"), "false");
  EXPECT_EQ(eval("Patient.active and Patient.gender"), "{}");
  EXPECT_EQ(eval("Patient.active or Patient.gender"), "true");
  EXPECT_EQ(eval("Patient.active xor true"), "false");
  EXPECT_EQ(eval("Patient.gender.empty()"), "true");
  EXPECT_EQ(eval("Patient.active.not()"), "false");
  EXPECT_EQ(eval("Patient.active = true"), "true");
  EXPECT_EQ(eval("Patient.gender = 'male'"), "{}");
  EXPECT_EQ(eval("Patient.active.hasValue()"), "true");
  EXPECT_EQ(eval("Patient.active.exists($this = false)"), "false");
}

TEST(FhirPath, PrimitiveCompanionsAreCarried) {
  json::Value p = parseJson(R"({"resourceType":"Patient",
      "birthDate":"2019-03","_birthDate":{"extension":[{"url":"u","valueString":"x"}]},
      "name":[{"given":["Ann",null],
               "_given":[null,{"extension":[{"url":"u","valueString":"y"}]}]}]})");
  std::vector<PathItem> b = compileOk("Patient.birthDate", "Patient").evaluate(p);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].type, "date");
  EXPECT_EQ(b[0].node->text(), "2019-03");
  EXPECT_EQ(b[0].extension, p.find("_birthDate"));
  std::vector<PathItem> g = compileOk("Patient.name.given", "Patient").evaluate(p);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].node->text(), "Ann");
  EXPECT_EQ(g[0].extension, nullptr);
  EXPECT_EQ(g[1].node, nullptr);  // present only through its extension
  ASSERT_NE(g[1].extension, nullptr);
  EXPECT_TRUE(g[1].extension->isObject());
}

TEST(FhirPath, UnionRemovesDuplicates) {
  json::Value o =
      parseJson(R"({"resourceType":"Organization","name":"Hospice","alias":["St X","St Y"]})");
  EXPECT_EQ(texts(compileOk("Organization.name | Organization.alias", "Organization").evaluate(o)),
            (Strings{"Hospice", "St X", "St Y"}));
  EXPECT_EQ(texts(compileOk("Organization.alias | Organization.alias", "Organization").evaluate(o)),
            (Strings{"St X", "St Y"}));
}

TEST(FhirPath, MalformedResourcesYieldFewerItemsNotCrashes) {
  Expression e = compileOk("CarePlan.subject.where(resolve() is Patient)", "CarePlan");
  for (const char* text : {R"({"resourceType":"CarePlan","subject":"Patient/1"})",
                           R"({"resourceType":"CarePlan","subject":[{"reference":"Patient/1"}]})",
                           R"({"resourceType":"CarePlan","subject":{"reference":7}})",
                           R"({"resourceType":"CarePlan","subject":null})",
                           R"({"resourceType":"Nope","subject":{"reference":"Patient/1"}})",
                           R"({"subject":{"reference":"Patient/1"}})", R"([1,2])"}) {
    std::vector<PathItem> r = e.evaluate(parseJson(text));
    // An array where one Reference is expected is read element-wise (lenient); nothing
    // else yields a Patient reference.
    if (std::string(text).find("[{") != std::string::npos)
      EXPECT_EQ(r.size(), 1u) << text;
    else
      EXPECT_TRUE(r.empty()) << text;
  }
  json::Value weird = parseJson(R"({"resourceType":"Patient","name":{"family":"X"},
      "telecom":"x","contained":[1,{"resourceType":7}]})");
  EXPECT_EQ(compileOk("Patient.name.family", "Patient").evaluate(weird).size(), 1u);
  EXPECT_TRUE(compileOk("Patient.telecom.value", "Patient").evaluate(weird).empty());
  EXPECT_TRUE(compileOk("Patient.contained.id", "Patient").evaluate(weird).empty());
}

TEST(FhirPath, RejectsWhatItDoesNotUnderstand) {
  struct Case {
    const char* expr;
    const char* messagePart;
  };
  for (const Case& c : std::vector<Case>{
           {"Patient.nonsense", "no element 'nonsense'"},
           {"Patient.name.substring(1)", "unsupported function 'substring()'"},
           {"Patient.name.", "name expected"},
           {"Patient.name.where(", "unexpected token"},
           {"Patient.deceased.ofType(Foo)", "unknown type 'Foo'"},
           {"Patient.deceased.ofType(Quantity)", "can never match"},
           {"Patient.multipleBirth + 1", "unsupported operator '+'"},
           {"Patient.birthDate > '2020'", "unsupported operator '>'"},
           {"%resource.id", "unexpected token"},
           {"Patient.generalPractitioner.resolve().name", "navigation into a resolve()"},
           {"Patient.birthDate.resolve()", "resolve() needs references"},
           {"Patient.name[Patient.name]", "index must be"},
           {"Patient.name 'x'", "unexpected token"},
           {"Patient.gender in ('a')", "unsupported operator 'in'"},
           {"$index", "unsupported variable"},
           {"Patient.name.where(x = 'a')", "no element 'x'"},
       }) {
    Result<Expression> r = Expression::compile(r4(), c.expr, "Patient");
    ASSERT_FALSE(r.isOk()) << c.expr;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
    EXPECT_NE(r.status().message().find(c.messagePart), std::string::npos)
        << c.expr << " -> " << r.status().message();
  }
  EXPECT_FALSE(Expression::compile(r4(), "Patient.name", "NoSuchType").isOk());
  // Branches for other types are not checked (and not evaluated).
  EXPECT_TRUE(Expression::compile(r4(), "Patient.name | Observation.nonsense", "Patient").isOk());
  EXPECT_FALSE(
      Expression::compile(r4(), "Patient.name | Observation.nonsense", "Observation").isOk());
}

TEST(FhirPath, DeepNestingIsRejectedNotOverflowed) {
  std::string deep(5000, '(');
  deep += "Patient.name";
  deep += std::string(5000, ')');
  Result<Expression> r = Expression::compile(r4(), deep, "Patient");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("nested too deeply"), std::string::npos);
}

TEST(FhirPath, ParsesReferences) {
  ParsedReference r;
  ASSERT_TRUE(parseReference(r4(), "Patient/123", r));
  EXPECT_EQ(r.type, "Patient");
  EXPECT_EQ(r.id, "123");
  EXPECT_FALSE(r.absolute);

  ASSERT_TRUE(parseReference(r4(), "Patient/123/_history/4", r));
  EXPECT_EQ(r.type, "Patient");
  EXPECT_EQ(r.id, "123");
  EXPECT_EQ(r.version, "4");

  ASSERT_TRUE(parseReference(r4(), "https://gp.example/fhir/R4/Practitioner/a.b-c", r));
  EXPECT_TRUE(r.absolute);
  EXPECT_EQ(r.base, "https://gp.example/fhir/R4");
  EXPECT_EQ(r.type, "Practitioner");
  EXPECT_EQ(r.id, "a.b-c");

  ASSERT_TRUE(parseReference(r4(), "#p1", r));
  EXPECT_TRUE(r.contained);
  EXPECT_EQ(r.id, "p1");

  ASSERT_TRUE(parseReference(r4(), "urn:uuid:6f0b", r));
  EXPECT_TRUE(r.absolute);
  EXPECT_TRUE(r.type.empty());

  ASSERT_TRUE(parseReference(r4(), "http://example.org/fhir/PlanDefinition/acp|2.0", r));
  EXPECT_EQ(r.type, "PlanDefinition");
  EXPECT_EQ(r.id, "acp");

  ASSERT_TRUE(parseReference(r4(), "Foo/1", r));
  EXPECT_TRUE(r.type.empty());
  ASSERT_TRUE(parseReference(r4(), "Patient/bad_id!", r));
  EXPECT_TRUE(r.type.empty());
  ASSERT_TRUE(parseReference(r4(), "x/Patient/1", r));
  EXPECT_TRUE(r.type.empty());
  ASSERT_TRUE(parseReference(r4(), "123", r));
  EXPECT_TRUE(r.type.empty());
  EXPECT_FALSE(r.absolute);
  EXPECT_FALSE(parseReference(r4(), "", r));

  EXPECT_TRUE(isValidId("A-1.b"));
  EXPECT_FALSE(isValidId(""));
  EXPECT_FALSE(isValidId("a_b"));
  EXPECT_FALSE(isValidId(std::string(65, 'a')));
  EXPECT_TRUE(isValidId(std::string(64, 'a')));
}

TEST(FhirPath, EvaluatesConcurrently) {
  Expression e =
      compileOk("Patient.name.given | Patient.telecom.where(system='email').value", "Patient");
  json::Value p = parseJson(R"({"resourceType":"Patient","name":[{"given":["A","B"]}],
      "telecom":[{"system":"email","value":"x@y"}]})");
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) ok[t] += texts(e.evaluate(p)) == Strings{"A", "B", "x@y"};
    });
  }
  for (auto& th : threads) th.join();
  for (int n : ok) EXPECT_EQ(n, 2000);
}

}  // namespace
}  // namespace acp::search
