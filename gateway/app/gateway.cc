#include "gateway/app/gateway.h"

#include "gateway/access/access_policy.h"
#include "gateway/audit/audit_trail.h"
#include "gateway/auth/replay_guard.h"
#include "gateway/auth/smart_auth.h"

#include <Poco/File.h>
#include <Poco/Format.h>
#include <Poco/Logger.h>
#include <Poco/Path.h>

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>

#include "gateway/app/metrics_listener.h"
#include "gateway/app/mllp_metrics.h"
#include "gateway/app/mllp_refusals.h"
#include "gateway/app/scrape_gauges.h"
#include "gateway/metrics/registry.h"
#include "gateway/app/served_types.h"
#include "gateway/core/ids.h"
#include "gateway/core/xml.h"
#include "gateway/http/fhir_service.h"
#include "gateway/http/http_server.h"
#include "gateway/http/refusal_audit.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/notify/delivery_tls.h"
#include "gateway/notify/notifier.h"
#include "gateway/notify/subscription_matcher.h"
#include "gateway/profile/profile_validator.h"
#include "gateway/store/instant.h"
#include "mappings/acute/acute_mapper.h"
#include "mappings/acute/hl7_feed.h"
#include "mappings/community/community_mapper.h"
#include "mappings/hospice/hospice_mapper.h"
#include "gateway/model/model.h"
#include "gateway/store/sql_store.h"
#include "gateway/tls/client_policy.h"
#include "gateway/tls/tls_context.h"

#ifndef ACP_DEFAULT_MAPPINGS_DIR
#define ACP_DEFAULT_MAPPINGS_DIR "mappings"
#endif
#ifndef ACP_DEFAULT_CONFORMANCE_DIR
#define ACP_DEFAULT_CONFORMANCE_DIR ""
#endif

namespace acp::app {

std::string defaultConformanceDir() {
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    std::string dir(exe);
    dir = dir.substr(0, dir.rfind('/'));          // .../bin
    dir = dir.substr(0, dir.rfind('/'));          // prefix
    std::string installed = dir + "/share/acp-gateway/conformance/r4/";
    if (Poco::File(installed + "types.json").exists()) return installed;
  }
  return ACP_DEFAULT_CONFORMANCE_DIR;
}

int availableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

std::string defaultMappingsDir() {
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    std::string dir(exe);
    dir = dir.substr(0, dir.rfind('/'));
    dir = dir.substr(0, dir.rfind('/'));
    std::string installed = dir + "/share/acp-gateway/mappings";
    if (Poco::File(installed + "/hospice").exists()) return installed;
  }
  return ACP_DEFAULT_MAPPINGS_DIR;
}

Gateway::Gateway(Options options)
    : options_(std::move(options)), metrics_(std::make_shared<metrics::Registry>()) {}

Gateway::~Gateway() { stop(); }

