// Fuzz target: the SMART client-assertion check (gateway/auth/client_assertion.h), which
// POST /token runs on every signed JWT a system presents to get an access token.
// Input: byte 0 chooses how the rest is used —
//   even: the rest is the assertion as sent (nothing an attacker without the key can make
//         may be accepted);
//   odd:  the rest is the JWT claims as JSON text, signed here with the registered client's
//         own key (ES384), so the claim rules behind the signature are reached.
// Contract: never a crash; a refusal is a 400 or 401 with an OAuth error code; an accepted
// assertion was signed with the client's key, names the client as iss and sub, has the
// token endpoint as aud, expires within five minutes (plus the allowed clock skew) and has
// a jti that is accepted once only.
#include <string>
#include <vector>

#include "gateway/auth/client_assertion.h"
#include "gateway/auth/client_registry.h"
#include "gateway/auth/jws.h"
#include "gateway/auth/keys.h"
#include "gateway/auth/replay_guard.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace acp;
constexpr int64_t kNow = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr const char* kClient = "fuzz-client";

struct Registered {
  auth::Key privateKey;
  std::unique_ptr<auth::ClientSet> clients;
};

const Registered& registered() {
  static Registered r = [] {
    Registered out;
    auto key = auth::generateKey(auth::KeyType::kEcP384);
    fuzz::check(key.isOk(), "a key");
    out.privateKey = key.take();
    auto pub = auth::publicKeyOf(out.privateKey);
    fuzz::check(pub.isOk(), "its public half");
    auth::Client client;
    client.clientId = kClient;
    client.organisation = "RX8";
    client.role = auth::Role::kSourceSystem;
    client.keys.push_back(pub.take());
    client.keys.back().kid = "k1";
    out.clients = std::make_unique<auth::ClientSet>(std::vector<auth::Client>{client});
    return out;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Registered& reg = registered();
  auth::AssertionPolicy policy;
  policy.tokenUrl = "https://gateway.test/fhir/token";
  bool signedHere = (data[0] & 1) != 0;
  std::string assertion(fuzz::bytes(data + 1, size - 1));
  json::Value claims;
  if (signedHere) {
    json::ParseError err;
    if (!json::parse(assertion, claims, err) || !claims.isObject()) return 0;
    json::Value header = json::Value::makeObject();
    header.set("typ", json::Value::makeString("JWT"));
    header.set("kid", json::Value::makeString("k1"));
    auto jwt = auth::signJws(header, claims, reg.privateKey, auth::JwsAlg::kES384);
    fuzz::check(jwt.isOk(), "signing works");
    assertion = jwt.take();
  }
  auth::MemoryReplayGuard guard([] { return kNow; });
  auth::AssertionCheck first =
      auth::checkClientAssertion(assertion, "", *reg.clients, guard, policy, kNow);
  if (!first.ok) {
    fuzz::check(first.error.status == 400 || first.error.status == 401, "a 400 or 401");
    fuzz::check(!first.error.error.empty(), "an OAuth error code");
    return 0;
  }
  fuzz::check(signedHere, "nothing made without the key is accepted");
  fuzz::check(first.client != nullptr && first.client->clientId == kClient, "the client");
  fuzz::check(claims.getString("iss") == kClient && claims.getString("sub") == kClient,
              "iss and sub name the client");
  const json::Value* aud = claims.find("aud");
  bool audOk = aud && (aud->isString() ? aud->text() == policy.tokenUrl : false);
  if (aud && aud->isArray())
    for (const json::Value& a : aud->items())
      if (a.isString() && a.text() == policy.tokenUrl) audOk = true;
  fuzz::check(audOk, "aud is the token endpoint");
  fuzz::check(claims.find("exp") != nullptr, "an accepted assertion has exp");
  int64_t exp = auth::numericDateMs(*claims.find("exp"));
  fuzz::check(exp > kNow - policy.clockSkewMs &&
                  exp <= kNow + policy.maxLifetimeMs + policy.clockSkewMs,
              "expires within five minutes");
  fuzz::check(!first.jti.empty() && first.jti == claims.getString("jti"), "the jti is the claim's");
  auth::AssertionCheck again =
      auth::checkClientAssertion(assertion, "", *reg.clients, guard, policy, kNow);
  fuzz::check(!again.ok, "a jti is accepted once only");
  return 0;
}
