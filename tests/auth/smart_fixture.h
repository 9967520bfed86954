// A SmartAuth over a registry file of test clients, on an injectable clock, with helpers to
// post token requests the way a client would.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/auth/smart_auth.h"
#include "tests/auth/auth_fixture.h"

namespace acp::auth::testing {

using Form = std::vector<std::pair<std::string, std::string>>;

inline std::string formEncode(const Form& form) {
  std::string out;
  for (const auto& [name, value] : form) {
    if (!out.empty()) out += '&';
    for (const std::string* s : {&name, &value}) {
      for (unsigned char c : *s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
          out += static_cast<char>(c);
        } else {
          static const char* hex = "0123456789ABCDEF";
          out += '%';
          out += hex[c >> 4];
          out += hex[c & 15];
        }
      }
      if (s == &name) out += '=';
    }
  }
  return out;
}

// The registry the token tests use.
//   gp-rs       RSA key (kid r1), gp-practice X81001, CarePlan and Patient rs
//   hospice-es  EC key (kid e1), source-system X99999, CarePlan and Patient cruds
//   rotating    two EC keys: kid "old" (otherEcKey) and kid "new" (ecKey)
//   disabled    EC key, enabled false
inline std::string testRegistry() {
  auto client = [](const std::string& id, const std::string& org, const std::string& role,
                   const std::string& scopes, const std::string& jwks,
                   const std::string& extra = "") {
    return R"({"clientId":")" + id + R"(","organisation":")" + org + R"(","role":")" + role +
           R"(","scopes":")" + scopes + R"(","jwks":)" + jwks + extra + "}";
  };
  return std::string(R"({"clients":[)") +
         client("gp-rs", "X81001", "gp-practice", "system/CarePlan.rs system/Patient.rs",
                jwksText({jwkWithKid(rsaKey(), "r1")})) +
         "," +
         client("hospice-es", "X99999", "source-system",
                "system/CarePlan.cruds system/Patient.cruds",
                jwksText({jwkWithKid(ecKey(), "e1")})) +
         "," +
         client("rotating", "X81002", "urgent-care", "system/*.read",
                jwksText({jwkWithKid(otherEcKey(), "old"), jwkWithKid(ecKey(), "new")})) +
         "," +
         client("disabled", "X81003", "gp-practice", "system/*.read",
                jwksText({jwkWithKid(ecKey(), "e1")}), R"(,"enabled":false)") +
         "]}";
}

class SmartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writeFile(registryPath(), testRegistry());
    guard_ = std::make_shared<MemoryReplayGuard>(clock_.fn());
    smart_ = make(options(), guard_);
  }

  std::string registryPath() const { return dir_.file("clients.json"); }

  SmartAuthOptions options() const {
    SmartAuthOptions o;
    o.baseUrl = kBase;
    o.clientsFile = registryPath();
    o.nowMs = clock_.fn();
    return o;
  }

  static std::unique_ptr<SmartAuth> make(SmartAuthOptions o, std::shared_ptr<ReplayGuard> g) {
    auto s = SmartAuth::create(std::move(o), std::move(g));
    EXPECT_TRUE(s.isOk()) << s.status().message();
    return s.isOk() ? s.take() : nullptr;
  }

  Form form(const std::string& assertion, const std::string& scope = "system/CarePlan.read") {
    return {{"grant_type", "client_credentials"},
            {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
            {"client_assertion", assertion},
            {"scope", scope}};
  }

  TokenResult post(const Form& f, const std::string& contentType =
                                      "application/x-www-form-urlencoded",
                   const std::string& authorization = "") {
    return postBody(formEncode(f), contentType, authorization);
  }

  TokenResult postBody(const std::string& body,
                       const std::string& contentType = "application/x-www-form-urlencoded",
                       const std::string& authorization = "") {
    TokenRequest r;
    r.body = body;
    r.contentType = contentType;
    r.authorization = authorization;
    return smart_->token(r);
  }

  std::string assertion(const std::string& clientId, const Key& key, const std::string& kid = "") {
    return sign(claimsFor(clientId, "jti-" + std::to_string(++jti_), clock_.now()), key, kid);
  }

  TempDir dir_;
  Clock clock_;
  std::shared_ptr<MemoryReplayGuard> guard_;
  std::unique_ptr<SmartAuth> smart_;
  int jti_ = 0;
};

}  // namespace acp::auth::testing
