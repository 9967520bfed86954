// R4 Subscriptions with rest-hook channels, against a real local HTTP receiver: a GP
// practice's Subscription by NHS number is notified of the child's new plan (with or without
// the resource), a bad Subscription is refused, a failing endpoint puts the Subscription in
// error and a working one brings it back, and notifications owed survive a restart — or a
// gateway's death, when another gateway shares the database (PostgreSQL).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <thread>

#include "gateway/notify/notifier.h"
#include "gateway/store/notification_outbox.h"
#include "gateway/store/resource_store.h"
#include "gateway/store/sql_store.h"
#include "tests/support/http_receiver.h"
#include "tests/support/model_fixture.h"
#include "gateway/metrics/registry.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

constexpr const char* kNhs = "9992530820";  // the hospice sample's child

std::string hospiceSample() {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/hospice/samples/example-1.2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string subscription(const std::string& endpoint, const std::string& payload,
                         const std::string& criteria = std::string("CarePlan?patient.identifier=") +
                                                       "https://fhir.nhs.uk/Id/nhs-number|" + kNhs) {
  return R"({"resourceType":"Subscription","status":"requested","reason":"GP practice P81001",
    "criteria":")" + criteria + R"(","channel":{"type":"rest-hook","endpoint":")" + endpoint + "\"" +
         (payload.empty() ? "" : R"(,"payload":")" + payload + "\"") +
         R"(,"header":["Authorization: Bearer practice-token"]}})";
}

std::string statusOf(TestServer& server, const std::string& id) {
  return server.get("/Subscription/" + id).json.getString("status");
}

// Waits (at most 20 s) for the Subscription's status.
bool waitForStatus(TestServer& server, const std::string& id, const std::string& status) {
  for (int i = 0; i < 200; ++i) {
    if (statusOf(server, id) == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Waits (at most 20 s) until the outbox holds nothing left to deliver. A write's
// notifications are put in the outbox in the write's own transaction, so once this is true
// every notification the writes so far produced has been delivered (or given up on): what a
// receiver has by then is all it will get.
bool waitForOutboxDrained(TestServer& server) {
  auto outbox = std::dynamic_pointer_cast<store::NotificationOutbox>(server.gateway().store());
  if (!outbox) return false;
  for (int i = 0; i < 200; ++i) {
    auto due = outbox->dueNotifications(std::numeric_limits<int64_t>::max(), 1);
    if (due.isOk() && due.value().empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(Subscriptions, ThePracticeIsSentTheChildsNewPlan) {
  Receiver receiver;
  TestServer server;
  HttpResult created = server.request("POST", "/Subscription",
                                      subscription(receiver.url(), "application/fhir+json"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json.getString("status"), "active");  // requested → active
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", hospiceSample(),
                           {{"Content-Type", "application/json"}})
                .status,
            200);
  ASSERT_TRUE(receiver.waitFor(1));
  auto got = receiver.received();
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].path, "/hook");
  EXPECT_EQ(got[0].header, "Bearer practice-token");
  EXPECT_NE(got[0].contentType.find("application/fhir+json"), std::string::npos);
  json::Value plan;
  json::ParseError err;
  ASSERT_TRUE(json::parse(got[0].body, plan, err)) << got[0].body;
  EXPECT_EQ(plan.getString("resourceType"), "CarePlan");
  // Only what matches: the child's Patient, Encounters and Consent were not sent.
  ASSERT_TRUE(waitForOutboxDrained(server));
  EXPECT_EQ(receiver.received().size(), 1u);
  // The same export again changes nothing: nothing is sent.
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", hospiceSample(),
                           {{"Content-Type", "application/json"}})
                .status,
            200);
  ASSERT_TRUE(waitForOutboxDrained(server));
  EXPECT_EQ(receiver.received().size(), 1u);
}

// The scenario a GP practice cares about: the hospital's ReSPECT form says "not for CPR"
// against the hospice's modified CPR. The practice, subscribed to the child's Flags, is sent
// the disagreement Flag; the summary shows both decisions.
TEST(Subscriptions, ThePracticeIsToldWhenTheSourcesDisagreeOnCpr) {
  Receiver receiver;
  TestServer server;
  ASSERT_EQ(server.request("POST", "/Subscription",
                           subscription(receiver.url(), "application/fhir+json",
                                        std::string("Flag?patient.identifier=") +
                                            "https://fhir.nhs.uk/Id/nhs-number|" + kNhs))
                .status,
            201);
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", hospiceSample(),
                           {{"Content-Type", "application/json"}})
                .status,
            200);
  const std::string when = "20261002113000";
  std::string form = "MSH|^~\\&|EPR|RX8|ACPGW|NORTHSHIRE|" + when +
                     "||ORU^R01^ORU_R01|EPR1|P|2.4|||AL|NE||UNICODE UTF-8\r"
                     "PID|1||" + std::string(kNhs) + "^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss||20150314|F\r"
                     "OBR|1||RSP-1|1382601000000107^ReSPECT form^SCT|||" + when +
                     "||||||||||||||||||F\r"
                     "OBX|1|CWE|CPR^CPR recommendation^L||450476008^Not for attempted CPR^SCT||||||F\r";
  HttpResult sent = server.request("POST", "/$ingest/hl7v2", form, {{"Content-Type", "application/hl7-v2"}});
  ASSERT_EQ(sent.status, 200) << sent.body;
  ASSERT_TRUE(receiver.waitFor(1));
  bool cprFlag = false;
  for (const auto& r : receiver.received())
    cprFlag = cprFlag || r.body.find("resuscitation-disagreement") != std::string::npos;
  EXPECT_TRUE(cprFlag);
  HttpResult summary = server.get(std::string("/Patient/$acp-summary?identifier=") +
                                  "https://fhir.nhs.uk/Id/nhs-number|" + kNhs);
  ASSERT_EQ(summary.status, 200);
  EXPECT_NE(summary.body.find("\"differs\""), std::string::npos);
}

