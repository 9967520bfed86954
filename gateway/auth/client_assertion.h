// Checking a client assertion (RFC 7523 private_key_jwt, as SMART backend services profile
// it) — the client's proof of who it is at POST /token.
//
// In this order, each failure answered 400 invalid_client (SMART: an assertion problem is a
// client-authentication failure) with a fixed description:
//   1. a compact JWS whose "alg" is RS384 or ES384 (jws.h: never none or HS*);
//   2. "iss" and "sub" present, equal, and naming a registered, enabled client; a client_id
//      form parameter, when sent, equal to them too;
//   3. a registered key of that client that fits the algorithm (and has the header's "kid"
//      when there is one) verifies the signature;
//   4. "aud" is the token URL (a string, or an array holding it), exactly;
//   5. "exp" present, not passed (clockSkew allowed) and at most maxLifetime (300 s) ahead
//      (plus clockSkew); "nbf" and "iat", when present, not in the future (clockSkew);
//   6. "jti" present (1 to 256 characters) and never used before by this client: recorded in
//      the ReplayGuard only now, after everything else held, so a forged or expired assertion
//      cannot use up a jti. A guard failure is answered 500 server_error (fail closed).
// Thread-safety: a pure function of its arguments (the guard is thread-safe).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/auth/client_registry.h"
#include "gateway/auth/oauth_error.h"
#include "gateway/auth/replay_guard.h"
#include "gateway/core/json.h"

namespace acp::auth {

struct AssertionPolicy {
  std::string tokenUrl;             // the exact "aud" expected
  int64_t maxLifetimeMs = 300000;   // exp at most this far ahead (SMART: five minutes)
  int64_t clockSkewMs = 30000;      // tolerated difference between the client's clock and ours
};

struct AssertionCheck {
  bool ok = false;
  OAuthError error;                // when !ok
  std::string claimedClientId;     // the assertion's iss when it could be read (for logs:
                                   // unchecked client text, to be quoted or escaped there)
  const Client* client = nullptr;  // when ok; owned by the ClientSet passed in
  std::string jti;
  int64_t expiresAtMs = 0;
};

// `clientIdParam` is the client_id form parameter ("" when absent).
AssertionCheck checkClientAssertion(std::string_view assertion, const std::string& clientIdParam,
                                    const ClientSet& clients, ReplayGuard& guard,
                                    const AssertionPolicy& policy, int64_t nowMs);

// A JWT NumericDate (seconds since the epoch, a non-negative JSON number without exponent)
// in milliseconds; -1 when `v` is not one.
int64_t numericDateMs(const json::Value& v);

}  // namespace acp::auth
