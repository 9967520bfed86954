// BreakGlass — emergency access for urgent care (security issue: "a request with a purpose of
// use (emergency treatment) and a stated reason gets time-limited access to that one patient;
// each use is recorded and reported to the privacy officer").
//
// A grant is a FHIR Flag on the patient (code acp-flag|break-glass, category admin): its
// identifier names the client, its author the client's organisation, its period the grant's
// window, its text the stated reason. So a grant survives a restart and is seen by every
// gateway instance, the child's clinicians see it on the record, and a practice subscribed
// to the child's Flags is told. Every access under a grant is audited with purpose ETREAT and
// the reason (the privacy officer's report: GET /AuditEvent?purpose=ETREAT).
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gateway/auth/principal.h"
#include "gateway/core/status.h"
#include "gateway/model/model.h"
#include "gateway/store/resource_store.h"

namespace acp::access {

struct BreakGlassOptions {
  int minutes = 60;                  // gateway.auth.breakGlassMinutes: how long a grant lasts
  std::function<int64_t()> nowMs;    // ms since the epoch; empty: the system clock
};

class BreakGlass {
 public:
  BreakGlass(std::shared_ptr<store::ResourceStore> store,
             std::shared_ptr<const model::Model> model, BreakGlassOptions options);

  // Whether the principal's client holds an unexpired grant for the patient; its reason.
  bool holds(const auth::Principal& principal, const std::string& patientId,
             std::string* reason = nullptr) const;
  // Grants the principal's client access to the patient for the configured window (writes
  // the Flag). The caller has checked the role and the reason.
  Status grant(const auth::Principal& principal, const std::string& patientId,
               const std::string& reason) const;

  // The identifier system of a grant's client, and the Flag code.
  static const char* const kClientSystem;
  static const char* const kFlagCode;

 private:
  int64_t now() const;
  std::shared_ptr<store::ResourceStore> store_;
  std::shared_ptr<const model::Model> model_;
  BreakGlassOptions options_;
};

}  // namespace acp::access
