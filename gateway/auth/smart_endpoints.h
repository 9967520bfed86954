// The two SMART backend-services endpoints as pure functions the HTTP layer routes to:
//   GET  /.well-known/smart-configuration  → smartConfiguration()
//   POST /token                            → handleTokenRequest()
//
// POST /token (RFC 6749 §4.4 client credentials; RFC 7523 private_key_jwt client
// authentication; SMART App Launch 2 backend services). Every answer is JSON with
// Cache-Control: no-store and Pragma: no-cache (the caller sets Content-Type
// application/json). Checks, in this order, and the answer to each failure:
//   Content-Type not application/x-www-form-urlencoded       400 invalid_request
//   body malformed (escape, UTF-8, repeated parameter, size)  400 invalid_request
//   grant_type missing                                        400 invalid_request
//   grant_type not client_credentials                         400 unsupported_grant_type
//   an Authorization header without a client assertion        401 invalid_client (with
//                                                             WWW-Authenticate of its scheme)
//   two authentication methods (Authorization header or client_secret beside the assertion)
//                                                             400 invalid_request
//   client_assertion_type missing or not
//     urn:ietf:params:oauth:client-assertion-type:jwt-bearer  400 invalid_request
//   client_assertion missing                                  400 invalid_request
//   the assertion refused (client_assertion.h: alg, iss/sub, unknown client, kid, signature,
//     aud, exp, nbf/iat, jti missing or replayed)             400 invalid_client
//   over mutual TLS: the connection's client certificate names no organisation, or another
//     than the client's registered one (its jti is then used) 400 invalid_client
//   the replay guard failed                                   500 server_error
//   scope missing (RFC 6749 §3.3: no default scope here)      400 invalid_scope
//   a requested scope that is not a valid system scope        400 invalid_scope
//   nothing requested is allowed for this client              400 invalid_scope
// Success: 200 {"access_token", "token_type":"bearer", "expires_in", "scope"}, the scope
// being ScopeSet::grant of the requested scopes by the client's allowed scopes (it may be
// narrower than asked; SMART lets the client see that in "scope").
// Thread-safety: pure functions of their arguments.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/auth/client_assertion.h"
#include "gateway/auth/client_registry.h"
#include "gateway/auth/replay_guard.h"
#include "gateway/auth/token_service.h"
#include "gateway/core/json.h"

namespace acp::auth {

constexpr const char* kJwtBearerAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// The .well-known/smart-configuration document: token_endpoint (baseUrl + "/token"),
// token_endpoint_auth_methods_supported ["private_key_jwt"],
// token_endpoint_auth_signing_alg_values_supported ["RS384","ES384"], grant_types_supported
// ["client_credentials"], scopes_supported (system/*.read, system/*.rs, system/*.write,
// system/*.cud and, for each of `resourceTypes`, system/<T>.read and system/<T>.rs) and
// capabilities ["client-confidential-asymmetric","permission-v1","permission-v2"].
// No "issuer" or "jwks_uri" (no OpenID Connect) and no authorization endpoint (no app launch).
json::Value smartConfiguration(const std::string& baseUrl,
                               const std::vector<std::string>& resourceTypes = {});

struct TokenRequest {
  std::string_view body;
  std::string contentType;    // the Content-Type header value
  std::string authorization;  // the Authorization header value, "" when absent
  // The connection's verified client certificate (mutual TLS): the organisation (ODS code) it
  // names and its subject; both "" when the request came without one.
  std::string certificateOrganisation;
  std::string certificateSubject;
};

struct TokenResult {
  int status = 200;
  json::Value body;
  std::vector<std::pair<std::string, std::string>> headers;
  // For the access log and audit — never the token itself:
  bool issued = false;
  // The authenticated client; when refused, the one the assertion claimed (the client's own
  // text: quote or escape it before logging) or "".
  std::string clientId;
  std::string scope;     // granted
  std::string tokenId;   // the access token's jti
  std::string error;     // the OAuth error code when refused
  std::string reason;    // its description
};

struct TokenEndpoint {
  const ClientSet& clients;
  ReplayGuard& guard;
  const TokenService& tokens;
  AssertionPolicy policy;  // policy.tokenUrl: the exact aud assertions must name
};

TokenResult handleTokenRequest(const TokenRequest& request, const TokenEndpoint& endpoint);

}  // namespace acp::auth
