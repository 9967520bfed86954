// HttpServer — the Poco HTTP listener in front of FhirService.
//
// Enforces the transport rules before a FhirRequest exists (../shared/reference/security.md):
// body size cap (413), POST/PUT without Content-Length or chunked (411) or with both (400),
// header limits (Poco's fixed 100 fields, 256-byte names, 8 KiB values: 400), socket timeouts, bounded thread pool and
// queue, keep-alive limits. Every answer is an OperationOutcome; no stack trace ever leaves.
// Access log lines carry the method, the route with ids replaced by {id}, the status and
// the time taken — never query values or bodies (they may hold patient identifiers).
// Thread-safety: start()/stop() from one thread; requests are served on the pool.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "gateway/core/status.h"
#include "gateway/http/fhir_service.h"

namespace Poco::Net {
class HTTPServer;
}
namespace Poco {
class ThreadPool;
}

namespace acp::http {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                 // 0 = any free port
  std::string baseUrl;             // "" = from the Host header
  int maxThreads = 64;
  int maxQueued = 256;
  int timeoutSeconds = 30;
  int keepAliveSeconds = 15;
  int maxKeepAliveRequests = 0;    // 0 = unlimited
  size_t maxBodyBytes = 16 * 1024 * 1024;
  bool logRequests = true;
};

class HttpServer {
 public:
  HttpServer(std::shared_ptr<FhirService> service, HttpServerOptions options);
  ~HttpServer();

  // Binds and starts serving. After ok, port() is the bound port.
  Status start();
  int port() const { return port_; }
  const std::string& host() const { return options_.host; }
  // Stops accepting, lets in-flight requests finish (up to `graceSeconds`), then closes.
  void stop(int graceSeconds = 10);

 private:
  std::shared_ptr<FhirService> service_;
  HttpServerOptions options_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::shared_ptr<std::atomic<int>> inFlight_ = std::make_shared<std::atomic<int>>(0);
  int port_ = 0;
};

// "/Patient/123/_history/2" → "/Patient/{id}/_history/{vid}" for logs: only fixed tokens
// (served type names, metadata, _history, _search) are kept; anything else is a placeholder.
std::string routeTemplate(const std::string& path,
                          const std::function<bool(const std::string&)>& isServedType);

}  // namespace acp::http
