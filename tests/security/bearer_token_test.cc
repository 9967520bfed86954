// Bearer tokens on the real gateway in smart mode: every route family refuses a request
// without a valid access token with 401, WWW-Authenticate: Bearer and an OperationOutcome, and
// does nothing; /metadata and the SMART configuration are open; a genuine token stops working
// when it expires.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <memory>

#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

struct Route {
  std::string name, method, path, body;
  Headers headers;
};

struct Credential {
  std::string name;
  std::string authorization;  // "" = no Authorization header
  bool tokenGiven = true;     // error="invalid_token" expected
  std::string issueCode = "login";
  std::string errorCode = "auth.invalid-token";
};

const char* kPatientBody =
    R"({"resourceType":"Patient","identifier":[{"system":"https://example.org/marker",)"
    R"("value":"unauthenticated-write"}],"gender":"female"})";

std::vector<Route> routes(const World& w) {
  const std::string patient = "/Patient/" + w.child;
  const std::string byNhs = "identifier=" + kNhsSystem + "|" + kChildNhs;
  const std::string tx =
      R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" +
      std::string(kPatientBody) + R"(,"request":{"method":"POST","url":"Patient"}},)"
      R"({"request":{"method":"DELETE","url":"CarePlan/)" + w.hospicePlan + R"("}}]})";
  const std::string batch =
      R"({"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET",)"
      R"("url":"Patient/)" + w.child + R"("}}]})";
  const Headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  return {
      {"read", "GET", patient, "", {}},
      {"vread", "GET", patient + "/_history/1", "", {}},
      {"instance history", "GET", patient + "/_history", "", {}},
      {"type history", "GET", "/CarePlan/_history", "", {}},
      {"system history", "GET", "/_history", "", {}},
      {"search", "GET", "/CarePlan?subject=Patient/" + w.child, "", {}},
      {"search with _include", "GET", "/CarePlan?_include=CarePlan:subject", "", {}},
      {"POST _search", "POST", "/Patient/_search", byNhs, form},
      {"create", "POST", "/Patient", kPatientBody, {}},
      {"conditional create", "POST", "/Patient", kPatientBody,
       {{"If-None-Exist", "identifier=https://example.org/marker|unauthenticated-write"}}},
      {"update", "PUT", patient, R"({"resourceType":"Patient","id":")" + w.child + R"("})", {}},
      {"conditional update", "PUT", "/Patient?" + byNhs, R"({"resourceType":"Patient"})", {}},
      {"delete", "DELETE", "/CarePlan/" + w.hospicePlan, "", {}},
      {"conditional delete", "DELETE", "/CarePlan?_id=" + w.hospicePlan, "", {}},
      {"transaction", "POST", "/", tx, {}},
      {"batch", "POST", "/", batch, {}},
      {"$acp-summary by id", "GET", patient + "/$acp-summary", "", {}},
      {"$acp-summary by NHS number", "GET", "/Patient/$acp-summary?" + byNhs, "", {}},
      {"hospice push", "POST", "/$ingest/hospice", hospiceSample(),
       {{"Content-Type", "application/json"}}},
      {"community push", "POST", "/$ingest/community", communitySample(),
       {{"Content-Type", "application/xml"}}},
      {"hl7v2 push", "POST", "/$ingest/hl7v2", respectForm(kChildNhs, "M123456", "U1", "DNACPR"),
       {{"Content-Type", "application/hl7-v2"}}},
      {"ingest failures", "GET", "/$ingest/failures", "", {}},
      {"ingest failure replay", "POST", "/$ingest/failures/1/$replay", "", {}},
      {"candidate links", "GET", "/$candidate-links", "", {}},
      {"candidate link decision", "POST", "/$candidate-links/1/$confirm", "", {}},
      {"Subscription", "POST", "/Subscription",
       R"({"resourceType":"Subscription","status":"requested","reason":"x","criteria":"CarePlan",)"
       R"("channel":{"type":"rest-hook","endpoint":"http://127.0.0.1:9/hook"}})",
       {}},
      {"unknown route", "GET", "/NoSuchThing", "", {}},
  };
}

std::string b64(const std::string& s) { return auth::base64UrlEncode(s); }

