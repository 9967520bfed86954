#include "gateway/auth/token_service.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <utility>

#include "gateway/auth/base64url.h"
#include "gateway/auth/client_assertion.h"
#include "gateway/auth/keys.h"
#include "gateway/auth/jwk.h"
#include "gateway/core/ids.h"

namespace acp::auth {

namespace {

constexpr size_t kMaxTokenBytes = 8 * 1024;
constexpr const char* kRealm = "acp-gateway";

json::Value str(const std::string& s) { return json::Value::makeString(s); }
json::Value num(int64_t n) { return json::Value::makeNumber(std::to_string(n)); }

BearerCheck invalid(const char* reason) {
  BearerCheck c;
  c.failure = BearerFailure::kInvalid;
  c.reason = reason;
  return c;
}

bool isToken68Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

}  // namespace

std::optional<std::string_view> bearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  size_t i = kScheme.size();
  if (header[i] != ' ') return std::nullopt;
  while (i < header.size() && header[i] == ' ') ++i;
  std::string_view token = header.substr(i);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  size_t j = 0;
  while (j < token.size() && isToken68Char(token[j])) ++j;
  while (j < token.size() && token[j] == '=') ++j;
  if (j != token.size()) return std::nullopt;
  return token;
}

std::string wwwAuthenticate(const BearerCheck& check) {
  std::string out = std::string("Bearer realm=\"") + kRealm + "\"";
  if (check.failure == BearerFailure::kInvalid || check.failure == BearerFailure::kExpired) {
    out += ", error=\"invalid_token\", error_description=\"" + check.reason + "\"";
  }
  return out;
}

Result<Key> loadOrGenerateTokenKey(const std::string& pemPath) {
  if (pemPath.empty()) return generateKey(KeyType::kEcP384);
  return privateKeyFromPemFile(pemPath);
}

Result<std::unique_ptr<TokenService>> TokenService::create(Key signingKey,
                                                           TokenServiceOptions options) {
  if (!signingKey.isPrivate) return Status::invalid("auth.bad-key: the token key is not private");
  if (options.issuer.empty()) return Status::invalid("auth.bad-config: no issuer (base URL)");
  if (options.lifetimeSeconds < 30 || options.lifetimeSeconds > 3600) {
    return Status::invalid("auth.bad-config: the token lifetime must be 30 to 3600 seconds");
  }
  if (!options.nowMs) options.nowMs = [] { return nowMillis(); };
  signingKey.alg = jwsAlgName(jwsAlgFor(signingKey));
  auto pub = publicKeyOf(signingKey);
  if (!pub.isOk()) return pub.status();
  Key verifying = pub.take();
  verifying.kid = jwkThumbprint(verifying);
  verifying.alg = signingKey.alg;
  signingKey.kid = verifying.kid;
  // The sealing key: every gateway holding the same token key derives the same one.
  std::string pem = privateKeyPem(signingKey);
  if (pem.find("PRIVATE KEY") == std::string::npos)  // never a key from the label alone
    return Status::internal("auth.bad-key: the token key cannot be exported to derive the "
                            "sealing key");
  std::string material = "acp-gateway sealed statement v1\n" + pem;
  unsigned char digest[32];
  unsigned int size = 0;
  bool derived =
      EVP_Digest(material.data(), material.size(), digest, &size, EVP_sha256(), nullptr) == 1 &&
      size == sizeof digest;
  OPENSSL_cleanse(pem.data(), pem.size());
  OPENSSL_cleanse(material.data(), material.size());
  if (!derived) return Status::internal("auth.bad-key: the sealing key could not be derived");
  auto service = std::unique_ptr<TokenService>(
      new TokenService(std::move(signingKey), std::move(verifying), std::move(options)));
  service->sealKey_.assign(reinterpret_cast<const char*>(digest), sizeof digest);
  OPENSSL_cleanse(digest, sizeof digest);
  return service;
}

Result<IssuedToken> TokenService::issue(const Client& client, const ScopeSet& granted) const {
  int64_t now = options_.nowMs();
  int64_t iat = now / 1000;
  int64_t exp = iat + options_.lifetimeSeconds;
  IssuedToken t;
  t.jti = newUuid();
  t.scope = granted.toString();
  t.expiresIn = options_.lifetimeSeconds;
  t.expiresAtMs = exp * 1000;

  json::Value header = json::Value::makeObject();
  header.set("typ", str("at+jwt"));
  header.set("kid", str(signing_.kid));
  json::Value claims = json::Value::makeObject();
  claims.set("iss", str(options_.issuer));
  claims.set("aud", str(options_.issuer));
  claims.set("sub", str(client.clientId));
  claims.set("client_id", str(client.clientId));
  claims.set("organisation", str(client.organisation));
  claims.set("role", str(roleName(client.role)));
  claims.set("scope", str(t.scope));
  claims.set("jti", str(t.jti));
  claims.set("iat", num(iat));
  claims.set("exp", num(exp));
  auto jwt = signJws(header, claims, signing_, jwsAlgFor(signing_));
  if (!jwt.isOk()) return jwt.status();
  t.accessToken = jwt.take();
  return t;
}

