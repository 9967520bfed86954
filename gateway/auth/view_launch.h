// Launch links of the clinician view (docs/clinician-view.md, "Opening the page from a clinical
// system"): a GP or urgent-care system, authenticated as for any request, asks for a link to
// one child's page (POST /view/launch); the clinician's browser opens it without a token or a
// client certificate (GET /view/launch/<link>). The link is a sealed statement
// (TokenService::seal: AES-256-GCM under a key derived from the gateway's token key — nobody
// without the key reads or makes one, and it is no JWS, so never an access token), so any
// instance sharing the key (and the store, for the once-only rule) opens it. It holds:
//   client_id, organisation, role, scope — who asked (the page is built for them, with their
//       access as it is when the link is opened);
//   patient — the gateway's Patient id the link is for, nothing else;
//   purpose, break_glass_reason — TREAT, or ETREAT with the stated reason (urgent care);
//   user_id, user_name — the clinician, as the system says (recorded in the AuditEvents);
//   jti, iat, exp — a link lives `kLaunchSeconds` (plus the clock tolerance) and opens once:
//       its jti is recorded as used in the replay ledger (the store's) when it is opened.
// Only GP practices and urgent care make and open links.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "gateway/auth/principal.h"
#include "gateway/core/status.h"

namespace acp::auth {

inline constexpr const char* kLaunchPurpose = "acp-gateway view launch v1";
inline constexpr int kLaunchSeconds = 300;

struct LaunchContext {
  std::string patientId;
  std::string purpose = "TREAT";
  std::string breakGlassReason;
  std::string userId;
  std::string userName;
};

struct LaunchGrant {
  Principal principal;  // the client that asked (as registered now, once redeemed)
  LaunchContext context;
  std::string jti;
  int64_t expiresAtMs = 0;
};

struct IssuedLaunch {
  std::string link;
  int64_t expiresAtMs = 0;
};

// What opening a link gave: ok with the grant; else the refusal, with what the link said when
// it was one of this gateway's (expired, opened before, its client changed: for the audit).
struct LaunchRedemption {
  Status status;
  std::optional<LaunchGrant> grant;
};

// Whether a role may make and open links: GP practices and urgent care.
inline bool mayLaunch(Role role) { return role == Role::kGpPractice || role == Role::kUrgentCare; }

}  // namespace acp::auth
