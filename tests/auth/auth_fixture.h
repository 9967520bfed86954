// Shared helpers for the auth tests: real keys generated once per test binary (RSA-3072 and
// EC P-384, two of each), client assertions signed with them, a registry file in a fresh
// temporary folder, and an injectable clock.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gateway/auth/base64url.h"
#include "gateway/auth/jwk.h"
#include "gateway/auth/jws.h"
#include "gateway/auth/keys.h"
#include "gateway/core/json.h"

namespace acp::auth::testing {

inline constexpr const char* kBase = "https://gateway.test/fhir";
inline constexpr const char* kTokenUrl = "https://gateway.test/fhir/token";
// 2026-01-01T00:00:00Z
inline constexpr int64_t kNow = 1767225600000;

inline const Key& generated(KeyType type, int which) {
  static Key keys[2][2];
  static bool made[2][2] = {};
  int t = type == KeyType::kRsa ? 0 : 1;
  if (!made[t][which]) {
    auto k = generateKey(type, 3072);
    if (!k.isOk()) {
      ADD_FAILURE() << k.status().message();
      std::abort();
    }
    keys[t][which] = k.take();
    made[t][which] = true;
  }
  return keys[t][which];
}
inline const Key& rsaKey() { return generated(KeyType::kRsa, 0); }
inline const Key& ecKey() { return generated(KeyType::kEcP384, 0); }
inline const Key& otherRsaKey() { return generated(KeyType::kRsa, 1); }
inline const Key& otherEcKey() { return generated(KeyType::kEcP384, 1); }

inline json::Value parseJson(const std::string& text) {
  json::Value v;
  json::ParseError err;
  EXPECT_TRUE(json::parse(text, v, err)) << err.message << " in " << text;
  return v;
}

// The public JWK of `key` with a kid.
inline json::Value jwkWithKid(const Key& key, const std::string& kid) {
  auto pub = publicKeyOf(key);
  EXPECT_TRUE(pub.isOk());
  Key k = pub.take();
  k.kid = kid;
  return publicJwk(k);
}

inline std::string jwksText(std::initializer_list<json::Value> jwks) {
  json::Value keys = json::Value::makeArray();
  for (const auto& k : jwks) keys.push(k);
  json::Value set = json::Value::makeObject();
  set.set("keys", std::move(keys));
  return json::write(set);
}

inline json::Value str(const std::string& s) { return json::Value::makeString(s); }
inline json::Value num(int64_t n) { return json::Value::makeNumber(std::to_string(n)); }

// The claims of a valid assertion by `clientId` at kNow (exp 4 minutes ahead).
inline json::Value claimsFor(const std::string& clientId, const std::string& jti,
                             int64_t nowMs = kNow) {
  json::Value c = json::Value::makeObject();
  c.set("iss", str(clientId));
  c.set("sub", str(clientId));
  c.set("aud", str(kTokenUrl));
  c.set("exp", num(nowMs / 1000 + 240));
  c.set("jti", str(jti));
  return c;
}

inline std::string sign(const json::Value& claims, const Key& key, const std::string& kid = "",
                        const std::string& alg = "") {
  json::Value header = json::Value::makeObject();
  header.set("typ", str("JWT"));
  if (!kid.empty()) header.set("kid", str(kid));
  JwsAlg a = alg.empty() ? jwsAlgFor(key) : *jwsAlgFromName(alg);
  auto jwt = signJws(header, claims, key, a);
  EXPECT_TRUE(jwt.isOk()) << jwt.status().message();
  return jwt.isOk() ? jwt.value() : "";
}

// A JWT with any header (alg none, HS256...) and the given signature bytes: what an attacker
// can send without any key.
inline std::string forge(const json::Value& header, const json::Value& claims,
                         const std::string& signature) {
  return base64UrlEncode(json::write(header)) + "." + base64UrlEncode(json::write(claims)) + "." +
         base64UrlEncode(signature);
}

inline std::string makeTempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "acp-auth-XXXXXX").string();
  char* made = mkdtemp(templ.data());
  if (!made) {
    ADD_FAILURE() << "mkdtemp failed";
    return "";
  }
  return made;
}

inline void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// Moves a file's modification time on, so a rewrite within the file system's timestamp
// granularity is still seen as a change.
inline void touchLater(const std::string& path, int seconds) {
  auto t = std::filesystem::last_write_time(path);
  std::filesystem::last_write_time(path, t + std::chrono::seconds(seconds));
}

class TempDir {
 public:
  TempDir() : path_(makeTempDir()) {}
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class Clock {
 public:
  Clock() : now_(std::make_shared<std::atomic<int64_t>>(kNow)) {}
  std::function<int64_t()> fn() const {
    auto n = now_;
    return [n] { return n->load(); };
  }
  void advanceMs(int64_t ms) { *now_ += ms; }
  int64_t now() const { return now_->load(); }

 private:
  std::shared_ptr<std::atomic<int64_t>> now_;
};

}  // namespace acp::auth::testing
