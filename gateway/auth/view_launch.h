// Launch links of the clinician view (docs/clinician-view.md, "Opening the page from a clinical
// system"): a GP or urgent-care system, authenticated as for any request, asks for a link to
// one child's page (POST /view/launch); the clinician's browser opens it without a token or a
// client certificate (GET /view/launch/<link>). The link is a statement signed with the
// gateway's token key (TokenService::signStatement, typ "acp-view-launch+jwt": never an access
// token), so any instance sharing the key redeems it, holding:
//   client_id, organisation, role, scope — who asked (the page is built for them, with their
//       access: their relationships with the child, re-checked when the link is opened);
//   patient — the gateway's Patient id the link is for, nothing else;
//   purpose, break_glass_reason — TREAT, or ETREAT with the stated reason (urgent care);
//   user_id, user_name — the clinician, as the system says (recorded in the AuditEvent);
//   jti, iat, exp — a link lives `kLaunchSeconds` and opens once: its jti is recorded as used
//       in the replay ledger (the store's, shared by every instance) when it is opened.
// It holds no NHS number or name (the patient id is the gateway's own).
#pragma once

#include <cstdint>
#include <string>

#include "gateway/auth/principal.h"

namespace acp::auth {

inline constexpr const char* kLaunchType = "acp-view-launch+jwt";
inline constexpr int kLaunchSeconds = 300;

struct LaunchContext {
  std::string patientId;
  std::string purpose = "TREAT";
  std::string breakGlassReason;
  std::string userId;
  std::string userName;
};

struct LaunchGrant {
  Principal principal;  // the client that asked, as registered now
  LaunchContext context;
  std::string jti;
  int64_t expiresAtMs = 0;
};

}  // namespace acp::auth
