// SmartAuth — everything SMART backend services needs, built from the options in one call:
// the client registry, the gateway's token key and TokenService, the replay guard, and the
// two endpoints (smart_endpoints.h) plus bearer-token authentication for every other route.
//
// Configuration keys this expects app/options to read (docs/configuration.md, docs/security.md):
//   gateway.auth.mode                  "smart" turns this on
//   gateway.auth.clients               the client registry file (required in smart mode)
//   gateway.auth.tokenKey              PEM private key (EC P-384 or RSA ≥ 2048) signing access
//                                      tokens; optional — without it a key is generated at
//                                      start-up and tokens die with a restart, and instances
//                                      do not accept each other's tokens
//   gateway.auth.tokenLifetimeSeconds  access-token lifetime, 30 … 3600, default 300
//   gateway.http.baseUrl               required in smart mode: the token URL
//                                      (baseUrl + "/token") is what every assertion's aud must
//                                      name exactly, and the issuer of the gateway's tokens.
//                                      Never derive it from the Host header: a client could
//                                      then replay an assertion made for another server.
// Wiring, in app/ (the store is the replay ledger; see auth/replay_guard.h):
//   auto guard = std::make_shared<auth::FunctionReplayGuard>(
//       [store, clock](const std::string& c, const std::string& j, int64_t until) {
//         return store->firstUse(c, j, until, clock()); });
//   auto smart = auth::SmartAuth::create(smartOptions, guard);   // error → EXIT_CONFIG
//   GET  /.well-known/smart-configuration → smart->configuration(types)
//   POST /token                           → smart->token({body, contentType, authorization})
//   any other route                       → smart->authenticate(Authorization header value):
//                                           !ok → 401 with WWW-Authenticate:
//                                           wwwAuthenticate(check), OperationOutcome "login"
//                                           (kExpired: "expired")
// The registry file is re-checked for changes (a stat) at most once per reloadIntervalMs,
// by token() and authenticate() themselves; onReload reports each reload and each invalid
// new file (the registry in force then stays).
// authenticate() also refuses a token whose client has since been removed or disabled, or
// whose role or organisation has changed in the registry, and narrows the token's scopes to
// what the registry allows now: a registry change takes effect at once, not at token expiry.
// Thread-safety: every method may be called from any thread at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/auth/client_registry.h"
#include "gateway/auth/replay_guard.h"
#include "gateway/auth/smart_endpoints.h"
#include "gateway/auth/token_service.h"
#include "gateway/auth/view_launch.h"
#include "gateway/core/json.h"
#include "gateway/core/status.h"

namespace acp::auth {

struct SmartAuthOptions {
  std::string baseUrl;                // gateway.http.baseUrl (no trailing slash)
  std::string clientsFile;            // gateway.auth.clients
  std::string tokenKeyFile;           // gateway.auth.tokenKey ("" = generate)
  int tokenLifetimeSeconds = 300;     // gateway.auth.tokenLifetimeSeconds
  int clockSkewSeconds = 30;          // tolerated clock difference with clients
  int reloadIntervalMs = 1000;        // how often the registry file is stat'ed at most
  std::function<int64_t()> nowMs;     // ms since the epoch; empty: the system clock
  // Called after a reload attempt that found a change: ok (the new registry is in force) or
  // the error (the old one stays). May be empty.
  std::function<void(const Status&)> onReload;
};

class SmartAuth {
 public:
  // kInvalid / kNotFound with a message naming the key or file at fault.
  static Result<std::unique_ptr<SmartAuth>> create(SmartAuthOptions options,
                                                   std::shared_ptr<ReplayGuard> guard);

  json::Value configuration(const std::vector<std::string>& resourceTypes = {}) const;
  TokenResult token(const TokenRequest& request);
  // `authorizationHeader`: the Authorization header value ("" when absent).
  BearerCheck authenticate(std::string_view authorizationHeader);

  // Checks the registry files now when reloadIntervalMs has passed since the last check.
  void reloadClientsIfDue();

  // The clinician view's launch links (view_launch.h). issueLaunch: the sealed link for `who`
  // (a GP practice or urgent care) and `context`. redeemLaunch: its grant, once — kInvalid when
  // it is not one of this gateway's, kGone when it has expired or was opened before,
  // kPrecondition when its client is no longer registered as it was (or may not launch).
  Result<IssuedLaunch> issueLaunch(const Principal& who, const LaunchContext& context) const;
  LaunchRedemption redeemLaunch(std::string_view link);

  const std::string& tokenUrl() const { return policy_.tokenUrl; }
  std::shared_ptr<const ClientSet> clients() const { return registry_->snapshot(); }
  const TokenService& tokens() const { return *tokens_; }

 private:
  SmartAuth() = default;

  SmartAuthOptions options_;
  std::unique_ptr<ClientRegistry> registry_;
  std::unique_ptr<TokenService> tokens_;
  std::shared_ptr<ReplayGuard> guard_;
  AssertionPolicy policy_;
  std::atomic<int64_t> lastCheckMs_{0};
};

}  // namespace acp::auth
