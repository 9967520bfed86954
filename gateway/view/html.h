// HTML text for server-rendered pages (view/): every value from a record goes through escape()
// — there is no other way for data to reach the markup — and the page's shell carries no
// inline script or style, so the Content-Security-Policy of view/plan_page.h can forbid both.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace acp::view {

// Text for an element's content or a double-quoted attribute: & < > " ' as character
// references. Bytes that are not valid UTF-8 and control characters other than tab and line
// ends become U+FFFD, so no record can smuggle markup or break the page's encoding.
std::string escape(std::string_view text);

// "9991215271" → "999 121 5271" (the NHS number as NHS.UK pages show it); other text as given.
std::string formatNhsNumber(std::string_view digits);

// "2026-03-14" → "14 March 2026"; "2026-03-14T09:30:00Z" → "14 March 2026, 09:30 UTC" (the
// time as written, with its zone); text that is not a FHIR date is returned as given.
std::string readableDate(std::string_view date);

}  // namespace acp::view
