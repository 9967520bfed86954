// /metrics on the management listener (app/metrics_listener.h): what a gateway counts as it
// serves HTTP, partner pushes, MLLP messages and reads from its store, scraped over real HTTP
// — and never a patient identifier or name among it.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/Util/MapConfiguration.h>
#include <gtest/gtest.h>

#include <regex>

#include "gateway/app/mllp_metrics.h"
#include "gateway/core/ids.h"
#include "gateway/app/options.h"
#include "gateway/metrics/registry.h"
#include "tests/support/mllp_client.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

struct Scrape {
  int status = 0;
  std::string contentType;
  std::string body;
};

Scrape scrape(int port, const std::string& path = "/metrics", const std::string& method = "GET") {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  session.setTimeout(Poco::Timespan(20, 0));
  Poco::Net::HTTPRequest rq(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(rq);
  Poco::Net::HTTPResponse resp;
  std::istream& in = session.receiveResponse(resp);
  Scrape s;
  s.status = resp.getStatus();
  s.contentType = resp.getContentType();
  Poco::StreamCopier::copyToString(in, s.body);
  return s;
}

// The value of the series written exactly as `series` (name and labels), or -1 when absent.
double valueOf(const std::string& exposition, const std::string& series) {
  size_t at = 0;
  while ((at = exposition.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || exposition[at - 1] == '\n')
      return std::stod(exposition.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

app::Options withMetrics() {
  app::Options o;
  o.metricsPort = 0;
  o.maxBodyBytes = 4096;
  return o;
}

std::string hl7File(const std::string& name) {
  std::string m = readRepoFile("mappings/acute/samples/" + name);
  for (char& c : m)
    if (c == '\n') c = '\r';
  while (!m.empty() && m.back() == '\r') m.pop_back();
  return m + "\r";
}

TEST(Metrics, TheManagementListenerServesWhatTheGatewayCounted) {
  TestServer server(withMetrics());
  int port = server.gateway().metricsPort();
  ASSERT_GT(port, 0);
  EXPECT_NE(server.gateway().readyLine().find(" metrics=127.0.0.1:" + std::to_string(port)),
            std::string::npos);

  ASSERT_EQ(server.get("/metadata").status, 200);
  ASSERT_EQ(server.get("/metadata").status, 200);
  ASSERT_EQ(server.get("/Patient/no-such-child").status, 404);
  ASSERT_EQ(server.get("/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820").status,
            200);
  auto pushed = server.post("/$ingest/hospice",
                            readRepoFile("mappings/hospice/samples/example-1.2.json"),
                            {{"Content-Type", "application/json"}});
  ASSERT_EQ(pushed.status, 200) << pushed.body;
  ASSERT_EQ(server.post("/$ingest/hospice", "{not json", {{"Content-Type", "application/json"}})
                .status,
            400);
  ASSERT_EQ(server.post("/Patient", std::string(8192, ' ')).status, 413);  // refused by the listener
  {
    MllpClient mllp(server.mllpPort());
    std::string ack = mllp.exchange(hl7File("adt-a01.hl7"));
    ASSERT_NE(ack.find("MSA|AA"), std::string::npos) << ack;
    std::string reject = mllp.exchange("MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01^ADT_A01|PAS9|P|2.4\rPID|1\r");
    ASSERT_NE(reject.find("MSA|A"), std::string::npos) << reject;
  }

  Scrape s = scrape(port);
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.contentType, "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = s.body;
  EXPECT_EQ(valueOf(m, R"(acp_http_requests_total{method="GET",route="/metadata",status="200"})"), 2) << m;
  EXPECT_EQ(valueOf(m, R"(acp_http_requests_total{method="GET",route="/Patient/{id}",status="404"})"), 1);
  EXPECT_EQ(valueOf(m, R"(acp_http_requests_total{method="GET",route="/Patient",status="200"})"), 1);
  EXPECT_EQ(valueOf(m, R"(acp_http_request_duration_seconds_count{method="GET",route="/metadata"})"), 2);
  EXPECT_EQ(valueOf(m, R"(acp_http_request_duration_seconds_bucket{method="GET",route="/metadata",le="+Inf"})"), 2);
  EXPECT_GT(valueOf(m, R"(acp_ingest_records_total{partner="hospice",outcome="stored"})"), 0);
  EXPECT_EQ(valueOf(m, R"(acp_ingest_documents_refused_total{partner="hospice"})"), 1);
  EXPECT_EQ(valueOf(m, R"(acp_ingest_records_total{partner="hl7v2",outcome="stored"})"), 1);
  EXPECT_EQ(valueOf(m, R"(acp_mllp_acks_total{code="AA"})"), 1);
  EXPECT_EQ(valueOf(m, "acp_mllp_connections_total"), 1);
  EXPECT_EQ(valueOf(m, R"(acp_http_refusals_total{code="http.body-too-large"})"), 1);
  EXPECT_EQ(valueOf(m, "acp_ingest_failures_open"), 2) << "the unreadable push and the HL7 message";
  EXPECT_GT(valueOf(m, "acp_store_database_bytes"), 0);
  EXPECT_EQ(valueOf(m, "acp_store_up"), 1);
  EXPECT_EQ(valueOf(m, "acp_subscription_notifications_pending"), 0);
  EXPECT_GT(valueOf(m, "process_resident_memory_bytes"), 0);
  double started = valueOf(m, "process_start_time_seconds");
  double now = double(nowMillis()) / 1000;
  EXPECT_LE(started, now + 1) << "the process's start, not a later moment";
  EXPECT_GT(started, now - 3600) << "this test process started within the hour";
  EXPECT_GE(valueOf(m, "acp_http_connections"), 0);
  EXPECT_NE(m.find("# TYPE acp_http_request_duration_seconds histogram\n"), std::string::npos);
  // Routes, partners and codes only: none of what the requests and records held.
  for (const char* secret : {"9992530820", "999 253 0820", "Hartley", "Amelia", "Orchard",
                             "no-such-child", "WB-004471", "PAS0001234", "nhs-number"})
    EXPECT_EQ(m.find(secret), std::string::npos) << secret;

  // The MLLP connection closed once the client went: counted by reason.
  for (int i = 0; i < 100 && valueOf(scrape(port).body, "acp_mllp_connections_open") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Scrape after = scrape(port);
  EXPECT_EQ(valueOf(after.body, "acp_mllp_connections_open"), 0);
  EXPECT_EQ(valueOf(after.body, R"(acp_mllp_connections_closed_total{reason="peer-closed"})"), 1)
      << after.body;
}

// Whatever clients send, the series stay few: made-up methods are "other", unknown and deep
// paths one route each.
TEST(Metrics, ClientsCannotMakeSeriesWithoutBound) {
  TestServer server(withMetrics());
  for (int i = 0; i < 20; ++i) {
    server.request("BREW" + std::to_string(i), "/Patient");
    server.get("/no-such-route-" + std::to_string(i) + "/x");
    std::string deep = "/Patient";
    for (int d = 0; d <= i; ++d) deep += "/x" + std::to_string(d);
    server.get(deep);
  }
  std::string m = scrape(server.gateway().metricsPort()).body;
  EXPECT_EQ(m.find("BREW"), std::string::npos);
  EXPECT_EQ(m.find("no-such-route"), std::string::npos);
  EXPECT_GE(valueOf(m, R"(acp_http_requests_total{method="other",route="/Patient",status="405"})") +
                valueOf(m, R"(acp_http_requests_total{method="other",route="/Patient",status="400"})") +
                valueOf(m, R"(acp_http_requests_total{method="other",route="/Patient",status="501"})"),
            18) << m;
  EXPECT_EQ(valueOf(m, R"(acp_http_requests_total{method="GET",route="/{unknown}",status="404"})"), 20) << m;
  size_t series = 0;
  for (size_t at = m.find("\nacp_http_requests_total{"); at != std::string::npos;
       at = m.find("\nacp_http_requests_total{", at + 1))
    ++series;
  EXPECT_LE(series, 12u) << m;
}

TEST(Metrics, TheListenerAnswersNothingElse) {
  TestServer server(withMetrics());
  int port = server.gateway().metricsPort();
  EXPECT_EQ(scrape(port, "/").status, 404);
  EXPECT_EQ(scrape(port, "/Patient").status, 404);
  EXPECT_EQ(scrape(port, "/metrics", "POST").status, 405);
  Scrape head = scrape(port, "/metrics", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(scrape(port, "/metrics?name[]=x").status, 200) << "Prometheus may add parameters";
}

TEST(Metrics, OffByDefaultAndOnlyOnALoopbackAddress) {
  TestServer server;
  EXPECT_EQ(server.gateway().metricsPort(), 0);
  EXPECT_EQ(server.gateway().readyLine().find("metrics="), std::string::npos);

  Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
  c->setString("gateway.auth.mode", "none");
  c->setString("gateway.http.tls", "false");
  c->setString("gateway.mllp.tls", "false");
  c->setString("gateway.metrics.port", "9464");
  c->setString("gateway.metrics.host", "0.0.0.0");
  auto refused = app::readOptions(*c);
  ASSERT_FALSE(refused.isOk());
  EXPECT_NE(refused.status().message().find("gateway.metrics.host must be a loopback"),
            std::string::npos);
  c->setString("gateway.metrics.host", "::1");
  auto loopback = app::readOptions(*c);
  ASSERT_TRUE(loopback.isOk()) << loopback.status().message();
  EXPECT_EQ(loopback->metricsPort, 9464);
  c->setString("gateway.metrics.port", "-2");
  EXPECT_FALSE(app::readOptions(*c).isOk());
}

TEST(Metrics, AnAckIsCountedByItsCode) {
  EXPECT_EQ(app::ackCodeOf("MSH|^~\\&|ACPGW|X|PAS|RX8|20261028093000||ACK^A01^ACK|1|P|2.4\rMSA|AE|PAS9\r"), "AE");
  EXPECT_EQ(app::ackCodeOf("MSH|^~\\&|ACPGW|X|PAS|RX8|20261028093000||ACK|2|P|2.4\rMSA|AR|x\r"), "AR");
  EXPECT_EQ(app::ackCodeOf("garbage"), "none");

  class Fails : public mllp::MessageHandler {
   public:
    std::string handle(std::string_view, const mllp::PeerInfo&) override {
      throw std::runtime_error("store unavailable");
    }
  };
  auto registry = std::make_shared<metrics::Registry>();
  app::CountingHandler counting(std::make_shared<Fails>(), registry);
  EXPECT_THROW(counting.handle("MSH|^~\\&|\r", mllp::PeerInfo()), std::runtime_error)
      << "the exception goes on: the listener sends no ACK";
  EXPECT_EQ(valueOf(registry->exposition(), R"(acp_mllp_acks_total{code="none"})"), 1);
}

}  // namespace
}  // namespace acp::testing
