// Reading a $acp-summary answer (a Parameters resource) in tests: one field of one item.
#pragma once

#include <string>

#include "gateway/core/json.h"

namespace acp::testing {

// Field `name` of the `index`-th `which` part ("current", "differs", "draft") of the item with
// code `code`: a CodeableConcept's first code, an Identifier's value, a Reference, or a
// primitive's text; "" when absent.
inline std::string summaryField(const json::Value& summary, const std::string& code,
                                const std::string& which, const std::string& name,
                                size_t index = 0) {
  const json::Value* params = summary.find("parameter");
  if (!params) return "";
  for (const json::Value& p : params->items()) {
    if (p.getString("name") != "item") continue;
    const auto& parts = p.find("part")->items();
    if (parts[0].find("valueCoding")->getString("code") != code) continue;
    size_t seen = 0;
    for (const json::Value& part : parts) {
      if (part.getString("name") != which || seen++ != index) continue;
      for (const json::Value& f : part.find("part")->items()) {
        if (f.getString("name") != name) continue;
        if (const json::Value* cc = f.find("valueCodeableConcept"))
          return cc->find("coding")->items()[0].getString("code");
        if (const json::Value* id = f.find("valueIdentifier")) return id->getString("value");
        if (const json::Value* ref = f.find("valueReference")) return ref->getString("reference");
        for (const char* k : {"valueString", "valueDate", "valueDateTime", "valueCode"})
          if (const json::Value* v = f.find(k)) return v->text();
      }
    }
  }
  return "";
}

}  // namespace acp::testing
