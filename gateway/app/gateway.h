// Gateway — everything that runs, wired together from Options: the model, the profiles, the
// store, the FHIR service, partner ingest and the HTTP and MLLP listeners. Only app/ knows the concrete types (the store
// implementation, the served types). Used by main() and by the integration tests, which
// start a real Gateway on port 0.
// Thread-safety: start()/stop() from one thread.
#pragma once

#include <memory>
#include <thread>
#include <mutex>
#include <condition_variable>
#include <string>
#include <vector>

#include "gateway/app/options.h"
#include "gateway/core/status.h"

namespace acp::model {
class Model;
}
namespace acp::store {
class ResourceStore;
class SqlStore;
}
namespace acp::http {
class FhirService;
class HttpServer;
class RefusalAudit;
}
namespace acp::auth {
class SmartAuth;
}
namespace acp::ingest {
class IngestService;
}
namespace acp::mappings::acute {
class AcutePartner;
}
namespace acp::profile {
class ProfileRegistry;
}
namespace acp::mllp {
class MllpListener;
}  // namespace acp::http

namespace acp::notify {
class Notifier;
}  // namespace acp::notify
namespace acp::access {
class AccessPolicy;
}  // namespace acp::access
namespace acp::audit {
class AuditTrail;
}  // namespace acp::audit
namespace acp::metrics {
class Registry;
}  // namespace acp::metrics

namespace acp::app {

class MetricsListener;

class Gateway {
 public:
  explicit Gateway(Options options);
  ~Gateway();

  // Loads the model, opens the store and everything on it — the FHIR service, access, the
  // audit trail, partner ingest with its profiles and mappings — without listening (the
  // import command, app/import_command.h, uses this alone). Called by start().
  Status open();
  // Checks the TLS files, open()s, loads the demo bundle if asked, starts listening.
  Status start();
  // Stops accepting, finishes in-flight requests, closes the store.
  void stop();

  // "ready http=HOST:PORT mllp=HOST:PORT[ metrics=HOST:PORT][ view=HOST:PORT]" — printed by
  // main once start() succeeded (metrics=, view= when those listeners are on).
  std::string readyLine() const;
  int httpPort() const;
  int mllpPort() const;
  int metricsPort() const;  // 0 when the management listener is off
  int viewPort() const;     // 0 when the listener for browsers (gateway.view.port) is off
  // What the gateway counts (docs/operations.md, "Metrics"), served by the management listener.
  std::shared_ptr<metrics::Registry> metrics() const { return metrics_; }
  const Options& options() const { return options_; }
  std::shared_ptr<http::FhirService> service() const { return service_; }
  std::shared_ptr<ingest::IngestService> ingest() const { return ingest_; }
  std::shared_ptr<const access::AccessPolicy> access() const { return access_; }
  std::shared_ptr<store::ResourceStore> store() const { return store_; }
  std::shared_ptr<const audit::AuditTrail> audit() const { return audit_; }
  // The audit of the HTTP listener's own refusals (http/refusal_audit.h).
  std::shared_ptr<http::RefusalAudit> refusals() const { return refusals_; }

 private:
  Status loadDemo();

  Options options_;
  std::shared_ptr<const model::Model> model_;
  std::shared_ptr<store::ResourceStore> store_;
  std::shared_ptr<store::SqlStore> sqlStore_;  // store_ as itself (leads, change feed)
  std::shared_ptr<const profile::ProfileRegistry> profiles_;  // conformance/acp + ukcore
  std::shared_ptr<http::FhirService> service_;
  std::unique_ptr<http::HttpServer> http_;
  std::unique_ptr<http::HttpServer> viewHttp_;  // gateway.view.*: clinicians' browsers
  std::shared_ptr<ingest::IngestService> ingest_;
  std::shared_ptr<const mappings::acute::AcutePartner> acutePartner_;  // the MLLP feed's mapper
  std::shared_ptr<const access::AccessPolicy> access_;
  std::shared_ptr<const audit::AuditTrail> audit_;
  std::shared_ptr<auth::SmartAuth> smart_;  // gateway.auth.mode=smart only
  std::shared_ptr<http::RefusalAudit> refusals_;
  std::unique_ptr<mllp::MllpListener> mllp_;
  // The timed Flags (Options::flagsIntervalSeconds): a thread that wakes at start and then
  // every interval, until stop().
  void flagsLoop();
  std::unique_ptr<notify::Notifier> notifier_;  // R4 Subscription deliveries
  std::shared_ptr<metrics::Registry> metrics_;
  std::vector<int> collectors_;  // this gateway's collectors in metrics_
  std::unique_ptr<MetricsListener> metricsListener_;
  std::thread flagsThread_;
  std::mutex flagsMutex_;
  std::condition_variable flagsCv_;
  bool flagsStop_ = false;
};

// Where conformance/r4 is when gateway.conformance.dir is not set: next to the binary
// (../share/acp-gateway/conformance/r4), then the source tree it was built from.
std::string defaultConformanceDir();
std::string defaultMappingsDir();
// The CPUs this process may run on (its affinity mask), at least 1: the default number of
// read workers.
int availableCpus();

}  // namespace acp::app
