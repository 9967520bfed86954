#include "gateway/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace acp::metrics {

namespace {

// A label value or help text escaped as the exposition format asks (\\, \", \n).
std::string escapeText(const std::string& s, bool quotes) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quotes) out += "\\\"";
    else out += c;
  }
  return out;
}

std::string labelText(const Labels& labels, const std::string& extraName = "",
                      const std::string& extraValue = "") {
  if (labels.empty() && extraName.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + k + "=\"" + escapeText(v, true) + "\"";
    first = false;
  }
  if (!extraName.empty()) out += (first ? "" : ",") + extraName + "=\"" + extraValue + "\"";
  return out + "}";
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// The key a series is found by: its labels, in the order given.
std::string seriesKey(const Labels& labels) {
  std::string key;
  for (const auto& [k, v] : labels) {
    key += k;
    key += '\x1f';
    key += v;
    key += '\x1e';
  }
  return key;
}

void addDouble(std::atomic<double>& a, double d) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
  }
}

}  // namespace

void Gauge::add(double d) { addDouble(value_, d); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) {
  size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  addDouble(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

std::vector<double> latencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Registry::Registry() {
  static std::atomic<uint64_t> next{1};
  id_ = next.fetch_add(1);
}

Registry::Family& Registry::family(const std::string& name, const std::string& help, Kind kind) {
  auto [it, added] = families_.try_emplace(name);
  if (added) {
    it->second.kind = kind;
    it->second.help = help;
  } else if (it->second.kind != kind) {
    throw std::logic_error("metric " + name + " used as two kinds");
  }
  return it->second;
}

namespace {

// The series of `labels` in one of a family's maps, made by `make` when it is new (its labels
// then recorded in `labelsByKey`). Called with the registry's lock held.
template <typename T, typename Make>
T& seriesIn(std::map<std::string, std::unique_ptr<T>>& series,
            std::map<std::string, Labels>& labelsByKey, const Labels& labels, Make make) {
  std::string key = seriesKey(labels);
  auto& slot = series[key];
  if (!slot) {
    slot = make();
    labelsByKey[key] = labels;
  }
  return *slot;
}

}  // namespace

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family& f = family(name, help, Kind::kCounter);
  return seriesIn(f.counters, f.labels, labels, [] { return std::make_unique<Counter>(); });
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family& f = family(name, help, Kind::kGauge);
  return seriesIn(f.gauges, f.labels, labels, [] { return std::make_unique<Gauge>(); });
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const Labels& labels, const std::vector<double>& bounds) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family& f = family(name, help, Kind::kHistogram);
  return seriesIn(f.histograms, f.labels, labels,
                  [&bounds] { return std::make_unique<Histogram>(bounds); });
}

int Registry::addCollector(std::function<void(std::vector<Sample>&)> collect) {
  std::lock_guard<std::mutex> lock(mutex_);
  int id = nextCollector_++;
  collectors_[id] = std::move(collect);
  return id;
}

void Registry::removeCollector(int id) {
  std::lock_guard<std::mutex> running(collectMutex_);  // a scrape running it finishes first
  std::lock_guard<std::mutex> lock(mutex_);
  collectors_.erase(id);
}

std::string Registry::exposition() const {
  // Collectors first, outside the lock (they may read the store) but under collectMutex_, so
  // that removeCollector() returns only once no scrape is running the one removed.
  std::vector<Sample> samples;
  {
    std::lock_guard<std::mutex> running(collectMutex_);
    std::vector<std::function<void(std::vector<Sample>&)>> collectors;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [id, c] : collectors_) collectors.push_back(c);
    }
    for (const auto& c : collectors) c(samples);
  }
  std::map<std::string, std::pair<std::string, std::vector<const Sample*>>> collected;
  for (const Sample& s : samples) {
    auto& entry = collected[s.name];
    entry.first = s.help;
    entry.second.push_back(&s);
  }

  // A snapshot of every series under the lock, formatted after it: a scrape holds up the
  // counting threads only for the copy.
  struct Series {
    Labels labels;
    double value = 0;                // counter, gauge
    std::vector<double> bounds;      // histogram
    std::vector<uint64_t> cumulative;
    double sum = 0;
  };
  struct Snapshot {
    const char* type;
    std::string help;
    std::vector<Series> series;
  };
  std::map<std::string, Snapshot> all;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, f] : families_) {
      Snapshot& snap = all[name];
      snap.type = f.kind == Kind::kCounter ? "counter" : f.kind == Kind::kGauge ? "gauge" : "histogram";
      snap.help = f.help;
      for (const auto& [key, labels] : f.labels) {
        Series one;
        one.labels = labels;
        if (f.kind == Kind::kCounter) {
          one.value = static_cast<double>(f.counters.at(key)->value());
        } else if (f.kind == Kind::kGauge) {
          one.value = f.gauges.at(key)->value();
        } else {
          const Histogram& h = *f.histograms.at(key);
          one.bounds = h.bounds();
          one.cumulative = h.cumulative();
          one.sum = h.sum();
        }
        snap.series.push_back(std::move(one));
      }
    }
  }
  for (const auto& [name, entry] : collected) {
    if (all.count(name)) continue;  // a collector may not reuse a family's name
    Snapshot& snap = all[name];
    snap.type = "gauge";
    snap.help = entry.first;
    for (const Sample* sample : entry.second) {
      Series one;
      one.labels = sample->labels;
      one.value = sample->value;
      snap.series.push_back(std::move(one));
    }
  }

  std::string out;
  for (const auto& [name, snap] : all) {
    out += "# HELP " + name + " " + escapeText(snap.help, false) + "\n# TYPE " + name + " " +
           snap.type + "\n";
    const bool histogram = std::string(snap.type) == "histogram";
    for (const Series& one : snap.series) {
      if (!histogram) {
        out += name + labelText(one.labels) + " " + number(one.value) + "\n";
        continue;
      }
      for (size_t i = 0; i < one.bounds.size(); ++i)
        out += name + "_bucket" + labelText(one.labels, "le", number(one.bounds[i])) + " " +
               number(static_cast<double>(one.cumulative[i])) + "\n";
      out += name + "_bucket" + labelText(one.labels, "le", "+Inf") + " " +
             number(static_cast<double>(one.cumulative.back())) + "\n";
      out += name + "_sum" + labelText(one.labels) + " " + number(one.sum) + "\n";
      out += name + "_count" + labelText(one.labels) + " " +
             number(static_cast<double>(one.cumulative.back())) + "\n";
    }
  }
  return out;
}

}  // namespace acp::metrics
