// Identity of ingested data: resource ids derived from the source, and identifier systems.
//
// A resource made from a source record always gets the same id, derived from (resource type,
// source ODS code, the source's own key), so a re-sent record updates the same resource and
// two sources never collide. The id is a name-based UUID (SHA-256 of the three parts, shaped
// as a version-8 UUID): opaque, 36 characters, valid as a FHIR id.
// Thread-safety: pure functions.
#pragma once

#include <string>

namespace acp::ingest {

std::string derivedId(const std::string& type, const std::string& ods, const std::string& key);

// The identifier system for a source organisation's local patient numbers.
std::string localIdentifierSystem(const std::string& ods);

inline constexpr const char* kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";
inline constexpr const char* kOdsSystem = "https://fhir.nhs.uk/Id/ods-organization-code";
inline constexpr const char* kGmcSystem = "https://fhir.hl7.org.uk/Id/gmc-number";
inline constexpr const char* kNmcSystem = "https://fhir.hl7.org.uk/Id/nmc-number";
inline constexpr const char* kSnomedSystem = "http://snomed.info/sct";
// The gateway's own code systems and extensions live under this base (conformance/acp/).
inline constexpr const char* kAcpBase = "https://acp-gateway.nhs.uk";

// NHS number check (NHS Data Dictionary): 10 digits, Modulus 11 check digit.
bool isValidNhsNumber(const std::string& digits);
// Removes spaces and hyphens; other characters are kept (and fail the check).
std::string normaliseNhsNumber(const std::string& raw);

}  // namespace acp::ingest
