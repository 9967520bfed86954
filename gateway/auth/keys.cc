#include "gateway/auth/keys.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

namespace acp::auth {

namespace {

Status bad(const std::string& why) { return Status::invalid("auth.bad-key: " + why); }

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Never prompt for a passphrase: an encrypted key simply fails to load.
int noPassphrase(char*, int, int, void*) { return -1; }

std::string curveName(EVP_PKEY* pkey) {
  char name[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
                                     &len) != 1) {
    return "";
  }
  return std::string(name, len);
}

}  // namespace

Result<Key> keyFromPkey(EVP_PKEY* raw, bool isPrivate) {
  if (!raw) return bad("no key");
  std::shared_ptr<EVP_PKEY> pkey(raw, EVP_PKEY_free);
  Key key;
  key.pkey = pkey;
  key.isPrivate = isPrivate;
  if (EVP_PKEY_is_a(raw, "RSA")) {
    int bits = EVP_PKEY_get_bits(raw);
    if (bits < kMinRsaBits) {
      return bad("an RSA key of " + std::to_string(bits) + " bits (at least " +
                 std::to_string(kMinRsaBits) + " are required)");
    }
    key.type = KeyType::kRsa;
    return key;
  }
  if (EVP_PKEY_is_a(raw, "EC")) {
    std::string curve = curveName(raw);
    if (curve != "secp384r1" && curve != "P-384") {
      return bad("an EC key on curve " + (curve.empty() ? std::string("(unknown)") : curve) +
                 " (only P-384, for ES384, is accepted)");
    }
    key.type = KeyType::kEcP384;
    return key;
  }
  const char* type = EVP_PKEY_get0_type_name(raw);
  return bad(std::string("a key of type ") + (type ? type : "(unknown)") +
             " (only RSA and EC P-384 are accepted)");
}

Result<Key> publicKeyFromPem(std::string_view pem) {
  BioPtr bio = memBio(pem);
  if (!bio) return Status::internal("auth.bad-key: out of memory");
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, noPassphrase, nullptr);
  if (!pkey) return bad("not a PEM public key (\"-----BEGIN PUBLIC KEY-----\")");
  return keyFromPkey(pkey, false);
}

Result<Key> privateKeyFromPem(std::string_view pem) {
  BioPtr bio = memBio(pem);
  if (!bio) return Status::internal("auth.bad-key: out of memory");
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr);
  if (!pkey) return bad("not an unencrypted PEM private key");
  return keyFromPkey(pkey, true);
}

Result<Key> privateKeyFromPemFile(const std::string& path) {
  auto text = readSmallFile(path, 64 * 1024);
  if (!text.isOk()) return text.status();
  auto key = privateKeyFromPem(text.value());
  if (!key.isOk()) return bad(path + ": " + key.status().message());
  return key;
}

Result<Key> publicKeyFromPemFile(const std::string& path) {
  auto text = readSmallFile(path, 64 * 1024);
  if (!text.isOk()) return text.status();
  auto key = publicKeyFromPem(text.value());
  if (!key.isOk()) return bad(path + ": " + key.status().message());
  return key;
}

Result<Key> generateKey(KeyType type, int rsaBits) {
  EVP_PKEY* pkey = nullptr;
  if (type == KeyType::kEcP384) {
    pkey = EVP_EC_gen("P-384");
  } else {
    if (rsaBits < kMinRsaBits) return bad("RSA keys have at least 2048 bits");
    pkey = EVP_RSA_gen(static_cast<unsigned>(rsaBits));
  }
  if (!pkey) return Status::internal("auth.bad-key: key generation failed");
  return keyFromPkey(pkey, true);
}

Result<Key> publicKeyOf(const Key& key) {
  if (!key.isPrivate) return key;
  std::string pem = publicKeyPem(key);
  if (pem.empty()) return Status::internal("auth.bad-key: cannot export the public key");
  auto pub = publicKeyFromPem(pem);
  if (!pub.isOk()) return pub;
  pub.value().kid = key.kid;
  pub.value().alg = key.alg;
  return pub;
}

std::string publicKeyPem(const Key& key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !key.pkey || PEM_write_bio_PUBKEY(bio.get(), key.pkey.get()) != 1) return "";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string privateKeyPem(const Key& key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !key.pkey || !key.isPrivate ||
      PEM_write_bio_PrivateKey(bio.get(), key.pkey.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return "";
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> readSmallFile(const std::string& path, size_t maxBytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound("auth.file-unreadable: cannot open " + path);
  std::string out;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > maxBytes) {
      return Status::invalid("auth.file-too-large: " + path + " is over " +
                             std::to_string(maxBytes) + " bytes");
    }
  }
  if (in.bad()) return Status::internal("auth.file-unreadable: cannot read " + path);
  return out;
}

}  // namespace acp::auth
