// Small builders for the FHIR JSON the partner mappers produce (mappings/<partner>/): one
// place for the shapes every mapper writes (references, codings, ODS logical references,
// extensions, the gateway's canonical URLs). Values are json::Value trees, written as R4 JSON.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "gateway/core/json.h"
#include "gateway/ingest/source_ids.h"

namespace acp::ingest::build {

inline json::Value S(const std::string& s) { return json::Value::makeString(s); }
inline json::Value O() { return json::Value::makeObject(); }
inline json::Value A() { return json::Value::makeArray(); }

// Sets `key` only when the value carries something (not an empty string, array or object).
inline void put(json::Value& obj, const char* key, json::Value v) {
  if (v.isString() && v.text().empty()) return;
  if (v.isArray() && v.items().empty()) return;
  if (v.isObject() && v.members().empty()) return;
  obj.set(key, std::move(v));
}

inline json::Value ref(const std::string& type, const std::string& id) {
  json::Value r = O();
  r.set("reference", S(type + "/" + id));
  return r;
}

inline json::Value coding(const std::string& system, const std::string& code,
                          const std::string& display) {
  json::Value c = O();
  c.set("system", S(system));
  c.set("code", S(code));
  if (!display.empty()) c.set("display", S(display));
  return c;
}

// A CodeableConcept of one coding (and `text` when given).
inline json::Value concept(const std::string& system, const std::string& code,
                           const std::string& display, const std::string& text = "") {
  json::Value cc = O();
  json::Value list = A();
  list.push(coding(system, code, display));
  cc.set("coding", std::move(list));
  put(cc, "text", S(text));
  return cc;
}

// A logical reference to an organisation by ODS code.
inline json::Value odsRef(const std::string& ods, const std::string& display = "",
                          const char* type = "Organization") {
  json::Value r = O();
  r.set("type", S(type));
  json::Value id = O();
  id.set("system", S(kOdsSystem));
  id.set("value", S(ods));
  r.set("identifier", std::move(id));
  put(r, "display", S(display));
  return r;
}

inline json::Value extension(const std::string& url, const char* valueKey, json::Value v) {
  json::Value e = O();
  e.set("url", S(url));
  e.set(valueKey, std::move(v));
  return e;
}

inline json::Value phone(const std::string& number) {
  json::Value t = O();
  t.set("system", S("phone"));
  t.set("value", S(number));
  return t;
}

// The gateway's own StructureDefinitions and CodeSystems (conformance/acp/).
inline std::string sd(const std::string& name) {
  return std::string(kAcpBase) + "/StructureDefinition/" + name;
}
inline std::string cs(const std::string& name) {
  return std::string(kAcpBase) + "/CodeSystem/" + name;
}

// A plan version as source-order text (ingest_service.h): "version:0000000003" sorts as the
// numbers do.
inline std::string versionOrder(int version) {
  std::string digits = std::to_string(version);
  return "version:" + std::string(digits.size() < 10 ? 10 - digits.size() : 0, '0') + digits;
}

}  // namespace acp::ingest::build
