// Hospice export parser: JSON bytes → hospice::Export (hospice_export.h).
//
// The document goes through the gateway's hardened JSON reader (depth limit, duplicate keys,
// UTF-8). Document-level problems (not JSON, not an export, unknown exportVersion, no
// exportId or source.odsCode) make parse() return false with issues; nothing is mapped.
// Record-level problems stay with the record: a required field missing or impossible
// (recordId, lastModified, forename, surname, a dateOfBirth that is not a real dd/mm/yyyy
// date) rejects that record; an optional field that is malformed is dropped with a warning;
// fields the format does not define are reported as warnings ("not used"). Version 1.1 rules:
// no preferredPlaceOfDeath.second, resuscitation Y/N, no STEP_DOWN episodes.
// Issue codes: hospice.* (docs/errors.md). Thread-safety: pure function.
#pragma once

#include <string_view>

#include "gateway/core/issues.h"
#include "mappings/hospice/hospice_export.h"

namespace acp::mappings::hospice {

bool parseExport(std::string_view body, Export& out, IssueList& issues);

// "14/03/2015" → "2015-03-14"; "" when not a real calendar date in that form.
std::string isoFromDayMonthYear(const std::string& ddmmyyyy);

}  // namespace acp::mappings::hospice