Status Gateway::open() {
  if (store_) return Status::ok();  // open already (start() after open())
  xml::xmlSafeInit();
  std::string dir = options_.conformanceDir.empty() ? defaultConformanceDir()
                                                    : options_.conformanceDir;
  auto model = model::Model::load(dir);
  if (!model.isOk()) return model.status();
  model_ = model.value();

  // "sqlite:PATH" → the file; a PostgreSQL URI goes to the store as it is.
  std::string location = options_.storeUrl.rfind("sqlite:", 0) == 0
                             ? options_.storeUrl.substr(std::string("sqlite:").size())
                             : options_.storeUrl;
  store::StoreOptions storeOptions;
  storeOptions.poolSize = options_.storeReaders;
  storeOptions.sqliteMemoryLimitBytes = int64_t{options_.sqliteMemoryMegabytes} * 1024 * 1024;
  storeOptions.sqliteWriterCacheBytes = int64_t{options_.sqliteWriterCacheMegabytes} * 1024 * 1024;
  storeOptions.baseUrl = options_.baseUrl;
  storeOptions.sqliteExclusive = true;  // one writing process per SQLite file (store.in-use)
  auto store = store::SqlStore::open(location, model_, storeOptions);
  if (!store.isOk()) return store.status();
  std::shared_ptr<store::SqlStore> sqlite(store.take());
  // R4 Subscriptions: every write is matched in its own transaction (notify/).
  auto matcher = std::make_shared<notify::SubscriptionMatcher>(model_, options_.clock);
  sqlite->setWriteObserver(matcher);
  // Several gateways on one PostgreSQL database: a Subscription written by another reaches
  // this one's matcher (store/pg_change_feed.h).
  sqlite->setChangeListener([matcher](const std::vector<std::string>& types) {
    for (const std::string& t : types)
      if (t == "Subscription" || t == "*") matcher->invalidate();
  });
  store_ = sqlite;
  sqlStore_ = sqlite;
  // What only the store and the process know, read at each scrape (scrape_gauges.h).
  {
    double started = processStartSeconds();
    std::weak_ptr<store::SqlStore> weak = sqlite;
    collectors_.push_back(metrics_->addCollector([weak](std::vector<metrics::Sample>& out) {
      if (auto s = weak.lock()) collectStore(*s, out);
    }));
    collectors_.push_back(metrics_->addCollector(
        [started](std::vector<metrics::Sample>& out) { collectProcess(started, out); }));
    metrics_->gauge("acp_build_info", "The gateway's version (value 1)",
                    {{"version", http::ServiceOptions().softwareVersion}})
        .set(1);
  }

  http::ServiceOptions so;
  so.servedTypes = servedResourceTypes();
  so.defaultCount = options_.defaultCount;
  so.maxCount = options_.maxCount;
  so.maxBundleEntries = options_.maxBundleEntries;
  so.maxJsonDepth = static_cast<size_t>(options_.maxJsonDepth);
  so.allowPlainHttpEndpoints = options_.notifyAllowPlainHttp;
  service_ = std::make_shared<http::FhirService>(model_, store_, so);
  // Who may see what: decided per patient, from the R4 Patient compartment (access/).
  std::string compartmentFile = dir;
  while (!compartmentFile.empty() && compartmentFile.back() == '/') compartmentFile.pop_back();
  auto compartment =
      access::PatientCompartment::load(model_, compartmentFile + "/compartment-patient.json");
  if (!compartment.isOk()) return compartment.status();
  access::BreakGlassOptions bg;
  bg.minutes = options_.authBreakGlassMinutes;
  bg.nowMs = options_.clock;
  access_ = std::make_shared<access::AccessPolicy>(
      compartment.value(), store_, std::make_shared<access::BreakGlass>(store_, model_, bg));
  service_->setAccessPolicy(access_);
  // The audit trail (audit/): hash-chained, append-only, in the same database.
  audit::AuditTrailOptions ao;
  ao.source = {"ACP Gateway", "", options_.baseUrl};
  ao.nowMs = options_.clock;
  ao.durability = options_.auditReadDurability == "disk" ? store::AuditDurability::kDisk
                                                         : store::AuditDurability::kProcess;
  ao.flushMs = options_.auditFlushMilliseconds;
  audit_ = std::make_shared<audit::AuditTrail>(std::shared_ptr<store::AuditLog>(sqlite, sqlite.get()),
                                               ao);
  service_->setAudit(audit_);
  // Partner ingest: one mapper per partner format (mappings/<partner>/).
  auto ingest = ingest_ = std::make_shared<ingest::IngestService>(
      model_, store_, std::dynamic_pointer_cast<store::FailureLog>(store_));
  // Profiles: the project's (conformance/acp) and UK Core's (conformance/ukcore), next to r4.
  std::string root = dir;
  while (!root.empty() && root.back() == '/') root.pop_back();
  root = root.substr(0, root.rfind('/'));
  auto registry = profile::ProfileRegistry::load(model_, {root + "/acp", root + "/ukcore"});
  if (!registry.isOk()) return registry.status();
  profiles_ = registry.value();
  auto profileValidator = std::make_shared<profile::ProfileValidator>(profiles_);
  ingest->setProfiles(profileValidator);
  if (options_.clock) ingest->setClock(options_.clock);
  ingest->setMetrics(metrics_);
  service_->setProfiles(profileValidator);
  std::string mappings = options_.mappingsDir.empty() ? defaultMappingsDir() : options_.mappingsDir;
  auto hospice = mappings::hospice::HospicePartner::create(mappings + "/hospice/conceptmaps");
  if (!hospice.isOk()) return hospice.status();
  ingest->addPartner(hospice.value());
  auto acute = mappings::acute::AcutePartner::create(mappings + "/acute/conceptmaps");
  if (!acute.isOk()) return acute.status();
  ingest->addPartner(acute.value());
  acutePartner_ = acute.value();
  auto community = mappings::community::CommunityPartner::create(mappings + "/community");
  if (!community.isOk()) return community.status();
  ingest->addPartner(community.value());
  service_->setIngest(ingest);
  return Status::ok();
}

