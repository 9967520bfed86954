#include "gateway/auth/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <optional>
#include <utility>

#include "gateway/auth/base64url.h"

namespace acp::auth {

namespace {

Status bad(const std::string& why) { return Status::invalid("auth.bad-jwk: " + why); }

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct BldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_PKEY_CTX, CtxFree>;

// A required base64url string member, decoded.
Result<std::string> b64Member(const json::Value& jwk, const char* name) {
  const json::Value* v = jwk.find(name);
  if (!v) return bad(std::string("\"") + name + "\" is missing");
  if (!v->isString()) return bad(std::string("\"") + name + "\" is not a string");
  auto bytes = base64UrlDecode(v->text());
  if (!bytes || bytes->empty()) return bad(std::string("\"") + name + "\" is not base64url");
  return *bytes;
}

// Optional string member: nullopt when absent, error when not a string.
Result<std::optional<std::string>> optString(const json::Value& jwk, const char* name) {
  const json::Value* v = jwk.find(name);
  if (!v) return std::optional<std::string>();
  if (!v->isString()) return bad(std::string("\"") + name + "\" is not a string");
  return std::optional<std::string>(v->text());
}

Result<Key> fromParams(const char* keyType, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  CtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, keyType, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || !pkey) {
    return bad(std::string("not a valid ") + keyType + " public key");
  }
  CtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    EVP_PKEY_free(pkey);
    return bad(std::string("not a valid ") + keyType + " public key");
  }
  return keyFromPkey(pkey, false);
}

Result<Key> rsaKey(const json::Value& jwk) {
  auto n = b64Member(jwk, "n");
  if (!n.isOk()) return n.status();
  auto e = b64Member(jwk, "e");
  if (!e.isOk()) return e.status();
  if (e.value().size() > 8) return bad("\"e\" is too large");
  BnPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.value().data()),
                     static_cast<int>(n.value().size()), nullptr));
  BnPtr be(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.value().data()),
                     static_cast<int>(e.value().size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bn || !be || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()) != 1) {
    return Status::internal("auth.bad-jwk: out of memory");
  }
  if (BN_num_bits(bn.get()) < kMinRsaBits) {
    return bad("an RSA key of " + std::to_string(BN_num_bits(bn.get())) +
               " bits (at least 2048 are required)");
  }
  if (!BN_is_odd(be.get()) || BN_is_one(be.get())) return bad("\"e\" is not a valid exponent");
  return fromParams("RSA", bld.get());
}

Result<Key> ecKey(const json::Value& jwk) {
  auto x = b64Member(jwk, "x");
  if (!x.isOk()) return x.status();
  auto y = b64Member(jwk, "y");
  if (!y.isOk()) return y.status();
  if (x.value().size() != 48 || y.value().size() != 48) {
    return bad("\"x\" and \"y\" of a P-384 key are 48 bytes each");
  }
  std::string point = "\x04" + x.value() + y.value();
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-384", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return Status::internal("auth.bad-jwk: out of memory");
  }
  return fromParams("EC", bld.get());
}

// Whether a JWK's kty/crv is one this code knows (others are skipped in a set).
bool supported(const json::Value& jwk) {
  const std::string& kty = jwk.getString("kty");
  if (kty == "RSA") return true;
  return kty == "EC" && jwk.getString("crv") == "P-384";
}

std::string bnBytes(EVP_PKEY* pkey, const char* name, int pad) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return "";
  BnPtr bn(raw);
  int size = pad > 0 ? pad : BN_num_bytes(bn.get());
  std::string out(static_cast<size_t>(size), '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size) != size) return "";
  return out;
}

}  // namespace

