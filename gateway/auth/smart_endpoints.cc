#include "gateway/auth/smart_endpoints.h"

#include "gateway/auth/form_body.h"

namespace acp::auth {

namespace {

json::Value str(const std::string& s) { return json::Value::makeString(s); }

json::Value strings(std::initializer_list<const char*> items) {
  json::Value a = json::Value::makeArray();
  for (const char* s : items) a.push(str(s));
  return a;
}

void noStore(TokenResult& r) {
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Pragma", "no-cache");
}

TokenResult fail(const OAuthError& e, std::string clientId = "") {
  TokenResult r;
  r.status = e.status;
  r.body = json::Value::makeObject();
  r.body.set("error", str(e.error));
  r.body.set("error_description", str(e.description));
  r.clientId = std::move(clientId);
  r.error = e.error;
  r.reason = e.description;
  noStore(r);
  return r;
}

TokenResult fail(int status, const char* error, const std::string& description) {
  return fail(OAuthError{status, error, description});
}

// The auth-scheme of an Authorization header value ("Basic", ...), letters only.
std::string schemeOf(const std::string& authorization) {
  std::string scheme;
  for (char c : authorization) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '-')) {
      break;
    }
    scheme += c;
  }
  return scheme.empty() || scheme.size() > 32 ? "Basic" : scheme;
}

}  // namespace

json::Value smartConfiguration(const std::string& baseUrl,
                               const std::vector<std::string>& resourceTypes) {
  json::Value c = json::Value::makeObject();
  c.set("token_endpoint", str(baseUrl + "/token"));
  c.set("token_endpoint_auth_methods_supported", strings({"private_key_jwt"}));
  c.set("token_endpoint_auth_signing_alg_values_supported", strings({"RS384", "ES384"}));
  c.set("grant_types_supported", strings({"client_credentials"}));
  json::Value scopes = strings({"system/*.read", "system/*.rs", "system/*.write", "system/*.cud"});
  for (const auto& t : resourceTypes) {
    scopes.push(str("system/" + t + ".read"));
    scopes.push(str("system/" + t + ".rs"));
  }
  c.set("scopes_supported", std::move(scopes));
  c.set("capabilities",
        strings({"client-confidential-asymmetric", "permission-v1", "permission-v2"}));
  return c;
}

TokenResult handleTokenRequest(const TokenRequest& request, const TokenEndpoint& endpoint) {
  if (!isFormContentType(request.contentType)) {
    return fail(400, "invalid_request",
                "The token request must be application/x-www-form-urlencoded.");
  }
  FormBody form = parseFormBody(request.body);
  if (!form.ok) return fail(400, "invalid_request", form.error);

  const std::string& grantType = form.get("grant_type");
  if (grantType.empty()) return fail(400, "invalid_request", "grant_type is missing.");
  if (grantType != "client_credentials") {
    return fail(400, "unsupported_grant_type", "Only the client_credentials grant is supported.");
  }
  const std::string& assertionType = form.get("client_assertion_type");
  const std::string& assertion = form.get("client_assertion");
  if (!request.authorization.empty() && assertion.empty()) {
    TokenResult r = fail(401, "invalid_client",
                         "Clients authenticate with a private_key_jwt client assertion.");
    r.headers.emplace_back("WWW-Authenticate",
                           schemeOf(request.authorization) + " realm=\"acp-gateway\"");
    return r;
  }
  if (!request.authorization.empty() || !form.get("client_secret").empty()) {
    return fail(400, "invalid_request", "Use one client authentication method only.");
  }
  if (assertionType.empty()) {
    return fail(400, "invalid_request", "client_assertion_type is missing.");
  }
  if (assertionType != kJwtBearerAssertionType) {
    return fail(400, "invalid_request",
                "client_assertion_type must be "
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer.");
  }
  if (assertion.empty()) return fail(400, "invalid_request", "client_assertion is missing.");

  AssertionCheck check =
      checkClientAssertion(assertion, form.get("client_id"), endpoint.clients, endpoint.guard,
                           endpoint.policy, endpoint.tokens.now());
  if (!check.ok) return fail(check.error, check.claimedClientId);
  const Client& client = *check.client;
  // Over mutual TLS the connection is an organisation's: its token is for that organisation's
  // clients only (a token would be refused on this connection anyway; refused here, none is
  // issued).
  if (!request.certificateOrganisation.empty() || !request.certificateSubject.empty()) {
    if (request.certificateOrganisation.empty()) {
      return fail({400, "invalid_client",
                   "The client certificate names no organisation (its OU is the ODS code)."},
                  client.clientId);
    }
    if (request.certificateOrganisation != client.organisation) {
      return fail({400, "invalid_client",
                   "The client is registered to another organisation than the client "
                   "certificate's."},
                  client.clientId);
    }
  }

  const std::string& scope = form.get("scope");
  if (scope.empty()) return fail({400, "invalid_scope", "scope is missing."}, client.clientId);
  std::vector<std::string> rejected;
  ScopeSet requested = ScopeSet::parse(scope, &rejected);
  if (!rejected.empty()) {
    return fail({400, "invalid_scope",
                 "Only system scopes (system/Type.read|write|*, or v2 letters cruds) are "
                 "supported."},
                client.clientId);
  }
  ScopeSet granted = client.scopes.grant(requested);
  if (granted.empty()) {
    return fail({400, "invalid_scope", "None of the requested scopes is allowed for this client."},
                client.clientId);
  }

  auto token = endpoint.tokens.issue(client, granted);
  if (!token.isOk()) {
    return fail({500, "server_error", "The access token could not be issued."}, client.clientId);
  }
  TokenResult r;
  r.status = 200;
  r.body = json::Value::makeObject();
  r.body.set("access_token", str(token.value().accessToken));
  r.body.set("token_type", str("bearer"));
  r.body.set("expires_in", json::Value::makeNumber(std::to_string(token.value().expiresIn)));
  r.body.set("scope", str(token.value().scope));
  r.issued = true;
  r.clientId = client.clientId;
  r.scope = token.value().scope;
  r.tokenId = token.value().jti;
  noStore(r);
  return r;
}

}  // namespace acp::auth
