// /metadata: the CapabilityStatement, generated from the served types and the model's
// SearchParameters (nothing in it is written by hand per type).
#include <algorithm>
#include <set>

#include "gateway/core/ids.h"
#include "gateway/http/fhir_service.h"
#include "gateway/ingest/profiles.h"
#include "gateway/search/index.h"

namespace acp::http {
namespace {

json::Value str(const std::string& s) { return json::Value::makeString(s); }

json::Value codeList(std::initializer_list<const char*> codes, const char* key) {
  json::Value list = json::Value::makeArray();
  for (const char* c : codes) {
    json::Value o = json::Value::makeObject();
    o.set(key, str(c));
    list.push(std::move(o));
  }
  return list;
}

}  // namespace

json::Value FhirService::capabilityStatement(const std::string& baseUrl) const {
  json::Value cs = json::Value::makeObject();
  cs.set("resourceType", str("CapabilityStatement"));
  cs.set("id", str("acp-gateway"));
  cs.set("name", str("ACPGateway"));
  cs.set("title", str("ACP Gateway FHIR R4 server"));
  cs.set("status", str("active"));
  cs.set("date", str(formatInstant(nowMillis()).substr(0, 10)));
  cs.set("publisher", str("ACP Gateway"));
  cs.set("kind", str("instance"));
  json::Value software = json::Value::makeObject();
  software.set("name", str(options_.softwareName));
  software.set("version", str(options_.softwareVersion));
  cs.set("software", std::move(software));
  json::Value impl = json::Value::makeObject();
  impl.set("description", str("Shared advance care plans for children (FHIR R4, UK Core)"));
  if (!baseUrl.empty()) impl.set("url", str(baseUrl));
  cs.set("implementation", std::move(impl));
  cs.set("fhirVersion", str("4.0.1"));
  json::Value formats = json::Value::makeArray();
  for (const char* f : {"application/fhir+json", "application/fhir+xml", "json", "xml"})
    formats.push(str(f));
  cs.set("format", std::move(formats));

  json::Value rest = json::Value::makeObject();
  rest.set("mode", str("server"));
  rest.set("documentation",
           str("All interactions answer errors with an OperationOutcome; see docs/api.md."));
  // How clients authenticate (docs/security.md).
  json::Value security = json::Value::makeObject();
  security.set("cors", json::Value::makeBool(false));
  if (smart_) {
    json::Value service = json::Value::makeObject();
    json::Value coding = json::Value::makeObject();
    coding.set("system", str("http://terminology.hl7.org/CodeSystem/restful-security-service"));
    coding.set("code", str("SMART-on-FHIR"));
    service.set("coding", json::Value::makeArray());
    service.find("coding")->push(std::move(coding));
    security.set("service", json::Value::makeArray());
    security.find("service")->push(std::move(service));
    json::Value token = json::Value::makeObject();
    token.set("url", str("token"));
    token.set("valueUri", str(smart_->tokenUrl()));
    json::Value oauth = json::Value::makeObject();
    oauth.set("url", str("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"));
    oauth.set("extension", json::Value::makeArray());
    oauth.find("extension")->push(std::move(token));
    security.set("extension", json::Value::makeArray());
    security.find("extension")->push(std::move(oauth));
    security.set("description",
                 str("SMART Backend Services: client_credentials with a private_key_jwt "
                     "assertion (RS384 or ES384) at the token endpoint; system scopes (v1 and "
                     "v2); mutual TLS where the connection carries a client certificate. Each "
                     "organisation sees the patients it has a relationship with (anything else "
                     "is answered as not found); every access is audited."));
  } else {
    security.set("description",
                 str("gateway.auth.mode=none: every request is the local superuser (loopback "
                     "only; tests and the demo)."));
  }
  rest.set("security", std::move(security));
  json::Value resources = json::Value::makeArray();
  for (const std::string& type : options_.servedTypes) {
    json::Value r = json::Value::makeObject();
    r.set("type", str(type));
    r.set("profile", str("http://hl7.org/fhir/StructureDefinition/" + type));
    r.set("interaction", codeList({"read", "vread", "update", "delete", "history-instance",
                                   "history-type", "create", "search-type"},
                                  "code"));
    // What partner ingest writes claims and is validated against (ingest/profiles.h).
    json::Value profiles = json::Value::makeArray();
    for (const std::string& url : ingest::supportedProfiles(type)) profiles.push(str(url));
    if (!profiles.items().empty()) r.set("supportedProfile", std::move(profiles));
    r.set("versioning", str("versioned-update"));
    r.set("readHistory", json::Value::makeBool(true));
    r.set("updateCreate", json::Value::makeBool(true));
    r.set("conditionalCreate", json::Value::makeBool(true));
    r.set("conditionalRead", str("not-match"));
    r.set("conditionalUpdate", json::Value::makeBool(true));
    r.set("conditionalDelete", str("single"));
    json::Value policy = json::Value::makeArray();
    for (const char* p : {"literal", "logical", "local"}) policy.push(str(p));
    r.set("referencePolicy", std::move(policy));
    json::Value includes = json::Value::makeArray();
    json::Value params = json::Value::makeArray();
    std::set<std::string> seen;
    const search::IndexExtractor& indexed = search::IndexExtractor::forModel(*model_);
    for (const model::SearchParamDef* p : model_->searchParams(type)) {
      // Only what a search can really use: indexed parameters, and the two the store keeps.
      bool served = p->code == "_id" || p->code == "_lastUpdated" || indexed.isIndexed(type, p->code);
      if (!served || !seen.insert(p->code).second) continue;
      json::Value sp = json::Value::makeObject();
      sp.set("name", str(p->code));
      sp.set("definition", str(p->url));
      sp.set("type", str(p->type));
      params.push(std::move(sp));
      if (p->type == "reference") includes.push(str(type + ":" + p->code));
    }
    includes.push(str("*"));
    r.set("searchInclude", std::move(includes));
    json::Value revIncludes = json::Value::makeArray();
    for (const std::string& other : options_.servedTypes) {
      for (const model::SearchParamDef* p : model_->searchParams(other)) {
        if (p->type != "reference" || !indexed.isIndexed(other, p->code)) continue;
        bool targets = p->target.empty();
        for (const auto& t : p->target) targets |= (t == type || t == "Resource");
        if (targets) revIncludes.push(str(other + ":" + p->code));
      }
    }
    r.set("searchRevInclude", std::move(revIncludes));
    r.set("searchParam", std::move(params));
    if (type == "AuditEvent" && audit_) {
      // The audit trail (audit/): read and search only, its own parameters, the privacy
      // officer's $verify-chain; append-only.
      r.set("interaction", codeList({"read", "search-type"}, "code"));
      r.set("documentation",
            str("The audit trail: every access to the gateway, hash-chained and append-only "
                "(no create, update or delete). Only the privacy-officer role may read it."));
      for (const char* k : {"versioning", "readHistory", "updateCreate", "conditionalCreate",
                            "conditionalRead", "conditionalUpdate", "conditionalDelete",
                            "referencePolicy", "searchInclude", "searchRevInclude",
                            "supportedProfile"}) {
        auto& members = r.members();
        members.erase(std::remove_if(members.begin(), members.end(),
                                     [&](const json::Value::Member& m) { return m.first == k; }),
                      members.end());
      }
      json::Value auditParams = json::Value::makeArray();
      for (const auto& [name, kind] : std::vector<std::pair<const char*, const char*>>{
               {"date", "date"}, {"agent", "string"}, {"organization", "token"},
               {"patient", "reference"}, {"purpose", "token"}, {"outcome", "token"},
               {"subtype", "token"}, {"action", "token"}}) {
        json::Value sp = json::Value::makeObject();
        sp.set("name", str(name));
        sp.set("type", str(kind));
        auditParams.push(std::move(sp));
      }
      r.set("searchParam", std::move(auditParams));
      json::Value ops = json::Value::makeArray();
      json::Value o = json::Value::makeObject();
      o.set("name", str("verify-chain"));
      o.set("definition", str("https://acp-gateway.nhs.uk/OperationDefinition/verify-chain"));
      ops.push(std::move(o));
      r.set("operation", std::move(ops));
    }
    if (type == "Patient") {
      // The consolidated advance care plan (conformance/acp/OperationDefinition-acp-summary.json).
      json::Value ops = json::Value::makeArray();
      json::Value o = json::Value::makeObject();
      o.set("name", str("acp-summary"));
      o.set("definition", str("https://acp-gateway.nhs.uk/OperationDefinition/acp-summary"));
      ops.push(std::move(o));
      r.set("operation", std::move(ops));
    }
    resources.push(std::move(r));
  }
  rest.set("resource", std::move(resources));
  rest.set("interaction", codeList({"transaction", "batch", "history-system"}, "code"));
  if (ingest_) {
    // Partner ingest and its kept failures (conformance/acp/OperationDefinition-*.json).
    json::Value ops = json::Value::makeArray();
    auto op = [&](const std::string& name) {
      json::Value o = json::Value::makeObject();
      o.set("name", str(name));
      o.set("definition", str("https://acp-gateway.nhs.uk/OperationDefinition/" + name));
      ops.push(std::move(o));
    };
    for (const std::string& partner : ingest_->partnerNames()) op("ingest-" + partner);
    op("ingest-failures");
    op("ingest-replay");
    op("candidate-links");
    rest.set("operation", std::move(ops));
  }
  cs.set("rest", json::Value::makeArray());
  cs.find("rest")->push(std::move(rest));
  return cs;
}

}  // namespace acp::http