TEST(Subscriptions, WithoutAPayloadTheNotificationIsEmpty) {
  Receiver receiver;
  TestServer server;
  ASSERT_EQ(server.request("POST", "/Subscription", subscription(receiver.url(), "")).status, 201);
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", hospiceSample(),
                           {{"Content-Type", "application/json"}})
                .status,
            200);
  ASSERT_TRUE(receiver.waitFor(1));
  EXPECT_EQ(receiver.received()[0].body, "");
}

TEST(Subscriptions, ASubscriptionTheServerCannotServeIsRefused) {
  TestServer server;
  std::string email = subscription("http://127.0.0.1:9/hook", "");
  email.replace(email.find("rest-hook"), 9, "email");
  HttpResult r = server.request("POST", "/Subscription", email);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("subscription.channel-not-supported"), std::string::npos);
  r = server.request("POST", "/Subscription",
                     subscription("http://127.0.0.1:9/hook", "", "CarePlan?no-such-parameter=1"));
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("Subscription.criteria"), std::string::npos);
  r = server.request("POST", "/Subscription", subscription("ftp://example/hook", ""));
  EXPECT_EQ(r.status, 422);
  r = server.request("POST", "/Subscription", subscription("http://127.0.0.1:9/hook", "text/plain"));
  EXPECT_EQ(r.status, 422);
}

