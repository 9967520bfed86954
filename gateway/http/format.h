// Content negotiation (R4 http.html#mime-type): which format a request body is in
// (Content-Type) and which the response should use (_format, then Accept).
// Pure functions.
#pragma once

#include <string>

#include "gateway/http/request.h"

namespace acp::http {

enum class Format { kJson, kXml };

struct Negotiated {
  bool ok = true;
  int status = 200;      // 406 when no acceptable format, 415 for an unsupported body type
  std::string message;   // why, when !ok
  Format format = Format::kJson;
};

// Response format from `_format` (json, xml, application/fhir+json, ...) or, without it, the
// Accept header (q-values honoured; */* and absence mean JSON).
Negotiated responseFormat(const FhirRequest& request);

// Body format from Content-Type (application/fhir+json, application/json,
// application/fhir+xml, application/xml, text/xml; charset, if given, must be UTF-8).
Negotiated bodyFormat(const FhirRequest& request);

const char* contentTypeOf(Format f);  // "application/fhir+json;charset=utf-8" / xml

// True when `_pretty=true` was asked for.
bool wantsPretty(const FhirRequest& request);

}  // namespace acp::http
