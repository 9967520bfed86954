// R4 Subscriptions are a way of reading: a rest-hook notification with a payload carries the
// resource that matched. What it carries must be what the subscriber may read (relationship,
// consent to share), and one practice's Subscriptions — criteria naming a child's NHS number,
// its endpoint — are not another practice's to read or delete.
#include <chrono>
#include <thread>

#include "tests/security/security_fixture.h"
#include "tests/support/http_receiver.h"

namespace acp::testing::security {
namespace {

std::string subscription(const std::string& endpoint) {
  return R"({"resourceType":"Subscription","status":"requested","reason":"the child's plan",)"
         R"("criteria":"CarePlan?patient.identifier=)" + kNhsSystem + "|" + kChildNhs + R"(",)"
         R"("channel":{"type":"rest-hook","endpoint":")" + endpoint +
         R"(","payload":"application/fhir+json"}})";
}

// Waits (at most 20 s: delivery is asynchronous) until a request whose path contains `tag`
// has arrived; the requests received by then.
std::vector<Receiver::Received> waitForTag(Receiver& receiver, const std::string& tag) {
  for (int i = 0; i < 200; ++i) {
    auto got = receiver.received();
    for (const auto& r : got)
      if (r.path.find(tag) != std::string::npos) return got;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "no notification for " << tag;
  return receiver.received();
}

std::string withheldHospiceExport() {
  std::string doc = hospiceSample();
  replaceOnce(doc, "\"given\": true", "\"given\": false");
  replaceOnce(doc, "\"version\": 3", "\"version\": 4");
  return doc;
}

TEST(SubscriptionAccess, ANotificationCarriesNothingTheSubscriberMayNotSee) {
  SecureGateway g;
  Receiver receiver;
  HttpResult pushed = g.pushHospice(hospiceSample());
  ASSERT_EQ(pushed.status, 200);
  const std::string plan = pushedId(pushed, "CarePlan");
  HttpResult other =
      g.client("gp2", "POST", "/Subscription", subscription(receiver.url() + "?gp2"));
  HttpResult own =
      g.client("gp1", "POST", "/Subscription", subscription(receiver.url() + "?gp1"));
  ASSERT_EQ(own.status, 201) << own.body;
  std::string changed = hospiceSample();
  replaceOnce(changed, "\"version\": 3", "\"version\": 4");
  replaceOnce(changed, "\"decision\": \"MODIFIED\"", "\"decision\": \"DNACPR\"");
  ASSERT_EQ(g.pushHospice(changed).status, 200);
  for (const auto& r : waitForTag(receiver, "?gp1")) {
    if (r.path.find("?gp2") == std::string::npos) continue;
    EXPECT_EQ(r.body.find(plan), std::string::npos) << "gp2 was sent: " << r.body;
    EXPECT_EQ(r.body.find("activity"), std::string::npos) << "gp2 was sent: " << r.body;
  }
  EXPECT_TRUE(other.status == 403 || other.status == 201) << other.body;
}

TEST(SubscriptionAccess, ANotificationOfAWithheldPlanIsItsOutline) {
  SecureGateway g;
  Receiver receiver;
  ASSERT_EQ(g.pushHospice(hospiceSample()).status, 200);
  ASSERT_EQ(g.client("gp1", "POST", "/Subscription", subscription(receiver.url() + "?gp1")).status,
            201);
  ASSERT_EQ(g.pushHospice(withheldHospiceExport()).status, 200);
  auto got = waitForTag(receiver, "?gp1");
  ASSERT_FALSE(got.empty());
  json::Value sent;
  json::ParseError err;
  ASSERT_TRUE(json::parse(got.back().body, sent, err)) << got.back().body;
  EXPECT_EQ(sent.getString("resourceType"), "CarePlan");
  EXPECT_TRUE(hasRedactedLabel(sent)) << got.back().body;
  EXPECT_EQ(sent.find("activity"), nullptr) << got.back().body;
}

TEST(SubscriptionAccess, APracticesSubscriptionsAreItsOwn) {
  SecureGateway g;
  Receiver receiver;
  HttpResult own = g.client("gp1", "POST", "/Subscription", subscription(receiver.url()));
  ASSERT_EQ(own.status, 201) << own.body;
  const std::string id = own.json.getString("id");
  HttpResult listed = g.get("gp2", "/Subscription");
  EXPECT_TRUE(resourcesOf(listed).empty()) << listed.body;
  EXPECT_EQ(listed.body.find(kChildNhs), std::string::npos);
  HttpResult read = g.get("gp2", "/Subscription/" + id);
  EXPECT_TRUE(read.status == 403 || read.status == 404) << read.body;
  HttpResult removed = g.client("gp2", "DELETE", "/Subscription/" + id);
  EXPECT_TRUE(removed.status == 403 || removed.status == 404) << removed.body;
  EXPECT_EQ(g.get("gp1", "/Subscription/" + id).status, 200);
}

}  // namespace
}  // namespace acp::testing::security
