// POST /token on the real gateway: what a client assertion must be to get an access token,
// the OAuth error for each way it can be wrong, and what a good one gets.
#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

class TokenEndpointServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gateway_ = new SecureGateway(); }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }
  SecureGateway& g() { return *gateway_; }

  HttpResult ask(const std::string& assertion, const std::string& scope = "system/CarePlan.rs") {
    return g().tokenRequest(assertion, scope);
  }
  std::string signed_(const json::Value& claims, const std::string& client = "hospice") {
    return auth::testing::sign(claims, clientKey(client), "k1");
  }
  // An OAuth error answer: status, error code, a description, JSON, never cached.
  void expectError(const HttpResult& r, int status, const std::string& error) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.json.getString("error"), error) << r.body;
    EXPECT_FALSE(r.json.getString("error_description").empty()) << r.body;
    EXPECT_EQ(r.json.find("access_token"), nullptr);
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    EXPECT_EQ(r.header("cache-control"), "no-store");
  }

  static inline SecureGateway* gateway_ = nullptr;
};

TEST_F(TokenEndpointServer, AGoodAssertionGetsAToken) {
  HttpResult r = ask(g().assertion("gp1"), "system/CarePlan.rs system/Patient.rs");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_EQ(r.header("pragma"), "no-cache");
  const std::string token = r.json.getString("access_token");
  EXPECT_FALSE(token.empty());
  EXPECT_EQ(r.json.getString("token_type"), "bearer");
  ASSERT_NE(r.json.find("expires_in"), nullptr);
  EXPECT_EQ(r.json.find("expires_in")->text(), "300");
  EXPECT_EQ(r.json.getString("scope"), "system/CarePlan.rs system/Patient.rs");

  // The token is the gateway's ES384 JWT naming the client, its organisation and role.
  auto jws = auth::parseJws(token, {auth::JwsAlg::kES384});
  ASSERT_TRUE(jws.isOk()) << jws.status().message();
  EXPECT_EQ(jws.value().header.getString("typ"), "at+jwt");
  auto pub = auth::publicKeyOf(gatewayKey());
  ASSERT_TRUE(pub.isOk());
  EXPECT_TRUE(auth::verifyJws(jws.value(), pub.value()));
  const json::Value& claims = jws.value().payload;
  EXPECT_EQ(claims.getString("iss"), kBase);
  EXPECT_EQ(claims.getString("aud"), kBase);
  EXPECT_EQ(claims.getString("sub"), "gp1");
  EXPECT_EQ(claims.getString("client_id"), "gp1");
  EXPECT_EQ(claims.getString("organisation"), "X81001");
  EXPECT_EQ(claims.getString("role"), "gp-practice");
  EXPECT_EQ(claims.getString("scope"), "system/CarePlan.rs system/Patient.rs");
  EXPECT_FALSE(claims.getString("jti").empty());

  // And it works.
  EXPECT_EQ(g().as(token, "GET", "/CarePlan").status, 200);
}

TEST_F(TokenEndpointServer, TheGrantIsNarrowedToWhatTheClientIsAllowed) {
  // gp1 may read a list of types; asking for every read gets exactly those types' reads, and
  // asking for writes gets nothing of them.
  HttpResult r = ask(g().assertion("gp1"), "system/CarePlan.rs system/Observation.rs");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.getString("scope"), "system/CarePlan.rs");
  HttpResult wide = ask(g().assertion("gp1"), "system/*.read");
  ASSERT_EQ(wide.status, 200) << wide.body;
  EXPECT_EQ(wide.json.getString("scope").find("*"), std::string::npos) << wide.body;
  EXPECT_NE(wide.json.getString("scope").find("system/CarePlan.read"), std::string::npos);
  HttpResult writes = ask(g().assertion("gp1"), "system/CarePlan.cud");
  expectError(writes, 400, "invalid_scope");
  HttpResult bogus = ask(g().assertion("gp1"), "patient/CarePlan.read");
  expectError(bogus, 400, "invalid_scope");
  HttpResult none = ask(g().assertion("gp1"), "");
  expectError(none, 400, "invalid_scope");
}

TEST_F(TokenEndpointServer, WrongAudienceIsRefused) {
  for (const char* aud : {"https://other-gateway.test/fhir/token", "https://gateway.test/fhir",
                          "http://gateway.test/fhir/token", "https://gateway.test/fhir/token/"}) {
    json::Value c = g().assertionClaims("hospice");
    c.set("aud", str(aud));
    expectError(ask(signed_(c)), 400, "invalid_client");
  }
}

TEST_F(TokenEndpointServer, AReplayedAssertionIsRefused) {
  std::string once = g().assertion("hospice");
  EXPECT_EQ(ask(once).status, 200);
  expectError(ask(once), 400, "invalid_client");
  // The same jti in a freshly signed assertion is a replay too.
  json::Value c = g().assertionClaims("hospice");
  c.set("jti", str("fixed-jti-1"));
  EXPECT_EQ(ask(signed_(c)).status, 200);
  c.set("exp", num(nowSeconds() + 200));
  expectError(ask(signed_(c)), 400, "invalid_client");
}

