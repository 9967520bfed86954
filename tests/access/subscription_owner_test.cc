// Subscriptions notify only what their owner may see (access/subscription_owner.h,
// notify/notifier.h): a practice the child is registered with is told, another practice's
// Subscription on the same child is never sent a thing, and a plan the child has not consented
// to share reaches the practice as its outline only. The Subscriptions are stored with their
// owners as the API stamps them for a token's client (tests/security covers the API side).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "gateway/access/subscription_owner.h"
#include "gateway/store/resource_store.h"
#include "tests/support/http_receiver.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

std::string sample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

auth::Principal practice(const std::string& ods) {
  auth::Principal p;
  p.clientId = "gp-" + ods;
  p.organisation = ods;
  p.role = auth::Role::kGpPractice;
  return p;
}

// Stores an active Subscription to the child's CarePlans owned by `owner`.
void subscribe(TestServer& server, const auth::Principal& owner, const std::string& endpoint) {
  json::Value sub;
  json::ParseError err;
  ASSERT_TRUE(json::parse(
      R"({"resourceType":"Subscription","status":"active","reason":"plans",
          "criteria":"CarePlan?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820",
          "channel":{"type":"rest-hook","endpoint":")" + endpoint +
          R"(","payload":"application/fhir+json"}})",
      sub, err));
  access::stampOwner(sub, owner);
  auto tx = server.gateway().store()->begin();
  ASSERT_TRUE(tx.isOk());
  ASSERT_TRUE(tx.value()->create("Subscription", std::move(sub)).isOk());
  ASSERT_TRUE(tx.value()->commit().isOk());
}

TEST(SubscriptionOwner, TheOwnerIsStampedByTheServerNeverTakenFromTheClient) {
  json::Value sub;
  json::ParseError err;
  ASSERT_TRUE(json::parse(
      R"({"resourceType":"Subscription","meta":{"tag":[{"system":"https://acp-gateway.nhs.uk/CodeSystem/subscription-owner-organisation","code":"X81001"},{"system":"http://example.org","code":"kept"}]}})",
      sub, err));
  access::stampOwner(sub, practice("X81002"));
  auto owner = access::ownerOf(sub);
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->organisation, "X81002");
  EXPECT_EQ(owner->clientId, "gp-X81002");
  EXPECT_EQ(owner->role, auth::Role::kGpPractice);
  std::string text = json::write(sub);
  EXPECT_EQ(text.find("X81001"), std::string::npos);
  EXPECT_NE(text.find("kept"), std::string::npos);
  // The superuser's Subscriptions carry no owner.
  access::stampOwner(sub, auth::localSuperuser());
  EXPECT_FALSE(access::ownerOf(sub).has_value());
}

TEST(SubscriptionOwner, OnlyWhatTheOwnerMaySeeIsSentAndAWithheldPlanAsItsOutline) {
  TestServer server;
  Receiver registered, stranger;
  subscribe(server, practice("X81001"), registered.url());
  subscribe(server, practice("X81002"), stranger.url());
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", sample(), {{"Content-Type", "application/json"}})
                .status,
            200);
  ASSERT_TRUE(registered.waitFor(1));
  EXPECT_NE(registered.received()[0].body.find("\"CarePlan\""), std::string::npos);
  EXPECT_NE(registered.received()[0].body.find("activity"), std::string::npos);

  // Consent withdrawn at the hospice: the new version reaches the practice as an outline.
  std::string refused = sample();
  refused.replace(refused.find("\"given\": true"), 13, "\"given\": false");
  refused.replace(refused.find("\"version\": 3"), 12, "\"version\": 4");
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", refused, {{"Content-Type", "application/json"}})
                .status,
            200);
  ASSERT_TRUE(registered.waitFor(2));
  const std::string outline = registered.received()[1].body;
  EXPECT_NE(outline.find("REDACTED"), std::string::npos) << outline;
  EXPECT_EQ(outline.find("activity"), std::string::npos) << outline;
  EXPECT_EQ(outline.find("midazolam"), std::string::npos) << outline;
  // The other practice's Subscription matched both writes but was never sent anything (the
  // registered practice's two deliveries came after the same polls).
  EXPECT_TRUE(stranger.received().empty());
}

}  // namespace
}  // namespace acp::testing
