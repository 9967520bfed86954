#include "gateway/app/metrics_listener.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

namespace acp::app {

namespace {

class MetricsHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit MetricsHandler(std::shared_ptr<metrics::Registry> registry)
      : registry_(std::move(registry)) {}

  void handleRequest(Poco::Net::HTTPServerRequest& rq, Poco::Net::HTTPServerResponse& rs) override {
    using Poco::Net::HTTPResponse;
    std::string path = rq.getURI().substr(0, rq.getURI().find('?'));
    std::string body;
    if (path != "/metrics") {
      rs.setStatus(HTTPResponse::HTTP_NOT_FOUND);
      rs.setContentType("text/plain; charset=utf-8");
      body = "not found: this listener serves GET /metrics only\n";
    } else if (rq.getMethod() != "GET" && rq.getMethod() != "HEAD") {
      rs.setStatus(HTTPResponse::HTTP_METHOD_NOT_ALLOWED);
      rs.set("Allow", "GET, HEAD");
      rs.setContentType("text/plain; charset=utf-8");
      body = "method not allowed\n";
    } else {
      try {
        body = registry_->exposition();
        rs.setContentType("text/plain; version=0.0.4; charset=utf-8");
      } catch (...) {
        rs.setStatus(HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
        rs.setContentType("text/plain; charset=utf-8");
        body = "the metrics could not be collected\n";
      }
    }
    rs.set("Cache-Control", "no-store");
    rs.setContentLength(static_cast<std::streamsize>(body.size()));
    if (rq.getMethod() == "HEAD") {
      rs.send();
      return;
    }
    rs.sendBuffer(body.data(), body.size());
  }

 private:
  std::shared_ptr<metrics::Registry> registry_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(std::shared_ptr<metrics::Registry> registry) : registry_(std::move(registry)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new MetricsHandler(registry_);
  }

 private:
  std::shared_ptr<metrics::Registry> registry_;
};

}  // namespace

MetricsListener::MetricsListener(std::shared_ptr<metrics::Registry> registry, std::string host,
                                 int port)
    : registry_(std::move(registry)), host_(std::move(host)), port_(port) {}

MetricsListener::~MetricsListener() { stop(); }

Status MetricsListener::start() {
  std::string where = host_ + ":" + std::to_string(port_);
  try {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress(host_, static_cast<Poco::UInt16>(port_)),
                /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(16);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(2);
    params->setMaxQueued(16);
    params->setKeepAlive(true);
    params->setTimeout(Poco::Timespan(10, 0));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(registry_), socket, params);
    server_->start();
    port_ = socket.address().port();
  } catch (const Poco::Exception& e) {
    server_.reset();
    return Status::internal("cannot listen on " + where + " (gateway.metrics): " + e.displayText());
  }
  return Status::ok();
}

void MetricsListener::stop() {
  if (!server_) return;
  server_->stopAll(true);
  server_.reset();
}

}  // namespace acp::app
