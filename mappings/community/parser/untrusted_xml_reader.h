// A hardened STREAMING entry point for untrusted XML (libxml2's xmlTextReader), the
// counterpart of acp::xml::parseUntrusted (gateway/core/xml.h) for documents too large for a
// tree. Candidate for gateway/core; checkUntrustedProlog is core's prolog scan
// (acp::xml::checkProlog).
//
// Security (shared/reference/security.md, XML section), in order:
//   1. checkUntrustedProlog scans the bytes before the root element without parsing them:
//      a DOCTYPE or any other markup declaration is refused, as are NUL bytes and declared
//      encodings other than UTF-8 (UTF-16/UTF-7 could hide "<!DOCTYPE"). Nothing is parsed,
//      so no entity is ever declared, expanded or loaded.
//   2. The reader uses kUntrustedReaderOptions: NONET, no NOENT / DTDLOAD / DTDATTR /
//      DTDVALID / XINCLUDE / HUGE (libxml2's limits stay: 256 levels of nesting, 10 MB per
//      text node or attribute value).
//   3. While an UntrustedReadScope is alive on a thread, every external entity load made on
//      that thread is refused (other threads and other libxml2 users are unaffected), and
//      libxml2 errors raised without a parser context go to the scope's handler, not stderr.
//   4. Callers must still treat an XML_READER_TYPE_DOCUMENT_TYPE node as a refusal (it cannot
//      occur after step 1; checking it costs nothing).
// Thread-safety: every function may be called from many threads at once; a reader belongs
// to one thread at a time.
#pragma once

#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#include <memory>
#include <string_view>

#include "gateway/core/xml.h"

namespace acp::mappings::community {

// Not XML_PARSE_NOCDATA (unlike parseUntrusted): with libxml2 2.9's XSD SAX plug
// (xmlTextReaderSchemaValidate*), NOCDATA makes the content of CDATA sections vanish from the
// reader's tree while the validator still sees it. CDATA sections stay CDATA nodes;
// xmlNodeGetContent includes them.
inline constexpr int kUntrustedReaderOptions =
    XML_PARSE_NONET |       // never fetch anything over a network
    XML_PARSE_NOERROR |     // errors go to the caller's handlers only
    XML_PARSE_NOWARNING |   //
    XML_PARSE_IGNORE_ENC |  // input is UTF-8 (checked in the prolog)
    XML_PARSE_COMPACT;      // the reader's nodes are read-only for callers

struct TextReaderDeleter {
  void operator()(xmlTextReader* r) const { xmlFreeTextReader(r); }
};
using TextReaderPtr = std::unique_ptr<xmlTextReader, TextReaderDeleter>;

// Step 1 above. False with `error` filled (codes parse.xml.doctype, parse.xml.encoding,
// parse.xml.malformed for content before the root or no root element at all).
bool checkUntrustedProlog(std::string_view text, acp::xml::XmlError& error);

// Checks the prolog, then opens a reader over `text` with kUntrustedReaderOptions. `text` is
// not copied and must outlive the reader. Nothing is parsed until the first
// xmlTextReaderRead. nullptr with `error` filled when the prolog is refused, the text is
// over 2 GiB (parse.xml.too-large) or the reader cannot be created (parse.xml.internal).
// Use it inside an UntrustedReadScope.
TextReaderPtr openUntrustedReader(std::string_view text, acp::xml::XmlError& error);

// Step 3 above, for the lifetime of the object on the constructing thread. Nests: the
// previous thread state is restored on destruction. `handler` may be null (errors without a
// context are then dropped).
class UntrustedReadScope {
 public:
  UntrustedReadScope(xmlStructuredErrorFunc handler, void* handlerContext);
  ~UntrustedReadScope();
  UntrustedReadScope(const UntrustedReadScope&) = delete;
  UntrustedReadScope& operator=(const UntrustedReadScope&) = delete;

  // While a Pause is alive the thread's previous state is back (e.g. while a caller's
  // callback runs, which may load its own files through libxml2); the scope returns after.
  class Pause {
   public:
    explicit Pause(UntrustedReadScope& scope);
    ~Pause();
    Pause(const Pause&) = delete;
    Pause& operator=(const Pause&) = delete;

   private:
    UntrustedReadScope& scope_;
  };

 private:
  void install();
  void restore();

  xmlStructuredErrorFunc handler_;
  void* handlerContext_;
  xmlStructuredErrorFunc previousHandler_;
  void* previousContext_;
  bool previousInScope_;
};

}  // namespace acp::mappings::community