Status Gateway::start() {
  // TLS first: a missing or bad certificate stops the start before anything else is done.
  // A server context with the gateway's certificate and `clients` as its client policy.
  auto serverTls = [this](tls::ClientCertificates clients, const std::string& what)
      -> Result<std::shared_ptr<const tls::TlsContext>> {
    tls::TlsOptions to;
    to.certificate = options_.tlsCertificate;
    to.privateKey = options_.tlsPrivateKey;
    to.caCertificates = options_.tlsCaCertificates;
    to.clientCertificates = clients;
    to.ticketKeyRotationSeconds = options_.tlsTicketKeyRotationSeconds;
    auto created = tls::TlsContext::create(to);
    if (created.isOk()) return std::shared_ptr<const tls::TlsContext>(created.value());
    const Status& s = created.status();
    if (s.code() != Status::Code::kInvalid) return s;
    return Status::invalid("gateway.tls." + s.message() + what);
  };
  // The browser listener's: the same certificate, no client certificates (a browser has
  // none; the launch link is the credential).
  std::shared_ptr<const tls::TlsContext> viewTlsContext;
  if (options_.viewPort >= 0 && options_.viewTls) {
    auto created = serverTls(tls::ClientCertificates::kNone, " (for gateway.view)");
    if (!created.isOk()) return created.status();
    viewTlsContext = created.value();
  }
  std::shared_ptr<const tls::TlsContext> tlsContext;
  if (options_.httpTls || options_.mllpTls) {
    tls::ClientCertificates clients;
    if (!tls::parseClientCertificates(options_.tlsClientCertificates, clients))
      return Status::invalid("gateway.tls.clientCertificates must be required, optional or none");
    auto created = serverTls(clients, "");
    if (!created.isOk()) return created.status();
    tlsContext = created.value();
    Poco::Logger::get("acp.app").information(
        "TLS on %s: %s",
        std::string(options_.httpTls && options_.mllpTls ? "http and mllp"
                     : options_.httpTls                  ? "http"
                                                         : "mllp"),
        tlsContext->describe());
  }
  // Outgoing TLS (Subscription deliveries to https:// endpoints): made once, here, so a bad
  // file stops the start as well.
  tls::ClientTlsOptions co;
  co.caCertificates = options_.notifyCaCertificates;
  co.certificate = options_.notifyCertificate;
  co.privateKey = options_.notifyPrivateKey;
  auto delivery = notify::makeDeliveryContext(co);
  if (!delivery.isOk()) {
    const Status& s = delivery.status();
    if (s.code() != Status::Code::kInvalid) return s;
    return Status::invalid("gateway.notify." + s.message());
  }
  Poco::Logger::get("acp.app").information("TLS to Subscription endpoints: %s",
                                           tls::describeClientPolicy(co));
  Status opened = open();
  if (!opened.isOk()) return opened;
  // SMART Backend Services (auth/): tokens for every route but /metadata; the store keeps the
  // client assertion ids already used (store/replay_ledger.h), so a jti is never reused, even
  // across a restart.
  if (options_.authMode == "smart") {
    auto clock = options_.clock;
    std::shared_ptr<store::SqlStore> ledger = sqlStore_;
    auto guard = std::make_shared<auth::FunctionReplayGuard>(
        [ledger, clock](const std::string& client, const std::string& jti, int64_t until) {
          int64_t now = clock ? clock() : nowMillis();
          return ledger->firstUse(client, jti, until, now);
        });
    auth::SmartAuthOptions so;
    so.baseUrl = options_.baseUrl;
    so.clientsFile = options_.authClients;
    so.tokenKeyFile = options_.authTokenKey;
    so.tokenLifetimeSeconds = options_.authTokenLifetimeSeconds;
    so.nowMs = options_.clock;
    so.onReload = [](const Status& s) {
      Poco::Logger& log = Poco::Logger::get("acp.auth");
      if (s.isOk()) log.notice("client registry reloaded");
      else log.error("client registry not reloaded (the previous one stays): %s", s.message());
    };
    auto smart = auth::SmartAuth::create(so, guard);
    if (!smart.isOk()) return Status::invalid("gateway.auth: " + smart.status().message());
    smart_ = std::shared_ptr<auth::SmartAuth>(std::move(smart.value()));
    service_->setSmartAuth(smart_);
  }


  if (!options_.demoBundle.empty()) {
    Status s = loadDemo();
    if (!s.isOk()) return s;
  }

  // The listeners' own refusals (both HTTP listeners' and the MLLP one's): audited,
  // rate-limited per client address.
  http::RefusalAuditOptions ro;
  ro.perAddress = options_.auditRefusalsPerMinute;
  ro.nowMs = options_.clock;
  refusals_ = std::make_shared<http::RefusalAudit>(audit_, ro);

  // The management listener first: a port clash stops the start before anything is served.
  if (options_.metricsPort >= 0) {
    metricsListener_ =
        std::make_unique<MetricsListener>(metrics_, options_.metricsHost, options_.metricsPort);
    Status ms = metricsListener_->start();
    if (!ms.isOk()) {
      metricsListener_.reset();
      return ms;
    }
  }

  // The listener for clinicians' browsers: launch links, the view's assets, health checks.
  if (options_.viewPort >= 0) {
    http::HttpServerOptions vo;
    vo.host = options_.viewHost;
    vo.port = options_.viewPort;
    vo.baseUrl = options_.viewBaseUrl;
    vo.workers = 2;
    vo.writeWorkers = 1;
    vo.maxConnections = std::min(options_.maxConnections, 256);
    vo.timeoutSeconds = options_.timeoutSeconds;
    vo.keepAliveSeconds = options_.keepAliveSeconds;
    vo.maxBodyBytes = 16 * 1024;  // GETs only: no body worth reading
    vo.maxIngestBodyBytes = 16 * 1024;
    vo.maxBufferedBodyBytes = 1024 * 1024;
    vo.logRequests = options_.logRequests;
    vo.tls = viewTlsContext;
    vo.refusals = refusals_;
    vo.metrics = metrics_;
    vo.serves = [](const std::string& method, const std::string& path) {
      if (method != "GET" && method != "HEAD") return false;
      return path.rfind("/view/launch/", 0) == 0 || path.rfind("/view/assets/", 0) == 0;
    };
    viewHttp_ = std::make_unique<http::HttpServer>(service_, vo);
    Status vs = viewHttp_->start();
    if (!vs.isOk()) return vs;
    service_->setViewBaseUrl(!options_.viewBaseUrl.empty()
                                 ? options_.viewBaseUrl
                                 : std::string(options_.viewTls ? "https://" : "http://") +
                                       (options_.viewHost.find(':') != std::string::npos
                                            ? "[" + options_.viewHost + "]"
                                            : options_.viewHost) +
                                       ":" + std::to_string(viewHttp_->port()));
  }

  http::HttpServerOptions ho;
  ho.host = options_.httpHost;
  ho.port = options_.httpPort;
  ho.baseUrl = options_.baseUrl;
  // A read's response is parked while its AuditEvent is group-committed (http_server.h), so
  // the read workers never wait on the disk: about as many as cores (docs/performance.md).
  ho.workers = options_.workers > 0 ? options_.workers : std::max(2, availableCpus());
  ho.writeWorkers = options_.writeWorkers;
  ho.maxQueuedWrites = options_.maxQueuedWrites;
  ho.queueTimeoutSeconds = options_.queueTimeoutSeconds;
  ho.maxConnections = options_.maxConnections;
  ho.timeoutSeconds = options_.timeoutSeconds;
  ho.keepAliveSeconds = options_.keepAliveSeconds;
  ho.maxKeepAliveRequests = options_.maxKeepAliveRequests;
  ho.maxBodyBytes = options_.maxBodyBytes;
  ho.maxIngestBodyBytes = options_.maxIngestBodyBytes;
  ho.maxBufferedBodyBytes = options_.maxBufferedBodyBytes;
  ho.logRequests = options_.logRequests;
  if (options_.httpTls) ho.tls = tlsContext;
  ho.refusals = refusals_;
  ho.metrics = metrics_;
  http_ = std::make_unique<http::HttpServer>(service_, ho);
  Status s = http_->start();
  if (!s.isOk()) return s;

  // HL7 v2 over MLLP: the same mapping as POST /$ingest/hl7v2, an ACK after the commit.
  mllp::MllpListenerOptions mo;
  mo.host = options_.mllpHost;
  mo.port = options_.mllpPort;
  mo.workers = options_.mllpWorkers;
  mo.maxConnections = options_.mllpMaxConnections;
  mo.maxFrameBytes = options_.mllpMaxFrameBytes;
  mo.idleTimeoutSeconds = options_.mllpIdleTimeoutSeconds;
  mo.frameTimeoutSeconds = options_.mllpFrameTimeoutSeconds;
  if (options_.mllpTls) mo.tls = tlsContext;
  // Its refusals (mllp_refusals.h) are audited with the HTTP listener's: one rate limit per
  // address across both listeners. Never a byte of the messages.
  mo.onEvent = [refusals = refusals_, metrics = metrics_](const mllp::Event& e) {
    countMllpEvent(*metrics, e);
    if (e.kind == mllp::Event::Kind::kClosed && mllp::isFailure(e.reason))
      Poco::Logger::get("acp.mllp").warning(
          "connection %s closed: %s%s", e.peer.endpoint(),
          std::string(mllp::closeReasonName(e.reason)),
          e.detail.empty() ? std::string() : " (" + e.detail + ")");
    if (std::optional<http::Refusal> r = mllpRefusal(e)) refusals->note(*r);
  };
  // With tokens and mutual TLS, a message is accepted only from its own organisation's
  // certificate (MSH-4 = the certificate's ODS code).
  bool certified = options_.authMode == "smart" && options_.mllpTls;
  // ... and only from an organisation the client registry lists as a source system (now:
  // the registry reloads), so that no other certificate holder can write or fill the feed's
  // failure list.
  mappings::acute::Hl7Feed::SenderCheck sourceSystem;
  if (smart_)
    sourceSystem = [smart = smart_](const std::string& ods) {
      for (const auth::Client& c : smart->clients()->clients())
        if (c.enabled && c.organisation == ods && c.role == auth::Role::kSourceSystem)
          return true;
      return false;
    };
  auto feed = std::make_shared<mappings::acute::Hl7Feed>(ingest_, acutePartner_, certified, audit_,
                                                         sourceSystem);
  mllp_ = std::make_unique<mllp::MllpListener>(std::make_shared<CountingHandler>(feed, metrics_),
                                                mo);
  Status m = mllp_->start();
  if (!m.isOk()) return m;
  if (options_.flagsIntervalSeconds > 0) flagsThread_ = std::thread([this] { flagsLoop(); });
  notify::NotifierOptions no;
  no.clock = options_.clock;
  no.access = access_;
  no.tls = delivery.value();
  no.allowPlainHttp = options_.notifyAllowPlainHttp;
  no.metrics = metrics_;
  // Claims a killed predecessor (SQLite) or a gone gateway (PostgreSQL) left are due again at
  // once (SqlStore::releaseClaimsOfGoneProcesses); the notifier looks again now and then.
  Status released = sqlStore_->releaseClaimsOfGoneProcesses(options_.clock ? options_.clock()
                                                                        : store::systemNowMs());
  if (!released.isOk()) {
    // SQLite: the file's gateway lock could not be set up — a configuration fault. PostgreSQL:
    // a passing error; the notifier's next look, or the lease, releases them instead.
    if (sqlStore_->dialect() == store::sql::Dialect::kSqlite) return released;
    Poco::Logger::get("acp.notify")
        .warning("notification claims of gone gateways not released now: %s",
                 released.message());
  }
  notifier_ = std::make_unique<notify::Notifier>(store_, sqlStore_.get(), no);
  notifier_->start();
  return Status::ok();
}

