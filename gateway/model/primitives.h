// Format checks for the FHIR R4 primitive types (R4 datatypes.html), hand-written from the
// regular expressions the model carries on each primitive's "value" element, plus the rules
// the regexes cannot express: real calendar dates (no 31 February, leap years), the 32-bit
// range of integer / positiveInt / unsignedInt, the 1 MB cap on strings and the
// no-control-characters rule. No std::regex: every check is a single pass over the text.
//
// Error contract: the checks never throw and never allocate; a failure is returned as a
// static reason string (nullptr means valid).
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace acp::model::primitives {

enum class Primitive : unsigned char {
  kUnknown,  // not a FHIR primitive type name
  kBoolean,
  kInteger,
  kPositiveInt,
  kUnsignedInt,
  kDecimal,
  kString,
  kMarkdown,
  kCode,
  kId,
  kUri,
  kUrl,
  kCanonical,
  kOid,
  kUuid,
  kBase64Binary,
  kDate,
  kDateTime,
  kInstant,
  kTime,
  kXhtml,
};

// The JSON kind a primitive takes in FHIR JSON.
enum class JsonKind : unsigned char { kString, kNumber, kBoolean };

// "dateTime" -> kDateTime; unknown names -> kUnknown. The FHIRPath system type
// "http://hl7.org/fhirpath/System.String" maps to kString.
Primitive primitiveFromName(std::string_view typeName);
const char* primitiveName(Primitive p);
JsonKind jsonKindOf(Primitive p);

// Largest string / markdown / code / id value in bytes (R4: "strings SHALL NOT exceed 1MB").
inline constexpr size_t kMaxStringBytes = 1024 * 1024;

// Checks the text of one value (the JSON string, or the raw JSON number / boolean text)
// against the type's lexical rules. The JSON kind and the 1 MB cap are checked by the
// caller (see jsonKindOf / kMaxStringBytes); an empty text is reported here.
// Returns nullptr when valid, otherwise a short static reason.
const char* checkText(Primitive p, std::string_view text);

// Individual checks, exposed for reuse (search values, the XML reader, ids in URLs).
bool isValidId(std::string_view s);           // [A-Za-z0-9\-\.]{1,64}
bool isValidDate(std::string_view s);         // YYYY, YYYY-MM, YYYY-MM-DD, real calendar date
bool isValidDateTime(std::string_view s);     // date, or full date + Thh:mm:ss[.f] + timezone
bool isValidInstant(std::string_view s);      // full date + Thh:mm:ss[.f] + timezone
bool isValidTime(std::string_view s);         // hh:mm:ss[.f]
bool isValidDecimal(std::string_view s);      // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool isValidInteger(std::string_view s);      // -?(0|[1-9][0-9]*), 32-bit signed range
bool isValidPositiveInt(std::string_view s);  // [1-9][0-9]*, <= 2^31-1
bool isValidUnsignedInt(std::string_view s);  // 0|[1-9][0-9]*, <= 2^31-1
bool isValidOid(std::string_view s);          // urn:oid:[0-2](\.(0|[1-9][0-9]*))+
bool isValidUuid(std::string_view s);         // urn:uuid: + lower-case 8-4-4-4-12 hex
bool isValidBase64(std::string_view s);       // groups of 4, '=' padding only at the end
bool isValidCode(std::string_view s);         // [^\s]+(\s[^\s]+)*
bool isValidUri(std::string_view s);          // non-empty, no whitespace or control chars

// Checks an xhtml narrative (already known to be a well-formed-looking <div>) for content
// R4 forbids (txt-1): active or embedding elements (script, style, iframe, object, embed,
// form, ...), event-handler attributes (on*) and javascript:/vbscript:/data: URLs in
// href/src. Returns nullptr when acceptable, otherwise a short static reason.
const char* checkXhtmlSafety(std::string_view xhtml);

}  // namespace acp::model::primitives
