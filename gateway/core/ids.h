// Identifiers and time: random UUIDs, FHIR id syntax, FHIR instants.
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace acp {

// A random (version 4) UUID, lower case: "3f2b…-…". Uses OpenSSL's CSPRNG.
std::string newUuid();

// True when `id` matches the FHIR id syntax [A-Za-z0-9\-.]{1,64}.
bool isValidId(std::string_view id);

// Milliseconds since the Unix epoch, UTC, from the system clock.
int64_t nowMillis();

// "2026-11-22T18:00:00.123Z" for a millisecond timestamp.
std::string formatInstant(int64_t millis);

// RFC 1123 HTTP date ("Sun, 22 Nov 2026 18:00:00 GMT") for a FHIR instant; "" if malformed.
std::string httpDateFromInstant(const std::string& instant);

}  // namespace acp
