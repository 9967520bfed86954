#include "gateway/access/subscription_owner.h"

#include <algorithm>

namespace acp::access {

const char* const kOwnerClientSystem = "https://acp-gateway.nhs.uk/CodeSystem/subscription-owner-client";
const char* const kOwnerOrganisationSystem =
    "https://acp-gateway.nhs.uk/CodeSystem/subscription-owner-organisation";
const char* const kOwnerRoleSystem = "https://acp-gateway.nhs.uk/CodeSystem/subscription-owner-role";

namespace {

bool isOwnerTag(const json::Value& c) {
  const std::string& s = c.getString("system");
  return s == kOwnerClientSystem || s == kOwnerOrganisationSystem || s == kOwnerRoleSystem;
}

json::Value tag(const char* system, const std::string& code) {
  json::Value c = json::Value::makeObject();
  c.set("system", json::Value::makeString(system));
  c.set("code", json::Value::makeString(code));
  return c;
}

}  // namespace

void stampOwner(json::Value& subscription, const auth::Principal& owner) {
  json::Value* meta = subscription.find("meta");
  if (meta && meta->isObject())
    if (json::Value* tags = meta->find("tag"); tags && tags->isArray()) {
      auto& items = tags->items();
      items.erase(std::remove_if(items.begin(), items.end(), isOwnerTag), items.end());
      if (items.empty()) meta->erase("tag");
    }
  if (owner.superuser()) return;
  if (!meta || !meta->isObject()) meta = &subscription.set("meta", json::Value::makeObject());
  json::Value* tags = meta->find("tag");
  if (!tags || !tags->isArray()) tags = &meta->set("tag", json::Value::makeArray());
  tags->push(tag(kOwnerClientSystem, owner.clientId));
  tags->push(tag(kOwnerOrganisationSystem, owner.organisation));
  tags->push(tag(kOwnerRoleSystem, auth::roleName(owner.role)));
}

std::optional<auth::Principal> ownerOf(const json::Value& subscription) {
  const json::Value* meta = subscription.find("meta");
  const json::Value* tags = meta ? meta->find("tag") : nullptr;
  if (!tags || !tags->isArray()) return std::nullopt;
  auth::Principal p;
  bool found = false;
  for (const json::Value& c : tags->items()) {
    const std::string& s = c.getString("system");
    if (s == kOwnerClientSystem) p.clientId = c.getString("code"), found = true;
    if (s == kOwnerOrganisationSystem) p.organisation = c.getString("code");
    if (s == kOwnerRoleSystem) p.role = auth::roleFromName(c.getString("code"));
  }
  if (!found) return std::nullopt;
  p.scopes = auth::ScopeSet::parse("system/*.read");
  return p;
}

}  // namespace acp::access