// HS256 over the token's signing input keyed with the gateway's public key (the classic
// algorithm-confusion forgery: a verifier that takes alg from the token would accept it).
std::string hmacForgery(const json::Value& claims) {
  json::Value header = json::Value::makeObject();
  header.set("alg", str("HS256"));
  header.set("typ", str("at+jwt"));
  std::string input = b64(json::write(header)) + "." + b64(json::write(claims));
  std::string secret = auth::publicKeyPem(gatewayKey());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64(std::string(reinterpret_cast<char*>(mac), len));
}

class BearerTokens : public SharedGateway {
 protected:
  std::vector<Credential> badCredentials() {
    const int64_t now = nowSeconds();
    json::Value valid = accessClaims("hospice", now, now + 300);
    json::Value noneHeader = accessHeader();
    noneHeader.set("alg", str("none"));
    // A genuine token of the gp1 client, its payload swapped for the hospice's (a source
    // system's role): the signature no longer covers what it says.
    std::string genuine = g().token("gp1");
    std::string tampered = genuine.substr(0, genuine.find('.')) + "." +
                           b64(json::write(valid)) + genuine.substr(genuine.rfind('.'));
    json::Value otherServer = accessClaims("hospice", now, now + 300);
    otherServer.set("iss", str("https://other-gateway.test/fhir"));
    otherServer.set("aud", str("https://other-gateway.test/fhir"));
    Credential none{"no Authorization header", "", false, "login", "auth.token-required"};
    Credential basic{"Basic scheme", "Basic aG9zcGljZTpzZWNyZXQ=", false, "login",
                     "auth.token-required"};
    Credential expired{"expired (genuine signature)",
                       "Bearer " + signJwt(accessHeader(), accessClaims("hospice", now - 900,
                                                                        now - 600),
                                           gatewayKey()),
                       true, "expired", "auth.token-expired"};
    return {
        none,
        basic,
        {"malformed", "Bearer not-a-token"},
        {"three random parts", "Bearer aGVsbG8.d29ybGQ.c2lnbmF0dXJl"},
        expired,
        {"alg none", "Bearer " + auth::testing::forge(noneHeader, valid, "")},
        {"HS256 keyed with the public key", "Bearer " + hmacForgery(valid)},
        {"signed by another key",
         "Bearer " + signJwt(accessHeader(), valid, auth::testing::otherEcKey())},
        {"bad signature (tampered claims)", "Bearer " + tampered},
        {"issued for another server", "Bearer " + signJwt(accessHeader(), otherServer,
                                                          gatewayKey())},
        {"a client assertion instead of a token", "Bearer " + g().assertion("hospice")},
    };
  }
};

TEST_F(BearerTokens, EveryRouteRefusesEveryBadCredentialWith401) {
  HttpResult before = g().get("hospice", "/Patient/" + w().child);
  ASSERT_EQ(before.status, 200);
  int checked = 0;
  for (const Route& route : routes(w())) {
    for (const Credential& c : badCredentials()) {
      SCOPED_TRACE(route.name + " with " + c.name);
      Headers headers = route.headers;
      if (!c.authorization.empty()) headers["Authorization"] = c.authorization;
      HttpResult r = g().server().request(route.method, route.path, route.body, headers);
      EXPECT_EQ(r.status, 401) << r.body;
      std::string challenge = r.header("www-authenticate");
      EXPECT_EQ(challenge.rfind("Bearer realm=\"acp-gateway\"", 0), 0u) << challenge;
      if (c.tokenGiven) {
        EXPECT_NE(challenge.find("error=\"invalid_token\""), std::string::npos) << challenge;
        EXPECT_NE(challenge.find("error_description=\""), std::string::npos) << challenge;
      } else {
        EXPECT_EQ(challenge.find("error="), std::string::npos) << challenge;
      }
      EXPECT_EQ(r.json.getString("resourceType"), "OperationOutcome") << r.body;
      EXPECT_EQ(r.issueCode(), c.issueCode) << r.body;
      EXPECT_EQ(r.errorCode(), c.errorCode) << r.body;
      ++checked;
    }
  }
  EXPECT_GT(checked, 250);

  // Nothing was done: the Patient and the plan are as they were, no Patient was created,
  // the hospital's DNACPR form was not taken in.
  HttpResult after = g().get("hospice", "/Patient/" + w().child);
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.header("etag"), before.header("etag"));
  EXPECT_EQ(g().get("hospice", "/CarePlan/" + w().hospicePlan).status, 200);
  HttpResult created =
      g().get("hospice", "/Patient?identifier=https://example.org/marker|unauthenticated-write");
  EXPECT_EQ(created.status, 200);
  EXPECT_TRUE(resourcesOf(created).empty()) << created.body;
  HttpResult plans = g().get("hospital", "/CarePlan?subject=Patient/" + w().child +
                                             "&_count=100");
  EXPECT_EQ(plans.body.find("DNACPR"), std::string::npos);
  EXPECT_EQ(plans.body.find("dnacpr"), std::string::npos);
}

