// FHIR instants for the store: milliseconds since the Unix epoch ⇄ "YYYY-MM-DDThh:mm:ss.sssZ".
//
// The fixed-width form sorts as text in time order, so the store keeps last_updated as text
// and compares it with formatted bounds. Pure functions; thread-safe; never fail (values
// outside years 0000..9999 are clamped to those years).
#pragma once

#include <cstdint>
#include <string>

namespace acp::store {

std::string formatInstant(int64_t ms);

// The system clock in ms since the epoch (the default clock of the store).
int64_t systemNowMs();

}  // namespace acp::store
