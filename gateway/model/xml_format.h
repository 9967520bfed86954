// FHIR R4 XML ⇄ JSON (R4 xml.html and json.html), driven by the model.
//
// XML → JSON: the model says which elements repeat (arrays), which primitives are numbers
// (integer, decimal, positiveInt, unsignedInt; the exact text is kept, so 1.50 stays 1.50) or
// booleans in JSON, which element is a choice, where resources nest (contained,
// Bundle.entry.resource, Parameters.parameter.resource, Bundle.entry.response.outcome) and
// where the xhtml div sits (serialised to a string with xmlns="http://www.w3.org/1999/xhtml",
// unprefixed names, comments dropped). Primitive id/extension become the JSON `_name`
// companion; in repeating primitives both arrays are aligned with nulls (and the value array
// is left out when no repeat has a value). Element.id and Extension.url are read from XML
// attributes (ElementDef::xmlAttribute); xsi:* attributes are ignored. Element order in the
// input is not enforced (the JSON form has none); everything else not in the model is an
// error.
// JSON → XML: elements in definition order (a choice at its element's position), primitives
// as value attributes, Element.id / Extension.url as attributes, nested resources wrapped in
// their element, the narrative div re-parsed by the hardened parser and embedded as XHTML.
// Pretty output indents by two spaces and never adds whitespace inside the div or values.
// Parsing goes through core/xml.h (no DTD, no entities, no network; DOCTYPE rejected).
// Thread-safety: pure functions over an immutable Model; safe from many threads.
// Error contract: never throws. Error codes (OperationOutcome issue type in brackets):
//   parse.xml.malformed / doctype / encoding (structure), parse.xml.too-deep (too-long; also
//     when the JSON form would nest deeper than json::ParseLimits::maxDepth) — from core/xml.h
//   parse.xml.namespace (structure)          element outside http://hl7.org/fhir (or the div
//                                            outside the XHTML namespace)
//   parse.xml.unknown-resource (structure)   root / nested resource element is not a resource
//   parse.xml.bad-resource (structure)       a resource container holds zero or several elements
//   parse.xml.unknown-element (structure)    element not defined for its parent type
//   parse.xml.unknown-attribute (structure)  attribute not defined (only id, url, value exist)
//   parse.xml.repeated-element (structure)   a non-repeating element (or choice) occurs twice
//   parse.xml.unexpected-text (structure)    non-whitespace text inside a FHIR element
//   parse.xml.empty-element (structure)      primitive element with no value, id or extension
//   parse.xml.invalid-value (value)          boolean / number text not representable in JSON
//   parse.xml.xhtml (structure)              narrative holds non-XHTML elements or attributes
#pragma once

#include <string>
#include <string_view>

#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/model/model.h"

namespace acp::model {

// Parses a FHIR XML resource into its JSON form. On failure returns false with errors in
// `issues` (locations are FHIRPath-like, e.g. "Patient.name[0].foo"; at most 100 issues)
// and leaves `out` untouched.
bool xmlToJson(const Model& model, std::string_view xml, json::Value& out, IssueList& issues);

// Serialises a FHIR JSON resource as XML (UTF-8, with XML declaration). Unknown JSON
// properties and values of the wrong JSON kind are skipped (validated resources have none);
// a div that does not parse as XHTML is written as escaped text inside an XHTML div, and
// characters XML 1.0 cannot carry become U+FFFD, so the output is always well-formed.
// Returns "" when `resource` is not an object whose resourceType is a concrete resource.
std::string jsonToXml(const Model& model, const json::Value& resource, bool pretty = false);

}  // namespace acp::model
