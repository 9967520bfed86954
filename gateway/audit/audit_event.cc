#include "gateway/audit/audit_event.h"

#include <openssl/evp.h>

#include <utility>
#include <vector>

#include "gateway/store/instant.h"

namespace acp::audit {

namespace {

constexpr const char* kAuditEventType = "http://terminology.hl7.org/CodeSystem/audit-event-type";
constexpr const char* kRestfulInteraction = "http://hl7.org/fhir/restful-interaction";
constexpr const char* kDicom = "http://dicom.nema.org/resources/ontology/DCM";
constexpr const char* kActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
constexpr const char* kParticipationType =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
constexpr const char* kSourceType = "http://terminology.hl7.org/CodeSystem/security-source-type";
constexpr const char* kEntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr const char* kObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr const char* kBalpEntityType =
    "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType";

json::Value str(std::string s) { return json::Value::makeString(std::move(s)); }

json::Value coding(const char* system, const std::string& code, const std::string& display = "") {
  json::Value c = json::Value::makeObject();
  c.set("system", str(system));
  c.set("code", str(code));
  if (!display.empty()) c.set("display", str(display));
  return c;
}

json::Value concept(json::Value codingValue) {
  json::Value cc = json::Value::makeObject();
  json::Value codings = json::Value::makeArray();
  codings.push(std::move(codingValue));
  cc.set("coding", std::move(codings));
  return cc;
}

json::Value array(json::Value item) {
  json::Value a = json::Value::makeArray();
  a.push(std::move(item));
  return a;
}

json::Value reference(const std::string& ref) {
  json::Value r = json::Value::makeObject();
  r.set("reference", str(ref));
  return r;
}

// "2" (IP address) for dotted or colon-separated numeric addresses, else "1" (machine name).
const char* networkType(const std::string& address) {
  bool ip = !address.empty();
  for (char c : address) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != '.' && c != ':') ip = false;
  }
  return ip ? "2" : "1";
}

json::Value network(const std::string& address, const char* type) {
  json::Value n = json::Value::makeObject();
  n.set("address", str(address));
  n.set("type", str(type));
  return n;
}

const char* purposeDisplay(const std::string& code) {
  if (code == "TREAT") return "treatment";
  if (code == "ETREAT") return "Emergency Treatment";
  if (code == "HOPERAT") return "healthcare operations";
  if (code == "HRESCH") return "healthcare research";
  return "";
}

json::Value entity(const char* typeCode, const char* typeDisplay, const char* roleCode,
                   const char* roleDisplay) {
  json::Value e = json::Value::makeObject();
  e.set("type", coding(kEntityType, typeCode, typeDisplay));
  e.set("role", coding(kObjectRole, roleCode, roleDisplay));
  return e;
}

Status checkRecord(const AuditRecord& r, char action) {
  if (r.interaction.empty())
    return Status::invalid("audit.invalid-record: the interaction is missing");
  if (r.interaction == "operation" && r.operation.empty())
    return Status::invalid("audit.invalid-record: an operation needs its name");
  if (r.outcome != 0 && r.outcome != 4 && r.outcome != 8 && r.outcome != 12)
    return Status::invalid("audit.invalid-record: outcome " + std::to_string(r.outcome) +
                           " is not 0, 4, 8 or 12");
  if (action != 'C' && action != 'R' && action != 'U' && action != 'D' && action != 'E')
    return Status::invalid("audit.invalid-record: action is not C, R, U, D or E");
  return Status::ok();
}

}  // namespace

char actionOf(const std::string& interaction) {
  if (interaction == "create") return 'C';
  if (interaction == "read" || interaction == "vread" || interaction.rfind("history", 0) == 0)
    return 'R';
  if (interaction == "update" || interaction == "patch") return 'U';
  if (interaction == "delete") return 'D';
  return 'E';
}

std::string base64Encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

