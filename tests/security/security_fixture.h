// The security tests' world: a real gateway in gateway.auth.mode=smart (TestServer with a
// client registry), the partners' clients with real keys, and helpers to get tokens the way
// a client does (a signed assertion at POST /token) and to forge what an attacker can send.
//
// Base URL. Smart mode needs gateway.http.baseUrl, which is the token URL's prefix and the
// issuer of the gateway's tokens — never derived from the Host header. It need not be the
// address the server is bound to (a deployed gateway is reached through its public name), so
// the server binds port 0 as every TestServer does and the base URL is the fixed
// https://gateway.test/fhir (auth::testing::kBase): no port is chosen before the server
// starts, and nothing can take it in between.
//
// Clients (one registry for every test; keys from tests/auth/auth_fixture.h):
//   hospice    8WB01   source-system     system/*.read system/*.write      EC  (ES384)
//   community  RX9     source-system     system/*.cruds                    EC
//   hospital   RX8     source-system     system/*.crus                     EC
//   gp1        X81001  gp-practice       kGpScopes                         RSA (RS384)
//   gp2        X81002  gp-practice       kGpScopes                         EC
//   urgent     X82001  urgent-care       system/*.rs                       EC
//   privacy    X99PO   privacy-officer   system/*.rs                       EC
//   operator   X99OPS  service-operator  system/*.rs                       EC
// The gateway signs its tokens with a key the test knows (gateway.auth.tokenKey), so tests
// can make genuine-but-expired tokens; otherEcKey() is a stranger's key.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/auth/base64url.h"
#include "gateway/auth/jws.h"
#include "gateway/auth/keys.h"
#include "gateway/core/ids.h"
#include "gateway/core/json.h"
#include "tests/auth/auth_fixture.h"
#include "tests/auth/smart_fixture.h"
#include "tests/support/test_server.h"

namespace acp::testing::security {

using auth::testing::Form;
using auth::testing::formEncode;
using auth::testing::kBase;
using auth::testing::kTokenUrl;
using Headers = std::map<std::string, std::string>;

inline constexpr const char* kGpScopes =
    "system/Patient.rs system/CarePlan.rs system/Flag.rs system/Encounter.rs "
    "system/Consent.rs system/CareTeam.rs system/Subscription.cruds";

// The hospice sample's child (registered with X81001), and a child only the hospital knows
// (no GP in its messages).
inline constexpr const char* kChildNhs = "9992530820";
inline constexpr const char* kOtherNhs = "9990810117";
inline const std::string kNhsSystem = "https://fhir.nhs.uk/Id/nhs-number";

struct ClientSpec {
  std::string id, organisation, role, scopes;
  bool rsa = false;
};

inline const std::vector<ClientSpec>& clientSpecs() {
  static const std::vector<ClientSpec> specs = {
      {"hospice", "8WB01", "source-system", "system/*.read system/*.write"},
      {"community", "RX9", "source-system", "system/*.cruds"},
      {"hospital", "RX8", "source-system", "system/*.crus"},
      {"gp1", "X81001", "gp-practice", kGpScopes, /*rsa=*/true},
      {"gp2", "X81002", "gp-practice", kGpScopes},
      {"urgent", "X82001", "urgent-care", "system/*.rs"},
      {"privacy", "X99PO", "privacy-officer", "system/*.rs"},
      {"operator", "X99OPS", "service-operator", "system/*.rs"},
  };
  return specs;
}

inline const ClientSpec& specOf(const std::string& id) {
  for (const ClientSpec& s : clientSpecs())
    if (s.id == id) return s;
  ADD_FAILURE() << "no client " << id;
  return clientSpecs()[0];
}

inline const auth::Key& clientKey(const std::string& id) {
  return specOf(id).rsa ? auth::testing::rsaKey() : auth::testing::ecKey();
}

inline std::string registryText() {
  std::string out = R"({"clients":[)";
  bool first = true;
  for (const ClientSpec& s : clientSpecs()) {
    if (!first) out += ",";
    first = false;
    out += R"({"clientId":")" + s.id + R"(","organisation":")" + s.organisation +
           R"(","role":")" + s.role + R"(","scopes":")" + s.scopes + R"(","jwks":)" +
           auth::testing::jwksText({auth::testing::jwkWithKid(clientKey(s.id), "k1")}) + "}";
  }
  return out + "]}";
}

// The gateway's token key (EC P-384), made once per test binary.
inline const auth::Key& gatewayKey() {
  static auth::Key key = [] {
    auto k = auth::generateKey(auth::KeyType::kEcP384);
    EXPECT_TRUE(k.isOk());
    return k.take();
  }();
  return key;
}

inline json::Value str(const std::string& s) { return json::Value::makeString(s); }
inline json::Value num(int64_t n) { return json::Value::makeNumber(std::to_string(n)); }

inline void replaceOnce(std::string& s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
}

inline std::string hospiceSample() {
  return readRepoFile("mappings/hospice/samples/example-1.2.json");
}
inline std::string communitySample() {
  return readRepoFile("mappings/community/samples/example.xml");
}

