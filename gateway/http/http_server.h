// HttpServer — the HTTP/1.1 listener in front of FhirService.
//
// Model: a fixed set of worker threads share one epoll instance. Sockets are non-blocking and
// registered one-shot, so a connection is handled by at most one thread at a time, and a
// worker is busy only while a complete request is processed: a slow or idle client holds no
// thread (no thread-per-connection). Requests that write (anything but GET, HEAD, OPTIONS)
// are handed to a separate write lane, whose threads mostly wait for the store's single
// writer and the disk, so reads never queue behind writes. A response whose AuditEvent is
// not yet durable (FhirService::handleDeferred: reads, searches, operations, denials) is
// parked: the connection is handed to the audit trail's group commit and the worker moves
// on; when the commit reports, the connection is armed for writing and a worker sends the
// response — or, when the event could not be recorded, the 503 audit.unavailable instead —
// then goes on with any pipelined request. So read workers never wait on the disk and are
// best kept near the number of cores: more only time-slice requests and lengthen the latency
// tail. A parked connection has no deadline (the commit is bounded by the store's busy
// timeout); stop() waits for every parked answer. A housekeeping thread enforces the
// deadlines.
//
// Transport rules, before a FhirRequest exists (../shared/reference/security.md; framing in
// request_parser.h): body size cap (413), a budget for all bodies held at once (503
// http.overloaded: maxBufferedBodyBytes), POST/PUT without Content-Length or chunked (411),
// both (400), header limits (400/414), a total deadline on each request's head and body
// (408: gateway.http.timeoutSeconds from its first byte), idle keep-alive timeout, stalled
// writes cut, a connection cap (503), Host rules (400 http.bad-host), `Expect: 100-continue`.
// Every answer is an OperationOutcome; no stack trace ever leaves. After an error the
// connection closes with a bounded "lingering close" so that a client still sending receives
// the answer instead of a reset. Each of these refusals (and a refused TLS handshake, a
// connection over the cap, a failure of the listener itself) is noted to options.refusals
// before the answer goes out — the client's address, the status and code, and the method and
// route template when the head was read — which audits them rate-limited per address
// (refusal_audit.h); requests that reach FhirService are audited there. Access log lines carry the method, the route with ids
// replaced by {id}, the status and the time taken — never query values or bodies (they may
// hold patient identifiers).
//
// HTTPS (options.tls set; policy in tls/tls_context.h): the handshake runs on the workers like
// any other read, never blocking, and counts as the head of the first request: it must end
// within timeoutSeconds of the connection being accepted, else the connection closes (without
// a 408: nothing can be said before the handshake). A refused handshake is logged (notice:
// the peer's address and OpenSSL's reason) and the connection closes after the same bounded
// lingering, so that the client reads the alert. Every request carries the identity of the
// connection's client certificate in FhirRequest::context (certificateOrganisation,
// certificateSubject; tls/peer_identity.h says how a certificate names an organisation), and
// its access log line ends with "org=ODS" when there is one. The base URL taken from Host is
// then "https://HOST". A connection over the cap is closed without the 503 (that would need
// a handshake). Answers end with close_notify before the half-close. Without options.tls
// nothing of this runs: the plain path is unchanged.
// Thread-safety: start()/stop() from one thread; requests are served on the workers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "gateway/core/status.h"
#include "gateway/http/fhir_service.h"
#include "gateway/http/refusal_audit.h"

namespace acp::tls {
class TlsContext;
}
namespace acp::metrics {
class Registry;
}

