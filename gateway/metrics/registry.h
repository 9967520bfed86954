// Metrics for the people who run the service, in the Prometheus text exposition format
// (version 0.0.4): counters, gauges and histograms, each a family of series told apart by
// labels. Label values are route templates, partner names, outcome and status codes, ODS codes
// — never a patient identifier, a name or a query value (the callers' contract, as for logs).
//
// Use: one registry per gateway (app/gateway.cc makes it and hands it to the listeners, ingest
// and the notifier; the management listener, app/metrics_listener.h, serves it). Look a series
// up where it is counted, then count:
//   registry.counter("acp_http_requests_total", "HTTP requests answered",
//                    {{"route", r}, {"status", "200"}}).inc();
// A family's name, help and kind are fixed by its first use; a later use with another kind is
// a programming error (std::logic_error). Values that only the store knows (the database's
// size, failures waiting for replay) are read when scraped, by collectors.
// Thread-safety: every operation is safe from any thread; series are never removed, so the
// references handed out stay valid for the registry's life.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace acp::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double d);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);  // upper bounds, ascending; +Inf is implied
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound (then +Inf), the sum and the count: a consistent enough
  // snapshot for scraping (each read is atomic; a concurrent observe may fall between them).
  std::vector<uint64_t> cumulative() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // one per bound, then +Inf (not cumulative)
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// Latency buckets for request durations, in seconds: 1 ms to 10 s.
std::vector<double> latencyBuckets();

// One value a collector reports at scrape time.
struct Sample {
  std::string name;  // a gauge family's name
  std::string help;
  Labels labels;
  double value = 0;
};

class Registry {
 public:
  Registry();
  // Unique to this registry in the process's life (never reused, unlike its address): a key
  // for callers that cache the series they count into (http/http_metrics.cc).
  uint64_t id() const { return id_; }

  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const Labels& labels,
                       const std::vector<double>& bounds);
  // Called at each scrape (on the scraping thread; one scrape's collectors at a time) for
  // gauges read from elsewhere; a collector must not call the registry. Returns an id for
  // removeCollector (a component that goes away before the registry removes its own), which
  // returns once no scrape is running that collector.
  int addCollector(std::function<void(std::vector<Sample>&)> collect);
  void removeCollector(int id);

  // Every family and series in the text exposition format, families sorted by name.
  std::string exposition() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    Kind kind;
    std::string help;
    std::map<std::string, Labels> labels;  // series key → its labels
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(const std::string& name, const std::string& help, Kind kind);

  mutable std::mutex mutex_;
  mutable std::mutex collectMutex_;  // held while collectors run (one scrape at a time)
  std::map<std::string, Family> families_;
  std::map<int, std::function<void(std::vector<Sample>&)>> collectors_;
  int nextCollector_ = 1;
  uint64_t id_;
};

}  // namespace acp::metrics