// The hospital's ReSPECT form (ORU^R01) for a child, as tests/http/shared_plan_scenarios.
inline std::string respectForm(const std::string& nhs, const std::string& mrn,
                               const std::string& controlId, const std::string& cpr = "MODIFIED") {
  const std::string when = "20261002113000";
  return "MSH|^~\\&|EPR|RX8|ACPGW|NORTHSHIRE|" + when + "||ORU^R01^ORU_R01|" + controlId +
         "|P|2.4|||AL|NE||UNICODE UTF-8\r"
         "PID|1||" + nhs + "^^^NHS^NH~" + mrn + "^^^RX8^MR||Hartley^Amelia^Rose^^Miss||20150314|F\r"
         "OBR|1||RSP-" + controlId + "|1382601000000107^ReSPECT form^SCT|||" + when +
         "||||||||||||||||||F\r"
         "OBX|1|CWE|CPR^CPR recommendation^L||" + cpr + "||||||F\r";
}

// A JWT with any header and claims, signed with `key` (or with no signature at all).
inline std::string signJwt(const json::Value& header, const json::Value& claims,
                           const auth::Key& key) {
  auto jwt = auth::signJws(header, claims, key, auth::jwsAlgFor(key));
  EXPECT_TRUE(jwt.isOk()) << jwt.status().message();
  return jwt.isOk() ? jwt.value() : "";
}

inline int64_t nowSeconds() { return nowMillis() / 1000; }

// The claims of an access token as the gateway issues them, for `client`.
inline json::Value accessClaims(const std::string& client, int64_t iat, int64_t exp,
                                const std::string& scope = "") {
  const ClientSpec& s = specOf(client);
  json::Value c = json::Value::makeObject();
  c.set("iss", str(kBase));
  c.set("aud", str(kBase));
  c.set("sub", str(client));
  c.set("client_id", str(client));
  c.set("organisation", str(s.organisation));
  c.set("role", str(s.role));
  c.set("scope", str(scope.empty() ? s.scopes : scope));
  c.set("jti", str(newUuid()));
  c.set("iat", num(iat));
  c.set("exp", num(exp));
  return c;
}

inline json::Value accessHeader() {
  json::Value h = json::Value::makeObject();
  h.set("typ", str("at+jwt"));
  return h;
}

// A gateway in smart mode with the registry above.
class SecureGateway {
 public:
  explicit SecureGateway(app::Options options = {}) {
    auth::testing::writeFile(dir_.file("clients.json"), registryText());
    auth::testing::writeFile(dir_.file("token-key.pem"), auth::privateKeyPem(gatewayKey()));
    options.authMode = "smart";
    options.authClients = dir_.file("clients.json");
    options.authTokenKey = dir_.file("token-key.pem");
    options.baseUrl = kBase;
    options.flagsIntervalSeconds = 0;
    server_ = std::make_unique<TestServer>(options);
  }

  TestServer& server() { return *server_; }
  const auth::testing::TempDir& dir() const { return dir_; }

  // A client assertion for POST /token, valid unless the claims are changed.
  json::Value assertionClaims(const std::string& client) {
    return auth::testing::claimsFor(client, "jti-" + newUuid(), nowMillis());
  }
  std::string assertion(const std::string& client) {
    return auth::testing::sign(assertionClaims(client), clientKey(client), "k1");
  }

