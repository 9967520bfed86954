// base64url, keys, JWK / JWK Set and JWS: real keys, real signatures, and vectors signed by an
// independent implementation (Node.js 20 crypto) so that a mistake made the same way in
// signing and verifying (DER instead of raw r||s, say) cannot pass unnoticed.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>

#include "tests/auth/auth_fixture.h"

namespace acp::auth {
namespace {

using namespace acp::auth::testing;

// ---- base64url ----

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    std::string text = base64UrlEncode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    auto back = base64UrlDecode(text);
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(*back, bytes);
    bytes += static_cast<char>(n * 37 + 250);
  }
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, DecodingIsStrict) {
  EXPECT_FALSE(base64UrlDecode("YQ=="));   // padding
  EXPECT_FALSE(base64UrlDecode("Y+8"));    // standard alphabet
  EXPECT_FALSE(base64UrlDecode("Y/8"));
  EXPECT_FALSE(base64UrlDecode("YW J"));   // whitespace
  EXPECT_FALSE(base64UrlDecode("YWJjZ"));  // 4n+1 characters
  EXPECT_FALSE(base64UrlDecode("YR"));     // non-zero unused bits ("YQ" is canonical)
  EXPECT_TRUE(base64UrlDecode("YQ"));
  EXPECT_EQ(*base64UrlDecode(""), "");
}

// ---- keys ----

TEST(Keys, PemRoundTripAndKinds) {
  for (const Key* k : {&rsaKey(), &ecKey()}) {
    auto priv = privateKeyFromPem(privateKeyPem(*k));
    ASSERT_TRUE(priv.isOk()) << priv.status().message();
    EXPECT_TRUE(priv.value().isPrivate);
    EXPECT_EQ(priv.value().type, k->type);
    auto pub = publicKeyFromPem(publicKeyPem(*k));
    ASSERT_TRUE(pub.isOk()) << pub.status().message();
    EXPECT_FALSE(pub.value().isPrivate);
    EXPECT_EQ(publicKeyPem(pub.value()), publicKeyPem(*k));
  }
}

TEST(Keys, RefusesWeakOrForeignKeys) {
  EVP_PKEY* small = EVP_RSA_gen(1024);
  auto r = keyFromPkey(small, true);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("1024 bits"), std::string::npos);

  EVP_PKEY* p256 = EVP_EC_gen("P-256");
  r = keyFromPkey(p256, true);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("prime256v1"), std::string::npos) << r.status().message();

  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  r = keyFromPkey(ed, true);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("ED25519"), std::string::npos) << r.status().message();

  EXPECT_FALSE(publicKeyFromPem("not a key").isOk());
  EXPECT_FALSE(privateKeyFromPem(publicKeyPem(ecKey())).isOk());
}

TEST(Keys, EncryptedPrivateKeyIsRefusedWithoutPrompting) {
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio, ecKey().pkey.get(), EVP_aes_256_cbc(), nullptr, 0,
                                          nullptr, const_cast<char*>("secret")),
            1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  auto r = privateKeyFromPem(pem);
  EXPECT_FALSE(r.isOk());
}

