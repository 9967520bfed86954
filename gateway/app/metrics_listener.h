// MetricsListener — the management listener: GET /metrics, the registry (metrics/registry.h)
// in the Prometheus text exposition format 0.0.4, for a Prometheus (or its agent) on this
// machine. Plain HTTP, no authentication: Options allows only a loopback address for it. The
// metrics hold no patient data (label values are routes, partners, codes), and the listener
// answers nothing else (404), audits nothing and writes no access log. Two threads at most; a
// scrape reads the store's counts (store/sql_store.h Stats) on a reader connection.
// Thread-safety: start()/stop() from one thread.
#pragma once

#include <memory>
#include <string>

#include "gateway/core/status.h"
#include "gateway/metrics/registry.h"

namespace Poco::Net {
class HTTPServer;
}

namespace acp::app {

class MetricsListener {
 public:
  MetricsListener(std::shared_ptr<metrics::Registry> registry, std::string host, int port);
  ~MetricsListener();
  // Binds (port 0: any free port) and serves. After ok, port() is the bound port.
  Status start();
  void stop();
  int port() const { return port_; }

 private:
  std::shared_ptr<metrics::Registry> registry_;
  std::string host_;
  int port_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace acp::app
