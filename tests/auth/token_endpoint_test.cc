// POST /token end to end through SmartAuth: real RS384 and ES384 assertions get tokens that
// verify to the right Principal; every refusal has its exact status and RFC 6749 error code.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

#include "gateway/auth/smart_endpoints.h"
#include "tests/auth/smart_fixture.h"

namespace acp::auth {
namespace {

using namespace acp::auth::testing;

void expectError(const TokenResult& r, int status, const std::string& error) {
  EXPECT_EQ(r.status, status) << json::write(r.body);
  EXPECT_EQ(r.body.getString("error"), error) << json::write(r.body);
  EXPECT_FALSE(r.body.getString("error_description").empty());
  EXPECT_EQ(r.body.find("access_token"), nullptr);
  EXPECT_FALSE(r.issued);
}

bool hasHeader(const TokenResult& r, const std::string& name, const std::string& value) {
  for (const auto& [n, v] : r.headers) {
    if (n == name && v == value) return true;
  }
  return false;
}

class TokenEndpoint : public SmartTest {};

TEST_F(TokenEndpoint, Rs384AssertionGetsATokenForTheRightPrincipal) {
  TokenResult r = post(form(assertion("gp-rs", rsaKey(), "r1"),
                            "system/CarePlan.read system/Patient.rs"));
  ASSERT_EQ(r.status, 200) << json::write(r.body);
  EXPECT_EQ(r.body.getString("token_type"), "bearer");
  EXPECT_EQ(r.body.find("expires_in")->text(), "300");
  EXPECT_EQ(r.body.getString("scope"), "system/CarePlan.read system/Patient.rs");
  EXPECT_TRUE(hasHeader(r, "Cache-Control", "no-store"));
  EXPECT_TRUE(hasHeader(r, "Pragma", "no-cache"));
  EXPECT_TRUE(r.issued);
  EXPECT_EQ(r.clientId, "gp-rs");

  BearerCheck check = smart_->authenticate("Bearer " + r.body.getString("access_token"));
  ASSERT_TRUE(check.ok) << check.reason;
  const Principal& p = check.principal;
  EXPECT_EQ(p.clientId, "gp-rs");
  EXPECT_EQ(p.organisation, "X81001");
  EXPECT_EQ(p.role, Role::kGpPractice);
  EXPECT_EQ(p.tokenId, r.tokenId);
  EXPECT_EQ(p.expiresAtMs, kNow + 300000);
  EXPECT_TRUE(p.scopes.allows("CarePlan", Interaction::kRead));
  EXPECT_TRUE(p.scopes.allows("CarePlan", Interaction::kSearch));  // v1 read includes search
  EXPECT_TRUE(p.scopes.allows("Patient", Interaction::kSearch));
  EXPECT_FALSE(p.scopes.allows("CarePlan", Interaction::kCreate));
}

TEST_F(TokenEndpoint, Es384AssertionGetsAToken) {
  TokenResult r = post(form(assertion("hospice-es", ecKey(), "e1"), "system/*.cruds"));
  ASSERT_EQ(r.status, 200) << json::write(r.body);
  // Asked for everything; granted the part allowed, in the asked-for (v2) syntax.
  EXPECT_EQ(r.body.getString("scope"), "system/CarePlan.cruds system/Patient.cruds");
  BearerCheck check = smart_->authenticate("Bearer " + r.body.getString("access_token"));
  ASSERT_TRUE(check.ok) << check.reason;
  EXPECT_EQ(check.principal.role, Role::kSourceSystem);
  EXPECT_EQ(check.principal.organisation, "X99999");
  EXPECT_TRUE(check.principal.scopes.allows("CarePlan", Interaction::kCreate));
  EXPECT_FALSE(check.principal.scopes.allows("Consent", Interaction::kRead));
}

TEST_F(TokenEndpoint, AlgNoneIsInvalidClient) {
  json::Value h = parseJson(R"({"alg":"none","typ":"JWT"})");
  expectError(post(form(forge(h, claimsFor("gp-rs", "n1"), ""))), 400, "invalid_client");
  expectError(post(form(forge(h, claimsFor("gp-rs", "n2"), "sig"))), 400, "invalid_client");
  json::Value upper = parseJson(R"({"alg":"NONE"})");
  expectError(post(form(forge(upper, claimsFor("gp-rs", "n3"), ""))), 400, "invalid_client");
}

TEST_F(TokenEndpoint, Hs256WithThePublicKeyAsSecretIsInvalidClient) {
  std::string pem = publicKeyPem(rsaKey());
  json::Value h = parseJson(R"({"alg":"HS256","typ":"JWT","kid":"r1"})");
  std::string input = base64UrlEncode(json::write(h)) + "." +
                      base64UrlEncode(json::write(claimsFor("gp-rs", "h1")));
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t macLen = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, pem.data(), pem.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                      sizeof(mac), &macLen),
            nullptr);
  std::string jwt = input + "." + base64UrlEncode(std::string(reinterpret_cast<char*>(mac), macLen));
  expectError(post(form(jwt)), 400, "invalid_client");
}