Result<Key> keyFromJwk(const json::Value& jwk) {
  if (!jwk.isObject()) return bad("a JWK is a JSON object");
  auto kty = optString(jwk, "kty");
  if (!kty.isOk()) return kty.status();
  if (!kty.value()) return bad("\"kty\" is missing");
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
    if (jwk.find(priv)) {
      return bad(std::string("it holds private key material (\"") + priv +
                 "\"): register the public key only");
    }
  }
  auto use = optString(jwk, "use");
  if (!use.isOk()) return use.status();
  if (use.value() && *use.value() != "sig") return bad("\"use\" is not \"sig\"");
  if (const json::Value* ops = jwk.find("key_ops")) {
    bool verify = false;
    if (!ops->isArray()) return bad("\"key_ops\" is not an array");
    for (const auto& op : ops->items()) {
      if (!op.isString()) return bad("\"key_ops\" holds a non-string");
      if (op.text() == "verify") verify = true;
    }
    if (!verify) return bad("\"key_ops\" does not include \"verify\"");
  }
  auto alg = optString(jwk, "alg");
  if (!alg.isOk()) return alg.status();
  auto kid = optString(jwk, "kid");
  if (!kid.isOk()) return kid.status();

  Result<Key> key = Status::internal("unset");
  const std::string& type = *kty.value();
  if (type == "RSA") {
    if (alg.value() && *alg.value() != "RS384") {
      return bad("\"alg\" " + *alg.value() + " for an RSA key (RS384 is accepted)");
    }
    key = rsaKey(jwk);
  } else if (type == "EC") {
    auto crv = optString(jwk, "crv");
    if (!crv.isOk()) return crv.status();
    if (!crv.value() || *crv.value() != "P-384") return bad("EC keys must be on \"crv\" P-384");
    if (alg.value() && *alg.value() != "ES384") {
      return bad("\"alg\" " + *alg.value() + " for an EC key (ES384 is accepted)");
    }
    key = ecKey(jwk);
  } else {
    return bad("\"kty\" " + type + " is not supported (RSA and EC are)");
  }
  if (!key.isOk()) return key;
  if (kid.value()) key.value().kid = *kid.value();
  if (alg.value()) key.value().alg = *alg.value();
  return key;
}

Result<std::vector<Key>> keysFromJwks(const json::Value& jwks) {
  if (!jwks.isObject()) return bad("a JWK Set is a JSON object");
  const json::Value* keys = jwks.find("keys");
  if (!keys || !keys->isArray()) return bad("a JWK Set has a \"keys\" array");
  std::vector<Key> out;
  for (size_t i = 0; i < keys->items().size(); ++i) {
    const json::Value& jwk = keys->items()[i];
    if (jwk.isObject() && !supported(jwk)) continue;
    auto key = keyFromJwk(jwk);
    if (!key.isOk()) {
      return Status::invalid(key.status().message() + " (key " + std::to_string(i) + ")");
    }
    out.push_back(key.take());
  }
  if (out.empty()) return bad("the JWK Set holds no RSA or EC P-384 key");
  return out;
}

json::Value publicJwk(const Key& key) {
  json::Value jwk = json::Value::makeObject();
  if (key.type == KeyType::kRsa) {
    jwk.set("kty", json::Value::makeString("RSA"));
    jwk.set("n", json::Value::makeString(
                     base64UrlEncode(bnBytes(key.pkey.get(), OSSL_PKEY_PARAM_RSA_N, 0))));
    jwk.set("e", json::Value::makeString(
                     base64UrlEncode(bnBytes(key.pkey.get(), OSSL_PKEY_PARAM_RSA_E, 0))));
  } else {
    jwk.set("kty", json::Value::makeString("EC"));
    jwk.set("crv", json::Value::makeString("P-384"));
    jwk.set("x", json::Value::makeString(
                     base64UrlEncode(bnBytes(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 48))));
    jwk.set("y", json::Value::makeString(
                     base64UrlEncode(bnBytes(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 48))));
  }
  if (!key.kid.empty()) jwk.set("kid", json::Value::makeString(key.kid));
  if (!key.alg.empty()) jwk.set("alg", json::Value::makeString(key.alg));
  return jwk;
}

std::string jwkThumbprint(const Key& key) {
  json::Value full = publicJwk(key);
  json::Value required = json::Value::makeObject();  // members in lexicographic order
  const char* const rsa[] = {"e", "kty", "n"};
  const char* const ec[] = {"crv", "kty", "x", "y"};
  if (key.type == KeyType::kRsa) {
    for (const char* m : rsa) required.set(m, json::Value::makeString(full.getString(m)));
  } else {
    for (const char* m : ec) required.set(m, json::Value::makeString(full.getString(m)));
  }
  std::string text = json::write(required);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr) != 1) return "";
  return base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

}  // namespace acp::auth
