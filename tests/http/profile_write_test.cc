// Writes through the REST API are checked against the profiles they claim (meta.profile) when
// the server holds them (UK Core, ACP-CarePlan); a profile it does not hold is not checked.
#include <gtest/gtest.h>

#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string carePlan(const std::string& profile, const std::string& category) {
  std::string meta = profile.empty() ? "" : R"("meta":{"profile":[")" + profile + R"("]},)";
  return R"({"resourceType":"CarePlan","id":"cp1",)" + meta +
         R"("status":"active","intent":"plan","category":[{"coding":[{"system":"http://snomed.info/sct","code":")" +
         category + R"("}]}],"subject":{"reference":"Patient/p1"}})";
}

const char* kAcp = "https://acp-gateway.nhs.uk/StructureDefinition/ACP-CarePlan";

TEST(ProfileWrites, AResourceClaimingAProfileThisServerHoldsMustConformToIt) {
  TestServer server;
  // Claims ACP-CarePlan without the advance-care-plan category: refused, with the constraint.
  HttpResult bad = server.put("/CarePlan/cp1", carePlan(kAcp, "734163000"));
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("profile.min"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("CarePlan.category"), std::string::npos) << bad.body;
  // The same plan claiming nothing is plain R4 and accepted; conforming, it is accepted too.
  EXPECT_EQ(server.put("/CarePlan/cp1", carePlan("", "734163000")).status, 201);
  EXPECT_EQ(server.put("/CarePlan/cp1", carePlan(kAcp, "736366004")).status, 200);
  // A profile the server does not hold is not checked.
  EXPECT_EQ(server.put("/CarePlan/cp1", carePlan("http://example.org/StructureDefinition/x",
                                                  "734163000")).status,
            200);
}

TEST(ProfileWrites, ATransactionEntryIsCheckedAndLocatedInTheBundle) {
  TestServer server;
  std::string bundle =
      R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" +
      carePlan(kAcp, "734163000") +
      R"(,"request":{"method":"PUT","url":"CarePlan/cp1"}}]})";
  HttpResult r = server.post("/", bundle);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("Bundle.entry[0].resource.category"), std::string::npos) << r.body;
  EXPECT_EQ(server.get("/CarePlan/cp1").status, 404);  // nothing written
}

}  // namespace
}  // namespace acp::testing
