#include "gateway/auth/smart_auth.h"

#include <cstdlib>
#include <utility>

#include "gateway/core/ids.h"

namespace acp::auth {

namespace {

Status config(const std::string& why) { return Status::invalid("auth.bad-config: " + why); }

BearerCheck refused(BearerFailure failure, const char* reason) {
  BearerCheck c;
  c.failure = failure;
  c.reason = reason;
  return c;
}

}  // namespace

Result<std::unique_ptr<SmartAuth>> SmartAuth::create(SmartAuthOptions options,
                                                     std::shared_ptr<ReplayGuard> guard) {
  if (options.baseUrl.empty()) {
    return config("gateway.http.baseUrl is required with gateway.auth.mode=smart");
  }
  if (options.baseUrl.rfind("https://", 0) != 0 && options.baseUrl.rfind("http://", 0) != 0) {
    return config("gateway.http.baseUrl must be an absolute http(s) URL");
  }
  while (!options.baseUrl.empty() && options.baseUrl.back() == '/') options.baseUrl.pop_back();
  if (options.clientsFile.empty()) {
    return config("gateway.auth.clients is required with gateway.auth.mode=smart");
  }
  if (options.clockSkewSeconds < 0 || options.clockSkewSeconds > 300) {
    return config("the clock skew must be 0 to 300 seconds");
  }
  if (!guard) return config("no replay guard");
  if (!options.nowMs) options.nowMs = [] { return nowMillis(); };

  std::unique_ptr<SmartAuth> a(new SmartAuth());
  auto registry = ClientRegistry::open(options.clientsFile);
  if (!registry.isOk()) return registry.status();
  a->registry_ = registry.take();

  auto key = loadOrGenerateTokenKey(options.tokenKeyFile);
  if (!key.isOk()) return key.status();
  TokenServiceOptions t;
  t.issuer = options.baseUrl;
  t.lifetimeSeconds = options.tokenLifetimeSeconds;
  t.clockSkewMs = int64_t{options.clockSkewSeconds} * 1000;
  t.nowMs = options.nowMs;
  auto tokens = TokenService::create(key.take(), t);
  if (!tokens.isOk()) return tokens.status();
  a->tokens_ = tokens.take();

  a->guard_ = std::move(guard);
  a->policy_.tokenUrl = options.baseUrl + "/token";
  a->policy_.clockSkewMs = t.clockSkewMs;
  a->lastCheckMs_ = options.nowMs();
  a->options_ = std::move(options);
  return a;
}

json::Value SmartAuth::configuration(const std::vector<std::string>& resourceTypes) const {
  return smartConfiguration(options_.baseUrl, resourceTypes);
}

void SmartAuth::reloadClientsIfDue() {
  int64_t now = options_.nowMs();
  int64_t last = lastCheckMs_.load();
  if (now - last < options_.reloadIntervalMs && now >= last) return;
  if (!lastCheckMs_.compare_exchange_strong(last, now)) return;  // another thread checks
  auto reloaded = registry_->reloadIfChanged();
  if (options_.onReload && (!reloaded.isOk() || reloaded.value())) {
    options_.onReload(reloaded.isOk() ? Status::ok() : reloaded.status());
  }
}

TokenResult SmartAuth::token(const TokenRequest& request) {
  reloadClientsIfDue();
  std::shared_ptr<const ClientSet> clients = registry_->snapshot();
  TokenEndpoint endpoint{*clients, *guard_, *tokens_, policy_};
  return handleTokenRequest(request, endpoint);
}

BearerCheck SmartAuth::authenticate(std::string_view authorizationHeader) {
  reloadClientsIfDue();
  auto token = bearerToken(authorizationHeader);
  if (!token) {
    return refused(BearerFailure::kMissing, "A bearer access token is required.");
  }
  BearerCheck check = tokens_->verify(*token);
  if (!check.ok) return check;
  std::shared_ptr<const ClientSet> clients = registry_->snapshot();
  const Client* client = clients->find(check.principal.clientId);
  if (!client || !client->enabled) {
    return refused(BearerFailure::kInvalid, "The token's client is no longer registered.");
  }
  if (client->role != check.principal.role ||
      client->organisation != check.principal.organisation) {
    return refused(BearerFailure::kInvalid, "The token's client registration has changed.");
  }
  check.principal.scopes = client->scopes.grant(check.principal.scopes);
  return check;
}

Result<IssuedLaunch> SmartAuth::issueLaunch(const Principal& who, const LaunchContext& c) const {
  if (!mayLaunch(who.role) || c.patientId.empty())
    return Status::invalid("auth.bad-launch: a GP practice or urgent care, and a patient");
  json::Value claims = json::Value::makeObject();
  auto set = [&claims](const char* k, const std::string& v) {
    if (!v.empty()) claims.set(k, json::Value::makeString(v));
  };
  set("client_id", who.clientId);
  set("organisation", who.organisation);
  set("role", roleName(who.role));
  set("scope", who.scopes.toString());
  set("patient", c.patientId);
  set("purpose", c.purpose);
  set("break_glass_reason", c.breakGlassReason);
  set("user_id", c.userId);
  set("user_name", c.userName);
  set("jti", newUuid());
  IssuedLaunch out;
  auto link = tokens_->seal(kLaunchPurpose, std::move(claims), kLaunchSeconds, &out.expiresAtMs);
  if (!link.isOk()) return link.status();
  out.link = link.take();
  return out;
}

LaunchRedemption SmartAuth::redeemLaunch(std::string_view link) {
  reloadClientsIfDue();
  LaunchRedemption r;
  json::Value expired;
  auto claims = tokens_->unseal(link, kLaunchPurpose, &expired);
  const bool late = !claims.isOk() && claims.status().code() == Status::Code::kGone;
  if (!claims.isOk() && !late) {  // not a link of this gateway
    r.status = claims.status();
    return r;
  }
  const json::Value c = late ? std::move(expired) : claims.take();
  LaunchGrant g;
  g.principal.clientId = c.getString("client_id");
  g.principal.organisation = c.getString("organisation");
  g.principal.role = roleFromName(c.getString("role"));
  g.context.patientId = c.getString("patient");
  g.context.purpose = c.getString("purpose");
  g.context.breakGlassReason = c.getString("break_glass_reason");
  g.context.userId = c.getString("user_id");
  g.context.userName = c.getString("user_name");
  g.jti = c.getString("jti");
  const json::Value* exp = c.find("exp");  // seal() wrote it as whole seconds; unseal() checked it
  g.expiresAtMs = exp && exp->isNumber() ? std::strtoll(exp->text().c_str(), nullptr, 10) * 1000 : 0;
  if (g.principal.clientId.empty() || g.principal.role == Role::kNone ||
      g.context.patientId.empty() || g.jti.empty() || g.expiresAtMs == 0) {
    r.status = Status::invalid("auth.bad-statement: not a statement of this gateway");
    return r;
  }
  g.principal.tokenId = g.jti;
  g.principal.expiresAtMs = g.expiresAtMs;
  r.grant = g;  // from here on, the refusal names the link's client and child
  if (late) {
    r.status = Status::gone("auth.launch-expired");
    return r;
  }
  // Once only: a link in a browser's history, a proxy's log or over a shoulder opens nothing.
  // Kept past the link's life by twice the clock tolerance, so that an instance whose clock
  // is behind never finds it forgotten while it would still accept it.
  auto first = guard_->firstUse("view-launch:" + g.principal.clientId, g.jti,
                                g.expiresAtMs + int64_t{options_.clockSkewSeconds} * 2000);
  if (!first.isOk()) {
    r.status = first.status();
    return r;
  }
  if (!first.value()) {
    r.status = Status::gone("auth.launch-used");
    return r;
  }
  // The client as registered now: disabled, or changed, and its links open nothing.
  std::shared_ptr<const ClientSet> clients = registry_->snapshot();
  const Client* client = clients->find(g.principal.clientId);
  if (!client || !client->enabled || client->role != g.principal.role ||
      client->organisation != g.principal.organisation || !mayLaunch(client->role)) {
    r.status = Status::precondition("auth.launch-client: the client is no longer registered as it was");
    return r;
  }
  r.grant->principal.scopes = client->scopes.grant(ScopeSet::parse(c.getString("scope")));
  r.status = Status::ok();
  return r;
}

}  // namespace acp::auth
