// Key — an asymmetric key (public, or private for signing) held as an OpenSSL EVP_PKEY, with
// what JOSE needs to know of it; loading keys from PEM and generating new ones.
//
// Only the two key kinds SMART backend services use are accepted: RSA of at least 2048 bits
// (RS384) and EC on P-384 (ES384). Anything else — smaller RSA, RSA-PSS-only keys, other
// curves, DSA, Ed25519 — is refused with a message saying why.
// Thread-safety: a Key is immutable once made; copies share the EVP_PKEY, which OpenSSL lets
// any number of threads use at once for signing and verifying.
// Errors: Status::invalid with the stable code "auth.bad-key" at the start of the message
// (readSmallFile: "auth.file-unreadable", "auth.file-too-large").
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "gateway/core/status.h"

namespace acp::auth {

enum class KeyType { kRsa, kEcP384 };

constexpr int kMinRsaBits = 2048;

struct Key {
  std::shared_ptr<EVP_PKEY> pkey;
  KeyType type = KeyType::kRsa;
  bool isPrivate = false;
  std::string kid;  // the JWK "kid"; "" when the key has none
  std::string alg;  // the JWK "alg" when it restricts the key to one algorithm; "" = any
};

// Takes ownership of `pkey` (freed on failure too) and checks it is a kind accepted here.
Result<Key> keyFromPkey(EVP_PKEY* pkey, bool isPrivate);

// A SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
Result<Key> publicKeyFromPem(std::string_view pem);
// An unencrypted private key PEM (PKCS#8 "PRIVATE KEY", or "EC PRIVATE KEY" /
// "RSA PRIVATE KEY"). An encrypted key is refused (never a passphrase prompt).
Result<Key> privateKeyFromPem(std::string_view pem);
// The file's contents through privateKeyFromPem / publicKeyFromPem; the message names the file.
Result<Key> privateKeyFromPemFile(const std::string& path);
Result<Key> publicKeyFromPemFile(const std::string& path);

// A fresh key from OpenSSL's CSPRNG: EC P-384, or RSA of `rsaBits` (≥ kMinRsaBits).
Result<Key> generateKey(KeyType type, int rsaBits = 3072);

// The public half (isPrivate false), sharing nothing private.
Result<Key> publicKeyOf(const Key& key);

// PEM texts (SubjectPublicKeyInfo; unencrypted PKCS#8 for the private key). "" on failure.
std::string publicKeyPem(const Key& key);
std::string privateKeyPem(const Key& key);

// Reads a whole small file (keys, JWKS, the client registry); kNotFound / kInternal with the
// path in the message; files over `maxBytes` are refused.
Result<std::string> readSmallFile(const std::string& path, size_t maxBytes = 1024 * 1024);

}  // namespace acp::auth