namespace acp::http {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                 // 0 = any free port
  std::string baseUrl;             // "" = from the Host header
  int workers = 2;                 // threads that serve reads (GET, HEAD, OPTIONS)
  int writeWorkers = 2;            // threads that serve everything else (the write lane)
  // Overload (docs/reliability.md, "Limits and overload"): writes waiting for the write lane at
  // most; one more is answered 503 (http.overloaded, Retry-After: 1) at once, without being run.
  int maxQueuedWrites = 256;
  // A write that waited longer than this for the write lane is answered 503 (http.overloaded)
  // instead of being run: its client has most likely given up, and running it would only
  // lengthen the queue. 0 = no limit.
  int queueTimeoutSeconds = 10;
  int maxConnections = 1024;       // open connections; more are answered 503 and closed
  int timeoutSeconds = 30;         // a request's head and body, and each stalled write
  int keepAliveSeconds = 15;       // idle time between requests on one connection
  int maxKeepAliveRequests = 0;    // 0 = unlimited
  size_t maxBodyBytes = 16 * 1024 * 1024;
  size_t maxIngestBodyBytes = 64 * 1024 * 1024;  // bodies of POST /$ingest/... (partner pushes)
  // Request body bytes held in memory at once, across all connections: arriving, queued for
  // the write lane, or being served; counted as they arrive (an announced length reserves
  // nothing). A request whose body would take the total past it is answered 503
  // (http.overloaded, Retry-After: 1) and its connection closes — before its body is read when
  // its Content-Length does not fit in what is left, else as the body arrives. So memory for
  // bodies is bounded by this, not by maxConnections × maxIngestBodyBytes (outside it: each
  // connection's read buffer, at most a read's worth, and allocation slack). Raised to the
  // larger body cap when below it (a request of the largest allowed size can fit). 0 = none.
  size_t maxBufferedBodyBytes = 256 * 1024 * 1024;
  bool logRequests = true;
  std::shared_ptr<const tls::TlsContext> tls;  // nullptr: plain HTTP; else HTTPS only
  // Where the listener's own refusals are audited (refusal_audit.h); nullptr: not audited.
  std::shared_ptr<RefusalAudit> refusals;
  // Where the listener counts (docs/operations.md, "Metrics"); nullptr: not counted. Every
  // answered request: acp_http_requests_total{method,route,status} and
  // acp_http_request_duration_seconds{method,route} (the route template, never a value from
  // the request); the listener's own refusals: acp_http_refusals_total{code}; and, read at each
  // scrape while the listener runs, its open connections, parked answers, queued writes and
  // the request body bytes held.
  std::shared_ptr<metrics::Registry> metrics;
  // Which requests this listener serves, by method and decoded path (the listener for
  // browsers: launch links, the view's assets, the health checks); any other is answered 404
  // (http.not-served, a refusal) without reaching the service. Empty: every request.
  std::function<bool(const std::string& method, const std::string& path)> serves;
};

class HttpServer {
 public:
  HttpServer(std::shared_ptr<FhirService> service, HttpServerOptions options);
  ~HttpServer();

  // Binds and starts serving. After ok, port() is the bound port.
  Status start();
  int port() const { return port_; }
  const std::string& host() const { return options_.host; }
  // Stops accepting, closes idle connections, lets in-flight requests finish (up to
  // `graceSeconds`), then closes every connection and joins the threads.
  void stop(int graceSeconds = 10);

 private:
  class Engine;
  std::shared_ptr<FhirService> service_;
  HttpServerOptions options_;
  std::unique_ptr<Engine> engine_;
  int port_ = 0;
  int collector_ = 0;  // the engine's collector in options_.metrics, 0 when none
};

// "/Patient/123/_history/2" → "/Patient/{id}/_history/{vid}" for logs: only fixed tokens
// (served type names, metadata, token, .well-known/smart-configuration, $ingest/failures,
// $candidate-links, AuditEvent, _history, _search, and the operations $acp-summary,
// $verify-chain, $replay, $confirm, $reject, view/patient, view/assets, view/launch) are kept; anything else
// is a placeholder ({unknown} for a first segment, {partner} for an ingest partner, {id},
// {vid}).
std::string routeTemplate(const std::string& path,
                          const std::function<bool(const std::string&)>& isServedType);

}  // namespace acp::http
