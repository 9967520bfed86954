// Principal — who is asking, as established by authentication (a SMART access token, the
// client certificate of a mutual-TLS connection, or the local superuser of
// gateway.auth.mode=none). Every authorisation decision (auth/access_policy.h) and every
// AuditEvent (audit/) is made from it. Plain value; no thread-safety concerns.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/auth/scopes.h"

namespace acp::auth {

// What kind of system the client is (the client registry's "role"). Least privilege: each
// role reaches only what its work needs (docs/security.md has the table).
enum class Role {
  kNone,             // not authenticated
  kSourceSystem,     // a partner that sends records (hospice, community trust, hospital)
  kGpPractice,       // reads the plans of patients registered with it
  kUrgentCare,       // reads with a relationship, or by break-glass
  kPrivacyOfficer,   // reads the audit trail and break-glass reports
  kServiceOperator,  // runs the service: ingest failures and replay, candidate-link review
  kSuperuser,        // gateway.auth.mode=none only (loopback-bound tests and the demo)
};

// "source-system", "gp-practice", "urgent-care", "privacy-officer", "service-operator";
// kNone for anything else (kSuperuser has no registry name: it cannot be registered).
Role roleFromName(const std::string& name);
// The registry name of a role; "superuser" and "none" for the two roles that have none
// (roleFromName maps both back to kNone).
const char* roleName(Role role);

struct Principal {
  std::string clientId;         // SMART client id, or "local" for the superuser
  std::string organisation;     // ODS code of the client's organisation ("" for the superuser)
  Role role = Role::kNone;
  ScopeSet scopes;              // what the token grants (all for the superuser)
  std::string tokenId;          // the access token's jti ("" without a token)
  int64_t expiresAtMs = 0;      // the access token's expiry (0 without a token)
  // The ODS code the client certificate of this connection names ("" without mutual TLS).
  std::string certificateOrganisation;

  bool authenticated() const { return role != Role::kNone; }
  bool superuser() const { return role == Role::kSuperuser; }
};

// The local superuser of gateway.auth.mode=none (tests and the demo, bound to loopback only).
inline Principal localSuperuser() {
  Principal p;
  p.clientId = "local";
  p.role = Role::kSuperuser;
  p.scopes = ScopeSet::all();
  return p;
}

}  // namespace acp::auth
