#include "gateway/auth/jws.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <memory>

#include "gateway/auth/base64url.h"

namespace acp::auth {

namespace {

constexpr size_t kP384Bytes = 48;

Status malformed(const std::string& why) {
  return Status::invalid("auth.jws-malformed: " + why);
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using SigPtr = std::unique_ptr<ECDSA_SIG, SigFree>;

Result<json::Value> decodeObject(std::string_view part, size_t maxBytes, const char* what) {
  auto bytes = base64UrlDecode(part);
  if (!bytes) return malformed(std::string(what) + " is not base64url");
  if (bytes->size() > maxBytes) return malformed(std::string(what) + " is too large");
  json::ParseLimits limits;
  limits.maxDepth = 8;
  limits.maxNumberLength = 32;
  limits.maxStringLength = maxBytes;
  json::Value v;
  json::ParseError error;
  if (!json::parse(*bytes, v, error, limits)) {
    return malformed(std::string(what) + " is not valid JSON (" + error.message + ")");
  }
  if (!v.isObject()) return malformed(std::string(what) + " is not a JSON object");
  return v;
}

// Raw r||s (JOSE) → DER (what OpenSSL verifies). Empty on a wrong length.
std::string rawToDer(const std::string& raw) {
  if (raw.size() != 2 * kP384Bytes) return "";
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(p, kP384Bytes, nullptr);
  BIGNUM* s = BN_bin2bn(p + kP384Bytes, kP384Bytes, nullptr);
  SigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return "";
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// DER → raw r||s, each left-padded to 48 bytes.
std::string derToRaw(const unsigned char* der, size_t len) {
  const unsigned char* p = der;
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  if (!sig) return "";
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * kP384Bytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, kP384Bytes) != kP384Bytes ||
      BN_bn2binpad(s, o + kP384Bytes, kP384Bytes) != kP384Bytes) {
    return "";
  }
  return out;
}

}  // namespace

const char* jwsAlgName(JwsAlg alg) { return alg == JwsAlg::kRS384 ? "RS384" : "ES384"; }

std::optional<JwsAlg> jwsAlgFromName(std::string_view name) {
  if (name == "RS384") return JwsAlg::kRS384;
  if (name == "ES384") return JwsAlg::kES384;
  return std::nullopt;
}

JwsAlg jwsAlgFor(const Key& key) {
  return key.type == KeyType::kRsa ? JwsAlg::kRS384 : JwsAlg::kES384;
}

bool keyFits(const Key& key, JwsAlg alg) {
  if (!key.pkey || jwsAlgFor(key) != alg) return false;
  return key.alg.empty() || key.alg == jwsAlgName(alg);
}

Result<Jws> parseJws(std::string_view compact, const std::vector<JwsAlg>& allowed,
                     const JwsLimits& limits) {
  if (compact.size() > limits.maxCompactBytes) return malformed("the JWT is too large");
  size_t dot1 = compact.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos) {
    return malformed("a JWS has three dot-separated parts");
  }
  std::string_view headerPart = compact.substr(0, dot1);
  std::string_view payloadPart = compact.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signaturePart = compact.substr(dot2 + 1);

  Jws jws;
  auto header = decodeObject(headerPart, limits.maxHeaderBytes, "the header");
  if (!header.isOk()) return header.status();
  jws.header = header.take();

  const json::Value* alg = jws.header.find("alg");
  if (!alg || !alg->isString()) return malformed("the header has no \"alg\"");
  std::optional<JwsAlg> a = jwsAlgFromName(alg->text());
  bool ok = false;
  for (JwsAlg x : allowed) ok = ok || (a && *a == x);
  if (!ok) return Status::invalid("auth.jws-alg: \"alg\" " + alg->text() + " is not accepted");
  jws.alg = *a;
  if (jws.header.find("crit")) return malformed("\"crit\" extensions are not supported");
  if (const json::Value* kid = jws.header.find("kid")) {
    if (!kid->isString()) return malformed("\"kid\" is not a string");
    jws.kid = kid->text();
  }

  auto payload = decodeObject(payloadPart, limits.maxPayloadBytes, "the payload");
  if (!payload.isOk()) return payload.status();
  jws.payload = payload.take();

  auto signature = base64UrlDecode(signaturePart);
  if (!signature || signature->empty()) return malformed("the signature is not base64url");
  jws.signature = std::move(*signature);
  jws.signingInput = std::string(compact.substr(0, dot2));
  return jws;
}

bool verifyJws(const Jws& jws, const Key& key) {
  if (!keyFits(key, jws.alg)) return false;
  std::string sig;
  if (jws.alg == JwsAlg::kES384) {
    sig = rawToDer(jws.signature);
    if (sig.empty()) return false;
  } else {
    if (jws.signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key.pkey.get()))) {
      return false;
    }
    sig = jws.signature;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key.pkey.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                          sig.size(),
                          reinterpret_cast<const unsigned char*>(jws.signingInput.data()),
                          jws.signingInput.size()) == 1;
}

Result<std::string> signJws(const json::Value& header, const json::Value& payload,
                            const Key& privateKey, JwsAlg alg) {
  if (!privateKey.isPrivate) return Status::invalid("auth.bad-key: signing needs a private key");
  if (!keyFits(privateKey, alg)) {
    return Status::invalid(std::string("auth.bad-key: the key cannot sign ") + jwsAlgName(alg));
  }
  json::Value h = json::Value::makeObject();
  h.set("alg", json::Value::makeString(jwsAlgName(alg)));
  if (header.isObject()) {
    for (const auto& [name, value] : header.members()) {
      if (name != "alg") h.set(name, value);
    }
  }
  std::string input = base64UrlEncode(json::write(h)) + "." + base64UrlEncode(json::write(payload));

  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, privateKey.pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return Status::internal("auth.sign-failed: OpenSSL could not sign");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return Status::internal("auth.sign-failed: OpenSSL could not sign");
  }
  sig.resize(len);
  if (alg == JwsAlg::kES384) {
    sig = derToRaw(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
    if (sig.empty()) return Status::internal("auth.sign-failed: bad ECDSA signature");
  }
  return input + "." + base64UrlEncode(sig);
}

}  // namespace acp::auth