TEST_F(BearerTokens, TheExpiredTokenSaysSo) {
  const int64_t now = nowSeconds();
  std::string expired =
      signJwt(accessHeader(), accessClaims("gp1", now - 900, now - 600), gatewayKey());
  HttpResult r = g().as(expired, "GET", "/Patient/" + w().child);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.issueCode(), "expired");
  const std::string challenge = r.header("www-authenticate");
  EXPECT_NE(challenge.find("error_description=\"The access token has expired.\""),
            std::string::npos)
      << challenge;
}

TEST_F(BearerTokens, ATokenWhoseClaimsDisagreeWithTheRegistryIsRefused) {
  // Signed by the gateway's own key (only the gateway can do that), but naming an
  // organisation or role the registry does not give the client: refused as changed.
  const int64_t now = nowSeconds();
  json::Value otherOrg = accessClaims("gp2", now, now + 300);
  otherOrg.set("organisation", str("X81001"));
  json::Value otherRole = accessClaims("gp1", now, now + 300);
  otherRole.set("role", str("source-system"));
  json::Value unknown = accessClaims("gp1", now, now + 300);
  unknown.set("sub", str("nobody"));
  unknown.set("client_id", str("nobody"));
  for (const json::Value* claims : {&otherOrg, &otherRole, &unknown}) {
    HttpResult r =
        g().as(signJwt(accessHeader(), *claims, gatewayKey()), "GET", "/Patient/" + w().child);
    EXPECT_EQ(r.status, 401) << json::write(*claims);
    EXPECT_EQ(r.errorCode(), "auth.invalid-token");
    EXPECT_NE(r.header("www-authenticate").find("error=\"invalid_token\""), std::string::npos);
  }
  // The same token with the registry's facts is accepted.
  HttpResult ok = g().as(signJwt(accessHeader(), accessClaims("gp1", now, now + 300),
                                 gatewayKey()),
                         "GET", "/Patient/" + w().child);
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(BearerTokens, ScopesInATokenBeyondTheRegistryAreNotHonoured) {
  // A gateway-signed token claiming every scope for the GP: the registry's scopes bound it
  // (smart_auth.h: narrowed to what the registry allows now).
  const int64_t now = nowSeconds();
  std::string wide =
      signJwt(accessHeader(), accessClaims("gp1", now, now + 300, "system/*.*"), gatewayKey());
  HttpResult r = g().as(wide, "POST", "/Patient", kPatientBody);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.errorCode(), "auth.scope");
}

