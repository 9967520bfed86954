#include "gateway/core/xml.h"

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>
#include <string>

namespace acp::xml {

namespace {

constexpr int kParseOptions = XML_PARSE_NONET |      // never fetch anything over a network
                              XML_PARSE_NOCDATA |    // CDATA sections become plain text nodes
                              XML_PARSE_NOERROR |    // errors go to our handler only
                              XML_PARSE_NOWARNING |  //
                              XML_PARSE_IGNORE_ENC;  // input is UTF-8 (checked in the prolog)
// Not XML_PARSE_COMPACT: callers may edit the returned tree, which COMPACT forbids.

// Per-parse state, reached through ctxt->_private from the SAX hooks.
struct ParseState {
  size_t maxDepth = 0;
  size_t depth = 0;
  bool doctype = false;
  bool tooDeep = false;
  bool failed = false;  // an error-level diagnostic was reported
  std::string firstError;
  int line = 0;
  int column = 0;
};

// Set while this thread runs parseUntrusted, so the entity loader refuses every load for
// our contexts without affecting other libxml2 users in the process (e.g. XSD loading).
thread_local bool tInUntrustedParse = false;
xmlExternalEntityLoader gPreviousLoader = nullptr;

xmlParserInputPtr denyingEntityLoader(const char* url, const char* id, xmlParserCtxtPtr ctxt) {
  if (tInUntrustedParse) return nullptr;
  return gPreviousLoader ? gPreviousLoader(url, id, ctxt) : nullptr;
}

ParseState* stateOf(void* ctx) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  return ctxt ? static_cast<ParseState*>(ctxt->_private) : nullptr;
}

void recordError(ParseState* st, const xmlError* err) {
  if (!st || !err || err->level < XML_ERR_ERROR) return;  // warnings are not failures
  if (!st->failed) {
    st->failed = true;
    st->firstError = err->message ? err->message : "unknown XML error";
    // Messages can quote names from the input: keep them short, cut on a UTF-8 boundary.
    constexpr size_t kMaxMessage = 200;
    if (st->firstError.size() > kMaxMessage) {
      size_t cut = kMaxMessage;
      while (cut > 0 && (static_cast<unsigned char>(st->firstError[cut]) & 0xC0) == 0x80) --cut;
      st->firstError.resize(cut);
      st->firstError += "...";
    }
    while (!st->firstError.empty() &&
           (st->firstError.back() == '\n' || st->firstError.back() == ' '))
      st->firstError.pop_back();
    st->line = err->line;
    st->column = err->int2;
  }
}

// Parser-context errors (ctxt->sax->serror): `ctx` is ctxt->userData, i.e. the context.
void onContextError(void* ctx, xmlErrorPtr err) { recordError(stateOf(ctx), err); }

// Errors raised without a context (thread-local structured handler): `ctx` is the state.
void onGlobalError(void* ctx, xmlErrorPtr err) { recordError(static_cast<ParseState*>(ctx), err); }

// A DOCTYPE reached the parser (second line of defence after the prolog scan): stop before
// the internal subset, and so any entity declaration, is read.
void onInternalSubset(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  if (ParseState* st = stateOf(ctx)) st->doctype = true;
  xmlStopParser(static_cast<xmlParserCtxtPtr>(ctx));
}

void onEntityDecl(void* ctx, const xmlChar*, int, const xmlChar*, const xmlChar*, xmlChar*) {
  if (ParseState* st = stateOf(ctx)) st->doctype = true;
  xmlStopParser(static_cast<xmlParserCtxtPtr>(ctx));
}

xmlParserInputPtr onResolveEntity(void* ctx, const xmlChar*, const xmlChar*) {
  if (ParseState* st = stateOf(ctx)) st->doctype = true;
  xmlStopParser(static_cast<xmlParserCtxtPtr>(ctx));
  return nullptr;
}

void onStartElementNs(void* ctx, const xmlChar* localname, const xmlChar* prefix,
                      const xmlChar* uri, int nbNamespaces, const xmlChar** namespaces,
                      int nbAttributes, int nbDefaulted, const xmlChar** attributes) {
  ParseState* st = stateOf(ctx);
  if (st && ++st->depth > st->maxDepth) {
    st->tooDeep = true;
    xmlStopParser(static_cast<xmlParserCtxtPtr>(ctx));
    return;
  }
  xmlSAX2StartElementNs(ctx, localname, prefix, uri, nbNamespaces, namespaces, nbAttributes,
                        nbDefaulted, attributes);
}

void onEndElementNs(void* ctx, const xmlChar* localname, const xmlChar* prefix,
                    const xmlChar* uri) {
  ParseState* st = stateOf(ctx);
  if (st && st->depth > 0) --st->depth;
  xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

// Restores the thread's structured error handler when the parse ends.
class ErrorHandlerGuard {
 public:
  explicit ErrorHandlerGuard(ParseState* st)
      : previous_(xmlStructuredError),
        previousContext_(xmlStructuredErrorContext),
        previousInParse_(tInUntrustedParse) {
    xmlSetStructuredErrorFunc(st, onGlobalError);
    tInUntrustedParse = true;
  }
  ~ErrorHandlerGuard() {
    tInUntrustedParse = previousInParse_;
    xmlSetStructuredErrorFunc(previousContext_, previous_);
  }

 private:
  xmlStructuredErrorFunc previous_;
  void* previousContext_;
  bool previousInParse_;
};

struct CtxtDeleter {
  void operator()(xmlParserCtxt* c) const {
    if (c->myDoc) {  // never handed out
      xmlFreeDoc(c->myDoc);
      c->myDoc = nullptr;
    }
    xmlFreeParserCtxt(c);
  }
};

bool startsWith(std::string_view s, size_t at, std::string_view prefix) {
  return s.size() - at >= prefix.size() && s.compare(at, prefix.size(), prefix) == 0;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void fail(XmlError& error, const char* type, std::string message, const char* code) {
  error.issueType = type;
  error.message = std::move(message);
  error.code = code;
}

// Checks the encoding pseudo-attribute of an XML declaration `decl` ("<?xml ... ?>").
bool encodingAccepted(std::string_view decl, std::string& declared) {
  size_t at = decl.find("encoding");
  if (at == std::string_view::npos) return true;
  at += 8;
  while (at < decl.size() && isSpace(decl[at])) ++at;
  if (at >= decl.size() || decl[at] != '=') return true;  // malformed: libxml2 reports it
  ++at;
  while (at < decl.size() && isSpace(decl[at])) ++at;
  if (at >= decl.size() || (decl[at] != '"' && decl[at] != '\'')) return true;
  char quote = decl[at++];
  size_t end = decl.find(quote, at);
  if (end == std::string_view::npos) return true;
  declared = std::string(decl.substr(at, end - at));
  return equalsIgnoreCase(declared, "UTF-8") || equalsIgnoreCase(declared, "UTF8") ||
         equalsIgnoreCase(declared, "US-ASCII") || equalsIgnoreCase(declared, "ASCII");
}

}  // namespace

// Scans the prolog (everything before the root element) without parsing it: rejects a
// DOCTYPE, any other markup declaration, and encodings other than UTF-8. The scan works on
// bytes, so it is only sound for an ASCII-compatible encoding; NUL bytes (UTF-16/32) and
// other declared encodings (UTF-7 could hide "<!DOCTYPE") are refused outright.
bool checkProlog(std::string_view text, XmlError& error) {
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
    fail(error, "structure", "XML must be UTF-8 encoded (NUL byte found)", "parse.xml.encoding");
    return false;
  }
  size_t i = 0;
  if (startsWith(text, 0, "\xEF\xBB\xBF")) i = 3;
  while (i < text.size()) {
    char c = text[i];
    if (isSpace(c)) {
      ++i;
      continue;
    }
    if (c != '<') {
      fail(error, "structure", "XML is not well-formed: content before the root element",
           "parse.xml.malformed");
      return false;
    }
    if (startsWith(text, i, "<?")) {
      size_t end = text.find("?>", i + 2);
      if (end == std::string_view::npos) return true;  // unterminated: libxml2 reports it
      std::string_view pi = text.substr(i, end + 2 - i);
      std::string declared;
      if (startsWith(pi, 0, "<?xml") && pi.size() > 5 && isSpace(pi[5]) &&
          !encodingAccepted(pi, declared)) {
        fail(error, "structure",
             "XML must be UTF-8 encoded (declared encoding \"" + declared + "\")",
             "parse.xml.encoding");
        return false;
      }
      i = end + 2;
      continue;
    }
    if (startsWith(text, i, "<!--")) {
      size_t end = text.find("-->", i + 4);
      if (end == std::string_view::npos) return true;  // unterminated: libxml2 reports it
      i = end + 3;
      continue;
    }
    if (startsWith(text, i, "<!")) {
      if (equalsIgnoreCase(text.substr(i + 2, std::min<size_t>(7, text.size() - i - 2)),
                           "DOCTYPE")) {
        fail(error, "structure",
             "XML with a DOCTYPE is not accepted (DTDs and entities are "
             "disabled)",
             "parse.xml.doctype");
      } else {
        fail(error, "structure", "XML markup declarations are not accepted", "parse.xml.doctype");
      }
      return false;
    }
    return true;  // the root element starts here
  }
  fail(error, "structure", "XML is not well-formed: the document has no root element",
       "parse.xml.malformed");
  return false;
}


void xmlSafeInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    gPreviousLoader = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(denyingEntityLoader);
  });
}

