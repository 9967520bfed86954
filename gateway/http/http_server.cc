#include "gateway/http/http_server.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <istream>
#include <thread>

namespace acp::http {

std::string routeTemplate(const std::string& path) {
  std::string out;
  size_t start = 0;
  int index = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string seg = path.substr(start, slash - start);
    if (!seg.empty()) {
      ++index;
      bool keep = index == 1 || seg[0] == '_' || seg[0] == '$' || seg == "metadata";
      out += "/" + (keep ? seg : (index == 4 ? std::string("{vid}") : std::string("{id}")));
    }
    start = slash + 1;
  }
  return out.empty() ? "/" : out;
}

namespace {

void sendOutcome(Poco::Net::HTTPServerResponse& resp, int status, const std::string& type,
                 const std::string& message, const std::string& code, bool close) {
  IssueList issues;
  issues.error(type, "", message, code);
  std::string body = json::write(issues.toOperationOutcome());
  resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  resp.setContentType(contentTypeOf(Format::kJson));
  if (close) resp.setKeepAlive(false);
  resp.sendBuffer(body.data(), body.size());
}

// Reads and discards up to `limit` bytes of a refused body, so that a client still sending
// it receives the error answer instead of a connection reset (a bounded "lingering close").
void drain(std::istream& in, size_t limit) {
  char buf[16384];
  size_t total = 0;
  while (in && total < limit) {
    in.read(buf, static_cast<std::streamsize>(std::min(sizeof buf, limit - total)));
    if (in.gcount() <= 0) break;
    total += static_cast<size_t>(in.gcount());
  }
}

constexpr size_t kDrainLimit = 1024 * 1024;

class FhirHandler : public Poco::Net::HTTPRequestHandler {
 public:
  FhirHandler(const FhirService& service, const HttpServerOptions& options,
              std::atomic<int>& inFlight)
      : service_(service), options_(options), inFlight_(inFlight) {}

  void handleRequest(Poco::Net::HTTPServerRequest& req,
                     Poco::Net::HTTPServerResponse& resp) override {
    struct Counter {
      std::atomic<int>& n;
      explicit Counter(std::atomic<int>& c) : n(c) { ++n; }
      ~Counter() { --n; }
    } counter(inFlight_);
    auto started = std::chrono::steady_clock::now();
    int status = 500;
    std::string route = "/";
    try {
      status = serve(req, resp, route);
    } catch (...) {
      // serve() handles every expected failure; this is a last line of defence.
      if (!resp.sent()) {
        try {
          sendOutcome(resp, 500, "exception", "the request could not be processed",
                      "http.internal", true);
        } catch (...) {
        }
      }
    }
    if (options_.logRequests) {
      auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                          started)
                    .count();
      Poco::Logger& log = Poco::Logger::get("acp.http");
      if (log.information())
        log.information("%s %s %d %.1fms", req.getMethod(), route, status, ms);
    }
  }