Result<json::Value> auditEvent(const AuditRecord& r, int64_t recordedMs,
                               const AuditSource& source) {
  const char action = r.action ? r.action : actionOf(r.interaction);
  Status ok = checkRecord(r, action);
  if (!ok.isOk()) return ok;
  const bool login = r.interaction == "login";

  json::Value e = json::Value::makeObject();
  e.set("resourceType", str("AuditEvent"));
  if (login) {
    e.set("type", coding(kDicom, "110114", "User Authentication"));
    e.set("subtype", array(coding(kDicom, "110122", "Login")));
  } else if (r.interaction == "hl7v2") {
    // As IHE ATNA audits an HL7 v2 patient feed: a Patient Record event, created or updated.
    e.set("type", coding(kDicom, "110110", "Patient Record"));
    json::Value subtypes = array(coding(kAuditSubtypeSystem, "hl7v2", "HL7 v2 message (MLLP)"));
    if (action == 'C') subtypes.push(coding(kRestfulInteraction, "create", "create"));
    if (action == 'U') subtypes.push(coding(kRestfulInteraction, "update", "update"));
    e.set("subtype", std::move(subtypes));
  } else if (r.interaction == "refused") {
    e.set("type", coding(kAuditEventType, "rest", "Restful Operation"));
    e.set("subtype",
          array(coding(kAuditSubtypeSystem, "refused", "Refused by the HTTP listener")));
  } else {
    e.set("type", coding(kAuditEventType, "rest", "Restful Operation"));
    json::Value subtypes = array(coding(kRestfulInteraction, r.interaction, r.interaction));
    if (r.interaction == "operation") subtypes.push(coding(kOperationCodeSystem, r.operation));
    e.set("subtype", std::move(subtypes));
  }
  e.set("action", str(std::string(1, action)));
  e.set("recorded", str(store::formatInstant(recordedMs)));
  e.set("outcome", str(std::to_string(r.outcome)));
  if (!r.outcomeText.empty()) e.set("outcomeDesc", str(r.outcomeText));
  if (!r.purpose.empty() || !r.breakGlassReason.empty()) {
    json::Value purpose = json::Value::makeObject();
    if (!r.purpose.empty())
      purpose.set("coding", array(coding(kActReason, r.purpose, purposeDisplay(r.purpose))));
    if (!r.breakGlassReason.empty()) purpose.set("text", str(r.breakGlassReason));
    e.set("purposeOfEvent", array(std::move(purpose)));
  }

  const bool user = !r.userId.empty();
  json::Value agents = json::Value::makeArray();
  {  // The client system.
    json::Value a = json::Value::makeObject();
    a.set("type", concept(coding(kDicom, "110153", "Source Role ID")));
    if (!r.role.empty()) {
      json::Value role = json::Value::makeObject();
      role.set("text", str(r.role));
      a.set("role", array(std::move(role)));
    }
    json::Value who = json::Value::makeObject();
    if (!r.organisation.empty()) {
      json::Value id = json::Value::makeObject();
      id.set("system", str(kOdsSystem));
      id.set("value", str(r.organisation));
      who.set("identifier", std::move(id));
    }
    who.set("display", str(r.clientId.empty() ? "unidentified client" : r.clientId));
    a.set("who", std::move(who));
    if (!r.clientId.empty()) a.set("name", str(r.clientId));
    a.set("requestor", json::Value::makeBool(!user));
    if (!r.tokenId.empty()) a.set("policy", array(str(r.tokenId)));
    if (!r.sourceAddress.empty())
      a.set("network", network(r.sourceAddress, networkType(r.sourceAddress)));
    agents.push(std::move(a));
  }
  {  // The gateway.
    json::Value a = json::Value::makeObject();
    a.set("type", concept(coding(kDicom, "110152", "Destination Role ID")));
    json::Value who = json::Value::makeObject();
    who.set("display", str(source.name));
    a.set("who", std::move(who));
    a.set("requestor", json::Value::makeBool(false));
    if (!source.address.empty()) a.set("network", network(source.address, "5"));
    agents.push(std::move(a));
  }
  if (user) {
    json::Value a = json::Value::makeObject();
    a.set("type", concept(coding(kParticipationType, "IRCP", "information recipient")));
    json::Value who = json::Value::makeObject();
    json::Value id = json::Value::makeObject();
    id.set("value", str(r.userId));
    who.set("identifier", std::move(id));
    if (!r.userName.empty()) who.set("display", str(r.userName));
    a.set("who", std::move(who));
    if (!r.userName.empty()) a.set("name", str(r.userName));
    a.set("requestor", json::Value::makeBool(true));
    agents.push(std::move(a));
  }
  e.set("agent", std::move(agents));

  json::Value src = json::Value::makeObject();
  if (!source.site.empty()) src.set("site", str(source.site));
  json::Value observer = json::Value::makeObject();
  observer.set("display", str(source.name));
  src.set("observer", std::move(observer));
  src.set("type", array(coding(kSourceType, "4", "Application Server")));
  e.set("source", std::move(src));

  json::Value entities = json::Value::makeArray();
  std::vector<std::string> patients = r.patients;
  store::normaliseAuditPatients(patients);
  for (const std::string& p : patients) {
    json::Value en = entity("1", "Person", "1", "Patient");
    en.set("what", reference("Patient/" + p));
    entities.push(std::move(en));
  }
  for (const std::string& ref : r.entities) {
    json::Value en = entity("2", "System Object", "4", "Domain Resource");
    en.set("what", reference(ref));
    entities.push(std::move(en));
  }
  if (!r.query.empty()) {
    json::Value en = entity("2", "System Object", "24", "Query");
    en.set("query", str(base64Encode(r.query)));
    entities.push(std::move(en));
  }
  if (!r.message.id.empty()) {
    json::Value en = entity("2", "System Object", "20", "Job");
    json::Value what = json::Value::makeObject();
    json::Value id = json::Value::makeObject();
    if (!r.message.system.empty()) id.set("system", str(r.message.system));
    id.set("value", str(r.message.id));
    what.set("identifier", std::move(id));
    en.set("what", std::move(what));
    if (!r.message.name.empty()) en.set("name", str(r.message.name));
    if (!r.message.details.empty()) {
      json::Value details = json::Value::makeArray();
      for (const auto& [type, value] : r.message.details) {
        json::Value d = json::Value::makeObject();
        d.set("type", str(type));
        d.set("valueString", str(value));
        details.push(std::move(d));
      }
      en.set("detail", std::move(details));
    }
    entities.push(std::move(en));
  }
  if (!r.requestId.empty()) {
    json::Value en = json::Value::makeObject();
    json::Value what = json::Value::makeObject();
    json::Value id = json::Value::makeObject();
    id.set("value", str(r.requestId));
    what.set("identifier", std::move(id));
    en.set("what", std::move(what));
    en.set("type", coding(kBalpEntityType, "XrequestId"));
    entities.push(std::move(en));
  }
  if (!entities.items().empty()) e.set("entity", std::move(entities));
  return e;
}