DocPtr parseUntrusted(std::string_view text, XmlError& error, size_t maxDepth) {
  xmlSafeInit();
  if (text.size() > static_cast<size_t>(INT_MAX)) {
    fail(error, "too-long", "XML document too large", "parse.xml.too-large");
    return nullptr;
  }
  if (!checkProlog(text, error)) return nullptr;

  ParseState st;
  st.maxDepth = maxDepth;
  ErrorHandlerGuard guard(&st);
  std::unique_ptr<xmlParserCtxt, CtxtDeleter> ctxt(
      xmlCreateMemoryParserCtxt(text.data(), static_cast<int>(text.size())));
  if (!ctxt || !ctxt->sax) {
    fail(error, "exception", "cannot create XML parser", "parse.xml.internal");
    return nullptr;
  }
  xmlCtxtUseOptions(ctxt.get(), kParseOptions);
  ctxt->_private = &st;
  xmlSAXHandler* sax = ctxt->sax;  // owned by this context alone
  sax->serror = onContextError;
  sax->internalSubset = onInternalSubset;
  sax->externalSubset = onInternalSubset;
  sax->entityDecl = onEntityDecl;
  sax->resolveEntity = onResolveEntity;
  sax->startElementNs = onStartElementNs;
  sax->endElementNs = onEndElementNs;

  xmlParseDocument(ctxt.get());
  DocPtr doc(ctxt->myDoc);
  ctxt->myDoc = nullptr;
  bool wellFormed = ctxt->wellFormed != 0 && ctxt->nsWellFormed != 0;

  if (st.doctype || (doc && (doc->intSubset || doc->extSubset))) {
    fail(error, "structure", "XML with a DOCTYPE is not accepted (DTDs and entities are disabled)",
         "parse.xml.doctype");
    return nullptr;
  }
  if (st.tooDeep) {
    fail(error, "too-long", "XML nests deeper than " + std::to_string(maxDepth) + " elements",
         "parse.xml.too-deep");
    return nullptr;
  }
  if (st.failed || !wellFormed || !doc || !xmlDocGetRootElement(doc.get())) {
    std::string msg = "XML is not well-formed";
    if (st.failed) {
      msg += ": " + st.firstError;
      if (st.line > 0) {
        msg += " (line " + std::to_string(st.line);
        if (st.column > 0) msg += ", column " + std::to_string(st.column);
        msg += ")";
      }
    } else if (!doc || !xmlDocGetRootElement(doc.get())) {
      msg += ": no root element";
    }
    fail(error, "structure", std::move(msg), "parse.xml.malformed");
    return nullptr;
  }
  return doc;
}

}  // namespace acp::xml
