// Who owns a Subscription: the client that wrote it, recorded by the server in meta.tag (three
// codings: the client id, its organisation's ODS code, its role), never taken from the client.
// Only the owner's organisation reads or changes it (access_policy.h), and each notification
// is delivered only when the owner may see the resource it is about, a plan the child has not
// consented to share going out as its outline (notify/notifier.h). A Subscription written by
// the local superuser (gateway.auth.mode=none) has no owner tags and notifies as the superuser.
// Pure functions; thread-safe.
#pragma once

#include <optional>

#include "gateway/auth/principal.h"
#include "gateway/core/json.h"

namespace acp::access {

extern const char* const kOwnerClientSystem;
extern const char* const kOwnerOrganisationSystem;
extern const char* const kOwnerRoleSystem;

// Removes any owner tags the client sent and, unless `owner` is the superuser, adds the
// owner's.
void stampOwner(json::Value& subscription, const auth::Principal& owner);

// The owner as a principal to decide with (client id, organisation, role; scopes to read
// everything its role may); nullopt when the Subscription carries no owner (the superuser's).
std::optional<auth::Principal> ownerOf(const json::Value& subscription);

}  // namespace acp::access
