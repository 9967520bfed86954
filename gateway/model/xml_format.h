// FHIR R4 XML ⇄ JSON (R4 xml.html and json.html), driven by the model.
//
// XML → JSON: the model says which elements repeat (arrays), which primitives are numbers or
// booleans in JSON, which element is a choice, where resources nest (contained,
// Bundle.entry.resource, Parameters.parameter.resource) and where the xhtml div sits. Primitive
// id/extension become the JSON `_name` companion (with null alignment in arrays).
// JSON → XML: elements in definition order, primitives as value attributes, Extension.url and
// Element.id as attributes, the narrative div copied as XHTML in its namespace.
// Parsing goes through core/xml.h (no DTD, no entities, no network; DOCTYPE rejected).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/model/model.h"

namespace acp::model {

// Parses a FHIR XML resource into its JSON form. On failure returns false with errors in
// `issues` (issue type "structure" for malformed XML, a DOCTYPE, an unknown element or a
// wrong namespace; "value" for a primitive that cannot be represented).
bool xmlToJson(const Model& model, std::string_view xml, json::Value& out, IssueList& issues);

// Serialises a FHIR JSON resource as XML (UTF-8, with XML declaration). Unknown JSON
// properties are skipped (validated resources have none).
std::string jsonToXml(const Model& model, const json::Value& resource, bool pretty = false);

}  // namespace acp::model
