// Subscription notifications to https:// endpoints, through the real gateway and real TLS
// (notify/delivery_tls.h, tls/client_policy.h; docs/security.md, "Outgoing connections"): an
// endpoint whose certificate chains to gateway.notify.caCertificates and names the URL's host
// is sent the notification; one whose certificate comes from another CA, or names another
// host, is sent nothing and its Subscription goes to `error` with the reason; an endpoint that
// requires a client certificate gets gateway.notify.certificate, and refuses the gateway
// without one. The endpoints are HttpsReceivers serving the build's development certificates.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/https_receiver.h"
#include "tests/support/test_server.h"
#include "tests/tls/tls_client.h"

namespace acp::testing {
namespace {

constexpr const char* kCriteria =
    "CarePlan?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820";

std::string subscription(const std::string& endpoint) {
  return std::string(R"({"resourceType":"Subscription","status":"requested",)") +
         R"("reason":"GP practice P81001","criteria":")" + kCriteria +
         R"(","channel":{"type":"rest-hook","endpoint":")" + endpoint +
         R"(","payload":"application/fhir+json","header":["Authorization: Bearer practice"]}})";
}

// The dev CA trusted for deliveries (and a client certificate, when `withCertificate`).
app::Options trustingTheDevCa(bool withCertificate = false) {
  app::Options o;
  o.notifyCaCertificates = certFile("ca.crt");
  if (withCertificate) {
    o.notifyCertificate = certFile("clients/service-operator.crt");
    o.notifyPrivateKey = certFile("clients/service-operator.key");
  }
  return o;
}

HttpsReceiverOptions serving(const std::string& name, const std::string& clientCa = "") {
  return {certFile(name + ".crt"), certFile(name + ".key"), clientCa};
}

// Creates the Subscription; its id.
std::string subscribe(TestServer& server, const std::string& endpoint) {
  HttpResult r = server.post("/Subscription", subscription(endpoint));
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json.getString("id");
}

void pushThePlan(TestServer& server) {
  HttpResult r = server.post("/$ingest/hospice",
                             readRepoFile("mappings/hospice/samples/example-1.2.json"),
                             {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
}

// Waits (at most 30 s: three attempts, 1 s and 2 s apart) for the Subscription to be in
// `error`; its Subscription.error, or "" if it never was.
std::string waitForError(TestServer& server, const std::string& id) {
  for (int i = 0; i < 300; ++i) {
    HttpResult r = server.get("/Subscription/" + id);
    if (r.json.getString("status") == "error") return r.json.getString("error");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "Subscription/" << id << " never went to error";
  return "";
}

TEST(DeliveryTls, AnEndpointWhoseCertificateChainsToTheConfiguredCaIsSentTheNotification) {
  HttpsReceiver receiver(serving("server"));
  TestServer server(trustingTheDevCa());
  // The certificate names 127.0.0.1 (an IP address) and localhost (a DNS name): both verify.
  subscribe(server, receiver.url("127.0.0.1"));
  subscribe(server, receiver.url("localhost"));
  pushThePlan(server);
  ASSERT_TRUE(receiver.waitFor(2));
  for (const auto& got : receiver.received()) {
    EXPECT_EQ(got.method, "POST");
    EXPECT_EQ(got.header, "Bearer practice");
    EXPECT_NE(got.body.find("\"resourceType\":\"CarePlan\""), std::string::npos) << got.body;
    EXPECT_EQ(got.clientCertificate, "");  // none asked for, none configured
  }
}

TEST(DeliveryTls, AnEndpointWithACertificateFromAnotherCaIsSentNothing) {
  HttpsReceiver receiver(serving("other-ca/server"));
  TestServer server(trustingTheDevCa());
  const std::string id = subscribe(server, receiver.url());
  pushThePlan(server);
  std::string why = waitForError(server, id);
  EXPECT_NE(why.find("the endpoint's certificate was refused"), std::string::npos) << why;
  EXPECT_NE(why.find("unable to get local issuer certificate"), std::string::npos) << why;
  EXPECT_TRUE(receiver.received().empty());
  EXPECT_EQ(server.get("/metadata").status, 200);  // the gateway carries on
}

TEST(DeliveryTls, ACertificateForAnotherHostIsRefused) {
  // Issued by the trusted CA, but its subjectAltName is 192.0.2.10 alone (its CN says
  // localhost, which must not count).
  HttpsReceiver receiver(serving("elsewhere"));
  TestServer server(trustingTheDevCa());
  const std::string byAddress = subscribe(server, receiver.url("127.0.0.1"));
  const std::string byName = subscribe(server, receiver.url("localhost"));
  pushThePlan(server);
  std::string why = waitForError(server, byAddress);
  EXPECT_NE(why.find("subjectAltName does not name 127.0.0.1"), std::string::npos) << why;
  why = waitForError(server, byName);
  EXPECT_NE(why.find("subjectAltName does not name localhost"), std::string::npos) << why;
  EXPECT_TRUE(receiver.received().empty());
}

TEST(DeliveryTls, WithoutConfiguredCasOnlyTheSystemsAreTrusted) {
  // The development CA is in no system trust store: nothing is accepted by default.
  HttpsReceiver receiver(serving("server"));
  TestServer server;
  const std::string id = subscribe(server, receiver.url());
  pushThePlan(server);
  std::string why = waitForError(server, id);
  EXPECT_NE(why.find("the endpoint's certificate was refused"), std::string::npos) << why;
  EXPECT_TRUE(receiver.received().empty());
}

TEST(DeliveryTls, AnEndpointThatAsksForAClientCertificateIsShownTheConfiguredOne) {
  HttpsReceiver receiver(serving("server", certFile("ca.crt")));
  TestServer server(trustingTheDevCa(/*withCertificate=*/true));
  subscribe(server, receiver.url());
  pushThePlan(server);
  ASSERT_TRUE(receiver.waitFor(1));
  EXPECT_EQ(receiver.received()[0].clientCertificate, "service operator console");
  EXPECT_NE(receiver.received()[0].body.find("CarePlan"), std::string::npos);
}

TEST(DeliveryTls, AnEndpointThatRequiresAClientCertificateRefusesTheGatewayWithoutOne) {
  HttpsReceiver receiver(serving("server", certFile("ca.crt")));
  TestServer server(trustingTheDevCa());
  const std::string id = subscribe(server, receiver.url());
  pushThePlan(server);
  std::string why = waitForError(server, id);
  EXPECT_NE(why.find("the endpoint could not be reached"), std::string::npos) << why;
  EXPECT_TRUE(receiver.received().empty());
}

TEST(DeliveryTls, AClientCertificateFromACaTheEndpointDoesNotTrustIsRefusedByIt) {
  HttpsReceiver receiver(serving("server", certFile("ca.crt")));
  app::Options options = trustingTheDevCa();
  options.notifyCertificate = certFile("other-ca/clients/service-operator.crt");
  options.notifyPrivateKey = certFile("other-ca/clients/service-operator.key");
  TestServer server(options);
  const std::string id = subscribe(server, receiver.url());
  pushThePlan(server);
  EXPECT_NE(waitForError(server, id), "");
  EXPECT_TRUE(receiver.received().empty());
}

}  // namespace
}  // namespace acp::testing
