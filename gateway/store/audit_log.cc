#include "gateway/store/audit_log.h"

#include <openssl/sha.h>

#include <algorithm>

#include "gateway/core/json.h"

namespace acp::store {

std::string auditHashInput(const AuditRow& row) {
  std::string text;
  text.reserve(row.prevHash.size() + row.json.size() + 256);
  text += row.prevHash;
  text += "\n[";
  text += std::to_string(row.seq);
  for (const std::string* field : {&row.recorded, &row.client, &row.organisation, &row.action,
                                   &row.subtype}) {
    text += ',';
    text += json::quote(*field);
  }
  text += ',';
  text += std::to_string(row.outcome);
  text += ',';
  text += json::quote(row.purpose);
  text += ",[";
  for (size_t i = 0; i < row.patients.size(); ++i) {
    if (i) text += ',';
    text += json::quote(row.patients[i]);
  }
  text += "]]\n";
  text += row.json;
  return text;
}

std::string auditRowHash(const AuditRow& row) {
  const std::string input = auditHashInput(row);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

void normaliseAuditPatients(std::vector<std::string>& patients) {
  std::sort(patients.begin(), patients.end());
  patients.erase(std::unique(patients.begin(), patients.end()), patients.end());
}

}  // namespace acp::store