BearerCheck TokenService::fromCache(const Principal& principal, int64_t now) const {
  BearerCheck c;
  if (principal.expiresAtMs + options_.clockSkewMs <= now) {
    c.failure = BearerFailure::kExpired;
    c.reason = "The access token has expired.";
    return c;
  }
  c.ok = true;
  c.failure = BearerFailure::kNone;
  c.principal = principal;
  return c;
}

BearerCheck TokenService::verify(std::string_view token) const {
  if (options_.maxCachedTokens == 0 || token.size() > kMaxTokenBytes) return verifyUncached(token);
  const std::string key(token);
  {
    std::shared_lock<std::shared_mutex> lock(cacheMutex_);
    auto it = verified_.find(key);
    if (it != verified_.end()) return fromCache(it->second, options_.nowMs());
  }
  BearerCheck check = verifyUncached(token);
  if (!check.ok) return check;
  std::unique_lock<std::shared_mutex> lock(cacheMutex_);
  if (verified_.size() >= options_.maxCachedTokens) {
    // Full: forget the expired ones; if that frees nothing, start again (a flood of valid
    // tokens costs only their verification, never memory without bound).
    const int64_t now = options_.nowMs();
    for (auto it = verified_.begin(); it != verified_.end();)
      it = it->second.expiresAtMs + options_.clockSkewMs <= now ? verified_.erase(it) : ++it;
    if (verified_.size() >= options_.maxCachedTokens) verified_.clear();
  }
  verified_.emplace(key, check.principal);
  return check;
}

BearerCheck TokenService::verifyUncached(std::string_view token) const {
  if (token.size() > kMaxTokenBytes) return invalid("The access token is too large.");
  JwsLimits limits;
  limits.maxCompactBytes = kMaxTokenBytes;
  auto jws = parseJws(token, {jwsAlgFor(verifying_)}, limits);
  if (!jws.isOk()) return invalid("The access token is not a token of this gateway.");
  const json::Value& header = jws.value().header;
  if (header.getString("typ") != "at+jwt") {
    return invalid("The access token is not a token of this gateway.");
  }
  if (!jws.value().kid.empty() && jws.value().kid != verifying_.kid) {
    return invalid("The access token was signed with another key.");
  }
  if (!verifyJws(jws.value(), verifying_)) {
    return invalid("The access token's signature does not verify.");
  }
  const json::Value& claims = jws.value().payload;
  if (claims.getString("iss") != options_.issuer || claims.getString("aud") != options_.issuer) {
    return invalid("The access token was issued for another server.");
  }
  Principal p;
  p.clientId = claims.getString("sub");
  p.organisation = claims.getString("organisation");
  p.role = roleFromName(claims.getString("role"));
  p.tokenId = claims.getString("jti");
  const json::Value* scope = claims.find("scope");
  const json::Value* iat = claims.find("iat");
  const json::Value* exp = claims.find("exp");
  int64_t iatMs = iat ? numericDateMs(*iat) : -1;
  int64_t expMs = exp ? numericDateMs(*exp) : -1;
  if (p.clientId.empty() || claims.getString("client_id") != p.clientId ||
      p.role == Role::kNone || p.tokenId.empty() || !scope || !scope->isString() ||
      iatMs < 0 || expMs < 0) {
    return invalid("The access token's claims are incomplete.");
  }
  p.scopes = ScopeSet::parse(scope->text());
  p.expiresAtMs = expMs;
  int64_t now = options_.nowMs();
  if (iatMs > now + options_.clockSkewMs) return invalid("The access token is not valid yet.");
  if (expMs + options_.clockSkewMs <= now) {
    BearerCheck c;
    c.failure = BearerFailure::kExpired;
    c.reason = "The access token has expired.";
    return c;
  }
  BearerCheck c;
  c.ok = true;
  c.failure = BearerFailure::kNone;
  c.principal = std::move(p);
  return c;
}

