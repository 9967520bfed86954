#include "gateway/auth/principal.h"

namespace acp::auth {

namespace {

struct RoleName {
  Role role;
  const char* name;
};

constexpr RoleName kRoleNames[] = {
    {Role::kSourceSystem, "source-system"},
    {Role::kGpPractice, "gp-practice"},
    {Role::kUrgentCare, "urgent-care"},
    {Role::kPrivacyOfficer, "privacy-officer"},
    {Role::kServiceOperator, "service-operator"},
};

}  // namespace

Role roleFromName(const std::string& name) {
  for (const auto& r : kRoleNames) {
    if (name == r.name) return r.role;
  }
  return Role::kNone;
}

const char* roleName(Role role) {
  for (const auto& r : kRoleNames) {
    if (role == r.role) return r.name;
  }
  switch (role) {
    case Role::kSuperuser:
      return "superuser";
    default:
      return "none";
  }
}

}  // namespace acp::auth
