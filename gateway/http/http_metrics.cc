#include "gateway/http/http_metrics.h"

#include <algorithm>
#include <unordered_map>

namespace acp::http {

std::string metricMethod(const std::string& method) {
  static const char* const kKnown[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  for (const char* k : kKnown)
    if (method == k) return method;
  return "other";
}

std::string metricRoute(const std::string& route) {
  if (route.rfind("/{unknown}", 0) == 0) return "/{unknown}";
  // The deepest route served: /$ingest/failures/{id}/$replay, /Patient/{id}/_history/{vid}.
  if (std::count(route.begin(), route.end(), '/') > 5) return "/{other}";
  return route;
}

void countAnswer(metrics::Registry& m, const std::string& method, const std::string& route,
                 int status, double seconds) noexcept {
  try {
    // Each worker keeps the series it counted into, so a request takes no registry lock once
    // its (method, route, status) has been seen: keyed by the registry's id (never reused),
    // the entries stay valid as long as that registry lives (series are never removed), and
    // an entry of a registry gone is never looked up again. Bounded by the labels' bounds.
    struct Series {
      metrics::Counter* counter;
      metrics::Histogram* histogram;
    };
    thread_local std::unordered_map<std::string, Series> seen;
    std::string mt = metricMethod(method), rt = metricRoute(route);
    std::string st = std::to_string(status);
    std::string key = std::to_string(m.id()) + '\x1f' + mt + '\x1f' + rt + '\x1f' + st;
    auto it = seen.find(key);
    if (it == seen.end()) {
      static const std::vector<double> kBuckets = metrics::latencyBuckets();
      Series s{&m.counter("acp_http_requests_total",
                          "HTTP requests answered, by method, route and status",
                          {{"method", mt}, {"route", rt}, {"status", st}}),
               &m.histogram("acp_http_request_duration_seconds",
                            "Time from a request's first byte to its answer being ready, in seconds",
                            {{"method", mt}, {"route", rt}}, kBuckets)};
      it = seen.emplace(std::move(key), s).first;
    }
    it->second.counter->inc();
    it->second.histogram->observe(seconds);
  } catch (...) {
  }
}

void countRefusal(metrics::Registry& m, const std::string& code) noexcept {
  try {
    m.counter("acp_http_refusals_total",
              "Requests and connections refused by the HTTP listener itself, by code",
              {{"code", code}})
        .inc();
  } catch (...) {
  }
}

}  // namespace acp::http
