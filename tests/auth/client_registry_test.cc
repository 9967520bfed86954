// The client registry: every key source, every validation error naming its client, and
// reloading (a changed file is picked up; an invalid one is reported once and the registry in
// force stays; snapshots already handed out never change).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "gateway/auth/client_registry.h"
#include "tests/auth/auth_fixture.h"

namespace acp::auth {
namespace {

using namespace acp::auth::testing;

std::string entry(const std::string& id, const std::string& keyMember,
                  const std::string& extra = "") {
  return R"({"clientId":")" + id +
         R"(","organisation":"X81001","role":"gp-practice","scopes":"system/CarePlan.rs system/Patient.read")" +
         (keyMember.empty() ? "" : "," + keyMember) + extra + "}";
}

std::string jwksMember(const Key& key, const std::string& kid) {
  return R"("jwks":)" + jwksText({jwkWithKid(key, kid)});
}

std::string registry(const std::vector<std::string>& entries) {
  std::string out = R"({"clients":[)";
  for (size_t i = 0; i < entries.size(); ++i) out += (i ? "," : "") + entries[i];
  return out + "]}";
}

Result<std::shared_ptr<const ClientSet>> parse(const std::string& text,
                                               const std::string& dir = "") {
  return parseClientRegistry(text, dir, "clients.json");
}

std::string errorOf(const std::string& text, const std::string& dir = "") {
  auto r = parse(text, dir);
  EXPECT_FALSE(r.isOk()) << text;
  return r.isOk() ? "" : r.status().message();
}

TEST(ClientRegistry, LoadsEveryKeySource) {
  TempDir dir;
  writeFile(dir.file("gp.jwks.json"), jwksText({jwkWithKid(ecKey(), "e1"),
                                                jwkWithKid(rsaKey(), "r1")}));
  writeFile(dir.file("hospice.pem"), publicKeyPem(rsaKey()));
  std::string pemInline = publicKeyPem(ecKey());
  std::string escaped;
  for (char c : pemInline) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  auto set = parse(registry({entry("inline-jwks", jwksMember(rsaKey(), "k1")),
                             entry("file-jwks", R"("jwksFile":"gp.jwks.json")"),
                             entry("inline-pem", R"("publicKeyPem":")" + escaped + "\""),
                             entry("file-pem", R"("publicKeyFile":"hospice.pem")")}),
                   dir.path());
  ASSERT_TRUE(set.isOk()) << set.status().message();
  const ClientSet& s = *set.value();
  ASSERT_EQ(s.clients().size(), 4u);
  ASSERT_NE(s.find("file-jwks"), nullptr);
  EXPECT_EQ(s.find("file-jwks")->keys.size(), 2u);
  EXPECT_EQ(s.find("file-jwks")->keys[0].kid, "e1");
  EXPECT_EQ(s.find("inline-pem")->keys[0].type, KeyType::kEcP384);
  EXPECT_EQ(s.find("file-pem")->keys[0].type, KeyType::kRsa);
  const Client* c = s.find("inline-jwks");
  EXPECT_EQ(c->organisation, "X81001");
  EXPECT_EQ(c->role, Role::kGpPractice);
  EXPECT_EQ(c->scopes.toString(), "system/CarePlan.rs system/Patient.read");
  EXPECT_TRUE(c->enabled);
  EXPECT_EQ(s.find("nobody"), nullptr);
}

TEST(ClientRegistry, OptionalMembers) {
  auto set = parse(registry({entry("a", jwksMember(ecKey(), "k"),
                                   R"(,"name":"Hospice EPR","enabled":false)")}));
  ASSERT_TRUE(set.isOk()) << set.status().message();
  EXPECT_EQ(set.value()->find("a")->name, "Hospice EPR");
  EXPECT_FALSE(set.value()->find("a")->enabled);
  EXPECT_TRUE(parse(R"({"clients":[]})").isOk());
}

