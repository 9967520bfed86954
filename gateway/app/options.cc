#include "gateway/app/options.h"

#include <Poco/Net/IPAddress.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <algorithm>
#include <functional>
#include <set>

namespace acp::app {
namespace {

// Every accepted key; anything else under gateway.* is rejected.
const std::set<std::string>& knownKeys() {
  static const std::set<std::string> keys = {
      "gateway.http.host",          "gateway.http.port",
      "gateway.mllp.host",          "gateway.mllp.port",          "gateway.mllp.workers",
      "gateway.mllp.maxConnections", "gateway.mllp.maxFrameBytes",
      "gateway.mllp.idleTimeoutSeconds", "gateway.mllp.frameTimeoutSeconds",
      "gateway.metrics.host",       "gateway.metrics.port",
      "gateway.view.host",          "gateway.view.port",          "gateway.view.tls",
      "gateway.view.baseUrl",
      "gateway.http.baseUrl",       "gateway.http.workers", "gateway.http.writeWorkers",
      "gateway.http.maxQueuedWrites", "gateway.http.queueTimeoutSeconds",
      "gateway.http.maxConnections",     "gateway.http.timeoutSeconds",
      "gateway.http.keepAliveSeconds", "gateway.http.maxKeepAliveRequests",
      "gateway.limits.maxBodyBytes", "gateway.limits.maxIngestBodyBytes",
      "gateway.limits.maxBufferedBodyBytes",
      "gateway.limits.maxJsonDepth", "gateway.limits.maxBundleEntries",
      "gateway.search.defaultCount", "gateway.search.maxCount",
      "gateway.store.url",          "gateway.store.readers",      "gateway.store.sqliteMemoryMegabytes",
      "gateway.store.sqliteWriterCacheMegabytes",
      "gateway.auth.mode",          "gateway.auth.clients",       "gateway.auth.tokenKey",
      "gateway.auth.tokenLifetimeSeconds", "gateway.auth.breakGlassMinutes",
      "gateway.audit.refusalsPerMinute", "gateway.audit.readDurability",
      "gateway.audit.flushMilliseconds",
      "gateway.conformance.dir", "gateway.mappings.dir",
      "gateway.log.level",          "gateway.log.requests",       "gateway.log.format",       "gateway.flags.intervalSeconds",
      "gateway.demo.load",
      "gateway.http.tls",           "gateway.mllp.tls",
      "gateway.tls.certificate",    "gateway.tls.privateKey",     "gateway.tls.caCertificates",
      "gateway.tls.clientCertificates", "gateway.tls.ticketKeyRotationSeconds",
      "gateway.notify.caCertificates", "gateway.notify.certificate",
      "gateway.notify.privateKey",  "gateway.notify.allowPlainHttp",
  };
  return keys;
}

void collectKeys(const Poco::Util::AbstractConfiguration& c, const std::string& prefix,
                 std::vector<std::string>& out) {
  Poco::Util::AbstractConfiguration::Keys keys;
  c.keys(prefix, keys);
  if (keys.empty()) {
    out.push_back(prefix);
    return;
  }
  for (const auto& k : keys) collectKeys(c, prefix + "." + k, out);
}

}  // namespace

bool isLoopback(const std::string& host) {
  if (host == "localhost") return true;
  std::string literal = host;
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']')
    literal = literal.substr(1, literal.size() - 2);
  Poco::Net::IPAddress address;
  return Poco::Net::IPAddress::tryParse(literal, address) && address.isLoopback();
}