TEST_F(TokenEndpointServer, ARefusedAssertionDoesNotUseUpItsJti) {
  json::Value c = g().assertionClaims("hospice");
  c.set("jti", str("fixed-jti-2"));
  // Signed by a stranger first: refused, and the jti stays free for the real client.
  expectError(ask(auth::testing::sign(c, auth::testing::otherEcKey(), "k1")), 400,
              "invalid_client");
  EXPECT_EQ(ask(signed_(c)).status, 200);
}

TEST_F(TokenEndpointServer, ExpiryMustBeShortAndInTheFuture) {
  const int64_t now = nowSeconds();
  json::Value farAhead = g().assertionClaims("hospice");
  farAhead.set("exp", num(now + 600));  // more than five minutes (and the skew) ahead
  expectError(ask(signed_(farAhead)), 400, "invalid_client");
  json::Value passed = g().assertionClaims("hospice");
  passed.set("exp", num(now - 120));
  expectError(ask(signed_(passed)), 400, "invalid_client");
  json::Value noExp = g().assertionClaims("hospice");
  noExp.erase("exp");
  expectError(ask(signed_(noExp)), 400, "invalid_client");
  json::Value future = g().assertionClaims("hospice");
  future.set("nbf", num(now + 600));
  expectError(ask(signed_(future)), 400, "invalid_client");
  json::Value noJti = g().assertionClaims("hospice");
  noJti.erase("jti");
  expectError(ask(signed_(noJti)), 400, "invalid_client");
  // Just under five minutes is fine.
  json::Value fine = g().assertionClaims("hospice");
  fine.set("exp", num(now + 290));
  EXPECT_EQ(ask(signed_(fine)).status, 200);
}

TEST_F(TokenEndpointServer, UnsignedOrWronglySignedAssertionsAreRefused) {
  json::Value c = g().assertionClaims("hospice");
  json::Value none = json::Value::makeObject();
  none.set("alg", str("none"));
  none.set("typ", str("JWT"));
  none.set("kid", str("k1"));
  expectError(ask(auth::testing::forge(none, c, "")), 400, "invalid_client");
  json::Value hs = none;
  hs.set("alg", str("HS256"));
  expectError(ask(auth::testing::forge(hs, g().assertionClaims("hospice"), "0123456789abcdef")),
              400, "invalid_client");
  // A key the client did not register (same kid).
  expectError(ask(auth::testing::sign(g().assertionClaims("hospice"), auth::testing::otherEcKey(),
                                      "k1")),
              400, "invalid_client");
  // Another client's key: gp1 registered the RSA key, the hospice the EC one.
  expectError(ask(auth::testing::sign(g().assertionClaims("hospice"), auth::testing::rsaKey(),
                                      "k1")),
              400, "invalid_client");
  // A good signature with a kid the client has not registered.
  expectError(ask(auth::testing::sign(g().assertionClaims("hospice"), clientKey("hospice"),
                                      "k2")),
              400, "invalid_client");
  // The signature of one assertion on another's claims.
  std::string a = g().assertion("hospice");
  std::string b = g().assertion("hospice");
  std::string spliced = a.substr(0, a.rfind('.')) + b.substr(b.rfind('.'));
  expectError(ask(spliced), 400, "invalid_client");
  expectError(ask("not.a.jwt"), 400, "invalid_client");
}

TEST_F(TokenEndpointServer, UnknownClientsAndMismatchedSubjectsAreRefused) {
  json::Value stranger = auth::testing::claimsFor("stranger", "jti-" + newUuid(), nowMillis());
  expectError(ask(auth::testing::sign(stranger, clientKey("hospice"), "k1")), 400,
              "invalid_client");
  json::Value mixed = g().assertionClaims("hospice");
  mixed.set("sub", str("gp1"));
  expectError(ask(signed_(mixed)), 400, "invalid_client");
  // The GP's key cannot speak for the hospice (iss and sub both say hospice).
  expectError(ask(auth::testing::sign(g().assertionClaims("hospice"), clientKey("gp1"), "k1")),
              400, "invalid_client");
}

TEST_F(TokenEndpointServer, MalformedRequestsAreInvalidRequest) {
  auto post = [&](const std::string& body, const std::string& type) {
    return g().server().post("/token", body, {{"Content-Type", type}});
  };
  std::string a = g().assertion("hospice");
  Form good = {{"grant_type", "client_credentials"},
               {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
               {"client_assertion", a},
               {"scope", "system/CarePlan.rs"}};
  expectError(post(formEncode(good), "application/json"), 400, "invalid_request");
  Form badType = good;
  badType[1].second = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer";
  expectError(post(formEncode(badType), "application/x-www-form-urlencoded"), 400,
              "invalid_request");
  Form grant = good;
  grant[0].second = "authorization_code";
  expectError(post(formEncode(grant), "application/x-www-form-urlencoded"), 400,
              "unsupported_grant_type");
  Form secret = good;
  secret.push_back({"client_secret", "s3cret"});
  expectError(post(formEncode(secret), "application/x-www-form-urlencoded"), 400,
              "invalid_request");
  Form twice = good;
  twice.push_back({"scope", "system/Patient.rs"});
  expectError(post(formEncode(twice), "application/x-www-form-urlencoded"), 400,
              "invalid_request");
  // None of these used the assertion up.
  EXPECT_EQ(post(formEncode(good), "application/x-www-form-urlencoded").status, 200);
}

}  // namespace
}  // namespace acp::testing::security