Result<store::AuditRow> auditRow(const AuditRecord& r, int64_t recordedMs,
                                 const AuditSource& source) {
  AuditRecord facts = r;
  facts.action = r.action ? r.action : actionOf(r.interaction);
  Status ok = checkRecord(facts, facts.action);
  if (!ok.isOk()) return ok;
  store::normaliseAuditPatients(facts.patients);
  store::AuditRow row;
  row.recorded = store::formatInstant(recordedMs);
  row.client = facts.clientId;
  row.organisation = facts.organisation;
  row.action = std::string(1, facts.action);
  row.subtype = facts.interaction == "operation" ? facts.operation : facts.interaction;
  row.outcome = facts.outcome;
  row.purpose = facts.purpose;
  row.json = writeFacts(facts, recordedMs, source);
  row.patients = std::move(facts.patients);
  return row;
}

Result<json::Value> renderAuditEvent(const store::AuditRow& row) {
  auto facts = readFacts(row.json);
  if (!facts.isOk()) return facts.status();
  auto event = auditEvent(facts.value().record, facts.value().record.recordedMs,
                          facts.value().source);
  if (!event.isOk())
    return Status::internal("audit.unreadable: stored audit facts of seq " +
                            std::to_string(row.seq) + " are not a valid record");
  json::Value out = json::Value::makeObject();
  out.set("resourceType", str("AuditEvent"));
  out.set("id", str(std::to_string(row.seq)));
  json::Value meta = json::Value::makeObject();
  meta.set("lastUpdated", str(row.recorded));
  out.set("meta", std::move(meta));
  json::Value chain = json::Value::makeObject();
  chain.set("url", str(kAuditChainExtension));
  json::Value parts = json::Value::makeArray();
  auto part = [&parts](const char* url, const char* valueKey, json::Value value) {
    json::Value p = json::Value::makeObject();
    p.set("url", str(url));
    p.set(valueKey, std::move(value));
    parts.push(std::move(p));
  };
  // seq as a decimal: a busy trail outgrows FHIR's 32-bit integer.
  part("seq", "valueDecimal", json::Value::makeNumber(std::to_string(row.seq)));
  part("previousHash", "valueString", str(row.prevHash));
  part("hash", "valueString", str(row.hash));
  chain.set("extension", std::move(parts));
  out.set("extension", array(std::move(chain)));
  for (auto& m : event.value().members())
    if (m.first != "resourceType") out.members().push_back(std::move(m));
  return out;
}

}  // namespace acp::audit
