// acp-bench-minimal-server — the ceiling for the HTTP benchmarks (bench/run.sh).
//
// A Poco 1.11 HTTPServer configured exactly like the gateway's defaults
// (gateway/http/http_server.cc with gateway/app/options.h: listen backlog 256, a thread pool
// of 2..64 threads, 256 queued connections, 30 s socket timeout, keep-alive with a 15 s idle
// timeout and no request limit, empty Server header) that answers every GET with one fixed
// 141-byte Patient (application/fhir+json) and anything else with 405. No routing, parsing,
// storage or logging: whatever the gateway costs above this is its own work.
//
// Usage: acp-bench-minimal-server [--host=127.0.0.1] [--port=0]
// Prints "ready http=HOST:PORT" on stdout once listening (like acp-gateway); SIGTERM or
// SIGINT stops it. Exit codes: 0 after a signal, 64 on a bad argument, 70 if it cannot listen.
// Thread-safety: the handler only reads constant data, so any number of workers may run it.
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

namespace {

// 141 bytes, the size of the reference figure in shared/reference/performance.md.
constexpr std::string_view kPatient =
    R"({"resourceType":"Patient","id":"p1","meta":{"versionId":"1",)"
    R"("lastUpdated":"2026-01-01T00:00:00Z"},"gender":"female","birthDate":"1970-01-01"})";
static_assert(kPatient.size() == 141, "the reference body is 141 bytes");

constexpr std::string_view kContentType = "application/fhir+json";

// The gateway's defaults (gateway/app/options.h).
constexpr int kBacklog = 256;
constexpr int kMaxThreads = 64;
constexpr int kMaxQueued = 256;
constexpr int kTimeoutSeconds = 30;
constexpr int kKeepAliveSeconds = 15;
constexpr int kMaxKeepAliveRequests = 0;

class FixedPatientHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& req,
                     Poco::Net::HTTPServerResponse& resp) override {
    if (req.getMethod() != Poco::Net::HTTPRequest::HTTP_GET) {
      resp.setStatus(Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED);
      resp.setContentLength(0);
      resp.send();
      return;
    }
    resp.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
    resp.setContentType(std::string(kContentType));
    resp.sendBuffer(kPatient.data(), kPatient.size());
  }
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new FixedPatientHandler;
  }
};

bool parsePort(const std::string& text, int& port) {
  if (text.empty() || text.size() > 5) return false;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return false;
  port = value;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--host=", 0) == 0) {
      host = arg.substr(7);
    } else if (arg.rfind("--port=", 0) == 0 && parsePort(arg.substr(7), port)) {
    } else {
      std::cerr << "usage: acp-bench-minimal-server [--host=127.0.0.1] [--port=0]\n"
                << "bad argument: " << arg << std::endl;
      return 64;
    }
  }

  // Block the stop signals before any thread exists, so every thread inherits the mask and
  // only sigwait() below receives them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  int boundPort = 0;
  try {
    Poco::Net::ServerSocket socket(
        Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)), kBacklog);
    boundPort = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(kMaxThreads);
    params->setMaxQueued(kMaxQueued);
    params->setTimeout(Poco::Timespan(kTimeoutSeconds, 0));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(kKeepAliveSeconds, 0));
    params->setMaxKeepAliveRequests(kMaxKeepAliveRequests);
    params->setServerName("");
    params->setSoftwareVersion("");
    pool = std::make_unique<Poco::ThreadPool>(2, kMaxThreads, 60);
    server = std::make_unique<Poco::Net::HTTPServer>(new Factory, *pool, socket, params);
    server->start();
  } catch (const Poco::Exception& e) {
    std::cerr << "cannot listen on " << host << ":" << port << ": " << e.displayText()
              << std::endl;
    return 70;
  }
  std::cout << "ready http=" << host << ":" << boundPort << std::endl;

  int signal = 0;
  sigwait(&stopSignals, &signal);
  server->stopAll(true);
  server.reset();
  pool->joinAll();
  return 0;
}
