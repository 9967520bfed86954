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

}  // namespace

bool checkUntrustedProlog(std::string_view text, acp::xml::XmlError& error) {
  return acp::xml::checkProlog(text, error);
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
