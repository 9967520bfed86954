// Small builders for the FHIR JSON the partner mappers produce (mappings/<partner>/): one
// place for the shapes every mapper writes (references, codings, ODS logical references,
// extensions, the gateway's canonical URLs). Values are json::Value trees, written as R4 JSON.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "gateway/core/json.h"
#include "gateway/ingest/source_ids.h"

namespace acp::ingest {
json::Value sourceOrderExtension(const std::string& order);  // ingest_service.h
}  // namespace acp::ingest

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

// Consent to share an advance care plan beyond its source (the same shape from every source).
struct ShareConsent {
  std::string id;          // derived from the plan
  std::string order;       // source-order text (the plan's version)
  std::string status;      // active | proposed | inactive
  bool permit = false;     // permit/OPTIN, otherwise deny/OPTOUT
  std::string patientId;
  std::string ods;         // the organisation that recorded it
  std::string carePlanId;  // what the consent is about
  std::string dateTime;    // when it was recorded ("" when unknown)
  std::string performer;   // who gave it (display; "" when unknown)
};

inline json::Value consentToShare(const ShareConsent& in) {
  json::Value c = O();
  c.set("resourceType", S("Consent"));
  c.set("id", S(in.id));
  json::Value ext = A();
  ext.push(sourceOrderExtension(in.order));
  c.set("extension", std::move(ext));
  c.set("status", S(in.status));
  c.set("scope", concept("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy",
                         "Privacy Consent"));
  json::Value cat = A();
  cat.push(concept("http://loinc.org", "59284-0", "Patient Consent"));
  c.set("category", std::move(cat));
  c.set("patient", ref("Patient", in.patientId));
  put(c, "dateTime", S(in.dateTime));
  if (!in.performer.empty()) {
    json::Value performers = A();
    json::Value p = O();
    p.set("display", S(in.performer));
    performers.push(std::move(p));
    c.set("performer", std::move(performers));
  }
  json::Value orgs = A();
  orgs.push(odsRef(in.ods));
  c.set("organization", std::move(orgs));
  c.set("policyRule", concept("http://terminology.hl7.org/CodeSystem/v3-ActCode",
                              in.permit ? "OPTIN" : "OPTOUT", in.permit ? "opt-in" : "opt-out"));
  json::Value provision = O();
  provision.set("type", S(in.permit ? "permit" : "deny"));
  json::Value data = A();
  json::Value d = O();
  d.set("meaning", S("related"));
  d.set("reference", ref("CarePlan", in.carePlanId));
  data.push(std::move(d));
  provision.set("data", std::move(data));
  c.set("provision", std::move(provision));
  return c;
}

}  // namespace acp::ingest::build