TEST_F(BearerTokens, MetadataAndTheSmartConfigurationAreOpen) {
  HttpResult metadata = g().server().get("/metadata");
  EXPECT_EQ(metadata.status, 200) << metadata.body;
  EXPECT_EQ(metadata.json.getString("resourceType"), "CapabilityStatement");
  // A bad token does not matter there.
  HttpResult withBad = g().server().get("/metadata", {{"Authorization", "Bearer nonsense"}});
  EXPECT_EQ(withBad.status, 200);

  HttpResult config = g().server().get("/.well-known/smart-configuration");
  ASSERT_EQ(config.status, 200) << config.body;
  EXPECT_EQ(config.json.getString("token_endpoint"), kTokenUrl);
  EXPECT_EQ(config.json.find("issuer"), nullptr);
  EXPECT_EQ(config.json.find("jwks_uri"), nullptr);
  EXPECT_EQ(config.json.find("authorization_endpoint"), nullptr);
  EXPECT_NE(config.body.find("private_key_jwt"), std::string::npos);
  EXPECT_NE(config.body.find("client-confidential-asymmetric"), std::string::npos);
  EXPECT_NE(config.body.find("\"ES384\""), std::string::npos);
  EXPECT_NE(config.body.find("\"RS384\""), std::string::npos);
  EXPECT_EQ(g().server().get("/.well-known/smart-configuration",
                             {{"Authorization", "Bearer nonsense"}}).status,
            200);
  // Near misses are not open.
  for (const char* path : {"/metadata/", "/metadata/x", "/.well-known/other"}) {
    HttpResult r = g().server().get(path);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.header("www-authenticate").rfind("Bearer", 0), 0u) << path;
  }
}

TEST_F(BearerTokens, TheTokenEndpointIsNotABearerRoute) {
  // POST /token authenticates the client by its assertion: a request with none is an OAuth
  // error in JSON, never a FHIR 401.
  HttpResult none = g().server().post("/token", "grant_type=client_credentials",
                                      {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(none.status, 400) << none.body;
  EXPECT_EQ(none.json.getString("error"), "invalid_request");
  // A bearer or basic header instead of an assertion: 401 invalid_client with a challenge.
  for (const char* authorization : {"Bearer nonsense", "Basic Z3AxOnNlY3JldA=="}) {
    HttpResult r = g().server().post("/token", "grant_type=client_credentials",
                                     {{"Content-Type", "application/x-www-form-urlencoded"},
                                      {"Authorization", authorization}});
    EXPECT_EQ(r.status, 401) << authorization << ": " << r.body;
    EXPECT_EQ(r.json.getString("error"), "invalid_client");
    EXPECT_FALSE(r.header("www-authenticate").empty());
  }
  HttpResult get = g().server().get("/token");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.header("allow"), "POST");
}

TEST_F(BearerTokens, AGoodTokenIsAcceptedAndTheSchemeIsCaseInsensitive) {
  std::string t = g().token("gp1");
  EXPECT_EQ(g().server().get("/Patient/" + w().child, {{"Authorization", "Bearer " + t}}).status,
            200);
  EXPECT_EQ(g().server().get("/Patient/" + w().child, {{"Authorization", "bearer " + t}}).status,
            200);
  // The token with one character changed in its signature is refused.
  std::string broken = t;
  broken[broken.size() - 5] = broken[broken.size() - 5] == 'A' ? 'B' : 'A';
  HttpResult r = g().as(broken, "GET", "/Patient/" + w().child);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.errorCode(), "auth.invalid-token");
}

// A genuine token stops working once its lifetime (and the 30 s of tolerated clock skew) has
// passed: the gateway's clock is the test's.
TEST(BearerTokenLifetime, AGenuineTokenExpires) {
  auto offsetMs = std::make_shared<std::atomic<int64_t>>(0);
  app::Options o;
  o.authTokenLifetimeSeconds = 30;
  o.clock = [offsetMs] { return nowMillis() + offsetMs->load(); };
  SecureGateway g(o);
  HttpResult issued = g.tokenRequest(g.assertion("gp1"), "system/CarePlan.rs");
  ASSERT_EQ(issued.status, 200) << issued.body;
  ASSERT_NE(issued.json.find("expires_in"), nullptr);
  EXPECT_EQ(issued.json.find("expires_in")->text(), "30");
  std::string t = issued.json.getString("access_token");
  EXPECT_EQ(g.as(t, "GET", "/CarePlan").status, 200);
  offsetMs->store(55 * 1000);  // within lifetime + skew
  EXPECT_EQ(g.as(t, "GET", "/CarePlan").status, 200);
  offsetMs->store(61 * 1000);
  HttpResult r = g.as(t, "GET", "/CarePlan");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.issueCode(), "expired");
  EXPECT_EQ(r.errorCode(), "auth.token-expired");
  EXPECT_NE(r.header("www-authenticate").find("error=\"invalid_token\""), std::string::npos);
}

}  // namespace
}  // namespace acp::testing::security
