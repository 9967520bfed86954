#include "mappings/hospice/hospice_mapper.h"

#include <cctype>

#include "gateway/ingest/fhir_build.h"
#include "gateway/ingest/source_ids.h"
#include "mappings/hospice/hospice_parser.h"

namespace acp::mappings::hospice {

namespace {

using json::Value;
using namespace ingest::build;

// "nb3 4qt" → "NB3 4QT": upper case, one space before the inward code.
std::string normalisePostcode(const std::string& raw) {
  std::string compact;
  for (char c : raw)
    if (!std::isspace(static_cast<unsigned char>(c)))
      compact += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (compact.size() < 5 || compact.size() > 7) return raw;  // not a UK postcode shape: as sent
  return compact.substr(0, compact.size() - 3) + " " + compact.substr(compact.size() - 3);
}

class Mapper {
 public:
  Mapper(const Export& doc, const Record& r, const ingest::ConceptMaps& maps,
         ingest::MappedRecord& out)
      : doc_(doc), r_(r), maps_(maps), out_(out) {
    base_ = "records[" + std::to_string(r.index) + "]";
    patientId_ = ingest::derivedId("Patient", doc.sourceOds, r.recordId);
  }

  void run() {
    out_.resources.push_back(patient());
    size_t i = 0;
    std::vector<std::string> conditions;
    for (const Diagnosis& d : r_.diagnoses) conditions.push_back(condition(d, i++));
    for (const Episode& e : r_.episodes) out_.resources.push_back(encounter(e));
    // The key worker belongs to the record (its id derives from recordId), with or without a
    // plan; a plan refers to it.
    std::string teamId;
    if (r_.keyWorker) {
      teamId = ingest::derivedId("CareTeam", doc_.sourceOds, r_.recordId + "/key-worker");
      out_.resources.push_back(keyWorkerTeam(teamId, *r_.keyWorker));
    }
    if (r_.plan) carePlan(*r_.plan, conditions, teamId);
    if (r_.deceased && !r_.deceased->place.empty())
      out_.issues.warning("informational", base_ + ".deceased.place",
                          "deceased.place \"" + r_.deceased->place +
                              "\" is not mapped: R4 Patient and UK Core have no element or "
                              "extension for the place of death; it stays in the hospice record",
                          "hospice.unused-field");
  }

 private:
  // Source order (ingest_service.h) of every resource that is not bound to a plan version
  // (Patient, Condition, Encounter, the key-worker CareTeam: their ids derive from recordId or
  // episodeId): the record's lastModified in UTC, so an older record never overwrites what a
  // newer one wrote. Plan-bound resources (CarePlan, Consent; ids from planId) use the plan
  // version instead (versionOrder). One resource id always gets the same kind of value.
  Value recordOrder() const {
    Value list = A();
    list.push(ingest::sourceOrderExtension("utc-time:" + r_.lastModifiedUtc));
    return list;
  }

  // A translated code, or a warning and text only.
  std::optional<ingest::Coding> translate(const char* map, const std::string& code,
                                          const std::string& where) {
    if (code.empty()) return std::nullopt;
    auto c = maps_.translate(map, code);
    if (!c)
      out_.issues.warning("code-invalid", where, "code \"" + code + "\" has no translation in " +
                                                     map + "; kept as text",
                          "hospice.unmapped-code");
    return c;
  }

