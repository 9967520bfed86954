#include "mappings/community/parser/untrusted_xml_reader.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>
#include <string>

namespace acp::mappings::community {

namespace {

// Set while this thread is inside an UntrustedReadScope.
thread_local bool tInScope = false;
xmlExternalEntityLoader gPreviousLoader = nullptr;

xmlParserInputPtr denyingEntityLoader(const char* url, const char* id, xmlParserCtxtPtr ctxt) {
  if (tInScope) return nullptr;
  return gPreviousLoader ? gPreviousLoader(url, id, ctxt) : nullptr;
}

// Initialises libxml2 (through core, which installs its own guarded loader) and chains this
// folder's guarded loader on top. Idempotent and thread-safe.
void initOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    acp::xml::xmlSafeInit();
    gPreviousLoader = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(denyingEntityLoader);
  });
}

void fail(acp::xml::XmlError& error, const char* type, std::string message, const char* code) {
  error.issueType = type;
  error.message = std::move(message);
  error.code = code;
}

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

bool checkUntrustedProlog(std::string_view text, acp::xml::XmlError& error) {
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
             "XML with a DOCTYPE is not accepted (DTDs and entities are disabled)",
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

TextReaderPtr openUntrustedReader(std::string_view text, acp::xml::XmlError& error) {
  initOnce();
  if (text.size() > static_cast<size_t>(INT_MAX)) {
    fail(error, "too-long", "XML document too large", "parse.xml.too-large");
    return nullptr;
  }
  if (!checkUntrustedProlog(text, error)) return nullptr;
  TextReaderPtr reader(xmlReaderForMemory(text.data(), static_cast<int>(text.size()), nullptr,
                                          nullptr, kUntrustedReaderOptions));
  if (!reader) {
    fail(error, "exception", "cannot create XML reader", "parse.xml.internal");
    return nullptr;
  }
  return reader;
}

UntrustedReadScope::UntrustedReadScope(xmlStructuredErrorFunc handler, void* handlerContext)
    : handler_(handler),
      handlerContext_(handlerContext),
      previousHandler_(xmlStructuredError),
      previousContext_(xmlStructuredErrorContext),
      previousInScope_(tInScope) {
  initOnce();
  install();
}

UntrustedReadScope::~UntrustedReadScope() { restore(); }

void UntrustedReadScope::install() {
  tInScope = true;
  // xmlSetStructuredErrorFunc(ctx, nullptr) would fall back to the generic (stderr) handler
  // for context-less errors, so a null handler becomes a handler that drops them.
  if (handler_ != nullptr) {
    xmlSetStructuredErrorFunc(handlerContext_, handler_);
  } else {
    xmlSetStructuredErrorFunc(nullptr, [](void*, xmlErrorPtr) {});
  }
}

void UntrustedReadScope::restore() {
  tInScope = previousInScope_;
  xmlSetStructuredErrorFunc(previousContext_, previousHandler_);
}

UntrustedReadScope::Pause::Pause(UntrustedReadScope& scope) : scope_(scope) { scope_.restore(); }

UntrustedReadScope::Pause::~Pause() { scope_.install(); }

}  // namespace acp::mappings::community
