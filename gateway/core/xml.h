// The one hardened entry point for parsing untrusted XML (../shared/reference/security.md).
//
// libxml2 2.9 with XML_PARSE_NONET | NOCDATA | IGNORE_ENC and never NOENT, DTDLOAD, DTDATTR,
// DTDVALID, XINCLUDE or HUGE. Defences, in order:
//   1. the prolog (bytes before the root element) is scanned before parsing: any DOCTYPE or
//      other markup declaration is rejected, as is any encoding but UTF-8 (a NUL byte, or an
//      XML declaration naming another encoding: UTF-16/UTF-7 could hide "<!DOCTYPE");
//   2. the parser's DOCTYPE / entity-declaration / entity-resolution callbacks stop the parse
//      before an internal subset is read, and the external entity loader refuses every load
//      made from inside parseUntrusted (other libxml2 users in the process are unaffected);
//   3. the finished document is rejected if it carries an internal or external subset.
// Element nesting is capped (maxDepth; libxml2's own cap of 256 also applies). CDATA sections
// become ordinary text nodes. Nothing is printed to stderr: the first error (with its line and
// column) goes into XmlError. Used by the FHIR XML reader and by the partner mappers.
// Thread-safety: safe to call from many threads at once; each call has its own parser
// context, and the thread's libxml2 structured-error handler is restored on return.
// Error contract: never throws; returns nullptr with XmlError filled on any failure.
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
  std::string issueType;  // "structure" (malformed, DOCTYPE, encoding) or "too-long"
  std::string message;    // for malformed XML: libxml2's first error with line and column
  std::string code;       // "parse.xml.malformed", "parse.xml.doctype", "parse.xml.encoding",
                          // "parse.xml.too-deep", "parse.xml.too-large" (over 2 GiB),
                          // "parse.xml.internal" (issue "exception": parser not created)
};

// Scans the prolog (everything before the root element) without parsing it: false with
// `error` filled for a DOCTYPE or any other markup declaration (parse.xml.doctype), NUL bytes
// or a declared encoding other than UTF-8 (parse.xml.encoding), content before the root or no
// root at all (parse.xml.malformed). Used by parseUntrusted and by streaming readers.
bool checkProlog(std::string_view text, XmlError& error);

// Initialises libxml2 and installs the guarded external entity loader. Idempotent and
// thread-safe; parseUntrusted calls it too, so calling it at start-up is optional.
void xmlSafeInit();

// Parses `text` (UTF-8); nullptr with `error` filled when it is malformed, has a DOCTYPE or
// other markup declaration, is not UTF-8, or nests deeper than maxDepth elements. The
// returned tree is an ordinary libxml2 document the caller owns (and may modify).
DocPtr parseUntrusted(std::string_view text, XmlError& error, size_t maxDepth = 128);

}  // namespace acp::xml
