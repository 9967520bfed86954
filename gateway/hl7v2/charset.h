// Character sets of HL7 v2 text (MSH-18) and conversion to UTF-8.
//
// Supported MSH-18 values (HL7 table 0211, compared case-insensitively, surrounding spaces
// ignored): "UNICODE UTF-8"; "8859/1" or empty (the HL7 default, ISO 8859-1 / Latin-1);
// "ASCII" (7-bit only). Any other value (e.g. "8859/15", "UNICODE", "ISO IR87") is not
// supported: the parser reports HL7 error 103 at MSH-18 and fails, so the caller answers AR
// (the bytes cannot be read as meant, and resending them unchanged would not help).
// Delimiters are ASCII in every supported set, so messages are split on bytes first and
// only the text values are converted.
// Thread-safety: stateless functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "gateway/core/status.h"

namespace acp::hl7v2 {

enum class Charset { kLatin1, kUtf8, kAscii };

// MSH-18 (repetition 1, component 1) → Charset. Errors: Status::notSupported naming the value.
Result<Charset> charsetFromName(std::string_view msh18);

// The table 0211 name: "8859/1", "UNICODE UTF-8", "ASCII".
std::string_view charsetName(Charset cs);

// Strict UTF-8 check (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
// On failure *errorOffset (when given) is the offset of the first bad byte.
bool isValidUtf8(std::string_view s, size_t* errorOffset = nullptr);

// True when every byte of `bytes` is a valid character of `cs` (Latin-1: always).
bool isValidIn(std::string_view bytes, Charset cs);

// Appends `bytes`, text in `cs`, to `out` as UTF-8. Latin-1 bytes >= 0x80 become two UTF-8
// bytes; UTF-8 and ASCII are copied (validity is the caller's business: the parser checked).
void appendAsUtf8(std::string_view bytes, Charset cs, std::string& out);

// Appends UTF-8 text as Latin-1; code points above U+00FF (and invalid sequences) become
// `replacement`.
void appendUtf8AsLatin1(std::string_view utf8, std::string& out, char replacement = '?');

// Appends `s` with every invalid UTF-8 byte and every control character other than TAB
// replaced by '?', at most `maxBytes` bytes (never cutting a character). For quoting input
// in error messages and for values salvaged from a message that failed to parse.
void appendSanitized(std::string_view s, std::string& out, size_t maxBytes);

// Like appendSanitized, but control characters are kept (only invalid UTF-8 becomes '?').
void appendValidUtf8(std::string_view s, std::string& out, size_t maxBytes);

}  // namespace acp::hl7v2
