#include "gateway/ingest/source_ids.h"

#include <openssl/sha.h>

#include <cctype>

namespace acp::ingest {

std::string derivedId(const std::string& type, const std::string& ods, const std::string& key) {
  // Length-prefixed parts: ("a","bc") and ("ab","c") never hash alike.
  std::string input;
  for (const std::string* part : {&type, &ods, &key}) {
    input += std::to_string(part->size());
    input += ':';
    input += *part;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x80);  // version 8
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

std::string localIdentifierSystem(const std::string& ods) {
  return std::string(kAcpBase) + "/Id/local/" + ods;
}

bool isValidNhsNumber(const std::string& d) {
  if (d.size() != 10) return false;
  for (char c : d)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (d[static_cast<size_t>(i)] - '0') * (10 - i);
  int check = 11 - (sum % 11);
  if (check == 11) check = 0;
  if (check == 10) return false;
  return check == d[9] - '0';
}

std::string normaliseNhsNumber(const std::string& raw) {
  std::string out;
  for (char c : raw)
    if (c != ' ' && c != '-') out += c;
  return out;
}

}  // namespace acp::ingest
