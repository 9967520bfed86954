// ScopeSet (v1 and v2 SMART system scopes) and role names.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/auth/principal.h"
#include "gateway/auth/scopes.h"

namespace acp::auth {
namespace {

using I = Interaction;

struct AllowCase {
  const char* scopes;
  const char* type;
  Interaction interaction;
  bool allowed;
};

class ScopeAllows : public ::testing::TestWithParam<AllowCase> {};

TEST_P(ScopeAllows, AsTheSmartSpecSays) {
  const AllowCase& c = GetParam();
  std::vector<std::string> rejected;
  ScopeSet s = ScopeSet::parse(c.scopes, &rejected);
  EXPECT_TRUE(rejected.empty()) << c.scopes;
  EXPECT_EQ(s.allows(c.type, c.interaction), c.allowed)
      << c.scopes << " " << c.type << " " << static_cast<int>(c.interaction);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ScopeAllows,
    ::testing::Values(
        // v1 read = read, vread, history (kRead) and search; never writes.
        AllowCase{"system/CarePlan.read", "CarePlan", I::kRead, true},
        AllowCase{"system/CarePlan.read", "CarePlan", I::kSearch, true},
        AllowCase{"system/CarePlan.read", "CarePlan", I::kCreate, false},
        AllowCase{"system/CarePlan.read", "CarePlan", I::kUpdate, false},
        AllowCase{"system/CarePlan.read", "CarePlan", I::kDelete, false},
        AllowCase{"system/CarePlan.read", "Patient", I::kRead, false},
        // v1 write = create, update, delete; never reads.
        AllowCase{"system/CarePlan.write", "CarePlan", I::kCreate, true},
        AllowCase{"system/CarePlan.write", "CarePlan", I::kUpdate, true},
        AllowCase{"system/CarePlan.write", "CarePlan", I::kDelete, true},
        AllowCase{"system/CarePlan.write", "CarePlan", I::kRead, false},
        AllowCase{"system/CarePlan.write", "CarePlan", I::kSearch, false},
        // v1 * and wildcard types.
        AllowCase{"system/CarePlan.*", "CarePlan", I::kDelete, true},
        AllowCase{"system/CarePlan.*", "CarePlan", I::kSearch, true},
        AllowCase{"system/*.read", "Consent", I::kSearch, true},
        AllowCase{"system/*.read", "Consent", I::kUpdate, false},
        AllowCase{"system/*.write", "Flag", I::kCreate, true},
        AllowCase{"system/*.*", "AuditEvent", I::kRead, true},
        // v2 letters, each on its own.
        AllowCase{"system/CarePlan.c", "CarePlan", I::kCreate, true},
        AllowCase{"system/CarePlan.c", "CarePlan", I::kUpdate, false},
        AllowCase{"system/CarePlan.r", "CarePlan", I::kRead, true},
        AllowCase{"system/CarePlan.r", "CarePlan", I::kSearch, false},
        AllowCase{"system/CarePlan.s", "CarePlan", I::kSearch, true},
        AllowCase{"system/CarePlan.s", "CarePlan", I::kRead, false},
        AllowCase{"system/CarePlan.u", "CarePlan", I::kUpdate, true},
        AllowCase{"system/CarePlan.d", "CarePlan", I::kDelete, true},
        AllowCase{"system/CarePlan.rs", "CarePlan", I::kRead, true},
        AllowCase{"system/CarePlan.rs", "CarePlan", I::kSearch, true},
        AllowCase{"system/CarePlan.rs", "CarePlan", I::kCreate, false},
        AllowCase{"system/CarePlan.cud", "CarePlan", I::kUpdate, true},
        AllowCase{"system/CarePlan.cud", "CarePlan", I::kRead, false},
        AllowCase{"system/*.cruds", "Patient", I::kDelete, true},
        AllowCase{"system/*.rs", "Patient", I::kRead, true},
        // Several scopes: the union.
        AllowCase{"system/CarePlan.rs system/Patient.r", "Patient", I::kRead, true},
        AllowCase{"system/CarePlan.rs system/Patient.r", "Patient", I::kSearch, false},
        AllowCase{"", "Patient", I::kRead, false}));

TEST(ScopeParse, RefusesEverythingThatIsNotASystemScope) {
  for (const char* bad :
       {"patient/CarePlan.read", "user/*.read", "launch", "offline_access", "openid",
        "system/CarePlan", "system/CarePlan.", "system/.read", "system/careplan.read",
        "system/Care-Plan.read", "system/CarePlan.sr", "system/CarePlan.rr", "system/CarePlan.x",
        "system/CarePlan.READ", "system/CarePlan.rs?category=x",
        "system/Observation.rs?code=http://loinc.org|1234-5", "System/CarePlan.read",
        "system/**.read"}) {
    std::vector<std::string> rejected;
    ScopeSet s = ScopeSet::parse(bad, &rejected);
    EXPECT_TRUE(s.empty()) << bad;
    ASSERT_EQ(rejected.size(), 1u) << bad;
    EXPECT_EQ(rejected[0], bad);
  }
}

TEST(ScopeParse, KeepsOrderSkipsDuplicatesAndExtraSpaces) {
  std::vector<std::string> rejected;
  ScopeSet s = ScopeSet::parse("  system/Patient.rs launch system/CarePlan.read  system/Patient.rs",
                               &rejected);
  EXPECT_EQ(s.toString(), "system/Patient.rs system/CarePlan.read");
  EXPECT_EQ(rejected, std::vector<std::string>{"launch"});
  EXPECT_EQ(ScopeSet::parse(s.toString()).toString(), s.toString());
}

TEST(ScopeParse, AllIsEverything) {
  ScopeSet all = ScopeSet::all();
  EXPECT_EQ(all.toString(), "system/*.*");
  for (I i : {I::kCreate, I::kRead, I::kUpdate, I::kDelete, I::kSearch}) {
    EXPECT_TRUE(all.allows("CarePlan", i));
  }
}

struct GrantCase {
  const char* allowed;
  const char* requested;
  const char* granted;
};

class ScopeGrant : public ::testing::TestWithParam<GrantCase> {};

TEST_P(ScopeGrant, NeverMoreThanAskedOrAllowed) {
  const GrantCase& c = GetParam();
  ScopeSet allowed = ScopeSet::parse(c.allowed);
  ScopeSet requested = ScopeSet::parse(c.requested);
  ScopeSet granted = allowed.grant(requested);
  EXPECT_EQ(granted.toString(), c.granted) << "allowed " << c.allowed << ", asked " << c.requested;
  // Whatever is granted is allowed and was asked for.
  for (const char* type : {"CarePlan", "Patient", "Consent", "Flag"}) {
    for (I i : {I::kCreate, I::kRead, I::kUpdate, I::kDelete, I::kSearch}) {
      if (granted.allows(type, i)) {
        EXPECT_TRUE(allowed.allows(type, i)) << type;
        EXPECT_TRUE(requested.allows(type, i)) << type;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ScopeGrant,
    ::testing::Values(
        // Covered whole: kept as written.
        GrantCase{"system/CarePlan.rs system/Patient.rs", "system/CarePlan.read",
                  "system/CarePlan.read"},
        GrantCase{"system/CarePlan.read", "system/CarePlan.rs", "system/CarePlan.rs"},
        GrantCase{"system/*.read", "system/Patient.r system/CarePlan.read",
                  "system/Patient.r system/CarePlan.read"},
        GrantCase{"system/*.rs system/CarePlan.cud", "system/CarePlan.cruds",
                  "system/CarePlan.cruds"},
        // Not touched at all: dropped.
        GrantCase{"system/CarePlan.rs", "system/Patient.read", ""},
        GrantCase{"system/CarePlan.rs", "system/CarePlan.write", ""},
        GrantCase{"system/CarePlan.rs", "system/Patient.read system/CarePlan.s",
                  "system/CarePlan.s"},
        // Narrowed: the part allowed, in the requested syntax when it can say it.
        GrantCase{"system/CarePlan.rs system/Patient.read", "system/*.read",
                  "system/CarePlan.read system/Patient.read"},
        GrantCase{"system/CarePlan.rs system/Patient.rs", "system/*.rs",
                  "system/CarePlan.rs system/Patient.rs"},
        GrantCase{"system/CarePlan.r", "system/CarePlan.read", "system/CarePlan.r"},
        GrantCase{"system/CarePlan.*", "system/*.write", "system/CarePlan.write"},
        GrantCase{"system/*.rs", "system/*.*", "system/*.read"},
        GrantCase{"system/*.rs system/CarePlan.cud", "system/*.*",
                  "system/*.read system/CarePlan.write"},
        GrantCase{"system/CarePlan.rs system/CarePlan.c", "system/CarePlan.cruds",
                  "system/CarePlan.crs"},
        GrantCase{"system/*.read", "system/CarePlan.cruds", "system/CarePlan.rs"},
        GrantCase{"", "system/*.read", ""}));

TEST(Roles, NamesRoundTripAndSuperuserCannotBeRegistered) {
  for (Role r : {Role::kSourceSystem, Role::kGpPractice, Role::kUrgentCare,
                 Role::kPrivacyOfficer, Role::kServiceOperator}) {
    EXPECT_EQ(roleFromName(roleName(r)), r) << roleName(r);
  }
  EXPECT_STREQ(roleName(Role::kGpPractice), "gp-practice");
  EXPECT_STREQ(roleName(Role::kSourceSystem), "source-system");
  EXPECT_EQ(roleFromName("superuser"), Role::kNone);
  EXPECT_EQ(roleFromName("none"), Role::kNone);
  EXPECT_EQ(roleFromName("GP-Practice"), Role::kNone);
  EXPECT_EQ(roleFromName(""), Role::kNone);
  Principal p;
  EXPECT_FALSE(p.authenticated());
  p.role = Role::kSuperuser;
  EXPECT_TRUE(p.authenticated());
  EXPECT_TRUE(p.superuser());
}

}  // namespace
}  // namespace acp::auth
