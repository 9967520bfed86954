// acp-bench-metrics-cost: what counting one HTTP answer costs (http/http_metrics.h
// countAnswer: the request counter and the latency histogram), on 1 and on 2 threads at
// once, against the same work without the per-worker series cache (a registry lookup under
// its mutex for every request) as the reference in the same run. Prints ns per answer and the
// ratio. Usage: acp-bench-metrics-cost [answers per thread, default 2000000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gateway/http/http_metrics.h"
#include "gateway/metrics/registry.h"

namespace {

using Clock = std::chrono::steady_clock;

// The same counting as countAnswer, looked up in the registry every time (no cache).
void uncached(acp::metrics::Registry& m, const std::string& method, const std::string& route,
              int status, double seconds) {
  static const std::vector<double> kBuckets = acp::metrics::latencyBuckets();
  m.counter("acp_http_requests_total", "HTTP requests answered",
            {{"method", method}, {"route", route}, {"status", std::to_string(status)}})
      .inc();
  m.histogram("acp_http_request_duration_seconds", "latency", {{"method", method}, {"route", route}},
              kBuckets)
      .observe(seconds);
}

template <typename F>
double nsPerAnswer(int threads, long n, F count) {
  auto started = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      // Four routes, as a read-mostly load spreads over a few.
      static const char* const kRoutes[] = {"/Patient/{id}", "/CarePlan", "/Encounter",
                                            "/Patient/$acp-summary"};
      for (long i = 0; i < n; ++i) count(kRoutes[(i + t) & 3], 0.002 + (i & 7) * 0.001);
    });
  for (auto& th : pool) th.join();
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - started).count();
  return ns / (double(n) * threads) * threads;  // per answer, per thread (wall time per answer on one thread)
}

}  // namespace

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 2000000;
  for (int threads : {1, 2}) {
    acp::metrics::Registry cachedRegistry, uncachedRegistry;
    double cached = nsPerAnswer(threads, n, [&](const char* route, double s) {
      acp::http::countAnswer(cachedRegistry, "GET", route, 200, s);
    });
    double reference = nsPerAnswer(threads, n, [&](const char* route, double s) {
      uncached(uncachedRegistry, "GET", route, 200, s);
    });
    std::printf("BENCH threads=%d answers=%ld countAnswer_ns=%.1f uncached_ns=%.1f ratio=%.3f\n",
                threads, n * threads, cached, reference, cached / reference);
  }
  return 0;
}