TEST(ClientRegistry, ErrorsNameTheClientAndTheProblem) {
  std::string key = jwksMember(ecKey(), "k");
  struct Case {
    std::string text;
    std::vector<std::string> mentions;
  };
  std::vector<Case> cases = {
      {"not json", {"not valid JSON"}},
      {"[]", {"not a JSON object"}},
      {R"({"clients":{}})", {"no \"clients\" array"}},
      {R"({"clients":[],"extra":1})", {"unknown member \"extra\""}},
      {registry({"7"}), {"client entry 0", "not a JSON object"}},
      {registry({R"({"organisation":"X81001"})"}), {"client entry 0", "clientId"}},
      {registry({entry("has space", key)}), {"client entry 0", "clientId"}},
      {registry({entry("a", key), entry("a", key)}),
       {"client \"a\"", "listed twice", "entries 0 and 1"}},
      {registry({entry("a", key, R"(,"colour":"blue")")}), {"client \"a\"", "\"colour\""}},
      {registry({R"({"clientId":"b","organisation":"x81001","role":"gp-practice","scopes":"system/Patient.read",)" +
                 key + "}"}),
       {"client \"b\"", "organisation"}},
      {registry({R"({"clientId":"b","organisation":"X81001","role":"doctor","scopes":"system/Patient.read",)" +
                 key + "}"}),
       {"client \"b\"", "unknown role \"doctor\""}},
      {registry({R"({"clientId":"b","organisation":"X81001","role":"superuser","scopes":"system/Patient.read",)" +
                 key + "}"}),
       {"client \"b\"", "unknown role \"superuser\""}},
      {registry({R"({"clientId":"b","organisation":"X81001","role":"gp-practice","scopes":"system/Patient.read patient/*.read launch",)" +
                 key + "}"}),
       {"client \"b\"", "patient/*.read, launch"}},
      {registry({R"({"clientId":"b","organisation":"X81001","role":"gp-practice","scopes":"",)" +
                 key + "}"}),
       {"client \"b\"", "no scopes"}},
      {registry({entry("c", "")}), {"client \"c\"", "exactly one of"}},
      {registry({entry("c", key + R"(,"publicKeyFile":"x.pem")")}), {"client \"c\"", "exactly one of"}},
      {registry({entry("c", R"("jwks":{"keys":[]})")}), {"client \"c\"", "no RSA or EC P-384 key"}},
      {registry({entry("c", R"("publicKeyPem":"nonsense")")}), {"client \"c\"", "PEM public key"}},
      {registry({entry("c", R"("jwksFile":"missing.json")")}), {"client \"c\"", "missing.json"}},
      {registry({entry("c", key, R"(,"enabled":"yes")")}), {"client \"c\"", "enabled"}},
  };
  for (const auto& c : cases) {
    std::string error = errorOf(c.text);
    EXPECT_EQ(error.rfind("auth.bad-registry: clients.json: ", 0), 0u) << error;
    for (const auto& m : c.mentions) {
      EXPECT_NE(error.find(m), std::string::npos) << "'" << m << "' not in: " << error;
    }
  }
}

TEST(ClientRegistry, PrivateKeysAreNotAcceptedInTheRegistry) {
  json::Value jwk = jwkWithKid(ecKey(), "k");
  jwk.set("d", str(base64UrlEncode(std::string(48, 'x'))));
  std::string error = errorOf(registry({entry("p", R"("jwks":)" + jwksText({jwk}))}));
  EXPECT_NE(error.find("private key material"), std::string::npos) << error;
}

class RegistryReload : public ::testing::Test {
 protected:
  void write(const std::vector<std::string>& entries, int bumpSeconds) {
    writeFile(path(), registry(entries));
    touchLater(path(), bumpSeconds);
  }
  std::string path() const { return dir_.file("clients.json"); }
  TempDir dir_;
};

TEST_F(RegistryReload, PicksUpChangesAndKeepsTheOldOnError) {
  write({entry("a", jwksMember(ecKey(), "k"))}, 0);
  auto opened = ClientRegistry::open(path());
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  ClientRegistry& reg = *opened.value();
  std::shared_ptr<const ClientSet> first = reg.snapshot();
  ASSERT_NE(first->find("a"), nullptr);

  auto nothing = reg.reloadIfChanged();
  ASSERT_TRUE(nothing.isOk());
  EXPECT_FALSE(nothing.value());

  write({entry("a", jwksMember(ecKey(), "k")), entry("b", jwksMember(rsaKey(), "r"))}, 10);
  auto reloaded = reg.reloadIfChanged();
  ASSERT_TRUE(reloaded.isOk()) << reloaded.status().message();
  EXPECT_TRUE(reloaded.value());
  EXPECT_NE(reg.snapshot()->find("b"), nullptr);
  EXPECT_EQ(first->find("b"), nullptr);  // a snapshot never changes
  EXPECT_EQ(first->clients().size(), 1u);

  // An invalid file: reported once, the registry in force stays.
  write({entry("a", jwksMember(ecKey(), "k")), entry("a", jwksMember(ecKey(), "k"))}, 20);
  auto bad = reg.reloadIfChanged();
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("listed twice"), std::string::npos);
  EXPECT_NE(reg.snapshot()->find("b"), nullptr);
  auto again = reg.reloadIfChanged();
  ASSERT_TRUE(again.isOk());
  EXPECT_FALSE(again.value());
  EXPECT_NE(reg.snapshot()->find("b"), nullptr);

  // Fixed: loaded.
  write({entry("c", jwksMember(ecKey(), "k"))}, 30);
  auto fixed = reg.reloadIfChanged();
  ASSERT_TRUE(fixed.isOk()) << fixed.status().message();
  EXPECT_TRUE(fixed.value());
  EXPECT_EQ(reg.snapshot()->find("b"), nullptr);
  EXPECT_NE(reg.snapshot()->find("c"), nullptr);
}

TEST_F(RegistryReload, AChangedKeyFileIsAChange) {
  writeFile(dir_.file("c.jwks.json"), jwksText({jwkWithKid(ecKey(), "old")}));
  write({entry("c", R"("jwksFile":"c.jwks.json")")}, 0);
  auto opened = ClientRegistry::open(path());
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  ClientRegistry& reg = *opened.value();
  EXPECT_EQ(reg.snapshot()->find("c")->keys[0].kid, "old");

  writeFile(dir_.file("c.jwks.json"), jwksText({jwkWithKid(otherEcKey(), "new")}));
  touchLater(dir_.file("c.jwks.json"), 10);
  auto reloaded = reg.reloadIfChanged();
  ASSERT_TRUE(reloaded.isOk()) << reloaded.status().message();
  EXPECT_TRUE(reloaded.value());
  EXPECT_EQ(reg.snapshot()->find("c")->keys[0].kid, "new");

  // The key file removed: an error, the old registry stays.
  std::filesystem::remove(dir_.file("c.jwks.json"));
  auto gone = reg.reloadIfChanged();
  ASSERT_FALSE(gone.isOk());
  EXPECT_NE(gone.status().message().find("c.jwks.json"), std::string::npos);
  EXPECT_EQ(reg.snapshot()->find("c")->keys[0].kid, "new");
}

TEST_F(RegistryReload, OpenFailsOnAMissingOrInvalidFile) {
  auto missing = ClientRegistry::open(path());
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  write({entry("a", R"("publicKeyPem":"x")")}, 0);
  auto invalid = ClientRegistry::open(path());
  ASSERT_FALSE(invalid.isOk());
  EXPECT_NE(invalid.status().message().find("client \"a\""), std::string::npos);
}

TEST_F(RegistryReload, SnapshotsAreSafeWhileReloading) {
  write({entry("a", jwksMember(ecKey(), "k"))}, 0);
  auto opened = ClientRegistry::open(path());
  ASSERT_TRUE(opened.isOk());
  ClientRegistry& reg = *opened.value();
  std::atomic<bool> stop{false};
  std::atomic<int> seen{0};
  std::thread reader([&] {
    do {
      auto s = reg.snapshot();
      if (s->find("a") || s->find("b")) ++seen;
    } while (!stop);
  });
  for (int i = 1; i <= 20; ++i) {
    write({entry(i % 2 ? "b" : "a", jwksMember(ecKey(), "k"))}, i * 10);
    auto r = reg.reloadIfChanged();
    ASSERT_TRUE(r.isOk()) << r.status().message();
    EXPECT_TRUE(r.value());
  }
  stop = true;
  reader.join();
  EXPECT_GT(seen.load(), 0);
}

}  // namespace
}  // namespace acp::auth