  Value patient() {
    const Child& c = r_.child;
    Value p = O();
    p.set("resourceType", S("Patient"));
    p.set("id", S(patientId_));
    p.set("extension", recordOrder());
    Value ids = A();
    if (!c.nhsNumber.empty()) {
      std::string n = ingest::normaliseNhsNumber(c.nhsNumber);
      if (ingest::isValidNhsNumber(n)) {
        Value id = O();
        Value ext = A();
        // 01 = number present and verified (traced on PDS); 02 = present, not traced.
        bool verified = c.nhsNumberVerified.value_or(false);
        ext.push(extension(
            "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
            "valueCodeableConcept",
            concept("https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
                    verified ? "01" : "02",
                    verified ? "Number present and verified" : "Number present but not traced")));
        id.set("extension", std::move(ext));
        id.set("system", S(ingest::kNhsNumberSystem));
        id.set("value", S(n));
        ids.push(std::move(id));
      } else {
        out_.issues.warning("value", base_ + ".child.nhsNumber",
                            "the NHS number fails the Modulus 11 check and is not stored as an "
                            "NHS number; the record keeps its hospice number",
                            "hospice.invalid-nhs-number");
      }
    }
    Value local = O();
    local.set("system", S(ingest::localIdentifierSystem(doc_.sourceOds)));
    local.set("value", S(r_.recordId));
    ids.push(std::move(local));
    p.set("identifier", std::move(ids));
    Value names = A();
    Value official = O();
    official.set("use", S("official"));
    official.set("family", S(c.surname));
    Value given = A();
    given.push(S(c.forename));
    official.set("given", std::move(given));
    names.push(std::move(official));
    if (!c.preferredName.empty()) {
      Value usual = O();
      usual.set("use", S("usual"));
      Value g = A();
      g.push(S(c.preferredName));
      usual.set("given", std::move(g));
      names.push(std::move(usual));
    }
    p.set("name", std::move(names));
    if (auto g = translate("hospice-sex", c.sex, base_ + ".child.sex")) p.set("gender", S(g->code));
    p.set("birthDate", S(c.dateOfBirth));
    if (r_.deceased) {  // the date is already a FHIR date / dateTime (parser); "" unknown
      if (r_.deceased->date.empty())
        p.set("deceasedBoolean", Value::makeBool(true));
      else
        p.set("deceasedDateTime", S(r_.deceased->date));
    }
    if (c.address) {
      const Address& a = *c.address;
      Value addr = O();
      addr.set("use", S("home"));
      Value lines = A();
      for (const std::string* l : {&a.line1, &a.line2})
        if (!l->empty()) lines.push(S(*l));
      put(addr, "line", std::move(lines));
      put(addr, "city", S(a.town));
      put(addr, "district", S(a.county));
      put(addr, "postalCode", S(a.postcode.empty() ? "" : normalisePostcode(a.postcode)));
      Value list = A();
      list.push(std::move(addr));
      p.set("address", std::move(list));
    }
    if (!c.gpOds.empty()) {
      Value gps = A();
      gps.push(odsRef(c.gpOds, c.gpName, "Organization"));
      p.set("generalPractitioner", std::move(gps));
    }
    Value contacts = A();
    size_t i = 0;
    for (const Contact& k : c.contacts) {
      std::string where = base_ + ".child.contacts[" + std::to_string(i++) + "]";
      Value contact = O();
      Value rel = A();
      if (auto code = translate("hospice-relationship", k.relationship, where + ".relationship")) {
        Value cc = O();
        Value list = A();
        list.push(ingest::codingValue(*code));
        cc.set("coding", std::move(list));
        cc.set("text", S(k.relationship));
        rel.push(std::move(cc));
      } else if (!k.relationship.empty()) {
        Value cc = O();
        cc.set("text", S(k.relationship));
        rel.push(std::move(cc));
      }
      if (k.parentalResponsibility.value_or(false))
        rel.push(concept(cs("relationship"), "parental-responsibility",
                         "Has parental responsibility"));
      put(contact, "relationship", std::move(rel));
      if (!k.name.empty()) {
        Value n = O();
        n.set("text", S(k.name));
        contact.set("name", std::move(n));
      }
      if (!k.phone.empty()) {
        Value t = A();
        t.push(phone(k.phone));
        contact.set("telecom", std::move(t));
      }
      contacts.push(std::move(contact));
    }
    put(p, "contact", std::move(contacts));
    return p;
  }