 private:
  int serve(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp,
            std::string& route) {
    FhirRequest fr;
    fr.method = req.getMethod();
    const std::string& uri = req.getURI();
    size_t q = uri.find('?');
    fr.path = percentDecode(uri.substr(0, q), false);
    // Absolute-form request targets ("http://host/Patient") are reduced to the path.
    if (fr.path.rfind("http://", 0) == 0 || fr.path.rfind("https://", 0) == 0) {
      size_t slash = fr.path.find('/', fr.path.find("//") + 2);
      fr.path = slash == std::string::npos ? "/" : fr.path.substr(slash);
    }
    route = routeTemplate(fr.path);
    if (q != std::string::npos) fr.query = parseQueryString(uri.substr(q + 1));
    for (const auto& [k, v] : req) fr.headers[k] = v;

    bool hasBody = fr.method == "POST" || fr.method == "PUT" || fr.method == "PATCH";
    bool chunked = req.getChunkedTransferEncoding();
    bool hasLength = req.hasContentLength();
    if (hasBody) {
      if (chunked && hasLength) {
        sendOutcome(resp, 400, "structure",
                    "a request must not carry both Content-Length and chunked encoding",
                    "http.ambiguous-length", true);
        return 400;
      }
      if (!chunked && !hasLength) {
        sendOutcome(resp, 411, "structure", "Content-Length or chunked encoding is required",
                    "http.length-required", true);
        return 411;
      }
      if (hasLength && req.getContentLength64() > static_cast<int64_t>(options_.maxBodyBytes)) {
        if (req.getContentLength64() <= static_cast<int64_t>(options_.maxBodyBytes + kDrainLimit))
          drain(req.stream(), kDrainLimit + options_.maxBodyBytes);
        sendOutcome(resp, 413, "too-long",
                    "the body is larger than " + std::to_string(options_.maxBodyBytes) + " bytes",
                    "http.body-too-large", true);
        return 413;
      }
      std::istream& in = req.stream();
      std::string body;
      char buf[16384];
      while (in) {
        in.read(buf, sizeof buf);
        std::streamsize got = in.gcount();
        if (got <= 0) break;
        if (body.size() + static_cast<size_t>(got) > options_.maxBodyBytes) {
          drain(in, kDrainLimit);
          sendOutcome(resp, 413, "too-long",
                      "the body is larger than " + std::to_string(options_.maxBodyBytes) +
                          " bytes",
                      "http.body-too-large", true);
          return 413;
        }
        body.append(buf, static_cast<size_t>(got));
      }
      fr.body = std::move(body);
    } else if (hasLength && req.getContentLength64() > 0) {
      // A body on GET/DELETE is not read; the connection cannot be reused safely.
      resp.setKeepAlive(false);
    }
    if (!options_.baseUrl.empty()) {
      fr.baseUrl = options_.baseUrl;
    } else {
      std::string host = req.getHost();
      bool hostOk = !host.empty() && host.size() < 256 &&
                    host.find_first_of("/\\ \"<>") == std::string::npos;
      fr.baseUrl = "http://" + (hostOk ? host : req.serverAddress().toString());
    }
    // gateway.auth.mode=none: the local superuser (RequestContext defaults).
    FhirResponse r = service_.handle(fr);
    resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r.status));
    for (const auto& [k, v] : r.headers) resp.set(k, v);
    if (r.closeConnection) resp.setKeepAlive(false);
    if (!r.contentType.empty()) resp.setContentType(r.contentType);
    if (fr.method == "HEAD") {
      resp.setContentLength64(static_cast<Poco::Int64>(r.body.size()));
      resp.send();
    } else if (r.status == 304 || r.status == 204) {
      resp.setContentLength(0);
      resp.send();
    } else {
      resp.sendBuffer(r.body.data(), r.body.size());
    }
    return r.status;
  }

  const FhirService& service_;
  const HttpServerOptions& options_;
  std::atomic<int>& inFlight_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  HandlerFactory(std::shared_ptr<FhirService> service, const HttpServerOptions& options,
                 std::shared_ptr<std::atomic<int>> inFlight)
      : service_(std::move(service)), options_(options), inFlight_(std::move(inFlight)) {}
  // Never returns nullptr (Poco would answer 501): every route is the FHIR handler's.
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new FhirHandler(*service_, options_, *inFlight_);
  }

 private:
  std::shared_ptr<FhirService> service_;
  const HttpServerOptions& options_;
  std::shared_ptr<std::atomic<int>> inFlight_;
};

}  // namespace

HttpServer::HttpServer(std::shared_ptr<FhirService> service, HttpServerOptions options)
    : service_(std::move(service)), options_(std::move(options)) {}

HttpServer::~HttpServer() { stop(0); }

Status HttpServer::start() {
  try {
    Poco::Net::SocketAddress address(options_.host, static_cast<Poco::UInt16>(options_.port));
    Poco::Net::ServerSocket socket(address, 256);
    port_ = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.maxThreads);
    params->setMaxQueued(options_.maxQueued);
    params->setTimeout(Poco::Timespan(options_.timeoutSeconds, 0));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(options_.keepAliveSeconds, 0));
    params->setMaxKeepAliveRequests(options_.maxKeepAliveRequests);
    params->setServerName("");
    params->setSoftwareVersion("");
    pool_ = std::make_unique<Poco::ThreadPool>(2, options_.maxThreads, 60);
    server_ = std::make_unique<Poco::Net::HTTPServer>(
        new HandlerFactory(service_, options_, inFlight_), *pool_, socket, params);
    server_->start();
  } catch (const Poco::Exception& e) {
    return Status::internal("cannot listen on " + options_.host + ":" +
                            std::to_string(options_.port) + ": " + e.displayText());
  }
  return Status::ok();
}

void HttpServer::stop(int graceSeconds) {
  if (!server_) return;
  // Stop accepting, and tell every connection to close after its current request.
  server_->stopAll(false);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(graceSeconds);
  while (inFlight_->load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  server_->stopAll(true);  // idle keep-alive connections are cut now
  server_.reset();
  pool_->joinAll();
  pool_.reset();
}

}  // namespace acp::http
