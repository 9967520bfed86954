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
#include <cctype>
#include <chrono>
#include <functional>
#include <istream>
#include <thread>

namespace acp::http {

std::string routeTemplate(const std::string& path,
                          const std::function<bool(const std::string&)>& isServedType) {
  // Only fixed tokens reach the log: a served type name, "metadata", "_history", "_search";
  // everything else (ids, unknown names that might be identifiers or injected text) becomes
  // a placeholder.
  std::string out;
  size_t start = 0;
  int index = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string seg = path.substr(start, slash - start);
    if (!seg.empty()) {
      ++index;
      bool fixed = seg == "_history" || seg == "_search" || (index == 1 && seg == "metadata") ||
                   (index == 1 && isServedType(seg));
      out += "/" + (fixed ? seg
                          : index == 1 ? std::string("{unknown}")
                          : index == 4 ? std::string("{vid}")
                                       : std::string("{id}"));
    }
    start = slash + 1;
  }
  return out.empty() ? "/" : out;
}

namespace {

void setStatus(Poco::Net::HTTPServerResponse& resp, int status) {
  auto s = static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status);
  resp.setStatusAndReason(s, Poco::Net::HTTPResponse::getReasonForStatus(s));
}

void sendOutcome(Poco::Net::HTTPServerResponse& resp, int status, const std::string& type,
                 const std::string& message, const std::string& code, bool close) {
  IssueList issues;
  issues.error(type, "", message, code);
  std::string body = json::write(issues.toOperationOutcome());
  setStatus(resp, status);
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

// Host header "name[:port]" or "[v6]:port": letters, digits and . - : [ ] only.
bool validHost(const std::string& host) {
  if (host.empty() || host.size() > 255) return false;
  for (unsigned char c : host)
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
      return false;
  return true;
}

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
      // serve() handles every expected failure; this is a last line of defence. The log gets
      // the route template only (no values from the request).
      log_.error("unexpected failure serving %s %s", req.getMethod(), route);
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
      if (log_.information())
        log_.information("%s %s %d %.1fms", req.getMethod(), route, status, ms);
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
    route = routeTemplate(fr.path, [this](const std::string& t) { return service_.serves(t); });
    if (q != std::string::npos) fr.query = parseQueryString(uri.substr(q + 1));
    for (const auto& [k, v] : req) fr.headers[k] = v;

    bool hasBody = fr.method == "POST" || fr.method == "PUT" || fr.method == "PATCH";
    bool chunked = req.getChunkedTransferEncoding();
    bool hasLength = req.hasContentLength();
    if (hasLength && req.getContentLength64() < 0) {
      sendOutcome(resp, 400, "structure", "invalid Content-Length", "http.invalid-length", true);
      return 400;
    }
    // After a chunked body the connection is not reused: a malformed chunk that Poco's
    // reader takes for the end must never let the rest be read as another request.
    if (chunked) resp.setKeepAlive(false);
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
      // The socket timeout bounds each wait; this bounds the whole body, so a client
      // dripping bytes cannot hold a worker thread for longer than timeoutSeconds.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.timeoutSeconds);
      while (in) {
        if (std::chrono::steady_clock::now() > deadline) {
          sendOutcome(resp, 408, "timeout", "the request body did not arrive in time",
                      "http.body-timeout", true);
          return 408;
        }
        in.readsome(buf, sizeof buf);
        if (in.gcount() == 0) in.read(buf, 1);
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
      // A body cut short (client gone, malformed chunk) is never processed: what arrived is
      // not what was sent.
      if (in.bad() || (hasLength && static_cast<int64_t>(body.size()) != req.getContentLength64())) {
        sendOutcome(resp, 400, "structure", "the request body is incomplete or malformed",
                    "http.incomplete-body", true);
        return 400;
      }
      fr.body = std::move(body);
    } else if (chunked || (hasLength && req.getContentLength64() > 0)) {
      // A body on GET/DELETE/HEAD is not read; the connection cannot be reused safely.
      resp.setKeepAlive(false);
    }
    if (!options_.baseUrl.empty()) {
      fr.baseUrl = options_.baseUrl;
    } else if (req.has("Host") && validHost(req.get("Host"))) {
      fr.baseUrl = "http://" + req.get("Host");
    } else if (req.getVersion() == Poco::Net::HTTPMessage::HTTP_1_1) {
      sendOutcome(resp, 400, "structure", "a valid Host header is required", "http.bad-host",
                  true);
      return 400;
    } else {
      fr.baseUrl = "http://" + req.serverAddress().toString();
    }
    // gateway.auth.mode=none: the local superuser (RequestContext defaults).
    FhirResponse r = service_.handle(fr);
    setStatus(resp, r.status);
    for (const auto& [k, v] : r.headers) resp.set(k, v);
    if (!r.contentType.empty()) resp.setContentType(r.contentType);
    if (fr.method == "HEAD") {
      resp.setContentLength64(static_cast<Poco::Int64>(r.body.size()));
      resp.send();
    } else if (r.status == 304 || r.status == 204) {
      resp.setContentLength(Poco::Net::HTTPMessage::UNKNOWN_CONTENT_LENGTH);
      resp.send();
    } else {
      resp.sendBuffer(r.body.data(), r.body.size());
    }
    return r.status;
  }

  const FhirService& service_;
  const HttpServerOptions& options_;
  std::atomic<int>& inFlight_;
  Poco::Logger& log_ = Poco::Logger::get("acp.http");
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
    // reuseAddress for quick restarts, but never SO_REUSEPORT: a second instance must fail to
    // bind rather than silently share the port.
    Poco::Net::ServerSocket socket;
    socket.bind(address, /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(256);
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
    pool_ = std::make_unique<Poco::ThreadPool>(std::min(2, options_.maxThreads),
                                               options_.maxThreads, 60);
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
  // Stop accepting (the listening socket closes), let in-flight requests finish up to the
  // grace period, then cut every connection, idle keep-alive ones included. stopAll(false)
  // is not used: it waits, without limit, on each busy connection.
  server_->stop();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(graceSeconds);
  while (inFlight_->load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  server_->stopAll(true);  // idle keep-alive connections are cut now
  server_.reset();
  pool_->joinAll();
  pool_.reset();
}

}  // namespace acp::http