// Notifications about children's plans are not sent across a network unencrypted: a plain
// http:// endpoint must be on this machine unless gateway.notify.allowPlainHttp is set.
TEST(Subscriptions, PlainHttpEndpointsElsewhereAreRefusedUnlessAllowed) {
  TestServer server;
  for (const char* elsewhere : {"http://192.0.2.10/hook", "http://practice.example/acp-hook",
                                "HTTP://192.0.2.10:8080/hook", "http://127.0.0.1.example/hook"}) {
    HttpResult r = server.post("/Subscription", subscription(elsewhere, ""));
    EXPECT_EQ(r.status, 422) << elsewhere;
    EXPECT_EQ(r.errorCode(), "subscription.bad-endpoint") << r.body;
    EXPECT_NE(r.body.find("gateway.notify.allowPlainHttp"), std::string::npos) << r.body;
  }
  for (const char* local : {"http://127.0.0.1:9/hook", "http://localhost:9/hook",
                            "http://[::1]:9/hook", "https://practice.example/acp-hook",
                            "https://192.0.2.10:8443/hook"})
    EXPECT_EQ(server.post("/Subscription", subscription(local, "")).status, 201) << local;
  for (const char* bad : {"https:///hook", "mailto:gp@practice.example", "practice.example/hook"}) {
    HttpResult r = server.post("/Subscription", subscription(bad, ""));
    EXPECT_EQ(r.status, 422) << bad;
    EXPECT_EQ(r.errorCode(), "subscription.bad-endpoint") << bad << ": " << r.body;
  }
  // An update is held to the same rule.
  HttpResult created = server.post("/Subscription", subscription("http://localhost:9/hook", ""));
  ASSERT_EQ(created.status, 201);
  json::Value sub = created.json;
  sub.find("channel")->set("endpoint", json::Value::makeString("http://192.0.2.10/hook"));
  HttpResult updated = server.put("/Subscription/" + sub.getString("id"), json::write(sub));
  EXPECT_EQ(updated.status, 422) << updated.body;
  EXPECT_EQ(updated.errorCode(), "subscription.bad-endpoint");

  app::Options allowing;
  allowing.notifyAllowPlainHttp = true;
  TestServer permissive(allowing);
  EXPECT_EQ(permissive.post("/Subscription", subscription("http://192.0.2.10/hook", "")).status,
            201);
}

// A Subscription written while plain http:// was allowed is not delivered to once it is not:
// the notification fails at once (nothing is sent) and the Subscription says why.
TEST(Subscriptions, APlainHttpEndpointNoLongerAllowedIsNotSentAnything) {
  std::string dir = Poco::TemporaryFile::tempName();
  Poco::File(dir).createDirectories();
  app::Options options;
  options.storeUrl = "sqlite:" + dir + "/policy.db";
  std::string id;
  {
    app::Options allowing = options;
    allowing.notifyAllowPlainHttp = true;
    TestServer before(allowing);
    HttpResult created =
        before.post("/Subscription", subscription("http://192.0.2.10/hook", "application/fhir+json"));
    ASSERT_EQ(created.status, 201) << created.body;
    id = created.json.getString("id");
  }
  TestServer server(options);
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", hospiceSample(),
                           {{"Content-Type", "application/json"}})
                .status,
            200);
  ASSERT_TRUE(waitForStatus(server, id, "error"));
  EXPECT_NE(server.get("/Subscription/" + id).json.getString("error").find("must be https://"),
            std::string::npos);
  Poco::File(dir).remove(true);
}