Status Gateway::loadDemo() {
  // Loaded once: a store that already holds a Patient is left as it is.
  search::SearchQuery any;
  any.resourceType = "Patient";
  any.count = 1;
  auto existing = store_->search(any);
  if (existing.isOk() && !existing->entries.empty()) return Status::ok();
  std::ifstream in(options_.demoBundle, std::ios::binary);
  if (!in) return Status::invalid("gateway.demo.load: cannot read " + options_.demoBundle);
  std::stringstream ss;
  ss << in.rdbuf();
  http::FhirRequest rq;
  rq.method = "POST";
  rq.path = "/";
  rq.body = ss.str();
  rq.headers["Content-Type"] = "application/fhir+json";
  rq.baseUrl = options_.baseUrl;
  http::FhirResponse r = service_->handle(rq);
  if (r.status != 200)
    return Status::invalid("gateway.demo.load: the demo bundle was refused (" +
                           std::to_string(r.status) + "): " + r.body);
  return Status::ok();
}

void Gateway::flagsLoop() {
  std::unique_lock<std::mutex> lock(flagsMutex_);
  while (!flagsStop_) {
    lock.unlock();
    // Several gateways on one PostgreSQL store: one of them sweeps; the others skip this turn.
    if (!sqlStore_->tryLead("timed-flags")) {
      Poco::Logger::get("acp.flags").information("timed Flags: another gateway is sweeping");
      lock.lock();
      flagsCv_.wait_for(lock, std::chrono::seconds(options_.flagsIntervalSeconds),
                        [this] { return flagsStop_; });
      continue;
    }
    auto started = std::chrono::steady_clock::now();
    auto written = ingest_->refreshTimedFlags();
    sqlStore_->endLead("timed-flags");
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // One line per sweep (counts only): operators see how long a sweep holds writer turns.
    if (!written.isOk())
      Poco::Logger::get("acp.flags").warning("timed Flags not refreshed: " + written.status().message());
    else
      Poco::Logger::get("acp.flags").notice(
          Poco::format("timed Flags re-evaluated in %.1f s: %d raised or closed", seconds,
                       written.value()));
    lock.lock();
    flagsCv_.wait_for(lock, std::chrono::seconds(options_.flagsIntervalSeconds),
                      [this] { return flagsStop_; });
  }
}

