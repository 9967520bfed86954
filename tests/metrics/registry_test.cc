// The metrics registry (metrics/registry.h): counters, gauges and histograms by labels, scrape-
// time collectors, and the Prometheus text exposition format they are read in.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "gateway/metrics/registry.h"

namespace acp::metrics {
namespace {

TEST(Metrics, CountersAreSeriesByLabelsInTheExpositionFormat) {
  Registry r;
  r.counter("acp_http_requests_total", "HTTP requests answered", {{"route", "/Patient/{id}"}, {"status", "200"}}).inc();
  r.counter("acp_http_requests_total", "HTTP requests answered", {{"route", "/Patient/{id}"}, {"status", "200"}}).inc(2);
  r.counter("acp_http_requests_total", "HTTP requests answered", {{"route", "/metadata"}, {"status", "200"}}).inc();
  std::string text = r.exposition();
  EXPECT_NE(text.find("# HELP acp_http_requests_total HTTP requests answered\n# TYPE acp_http_requests_total counter\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("acp_http_requests_total{route=\"/Patient/{id}\",status=\"200\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("acp_http_requests_total{route=\"/metadata\",status=\"200\"} 1\n"), std::string::npos);
}

TEST(Metrics, HistogramsAreCumulativeWithSumAndCount) {
  Registry r;
  Histogram& h = r.histogram("acp_http_request_duration_seconds", "time to answer", {{"route", "/x"}}, {0.01, 0.1, 1});
  h.observe(0.005);
  h.observe(0.05);
  h.observe(0.05);
  h.observe(5);
  std::string text = r.exposition();
  EXPECT_NE(text.find("# TYPE acp_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("acp_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.01\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("acp_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("acp_http_request_duration_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("acp_http_request_duration_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("acp_http_request_duration_seconds_sum{route=\"/x\"} 5.105\n"), std::string::npos) << text;
  EXPECT_NE(text.find("acp_http_request_duration_seconds_count{route=\"/x\"} 4\n"), std::string::npos);
}

TEST(Metrics, GaugesCollectorsAndEscaping) {
  Registry r;
  Gauge& open = r.gauge("acp_mllp_connections", "open MLLP connections");
  open.add(2);
  open.add(-1);
  int id = r.addCollector([](std::vector<Sample>& out) {
    out.push_back({"acp_store_size_bytes", "the database's size", {}, 123456});
    out.push_back({"acp_ingest_failures_waiting", "kept failures", {{"partner", "a\"b\\c\nd"}}, 2});
  });
  std::string text = r.exposition();
  EXPECT_NE(text.find("acp_mllp_connections 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE acp_store_size_bytes gauge\nacp_store_size_bytes 123456\n"), std::string::npos) << text;
  EXPECT_NE(text.find("acp_ingest_failures_waiting{partner=\"a\\\"b\\\\c\\nd\"} 2\n"), std::string::npos) << text;
  r.removeCollector(id);
  EXPECT_EQ(r.exposition().find("acp_store_size_bytes"), std::string::npos);
  EXPECT_THROW(r.counter("acp_mllp_connections", "x"), std::logic_error) << "one kind per family";
}

TEST(Metrics, CountingFromManyThreadsLosesNothing) {
  Registry r;
  Counter& c = r.counter("acp_test_total", "test");
  Histogram& h = r.histogram("acp_test_seconds", "test", {}, latencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(0.002);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 80000u);
  EXPECT_EQ(h.cumulative().back(), 80000u);
  EXPECT_NEAR(h.sum(), 160.0, 1e-6);
}

}  // namespace
}  // namespace acp::metrics
