#include "gateway/model/model.h"

#include <gtest/gtest.h>

#include "tests/support/model_fixture.h"

namespace acp::model {
namespace {

using acp::testing::r4;

TEST(Model, LoadsResourcesAndDatatypes) {
  const TypeDef* cp = r4().type("CarePlan");
  ASSERT_NE(cp, nullptr);
  EXPECT_EQ(cp->kind, TypeKind::kResource);
  const ElementDef* status = cp->find("status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->min, 1);
  EXPECT_EQ(status->max, 1);
  EXPECT_EQ(status->binding.strength, "required");
  EXPECT_TRUE(r4().isResourceType("Patient"));
  EXPECT_FALSE(r4().isResourceType("DomainResource"));
  EXPECT_TRUE(r4().isPrimitive("dateTime"));
}

TEST(Model, ResolvesChoiceNamesAndBackbones) {
  const TypeDef* patient = r4().type("Patient");
  std::string chosen;
  const ElementDef* deceased = patient->findJson("deceasedDateTime", &chosen);
  ASSERT_NE(deceased, nullptr);
  EXPECT_EQ(chosen, "dateTime");
  EXPECT_EQ(patient->findJson("deceased"), nullptr);
  const ElementDef* contact = patient->find("contact");
  ASSERT_NE(contact->backbone, nullptr);
  EXPECT_NE(contact->backbone->find("relationship"), nullptr);
  EXPECT_TRUE(contact->isArray());
  const TypeDef* cp = r4().type("CarePlan");
  const ElementDef* detail = cp->find("activity")->backbone->find("detail");
  ASSERT_NE(detail->backbone, nullptr);
  EXPECT_NE(detail->backbone->findJson("scheduledPeriod"), nullptr);
}

TEST(Model, ResolvesContentReferences) {
  const TypeDef* q = r4().type("Questionnaire");
  const ElementDef* item = q->find("item");
  const ElementDef* nested = item->backbone->find("item");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->backbone, item->backbone);
}

TEST(Model, RequiredValueSetsAndSearchParameters) {
  const ValueSetCodes* vs = r4().valueSet("http://hl7.org/fhir/ValueSet/administrative-gender");
  ASSERT_NE(vs, nullptr);
  EXPECT_TRUE(vs->contains("female"));
  EXPECT_FALSE(vs->contains("f"));
  const SearchParamDef* p = r4().searchParam("CarePlan", "patient");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->type, "reference");
  EXPECT_NE(r4().searchParam("Patient", "_id"), nullptr);
  EXPECT_EQ(r4().searchParam("Patient", "nonsense"), nullptr);
}

}  // namespace
}  // namespace acp::model
