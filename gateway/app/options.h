// Options — every configuration key, read once at start-up into a plain struct
// (convention 4). Nothing below app/ reads the configuration; each component receives the
// part it needs. Every key is documented in docs/configuration.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "gateway/core/status.h"

namespace Poco::Util {
class AbstractConfiguration;
}

namespace acp::app {

struct Options {
  // gateway.http.host — address to bind. Default 127.0.0.1 (loopback only).
  std::string httpHost = "127.0.0.1";
  // gateway.http.port — TCP port; 0 picks any free port (printed in the ready line).
  int httpPort = 8080;
  // gateway.http.baseUrl — the public base URL used in Location, fullUrl and paging links.
  // Default: derived from the request's Host header ("http://HOST", "https://HOST" with TLS).
  std::string baseUrl;
  // gateway.mllp.* — the HL7 v2 MLLP listener (hospital feeds).
  std::string mllpHost = "127.0.0.1";
  int mllpPort = 2575;            // 0 picks any free port (printed in the ready line)
  int mllpWorkers = 16;           // mostly waiting for a shared commit: more than cores
  int mllpMaxConnections = 64;
  size_t mllpMaxFrameBytes = 1024 * 1024;
  int mllpIdleTimeoutSeconds = 600;
  int mllpFrameTimeoutSeconds = 30;
  // gateway.metrics.* — the management listener serving GET /metrics (Prometheus text format;
  // app/metrics_listener.h). Plain HTTP without authentication, so loopback addresses only:
  // a Prometheus elsewhere scrapes through an agent or proxy on the machine. Port -1 = off
  // (the default: tests and several gateways on one machine need no port of their own), 0 =
  // any free port (printed in the ready line); the packaged configuration turns it on at 9464.
  std::string metricsHost = "127.0.0.1";
  int metricsPort = -1;
  // gateway.view.* — the listener for clinicians' browsers: launch links of the clinician view
  // (GET /view/launch/<link>), the view's stylesheet and icons, and the health checks; nothing
  // else. HTTPS without client certificates (a browser has none: the link is the credential);
  // plain HTTP only on a loopback address. Port -1 = off (the default); 0 = any free port.
  // baseUrl: its public URL, which the links are made under (default: https://HOST:PORT of
  // the listener itself).
  std::string viewHost = "127.0.0.1";
  int viewPort = -1;
  bool viewTls = true;
  std::string viewBaseUrl;
  // gateway.http.workers — threads that serve reads (connections are multiplexed on them; an
  // idle or slow client holds none). Default 0 = 32 (or the CPUs, if more): each read waits
  // for its AuditEvent's group commit.
  int workers = 0;
  // gateway.http.writeWorkers — threads of the write lane (POST, PUT, DELETE...). Default 2.
  int writeWorkers = 2;
  // gateway.http.maxQueuedWrites / gateway.http.queueTimeoutSeconds — load shedding of the write
  // lane (http/http_server.h). Defaults 256 and 10.
  int maxQueuedWrites = 256;
  int queueTimeoutSeconds = 10;
  // gateway.http.maxConnections — open connections at most; more are answered 503. Default 1024.
  int maxConnections = 1024;
  // gateway.http.timeoutSeconds — socket receive/send timeout. Default 30.
  int timeoutSeconds = 30;
  // gateway.http.keepAliveSeconds — idle keep-alive timeout. Default 15.
  int keepAliveSeconds = 15;
  // gateway.http.maxKeepAliveRequests — requests per connection (0 = unlimited). Default 0.
  int maxKeepAliveRequests = 0;
  // gateway.limits.maxBodyBytes — request body cap (413 above). Default 16 MiB.
  size_t maxBodyBytes = 16 * 1024 * 1024;
  // gateway.limits.maxIngestBodyBytes — body cap of partner pushes (POST /$ingest/...): a
  // community full re-send is ~40 MB. Default 64 MiB.
  size_t maxIngestBodyBytes = 64 * 1024 * 1024;
  // gateway.limits.maxBufferedBodyBytes — request bodies held in memory at once across all
  // connections; a request that would pass it is answered 503 http.overloaded (0 = no budget).
  // Default 256 MiB; never below the larger body cap (http/http_server.h).
  size_t maxBufferedBodyBytes = 256 * 1024 * 1024;
  // gateway.limits.maxJsonDepth — JSON nesting limit. Default 64.
  int maxJsonDepth = 64;
  // gateway.limits.maxBundleEntries — entries in one transaction/batch Bundle. Default 1000.
  int maxBundleEntries = 1000;
  // gateway.search.defaultCount / gateway.search.maxCount — page sizes. Defaults 50 / 1000.
  int defaultCount = 50;
  int maxCount = 1000;
  // gateway.store.url — "sqlite:PATH" (one SQLite file, relative to the working directory) or
  // a libpq URI "postgresql://[user[:password]@]host[:port]/database[?param=value…]" (one
  // PostgreSQL database, shared by any number of gateways; docs/operations.md). Default
  // sqlite:acp-gateway.db. Never logged (a URI may hold a password).
  std::string storeUrl = "sqlite:acp-gateway.db";
  // gateway.store.readers — read connections (SQLite or PostgreSQL). Default 4.
  int storeReaders = 4;
  // gateway.store.sqliteMemoryMegabytes — SQLite's page caches at rest (MiB;
  // store::StoreOptions::sqliteMemoryLimitBytes: the readers share it, the writer rests at one
  // reader's share); 0 = no limit. Default 4 (docs/configuration.md).
  int sqliteMemoryMegabytes = 4;
  // gateway.store.sqliteWriterCacheMegabytes — the SQLite writer's page cache during a write
  // (MiB; StoreOptions::sqliteWriterCacheBytes), given back after it. Default 24.
  int sqliteWriterCacheMegabytes = 24;
  // gateway.http.tls / gateway.mllp.tls — HTTPS, and MLLP over TLS. Default true (secure by
  // default; docs/security.md). false is refused unless the listener's host is a loopback
  // address (development, tests, the demo).
  bool httpTls = true;
  bool mllpTls = true;
  // gateway.tls.* — the server side of TLS, shared by both listeners (tls/tls_context.h).
  std::string tlsCertificate;     // gateway.tls.certificate: PEM, the certificate then its chain
  std::string tlsPrivateKey;      // gateway.tls.privateKey: PEM, unencrypted
  std::string tlsCaCertificates;  // gateway.tls.caCertificates: PEM, CAs of client certificates
  // gateway.tls.clientCertificates — required | optional | none. Default required.
  std::string tlsClientCertificates = "required";
  // gateway.tls.ticketKeyRotationSeconds — session ticket keys change this often (0 = no
  // tickets, no resumption). Default 3600.
  int tlsTicketKeyRotationSeconds = 3600;
  // gateway.notify.* — the client side of TLS for Subscription deliveries
  // (notify/delivery_tls.h, tls/client_policy.h).
  // gateway.notify.caCertificates: PEM, the CAs endpoints' certificates must chain to (only
  // these). Default "": the system's trusted CAs.
  std::string notifyCaCertificates;
  // gateway.notify.certificate / gateway.notify.privateKey: PEM, the client certificate (then
  // its chain) and its unencrypted key, presented to endpoints that ask for one. Both or
  // neither. Default: none.
  std::string notifyCertificate;
  std::string notifyPrivateKey;
  // gateway.notify.allowPlainHttp — plain http:// endpoints on hosts other than this machine
  // (localhost, 127.0.0.0/8, ::1). Default false: refused when the Subscription is written
  // and never delivered to.
  bool notifyAllowPlainHttp = false;
  // gateway.auth.mode — "smart" (default): every request but /metadata,
  // /.well-known/smart-configuration and POST /token needs a SMART Backend Services access
  // token (auth/smart_auth.h; docs/security.md). "none": every request is the local superuser
  // — for tests and the demo, refused unless every listener is bound to loopback.
  std::string authMode = "smart";
  // gateway.auth.clients — the client registry (JSON; docs/security.md). Required in smart mode.
  std::string authClients;
  // gateway.auth.tokenKey — PEM private key (EC P-384 or RSA) signing access tokens. Default ""
  // (a key made at start-up: tokens die with a restart; instances do not share them).
  std::string authTokenKey;
  // gateway.auth.tokenLifetimeSeconds — access-token lifetime, 30..3600. Default 300.
  int authTokenLifetimeSeconds = 300;
  // gateway.auth.breakGlassMinutes — how long an emergency (break-glass) grant to one patient
  // lasts, 5..1440. Default 60.
  int authBreakGlassMinutes = 60;
  // gateway.audit.refusalsPerMinute — requests the HTTP listener refuses (malformed, too
  // large, too slow, over the connection cap …) recorded one by one in the audit trail per
  // client address and minute; more are summarised in one event per address and minute
  // (http/refusal_audit.h). 0..10000, 0 = summaries only. Default 10.
  int auditRefusalsPerMinute = 10;
  // gateway.audit.readDurability — when a read's (search's, operation's, denial's) audit
  // event must be on disk: "disk" — before the answer is sent (an fsync per group commit in
  // the request's path); "process" — the event is committed before the answer (visible in the
  // trail, surviving a crash or kill of the gateway) and on disk within
  // gateway.audit.flushMilliseconds, so only a crash of the machine can lose the newest
  // events of that window. A write's event always commits with the write, on disk.
  // Default disk.
  std::string auditReadDurability = "disk";
  // gateway.audit.flushMilliseconds — with readDurability=process, the longest a committed
  // event waits for its fsync. 1..10000. Default 100.
  int auditFlushMilliseconds = 100;
  // gateway.conformance.dir — folder holding types.json etc. Default: the installed
  // conformance/r4 found next to the binary or in the source tree.
  std::string conformanceDir;
  // gateway.mappings.dir — the partner mappings' data (ConceptMaps...). Default: installed
  // share/acp-gateway/mappings, else the source tree's mappings/.
  std::string mappingsDir;
  // gateway.log.level — fatal|critical|error|warning|notice|information|debug. Default
  // information. Logs never contain patient identifiers.
  std::string logLevel = "information";
  // gateway.log.format — text (one line: time, level, logger, message) or json (one JSON
  // object per line with the access log's fields: app/json_log_formatter.h). Default text.
  std::string logFormat = "text";
  // gateway.log.requests — one access-log line per request (method, route template,
  // status, ms; no query values). Default true.
  bool logRequests = true;
  // gateway.flags.intervalSeconds — how often the Flags that change with time alone (a plan
  // review date passing, a child turning 14) are re-evaluated; also once at start. 0 turns
  // the timer off. Default 3600.
  int flagsIntervalSeconds = 3600;
  // Not a configuration key: the clock (ms since the epoch) that dates Flags and decides
  // whether a review date has passed; tests inject one. Empty: the system clock.
  std::function<int64_t()> clock;
  // gateway.demo.load — a FHIR Bundle (JSON) loaded at start-up as a transaction when
  // the store is empty. Default "" (none). `make demo` sets it.
  std::string demoBundle;
};

// Reads and checks every key. Unknown gateway.* keys and invalid values are errors (so a
// typo in a config file cannot silently leave a default in force).
Result<Options> readOptions(const Poco::Util::AbstractConfiguration& config);

// True for 127.0.0.0/8, ::1 and "localhost".
bool isLoopback(const std::string& host);

}  // namespace acp::app
