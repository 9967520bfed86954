// person_index.h: which person a source patient belongs to, and how the person Patient is
// combined from the sources' views.
#include "gateway/ingest/person_index.h"

#include <gtest/gtest.h>

#include "gateway/ingest/source_ids.h"

namespace acp::ingest {
namespace {

json::Value parse(const std::string& text) {
  json::Value v;
  json::ParseError err;
  EXPECT_TRUE(json::parse(text, v, err)) << err.message;
  return v;
}

const std::string kHospice = localIdentifierSystem("8WB01");
const std::string kHospital = localIdentifierSystem("RX8");

json::Value view(const std::string& ods, const std::string& local, const std::string& nhs,
                 const std::string& rest) {
  std::string ids = "[";
  if (!nhs.empty()) ids += R"({"system":")" + std::string(kNhsNumberSystem) + R"(","value":")" + nhs + R"("},)";
  ids += R"({"system":")" + localIdentifierSystem(ods) + R"(","value":")" + local + R"("}])";
  return parse(R"({"resourceType":"Patient","id":"src-)" + local + R"(","identifier":)" + ids +
               (rest.empty() ? "" : "," + rest) + "}");
}

TEST(PersonIndex, AValidNhsNumberIsThePersonOtherwiseTheRecordStaysWhereItWas) {
  EXPECT_EQ(personIdFor(view("RX8", "M1", "9992530820", ""), "src-M1", ""),
            personIdForNhsNumber("9992530820"));
  // A failing number never links (the mappers keep it off the NHS system; checked here too).
  EXPECT_EQ(personIdFor(view("RX8", "M1", "9992530821", ""), "src-M1", ""), "src-M1");
  EXPECT_EQ(personIdFor(view("RX8", "M1", "", ""), "src-M1", ""), "src-M1");
  // Leaving the number out of a later record does not leave the person.
  EXPECT_EQ(personIdFor(view("RX8", "M1", "", ""), "src-M1", "person-X"), "person-X");
}

TEST(PersonIndex, ThePersonHasEveryIdentifierAndTheNewestValueOfEachElement) {
  std::vector<json::Value> views = {
      view("8WB01", "WB-1", "9992530820",
           R"("name":[{"family":"Hartley"}],"birthDate":"2015-03-14","deceasedBoolean":false,"telecom":[{"value":"07700"}])"),
      view("RX8", "M1", "9992530820",
           R"("name":[{"family":"Hartley-Smith"}],"_birthDate":{"extension":[]},"birthDate":"2015-03-14","deceasedDateTime":"2026-11-01")"),
  };
  json::Value p = combinePerson("P1", views, json::Value());
  EXPECT_EQ(p.getString("id"), "P1");
  const auto& ids = p.find("identifier")->items();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0].getString("system"), kNhsNumberSystem);
  EXPECT_EQ(ids[1].getString("system"), kHospice);
  EXPECT_EQ(ids[2].getString("system"), kHospital);
  // The newest view's name; telecom only the older one has.
  EXPECT_EQ(p.find("name")->items()[0].getString("family"), "Hartley-Smith");
  EXPECT_NE(p.find("telecom"), nullptr);
  // One deceased[x], from the view that has the newest: never both choices.
  EXPECT_NE(p.find("deceasedDateTime"), nullptr);
  EXPECT_EQ(p.find("deceasedBoolean"), nullptr);
  EXPECT_NE(p.find("_birthDate"), nullptr);
}

TEST(PersonIndex, ARetiredViewTakesNoPartAndLinksAreThePersonsOwn) {
  json::Value retired = view("RX8", "M2", "", R"("name":[{"family":"Old"}],"active":false,"link":[{"other":{"reference":"Patient/src-M1"},"type":"replaced-by"}])");
  EXPECT_TRUE(isRetired(retired));
  std::vector<json::Value> views = {view("RX8", "M1", "", R"("name":[{"family":"New"}])"),
                                    retired};
  json::Value stored = parse(R"({"resourceType":"Patient","id":"P1","link":[{"other":{"reference":"Patient/P0"},"type":"replaces"}]})");
  json::Value p = combinePerson("P1", views, stored);
  EXPECT_EQ(p.find("name")->items()[0].getString("family"), "New");
  // The retired record's number stays, as an old one.
  ASSERT_EQ(p.find("identifier")->items().size(), 2u);
  EXPECT_EQ(p.find("identifier")->items()[1].getString("value"), "M2");
  EXPECT_EQ(p.find("identifier")->items()[1].getString("use"), "old");
  EXPECT_EQ(p.find("active"), nullptr);
  ASSERT_NE(p.find("link"), nullptr);
  EXPECT_EQ(p.find("link")->items()[0].find("other")->getString("reference"), "Patient/P0");
}

TEST(PersonIndex, MismatchesNameTheValuesAndTheirSources) {
  std::vector<json::Value> views = {
      view("8WB01", "WB-1", "9992530820", R"("birthDate":"2015-03-14","gender":"female")"),
      view("RX8", "M1", "9992530820", R"("birthDate":"2015-04-13","gender":"unknown")"),
  };
  auto m = identityMismatches(views);
  ASSERT_EQ(m.size(), 1u);  // "unknown" agrees with any sex
  EXPECT_EQ(m[0], "birthDate: 2015-03-14 (8WB01) / 2015-04-13 (RX8)");
  views[1] = view("RX8", "M1", "9992530820", R"("birthDate":"2015-03-14","gender":"male")");
  m = identityMismatches(views);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0], "gender: female (8WB01) / male (RX8)");
  EXPECT_EQ(sourceOdsOf(views[1]), "RX8");
}

}  // namespace
}  // namespace acp::ingest