TEST_F(TokenEndpoint, Rs256WithTheRightKeyIsInvalidClient) {
  // Signed correctly with the registered key, but RS256 (SHA-256) is not an accepted alg.
  json::Value h = parseJson(R"({"alg":"RS256","typ":"JWT","kid":"r1"})");
  std::string input = base64UrlEncode(json::write(h)) + "." +
                      base64UrlEncode(json::write(claimsFor("gp-rs", "r256")));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, rsaKey().pkey.get()), 1);
  ASSERT_EQ(EVP_DigestSign(ctx, nullptr, &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  std::string sig(len, '\0');
  ASSERT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(ctx);
  TokenResult r = post(form(input + "." + base64UrlEncode(sig)));
  expectError(r, 400, "invalid_client");
  EXPECT_NE(r.reason.find("RS384 or ES384"), std::string::npos);
}

TEST_F(TokenEndpoint, BadSignatureIsInvalidClient) {
  // Signed by a key the client never registered, claiming its kid.
  TokenResult r = post(form(sign(claimsFor("gp-rs", "b1"), otherRsaKey(), "r1")));
  expectError(r, 400, "invalid_client");
  EXPECT_NE(r.reason.find("signature"), std::string::npos);
  EXPECT_EQ(r.clientId, "gp-rs");  // the claimed client, for the log
  // A flipped byte in a good signature.
  std::string good = assertion("hospice-es", ecKey(), "e1");
  std::string sig = *base64UrlDecode(good.substr(good.rfind('.') + 1));
  sig[0] ^= 0x40;
  expectError(post(form(good.substr(0, good.rfind('.') + 1) + base64UrlEncode(sig))), 400,
              "invalid_client");
}

TEST_F(TokenEndpoint, AlgThatTheRegisteredKeyCannotMakeIsInvalidClient) {
  // hospice-es registered an EC key only; an RS384 assertion (even a valid one) is refused.
  TokenResult r = post(form(sign(claimsFor("hospice-es", "m1"), rsaKey())));
  expectError(r, 400, "invalid_client");
  EXPECT_NE(r.reason.find("fits"), std::string::npos) << r.reason;
}

TEST_F(TokenEndpoint, AudienceMustBeTheTokenUrlExactly) {
  for (const char* aud : {"https://gateway.test/fhir", "https://gateway.test/fhir/token/",
                          "https://other.test/fhir/token", "HTTPS://gateway.test/fhir/token"}) {
    json::Value c = claimsFor("gp-rs", std::string("aud-") + aud);
    c.set("aud", str(aud));
    expectError(post(form(sign(c, rsaKey(), "r1"))), 400, "invalid_client");
  }
  json::Value missing = claimsFor("gp-rs", "aud-missing");
  missing.erase("aud");
  expectError(post(form(sign(missing, rsaKey(), "r1"))), 400, "invalid_client");
  // An array holding the token URL is accepted (RFC 7519 §4.1.3).
  json::Value arr = claimsFor("gp-rs", "aud-array");
  json::Value auds = json::Value::makeArray();
  auds.push(str("https://elsewhere.test"));
  auds.push(str(kTokenUrl));
  arr.set("aud", auds);
  EXPECT_EQ(post(form(sign(arr, rsaKey(), "r1"))).status, 200);
}

TEST_F(TokenEndpoint, JtiIsRequiredAndNeverReused) {
  json::Value c = claimsFor("gp-rs", "x");
  c.erase("jti");
  expectError(post(form(sign(c, rsaKey(), "r1"))), 400, "invalid_client");
  c.set("jti", str(""));
  expectError(post(form(sign(c, rsaKey(), "r1"))), 400, "invalid_client");
  c.set("jti", num(5));
  expectError(post(form(sign(c, rsaKey(), "r1"))), 400, "invalid_client");

  std::string once = sign(claimsFor("gp-rs", "only-once"), rsaKey(), "r1");
  EXPECT_EQ(post(form(once)).status, 200);
  TokenResult replay = post(form(once));
  expectError(replay, 400, "invalid_client");
  EXPECT_NE(replay.reason.find("already used"), std::string::npos);
  // The same jti in a new assertion (new exp) is a reuse too.
  clock_.advanceMs(1000);
  expectError(post(form(sign(claimsFor("gp-rs", "only-once", clock_.now()), rsaKey(), "r1"))),
              400, "invalid_client");
  // Another client may use the same jti text.
  EXPECT_EQ(post(form(sign(claimsFor("hospice-es", "only-once", clock_.now()), ecKey(), "e1")))
                .status,
            200);
}

TEST_F(TokenEndpoint, RefusedAssertionsDoNotUseUpTheirJti) {
  json::Value c = claimsFor("gp-rs", "keep-me");
  c.set("aud", str("https://wrong.test/token"));
  expectError(post(form(sign(c, rsaKey(), "r1"))), 400, "invalid_client");
  expectError(post(form(sign(claimsFor("gp-rs", "keep-me"), otherRsaKey(), "r1"))), 400,
              "invalid_client");
  EXPECT_EQ(guard_->size(), 0u);
  EXPECT_EQ(post(form(sign(claimsFor("gp-rs", "keep-me"), rsaKey(), "r1"))).status, 200);
}

TEST_F(TokenEndpoint, ExpiryRules) {
  int64_t nowS = kNow / 1000;
  auto withExp = [&](const json::Value& exp, const std::string& jti) {
    json::Value c = claimsFor("gp-rs", jti);
    c.set("exp", exp);
    return post(form(sign(c, rsaKey(), "r1")));
  };
  // Five minutes ahead (and within the clock skew beyond it) is fine; further is not.
  EXPECT_EQ(withExp(num(nowS + 300), "e300").status, 200);
  EXPECT_EQ(withExp(num(nowS + 330), "e330").status, 200);
  TokenResult far = withExp(num(nowS + 331), "e331");
  expectError(far, 400, "invalid_client");
  EXPECT_NE(far.reason.find("five minutes"), std::string::npos);
  expectError(withExp(num(nowS + 3600), "e3600"), 400, "invalid_client");
  // Expired: beyond the clock skew.
  EXPECT_EQ(withExp(num(nowS - 29), "past29").status, 200);
  TokenResult old = withExp(num(nowS - 30), "past30");
  expectError(old, 400, "invalid_client");
  EXPECT_NE(old.reason.find("expired"), std::string::npos);
  // Not a NumericDate.
  expectError(withExp(str(std::to_string(nowS + 60)), "estr"), 400, "invalid_client");
  expectError(withExp(json::Value::makeNumber("-1"), "eneg"), 400, "invalid_client");
  expectError(withExp(json::Value::makeNumber("1.7e9"), "eexp"), 400, "invalid_client");
  EXPECT_EQ(withExp(json::Value::makeNumber(std::to_string(nowS + 60) + ".5"), "efrac").status,
            200);
  json::Value c = claimsFor("gp-rs", "noexp");
  c.erase("exp");
  expectError(post(form(sign(c, rsaKey(), "r1"))), 400, "invalid_client");
}

TEST_F(TokenEndpoint, NbfAndIatMustNotBeInTheFuture) {
  int64_t nowS = kNow / 1000;
  for (const char* claim : {"nbf", "iat"}) {
    json::Value ok = claimsFor("gp-rs", std::string("ok-") + claim);
    ok.set(claim, num(nowS - 10));
    EXPECT_EQ(post(form(sign(ok, rsaKey(), "r1"))).status, 200) << claim;
    json::Value future = claimsFor("gp-rs", std::string("future-") + claim);
    future.set(claim, num(nowS + 120));
    expectError(post(form(sign(future, rsaKey(), "r1"))), 400, "invalid_client");
  }
}

TEST_F(TokenEndpoint, IssAndSubMustBeTheSameRegisteredClient) {
  json::Value c = claimsFor("gp-rs", "s1");
  c.set("sub", str("hospice-es"));
  expectError(post(form(sign(c, rsaKey(), "r1"))), 400, "invalid_client");
  c = claimsFor("gp-rs", "s2");
  c.erase("sub");
  expectError(post(form(sign(c, rsaKey(), "r1"))), 400, "invalid_client");
  c = claimsFor("gp-rs", "s3");
  c.set("iss", num(1));
  expectError(post(form(sign(c, rsaKey(), "r1"))), 400, "invalid_client");

  TokenResult unknown = post(form(sign(claimsFor("<script>x</script>", "s4"), rsaKey())));
  expectError(unknown, 400, "invalid_client");
  EXPECT_EQ(json::write(unknown.body).find("<script>"), std::string::npos);  // never echoed
  expectError(post(form(assertion("disabled", ecKey(), "e1"))), 400, "invalid_client");

  // client_id, when sent, must be the assertion's client.
  Form f = form(assertion("gp-rs", rsaKey(), "r1"));
  f.emplace_back("client_id", "hospice-es");
  expectError(post(f), 400, "invalid_client");
  Form same = form(assertion("gp-rs", rsaKey(), "r1"));
  same.emplace_back("client_id", "gp-rs");
  EXPECT_EQ(post(same).status, 200);
}

TEST_F(TokenEndpoint, KidSelectsTheKeyOfAJwks) {
  // "rotating" registered otherEcKey as "old" and ecKey as "new".
  EXPECT_EQ(post(form(assertion("rotating", ecKey(), "new"))).status, 200);
  EXPECT_EQ(post(form(assertion("rotating", otherEcKey(), "old"))).status, 200);
  // The right key under the wrong kid: that kid's key does not verify it.
  expectError(post(form(assertion("rotating", ecKey(), "old"))), 400, "invalid_client");
  // A kid no key has.
  TokenResult r = post(form(assertion("rotating", ecKey(), "newest")));
  expectError(r, 400, "invalid_client");
  EXPECT_NE(r.reason.find("kid"), std::string::npos);
  // No kid: every registered key that fits is tried.
  EXPECT_EQ(post(form(assertion("rotating", ecKey()))).status, 200);
  EXPECT_EQ(post(form(assertion("rotating", otherEcKey()))).status, 200);
}

TEST_F(TokenEndpoint, GrantTypeRules) {
  Form f = form(assertion("gp-rs", rsaKey(), "r1"));
  f[0].second = "authorization_code";
  expectError(post(f), 400, "unsupported_grant_type");
  f[0].second = "not_a_grant_type";
  expectError(post(f), 400, "unsupported_grant_type");
  f.erase(f.begin());
  expectError(post(f), 400, "invalid_request");
}

TEST_F(TokenEndpoint, AssertionTypeAndAssertionAreRequired) {
  Form f = form(assertion("gp-rs", rsaKey(), "r1"));
  f[1].second = "not_an_assertion_type";
  expectError(post(f), 400, "invalid_request");
  f.erase(f.begin() + 1);
  expectError(post(f), 400, "invalid_request");
  Form noAssertion = form("");
  expectError(post(noAssertion), 400, "invalid_request");  // an empty value counts as absent
  expectError(post(form("not.a.jwt")), 400, "invalid_client");
  expectError(post(form("garbage")), 400, "invalid_client");
}

TEST_F(TokenEndpoint, FormEncodingErrors) {
  std::string good = formEncode(form(assertion("gp-rs", rsaKey(), "r1")));
  expectError(postBody(good, "application/json"), 400, "invalid_request");
  expectError(postBody(good, ""), 400, "invalid_request");
  expectError(postBody(good, "application/x-www-form-urlencoded; charset=iso-8859-1"), 400,
              "invalid_request");
  expectError(postBody(good + "&scope=system%2FPatient.read"), 400, "invalid_request");  // twice
  expectError(postBody(good + "&x=%zz"), 400, "invalid_request");
  expectError(postBody(good + "&x=%4"), 400, "invalid_request");
  expectError(postBody(good + "&x=%00"), 400, "invalid_request");
  expectError(postBody(good + "&x=%C3%28"), 400, "invalid_request");  // invalid UTF-8
  expectError(postBody(good + "&=v"), 400, "invalid_request");
  expectError(postBody(good + "&pad=" + std::string(70000, 'a')), 400, "invalid_request");
  expectError(postBody(""), 400, "invalid_request");
  // Charset UTF-8 and letter case in the media type are fine; so are extra unknown parameters.
  EXPECT_EQ(postBody(good, "Application/X-WWW-Form-Urlencoded; charset=UTF-8").status, 200);
  EXPECT_EQ(post([&] {
              Form f = form(assertion("gp-rs", rsaKey(), "r1"));
              f.emplace_back("unrelated", "1");
              return f;
            }())
                .status,
            200);
}

TEST_F(TokenEndpoint, OneAuthenticationMethodOnly) {
  TokenResult basic =
      post({{"grant_type", "client_credentials"}, {"scope", "system/CarePlan.read"}},
           "application/x-www-form-urlencoded", "Basic Z3AtcnM6c2VjcmV0");
  expectError(basic, 401, "invalid_client");
  EXPECT_TRUE(hasHeader(basic, "WWW-Authenticate", "Basic realm=\"acp-gateway\""));
  expectError(post(form(assertion("gp-rs", rsaKey(), "r1")), "application/x-www-form-urlencoded",
                   "Basic Z3AtcnM6c2VjcmV0"),
              400, "invalid_request");
  Form secret = form(assertion("gp-rs", rsaKey(), "r1"));
  secret.emplace_back("client_secret", "s3cret");
  expectError(post(secret), 400, "invalid_request");
}

TEST_F(TokenEndpoint, ScopeRules) {
  expectError(post(form(assertion("gp-rs", rsaKey(), "r1"), "")), 400, "invalid_scope");
  expectError(post(form(assertion("gp-rs", rsaKey(), "r1"), "patient/CarePlan.read")), 400,
              "invalid_scope");
  expectError(post(form(assertion("gp-rs", rsaKey(), "r1"), "system/CarePlan.read launch")), 400,
              "invalid_scope");
  expectError(post(form(assertion("gp-rs", rsaKey(), "r1"), "system/Consent.read")), 400,
              "invalid_scope");
  expectError(post(form(assertion("gp-rs", rsaKey(), "r1"), "system/CarePlan.write")), 400,
              "invalid_scope");
  // Partly allowed: the allowed part only, and the answer says so.
  TokenResult r = post(form(assertion("gp-rs", rsaKey(), "r1"),
                            "system/CarePlan.cruds system/Consent.read system/Patient.read"));
  ASSERT_EQ(r.status, 200) << json::write(r.body);
  EXPECT_EQ(r.body.getString("scope"), "system/CarePlan.rs system/Patient.read");
  // v1 wildcard narrowed to the allowed types, in v1 syntax.
  r = post(form(assertion("gp-rs", rsaKey(), "r1"), "system/*.read"));
  ASSERT_EQ(r.status, 200) << json::write(r.body);
  EXPECT_EQ(r.body.getString("scope"), "system/CarePlan.read system/Patient.read");
}

TEST_F(TokenEndpoint, EveryAnswerIsUncacheable) {
  for (const TokenResult& r :
       {post(form(assertion("gp-rs", rsaKey(), "r1"))), post(form("x")),
        postBody("", "text/plain")}) {
    EXPECT_TRUE(hasHeader(r, "Cache-Control", "no-store")) << r.status;
    EXPECT_TRUE(hasHeader(r, "Pragma", "no-cache")) << r.status;
  }
}

TEST_F(TokenEndpoint, AFailingReplayGuardFailsClosed) {
  auto failing = std::make_shared<FunctionReplayGuard>(
      [](const std::string&, const std::string&, int64_t) -> Result<bool> {
        return Status::internal("store.busy: test");
      });
  smart_ = make(options(), failing);
  TokenResult r = post(form(assertion("gp-rs", rsaKey(), "r1")));
  expectError(r, 500, "server_error");
}

TEST(SmartConfiguration, AdvertisesBackendServices) {
  json::Value c = smartConfiguration(kBase, {"CarePlan"});
  EXPECT_EQ(c.getString("token_endpoint"), kTokenUrl);
  EXPECT_EQ(json::write(*c.find("token_endpoint_auth_methods_supported")), R"(["private_key_jwt"])");
  EXPECT_EQ(json::write(*c.find("token_endpoint_auth_signing_alg_values_supported")),
            R"(["RS384","ES384"])");
  EXPECT_EQ(json::write(*c.find("grant_types_supported")), R"(["client_credentials"])");
  EXPECT_EQ(json::write(*c.find("capabilities")),
            R"(["client-confidential-asymmetric","permission-v1","permission-v2"])");
  std::string scopes = json::write(*c.find("scopes_supported"));
  EXPECT_NE(scopes.find("\"system/*.read\""), std::string::npos);
  EXPECT_NE(scopes.find("\"system/CarePlan.rs\""), std::string::npos);
  EXPECT_EQ(c.find("issuer"), nullptr);  // no OpenID Connect
  EXPECT_EQ(c.find("authorization_endpoint"), nullptr);
}

TEST(SmartAuthCreate, RefusesIncompleteConfiguration) {
  TempDir dir;
  writeFile(dir.file("clients.json"), testRegistry());
  Clock clock;
  auto guard = std::make_shared<MemoryReplayGuard>(clock.fn());
  auto attempt = [&](auto change) {
    SmartAuthOptions o;
    o.baseUrl = kBase;
    o.clientsFile = dir.file("clients.json");
    o.nowMs = clock.fn();
    change(o);
    auto r = SmartAuth::create(o, guard);
    return r.isOk() ? std::string() : r.status().message();
  };
  EXPECT_EQ(attempt([](SmartAuthOptions&) {}), "");
  EXPECT_NE(attempt([](SmartAuthOptions& o) { o.baseUrl = ""; }).find("gateway.http.baseUrl"),
            std::string::npos);
  EXPECT_NE(attempt([](SmartAuthOptions& o) { o.baseUrl = "gateway.test"; }).find("absolute"),
            std::string::npos);
  EXPECT_NE(attempt([](SmartAuthOptions& o) { o.clientsFile = ""; }).find("gateway.auth.clients"),
            std::string::npos);
  EXPECT_NE(attempt([&](SmartAuthOptions& o) { o.clientsFile = dir.file("none.json"); })
                .find("none.json"),
            std::string::npos);
  EXPECT_NE(attempt([&](SmartAuthOptions& o) { o.tokenKeyFile = dir.file("none.pem"); })
                .find("none.pem"),
            std::string::npos);
  EXPECT_NE(attempt([](SmartAuthOptions& o) { o.tokenLifetimeSeconds = 7200; }).find("lifetime"),
            std::string::npos);
  // A trailing slash on the base URL is dropped: the token URL stays exact.
  SmartAuthOptions o;
  o.baseUrl = std::string(kBase) + "/";
  o.clientsFile = dir.file("clients.json");
  auto r = SmartAuth::create(o, guard);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r.value()->tokenUrl(), kTokenUrl);
}

}  // namespace
}  // namespace acp::auth
