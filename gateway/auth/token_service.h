// TokenService — the gateway's own access tokens: issued at POST /token to a client whose
// assertion was accepted, and checked on every request that carries one.
//
// An access token is a JWT (RFC 9068 shape) signed with the gateway's key: header
// {"alg":"ES384" (or RS384 for an RSA key),"typ":"at+jwt","kid":<RFC 7638 thumbprint>},
// claims iss and aud (both the gateway's base URL), sub and client_id (the client id),
// organisation (ODS code), role (registry role name), scope (the granted scopes), jti (a
// random UUID), iat and exp (iat + lifetime). The gateway key is loaded from a PEM file
// (gateway.auth.tokenKey: EC P-384 or RSA ≥ 2048, unencrypted), so that several gateway
// instances accept each other's tokens and tokens survive a restart; without one a P-384
// key is generated at start-up, and every token then dies with the process.
//
// verify() checks, in this order: size (8 KiB), the JWS form with the gateway's algorithm
// only, typ at+jwt, kid (when present) the gateway key's, the signature, then iss, aud, the
// claims' types, iat not in the future and exp not passed (both with clockSkew). Only a token
// whose signature verifies can be called expired; everything else is kInvalid.
//
// Verified tokens are remembered until they expire (at most maxCachedTokens of them, keyed
// by the whole token): a client sends the same token with every request for minutes, and
// checking an ES384 signature costs about half a millisecond of CPU — most of an
// authenticated read. A remembered token is the same bytes, so its signature and claims are
// what they were; only its expiry is checked again (and SmartAuth still checks the client's
// registration on every request). A token that fails is never remembered.
// Thread-safety: issue() and verify() may be called from any thread at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <shared_mutex>
#include <unordered_map>

#include "gateway/auth/client_registry.h"
#include "gateway/auth/jws.h"
#include "gateway/auth/keys.h"
#include "gateway/auth/principal.h"
#include "gateway/auth/scopes.h"
#include "gateway/core/json.h"
#include "gateway/core/status.h"

namespace acp::auth {

struct TokenServiceOptions {
  std::string issuer;              // the gateway's base URL (no trailing slash): iss and aud
  int lifetimeSeconds = 300;       // gateway.auth.tokenLifetimeSeconds
  int64_t clockSkewMs = 30000;
  std::function<int64_t()> nowMs;  // ms since the epoch; empty: the system clock
  size_t maxCachedTokens = 10000;  // verified tokens remembered; 0: verify every time
};

struct IssuedToken {
  std::string accessToken;
  int expiresIn = 0;  // seconds
  std::string scope;  // as granted
  std::string jti;
  int64_t expiresAtMs = 0;
};

enum class BearerFailure {
  kNone,
  kMissing,  // no Authorization header, or not the Bearer scheme
  kInvalid,  // malformed, wrong signature or issuer, unknown or changed client...
  kExpired,  // a genuine token whose exp has passed
};

struct BearerCheck {
  bool ok = false;
  BearerFailure failure = BearerFailure::kMissing;
  std::string reason;  // a fixed text (never the token's content), for error_description
  Principal principal; // when ok
};

// The token of an "Authorization: Bearer <token>" header value (scheme case-insensitive,
// token68 syntax); nullopt for anything else.
std::optional<std::string_view> bearerToken(std::string_view authorizationHeader);

// The WWW-Authenticate value for a 401 answer (RFC 6750 §3): Bearer realm="acp-gateway", and
// error="invalid_token" with the reason unless the token was missing.
std::string wwwAuthenticate(const BearerCheck& check);

// The key in gateway.auth.tokenKey, or a new P-384 key when `pemPath` is "".
Result<Key> loadOrGenerateTokenKey(const std::string& pemPath);

class TokenService {
 public:
  // kInvalid when the key is not a private key or the issuer is empty or the lifetime is not
  // between 30 and 3600 s.
  static Result<std::unique_ptr<TokenService>> create(Key signingKey, TokenServiceOptions options);

  Result<IssuedToken> issue(const Client& client, const ScopeSet& granted) const;
  BearerCheck verify(std::string_view token) const;

  // Sealed statements (the clinician view's launch links, auth/view_launch.h): `claims` with
  // iat and exp (iat + `lifetimeSeconds`, returned in `expiresAtMs`) added, encrypted and
  // authenticated with AES-256-GCM under a key derived from the gateway's token key (SHA-256 of
  // a fixed label and the key's PKCS#8 PEM), the associated data naming `purpose`. So only a
  // gateway holding the same key makes or opens one, nobody else reads what it holds, and it
  // is nothing like an access token (not a JWS). Text: base64url(nonce 12 | ciphertext | tag).
  Result<std::string> seal(const std::string& purpose, json::Value claims, int lifetimeSeconds,
                           int64_t* expiresAtMs = nullptr) const;
  // The claims of a sealed statement of this key for `purpose`: kInvalid for anything else (a
  // fixed message, never the text's content), kGone when it opens but its exp has passed (its
  // claims then in `*expired`, when given: what it was, for the audit). seal() refuses
  // (kInvalid) claims that are not UTF-8 text or would make a text over 4 KiB.
  Result<json::Value> unseal(std::string_view sealed, const std::string& purpose,
                             json::Value* expired = nullptr) const;

  // The public JWK Set of the gateway key ({"keys":[{..., "kid", "alg", "use":"sig"}]}), for
  // services that want to check the gateway's tokens themselves.
  json::Value jwks() const;
  const std::string& issuer() const { return options_.issuer; }
  int lifetimeSeconds() const { return options_.lifetimeSeconds; }
  int64_t now() const { return options_.nowMs(); }

 private:
  TokenService(Key signing, Key verifying, TokenServiceOptions options)
      : signing_(std::move(signing)), verifying_(std::move(verifying)),
        options_(std::move(options)) {}
  BearerCheck verifyUncached(std::string_view token) const;
  // The expiry check of verify(): the remembered principal, or kExpired.
  BearerCheck fromCache(const Principal& principal, int64_t now) const;
  Key signing_;
  Key verifying_;  // the public half, with kid and alg set
  std::string sealKey_;  // 32 bytes, derived from signing_ (seal/unseal)
  TokenServiceOptions options_;
  mutable std::shared_mutex cacheMutex_;
  mutable std::unordered_map<std::string, Principal> verified_;  // token → its principal
};

}  // namespace acp::auth
