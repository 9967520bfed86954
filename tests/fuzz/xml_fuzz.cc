// Fuzz target: the untrusted XML reader (gateway/core/xml.h), under the FHIR XML reader and
// the community export parser. Contract: any bytes give a document or an XmlError with an
// issue type and a code, never a crash; no DOCTYPE or entity declaration is ever accepted (so
// no entity is expanded and no file or network is read).
#include <libxml/tree.h>

#include <string>

#include "gateway/core/xml.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// Whether the tree holds an entity reference or a DTD node (neither may survive the reader).
bool hasEntityOrDtd(xmlNode* node) {
  for (xmlNode* n = node; n; n = n->next) {
    if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_DECL ||
        n->type == XML_DTD_NODE || n->type == XML_DOCUMENT_TYPE_NODE)
      return true;
    if (hasEntityOrDtd(n->children)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace acp;
  xml::XmlError err;
  std::string_view text = fuzz::bytes(data, size);
  xml::DocPtr doc = xml::parseUntrusted(text, err);
  if (!doc) {
    fuzz::check(!err.issueType.empty() && !err.code.empty(), "a refusal says why");
    return 0;
  }
  fuzz::check(doc->intSubset == nullptr && doc->extSubset == nullptr, "no DTD accepted");
  fuzz::check(!hasEntityOrDtd(doc->children), "no entity or DTD node in the tree");
  fuzz::check(xmlDocGetRootElement(doc.get()) != nullptr, "an accepted document has a root");
  return 0;
}
