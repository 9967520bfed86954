// The one hardened entry point for parsing untrusted XML (../shared/reference/security.md).
//
// libxml2 with XML_PARSE_NONET | XML_PARSE_NO_XXE-equivalents: never NOENT, DTDLOAD,
// DTDATTR, DTDVALID, XINCLUDE or HUGE; any DOCTYPE (internal or external subset) is rejected
// before entities could be expanded; size and depth capped. Used by the FHIR XML reader and
// by the partner mappers. Thread-safety: safe to call from many threads (libxml2 is
// initialised once by xmlSafeInit()).
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>

namespace acp::xml {

struct DocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;

struct XmlError {
  std::string issueType;  // "structure" (malformed, DOCTYPE) or "too-long"
  std::string message;
  std::string code;       // "parse.xml.malformed", "parse.xml.doctype", "parse.xml.too-deep"
};

// Call once at start-up (idempotent).
void xmlSafeInit();

// Parses `text`; nullptr with `error` filled when it is malformed, has a DOCTYPE, or nests
// deeper than maxDepth elements.
DocPtr parseUntrusted(std::string_view text, XmlError& error, size_t maxDepth = 128);

}  // namespace acp::xml
