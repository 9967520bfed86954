// The gateway's access tokens: what verify() accepts and refuses, the Authorization header,
// WWW-Authenticate, a shared token key, and SmartAuth::authenticate following the registry.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/auth/token_service.h"
#include "tests/auth/smart_fixture.h"

namespace acp::auth {
namespace {

using namespace acp::auth::testing;

Client gpClient() {
  Client c;
  c.clientId = "gp-rs";
  c.organisation = "X81001";
  c.role = Role::kGpPractice;
  c.scopes = ScopeSet::parse("system/CarePlan.rs");
  return c;
}

std::unique_ptr<TokenService> service(const Key& key, const Clock& clock,
                                      const std::string& issuer = kBase, int lifetime = 300) {
  TokenServiceOptions o;
  o.issuer = issuer;
  o.lifetimeSeconds = lifetime;
  o.nowMs = clock.fn();
  auto s = TokenService::create(key, o);
  EXPECT_TRUE(s.isOk()) << s.status().message();
  return s.take();
}

TEST(TokenService, IssuedTokensVerifyToTheirPrincipal) {
  Clock clock;
  auto tokens = service(ecKey(), clock);
  auto t = tokens->issue(gpClient(), ScopeSet::parse("system/CarePlan.read"));
  ASSERT_TRUE(t.isOk()) << t.status().message();
  EXPECT_EQ(t.value().expiresIn, 300);
  EXPECT_EQ(t.value().scope, "system/CarePlan.read");
  BearerCheck c = tokens->verify(t.value().accessToken);
  ASSERT_TRUE(c.ok) << c.reason;
  EXPECT_EQ(c.failure, BearerFailure::kNone);
  EXPECT_EQ(c.principal.clientId, "gp-rs");
  EXPECT_EQ(c.principal.organisation, "X81001");
  EXPECT_EQ(c.principal.role, Role::kGpPractice);
  EXPECT_EQ(c.principal.tokenId, t.value().jti);
  EXPECT_EQ(c.principal.expiresAtMs, kNow + 300000);
  EXPECT_EQ(c.principal.scopes.toString(), "system/CarePlan.read");

  // The token's own shape: ES384, at+jwt, kid = the key's thumbprint, claims as documented.
  auto jws = parseJws(t.value().accessToken, {JwsAlg::kES384});
  ASSERT_TRUE(jws.isOk());
  EXPECT_EQ(jws.value().header.getString("typ"), "at+jwt");
  json::Value jwks = tokens->jwks();
  const json::Value& jwk = jwks.find("keys")->items()[0];
  EXPECT_EQ(jws.value().kid, jwk.getString("kid"));
  EXPECT_EQ(jwk.getString("alg"), "ES384");
  EXPECT_EQ(jwk.find("d"), nullptr);
  const json::Value& claims = jws.value().payload;
  EXPECT_EQ(claims.getString("iss"), kBase);
  EXPECT_EQ(claims.getString("aud"), kBase);
  EXPECT_EQ(claims.getString("sub"), "gp-rs");
  EXPECT_EQ(claims.getString("client_id"), "gp-rs");
  EXPECT_EQ(claims.getString("role"), "gp-practice");
  EXPECT_EQ(claims.find("iat")->text(), std::to_string(kNow / 1000));
  EXPECT_EQ(claims.find("exp")->text(), std::to_string(kNow / 1000 + 300));
  // The published JWK verifies the token (another service could check it).
  auto pub = keyFromJwk(jwk);
  ASSERT_TRUE(pub.isOk()) << pub.status().message();
  EXPECT_TRUE(verifyJws(jws.value(), pub.value()));
}

TEST(TokenService, ExpiresAfterItsLifetimeAndTheSkew) {
  Clock clock;
  auto tokens = service(ecKey(), clock, kBase, 60);
  std::string token = tokens->issue(gpClient(), gpClient().scopes).value().accessToken;
  clock.advanceMs(60000 + 29999);
  EXPECT_TRUE(tokens->verify(token).ok);
  clock.advanceMs(1);
  BearerCheck c = tokens->verify(token);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.failure, BearerFailure::kExpired);
  EXPECT_EQ(wwwAuthenticate(c),
            "Bearer realm=\"acp-gateway\", error=\"invalid_token\", "
            "error_description=\"The access token has expired.\"");
}

TEST(TokenService, RefusesForgedTamperedAndForeignTokens) {
  Clock clock;
  auto tokens = service(ecKey(), clock);
  std::string token = tokens->issue(gpClient(), gpClient().scopes).value().accessToken;
  auto refused = [&](const std::string& t) {
    BearerCheck c = tokens->verify(t);
    EXPECT_FALSE(c.ok) << t;
    EXPECT_EQ(c.failure, BearerFailure::kInvalid) << t;
    return c.reason;
  };
  // Another gateway's key (not shared), even for a genuine-looking token.
  auto other = service(otherEcKey(), clock);
  refused(other->issue(gpClient(), gpClient().scopes).value().accessToken);
  // The same key but another issuer (another deployment sharing the key file).
  auto elsewhere = service(ecKey(), clock, "https://elsewhere.test/fhir");
  EXPECT_NE(refused(elsewhere->issue(gpClient(), gpClient().scopes).value().accessToken)
                .find("another server"),
            std::string::npos);
  // Claims rewritten (a wider scope, another role) under the original signature.
  auto jws = parseJws(token, {JwsAlg::kES384}).value();
  json::Value claims = jws.payload;
  claims.set("scope", str("system/*.*"));
  std::string sig = token.substr(token.rfind('.'));
  refused(token.substr(0, token.find('.') + 1) + base64UrlEncode(json::write(claims)) + sig);
  // alg none, HS256, RS384 under our kid.
  json::Value h = jws.header;
  h.set("alg", str("none"));
  refused(forge(h, jws.payload, ""));
  h.set("alg", str("HS256"));
  refused(forge(h, jws.payload, "mac"));
  h.set("alg", str("RS384"));
  refused(forge(h, jws.payload, std::string(384, 'x')));
  // A client assertion (typ JWT) is not an access token, even signed by the right key.
  json::Value header = json::Value::makeObject();
  header.set("typ", str("JWT"));
  refused(signJws(header, jws.payload, ecKey(), JwsAlg::kES384).value());
  // Missing claims, under a valid signature.
  for (const char* claim : {"sub", "client_id", "role", "scope", "jti", "exp", "iat"}) {
    json::Value c = jws.payload;
    c.erase(claim);
    json::Value atHeader = json::Value::makeObject();
    atHeader.set("typ", str("at+jwt"));
    EXPECT_NE(refused(signJws(atHeader, c, ecKey(), JwsAlg::kES384).value()).find("incomplete"),
              std::string::npos)
        << claim;
  }
  // Garbage and a huge token.
  refused("");
  refused("abc");
  refused(std::string(9000, 'a'));
}

// Verified tokens are remembered: a token seen before is the same bytes, so only its expiry
// is checked again; a near copy of a remembered token is verified as any other.
TEST(TokenService, ARememberedTokenStillExpiresAndItsNearCopiesAreStillRefused) {
  Clock clock;
  auto tokens = service(ecKey(), clock, kBase, 60);
  std::string token = tokens->issue(gpClient(), gpClient().scopes).value().accessToken;
  ASSERT_TRUE(tokens->verify(token).ok);
  BearerCheck again = tokens->verify(token);
  ASSERT_TRUE(again.ok);
  EXPECT_EQ(again.principal.clientId, "gp-rs");
  EXPECT_EQ(again.principal.scopes.toString(), gpClient().scopes.toString());
  // One character changed in the signature, the payload or the header; one added; a prefix.
  for (size_t at : {token.size() - 2, token.find('.') + 3, size_t{2}}) {
    std::string near = token;
    near[at] = near[at] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(tokens->verify(near).ok) << at;
  }
  EXPECT_FALSE(tokens->verify(token + "A").ok);
  EXPECT_FALSE(tokens->verify(token.substr(0, token.size() - 1)).ok);
  clock.advanceMs(60000 + 30000);
  BearerCheck late = tokens->verify(token);
  EXPECT_FALSE(late.ok);
  EXPECT_EQ(late.failure, BearerFailure::kExpired);
}

TEST(TokenService, MoreTokensThanItRemembersAllStillVerify) {
  Clock clock;
  TokenServiceOptions o;
  o.issuer = kBase;
  o.nowMs = clock.fn();
  o.maxCachedTokens = 2;
  auto tokens = TokenService::create(ecKey(), o).take();
  std::vector<std::string> issued;
  for (int i = 0; i < 5; ++i)
    issued.push_back(tokens->issue(gpClient(), gpClient().scopes).value().accessToken);
  for (int round = 0; round < 2; ++round)
    for (const std::string& t : issued) {
      BearerCheck c = tokens->verify(t);
      EXPECT_TRUE(c.ok) << c.reason;
      EXPECT_EQ(c.principal.clientId, "gp-rs");
    }
}

TEST(TokenService, ASharedRsaKeyFileWorksAcrossInstances) {
  TempDir dir;
  writeFile(dir.file("token.pem"), privateKeyPem(rsaKey()));
  auto key = loadOrGenerateTokenKey(dir.file("token.pem"));
  ASSERT_TRUE(key.isOk()) << key.status().message();
  Clock clock;
  auto a = service(key.value(), clock);
  auto b = service(loadOrGenerateTokenKey(dir.file("token.pem")).value(), clock);
  std::string token = a->issue(gpClient(), gpClient().scopes).value().accessToken;
  EXPECT_EQ(parseJws(token, {JwsAlg::kRS384}).value().header.getString("alg"), "RS384");
  EXPECT_TRUE(b->verify(token).ok);
  // Without a key file each start-up generates its own P-384 key: tokens do not carry over.
  auto g1 = loadOrGenerateTokenKey("");
  auto g2 = loadOrGenerateTokenKey("");
  ASSERT_TRUE(g1.isOk());
  EXPECT_EQ(g1.value().type, KeyType::kEcP384);
  auto s1 = service(g1.value(), clock);
  auto s2 = service(g2.value(), clock);
  EXPECT_FALSE(s2->verify(s1->issue(gpClient(), gpClient().scopes).value().accessToken).ok);
}

TEST(TokenService, CreateRefusesBadSettings) {
  TokenServiceOptions o;
  o.issuer = kBase;
  EXPECT_FALSE(TokenService::create(publicKeyOf(ecKey()).value(), o).isOk());
  o.lifetimeSeconds = 10;
  EXPECT_FALSE(TokenService::create(ecKey(), o).isOk());
  o.lifetimeSeconds = 300;
  o.issuer = "";
  EXPECT_FALSE(TokenService::create(ecKey(), o).isOk());
}

TEST(BearerHeader, ParsesOnlyTheBearerScheme) {
  EXPECT_EQ(bearerToken("Bearer abc.def-ghi_jkl").value(), "abc.def-ghi_jkl");
  EXPECT_EQ(bearerToken("bearer abc").value(), "abc");
  EXPECT_EQ(bearerToken("BEARER   abc  ").value(), "abc");
  EXPECT_EQ(bearerToken("Bearer ab+/c==").value(), "ab+/c==");
  EXPECT_FALSE(bearerToken(""));
  EXPECT_FALSE(bearerToken("Bearer"));
  EXPECT_FALSE(bearerToken("Bearer "));
  EXPECT_FALSE(bearerToken("Bearerabc"));
  EXPECT_FALSE(bearerToken("Basic abc"));
  EXPECT_FALSE(bearerToken("Bearer a b"));
  EXPECT_FALSE(bearerToken("Bearer a=b"));
  EXPECT_FALSE(bearerToken("Bearer a\"b"));
  BearerCheck missing;
  EXPECT_EQ(wwwAuthenticate(missing), "Bearer realm=\"acp-gateway\"");
}

class Authenticate : public SmartTest {
 protected:
  std::string tokenFor(const std::string& client, const Key& key, const std::string& kid,
                       const std::string& scope) {
    TokenResult r = post(form(assertion(client, key, kid), scope));
    EXPECT_EQ(r.status, 200) << json::write(r.body);
    return "Bearer " + r.body.getString("access_token");
  }
  void rewriteRegistry(const std::string& text) {
    writeFile(registryPath(), text);
    touchLater(registryPath(), 10);
    clock_.advanceMs(1000);  // past the reload interval
  }
};

TEST_F(Authenticate, MissingOrMalformedHeaders) {
  BearerCheck c = smart_->authenticate("");
  EXPECT_EQ(c.failure, BearerFailure::kMissing);
  EXPECT_EQ(smart_->authenticate("Basic eDp5").failure, BearerFailure::kMissing);
  EXPECT_EQ(smart_->authenticate("Bearer not-a-token").failure, BearerFailure::kInvalid);
}

TEST_F(Authenticate, ARemovedOrDisabledClientLosesItsTokensAtOnce) {
  std::string token = tokenFor("gp-rs", rsaKey(), "r1", "system/CarePlan.rs");
  ASSERT_TRUE(smart_->authenticate(token).ok);
  std::string registry = testRegistry();
  std::string disabled = registry;
  disabled.replace(disabled.find(R"("clientId":"gp-rs")"), 18, R"("clientId":"gp-xx")");
  rewriteRegistry(disabled);
  BearerCheck c = smart_->authenticate(token);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.failure, BearerFailure::kInvalid);
  EXPECT_NE(c.reason.find("no longer registered"), std::string::npos);
  rewriteRegistry(registry);
  EXPECT_TRUE(smart_->authenticate(token).ok);
}