void Gateway::stop() {
  if (metricsListener_) {
    metricsListener_->stop();
    metricsListener_.reset();
  }
  for (int id : collectors_) metrics_->removeCollector(id);  // before the store closes
  collectors_.clear();
  if (notifier_) {
    notifier_->stop();
    notifier_.reset();
  }
  if (flagsThread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(flagsMutex_);
      flagsStop_ = true;
    }
    flagsCv_.notify_all();
    flagsThread_.join();
  }
  if (mllp_) {
    mllp_->stop();
    mllp_.reset();
  }
  if (http_) {
    http_->stop();
    http_.reset();
  }
  if (viewHttp_) {
    viewHttp_->stop();
    viewHttp_.reset();
  }
  if (refusals_) {
    refusals_->stop();  // its last events, before the store closes
    refusals_.reset();
  }
  service_.reset();
  store_.reset();  // closes the database cleanly (WAL checkpoint on last close)
}

int Gateway::httpPort() const { return http_ ? http_->port() : 0; }
int Gateway::mllpPort() const { return mllp_ ? mllp_->port() : 0; }
int Gateway::metricsPort() const { return metricsListener_ ? metricsListener_->port() : 0; }
int Gateway::viewPort() const { return viewHttp_ ? viewHttp_->port() : 0; }

std::string Gateway::readyLine() const {
  return "ready http=" + options_.httpHost + ":" + std::to_string(httpPort()) +
         " mllp=" + options_.mllpHost + ":" + std::to_string(mllpPort()) +
         (metricsListener_ ? " metrics=" + options_.metricsHost + ":" +
                                 std::to_string(metricsPort())
                           : std::string()) +
         (viewHttp_ ? " view=" + options_.viewHost + ":" + std::to_string(viewPort())
                    : std::string());
}

}  // namespace acp::app