TEST(Subscriptions, AFailingEndpointPutsTheSubscriptionInErrorAndRecoveryClearsIt) {
  Receiver receiver(500);
  TestServer server;
  HttpResult created = server.request("POST", "/Subscription",
                                      subscription(receiver.url(), "application/fhir+json"));
  ASSERT_EQ(created.status, 201);
  const std::string id = created.json.getString("id");
  // Ingest is answered at once whatever the endpoint does.
  ASSERT_EQ(server.request("POST", "/$ingest/hospice", hospiceSample(),
                           {{"Content-Type", "application/json"}})
                .status,
            200);
  ASSERT_TRUE(waitForStatus(server, id, "error"));
  HttpResult inError = server.get("/Subscription/" + id);
  EXPECT_NE(inError.json.getString("error").find("HTTP 500"), std::string::npos) << inError.body;
  // The endpoint recovers: the notification is delivered on a retry and the error cleared.
  receiver.answer(200);
  ASSERT_TRUE(waitForStatus(server, id, "active"));
  EXPECT_EQ(server.get("/Subscription/" + id).json.find("error"), nullptr);
  auto got = receiver.received();
  ASSERT_GE(got.size(), 4u);  // three failures, then the delivery
  EXPECT_FALSE(got.back().body.empty());
  // What the operators see (docs/operations.md, "Metrics"): the retries and the delivery.
  std::string m = server.gateway().metrics()->exposition();
  EXPECT_NE(m.find("acp_subscription_deliveries_total{outcome=\"retry\"} " +
                   std::to_string(got.size() - 1) + "\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("acp_subscription_deliveries_total{outcome=\"delivered\"} 1\n"),
            std::string::npos);
}

TEST(Subscriptions, NotificationsOwedSurviveARestart) {
  std::string dir = Poco::TemporaryFile::tempName();
  Poco::File(dir).createDirectories();
  app::Options options;
  options.storeUrl = "sqlite:" + dir + "/restart.db";
  std::string hookUrl;
  {
    // The practice's endpoint is down while the plan arrives, and the gateway stops.
    Receiver down(503);
    hookUrl = down.url();
    TestServer first(options);
    ASSERT_EQ(first.request("POST", "/Subscription", subscription(hookUrl, "application/fhir+json"))
                  .status,
              201);
    ASSERT_EQ(first.request("POST", "/$ingest/hospice", hospiceSample(),
                            {{"Content-Type", "application/json"}})
                  .status,
              200);
    ASSERT_TRUE(down.waitFor(1));
  }
  // A new gateway on the same database delivers it to the endpoint, now up on a new port:
  // the Subscription is pointed there (a restart of the practice's system too).
  Receiver up;
  TestServer second(options);
  HttpResult subs = second.get("/Subscription");
  ASSERT_EQ(subs.json.find("entry")->items().size(), 1u);
  json::Value sub = *subs.json.find("entry")->items()[0].find("resource");
  sub.find("channel")->set("endpoint", json::Value::makeString(up.url()));
  sub.set("status", json::Value::makeString("requested"));
  ASSERT_EQ(second.request("PUT", "/Subscription/" + sub.getString("id"), json::write(sub)).status, 200);
  ASSERT_TRUE(up.waitFor(1));
  json::Value plan;
  json::ParseError err;
  ASSERT_TRUE(json::parse(up.received()[0].body, plan, err));
  EXPECT_EQ(plan.getString("resourceType"), "CarePlan");
  Poco::File(dir).remove(true);
}

// PostgreSQL, gateways sharing a database: one claims a notification (leased for ten minutes)
// and dies — its store closes, and with its connection ends its advisory lock. A live
// gateway's notifier finds the claimer gone at its next check and delivers the notification,
// long before the lease would have passed.
TEST(Subscriptions, AGoneGatewaysClaimIsDeliveredByALiveOneBeforeItsLeasePasses) {
  if (!testStoreIsPostgres()) GTEST_SKIP() << "SQLite: one gateway per file, released at its start";
  Receiver up;
  TestServer server;
  HttpResult sub =
      server.request("POST", "/Subscription", subscription(up.url(), "", "Patient?family=Gone"));
  ASSERT_EQ(sub.status, 201) << sub.body;
  // A real Patient (not one the criteria match, so its creation owes nothing itself): whichever
  // notifier claims the released notification can deliver it.
  HttpResult patient = server.post("/Patient", R"({"resourceType":"Patient","name":[{"family":"Other"}]})");
  ASSERT_EQ(patient.status, 201);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t due = now + 3600 * 1000;  // in an hour: the live gateway does not claim it first
  {
    auto other = store::SqlStore::open(server.storeLocation(), r4Shared());
    ASSERT_TRUE(other.isOk()) << other.status().message();
    auto tx = other.value()->begin();
    ASSERT_TRUE(tx.isOk());
    ASSERT_TRUE(tx.value()
                    ->enqueueNotification(sub.json.getString("id"), "Patient",
                                          patient.json.getString("id"), 1, due)
                    .isOk());
    ASSERT_TRUE(tx.value()->commit().isOk());
    auto claimed = other.value()->claimNotifications(due, 10, 600000);
    ASSERT_TRUE(claimed.isOk());
    ASSERT_EQ(claimed.value().size(), 1u);
  }  // the other gateway is gone, its claim leased until an hour and ten minutes from now
  auto outbox = std::dynamic_pointer_cast<store::NotificationOutbox>(server.gateway().store());
  ASSERT_TRUE(outbox);
  notify::NotifierOptions options;
  options.goneClaimsCheckSeconds = 1;
  notify::Notifier live(server.gateway().store(), outbox.get(), options);
  live.start();
  EXPECT_TRUE(up.waitFor(1)) << "delivered within 20 s, not after the lease";
  live.stop();
}

}  // namespace
}  // namespace acp::testing
