#include "mappings/community/community_mapper.h"

#include <cstdio>

#include "gateway/ingest/fhir_build.h"
#include "gateway/ingest/source_ids.h"
#include "gateway/ingest/london_time.h"

namespace acp::mappings::community {

namespace london = ingest::london;

namespace {

using json::Value;
using namespace ingest::build;

// xs:date → FHIR date: the calendar date only. An xs:date may carry a time zone
// ("2015-03-14Z"), which a FHIR date cannot hold and which does not change the date.
std::string isoDate(const Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

// The UTC offset of an xs:dateTime: as sent, or — none sent — UK local time (the trust is in
// England): the Europe/London offset in force on that date (`assumed` set).
int offsetOf(const DateTime& t, bool& assumed) {
  assumed = !t.utcOffsetMinutes;
  if (t.utcOffsetMinutes) return *t.utcOffsetMinutes;
  return london::offsetMinutes(t.date.year, t.date.month, t.date.day, t.hour);
}

// xs:dateTime → FHIR dateTime, which needs a zone whenever it has a time (R4 dateTime):
// a value without one gets the Europe/London offset (`assumed` set; the caller warns).
std::string fhirDateTime(const DateTime& t, bool& assumed) {
  int offset = offsetOf(t, assumed);
  if (!assumed) return t.text;  // already a valid FHIR dateTime (checked by the parser)
  return t.text + london::offsetText(offset);
}

// Source order text of an xs:dateTime: the instant in UTC, "utc-time:yyyymmddhhmmss".
std::string timeOrder(const DateTime& t) {
  bool assumed = false;
  int offset = offsetOf(t, assumed);
  return "utc-time:" + london::utcStamp(t.date.year, t.date.month, t.date.day, t.hour, t.minute,
                                        t.second, offset);
}

class Mapper {
 public:
  Mapper(const ExportHeader& header, const ingest::ConceptMaps& maps, const PatientRecord& rec,
         ingest::MappedRecord& out)
      : ods_(header.trust), maps_(maps), rec_(rec), p_(rec.patient), out_(out) {
    exportOrder_ = timeOrder(header.generated);
    base_ = "CommunityExport.Patient[" + std::to_string(rec.index) + "]";
    patientId_ = ingest::derivedId("Patient", ods_, p_.localId);
  }

  void run() {
    out_.resources.push_back(patient());
    if (!p_.caseload.team.empty()) out_.resources.push_back(caseload());
    size_t i = 0;
    for (const CarePlan& cp : p_.carePlans) carePlan(cp, i++);
    size_t n = 0;
    for (const Contact& c : p_.contacts) {
      out_.resources.push_back(encounter(c, n));
      // The visit's free-text note may hold clinical detail; an R4 Encounter has nowhere to
      // carry it, so it is said, never dropped silently.
      if (c.text && !c.text->empty())
        out_.issues.warning("informational", base_ + ".Contact[" + std::to_string(n) + "]",
                            "the contact's free-text note is not mapped (an Encounter has no "
                            "note); it stays in the trust's record",
                            "community.unused-text");
      ++n;
    }
  }

 private:
  // Source order (ingest_service.h) of the resources not bound to a plan version (Patient,
  // caseload CareTeam, Encounter: ids from localId / Contact id): the export's @generated in
  // UTC — the export has no per-Patient change time, and a later export holds the trust's
  // later state. CarePlan and Consent (ids from CarePlan/@id) use the plan version instead.
  // One resource id always gets the same kind of value.
  Value exportOrder() const {
    Value list = A();
    list.push(ingest::sourceOrderExtension(exportOrder_));
    return list;
  }

  std::optional<ingest::Coding> translate(const char* map, const std::string& code,
                                          const std::string& where) {
    auto c = maps_.translate(map, code);
    if (!c)
      out_.issues.warning("code-invalid", where,
                          "code \"" + code + "\" has no translation in " + map + "; kept as text",
                          "community.unmapped-code");
    return c;
  }

  Value patient() {
    Value p = O();
    p.set("resourceType", S("Patient"));
    p.set("id", S(patientId_));
    p.set("extension", exportOrder());
    Value ids = A();
    const std::string& nhs = p_.nhsNumber.value;
    if (!nhs.empty()) {
      if (ingest::isValidNhsNumber(nhs)) {
        Value id = O();
        Value ext = A();
        ext.push(extension(
            "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
            "valueCodeableConcept",
            concept("https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
                    code(p_.nhsNumber.status), "")));
        id.set("extension", std::move(ext));
        id.set("system", S(ingest::kNhsNumberSystem));
        id.set("value", S(nhs));
        ids.push(std::move(id));
      } else {
        out_.issues.warning("value", base_ + ".NHSNumber",
                            "the NHS number fails the Modulus 11 check and is not stored as an "
                            "NHS number; the record keeps its local id",
                            "community.invalid-nhs-number");
      }
    }
    Value local = O();
    local.set("system", S(ingest::localIdentifierSystem(ods_)));
    local.set("value", S(p_.localId));
    ids.push(std::move(local));
    p.set("identifier", std::move(ids));
    Value names = A();
    Value official = O();
    official.set("use", S("official"));
    official.set("family", S(p_.name.family));
    Value given = A();
    for (const std::string& g : p_.name.given) given.push(S(g));
    put(official, "given", std::move(given));
    names.push(std::move(official));
    if (p_.name.preferred && !p_.name.preferred->empty()) {
      Value usual = O();
      usual.set("use", S("usual"));
      Value g = A();
      g.push(S(*p_.name.preferred));
      usual.set("given", std::move(g));
      names.push(std::move(usual));
    }
    p.set("name", std::move(names));
    p.set("gender", S(code(p_.gender)));  // the same four codes as FHIR's administrative gender
    p.set("birthDate", S(isoDate(p_.birthDate)));
    Value addr = O();
    addr.set("use", S(code(p_.address.use)));
    Value lines = A();
    for (const std::string& l : p_.address.lines) lines.push(S(l));
    put(addr, "line", std::move(lines));
    put(addr, "postalCode", S(p_.address.postCode));
    Value addrs = A();
    addrs.push(std::move(addr));
    p.set("address", std::move(addrs));
    if (!p_.registeredGp.ods.empty()) {
      Value gps = A();
      gps.push(odsRef(p_.registeredGp.ods));
      p.set("generalPractitioner", std::move(gps));
    }
    return p;
  }

  Value caseload() {
    Value t = O();
    t.set("resourceType", S("CareTeam"));
    t.set("id", S(ingest::derivedId("CareTeam", ods_, p_.localId + "/caseload/" + p_.caseload.team)));
    t.set("extension", exportOrder());
    t.set("status", S(p_.caseload.to ? "inactive" : "active"));
    t.set("name", S(p_.caseload.team));
    t.set("subject", ref("Patient", patientId_));
    Value period = O();
    period.set("start", S(isoDate(p_.caseload.from)));
    if (p_.caseload.to) period.set("end", S(isoDate(*p_.caseload.to)));
    t.set("period", std::move(period));
    Value orgs = A();
    orgs.push(odsRef(ods_));
    t.set("managingOrganization", std::move(orgs));
    return t;
  }

  Value item(const std::string& itemCode, const std::string& display, std::optional<Value> value,
             const std::string& description, const std::string& status) {
    Value detail = O();
    Value ext = A();
    if (value) ext.push(extension(sd("acp-decision-value"), "valueCodeableConcept", std::move(*value)));
    put(detail, "extension", std::move(ext));
    detail.set("code", concept(cs("acp-item"), itemCode, display));
    detail.set("status", S(status));
    put(detail, "description", S(description));
    Value a = O();
    a.set("detail", std::move(detail));
    return a;
  }

  void carePlan(const CarePlan& cp, size_t index) {
    std::string where = base_ + ".CarePlan[" + std::to_string(index) + "]";
    std::string id = ingest::derivedId("CarePlan", ods_, cp.id);
    std::string status = code(cp.status);  // draft | active | completed | revoked: FHIR's codes
    std::string activityStatus = status == "active" ? "in-progress"
                                 : status == "draft" ? "not-started"
                                 : status == "completed" ? "completed"
                                                         : "stopped";
    Value c = O();
    c.set("resourceType", S("CarePlan"));
    c.set("id", S(id));
    Value ext = A();
    if (!cp.reviewDate.text.empty())
      ext.push(extension(sd("acp-review-date"), "valueDate", S(isoDate(cp.reviewDate))));
    ext.push(ingest::sourceOrderExtension(versionOrder(cp.version)));  // revisions in order
    put(c, "extension", std::move(ext));
    Value ids = A();
    Value ident = O();
    ident.set("system", S(ingest::localIdentifierSystem(ods_) + "/careplan"));
    ident.set("value", S(cp.id));
    ids.push(std::move(ident));
    c.set("identifier", std::move(ids));
    c.set("status", S(status));
    c.set("intent", S("plan"));
    Value cat = A();
    if (cp.type == CarePlanType::kAcp)
      cat.push(concept(ingest::kSnomedSystem, "736366004", "Advance care plan"));
    else
      cat.push(concept(cs("care-plan-type"), code(cp.type), code(cp.type)));
    c.set("category", std::move(cat));
    c.set("title", S(cp.title + " (version " + std::to_string(cp.version) + ")"));
    c.set("subject", ref("Patient", patientId_));
    Value period = O();
    period.set("start", S(isoDate(cp.period.start)));
    if (cp.period.end) period.set("end", S(isoDate(*cp.period.end)));
    c.set("period", std::move(period));
    Value author = O();
    Value aid = O();
    aid.set("system", S(cp.author.regBody == RegBody::kGmc   ? ingest::kGmcSystem
                        : cp.author.regBody == RegBody::kNmc ? ingest::kNmcSystem
                                                             : "https://www.hcpc-uk.org/Id/registration-number"));
    aid.set("value", S(cp.author.regNumber));
    author.set("type", S("Practitioner"));
    author.set("identifier", std::move(aid));
    author.set("display", S(cp.author.name + (cp.author.role.empty() ? "" : " (" + cp.author.role + ")")));
    c.set("author", std::move(author));
    Value acts = A();
    size_t d = 0;
    for (const Decision& dec : cp.decisions) {
      std::string dw = where + ".Decision[" + std::to_string(d++) + "]";
      std::string details = dec.details.value_or("");
      switch (dec.kind) {
        case DecisionKind::kCpr:
          acts.push(item("resuscitation", "Resuscitation (CPR) decision",
                         ingest::codeableConcept(translate("community-cpr", dec.value, dw), dec.value),
                         details, activityStatus));
          break;
        case DecisionKind::kPpc:
        case DecisionKind::kPpd:
        case DecisionKind::kPpd2: {
          const char* itemCode = dec.kind == DecisionKind::kPpc   ? "preferred-place-of-care"
                                 : dec.kind == DecisionKind::kPpd ? "preferred-place-of-death-1"
                                                                  : "preferred-place-of-death-2";
          const char* display = dec.kind == DecisionKind::kPpc ? "Preferred place of care"
                                : dec.kind == DecisionKind::kPpd
                                    ? "Preferred place of death, first choice"
                                    : "Preferred place of death, second choice";
          acts.push(item(itemCode, display,
                         ingest::codeableConcept(translate("community-place", dec.value, dw), dec.value),
                         details, activityStatus));
          break;
        }
        case DecisionKind::kVentilation:
          acts.push(item("ventilation", "Ventilation decision",
                         ingest::codeableConcept(translate("community-ventilation", dec.value, dw), dec.value),
                         details, activityStatus));
          break;
        case DecisionKind::kHospitalTransfer:
          acts.push(item("hospital-transfer", "Hospital transfer decision",
                         ingest::codeableConcept(translate("community-transfer", dec.value, dw), dec.value),
                         details, activityStatus));
          break;
      }
    }
    size_t a = 0;
    for (const Activity& act : cp.activities) {
      std::string aw = where + ".Activity[" + std::to_string(a++) + "]";
      Value detail = O();
      detail.set("code", ingest::codeableConcept(translate("community-activity", act.code, aw), act.code));
      std::string st = code(act.status);  // planned → scheduled; the others are FHIR's codes
      detail.set("status", S(st == "planned" ? "scheduled" : st));
      if (act.description) put(detail, "description", S(*act.description));
      Value entry = O();
      entry.set("detail", std::move(detail));
      acts.push(std::move(entry));
    }
    put(c, "activity", std::move(acts));
    Value notes = A();
    for (const std::string& g : cp.goals) {
      Value n = O();
      n.set("text", S("Goal: " + g));
      notes.push(std::move(n));
    }
    put(c, "note", std::move(notes));
    out_.resources.push_back(std::move(c));
    out_.resources.push_back(consent(cp, id));
  }

  Value consent(const CarePlan& cp, const std::string& planId) {
    ShareConsent in;
    in.id = ingest::derivedId("Consent", ods_, cp.id + "/share");
    in.order = versionOrder(cp.version);
    in.status = cp.consent.sharing == ConsentSharing::kWithdrawn ? "inactive" : "active";
    in.permit = cp.consent.sharing == ConsentSharing::kYes;
    in.patientId = patientId_;
    in.ods = ods_;
    in.carePlanId = planId;
    in.dateTime = isoDate(cp.consent.date);
    return consentToShare(in);
  }


  Value encounter(const Contact& ct, size_t index) {
    std::string where = base_ + ".Contact[" + std::to_string(index) + "]";
    Value e = O();
    e.set("resourceType", S("Encounter"));
    e.set("id", S(ingest::derivedId("Encounter", ods_, ct.id)));
    e.set("extension", exportOrder());
    Value ids = A();
    Value id = O();
    id.set("system", S(ingest::localIdentifierSystem(ods_) + "/contact"));
    id.set("value", S(ct.id));
    ids.push(std::move(id));
    e.set("identifier", std::move(ids));
    std::string outcome = code(ct.outcome);
    e.set("status", S(outcome == "attended" ? "finished" : "cancelled"));
    std::string type = code(ct.type);
    auto cls = translate("community-contact-class", type, base_ + ".Contact");
    e.set("class", ingest::codingValue(cls ? *cls
                                           : ingest::Coding{"http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                                            "AMB", "ambulatory"}));
    if (auto t = translate("community-contact-type", type, base_ + ".Contact")) {
      Value types = A();
      types.push(ingest::codeableConcept(t, ""));
      e.set("type", std::move(types));
    }
    e.set("subject", ref("Patient", patientId_));
    Value parts = A();
    Value part = O();
    Value ind = O();
    ind.set("display", S(std::string("Community ") + code(ct.staffRole)));
    part.set("individual", std::move(ind));
    parts.push(std::move(part));
    e.set("participant", std::move(parts));
    Value period = O();
    bool assumed = false;
    period.set("start", S(fhirDateTime(ct.date, assumed)));
    if (assumed)
      out_.issues.warning("informational", where,
                          "the contact's @date \"" + ct.date.text +
                              "\" has no time zone: read as UK local time (Europe/London)",
                          "community.assumed-time-zone");
    e.set("period", std::move(period));
    if (ct.minutes > 0) {
      Value len = O();
      len.set("value", Value::makeNumber(std::to_string(ct.minutes)));
      len.set("unit", S("min"));
      len.set("system", S("http://unitsofmeasure.org"));
      len.set("code", S("min"));
      e.set("length", std::move(len));
    }
    if (outcome == "did-not-attend") {
      Value reasons = A();
      Value r = O();
      r.set("text", S("Did not attend"));
      reasons.push(std::move(r));
      e.set("reasonCode", std::move(reasons));
    }
    e.set("serviceProvider", odsRef(ods_));
    return e;
  }

  std::string ods_;
  const ingest::ConceptMaps& maps_;
  const PatientRecord& rec_;
  const Patient& p_;
  ingest::MappedRecord& out_;
  std::string base_;
  std::string patientId_;
  std::string exportOrder_;
};

}  // namespace

Result<std::shared_ptr<CommunityPartner>> CommunityPartner::create(const std::string& dir) {
  auto p = std::make_shared<CommunityPartner>();
  Status s = p->maps_.loadDirectory(dir + "/conceptmaps");
  if (!s.isOk()) return s;
  auto schema = CommunitySchema::load(dir + "/community-export-1.xsd");
  if (!schema.isOk()) return schema.status();
  p->schema_ = schema.value();
  return p;
}

bool CommunityPartner::map(std::string_view body, ingest::MappedPush& out,
                           IssueList& issues) const {
  CommunityExportParser parser(schema_);
  std::vector<PatientRecord> patients;
  DocumentOutcome doc = parser.parse(body, [&](PatientRecord&& r) {
    patients.push_back(std::move(r));
    return Status::ok();
  });
  for (const Issue& i : doc.issues.issues()) issues.add(i);
  if (!doc.header) {
    if (!issues.hasErrors())
      issues.error("structure", "CommunityExport", "the export header could not be read",
                   "community.header");
    return false;
  }
  if (!doc.header->generated.utcOffsetMinutes)
    issues.warning("informational", "CommunityExport",
                   "the export's @generated \"" + doc.header->generated.text +
                       "\" has no time zone: read as UK local time (Europe/London) to order "
                       "this export against others",
                   "community.assumed-time-zone");
  out.partner = "community";
  out.pushId = doc.header->batchId;
  out.sourceOds = doc.header->trust;
  out.sourceSystem = "Northshire community record";
  out.contentType = "application/xml";
  for (const PatientRecord& r : patients) {
    ingest::MappedRecord m;
    m.recordId = r.patient.localId.empty() ? "Patient[" + std::to_string(r.index) + "]"
                                           : r.patient.localId;
    m.content = std::string(body);  // replay re-runs the document: the others are unchanged
    for (const Issue& i : r.issues.issues()) m.issues.add(i);
    if (!r.accepted() || r.patient.localId.empty()) {
      m.rejected = true;
    } else {
      Mapper(*doc.header, maps_, r, m).run();
    }
    out.records.push_back(std::move(m));
  }
  if (!doc.status.isOk() || !doc.complete) {
    // Broke off part-way: what was read is processed; the document itself is kept.
    ingest::MappedRecord rest;
    rest.recordId = "document";
    rest.rejected = true;
    rest.content = std::string(body);
    for (const Issue& i : doc.issues.issues()) rest.issues.add(i);
    if (!rest.issues.hasErrors())
      rest.issues.error("structure", "CommunityExport", "the document could not be read to its end",
                        "community.not-well-formed");
    out.records.push_back(std::move(rest));
  }
  return true;
}

}  // namespace acp::mappings::community