TEST_F(Authenticate, RegistryChangesToRoleOrScopesTakeEffect) {
  std::string token = tokenFor("gp-rs", rsaKey(), "r1", "system/CarePlan.rs system/Patient.rs");
  std::string registry = testRegistry();
  std::string fewer = registry;
  fewer.replace(fewer.find("system/CarePlan.rs system/Patient.rs"), 36, "system/Patient.r");
  rewriteRegistry(fewer);
  BearerCheck c = smart_->authenticate(token);
  ASSERT_TRUE(c.ok) << c.reason;
  EXPECT_FALSE(c.principal.scopes.allows("CarePlan", Interaction::kRead));
  EXPECT_TRUE(c.principal.scopes.allows("Patient", Interaction::kRead));
  EXPECT_FALSE(c.principal.scopes.allows("Patient", Interaction::kSearch));

  std::string otherRole = registry;
  otherRole.replace(otherRole.find(R"("role":"gp-practice")"), 20, R"("role":"urgent-care")");
  rewriteRegistry(otherRole);
  c = smart_->authenticate(token);
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.reason.find("changed"), std::string::npos);
}

TEST_F(Authenticate, AnInvalidRegistryChangeIsReportedAndTheOldStays) {
  std::vector<std::string> reports;
  SmartAuthOptions o = options();
  o.onReload = [&](const Status& s) { reports.push_back(s.isOk() ? "ok" : s.message()); };
  smart_ = make(o, guard_);
  std::string token = tokenFor("gp-rs", rsaKey(), "r1", "system/CarePlan.rs");
  rewriteRegistry("{ broken");
  EXPECT_TRUE(smart_->authenticate(token).ok);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("auth.bad-registry"), std::string::npos);
  clock_.advanceMs(1000);
  EXPECT_TRUE(smart_->authenticate(token).ok);
  EXPECT_EQ(reports.size(), 1u);  // reported once
  rewriteRegistry(testRegistry());
  EXPECT_TRUE(smart_->authenticate(token).ok);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1], "ok");
}

