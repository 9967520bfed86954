// Overlay — how a record's resource is laid over the stored version for partners whose
// messages carry only part of a resource (HL7 v2: a field not sent is unchanged, `""` removes
// it). Used by IngestService for the types in MappedRecord::overlayTypes.
//
// Rules, in order (layOver):
//   1. Every top-level element the incoming resource does not carry keeps its stored value
//      (meta excepted: the store owns it).
//   2. For the object elements named in `objects` (e.g. "period"), the same one level down:
//      period.start sent alone keeps the stored period.end.
//   3. An identifier sent again (same system and value) without an `extension` member keeps
//      the stored identifier's extensions (the NHS number's verification status survives a
//      message that does not repeat PID-32), and stored identifiers of a system the record
//      sends none of are kept (an ADT whose PID-3 carries only the hospital number does not
//      remove the NHS number GP systems search by; a new value of a system replaces it).
//   4. `defaults` members fill what is still absent (e.g. an Encounter status when an update
//      message creates the spell).
//   5. JSON null members, at any depth, are removals: they stop 1–4 and are dropped.
// fillGaps (for a record older than the stored version): the stored version stays, and only
// top-level elements it lacks are taken from the older record — older data never overwrites
// newer, but a late admission still supplies the address the discharge did not carry.
// Pure functions on json::Value; thread-safe.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "gateway/core/json.h"

namespace acp::ingest {

json::Value layOver(const json::Value& incoming, const json::Value& current,
                    const std::set<std::string>& objects, const json::Value* defaults);

// The stored version with the elements it lacks taken from `older` (nulls ignored), and
// identifiers of systems it has none of (an NHS number only an older message carried); names
// of the elements taken go to `filled` (empty: nothing to add).
json::Value fillGaps(const json::Value& current, const json::Value& older,
                     std::vector<std::string>& filled);

// Removes JSON null members and items at any depth (explicit removals).
void stripNulls(json::Value& v);

}  // namespace acp::ingest