  std::string condition(const Diagnosis& d, size_t index) {
    // Keyed by the SNOMED code when there is one (stable if the list is reordered).
    std::string key = r_.recordId + "/diagnosis/" + (d.snomed.empty() ? d.description : d.snomed);
    std::string id = ingest::derivedId("Condition", doc_.sourceOds, key);
    Value c = O();
    c.set("resourceType", S("Condition"));
    c.set("id", S(id));
    c.set("extension", recordOrder());
    c.set("clinicalStatus", concept("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                    "active", "Active"));
    Value cat = A();
    cat.push(concept("http://terminology.hl7.org/CodeSystem/condition-category",
                     "problem-list-item", "Problem List Item"));
    c.set("category", std::move(cat));
    if (!d.snomed.empty())
      c.set("code", concept(ingest::kSnomedSystem, d.snomed, "", d.description));
    else {
      Value cc = O();
      cc.set("text", S(d.description));
      c.set("code", std::move(cc));
    }
    c.set("subject", ref("Patient", patientId_));
    if (index == 0) {
      Value note = A();
      Value n = O();
      n.set("text", S("Main life-limiting condition (first in the hospice record)"));
      note.push(std::move(n));
      c.set("note", std::move(note));
    }
    out_.resources.push_back(std::move(c));
    return id;
  }

  Value encounter(const Episode& e) {
    std::string where = base_ + ".episodes";
    Value enc = O();
    enc.set("resourceType", S("Encounter"));
    enc.set("id", S(ingest::derivedId("Encounter", doc_.sourceOds, e.episodeId)));
    enc.set("extension", recordOrder());
    Value ids = A();
    Value id = O();
    id.set("system", S(ingest::localIdentifierSystem(doc_.sourceOds) + "/episode"));
    id.set("value", S(e.episodeId));
    ids.push(std::move(id));
    enc.set("identifier", std::move(ids));
    std::string status = e.cancelled ? "cancelled" : e.end.empty() ? "in-progress" : "finished";
    enc.set("status", S(status));
    // Class: from the episode type; any episode at the child's home is home health.
    std::optional<ingest::Coding> cls =
        e.location == "HOME" ? std::optional<ingest::Coding>(ingest::Coding{
                                   "http://terminology.hl7.org/CodeSystem/v3-ActCode", "HH",
                                   "home health"})
                             : maps_.translate("hospice-episode-class", e.type);
    if (!cls)
      cls = ingest::Coding{"http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"};
    enc.set("class", ingest::codingValue(*cls));
    if (!e.type.empty()) {  // an unknown type is kept as text
      auto t = translate("hospice-episode-type", e.type, where + ".type");
      Value types = A();
      types.push(ingest::codeableConcept(t, t ? "" : e.type));
      enc.set("type", std::move(types));
    }
    enc.set("subject", ref("Patient", patientId_));
    if (e.clinician) {
      Value parts = A();
      Value part = O();
      Value ind = O();
      ind.set("display", S(e.clinician->name + (e.clinician->role.empty() ? "" : " (" + e.clinician->role + ")")));
      part.set("individual", std::move(ind));
      parts.push(std::move(part));
      enc.set("participant", std::move(parts));
    }
    Value period = O();
    put(period, "start", S(e.start));
    put(period, "end", S(e.end));
    put(enc, "period", std::move(period));
    if (!e.location.empty()) {
      Value locs = A();
      Value l = O();
      Value lr = O();
      lr.set("display", S(e.location == "HOME"      ? "The child's home"
                          : e.location == "HOSPICE" ? "Willowbrook Children's Hospice"
                                                    : e.location));  // unknown: as sent
      l.set("location", std::move(lr));
      locs.push(std::move(l));
      enc.set("location", std::move(locs));
    }
    enc.set("serviceProvider", odsRef(doc_.sourceOds, "", "Organization"));
    return enc;
  }

  // One advance-care-plan item as a CarePlan.activity (docs/mappings/hospice.md).
  Value item(const std::string& itemCode, const std::string& itemDisplay,
             std::optional<Value> value, const std::string& description,
             const std::string& decidedOn = "") {
    Value detail = O();
    Value ext = A();
    if (value) ext.push(extension(sd("acp-decision-value"), "valueCodeableConcept", std::move(*value)));
    if (!decidedOn.empty()) ext.push(extension(sd("acp-decision-date"), "valueDate", S(decidedOn)));
    put(detail, "extension", std::move(ext));
    detail.set("code", concept(cs("acp-item"), itemCode, itemDisplay));
    detail.set("status", S(planStatus_ == "active" ? "in-progress" : planStatus_ == "draft" ? "not-started" : "stopped"));
    put(detail, "description", S(description));
    Value a = O();
    a.set("detail", std::move(detail));
    return a;
  }

  std::optional<Value> place(const std::string& code, const std::string& where) {
    if (code.empty()) return std::nullopt;
    return ingest::codeableConcept(translate("hospice-place", code, where), code);
  }

  void carePlan(const AdvanceCarePlan& plan, const std::vector<std::string>& conditions,
                const std::string& teamId) {
    std::string where = base_ + ".advanceCarePlan";
    std::string id = ingest::derivedId("CarePlan", doc_.sourceOds, plan.planId);
    auto status = translate("hospice-plan-status", plan.status, where + ".status");
    planStatus_ = status ? status->code : "unknown";
    Value cp = O();
    cp.set("resourceType", S("CarePlan"));
    cp.set("id", S(id));
    Value ext = A();
    if (!plan.reviewBy.empty()) ext.push(extension(sd("acp-review-date"), "valueDate", S(plan.reviewBy)));
    ext.push(ingest::sourceOrderExtension(versionOrder(plan.version)));  // revisions in order
    put(cp, "extension", std::move(ext));
    Value ids = A();
    Value ident = O();
    ident.set("system", S(ingest::localIdentifierSystem(doc_.sourceOds) + "/plan"));
    ident.set("value", S(plan.planId));
    ids.push(std::move(ident));
    cp.set("identifier", std::move(ids));
    cp.set("status", S(planStatus_));
    cp.set("intent", S("plan"));
    Value cat = A();
    cat.push(concept(ingest::kSnomedSystem, "736366004", "Advance care plan"));
    cp.set("category", std::move(cat));
    cp.set("title", S("Advance care plan (version " + std::to_string(plan.version) + ")"));
    cp.set("subject", ref("Patient", patientId_));
    if (!plan.agreedOn.empty()) {
      Value period = O();
      period.set("start", S(plan.agreedOn));
      cp.set("period", std::move(period));
    }
    cp.set("author", odsRef(doc_.sourceOds, "", "Organization"));
    Value contributors = A();
    for (const std::string& who : plan.discussedWith) {
      Value c = O();
      c.set("display", S(who));
      contributors.push(std::move(c));
    }
    put(cp, "contributor", std::move(contributors));
    if (!teamId.empty()) {
      Value teams = A();
      teams.push(ref("CareTeam", teamId));
      cp.set("careTeam", std::move(teams));
    }
    Value addresses = A();
    for (const std::string& c : conditions) addresses.push(ref("Condition", c));
    put(cp, "addresses", std::move(addresses));
    Value acts = A();
    if (plan.resuscitation) {
      const Resuscitation& rs = *plan.resuscitation;
      auto decision = maps_.translate("hospice-resuscitation", rs.decision);
      if (!decision) {
        // The parser only lets defined decisions through; one the ConceptMap cannot translate
        // is still never shown as text alone (clinical safety): the record is rejected.
        out_.issues.error("code-invalid", where + ".resuscitation.decision",
                          "resuscitation decision \"" + rs.decision +
                              "\" has no translation in hospice-resuscitation: never stored "
                              "untranslated",
                          "hospice.unmapped-code");
        out_.rejected = true;
        return;
      }
      std::optional<Value> v = ingest::codeableConcept(decision, rs.decision);
      std::string desc = rs.details;
      if (rs.decidedBy) {
        std::string by = rs.decidedBy->name;
        if (!rs.decidedBy->role.empty()) by += ", " + rs.decidedBy->role;
        if (!rs.decidedBy->gmcNumber.empty()) by += ", GMC " + rs.decidedBy->gmcNumber;
        desc += (desc.empty() ? "" : " ") + std::string("Decided by ") + by + ".";
      }
      acts.push(item("resuscitation", "Resuscitation (CPR) decision", std::move(v), desc, rs.decidedOn));
    }
    if (auto v = place(plan.preferredPlaceOfCare, where + ".preferredPlaceOfCare"))
      acts.push(item("preferred-place-of-care", "Preferred place of care", std::move(v), ""));
    if (auto v = place(plan.preferredPlaceOfDeath1, where + ".preferredPlaceOfDeath.first"))
      acts.push(item("preferred-place-of-death-1", "Preferred place of death, first choice", std::move(v), ""));
    if (auto v = place(plan.preferredPlaceOfDeath2, where + ".preferredPlaceOfDeath.second"))
      acts.push(item("preferred-place-of-death-2", "Preferred place of death, second choice", std::move(v), ""));
    if (!plan.emergencyPlan.empty())
      acts.push(item("emergency-plan", "Emergency plan", std::nullopt, plan.emergencyPlan));
    for (const SymptomPlan& s : plan.symptomPlans) {
      Value a = item("symptom-plan", "Symptom management plan", std::nullopt, s.plan);
      if (!s.symptom.empty()) {
        Value reasons = A();
        Value rc = O();
        rc.set("text", S(s.symptom));
        reasons.push(std::move(rc));
        a.find("detail")->set("reasonCode", std::move(reasons));
      }
      acts.push(std::move(a));
    }
    put(cp, "activity", std::move(acts));
    Value notes = A();
    for (const auto& [label, text] :
         {std::pair<const char*, const std::string*>{"Spiritual wishes", &plan.wishSpiritual},
          {"Cultural wishes", &plan.wishCultural},
          {"Organ and tissue donation", &plan.wishOrganTissueDonation},
          {"Other wishes", &plan.wishOther}}) {
      if (text->empty()) continue;
      Value n = O();
      n.set("text", S(std::string(label) + ": " + *text));
      notes.push(std::move(n));
    }
    put(cp, "note", std::move(notes));
    out_.resources.push_back(std::move(cp));
    out_.resources.push_back(consent(plan, id));
  }

  // An organisation's name as the organisation map keys it: lower case, runs of white space
  // made one space, trimmed.
  static std::string organisationKey(const std::string& name) {
    std::string key;
    for (unsigned char c : name) {
      if (std::isspace(c)) {
        if (!key.empty() && key.back() != ' ') key.push_back(' ');
      } else {
        key.push_back(static_cast<char>(std::tolower(c)));
      }
    }
    if (!key.empty() && key.back() == ' ') key.pop_back();
    return key;
  }

  Value keyWorkerTeam(const std::string& id, const Person& kw) {
    Value t = O();
    t.set("resourceType", S("CareTeam"));
    t.set("id", S(id));
    t.set("extension", recordOrder());
    t.set("status", S("active"));
    t.set("name", S("Key worker"));
    t.set("subject", ref("Patient", patientId_));
    Value parts = A();
    Value part = O();
    Value roles = A();
    roles.push(concept(cs("acp-item"), "key-worker", "Key worker"));
    part.set("role", std::move(roles));
    Value member = O();
    member.set("display", S(kw.name + (kw.role.empty() ? "" : " (" + kw.role + ")")));
    part.set("member", std::move(member));
    if (!kw.organisation.empty()) {
      // The organisation by name, resolved to its ODS code only through the organisation map
      // (exact names): the code is what gives that organisation a key worker's access.
      Value org = O();
      if (auto ods = maps_.translate("hospice-organisation", organisationKey(kw.organisation))) {
        Value id = O();
        id.set("system", S(ingest::kOdsSystem));
        id.set("value", S(ods->code));
        org.set("identifier", std::move(id));
      } else {
        out_.issues.warning("code-unknown", base_ + ".keyWorker.organisation",
                            "the key worker's organisation is not in the organisation map "
                            "(hospice-organisation): it is kept by name and gets no access to "
                            "the child's record as key worker",
                            "hospice.unknown-organisation");
      }
      org.set("display", S(kw.organisation));
      part.set("onBehalfOf", std::move(org));
    }
    parts.push(std::move(part));
    t.set("participant", std::move(parts));
    if (!kw.phone.empty()) {
      Value tel = A();
      tel.push(phone(kw.phone));
      t.set("telecom", std::move(tel));
    }
    return t;
  }

  // Consent to share the plan beyond the hospice: permit when given, deny otherwise (also
  // when the record says nothing: without recorded consent the plan is not shared).
  Value consent(const AdvanceCarePlan& plan, const std::string& planId) {
    const auto& given = plan.consentToShare;
    ShareConsent in;
    in.id = ingest::derivedId("Consent", doc_.sourceOds, plan.planId + "/share");
    in.order = versionOrder(plan.version);
    in.status = given ? "active" : "proposed";
    in.permit = given && given->given;
    in.patientId = patientId_;
    in.ods = doc_.sourceOds;
    in.carePlanId = planId;
    if (given) {
      in.dateTime = given->recordedOn;
      in.performer = given->by;
    }
    return consentToShare(in);
  }


  const Export& doc_;
  const Record& r_;
  const ingest::ConceptMaps& maps_;
  ingest::MappedRecord& out_;
  std::string base_;
  std::string patientId_;
  std::string planStatus_ = "unknown";
};

}  // namespace

ingest::MappedRecord mapRecord(const Export& doc, const Record& record,
                               const ingest::ConceptMaps& maps) {
  ingest::MappedRecord out;
  out.recordId = record.recordId.empty() ? "records[" + std::to_string(record.index) + "]"
                                         : record.recordId;
  for (const Issue& i : record.issues.issues()) out.issues.add(i);
  if (record.rejected) {
    out.rejected = true;
    return out;
  }
  Mapper(doc, record, maps, out).run();
  if (out.rejected) out.resources.clear();  // a rejected record stores nothing
  return out;
}

Result<std::shared_ptr<HospicePartner>> HospicePartner::create(const std::string& dir) {
  auto p = std::make_shared<HospicePartner>();
  Status s = p->maps_.loadDirectory(dir);
  if (!s.isOk()) return s;
  return p;
}

bool HospicePartner::map(std::string_view body, ingest::MappedPush& out,
                         IssueList& issues) const {
  Export doc;
  if (!parseExport(body, doc, issues)) return false;
  out.partner = "hospice";
  out.pushId = doc.exportId;
  out.sourceOds = doc.sourceOds;
  out.sourceSystem = doc.sourceSystem;
  out.contentType = "application/json";
  for (const Record& r : doc.records) {
    out.records.push_back(mapRecord(doc, r, maps_));
    // The record alone, with the document's header: what a replay re-runs.
    json::Value single = json::Value::makeObject();
    single.set("exportVersion", json::Value::makeString(doc.version));
    single.set("exportId", json::Value::makeString(doc.exportId));
    if (!doc.exportedAt.empty()) single.set("exportedAt", json::Value::makeString(doc.exportedAt));
    json::Value source = json::Value::makeObject();
    if (!doc.sourceSystem.empty()) source.set("system", json::Value::makeString(doc.sourceSystem));
    source.set("odsCode", json::Value::makeString(doc.sourceOds));
    single.set("source", std::move(source));
    json::Value list = json::Value::makeArray();
    list.push(json::Value::makeRaw(r.sourceJson));
    single.set("records", std::move(list));
    out.records.back().content = json::write(single);
  }
  return true;
}

}  // namespace acp::mappings::hospice