TEST(Keys, PemFilesAndMissingFiles) {
  TempDir dir;
  writeFile(dir.file("k.pem"), privateKeyPem(ecKey()));
  EXPECT_TRUE(privateKeyFromPemFile(dir.file("k.pem")).isOk());
  auto missing = privateKeyFromPemFile(dir.file("none.pem"));
  ASSERT_FALSE(missing.isOk());
  EXPECT_NE(missing.status().message().find("none.pem"), std::string::npos);
  writeFile(dir.file("bad.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  auto bad = privateKeyFromPemFile(dir.file("bad.pem"));
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("bad.pem"), std::string::npos);
}

// ---- JWK ----

TEST(Jwk, PublicJwkRoundTripsForBothKinds) {
  for (const Key* k : {&rsaKey(), &ecKey()}) {
    json::Value jwk = jwkWithKid(*k, "k1");
    auto back = keyFromJwk(jwk);
    ASSERT_TRUE(back.isOk()) << back.status().message();
    EXPECT_EQ(back.value().kid, "k1");
    EXPECT_EQ(publicKeyPem(back.value()), publicKeyPem(*k));
    EXPECT_EQ(jwk.find("d"), nullptr);
  }
  json::Value ec = publicJwk(ecKey());
  EXPECT_EQ(ec.getString("crv"), "P-384");
  EXPECT_EQ(base64UrlDecode(ec.getString("x"))->size(), 48u);
}

TEST(Jwk, ThumbprintMatchesRfc7638Example) {
  // RFC 7638 §3.1: the example RSA key and its thumbprint.
  json::Value jwk = parseJson(R"({"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"})");
  // keyFromJwk refuses alg RS256 (only RS384 is accepted here): build the key without it.
  jwk.erase("alg");
  auto key = keyFromJwk(jwk);
  ASSERT_TRUE(key.isOk()) << key.status().message();
  EXPECT_EQ(jwkThumbprint(key.value()), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(Jwk, RefusesMalformedOrPrivateOrForeignKeys) {
  json::Value good = jwkWithKid(ecKey(), "k");
  auto with = [&](const char* member, json::Value v) {
    json::Value j = good;
    j.set(member, std::move(v));
    return keyFromJwk(j);
  };
  auto without = [&](const char* member) {
    json::Value j = good;
    j.erase(member);
    return keyFromJwk(j);
  };
  EXPECT_FALSE(without("x").isOk());
  EXPECT_FALSE(without("kty").isOk());
  EXPECT_FALSE(with("crv", str("P-256")).isOk());
  EXPECT_FALSE(with("x", str("AAAA")).isOk());                   // not 48 bytes
  EXPECT_FALSE(with("x", str(good.getString("y"))).isOk());      // not a point on the curve
  EXPECT_FALSE(with("x", num(1)).isOk());
  EXPECT_FALSE(with("d", str("AAAA")).isOk());                   // private material
  EXPECT_FALSE(with("use", str("enc")).isOk());
  EXPECT_FALSE(with("alg", str("RS384")).isOk());                // EC key, RSA alg
  EXPECT_FALSE(with("alg", str("ES256")).isOk());
  EXPECT_FALSE(with("kid", num(3)).isOk());
  json::Value ops = json::Value::makeArray();
  ops.push(str("encrypt"));
  EXPECT_FALSE(with("key_ops", ops).isOk());
  ops.push(str("verify"));
  EXPECT_TRUE(with("key_ops", ops).isOk());
  EXPECT_TRUE(with("use", str("sig")).isOk());
  EXPECT_TRUE(with("alg", str("ES384")).isOk());
  EXPECT_FALSE(keyFromJwk(parseJson(R"({"kty":"oct","k":"AAAA"})")).isOk());

  // An RSA modulus of 1024 bits.
  EVP_PKEY* small = EVP_RSA_gen(1024);
  BIGNUM* n = nullptr;
  EVP_PKEY_get_bn_param(small, "n", &n);
  std::string nb(static_cast<size_t>(BN_num_bytes(n)), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(nb.data()));
  BN_free(n);
  EVP_PKEY_free(small);
  json::Value rsa = json::Value::makeObject();
  rsa.set("kty", str("RSA"));
  rsa.set("n", str(base64UrlEncode(nb)));
  rsa.set("e", str("AQAB"));
  auto r = keyFromJwk(rsa);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("1024 bits"), std::string::npos);
}

TEST(Jwk, SetSkipsUnknownKindsButNotBrokenKeys) {
  json::Value set = parseJson(jwksText(
      {parseJson(R"({"kty":"oct","k":"c2VjcmV0"})"),
       parseJson(R"({"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"})"),
       jwkWithKid(rsaKey(), "r1"), jwkWithKid(ecKey(), "e1")}));
  auto keys = keysFromJwks(set);
  ASSERT_TRUE(keys.isOk()) << keys.status().message();
  ASSERT_EQ(keys.value().size(), 2u);
  EXPECT_EQ(keys.value()[0].kid, "r1");
  EXPECT_EQ(keys.value()[1].kid, "e1");

  json::Value broken = jwkWithKid(ecKey(), "e2");
  broken.erase("y");
  auto bad = keysFromJwks(parseJson(jwksText({jwkWithKid(rsaKey(), "r1"), broken})));
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("key 1"), std::string::npos) << bad.status().message();

  EXPECT_FALSE(keysFromJwks(parseJson(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})")).isOk());
  EXPECT_FALSE(keysFromJwks(parseJson(R"({"keys":{}})")).isOk());
  EXPECT_FALSE(keysFromJwks(parseJson(R"([])")).isOk());
}

// ---- JWS ----

const std::vector<JwsAlg> kBoth = {JwsAlg::kRS384, JwsAlg::kES384};

TEST(Jws, VerifiesSignaturesMadeByNodeCrypto) {
  // Generated once with Node.js 20: crypto.sign('sha384', ..., {dsaEncoding:'ieee-p1363'})
  // for ES384 and PKCS#1 v1.5 for RS384.
  const char* esJwk =
      R"({"kty":"EC","x":"Je1iqQtf471o2cp4GBJNxWQMWYwjEBhN-Sa9LonKtg9DtPMoAeDwedmfLL11dDEC","y":"M_iv-cMv6S29-jorJqItxS_E9R_AjhzSX3nvQUP-2UAIFRF-6jw7YrnCZPp8Bsjb","crv":"P-384","kid":"node-es384"})";
  const char* esJws =
      "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6Im5vZGUtZXMzODQifQ."
      "eyJpc3MiOiJub2RlLWNsaWVudCIsInN1YiI6Im5vZGUtY2xpZW50IiwiYXVkIjoiaHR0cHM6Ly9nYXRld2F5LnRlc3Qv"
      "Zmhpci90b2tlbiIsImV4cCI6MTc2NzIyNTYwMCwianRpIjoibm9kZS1FUzM4NCJ9."
      "ut20bGaa7duTKW6Nj_fcna6o27u6xjUlZ0exSeafah-MREnF6w5e1_YsB2zDWkVf2m0wm_XWvkKQOK323EQJQ4SIZ4Rz"
      "IhqWwGV-J03zpvyX9DOqs80ZlzYcFrp2w-oe";
  const char* rsJwk =
      R"({"kty":"RSA","n":"wwp6hKZSP44Q8ODXp8oxFmYZJxOrGy9KVTW00QLx7mx4uic8kl6zd_TthtV6bj5201E4_EdI1TAxzcCOPjrPNMsM-5iPL-1s48ciUt0wdD0fnBSl2Q4Nlrra40ECf7BYBNZQLdypxHcmlPiyGwtQ1qyXhWvABx1-zC0Uv96xU0AnfVjyt3ucyoUHg3BGY3lYHZo1H1mA5zBbKenRvT2GgawLS4iVNuRRjk7uYEeSTyB0Gkb8Zma7aYf-gu8WQgCzFfWp4PHAV3PoGhpYA1Lps-IFuz2oUT-Zoxy_Al8PvvM_fxYCJm_9Zc1wjRw-atADA3Y5EKhQLBgIKdJCXnsABw","e":"AQAB","kid":"node-rs384"})";
  const char* rsJws =
      "eyJhbGciOiJSUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6Im5vZGUtcnMzODQifQ."
      "eyJpc3MiOiJub2RlLWNsaWVudCIsInN1YiI6Im5vZGUtY2xpZW50IiwiYXVkIjoiaHR0cHM6Ly9nYXRld2F5LnRlc3Qv"
      "Zmhpci90b2tlbiIsImV4cCI6MTc2NzIyNTYwMCwianRpIjoibm9kZS1SUzM4NCJ9."
      "gDNFUUZegeSs4dS7IJymoI-3nkBv5bPdS2tUmGyaFy-DF9NWweI52x6-an54FxChpe8DgPPqdXDRCEIHycXxN7L1mF5Y"
      "CRo8qlH4m-pKp40gFdzKYles8guIV-Tby7pcBYbsVn-8_CdfUgV3e8ZDcELqIS191qHCw5xGa-j16WFiTo-atvb5E7v_"
      "RZVXHhatqLBvlrrAYh4liO89LxSDW5SO4TdGTEExMKya3jISNIeXs093fmy6zBiEEBeZZz0UeH8T1baeYamI_dCT4Tjj"
      "TRhCFug1YaDvL86G62zobBp8LkSBEh4Ip1sDnt8k2WxUC0NRbF-OL0z_OtKUefdlDg";
  auto esKey = keyFromJwk(parseJson(esJwk));
  auto rsKey = keyFromJwk(parseJson(rsJwk));
  ASSERT_TRUE(esKey.isOk()) << esKey.status().message();
  ASSERT_TRUE(rsKey.isOk()) << rsKey.status().message();
  auto es = parseJws(esJws, kBoth);
  auto rs = parseJws(rsJws, kBoth);
  ASSERT_TRUE(es.isOk()) << es.status().message();
  ASSERT_TRUE(rs.isOk()) << rs.status().message();
  EXPECT_EQ(es.value().kid, "node-es384");
  EXPECT_EQ(es.value().payload.getString("jti"), "node-ES384");
  EXPECT_TRUE(verifyJws(es.value(), esKey.value()));
  EXPECT_TRUE(verifyJws(rs.value(), rsKey.value()));
  EXPECT_FALSE(verifyJws(es.value(), rsKey.value()));  // alg and key type differ
  EXPECT_FALSE(verifyJws(rs.value(), esKey.value()));
  EXPECT_FALSE(verifyJws(es.value(), ecKey()));        // another key
}

TEST(Jws, SignsWhatItVerifiesAndEcSignaturesAreRaw) {
  json::Value claims = claimsFor("c", "j");
  std::string es = sign(claims, ecKey(), "e1");
  std::string rs = sign(claims, rsaKey(), "r1");
  auto e = parseJws(es, kBoth);
  auto r = parseJws(rs, kBoth);
  ASSERT_TRUE(e.isOk());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(e.value().alg, JwsAlg::kES384);
  EXPECT_EQ(e.value().signature.size(), 96u);   // raw r||s, not DER
  EXPECT_EQ(r.value().signature.size(), 384u);  // RSA-3072
  EXPECT_EQ(e.value().header.getString("alg"), "ES384");
  EXPECT_EQ(e.value().header.members()[0].first, "alg");
  EXPECT_TRUE(verifyJws(e.value(), ecKey()));
  EXPECT_TRUE(verifyJws(r.value(), rsaKey()));
  EXPECT_FALSE(verifyJws(e.value(), otherEcKey()));
  EXPECT_FALSE(verifyJws(r.value(), otherRsaKey()));
  // A public key cannot sign; an EC key cannot sign RS384.
  EXPECT_FALSE(signJws(json::Value::makeObject(), claims, publicKeyOf(ecKey()).value(),
                       JwsAlg::kES384).isOk());
  EXPECT_FALSE(signJws(json::Value::makeObject(), claims, ecKey(), JwsAlg::kRS384).isOk());
}

TEST(Jws, TamperingBreaksTheSignature) {
  std::string jwt = sign(claimsFor("c", "j"), ecKey());
  size_t dot1 = jwt.find('.');
  size_t dot2 = jwt.rfind('.');
  // Another payload under the same header and signature.
  std::string other = jwt.substr(0, dot1 + 1) +
                      base64UrlEncode(json::write(claimsFor("c", "other"))) + jwt.substr(dot2);
  auto p = parseJws(other, kBoth);
  ASSERT_TRUE(p.isOk());
  EXPECT_FALSE(verifyJws(p.value(), ecKey()));
  // A flipped signature byte.
  auto sig = base64UrlDecode(jwt.substr(dot2 + 1));
  (*sig)[10] ^= 1;
  auto q = parseJws(jwt.substr(0, dot2 + 1) + base64UrlEncode(*sig), kBoth);
  ASSERT_TRUE(q.isOk());
  EXPECT_FALSE(verifyJws(q.value(), ecKey()));
  // A DER signature (what a naive signer produces) is not accepted for ES384.
  auto d = parseJws(jwt, kBoth).value();
  d.signature = std::string(102, '\x30');
  EXPECT_FALSE(verifyJws(d, ecKey()));
}

TEST(Jws, ParsingRefusesDangerousOrMalformedInput) {
  json::Value claims = claimsFor("c", "j");
  auto header = [](const char* text) { return parseJson(text); };
  auto refused = [&](const std::string& jwt, const char* code) {
    auto r = parseJws(jwt, kBoth);
    EXPECT_FALSE(r.isOk()) << jwt;
    if (!r.isOk()) {
      EXPECT_EQ(r.status().message().rfind(code, 0), 0u) << r.status().message();
    }
  };
  refused(forge(header(R"({"alg":"none"})"), claims, ""), "auth.jws-alg");
  refused(forge(header(R"({"alg":"none"})"), claims, "x"), "auth.jws-alg");
  refused(forge(header(R"({"alg":"HS256"})"), claims, "x"), "auth.jws-alg");
  refused(forge(header(R"({"alg":"RS256"})"), claims, "x"), "auth.jws-alg");
  refused(forge(header(R"({"alg":"ES256"})"), claims, "x"), "auth.jws-alg");
  refused(forge(header(R"({"alg":"es384"})"), claims, "x"), "auth.jws-alg");
  refused(forge(header(R"({"typ":"JWT"})"), claims, "x"), "auth.jws-malformed");
  refused(forge(header(R"({"alg":["ES384"]})"), claims, "x"), "auth.jws-malformed");
  refused(forge(header(R"({"alg":"ES384","crit":["exp"]})"), claims, "x"), "auth.jws-malformed");
  refused(forge(header(R"({"alg":"ES384","kid":7})"), claims, "x"), "auth.jws-malformed");
  std::string good = sign(claims, ecKey());
  refused(good + ".x", "auth.jws-malformed");
  refused(good.substr(0, good.rfind('.')), "auth.jws-malformed");
  refused(good.substr(0, good.rfind('.') + 1), "auth.jws-malformed");   // empty signature
  refused(" " + good, "auth.jws-malformed");
  refused(good + "=", "auth.jws-malformed");
  refused("", "auth.jws-malformed");
  // Header or payload that is not a JSON object, or has duplicate members.
  std::string sig = good.substr(good.rfind('.'));
  refused(base64UrlEncode("[1]") + "." + base64UrlEncode(json::write(claims)) + sig,
          "auth.jws-malformed");
  refused(base64UrlEncode(R"({"alg":"ES384","alg":"none"})") + "." +
              base64UrlEncode(json::write(claims)) + sig,
          "auth.jws-malformed");
  refused(base64UrlEncode(R"({"alg":"ES384"})") + "." + base64UrlEncode("\"str\"") + sig,
          "auth.jws-malformed");
  refused(base64UrlEncode(R"({"alg":"ES384"})") + "." + base64UrlEncode(R"({"a":1,"a":2})") + sig,
          "auth.jws-malformed");
  // Size caps.
  std::string big(20000, 'a');
  json::Value bigClaims = claims;
  bigClaims.set("pad", str(big));
  refused(forge(header(R"({"alg":"ES384"})"), bigClaims, "x"), "auth.jws-malformed");
  // The allow-list is the caller's: ES384 refused when only RS384 is allowed.
  auto onlyRs = parseJws(good, {JwsAlg::kRS384});
  ASSERT_FALSE(onlyRs.isOk());
  EXPECT_EQ(onlyRs.status().message().rfind("auth.jws-alg", 0), 0u);
}

TEST(Jws, HmacWithThePublicKeyAsSecretIsNeverAccepted) {
  // The classic confusion attack: HS256 keyed with the client's public key PEM.
  std::string pem = publicKeyPem(rsaKey());
  json::Value h = parseJson(R"({"alg":"HS256","typ":"JWT"})");
  std::string input = base64UrlEncode(json::write(h)) + "." +
                      base64UrlEncode(json::write(claimsFor("c", "j")));
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t macLen = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, pem.data(), pem.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                      sizeof(mac), &macLen),
            nullptr);
  std::string jwt = input + "." + base64UrlEncode(std::string(reinterpret_cast<char*>(mac), macLen));
  EXPECT_FALSE(parseJws(jwt, kBoth).isOk());
}

}  // namespace
}  // namespace acp::auth
