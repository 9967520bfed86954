// Source identity, NHS number checks, ConceptMaps and the hospice date rule.
#include <gtest/gtest.h>

#include <set>

#include "gateway/ingest/concept_maps.h"
#include "gateway/ingest/source_ids.h"
#include "mappings/hospice/hospice_parser.h"

namespace acp::ingest {
namespace {

TEST(SourceIds, DerivedIdsAreStableDistinctAndValidFhirIds) {
  std::string a = derivedId("Patient", "8WB01", "WB-004471");
  EXPECT_EQ(a, derivedId("Patient", "8WB01", "WB-004471"));
  EXPECT_NE(a, derivedId("Patient", "RX9", "WB-004471"));
  EXPECT_NE(a, derivedId("CarePlan", "8WB01", "WB-004471"));
  // Length-prefixed parts: moving a character between parts changes the id.
  EXPECT_NE(derivedId("Patient", "8WB0", "1WB"), derivedId("Patient", "8WB01", "WB"));
  ASSERT_EQ(a.size(), 36u);
  for (char c : a) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)) || c == '-');
}

TEST(SourceIds, NhsNumberModulus11) {
  for (const char* valid : {"9992530820", "9990810117", "9991215271", "9998990602", "9991579249",
                            "9996135241", "9999777562", "9990973067", "9998513359", "9993602035",
                            "9990629072", "9991441956"})
    EXPECT_TRUE(isValidNhsNumber(valid)) << valid;
  for (const char* invalid : {"9996655190", "9990831972", "999253082", "99925308200", "999253082X",
                              ""})
    EXPECT_FALSE(isValidNhsNumber(invalid)) << invalid;
  EXPECT_EQ(normaliseNhsNumber("999 253 0820"), "9992530820");
  EXPECT_EQ(normaliseNhsNumber("999-253-0820"), "9992530820");
}

TEST(ConceptMaps, HospiceMapsLoadAndTranslateEveryCode) {
  ConceptMaps maps;
  ASSERT_TRUE(maps.loadDirectory(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/conceptmaps").isOk());
  for (const char* place : {"HOME", "HOSPICE", "HOSP", "HOSP_PICU", "OTHER_HOME", "OTHER",
                            "UNDECIDED", "NOT_DISCUSSED"}) {
    auto c = maps.translate("hospice-place", place);
    ASSERT_TRUE(c) << place;
    EXPECT_EQ(c->system, "https://acp-gateway.nhs.uk/CodeSystem/place");
  }
  EXPECT_EQ(maps.translate("hospice-resuscitation", "DNACPR")->code, "450476008");
  EXPECT_EQ(maps.translate("hospice-resuscitation", "N")->code, "450476008");
  EXPECT_EQ(maps.translate("hospice-resuscitation", "FULL")->code, "450475007");
  EXPECT_EQ(maps.translate("hospice-resuscitation", "MODIFIED")->system,
            "https://acp-gateway.nhs.uk/CodeSystem/acp-decision");
  EXPECT_EQ(maps.translate("hospice-sex", "I")->code, "other");
  EXPECT_EQ(maps.translate("hospice-relationship", "mother")->code, "MTH");
  EXPECT_EQ(maps.translate("hospice-plan-status", "SUPERSEDED")->code, "revoked");
  EXPECT_FALSE(maps.translate("hospice-place", "MOON"));
  EXPECT_FALSE(maps.translate("no-such-map", "HOME"));
  // By url as well as by name.
  EXPECT_TRUE(maps.translate("https://acp-gateway.nhs.uk/ConceptMap/hospice-place", "HOME"));
}

TEST(ConceptMaps, MalformedMapsAreRefusedWithTheirOrigin) {
  ConceptMaps maps;
  json::Value v = json::Value::makeObject();
  v.set("resourceType", json::Value::makeString("ValueSet"));
  Status s = maps.add(v, "x.json");
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("x.json"), std::string::npos);
}

TEST(HospiceDates, DayMonthYearToIso) {
  using mappings::hospice::isoFromDayMonthYear;
  EXPECT_EQ(isoFromDayMonthYear("14/03/2015"), "2015-03-14");
  EXPECT_EQ(isoFromDayMonthYear("29/02/2016"), "2016-02-29");
  EXPECT_EQ(isoFromDayMonthYear("29/02/2015"), "");
  EXPECT_EQ(isoFromDayMonthYear("31/02/2020"), "");
  EXPECT_EQ(isoFromDayMonthYear("31/04/2020"), "");
  EXPECT_EQ(isoFromDayMonthYear("00/01/2020"), "");
  EXPECT_EQ(isoFromDayMonthYear("2015-03-14"), "");
  EXPECT_EQ(isoFromDayMonthYear("1/3/2015"), "");
  EXPECT_EQ(isoFromDayMonthYear("14/13/2015"), "");
}

}  // namespace
}  // namespace acp::ingest

// Every artefact the project publishes (code systems, operation definitions, concept maps) is
// valid R4.
#include <dirent.h>

#include <fstream>
#include <sstream>

#include "gateway/model/validator.h"

namespace acp::ingest {
namespace {

std::vector<std::string> jsonFiles(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0) out.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  return out;
}

TEST(Artefacts, PublishedConformanceAndConceptMapsAreValidR4) {
  auto model = model::Model::load(std::string(ACP_SOURCE_DIR) + "/conformance/r4");
  ASSERT_TRUE(model.isOk());
  model::Validator validator(model.value());
  std::vector<std::string> files = jsonFiles(std::string(ACP_SOURCE_DIR) + "/conformance/acp");
  for (const char* partner : {"hospice", "acute", "community"})
    for (const std::string& f :
         jsonFiles(std::string(ACP_SOURCE_DIR) + "/mappings/" + partner + "/conceptmaps"))
      files.push_back(f);
  ASSERT_GE(files.size(), 25u);
  for (const std::string& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    json::Value v;
    json::ParseError err;
    ASSERT_TRUE(json::parse(ss.str(), v, err)) << f;
    IssueList issues;
    EXPECT_TRUE(validator.validate(v, issues)) << f << ": " << json::write(issues.toOperationOutcome());
  }
}

}  // namespace
}  // namespace acp::ingest
