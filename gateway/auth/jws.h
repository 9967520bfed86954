// Compact JWS (RFC 7515) with the two algorithms SMART backend services allow: RS384
// (RSASSA-PKCS1-v1_5 with SHA-384) and ES384 (ECDSA P-384 with SHA-384; the signature is the
// raw 96-byte r||s of RFC 7518 §3.4, never DER).
//
// parseJws() is strict and verifies nothing yet: exactly three parts, each canonical
// base64url (base64url.h); header and payload are JSON objects read by the hardened reader
// (core/json.h: depth, duplicate members, UTF-8); sizes capped (JwsLimits); "alg" must be one
// of the caller's allowed algorithms — so "none", HS256/384/512 (a public key used as an HMAC
// secret) and anything else are refused before any key is touched; a "crit" header is
// refused (no extension is understood); "kid", when present, is a string.
// verifyJws() refuses a key whose type does not fit the algorithm (RS384 with an EC key and
// the reverse) or whose JWK "alg" names another algorithm, then checks the signature.
// Keys, "jku", "jwk", "x5u" and "x5c" headers are never used: keys come from the caller.
// Pure functions; thread-safe.
// Errors: parseJws: Status::invalid "auth.jws-malformed: <why>" / "auth.jws-alg: <why>";
// signJws: Status::invalid "auth.bad-key: ..." / Status::internal "auth.sign-failed: ...".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/auth/keys.h"
#include "gateway/core/json.h"
#include "gateway/core/status.h"

namespace acp::auth {

enum class JwsAlg { kRS384, kES384 };

const char* jwsAlgName(JwsAlg alg);
std::optional<JwsAlg> jwsAlgFromName(std::string_view name);
// The algorithm a key signs with: RS384 for RSA, ES384 for EC P-384.
JwsAlg jwsAlgFor(const Key& key);
// Whether `key` may be used with `alg` (its type, and its JWK "alg" when it has one).
bool keyFits(const Key& key, JwsAlg alg);

struct JwsLimits {
  size_t maxCompactBytes = 16 * 1024;
  size_t maxHeaderBytes = 2 * 1024;   // decoded
  size_t maxPayloadBytes = 8 * 1024;  // decoded
};

struct Jws {
  json::Value header;       // a JSON object
  json::Value payload;      // a JSON object (the JWT claims)
  JwsAlg alg = JwsAlg::kRS384;
  std::string kid;          // the header's "kid", "" when absent
  std::string signingInput; // "<header b64>.<payload b64>"
  std::string signature;    // decoded bytes
};

Result<Jws> parseJws(std::string_view compact, const std::vector<JwsAlg>& allowed,
                     const JwsLimits& limits = {});

// True when `key` fits jws.alg and the signature is valid for jws.signingInput.
bool verifyJws(const Jws& jws, const Key& key);

// Signs `payload` with a private key: the header is {"alg":...} followed by the members of
// `header` (typ, kid...; an "alg" there is ignored). kInvalid when the key is not private or
// does not fit `alg`; kInternal when OpenSSL fails.
Result<std::string> signJws(const json::Value& header, const json::Value& payload,
                            const Key& privateKey, JwsAlg alg);

}  // namespace acp::auth
