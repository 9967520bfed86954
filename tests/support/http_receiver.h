// Receiver — a real HTTP endpoint for tests (a Subscription's rest-hook): records every
// request and answers with the status it is told. Poco's HTTPServer on 127.0.0.1, any port.
// https_receiver.h makes the same over TLS.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace acp::testing {

// A real HTTP endpoint that records every request and answers with `status`.
class Receiver {
 public:
  struct Received {
    std::string method, path, contentType, body, header;
    std::string clientCertificate;  // over TLS: the client certificate's CN, "" without one
  };
  // What the connection says of the client's certificate (https_receiver.h).
  using PeerReader = std::function<std::string(Poco::Net::HTTPServerRequest&)>;

  explicit Receiver(int status = 200)
      : Receiver(Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)), "http",
                 status, nullptr) {}
  ~Receiver() { server_->stopAll(true); }

  // The hook's URL, naming the receiver by `host` (it listens on 127.0.0.1).
  std::string url(const std::string& host = "127.0.0.1") const {
    return scheme_ + "://" + host + ":" + std::to_string(port_) + "/hook";
  }
  void answer(int status) { status_->store(status); }
  std::vector<Received> received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }
  // Waits (at most 20 s: a delivery is asynchronous) until `n` requests have arrived.
  bool waitFor(size_t n) {
    for (int i = 0; i < 200; ++i) {
      if (received().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

 protected:
  // Serves on `socket` (a Poco::Net::SecureServerSocket for HTTPS).
  Receiver(Poco::Net::ServerSocket socket, std::string scheme, int status, PeerReader peer)
      : status_(std::make_shared<std::atomic<int>>(status)),
        scheme_(std::move(scheme)),
        peer_(std::move(peer)) {
    port_ = socket.address().port();
    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(2);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(this), socket, params);
    server_->start();
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(Receiver* r) : r_(r) {}
    void handleRequest(Poco::Net::HTTPServerRequest& rq, Poco::Net::HTTPServerResponse& resp) override {
      Received got;
      got.method = rq.getMethod();
      got.path = rq.getURI();
      got.contentType = rq.getContentType();
      got.header = rq.get("Authorization", "");
      if (r_->peer_) got.clientCertificate = r_->peer_(rq);
      Poco::StreamCopier::copyToString(rq.stream(), got.body);
      {
        std::lock_guard<std::mutex> lock(r_->mutex_);
        r_->received_.push_back(got);
      }
      resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r_->status_->load()));
      resp.setContentLength(0);
      resp.send();
    }

   private:
    Receiver* r_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(Receiver* r) : r_(r) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handler(r_);
    }

   private:
    Receiver* r_;
  };

  std::shared_ptr<std::atomic<int>> status_;
  std::string scheme_;
  PeerReader peer_;
  int port_ = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::mutex mutex_;
  std::vector<Received> received_;
};

}  // namespace acp::testing
