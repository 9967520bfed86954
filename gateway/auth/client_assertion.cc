#include "gateway/auth/client_assertion.h"

#include <vector>

#include "gateway/auth/jws.h"

namespace acp::auth {

namespace {

AssertionCheck refuse(AssertionCheck& c, const char* description) {
  c.ok = false;
  c.error = OAuthError{400, "invalid_client", description};
  return c;
}

bool audienceMatches(const json::Value* aud, const std::string& tokenUrl) {
  if (!aud) return false;
  if (aud->isString()) return aud->text() == tokenUrl;
  if (!aud->isArray() || aud->items().size() > 16) return false;
  for (const auto& a : aud->items()) {
    if (a.isString() && a.text() == tokenUrl) return true;
  }
  return false;
}

}  // namespace

int64_t numericDateMs(const json::Value& v) {
  if (!v.isNumber()) return -1;
  const std::string& t = v.text();
  size_t i = 0;
  int64_t seconds = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    if (i >= 12) return -1;  // past the year 33000: not a date we accept
    seconds = seconds * 10 + (t[i] - '0');
    ++i;
  }
  if (i == 0) return -1;
  int64_t ms = 0;
  if (i < t.size()) {
    if (t[i] != '.') return -1;  // sign or exponent
    ++i;
    int digits = 0;
    for (; i < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      if (digits < 3) ms = ms * 10 + (t[i] - '0');
      ++digits;
    }
    if (digits == 0) return -1;
    for (; digits < 3; ++digits) ms *= 10;
  }
  return seconds * 1000 + ms;
}

AssertionCheck checkClientAssertion(std::string_view assertion, const std::string& clientIdParam,
                                    const ClientSet& clients, ReplayGuard& guard,
                                    const AssertionPolicy& policy, int64_t nowMs) {
  AssertionCheck c;
  auto jws = parseJws(assertion, {JwsAlg::kRS384, JwsAlg::kES384});
  if (!jws.isOk()) {
    if (jws.status().message().rfind("auth.jws-alg", 0) == 0) {
      return refuse(c, "The client assertion must be signed with RS384 or ES384.");
    }
    return refuse(c, "The client assertion is not a well-formed signed JWT.");
  }
  const json::Value& claims = jws.value().payload;

  const json::Value* iss = claims.find("iss");
  const json::Value* sub = claims.find("sub");
  if (!iss || !iss->isString() || !sub || !sub->isString() || iss->text().empty()) {
    return refuse(c, "The client assertion needs iss and sub, both the client id.");
  }
  c.claimedClientId = iss->text();
  if (iss->text() != sub->text()) {
    return refuse(c, "The client assertion's iss and sub must both be the client id.");
  }
  if (!clientIdParam.empty() && clientIdParam != iss->text()) {
    return refuse(c, "The client_id parameter does not match the client assertion.");
  }
  const Client* client = clients.find(iss->text());
  if (!client || !client->enabled) return refuse(c, "Unknown or disabled client.");

  bool kidKnown = jws.value().kid.empty();
  bool fits = false;
  bool verified = false;
  for (const Key& key : client->keys) {
    if (!jws.value().kid.empty() && key.kid != jws.value().kid) continue;
    kidKnown = true;
    if (!keyFits(key, jws.value().alg)) continue;
    fits = true;
    if (verifyJws(jws.value(), key)) {
      verified = true;
      break;
    }
  }
  if (!kidKnown) return refuse(c, "No key registered for this client has the assertion's kid.");
  if (!fits) return refuse(c, "No key registered for this client fits the assertion's alg.");
  if (!verified) return refuse(c, "The client assertion's signature does not verify.");

  if (!audienceMatches(claims.find("aud"), policy.tokenUrl)) {
    return refuse(c, "The client assertion's aud must be the token endpoint URL.");
  }
  const json::Value* exp = claims.find("exp");
  int64_t expMs = exp ? numericDateMs(*exp) : -1;
  if (expMs < 0) return refuse(c, "The client assertion needs exp.");
  if (expMs + policy.clockSkewMs <= nowMs) return refuse(c, "The client assertion has expired.");
  if (expMs > nowMs + policy.maxLifetimeMs + policy.clockSkewMs) {
    return refuse(c, "The client assertion's exp is more than five minutes ahead.");
  }
  for (const char* name : {"nbf", "iat"}) {
    if (const json::Value* t = claims.find(name)) {
      int64_t ms = numericDateMs(*t);
      if (ms < 0) return refuse(c, "The client assertion's nbf or iat is not a NumericDate.");
      if (ms > nowMs + policy.clockSkewMs) {
        return refuse(c, "The client assertion's nbf or iat is in the future.");
      }
    }
  }
  const json::Value* jti = claims.find("jti");
  if (!jti || !jti->isString() || jti->text().empty() || jti->text().size() > 256) {
    return refuse(c, "The client assertion needs a jti (1 to 256 characters).");
  }

  auto first = guard.firstUse(client->clientId, jti->text(), expMs + policy.clockSkewMs);
  if (!first.isOk()) {
    c.error = OAuthError{500, "server_error", "The client assertion could not be checked."};
    return c;
  }
  if (!first.value()) return refuse(c, "This client assertion (its jti) was already used.");

  c.ok = true;
  c.client = client;
  c.jti = jti->text();
  c.expiresAtMs = expMs;
  return c;
}

}  // namespace acp::auth
