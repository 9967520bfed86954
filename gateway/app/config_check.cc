#include "gateway/app/config_check.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>

#include "gateway/access/patient_compartment.h"
#include "gateway/app/gateway.h"
#include "gateway/auth/replay_guard.h"
#include "gateway/auth/smart_auth.h"
#include "gateway/core/json.h"
#include "gateway/model/model.h"
#include "gateway/notify/delivery_tls.h"
#include "gateway/profile/profile_registry.h"
#include "gateway/store/schema_probe.h"
#include "gateway/tls/certificate_info.h"
#include "gateway/tls/tls_context.h"
#include "gateway/tls/client_policy.h"
#include "mappings/acute/acute_mapper.h"
#include "mappings/community/community_mapper.h"
#include "mappings/hospice/hospice_mapper.h"

namespace acp::app {

namespace {

constexpr int64_t kExpirySoonSeconds = 30 * 24 * 3600;  // a certificate this close: a warning

class Report {
 public:
  explicit Report(std::ostream& out) : out_(out) {}
  void ok(const std::string& item, const std::string& what) { line("ok  ", item, what); }
  void warn(const std::string& item, const std::string& what) { line("WARN", item, what); }
  void fail(const std::string& item, const std::string& what) {
    line("FAIL", item, what);
    passed_ = false;
  }
  // A check that either passes with `what` or fails with the status's message.
  void check(const std::string& item, const Status& s, const std::string& what) {
    if (s.isOk())
      ok(item, what);
    else
      fail(item, s.message());
  }
  bool passed() const { return passed_; }