Result<Options> readOptions(const Poco::Util::AbstractConfiguration& c) {
  Options o;
  std::vector<std::string> present;
  collectKeys(c, "gateway", present);
  for (const auto& k : present)
    if (k != "gateway" && !knownKeys().count(k))
      return Status::invalid("unknown configuration key " + k);
  try {
    auto intKey = [&](const char* key, int& field, int min, int max) -> Status {
      if (!c.has(key)) return Status::ok();
      int v = c.getInt(key);
      if (v < min || v > max)
        return Status::invalid(std::string(key) + " must be between " + std::to_string(min) +
                               " and " + std::to_string(max));
      field = v;
      return Status::ok();
    };
    o.httpHost = c.getString("gateway.http.host", o.httpHost);
    o.baseUrl = c.getString("gateway.http.baseUrl", o.baseUrl);
    while (!o.baseUrl.empty() && o.baseUrl.back() == '/') o.baseUrl.pop_back();
    o.mllpHost = c.getString("gateway.mllp.host", o.mllpHost);
    int frameBytes = static_cast<int>(o.mllpMaxFrameBytes);
    for (Status s : {intKey("gateway.mllp.port", o.mllpPort, 0, 65535),
                     intKey("gateway.mllp.workers", o.mllpWorkers, 1, 256),
                     intKey("gateway.mllp.maxConnections", o.mllpMaxConnections, 1, 100000),
                     intKey("gateway.mllp.maxFrameBytes", frameBytes, 1024, 64 * 1024 * 1024),
                     intKey("gateway.mllp.idleTimeoutSeconds", o.mllpIdleTimeoutSeconds, 1, 86400),
                     intKey("gateway.mllp.frameTimeoutSeconds", o.mllpFrameTimeoutSeconds, 1, 3600)})
      if (!s.isOk()) return s;
    o.mllpMaxFrameBytes = static_cast<size_t>(frameBytes);
    o.metricsHost = c.getString("gateway.metrics.host", o.metricsHost);
    if (Status s = intKey("gateway.metrics.port", o.metricsPort, -1, 65535); !s.isOk()) return s;
    o.viewHost = c.getString("gateway.view.host", o.viewHost);
    if (Status s = intKey("gateway.view.port", o.viewPort, -1, 65535); !s.isOk()) return s;
    o.viewTls = c.getBool("gateway.view.tls", o.viewTls);
    o.viewBaseUrl = c.getString("gateway.view.baseUrl", o.viewBaseUrl);
    while (!o.viewBaseUrl.empty() && o.viewBaseUrl.back() == '/') o.viewBaseUrl.pop_back();
    if (o.viewPort >= 0 && !o.viewTls && !isLoopback(o.viewHost))
      return Status::invalid(
          "gateway.view.tls=false is refused unless gateway.view.host is a loopback address");
    Poco::Net::IPAddress viewAddress;
    std::string viewLiteral = o.viewHost;
    if (viewLiteral.size() > 2 && viewLiteral.front() == '[' && viewLiteral.back() == ']')
      viewLiteral = viewLiteral.substr(1, viewLiteral.size() - 2);
    if (o.viewPort >= 0 && o.viewBaseUrl.empty() &&
        (o.viewHost.empty() ||
         (Poco::Net::IPAddress::tryParse(viewLiteral, viewAddress) && viewAddress.isWildcard())))
      return Status::invalid(
          "gateway.view.baseUrl is needed when gateway.view.host is a wildcard address: the "
          "launch links are made under it");
    if (!o.viewBaseUrl.empty() && o.viewBaseUrl.rfind("https://", 0) != 0 &&
        !(o.viewBaseUrl.rfind("http://", 0) == 0 && !o.viewTls))
      return Status::invalid("gateway.view.baseUrl must be an https:// URL");
    if (o.metricsPort >= 0 && !isLoopback(o.metricsHost))
      return Status::invalid(
          "gateway.metrics.host must be a loopback address: /metrics is plain HTTP without "
          "authentication (scrape it through an agent or proxy on this machine)");
    for (Status s : {intKey("gateway.http.port", o.httpPort, 0, 65535),
                     intKey("gateway.http.workers", o.workers, 0, 1024),
                     intKey("gateway.http.writeWorkers", o.writeWorkers, 1, 1024),
                     intKey("gateway.http.maxQueuedWrites", o.maxQueuedWrites, 1, 100000),
                     intKey("gateway.http.queueTimeoutSeconds", o.queueTimeoutSeconds, 0, 3600),
                     intKey("gateway.http.maxConnections", o.maxConnections, 1, 1000000),
                     intKey("gateway.http.timeoutSeconds", o.timeoutSeconds, 1, 3600),
                     intKey("gateway.http.keepAliveSeconds", o.keepAliveSeconds, 1, 3600),
                     intKey("gateway.http.maxKeepAliveRequests", o.maxKeepAliveRequests, 0,
                            1000000),
                     intKey("gateway.limits.maxJsonDepth", o.maxJsonDepth, 8, 256),
                     intKey("gateway.limits.maxBundleEntries", o.maxBundleEntries, 1, 100000),
                     intKey("gateway.search.defaultCount", o.defaultCount, 1, 10000),
                     intKey("gateway.search.maxCount", o.maxCount, 1, 10000),
                     intKey("gateway.store.readers", o.storeReaders, 1, 256),
                     intKey("gateway.store.sqliteMemoryMegabytes", o.sqliteMemoryMegabytes, 0,
                            65536),
                     intKey("gateway.store.sqliteWriterCacheMegabytes",
                            o.sqliteWriterCacheMegabytes, 1, 65536)}) {
      if (!s.isOk()) return s;
    }
    if (c.has("gateway.limits.maxBodyBytes")) {
      Poco::UInt64 v = c.getUInt64("gateway.limits.maxBodyBytes");
      if (v < 1024 || v > (1ull << 32))
        return Status::invalid("gateway.limits.maxBodyBytes must be between 1024 and 4 GiB");
      o.maxBodyBytes = static_cast<size_t>(v);
    }
    if (c.has("gateway.limits.maxIngestBodyBytes")) {
      Poco::UInt64 v = c.getUInt64("gateway.limits.maxIngestBodyBytes");
      if (v < 1024 || v > (Poco::UInt64{1} << 32))
        return Status::invalid("gateway.limits.maxIngestBodyBytes must be between 1024 and 4 GiB");
      o.maxIngestBodyBytes = static_cast<size_t>(v);
    }
    if (c.has("gateway.limits.maxBufferedBodyBytes")) {
      Poco::UInt64 v = c.getUInt64("gateway.limits.maxBufferedBodyBytes");
      if (v != 0 && (v < std::max(o.maxBodyBytes, o.maxIngestBodyBytes) || v > (Poco::UInt64{1} << 40)))
        return Status::invalid(
            "gateway.limits.maxBufferedBodyBytes must be 0 (no budget) or between the larger of "
            "maxBodyBytes and maxIngestBodyBytes and 1 TiB");
      o.maxBufferedBodyBytes = static_cast<size_t>(v);
    }
    if (o.defaultCount > o.maxCount)
      return Status::invalid("gateway.search.defaultCount exceeds gateway.search.maxCount");
    o.storeUrl = c.getString("gateway.store.url", o.storeUrl);
    if (o.storeUrl.rfind("sqlite:", 0) != 0 && o.storeUrl.rfind("postgresql://", 0) != 0 &&
        o.storeUrl.rfind("postgres://", 0) != 0)
      return Status::invalid(
          "gateway.store.url must start with sqlite: or postgresql:// (got another scheme)");
    o.authMode = c.getString("gateway.auth.mode", o.authMode);
    if (o.authMode != "none" && o.authMode != "smart")
      return Status::invalid("gateway.auth.mode must be smart or none");
    o.authClients = c.getString("gateway.auth.clients", o.authClients);
    o.authTokenKey = c.getString("gateway.auth.tokenKey", o.authTokenKey);
    if (Status s = intKey("gateway.auth.tokenLifetimeSeconds", o.authTokenLifetimeSeconds, 30, 3600);
        !s.isOk())
      return s;
    if (Status s = intKey("gateway.auth.breakGlassMinutes", o.authBreakGlassMinutes, 5, 1440);
        !s.isOk())
      return s;
    if (Status s = intKey("gateway.audit.refusalsPerMinute", o.auditRefusalsPerMinute, 0, 10000);
        !s.isOk())
      return s;
    o.auditReadDurability = c.getString("gateway.audit.readDurability", o.auditReadDurability);
    if (o.auditReadDurability != "process" && o.auditReadDurability != "disk")
      return Status::invalid("gateway.audit.readDurability must be process or disk");
    if (Status s = intKey("gateway.audit.flushMilliseconds", o.auditFlushMilliseconds, 1, 10000);
        !s.isOk())
      return s;
    if (o.authMode == "smart" && o.authClients.empty())
      return Status::invalid(
          "gateway.auth.mode=smart needs gateway.auth.clients (the client registry file)");
    if (o.authMode == "smart" && o.baseUrl.empty())
      return Status::invalid(
          "gateway.auth.mode=smart needs gateway.http.baseUrl: the token URL every client "
          "assertion names is derived from it, never from the Host header");
    if (o.authMode == "none" && !isLoopback(o.mllpHost))
      return Status::invalid(
          "gateway.auth.mode=none is refused unless gateway.mllp.host is a loopback address");
    if (o.authMode == "none" && !isLoopback(o.httpHost))
      return Status::invalid(
          "gateway.auth.mode=none is refused unless gateway.http.host is a loopback address");
    o.conformanceDir = c.getString("gateway.conformance.dir", o.conformanceDir);
    o.mappingsDir = c.getString("gateway.mappings.dir", o.mappingsDir);
    o.logLevel = c.getString("gateway.log.level", o.logLevel);
    static const std::set<std::string> levels = {"fatal",  "critical",    "error", "warning",
                                                 "notice", "information", "debug", "trace"};
    if (!levels.count(o.logLevel)) return Status::invalid("gateway.log.level: unknown level");
    o.logRequests = c.getBool("gateway.log.requests", o.logRequests);
    o.logFormat = c.getString("gateway.log.format", o.logFormat);
    if (o.logFormat != "text" && o.logFormat != "json")
      return Status::invalid("gateway.log.format must be text or json");
    {
      Status s = intKey("gateway.flags.intervalSeconds", o.flagsIntervalSeconds, 0, 7 * 86400);
      if (!s.isOk()) return s;
    }
    o.demoBundle = c.getString("gateway.demo.load", o.demoBundle);
    // TLS: on by default; plain only on loopback. The files are checked when the gateway
    // starts (Gateway::start, also exit code 78).
    o.httpTls = c.getBool("gateway.http.tls", o.httpTls);
    o.mllpTls = c.getBool("gateway.mllp.tls", o.mllpTls);
    if (!o.httpTls && !isLoopback(o.httpHost))
      return Status::invalid(
          "gateway.http.tls=false is refused unless gateway.http.host is a loopback address");
    if (!o.mllpTls && !isLoopback(o.mllpHost))
      return Status::invalid(
          "gateway.mllp.tls=false is refused unless gateway.mllp.host is a loopback address");
    o.tlsCertificate = c.getString("gateway.tls.certificate", o.tlsCertificate);
    o.tlsPrivateKey = c.getString("gateway.tls.privateKey", o.tlsPrivateKey);
    o.tlsCaCertificates = c.getString("gateway.tls.caCertificates", o.tlsCaCertificates);
    o.tlsClientCertificates =
        c.getString("gateway.tls.clientCertificates", o.tlsClientCertificates);
    if (o.tlsClientCertificates != "required" && o.tlsClientCertificates != "optional" &&
        o.tlsClientCertificates != "none")
      return Status::invalid(
          "gateway.tls.clientCertificates must be required, optional or none");
    {
      Status s = intKey("gateway.tls.ticketKeyRotationSeconds", o.tlsTicketKeyRotationSeconds,
                        0, 7 * 86400);
      if (!s.isOk()) return s;
    }
    if (o.httpTls || o.mllpTls) {
      const char* which = o.httpTls ? "gateway.http.tls" : "gateway.mllp.tls";
      if (o.tlsCertificate.empty() || o.tlsPrivateKey.empty())
        return Status::invalid(std::string(which) +
                               " is on: set gateway.tls.certificate and gateway.tls.privateKey "
                               "(docs/security.md; certs/make-dev-certs.sh makes development "
                               "ones), or turn TLS off on a loopback address");
      if (o.tlsClientCertificates != "none" && o.tlsCaCertificates.empty())
        return Status::invalid(
            "gateway.tls.caCertificates must name the CAs of client certificates (or set "
            "gateway.tls.clientCertificates=none)");
    }
    // Outgoing TLS (Subscription deliveries); its files are checked when the gateway starts.
    o.notifyCaCertificates = c.getString("gateway.notify.caCertificates", o.notifyCaCertificates);
    o.notifyCertificate = c.getString("gateway.notify.certificate", o.notifyCertificate);
    o.notifyPrivateKey = c.getString("gateway.notify.privateKey", o.notifyPrivateKey);
    if (o.notifyCertificate.empty() != o.notifyPrivateKey.empty())
      return Status::invalid(
          "gateway.notify.certificate and gateway.notify.privateKey go together: set both "
          "(a client certificate for endpoints that ask for one) or neither");
    o.notifyAllowPlainHttp = c.getBool("gateway.notify.allowPlainHttp", o.notifyAllowPlainHttp);
  } catch (const Poco::Exception& e) {
    return Status::invalid("configuration: " + e.displayText());
  } catch (const std::exception& e) {
    return Status::invalid(std::string("configuration: ") + e.what());
  }
  return o;
}

}  // namespace acp::app
