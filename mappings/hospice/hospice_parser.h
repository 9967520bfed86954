// Hospice export parser: JSON bytes → hospice::Export (hospice_export.h).
//
// The document goes through the gateway's hardened JSON reader (depth limit, duplicate keys,
// UTF-8). Document-level problems (not JSON, not an export, unknown exportVersion, no
// exportId or source.odsCode) make parse() return false with issues; nothing is mapped.
// Record-level problems stay with the record: a required field missing or impossible
// (recordId, lastModified that is not an ISO 8601 date-time, forename, surname, a dateOfBirth
// that is not a real dd/mm/yyyy date) rejects that record; so does a plan status or a
// resuscitation decision the export version does not define, or a resuscitation section
// without a decision (a plan or CPR decision that cannot be read is never stored). An
// optional field that is malformed is dropped with a warning; fields the format does not
// define are reported as warnings ("not used"). Codes the mapper translates (places,
// relationships, episode types) are kept as sent even when unknown (the mapper keeps them as
// text); other unknown optional codes (consent `by`, episode `location`) are kept as sent with
// a warning; an unknown `sex` is dropped with a warning (Patient.gender cannot hold text).
// Version 1.1 rules: no preferredPlaceOfDeath.second, resuscitation Y/N, no STEP_DOWN
// episodes; a 1.1 export carrying 1.2 content uses it as 1.2 defines it with a warning
// (hospice.version-content), except a 1.2 resuscitation decision, which rejects the record.
// A date-time without a zone is read as Europe/London local time (hospice.assumed-time-zone).
// Issue codes: hospice.* (docs/errors.md). Thread-safety: pure function.
#pragma once

#include <string_view>

#include "gateway/core/issues.h"
#include "mappings/hospice/hospice_export.h"

namespace acp::mappings::hospice {

bool parseExport(std::string_view body, Export& out, IssueList& issues);

// "14/03/2015" → "2015-03-14"; "" when not a real calendar date in that form.
std::string isoFromDayMonthYear(const std::string& ddmmyyyy);

// An ISO 8601 date ("2026-10-30") or date-time ("2026-10-30T16:02[:00[.123]]", then "Z",
// "+01:00", "+0100" or nothing) as a FHIR date / dateTime. A time without a zone is Europe/
// London local time: the offset in force on that date is added and `zoneAssumed` set. "" when
// not such a value (or not a real calendar date / time).
std::string fhirDateTimeFromIso(const std::string& iso, bool* zoneAssumed = nullptr);

// The same value as UTC "yyyymmddhhmmss" (a date alone is its London midnight): text that
// sorts as the instants do. "" when not such a value.
std::string utcStampFromIso(const std::string& iso, bool* zoneAssumed = nullptr);

}  // namespace acp::mappings::hospice
