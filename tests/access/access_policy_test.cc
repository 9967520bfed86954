// AccessPolicy over a real store filled through the partners' own formats: who has a
// relationship with the child, which plans are withheld for want of consent, and what the
// roles that read no patient data see.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "gateway/access/access_policy.h"
#include "gateway/access/plan_sharing.h"
#include "gateway/ingest/person_index.h"
#include "tests/support/test_server.h"

namespace acp::testing {
namespace {

using access::AccessPolicy;
using access::Relationship;

std::string sample(const std::string& path) {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/" + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void replace(std::string& s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
}

auth::Principal principal(auth::Role role, const std::string& ods) {
  auth::Principal p;
  p.clientId = "client-" + ods;
  p.organisation = ods;
  p.role = role;
  p.scopes = auth::ScopeSet::parse("system/*.read");
  return p;
}

const std::string kChild = ingest::personIdForNhsNumber("9992530820");

// The hospice's sample record of the child. Its key worker works for the community trust;
// with `keyWorkerKnown` false the organisation is renamed to one the organisation map does
// not know, so that the trust has no key-worker relationship and only the others apply.
std::string hospiceRecord(bool keyWorkerKnown) {
  std::string record = sample("hospice/samples/example-1.2.json");
  if (!keyWorkerKnown)
    replace(record, "\"organisation\": \"Northshire Community Health NHS Trust\"",
            "\"organisation\": \"Another Provider\"");
  return record;
}

struct Store {
  explicit Store(app::Options options = {}, bool keyWorkerKnown = false)
      : server(std::move(options)) {
    EXPECT_EQ(server.request("POST", "/$ingest/hospice", hospiceRecord(keyWorkerKnown),
                             {{"Content-Type", "application/json"}})
                  .status,
              200);
  }
  json::Value read(const std::string& type, const std::string& id) {
    HttpResult r = server.get("/" + type + "/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json;
  }
  std::vector<json::Value> search(const std::string& query) {
    std::vector<json::Value> out;
    HttpResult r = server.get(query);
    if (const json::Value* e = r.json.find("entry"))
      for (const json::Value& x : e->items()) out.push_back(*x.find("resource"));
    return out;
  }
  const AccessPolicy& policy() { return *server.gateway().access(); }
  TestServer server;
};

TEST(AccessPolicy, TheRegisteredPracticeAndTheRecordHoldersHaveARelationshipOthersNone) {
  Store store;
  auto gp = principal(auth::Role::kGpPractice, "X81001");
  auto otherGp = principal(auth::Role::kGpPractice, "X81002");
  auto hospice = principal(auth::Role::kSourceSystem, "8WB01");
  auto community = principal(auth::Role::kSourceSystem, "RX9");
  auto urgent = principal(auth::Role::kUrgentCare, "X82001");
  EXPECT_EQ(AccessPolicy::Session(store.policy(), gp).relationship(kChild),
            Relationship::kRegisteredPractice);
  EXPECT_EQ(AccessPolicy::Session(store.policy(), otherGp).relationship(kChild), Relationship::kNone);
  EXPECT_EQ(AccessPolicy::Session(store.policy(), hospice).relationship(kChild),
            Relationship::kRecordHolder);
  EXPECT_EQ(AccessPolicy::Session(store.policy(), community).relationship(kChild),
            Relationship::kNone);
  EXPECT_EQ(AccessPolicy::Session(store.policy(), urgent).relationship(kChild), Relationship::kNone);
  // Once the community trust sends its record of the child, it holds one.
  ASSERT_EQ(store.server.request("POST", "/$ingest/community", sample("community/samples/example.xml"),
                                 {{"Content-Type", "application/xml"}})
                .status,
            200);
  EXPECT_EQ(AccessPolicy::Session(store.policy(), community).relationship(kChild),
            Relationship::kRecordHolder);
  EXPECT_EQ(AccessPolicy::Session(store.policy(), gp).relationship("no-such-patient"),
            Relationship::kNone);
}

// The organisation the hospice names as the key worker's reads the child as key worker.
TEST(AccessPolicy, TheKeyWorkersOrganisationHasARelationship) {
  Store store({}, /*keyWorkerKnown=*/true);
  auto community = principal(auth::Role::kSourceSystem, "RX9");
  auto hospital = principal(auth::Role::kSourceSystem, "RX8");
  EXPECT_EQ(AccessPolicy::Session(store.policy(), community).relationship(kChild),
            Relationship::kKeyWorker);
  EXPECT_EQ(AccessPolicy::Session(store.policy(), hospital).relationship(kChild),
            Relationship::kNone);
}

// A session looks each patient up once; refresh() (called after the request's own write has
// committed) makes the next decision read the store afresh.
TEST(AccessPolicy, ASessionDecidesAfreshAfterRefresh) {
  Store store;
  auto community = principal(auth::Role::kSourceSystem, "RX9");
  AccessPolicy::Session s(store.policy(), community);
  EXPECT_EQ(s.relationship(kChild), Relationship::kNone);
  const std::string unborn = "patient-written-later";
  EXPECT_EQ(s.relationship(unborn), Relationship::kNone);
  ASSERT_EQ(store.server.request("POST", "/$ingest/community", sample("community/samples/example.xml"),
                                 {{"Content-Type", "application/xml"}})
                .status,
            200);
  ASSERT_EQ(store.server
                .put("/Patient/" + unborn,
                     R"({"resourceType":"Patient","id":")" + unborn +
                         R"(","identifier":[{"system":"https://acp-gateway.nhs.uk/Id/local/RX9",)"
                         R"("value":"C-LATER"}]})")
                .status,
            201);
  EXPECT_EQ(s.relationship(kChild), Relationship::kNone) << "looked up once per session";
  s.refresh();
  EXPECT_EQ(s.relationship(kChild), Relationship::kRecordHolder);
  EXPECT_EQ(s.relationship(unborn), Relationship::kRecordHolder);
  EXPECT_TRUE(s.patientsSeen().count(unborn));
}

TEST(AccessPolicy, EveryResourceOfTheChildIsDecidedByItsPatient) {
  Store store;
  auto gp = principal(auth::Role::kGpPractice, "X81001");
  auto otherGp = principal(auth::Role::kGpPractice, "X81002");
  size_t checked = 0;
  for (const char* type : {"Patient", "CarePlan", "Encounter", "Consent", "CareTeam", "Condition",
                           "Provenance"}) {
    std::string query = std::string("/") + type + (std::string(type) == "Patient"
                                                       ? "?_id=" + kChild
                                                       : std::string(type) == "Provenance"
                                                             ? "?patient=Patient/" + kChild
                                                             : "?patient=Patient/" + kChild);
    if (std::string(type) == "Encounter") query = "/Encounter?subject=Patient/" + kChild;
    for (const json::Value& r : store.search(query)) {
      SCOPED_TRACE(type);
      AccessPolicy::Session allowed(store.policy(), gp), refused(store.policy(), otherGp);
      EXPECT_EQ(allowed.mayRead(r), AccessPolicy::Verdict::kAllow);
      std::string why;
      EXPECT_EQ(refused.mayRead(r, &why), AccessPolicy::Verdict::kDeny);
      EXPECT_EQ(why, "no relationship with the patient");
      EXPECT_EQ(refused.patientsSeen().count(kChild), 1u);
      ++checked;
    }
  }
  EXPECT_GE(checked, 7u);
}

TEST(AccessPolicy, RolesThatReadNoPatientDataSeeOnlyWhatIsNotAboutAPatient) {
  Store store;
  json::Value patient = store.read("Patient", kChild);
  for (auth::Role role : {auth::Role::kPrivacyOfficer, auth::Role::kServiceOperator}) {
    auto p = principal(role, "X81001");  // even with the practice's ODS code
    AccessPolicy::Session s(store.policy(), p);
    std::string why;
    EXPECT_EQ(s.mayRead(patient, &why), AccessPolicy::Verdict::kDeny);
    EXPECT_EQ(why, "role reads no patient data");
    json::Value org;
    json::ParseError err;
    ASSERT_TRUE(json::parse(R"({"resourceType":"Organization","id":"o1","name":"Castle Street"})", org, err));
    EXPECT_EQ(s.mayRead(org), AccessPolicy::Verdict::kAllow);
  }
  // The superuser (gateway.auth.mode=none) sees everything.
  auto root = auth::localSuperuser();
  EXPECT_EQ(AccessPolicy::Session(store.policy(), root).mayRead(patient),
            AccessPolicy::Verdict::kAllow);
}

TEST(AccessPolicy, APlanWithoutConsentToShareIsWithheldFromOthersButNotFromItsAuthor) {
  Store store;
  std::string refused = sample("hospice/samples/example-1.2.json");
  replace(refused, "\"consentToShare\": {\"given\": true", "\"consentToShare\": {\"given\": false");
  replace(refused, "\"version\": 3", "\"version\": 4");
  ASSERT_EQ(store.server.request("POST", "/$ingest/hospice", refused, {{"Content-Type", "application/json"}})
                .status,
            200);
  auto plans = store.search("/CarePlan?subject=Patient/" + kChild);
  ASSERT_EQ(plans.size(), 1u);
  auto gp = principal(auth::Role::kGpPractice, "X81001");
  auto hospice = principal(auth::Role::kSourceSystem, "8WB01");
  AccessPolicy::Session forGp(store.policy(), gp), forHospice(store.policy(), hospice);
  std::string why;
  EXPECT_EQ(forGp.mayRead(plans[0], &why), AccessPolicy::Verdict::kWithhold);
  EXPECT_EQ(why, "plan not shared: no consent to share");
  EXPECT_EQ(forHospice.mayRead(plans[0]), AccessPolicy::Verdict::kAllow);

  // What the practice sees: that the plan exists, whose it is and whom to call — no content.
  json::Value view = access::withheldView(plans[0]);
  std::string text = json::write(view);
  EXPECT_EQ(view.getString("id"), plans[0].getString("id"));
  EXPECT_NE(text.find("REDACTED"), std::string::npos);
  EXPECT_NE(text.find("8WB01"), std::string::npos);
  EXPECT_NE(text.find("careTeam"), std::string::npos);
  EXPECT_EQ(text.find("activity"), std::string::npos);
  EXPECT_EQ(text.find("midazolam"), std::string::npos);
  EXPECT_EQ(view.find("activity"), nullptr);

  // Consent given again: shared again on the next request.
  std::string given = sample("hospice/samples/example-1.2.json");
  replace(given, "\"version\": 3", "\"version\": 5");
  ASSERT_EQ(store.server.request("POST", "/$ingest/hospice", given, {{"Content-Type", "application/json"}})
                .status,
            200);
  plans = store.search("/CarePlan?subject=Patient/" + kChild);
  EXPECT_EQ(AccessPolicy::Session(store.policy(), gp).mayRead(plans[0]),
            AccessPolicy::Verdict::kAllow);
}

TEST(AccessPolicy, AWithdrawnCommunityConsentWithholdsOnlyThatPlan) {
  Store store;
  std::string withdrawn = sample("community/samples/example.xml");
  replace(withdrawn, "<Consent sharing=\"yes\"", "<Consent sharing=\"withdrawn\"");
  ASSERT_EQ(store.server.request("POST", "/$ingest/community", withdrawn, {{"Content-Type", "application/xml"}})
                .status,
            200);
  auto gp = principal(auth::Role::kGpPractice, "X81001");
  AccessPolicy::Session s(store.policy(), gp);
  size_t withheld = 0, shared = 0;
  for (const json::Value& plan : store.search("/CarePlan?subject=Patient/" + kChild)) {
    auto v = s.mayRead(plan);
    if (access::authorOrganisation(plan) == "RX9") {
      EXPECT_EQ(v, AccessPolicy::Verdict::kWithhold);
      ++withheld;
    } else {
      EXPECT_EQ(v, AccessPolicy::Verdict::kAllow);
      ++shared;
    }
  }
  EXPECT_EQ(withheld, 1u);
  EXPECT_EQ(shared, 1u);
}

TEST(PlanSharing, TheMostRecentConsentForAPlanDecides) {
  auto consent = [](const std::string& status, const std::string& type, const std::string& date) {
    json::Value c;
    json::ParseError err;
    EXPECT_TRUE(json::parse(R"({"resourceType":"Consent","organization":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"8WB01"}}],"status":")" + status +
                                R"(","dateTime":")" + date + R"(","provision":{"type":")" + type +
                                R"(","data":[{"meaning":"related","reference":{"reference":"CarePlan/p1"}}]}})",
                            c, err));
    return c;
  };
  EXPECT_TRUE(access::planSharing({consent("active", "permit", "2026-01-01")}).at("p1|8WB01"));
  EXPECT_FALSE(access::planSharing({consent("active", "deny", "2026-01-01")}).at("p1|8WB01"));
  EXPECT_FALSE(access::planSharing({consent("inactive", "permit", "2026-01-01")}).at("p1|8WB01"));
  EXPECT_FALSE(access::planSharing({consent("active", "permit", "2026-01-01"),
                                    consent("inactive", "permit", "2026-03-01")})
                   .at("p1|8WB01"));
  EXPECT_TRUE(access::planSharing({consent("active", "deny", "2026-01-01"),
                                   consent("active", "permit", "2026-03-01")})
                  .at("p1|8WB01"));
  EXPECT_EQ(access::planSharing({}).count("p1|8WB01"), 0u);  // no Consent: shared (ReSPECT forms)
  // A Consent naming no organisation decides nothing.
  json::Value nobodys = consent("active", "deny", "2026-05-01");
  nobodys.erase("organization");
  EXPECT_TRUE(access::planSharing({nobodys}).empty());
}