  HttpResult tokenRequest(const std::string& assertion, const std::string& scope) {
    Form f = {{"grant_type", "client_credentials"},
              {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
              {"client_assertion", assertion},
              {"scope", scope}};
    return server_->post("/token", formEncode(f),
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
  }

  // An access token for `client` with `scope` (default: everything it is allowed), got at
  // POST /token; cached per client and scope.
  std::string token(const std::string& client, const std::string& scope = "") {
    std::string asked = scope.empty() ? specOf(client).scopes : scope;
    std::string key = client + " " + asked;
    auto it = tokens_.find(key);
    if (it != tokens_.end()) return it->second;
    HttpResult r = tokenRequest(assertion(client), asked);
    EXPECT_EQ(r.status, 200) << client << ": " << r.body;
    std::string t = r.json.getString("access_token");
    tokens_[key] = t;
    return t;
  }

  // A request with "Authorization: Bearer <token>".
  HttpResult as(const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "", Headers headers = {}) {
    headers["Authorization"] = "Bearer " + token;
    return server_->request(method, path, body, std::move(headers));
  }
  HttpResult client(const std::string& client, const std::string& method,
                    const std::string& path, const std::string& body = "", Headers headers = {}) {
    return as(token(client), method, path, body, std::move(headers));
  }
  HttpResult get(const std::string& client, const std::string& path) {
    return as(token(client), "GET", path);
  }

  // The partners' pushes, with their own clients' tokens.
  HttpResult pushHospice(const std::string& doc, const std::string& client = "hospice") {
    return as(token(client), "POST", "/$ingest/hospice", doc,
              {{"Content-Type", "application/json"}});
  }
  HttpResult pushCommunity(const std::string& doc, const std::string& client = "community") {
    return as(token(client), "POST", "/$ingest/community", doc,
              {{"Content-Type", "application/xml"}});
  }
  HttpResult pushHl7(const std::string& message, const std::string& client = "hospital") {
    return as(token(client), "POST", "/$ingest/hl7v2", message,
              {{"Content-Type", "application/hl7-v2"}});
  }

 private:
  auth::testing::TempDir dir_;
  std::unique_ptr<TestServer> server_;
  std::map<std::string, std::string> tokens_;
};

// The id of the first `type` resource a push reports (its "record" parts' references).
inline std::string pushedId(const HttpResult& push, const std::string& type) {
  const json::Value* params = push.json.find("parameter");
  if (!params) return "";
  for (const json::Value& p : params->items()) {
    if (p.getString("name") != "record") continue;
    const json::Value* parts = p.find("part");
    if (!parts) continue;
    for (const json::Value& part : parts->items()) {
      const json::Value* ref = part.find("valueReference");
      if (part.getString("name") != "resource" || !ref) continue;
      const std::string& r = ref->getString("reference");
      if (r.rfind(type + "/", 0) != 0) continue;
      std::string id = r.substr(type.size() + 1);
      return id.substr(0, id.find('/'));
    }
  }
  return "";
}

// What every relationship test starts from: the child pushed by the hospice, the community
// trust and the hospital in their own formats, and a second child only the hospital knows.
struct World {
  std::string child;              // the Patient all three sources share (GP X81001)
  std::string hospicePlan, communityPlan, hospitalPlan;
  std::string hospiceEncounter, hospiceConsent;
  std::string otherChild, otherPlan;  // the hospital's other patient (no GP)
};

inline World loadWorld(SecureGateway& g) {
  World w;
  HttpResult h = g.pushHospice(hospiceSample());
  EXPECT_EQ(h.status, 200) << h.body;
  HttpResult c = g.pushCommunity(communitySample());
  EXPECT_EQ(c.status, 200) << c.body;
  HttpResult a = g.pushHl7(respectForm(kChildNhs, "M123456", "W1"));
  EXPECT_EQ(a.status, 200) << a.body;
  HttpResult o = g.pushHl7(respectForm(kOtherNhs, "M654321", "W2"));
  EXPECT_EQ(o.status, 200) << o.body;
  w.child = pushedId(h, "Patient");
  EXPECT_EQ(pushedId(c, "Patient"), w.child) << "one child, one Patient";
  EXPECT_EQ(pushedId(a, "Patient"), w.child);
  w.hospicePlan = pushedId(h, "CarePlan");
  w.hospiceEncounter = pushedId(h, "Encounter");
  w.hospiceConsent = pushedId(h, "Consent");
  w.communityPlan = pushedId(c, "CarePlan");
  w.hospitalPlan = pushedId(a, "CarePlan");
  w.otherChild = pushedId(o, "Patient");
  w.otherPlan = pushedId(o, "CarePlan");
  for (const std::string* id : {&w.child, &w.hospicePlan, &w.hospiceEncounter, &w.hospiceConsent,
                                &w.communityPlan, &w.hospitalPlan, &w.otherChild, &w.otherPlan})
    EXPECT_FALSE(id->empty());
  EXPECT_NE(w.otherChild, w.child);
  return w;
}

// A test suite sharing one gateway (and its World) between its tests.
class SharedGateway : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new SecureGateway();
    world_ = loadWorld(*gateway_);
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }
  SecureGateway& g() { return *gateway_; }
  const World& w() { return world_; }

  static inline SecureGateway* gateway_ = nullptr;
  static inline World world_;
};

// The resources of a searchset or history Bundle (not the OperationOutcome entries).
inline std::vector<json::Value> resourcesOf(const HttpResult& r) {
  std::vector<json::Value> out;
  const json::Value* entries = r.json.find("entry");
  if (!entries) return out;
  for (const json::Value& e : entries->items()) {
    const json::Value* res = e.find("resource");
    if (!res || res->getString("resourceType") == "OperationOutcome") continue;
    json::Value v = *res;
    if (v.kind() == json::Kind::kRaw) {
      json::ParseError err;
      json::parse(res->text(), v, err);
    }
    out.push_back(std::move(v));
  }
  return out;
}

inline std::vector<std::string> typesOf(const HttpResult& r) {
  std::vector<std::string> out;
  for (const json::Value& v : resourcesOf(r)) out.push_back(v.getString("resourceType"));
  return out;
}

// The first issue's diagnostics of an OperationOutcome answer.
inline std::string diagnostics(const HttpResult& r) {
  const json::Value* issues = r.json.find("issue");
  return issues && !issues->items().empty() ? issues->items()[0].getString("diagnostics") : "";
}

inline bool hasRedactedLabel(const json::Value& resource) {
  const json::Value* meta = resource.find("meta");
  const json::Value* security = meta ? meta->find("security") : nullptr;
  if (!security) return false;
  for (const json::Value& s : security->items())
    if (s.getString("code") == "REDACTED") return true;
  return false;
}

}  // namespace acp::testing::security
