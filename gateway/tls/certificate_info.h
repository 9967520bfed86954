// What a certificate file says of its first certificate, for people: its subject and when it
// expires (acp-gateway check-config, app/config_check.h).
// Thread-safety: pure function of the file.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/core/status.h"

namespace acp::tls {

struct CertificateInfo {
  std::string subject;     // "CN=acp-gateway.example.nhs.uk,O=..." (RFC 2253)
  std::string notAfter;    // "2027-11-24T10:00:00Z"
  int64_t notAfterSeconds = 0;  // the same, seconds since the epoch
};

// The first certificate of a PEM file. Errors: unreadable file, no certificate in it.
Result<CertificateInfo> readCertificateInfo(const std::string& pemFile);

}  // namespace acp::tls