 private:
  void line(const char* verdict, const std::string& item, const std::string& what) {
    out_ << verdict << "  " << item << ": " << what << "\n";
  }
  std::ostream& out_;
  bool passed_ = true;
};

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void checkCertificate(Report& r, const std::string& item, const std::string& file) {
  auto info = tls::readCertificateInfo(file);
  if (!info.isOk()) return r.fail(item, info.status().message());
  std::string what = info->subject + ", expires " + info->notAfter;
  int64_t left = info->notAfterSeconds - nowSeconds();
  if (left <= 0) return r.fail(item, "expired: " + what);
  if (left < kExpirySoonSeconds)
    return r.warn(item, what + " (in " + std::to_string(left / 86400) + " days)");
  r.ok(item, what);
}

void checkTls(const Options& o, Report& r) {
  if (!o.httpTls && !o.mllpTls) {
    r.ok("tls", "off on both listeners (loopback only)");
  } else {
    tls::TlsOptions to;
    to.certificate = o.tlsCertificate;
    to.privateKey = o.tlsPrivateKey;
    to.caCertificates = o.tlsCaCertificates;
    to.ticketKeyRotationSeconds = o.tlsTicketKeyRotationSeconds;
    if (!tls::parseClientCertificates(o.tlsClientCertificates, to.clientCertificates)) {
      r.fail("tls", "gateway.tls.clientCertificates must be required, optional or none");
    } else {
      auto created = tls::TlsContext::create(to);
      if (created.isOk())
        r.ok("tls", std::string(o.httpTls && o.mllpTls ? "http and mllp" : o.httpTls ? "http" : "mllp") +
                        ": " + created.value()->describe());
      else
        r.fail("tls", created.status().message());
    }
    checkCertificate(r, "tls certificate", o.tlsCertificate);
  }
  tls::ClientTlsOptions co;
  co.caCertificates = o.notifyCaCertificates;
  co.certificate = o.notifyCertificate;
  co.privateKey = o.notifyPrivateKey;
  auto delivery = notify::makeDeliveryContext(co);
  r.check("notify tls", delivery.isOk() ? Status::ok() : delivery.status(),
          tls::describeClientPolicy(co));
}

void checkModel(const Options& o, Report& r) {
  std::string dir = o.conformanceDir.empty() ? defaultConformanceDir() : o.conformanceDir;
  auto model = model::Model::load(dir);
  if (!model.isOk()) return r.fail("model", dir + ": " + model.status().message());
  r.ok("model", "FHIR R4 definitions from " + dir);
  std::string compartmentDir = dir;
  while (!compartmentDir.empty() && compartmentDir.back() == '/') compartmentDir.pop_back();
  auto compartment = access::PatientCompartment::load(
      model.value(), compartmentDir + "/compartment-patient.json");
  r.check("compartment", compartment.isOk() ? Status::ok() : compartment.status(),
          "the R4 Patient compartment (who may see what is decided by it)");
  std::string root = dir;
  while (!root.empty() && root.back() == '/') root.pop_back();
  root = root.substr(0, root.rfind('/'));
  auto profiles = profile::ProfileRegistry::load(model.value(), {root + "/acp", root + "/ukcore"});
  r.check("profiles", profiles.isOk() ? Status::ok() : profiles.status(),
          "UK Core and the gateway's own, from " + root);
  std::string mappings = o.mappingsDir.empty() ? defaultMappingsDir() : o.mappingsDir;
  auto hospice = mappings::hospice::HospicePartner::create(mappings + "/hospice/conceptmaps");
  auto acute = mappings::acute::AcutePartner::create(mappings + "/acute/conceptmaps");
  auto community = mappings::community::CommunityPartner::create(mappings + "/community");
  Status partners = !hospice.isOk() ? hospice.status()
                    : !acute.isOk() ? acute.status()
                                    : community.isOk() ? Status::ok() : community.status();
  r.check("mappings", partners, "hospice, community and acute concept maps from " + mappings);
}

void checkAuth(const Options& o, Report& r) {
  if (o.authMode != "smart") return r.warn("auth", "mode " + o.authMode + ": no authentication");
  auth::SmartAuthOptions so;
  so.baseUrl = o.baseUrl;
  so.clientsFile = o.authClients;
  so.tokenKeyFile = o.authTokenKey;
  so.tokenLifetimeSeconds = o.authTokenLifetimeSeconds;
  auto guard = std::make_shared<auth::MemoryReplayGuard>([] { return nowSeconds() * 1000; });
  auto smart = auth::SmartAuth::create(so, guard);
  if (!smart.isOk()) return r.fail("auth", smart.status().message());
  if (o.authTokenKey.empty())
    return r.warn("auth", "clients from " + o.authClients +
                              "; no gateway.auth.tokenKey: tokens are signed with a key made at "
                              "start, so they end with a restart and other instances refuse them");
  r.ok("auth", "SMART Backend Services: clients from " + o.authClients + ", token key " +
                   o.authTokenKey);
}

void checkStore(const Options& o, Report& r) {
  std::string location = o.storeUrl.rfind("sqlite:", 0) == 0 ? o.storeUrl.substr(7) : o.storeUrl;
  // The URL may hold a password: only its scheme and the database's kind are reported.
  std::string shown = o.storeUrl.rfind("sqlite:", 0) == 0 ? o.storeUrl : "PostgreSQL";
  auto probe = store::probeSchema(location);
  if (!probe.isOk()) return r.fail("store", shown + ": " + probe.status().message());
  const store::SchemaProbe& p = probe.value();
  if (!p.exists || p.version == 0)
    return r.ok("store", shown + ": empty; the start creates the schema (version " +
                             std::to_string(p.current) + ")");
  if (p.version > p.current)
    return r.fail("store", shown + ": schema version " + std::to_string(p.version) +
                               " is newer than this build's " + std::to_string(p.current));
  if (p.version < p.current)
    return r.ok("store", shown + ": schema version " + std::to_string(p.version) +
                             "; the start migrates it to " + std::to_string(p.current));
  r.ok("store", shown + ": schema version " + std::to_string(p.version) + ", this build's");
}

// gateway.demo.load: the file is read and must be a FHIR Bundle (the start posts it as one,
// into an empty store only; its entries are validated then).
void checkDemo(const Options& o, Report& r) {
  if (o.demoBundle.empty()) return;
  std::ifstream in(o.demoBundle, std::ios::binary);
  if (!in) return r.fail("demo", "cannot read " + o.demoBundle);
  std::stringstream ss;
  ss << in.rdbuf();
  json::Value bundle;
  json::ParseError err;
  if (!json::parse(ss.str(), bundle, err))
    return r.fail("demo", o.demoBundle + " is not JSON: " + err.message);
  if (bundle.getString("resourceType") != "Bundle")
    return r.fail("demo", o.demoBundle + " is not a FHIR Bundle");
  const json::Value* entries = bundle.find("entry");
  size_t n = entries && entries->isArray() ? entries->items().size() : 0;
  r.ok("demo", o.demoBundle + ": a " + bundle.getString("type") + " Bundle of " +
                   std::to_string(n) + " entries, loaded at start into an empty store only");
}

void checkPort(Report& r, const std::string& item, const std::string& host, int port) {
  if (port == 0) return r.ok(item, host + ": any free port");
  try {
    Poco::Net::ServerSocket socket;
    // SO_REUSEADDR as the listeners set it, never SO_REUSEPORT (which would share the port).
    socket.bind(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)), /*reuseAddress=*/true,
                /*reusePort=*/false);
    socket.close();
    r.ok(item, host + ":" + std::to_string(port) + " is free");
  } catch (const Poco::Net::NetException& e) {
    // In use: most likely by the gateway this configuration is for, running — which cannot be
    // told from another program from here: a warning, not a failure.
    if (e.code() == EADDRINUSE || e.message().find("in use") != std::string::npos ||
        e.displayText().find("in use") != std::string::npos)
      r.warn(item, host + ":" + std::to_string(port) + " is in use (the running gateway?)");
    else
      r.fail(item, host + ":" + std::to_string(port) + " cannot be bound: " + e.displayText());
  } catch (const Poco::Exception& e) {
    r.fail(item, host + ":" + std::to_string(port) + " cannot be bound: " + e.displayText());
  }
}

}  // namespace

bool checkConfiguration(const Options& options, std::ostream& report) {
  Report r(report);
  r.ok("options", "every key known, every value in range");
  checkTls(options, r);
  checkModel(options, r);
  checkAuth(options, r);
  checkStore(options, r);
  checkDemo(options, r);
  checkPort(r, "http", options.httpHost, options.httpPort);
  checkPort(r, "mllp", options.mllpHost, options.mllpPort);
  if (options.viewPort >= 0) checkPort(r, "view", options.viewHost, options.viewPort);
  if (options.metricsPort >= 0)
    checkPort(r, "metrics", options.metricsHost, options.metricsPort);
  else
    r.ok("metrics", "off (gateway.metrics.port is not set)");
  return r.passed();
}

}  // namespace acp::app