TEST_F(Authenticate, TheRegistryIsCheckedAtMostOncePerInterval) {
  std::string token = tokenFor("gp-rs", rsaKey(), "r1", "system/CarePlan.rs");
  std::string removed = testRegistry();
  removed.replace(removed.find(R"("clientId":"gp-rs")"), 18, R"("clientId":"gp-xx")");
  writeFile(registryPath(), removed);
  touchLater(registryPath(), 10);
  clock_.advanceMs(999);
  EXPECT_TRUE(smart_->authenticate(token).ok);  // not checked yet
  clock_.advanceMs(1);
  EXPECT_FALSE(smart_->authenticate(token).ok);
}

}  // namespace
}  // namespace acp::auth

namespace acp::auth {
namespace {

// Sealed statements (the clinician view's launch links): opened by any service with the same
// key, by no other; unreadable; their purpose bound; expired after their lifetime and the skew.
TEST(TokenService, SealedStatementsOpenOnlyWithTheKeyAndThePurpose) {
  Clock clock;
  auto a = TokenService::create(ecKey(), [&] {
             TokenServiceOptions o;
             o.issuer = kBase;
             o.nowMs = clock.fn();
             return o;
           }()).take();
  auto sameKey = TokenService::create(ecKey(), [&] {
                   TokenServiceOptions o;
                   o.issuer = "https://another-instance.test/fhir";
                   o.nowMs = clock.fn();
                   return o;
                 }()).take();
  auto otherKey = TokenService::create(otherEcKey(), [&] {
                    TokenServiceOptions o;
                    o.issuer = kBase;
                    o.nowMs = clock.fn();
                    return o;
                  }()).take();
  json::Value claims = json::Value::makeObject();
  claims.set("patient", json::Value::makeString("child-1"));
  claims.set("reason", json::Value::makeString("respiratory arrest at home"));
  int64_t expires = 0;
  auto sealed = a->seal("launch v1", claims, 300, &expires);
  ASSERT_TRUE(sealed.isOk()) << sealed.status().message();
  EXPECT_EQ(expires, (clock.fn()() / 1000 + 300) * 1000);
  std::string raw = base64UrlDecode(sealed.value()).value_or("");
  EXPECT_EQ(raw.find("respiratory"), std::string::npos) << "unreadable";
  EXPECT_EQ(raw.find("child-1"), std::string::npos);
  EXPECT_NE(a->seal("launch v1", claims, 300).value(), sealed.value()) << "a fresh nonce each time";

  auto opened = sameKey->unseal(sealed.value(), "launch v1");
  ASSERT_TRUE(opened.isOk()) << "another instance with the same key opens it";
  EXPECT_EQ(opened.value().getString("reason"), "respiratory arrest at home");
  EXPECT_EQ(otherKey->unseal(sealed.value(), "launch v1").status().code(), Status::Code::kInvalid);
  EXPECT_EQ(a->unseal(sealed.value(), "other purpose").status().code(), Status::Code::kInvalid);
  std::string tampered = sealed.value();
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(a->unseal(tampered, "launch v1").status().code(), Status::Code::kInvalid);
  EXPECT_EQ(a->unseal("", "launch v1").status().code(), Status::Code::kInvalid);
  EXPECT_EQ(a->unseal(std::string(5000, 'A'), "launch v1").status().code(), Status::Code::kInvalid);
  // An access token is no sealed statement, nor a sealed statement an access token.
  auto token = a->issue(gpClient(), ScopeSet::parse("system/CarePlan.read"));
  EXPECT_EQ(a->unseal(token.value().accessToken, "launch v1").status().code(), Status::Code::kInvalid);
  EXPECT_FALSE(a->verify(sealed.value()).ok);

  // Nothing is sealed that could not be opened: bytes that are not UTF-8, or too much.
  json::Value bad = json::Value::makeObject();
  bad.set("name", json::Value::makeString("\xFF\xFE"));
  EXPECT_EQ(a->seal("launch v1", bad, 300).status().code(), Status::Code::kInvalid);
  json::Value big = json::Value::makeObject();
  big.set("text", json::Value::makeString(std::string(4000, 'x')));
  EXPECT_EQ(a->seal("launch v1", big, 300).status().code(), Status::Code::kInvalid);

  clock.advanceMs(300 * 1000 + 29 * 1000);
  EXPECT_TRUE(a->unseal(sealed.value(), "launch v1").isOk()) << "within the skew";
  clock.advanceMs(2 * 1000);
  json::Value expired;
  EXPECT_EQ(a->unseal(sealed.value(), "launch v1", &expired).status().code(), Status::Code::kGone);
  EXPECT_EQ(expired.getString("patient"), "child-1") << "what it was, for the audit";
}

}  // namespace
}  // namespace acp::auth