namespace {

constexpr size_t kNonceBytes = 12, kTagBytes = 16;
constexpr size_t kMaxSealedBytes = 4 * 1024;

// AES-256-GCM of `in` (encrypt or decrypt) with `aad`; false on any failure (a wrong tag too).
bool aesGcm(bool encrypt, const std::string& key, const unsigned char* nonce,
            const std::string& aad, const unsigned char* in, size_t n, unsigned char* out,
            unsigned char* tag) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                     EVP_CIPHER_CTX_free);
  int len = 0;
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  const auto* a = reinterpret_cast<const unsigned char*>(aad.data());
  if (!ctx || key.size() != 32) return false;
  if (encrypt) {
    return EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, nonce) == 1 &&
           EVP_EncryptUpdate(ctx.get(), nullptr, &len, a, static_cast<int>(aad.size())) == 1 &&
           EVP_EncryptUpdate(ctx.get(), out, &len, in, static_cast<int>(n)) == 1 &&
           EVP_EncryptFinal_ex(ctx.get(), out + len, &len) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
  }
  return EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, nonce) == 1 &&
         EVP_DecryptUpdate(ctx.get(), nullptr, &len, a, static_cast<int>(aad.size())) == 1 &&
         EVP_DecryptUpdate(ctx.get(), out, &len, in, static_cast<int>(n)) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) == 1 &&
         EVP_DecryptFinal_ex(ctx.get(), out + len, &len) == 1;
}

}  // namespace

Result<std::string> TokenService::seal(const std::string& purpose, json::Value claims,
                                       int lifetimeSeconds, int64_t* expiresAtMs) const {
  int64_t iat = options_.nowMs() / 1000;
  claims.set("iat", num(iat));
  claims.set("exp", num(iat + lifetimeSeconds));
  if (expiresAtMs) *expiresAtMs = (iat + lifetimeSeconds) * 1000;
  std::string plain = json::write(claims);
  // What unseal() would refuse is never issued: text that is not UTF-8, or too long.
  json::Value check;
  json::ParseError err;
  if (!json::parse(plain, check, err))
    return Status::invalid("auth.bad-statement: its values are not UTF-8 text");
  if ((kNonceBytes + plain.size() + kTagBytes + 2) / 3 * 4 > kMaxSealedBytes)
    return Status::invalid("auth.bad-statement: too long");
  std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(bytes, kNonceBytes) != 1 ||
      !aesGcm(true, sealKey_, bytes, purpose, reinterpret_cast<const unsigned char*>(plain.data()),
              plain.size(), bytes + kNonceBytes, bytes + kNonceBytes + plain.size()))
    return Status::internal("auth.seal-failed");
  return base64UrlEncode(out);
}

Result<json::Value> TokenService::unseal(std::string_view sealed, const std::string& purpose,
                                         json::Value* expired) const {
  const Status invalid = Status::invalid("auth.bad-statement: not a statement of this gateway");
  if (sealed.size() > kMaxSealedBytes) return invalid;
  std::optional<std::string> raw = base64UrlDecode(sealed);
  if (!raw || raw->size() <= kNonceBytes + kTagBytes) return invalid;
  size_t n = raw->size() - kNonceBytes - kTagBytes;
  std::string plain(n, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(raw->data());
  if (!aesGcm(false, sealKey_, bytes, purpose, bytes + kNonceBytes, n,
              reinterpret_cast<unsigned char*>(plain.data()), bytes + kNonceBytes + n))
    return invalid;
  json::Value claims;
  json::ParseError err;
  if (!json::parse(plain, claims, err) || !claims.isObject()) return invalid;
  const json::Value* iat = claims.find("iat");
  const json::Value* exp = claims.find("exp");
  int64_t iatMs = iat ? numericDateMs(*iat) : -1;
  int64_t expMs = exp ? numericDateMs(*exp) : -1;
  if (iatMs < 0 || expMs < 0) return invalid;
  int64_t now = options_.nowMs();
  if (iatMs > now + options_.clockSkewMs) return invalid;
  if (expMs + options_.clockSkewMs <= now) {
    if (expired) *expired = std::move(claims);
    return Status::gone("auth.statement-expired");
  }
  return claims;
}

json::Value TokenService::jwks() const {
  json::Value jwk = publicJwk(verifying_);
  jwk.set("use", str("sig"));
  json::Value keys = json::Value::makeArray();
  keys.push(std::move(jwk));
  json::Value set = json::Value::makeObject();
  set.set("keys", std::move(keys));
  return set;
}

}  // namespace acp::auth
