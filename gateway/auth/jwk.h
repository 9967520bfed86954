// JWK and JWK Set (RFC 7517) ⇄ Key: the public keys a client registers, and the gateway's own
// public key as a JWK (its kid is the RFC 7638 thumbprint).
//
// Accepted JWKs: {"kty":"RSA","n","e"} (n of at least 2048 bits) and
// {"kty":"EC","crv":"P-384","x","y"} (a point on the curve), with optional "kid", "alg"
// (RS384 for RSA, ES384 for EC; it then restricts the key to that algorithm), "use" (must be
// "sig") and "key_ops" (must include "verify"). Private members ("d", "p", "q", "dp", "dq",
// "qi") are refused: a registry holds public keys only. Members are checked for their JSON
// type; the base64url values strictly (base64url.h).
// In a JWK Set, keys whose "kty" or "crv" is not supported here are skipped (RFC 7517 §5);
// a supported key that is malformed is an error, and so is a set with no usable key.
// Pure functions; thread-safe.
// Errors: Status::invalid "auth.bad-jwk: <why>" (with the key's index in a set).
#pragma once

#include <string>
#include <vector>

#include "gateway/auth/keys.h"
#include "gateway/core/json.h"
#include "gateway/core/status.h"

namespace acp::auth {

Result<Key> keyFromJwk(const json::Value& jwk);
// {"keys":[...]}.
Result<std::vector<Key>> keysFromJwks(const json::Value& jwks);

// The public JWK of a key: kty and n/e or crv/x/y, then kid and alg when the key has them.
json::Value publicJwk(const Key& key);

// RFC 7638 JWK thumbprint (SHA-256 of the required members in order), base64url.
std::string jwkThumbprint(const Key& key);

}  // namespace acp::auth