TEST(BreakGlass, UrgentCareStatingAnEmergencyGetsTimeLimitedAccessToThatOnePatient) {
  auto now = std::make_shared<std::atomic<int64_t>>(int64_t{1795435200000});  // 2026-11-23
  app::Options options;
  options.clock = [now] { return now->load(); };
  options.flagsIntervalSeconds = 0;
  Store store(options);
  // A second child, registered elsewhere, with no relationship to urgent care either.
  std::string other = sample("hospice/samples/example-1.2.json");
  replace(other, "999 253 0820", "999 081 0117");
  replace(other, "WB-004471", "WB-009999");
  replace(other, "ACP-2231", "ACP-9999");
  replace(other, "WB-EXP-20261101-0930", "WB-EXP-20261101-0931");
  ASSERT_EQ(store.server.request("POST", "/$ingest/hospice", other, {{"Content-Type", "application/json"}})
                .status,
            200);
  const std::string otherChild = ingest::personIdForNhsNumber("9990810117");
  auto urgent = principal(auth::Role::kUrgentCare, "X82001");

  // Without an emergency stated: nothing.
  EXPECT_EQ(AccessPolicy::Session(store.policy(), urgent).relationship(kChild), Relationship::kNone);
  // With one: access to the first patient it asks for, and to no other in the same request.
  {
    AccessPolicy::Session s(store.policy(), urgent);
    s.breakGlass("Ambulance crew at the home: child in respiratory arrest");
    EXPECT_EQ(s.relationship(kChild), Relationship::kBreakGlass);
    EXPECT_TRUE(s.usedBreakGlass());
    EXPECT_EQ(s.relationship(otherChild), Relationship::kNone);
  }
  // standing() looks without granting: the request may still break glass afterwards.
  {
    AccessPolicy::Session s(store.policy(), urgent);
    s.breakGlass("Ambulance crew at the home: child in respiratory arrest");
    EXPECT_TRUE(s.mayBreakGlass());
    EXPECT_EQ(s.standing(otherChild), Relationship::kNone);
    EXPECT_EQ(s.standing(kChild), Relationship::kBreakGlass) << "the grant made above counts";
    EXPECT_TRUE(s.mayBreakGlass());
    EXPECT_EQ(store.search("/Flag?patient=Patient/" + otherChild +
                           "&identifier=https://acp-gateway.nhs.uk/Id/break-glass-client|"
                           "client-X82001")
                  .size(),
              0u)
        << "no grant made";
    EXPECT_FALSE(AccessPolicy::Session(store.policy(), urgent).mayBreakGlass())
        << "no emergency stated";
  }
  // The grant is a Flag on the child, naming the client, the organisation and the reason.
  auto flags = store.search("/Flag?patient=Patient/" + kChild +
                            "&identifier=https://acp-gateway.nhs.uk/Id/break-glass-client|client-X82001");
  ASSERT_EQ(flags.size(), 1u);
  std::string text = json::write(flags[0]);
  for (const char* s : {"X82001", "client-X82001", "respiratory arrest", "\"active\""})
    EXPECT_NE(text.find(s), std::string::npos) << s;
  // Later requests of the same client reach the child while the grant lasts, still as
  // break-glass (audited so); another urgent-care client does not; the other child neither.
  {
    AccessPolicy::Session s(store.policy(), urgent);
    EXPECT_EQ(s.relationship(kChild), Relationship::kBreakGlass);
    EXPECT_TRUE(s.usedBreakGlass());
    EXPECT_NE(s.breakGlassReason().find("respiratory arrest"), std::string::npos);
    EXPECT_EQ(s.relationship(otherChild), Relationship::kNone);
  }
  auto colleague = principal(auth::Role::kUrgentCare, "X82001");
  colleague.clientId = "another-urgent-care-system";
  EXPECT_EQ(AccessPolicy::Session(store.policy(), colleague).relationship(kChild),
            Relationship::kNone);
  // A GP practice stating an emergency gets nothing by it (the route refuses it first; here
  // the policy alone).
  auto otherGp = principal(auth::Role::kGpPractice, "X81002");
  AccessPolicy::Session gp(store.policy(), otherGp);
  gp.breakGlass("Not an urgent care system at all");
  EXPECT_EQ(gp.relationship(kChild), Relationship::kNone);
  // An hour later the grant has lapsed.
  now->store(int64_t{1795435200000} + 61 * 60000);
  EXPECT_EQ(AccessPolicy::Session(store.policy(), urgent).relationship(kChild), Relationship::kNone);
}

}  // namespace
}  // namespace acp::testing
