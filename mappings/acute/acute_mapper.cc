#include "mappings/acute/acute_mapper.h"

#include <cctype>
#include <ctime>
#include <set>

#include "gateway/hl7v2/parser.h"
#include "gateway/ingest/fhir_build.h"
#include "gateway/ingest/london_time.h"
#include "gateway/ingest/source_ids.h"

namespace acp::mappings::acute {

namespace {

using json::Value;
using namespace ingest::build;

bool digits(const std::string& s, size_t from, size_t n) {
  if (s.size() < from + n) return false;
  for (size_t i = from; i < from + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

}  // namespace

std::string fhirDateTime(const std::string& raw) {
  std::string ts = raw.substr(0, raw.find_first_of("+-"));
  std::string offset = ts.size() < raw.size() ? raw.substr(ts.size()) : "";
  size_t dot = ts.find('.');
  if (dot != std::string::npos) ts = ts.substr(0, dot);
  if (!digits(ts, 0, ts.size()) || (ts.size() != 4 && ts.size() != 6 && ts.size() != 8 &&
                                    ts.size() != 10 && ts.size() != 12 && ts.size() != 14))
    return "";
  if (!offset.empty() && (offset.size() != 5 || !digits(offset, 1, 4))) return "";
  if (ts.size() >= 6 && (std::stoi(ts.substr(4, 2)) < 1 || std::stoi(ts.substr(4, 2)) > 12))
    return "";
  if (ts.size() >= 8 && (std::stoi(ts.substr(6, 2)) < 1 || std::stoi(ts.substr(6, 2)) > 31))
    return "";
  if (ts.size() <= 8) {
    std::string out = ts.substr(0, 4);
    if (ts.size() >= 6) out += "-" + ts.substr(4, 2);
    if (ts.size() == 8) out += "-" + ts.substr(6, 2);
    return out;
  }
  int y = std::stoi(ts.substr(0, 4)), mo = std::stoi(ts.substr(4, 2)), d = std::stoi(ts.substr(6, 2));
  int h = std::stoi(ts.substr(8, 2));
  std::string mi = ts.size() >= 12 ? ts.substr(10, 2) : "00";
  std::string se = ts.size() >= 14 ? ts.substr(12, 2) : "00";
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || std::stoi(mi) > 59 || std::stoi(se) > 59)
    return "";
  std::string zone;
  if (!offset.empty()) {
    if (offset.size() != 5 || !digits(offset, 1, 4)) return "";
    zone = offset.substr(0, 3) + ":" + offset.substr(3, 2);
  } else {
    zone = ingest::london::offsetText(ingest::london::offsetMinutes(y, mo, d, h));
  }
  return ts.substr(0, 4) + "-" + ts.substr(4, 2) + "-" + ts.substr(6, 2) + "T" + ts.substr(8, 2) +
         ":" + mi + ":" + se + zone;
}

namespace {

class Mapper {
 public:
  Mapper(const hl7v2::Message& m, const std::string& ods, const ingest::ConceptMaps& maps,
         ingest::MappedRecord& out)
      : m_(m), ods_(ods), maps_(maps), out_(out) {}

  void run() {
    const hl7v2::Header& h = m_.header();
    std::string event = h.messageType + "^" + h.triggerEvent;
    static const std::set<std::string> visits = {"ADT^A01", "ADT^A02", "ADT^A03", "ADT^A04",
                                                 "ADT^A05", "ADT^A08", "ADT^A11", "ADT^A13"};
    static const std::set<std::string> persons = {"ADT^A28", "ADT^A31"};
    if (!visits.count(event) && !persons.count(event) && event != "ORU^R01" &&
        event != "ADT^A40") {
      reject("MSH-9", "message " + event + " is not processed (kept for replay)",
             "hl7.unsupported-event");
      return;
    }
    unusedSegments(event);
    if (!patient()) return;
    if (visits.count(event)) encounter(h.triggerEvent);
    if (event == "ORU^R01") respect();
    if (event == "ADT^A40") merge();
  }

 private:
  // The message's time (EVN-2, else MSH-7) as source order: an older message never overwrites
  // what a newer one wrote (an admission arriving after its discharge).
  // In UTC ("utc-time:yyyymmddhhmmss", as the other partners), so that two messages either
  // side of the October clock change still compare in the order they happened. EVN-2, else
  // MSH-7; a time that cannot be read is never guessed at (a day-first date read as digits
  // would sort centuries ahead and freeze the patient): it is said, and without a readable
  // time the message is not ordered (it applies as it arrives).
  Value orderExtension() {
    if (order_) return *order_;
    Value list = A();
    std::string stamp;
    for (const auto& [where, t] : {std::pair<std::string, std::string>{"EVN-2", m_.text("EVN", 2)},
                                   {"MSH-7", m_.header().messageTime}}) {
      if (t.empty()) continue;
      std::string dt = fhirDateTime(t);  // local time with its Europe/London (or given) offset
      if (dt.size() == 25) {
        auto n = [&](size_t at, size_t len) { return std::stoi(dt.substr(at, len)); };
        int offset = (dt[19] == '-' ? -1 : 1) * (n(20, 2) * 60 + n(23, 2));
        stamp = ingest::london::utcStamp(n(0, 4), n(5, 2), n(8, 2), n(11, 2), n(14, 2),
                                         n(17, 2), offset);
      } else if (dt.size() == 10) {  // a date only: its start
        stamp = dt.substr(0, 4) + dt.substr(5, 2) + dt.substr(8, 2) + "000000";
      } else {
        warn(where, "the time \"" + t + "\" cannot be read (YYYYMMDD[HHMM[SS]][+ZZZZ])",
             "hl7.invalid-date");
        continue;
      }
      break;
    }
    if (!stamp.empty()) list.push(ingest::sourceOrderExtension("utc-time:" + stamp));
    order_ = list;  // once per message (and its warning once)
    return list;
  }

  // A component's text; the HL7 explicit null `""` reads as empty (see cleared()).
  static std::string txt(const hl7v2::Segment& s, int f, int r = 1, int c = 1) {
    return s.isNull(f, r, c) ? std::string() : s.text(f, r, c);
  }
  // Whether field `f` is the explicit null `""`: the sender deletes the value, so the element
  // it maps to is removed (a JSON null member: IngestService drops it, overriding the overlay).
  static bool cleared(const hl7v2::Segment& s, int f) { return s.raw(f) == "\"\""; }

  // Segments this mapping does not read are reported (once per segment id), not dropped
  // silently.
  void unusedSegments(const std::string& event) {
    std::set<std::string> used = {"MSH", "EVN", "PID", "PD1", "NK1"};
    if (event == "ORU^R01") used.insert({"OBR", "OBX"});
    else if (event == "ADT^A40") used.insert({"MRG", "PV1"});  // an A40's PV1 carries nothing
    else used.insert("PV1");
    std::set<std::string> reported;
    for (size_t i = 0; i < m_.segmentCount(); ++i) {
      std::string id(m_.segment(i).id());
      if (used.count(id) || !reported.insert(id).second) continue;
      warn(id, "segment " + id + " is not part of this interface for " + event + " and was not used",
           "hl7.unused-segment");
    }
  }

  // ADT^A40: the patient in MRG-1 (prior hospital number) is a duplicate of the one in PID-3;
  // the IngestService moves the duplicate's data to the survivor and links the two.
  void merge() {
    std::vector<hl7v2::Segment> mrgs = m_.all("MRG");
    if (mrgs.empty()) {
      reject("MRG", "a merge (A40) without its MRG segment", "hl7.required");
      return;
    }
    if (mrgs.size() > 1) {
      reject("MRG", "several merges in one A40 are not processed (kept for replay): send one "
                    "PID/MRG pair per message", "hl7.unsupported-event");
      return;
    }
    std::string prior;
    for (int r = 1; r <= mrgs[0].repetitionCount(1); ++r)
      if (txt(mrgs[0], 1, r, 5) == "MR" && prior.empty()) prior = txt(mrgs[0], 1, r, 1);
    if (prior.empty()) {
      reject("MRG-1", "no prior hospital number (MRG-1 with type MR)", "hl7.required");
      return;
    }
    std::string duplicate = ingest::derivedId("Patient", ods_, prior);
    if (duplicate == patientId_) {
      reject("MRG-1", "the prior hospital number is the surviving patient's own", "hl7.invalid-merge");
      return;
    }
    out_.merges.push_back({duplicate, patientId_});
  }

  void reject(const std::string& where, const std::string& msg, const std::string& code) {
    out_.issues.error("processing", where, msg, code);
    out_.rejected = true;
  }
  void warn(const std::string& where, const std::string& msg, const std::string& code) {
    out_.issues.warning("value", where, msg, code);
  }
  // The code's translation; when there is none, a warning saying what becomes of the value
  // (`fallback`: by default it is kept as text, which the caller must then do).
  std::optional<ingest::Coding> translate(const char* map, const std::string& code,
                                          const std::string& where,
                                          const char* fallback = "kept as text") {
    if (code.empty()) return std::nullopt;
    auto c = maps_.translate(map, code);
    if (!c) warn(where, "code \"" + code + "\" has no translation in " + map + "; " + fallback,
                 "hl7.unmapped-code");
    return c;
  }
  // A CodeableConcept for a coded value: the translation when there is one, the sender's
  // display (else its code) as text, so an unknown code is never lost.
  Value coded(const char* map, const std::string& code, const std::string& display,
              const std::string& where) {
    auto c = translate(map, code, where);
    return ingest::codeableConcept(c, display.empty() && !c ? code : display);
  }
  // A clinician from an XCN (`C4567890^Roe^Sarah^^^Dr`): a Practitioner by GMC number (the
  // consultant code is "C" + the GMC number) with the name as display.
  Value clinician(const hl7v2::Segment& s, int f) {
    std::string number = txt(s, f, 1, 1);
    if (number.size() == 8 && number[0] == 'C') number = number.substr(1);
    return practitioner(s, f, "https://fhir.hl7.org.uk/Id/gmc-number", number);
  }
  // A Practitioner logical reference from an XCN: `number` in `system`, the name
  // (prefix given family) as display.
  Value practitioner(const hl7v2::Segment& s, int f, const char* system, const std::string& number) {
    Value r = O();
    r.set("type", S("Practitioner"));
    if (!number.empty()) {
      Value id = O();
      id.set("system", S(system));
      id.set("value", S(number));
      r.set("identifier", std::move(id));
    }
    std::string name = txt(s, f, 1, 6);
    for (int c : {3, 2})
      if (!txt(s, f, 1, c).empty()) name += (name.empty() ? "" : " ") + txt(s, f, 1, c);
    put(r, "display", S(name));
    return r;
  }

  bool patient() {
    hl7v2::Segment pid = m_.first("PID");
    if (!pid) {
      reject("PID", "the message has no PID segment", "hl7.required");
      return false;
    }
    std::string mrn, nhs;
    for (int r = 1; r <= pid.repetitionCount(3); ++r) {
      std::string type = txt(pid, 3, r, 5);
      if (type == "MR" && !mrn.empty() && txt(pid, 3, r, 1) != mrn)
        warn("PID-3", "a second hospital number (" + txt(pid, 3, r, 1) +
                          ") was not used: the first one identifies the patient",
             "hl7.unused-identifier");
      if (type == "MR" && mrn.empty()) mrn = txt(pid, 3, r, 1);
      if (type == "NH" && nhs.empty()) nhs = ingest::normaliseNhsNumber(txt(pid, 3, r, 1));
    }
    if (mrn.empty()) {
      reject("PID-3", "no hospital number (PID-3 with type MR)", "hl7.required");
      return false;
    }
    std::string family = txt(pid, 5, 1, 1), given = txt(pid, 5, 1, 2);
    if (family.empty()) {
      reject("PID-5", "no family name (PID-5.1)", "hl7.required");
      return false;
    }
    std::string birth = fhirDateTime(txt(pid, 7));
    if (txt(pid, 7).empty() || birth.size() != 10) {
      reject("PID-7", "no valid date of birth (YYYYMMDD)", "hl7.required");
      return false;
    }
    patientId_ = ingest::derivedId("Patient", ods_, mrn);
    Value p = O();
    p.set("resourceType", S("Patient"));
    p.set("id", S(patientId_));
    put(p, "extension", orderExtension());
    Value ids = A();
    if (!nhs.empty()) {
      if (ingest::isValidNhsNumber(nhs)) {
        Value id = O();
        // PID-32 per the interface; the examples carry it in PID-30, where a death indicator
        // (Y/N) never looks like 01..08 — read there only then, with a warning.
        std::string status = txt(pid, 32);
        if (status.empty() && txt(pid, 30).size() == 2 && txt(pid, 30)[0] == '0') {
          status = txt(pid, 30);
          warn("PID-30", "NHS number status found in PID-30 instead of PID-32",
               "hl7.field-position");
        }
        if (cleared(pid, 32)) {
          id.set("extension", Value());  // removed, not kept from the stored identifier
        } else if (!status.empty()) {
          Value ext = A();
          ext.push(extension(
              "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
              "valueCodeableConcept",
              concept("https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
                      status, "")));
          id.set("extension", std::move(ext));
        }
        id.set("system", S(ingest::kNhsNumberSystem));
        id.set("value", S(nhs));
        ids.push(std::move(id));
      } else {
        warn("PID-3", "the NHS number fails the Modulus 11 check and is not stored as an NHS number",
             "hl7.invalid-nhs-number");
      }
    }
    Value local = O();
    local.set("system", S(ingest::localIdentifierSystem(ods_)));
    local.set("value", S(mrn));
    ids.push(std::move(local));
    p.set("identifier", std::move(ids));
    Value names = A();
    for (int r = 1; r <= pid.repetitionCount(5); ++r) {
      Value n = O();
      bool preferred = txt(pid, 5, r, 7) == "P";
      n.set("use", S(preferred ? "usual" : r == 1 ? "official" : "old"));
      put(n, "family", S(txt(pid, 5, r, 1)));
      Value g = A();
      for (int c : {2, 3})
        if (!txt(pid, 5, r, c).empty()) g.push(S(txt(pid, 5, r, c)));
      put(n, "given", std::move(g));
      Value prefix = A();
      if (!txt(pid, 5, r, 5).empty()) prefix.push(S(txt(pid, 5, r, 5)));
      put(n, "prefix", std::move(prefix));
      if (n.members().size() > 1) names.push(std::move(n));
    }
    p.set("name", std::move(names));
    if (!txt(pid, 8).empty()) {
      auto g = translate("acute-sex", txt(pid, 8), "PID-8", "recorded as gender \"unknown\"");
      p.set("gender", S(g ? g->code : "unknown"));
    }
    if (cleared(pid, 8)) p.set("gender", Value());
    p.set("birthDate", S(birth));
    if (!txt(pid, 29).empty()) {
      std::string d = fhirDateTime(txt(pid, 29));
      if (!d.empty()) {
        p.set("deceasedDateTime", S(d));
        p.set("deceasedBoolean", Value());  // one deceased[x] only: the other goes
      }
    } else if (txt(pid, 30) == "Y") {
      p.set("deceasedBoolean", Value::makeBool(true));
      p.set("deceasedDateTime", Value());
    } else if (cleared(pid, 29) || cleared(pid, 30) || txt(pid, 30) == "N") {
      // Death recorded in error, or not dead: whatever was said before is removed.
      p.set("deceasedDateTime", Value());
      p.set("deceasedBoolean", Value());
    }
    // PID-11 as the interface defines it: line1^line2^town^county^postcode.
    if (cleared(pid, 11)) {
      p.set("address", Value());
    } else if (!pid.raw(11).empty()) {
      Value a = O();
      a.set("use", S("home"));
      Value lines = A();
      for (int c : {1, 2})
        if (!txt(pid, 11, 1, c).empty()) lines.push(S(txt(pid, 11, 1, c)));
      put(a, "line", std::move(lines));
      put(a, "city", S(txt(pid, 11, 1, 3)));
      put(a, "district", S(txt(pid, 11, 1, 4)));
      put(a, "postalCode", S(txt(pid, 11, 1, 5)));
      Value list = A();
      if (a.members().size() > 1) list.push(std::move(a));
      put(p, "address", std::move(list));
    }
    if (cleared(pid, 13)) {
      p.set("telecom", Value());
    } else if (!txt(pid, 13).empty()) {
      Value t = O();
      t.set("system", S("phone"));
      t.set("value", S(txt(pid, 13)));
      Value list = A();
      list.push(std::move(t));
      p.set("telecom", std::move(list));
    }
    if (hl7v2::Segment pd1 = m_.first("PD1")) {
      // PD1-3 the practice (ODS), PD1-4 the GP (GMP code `G1234567^Smith^Anna`).
      std::string gp = txt(pd1, 3, 1, 3);
      Value list = A();
      if (!gp.empty()) {
        Value r = odsRef(gp);
        put(r, "display", S(txt(pd1, 3, 1, 1)));
        list.push(std::move(r));
      }
      if (!txt(pd1, 4, 1, 1).empty())
        list.push(practitioner(pd1, 4, "https://fhir.hl7.org.uk/Id/gmp-number", txt(pd1, 4, 1, 1)));
      if (cleared(pd1, 3) && list.items().empty())
        p.set("generalPractitioner", Value());
      else
        put(p, "generalPractitioner", std::move(list));
    }
    Value contacts = A();
    for (const hl7v2::Segment& nk1 : m_.all("NK1")) {
      Value c = O();
      std::string rel = txt(nk1, 3, 1, 1);
      if (!rel.empty()) {
        Value rels = A();
        rels.push(coded("acute-relationship", rel, txt(nk1, 3, 1, 2), "NK1-3"));
        c.set("relationship", std::move(rels));
      }
      std::string name = txt(nk1, 2, 1, 2) + (txt(nk1, 2, 1, 2).empty() ? "" : " ") + txt(nk1, 2, 1, 1);
      if (!name.empty()) {
        Value n = O();
        n.set("text", S(name));
        c.set("name", std::move(n));
      }
      if (!txt(nk1, 5).empty()) {
        Value t = O();
        t.set("system", S("phone"));
        t.set("value", S(txt(nk1, 5)));
        Value list = A();
        list.push(std::move(t));
        c.set("telecom", std::move(list));
      }
      if (!c.members().empty()) contacts.push(std::move(c));
    }
    put(p, "contact", std::move(contacts));
    out_.resources.push_back(std::move(p));
    return true;
  }

  void encounter(const std::string& trigger) {
    hl7v2::Segment pv1 = m_.first("PV1");
    if (!pv1) {
      reject("PV1", "a visit message without PV1", "hl7.required");
      return;
    }
    std::string visit = txt(pv1, 19);
    // The interface's examples carry the visit number one field early (PV1-18).
    if (visit.empty() && !txt(pv1, 18).empty()) {
      visit = txt(pv1, 18);
      warn("PV1-18", "visit number found in PV1-18 instead of PV1-19", "hl7.field-position");
    }
    if (visit.empty()) {
      reject("PV1-19", "no visit (spell) number", "hl7.required");
      return;
    }
    bool shifted = txt(pv1, 19).empty();
    auto field = [&](int n) { return txt(pv1, shifted ? n - 1 : n); };
    std::string admit = fhirDateTime(field(44)), discharge = fhirDateTime(field(45));
    Value e = O();
    e.set("resourceType", S("Encounter"));
    e.set("id", S(ingest::derivedId("Encounter", ods_, visit)));
    put(e, "extension", orderExtension());
    Value ids = A();
    Value id = O();
    id.set("system", S(ingest::localIdentifierSystem(ods_) + "/visit"));
    id.set("value", S(visit));
    ids.push(std::move(id));
    e.set("identifier", std::move(ids));
    // A11: the admission or registration was sent in error; A13: the discharge was, so the
    // spell goes on (its end and discharge destination are removed: explicit nulls).
    // The events that define a spell's state say its status; the others (A02 transfer, A08
    // update) only finish it when they carry the discharge time and otherwise leave the stored
    // status — a demographic update after discharge never reopens the spell. When such an
    // event is the first news of a spell, it is in progress (a default, see overlay.h).
    Value defaults = O();
    static const std::set<std::string> defining = {"A01", "A03", "A04", "A05", "A11", "A13"};
    if (trigger == "A13") discharge.clear();
    std::string status = trigger == "A11"   ? "entered-in-error"
                         : trigger == "A13" ? "in-progress"
                         : trigger == "A05" ? "planned"
                         : trigger == "A03" || !discharge.empty() ? "finished"
                                                                  : "in-progress";
    if (defining.count(trigger) || !discharge.empty())
      e.set("status", S(status));
    else
      defaults.set("status", S(status));
    // Class: PV1-2 translated; an unknown code is said and recorded as unknown (v3 NullFlavor
    // UNK) rather than guessed; PV1-2 not sent keeps the stored class.
    static const ingest::Coding unknownClass{"http://terminology.hl7.org/CodeSystem/v3-NullFlavor",
                                             "UNK", "unknown"};
    auto cls = translate("acute-patient-class", txt(pv1, 2), "PV1-2", "class recorded as unknown");
    if (cls)
      e.set("class", ingest::codingValue(*cls));
    else if (!txt(pv1, 2).empty())
      e.set("class", ingest::codingValue(unknownClass));
    else
      defaults.set("class", ingest::codingValue(unknownClass));
    if (cleared(pv1, shifted ? 9 : 10)) {
      e.set("serviceType", Value());
    } else if (!txt(pv1, shifted ? 9 : 10).empty()) {
      Value st = O();
      st.set("text", S("Treatment function " + txt(pv1, shifted ? 9 : 10)));
      e.set("serviceType", std::move(st));
    }
    e.set("subject", ref("Patient", patientId_));
    if (cleared(pv1, 7)) {
      e.set("participant", Value());
    } else if (!txt(pv1, 7, 1, 2).empty()) {
      Value parts = A();
      Value part = O();
      part.set("individual", clinician(pv1, 7));
      parts.push(std::move(part));
      e.set("participant", std::move(parts));
    }
    // Period: start and end come from two fields, so each is kept when not sent (period is
    // merged member by member: Encounter.period in overlayObjects).
    Value period = O();
    put(period, "start", S(admit));
    put(period, "end", S(discharge));
    if (trigger == "A13") period.set("end", Value());  // the discharge was sent in error
    put(e, "period", std::move(period));
    out_.overlayObjects.insert("Encounter.period");
    std::string to = field(37);
    if (trigger == "A13" || cleared(pv1, shifted ? 36 : 37)) {
      e.set("hospitalization", Value());  // null: remove what the discharge said
    } else if (!to.empty()) {
      Value hosp = O();
      hosp.set("dischargeDisposition", coded("acute-discharge-destination", to, "", "PV1-37"));
      e.set("hospitalization", std::move(hosp));
    }
    if (cleared(pv1, 3)) {
      e.set("location", Value());
    } else if (!txt(pv1, 3, 1, 1).empty()) {
      Value locs = A();
      Value l = O();
      Value lr = O();
      std::string where = txt(pv1, 3, 1, 1);
      for (int c : {2, 3})
        if (!txt(pv1, 3, 1, c).empty()) where += " " + txt(pv1, 3, 1, c);
      lr.set("display", S(where));
      l.set("location", std::move(lr));
      locs.push(std::move(l));
      e.set("location", std::move(locs));
    }
    e.set("serviceProvider", odsRef(ods_));
    if (!defaults.members().empty())
      out_.defaults["Encounter/" + e.getString("id")] = std::move(defaults);
    out_.resources.push_back(std::move(e));
  }

  void respect() {
    hl7v2::Segment obr = m_.first("OBR");
    if (!obr || txt(obr, 3).empty()) {
      reject("OBR-3", "a ReSPECT form without its form id (OBR-3)", "hl7.required");
      return;
    }
    if (txt(obr, 4, 1, 1) != "1382601000000107")
      warn("OBR-4", "the form is not coded as a ReSPECT form (SNOMED 1382601000000107)",
           "hl7.unexpected-form");
    Value cp = O();
    cp.set("resourceType", S("CarePlan"));
    cp.set("id", S(ingest::derivedId("CarePlan", ods_, txt(obr, 3))));
    Value ext = A();
    Value acts = A();
    hl7v2::Segment signedBy;  // the first row naming its clinician (OBX-16)
    for (const hl7v2::Segment& obx : m_.all("OBX")) {
      if (txt(obx, 11) == "D") continue;  // deleted in a correction
      std::string item = txt(obx, 3, 1, 1);
      std::string where = "OBX[" + std::to_string(obx.sequence()) + "]";
      if (!signedBy && !txt(obx, 16, 1, 2).empty()) signedBy = obx;
      auto activity = [&](const char* code, const char* display, std::optional<Value> value,
                          const std::string& description) {
        Value detail = O();
        Value ex = A();
        if (value) ex.push(extension(sd("acp-decision-value"), "valueCodeableConcept", std::move(*value)));
        put(detail, "extension", std::move(ex));
        detail.set("code", concept(cs("acp-item"), code, display));
        detail.set("status", S("in-progress"));
        put(detail, "description", S(description));
        Value a = O();
        a.set("detail", std::move(detail));
        acts.push(std::move(a));
      };
      if (item == "CPR") {
        std::string v = txt(obx, 5, 1, 1);
        activity("resuscitation", "Resuscitation (CPR) decision",
                 coded("acute-cpr", v, txt(obx, 5, 1, 2), where + "-5"),
                 "");
      } else if (item == "PPD") {
        std::string v = txt(obx, 5, 1, 1);
        activity("preferred-place-of-death-1", "Preferred place of death, first choice",
                 coded("acute-place", v, txt(obx, 5, 1, 2), where + "-5"),
                 "");
      } else if (item == "ESCAL") {
        activity("treatment-escalation", "Treatment escalation", std::nullopt, txt(obx, 5));
      } else if (item == "REVIEW") {
        std::string d = fhirDateTime(txt(obx, 5));
        if (d.size() == 10)
          ext.push(extension(sd("acp-review-date"), "valueDate", S(d)));
        else
          warn(where + "-5", "review date is not a date (YYYYMMDD)", "hl7.invalid-date");
      } else if (item == "PRIORITY") {
        activity("priority", "Priority of care (ReSPECT scale)", std::nullopt,
                 txt(obx, 5) + " on the ReSPECT scale (0 = prolonging life, 10 = comfort)");
      } else {
        warn(where + "-3", "observation \"" + item + "\" is not part of the ReSPECT interface and was not used",
             "hl7.unused-observation");
      }
    }
    Value order = orderExtension();
    for (const Value& e : order.items()) ext.push(e);
    put(cp, "extension", std::move(ext));
    Value ids = A();
    Value id = O();
    id.set("system", S(ingest::localIdentifierSystem(ods_) + "/respect"));
    id.set("value", S(txt(obr, 3)));
    ids.push(std::move(id));
    cp.set("identifier", std::move(ids));
    cp.set("status", S("active"));
    cp.set("intent", S("plan"));
    Value cat = A();
    cat.push(concept(ingest::kSnomedSystem, "1382601000000107", "ReSPECT form"));
    cat.push(concept(ingest::kSnomedSystem, "736366004", "Advance care plan"));
    cp.set("category", std::move(cat));
    cp.set("title", S(txt(obr, 25) == "C" ? "ReSPECT form (corrected)" : "ReSPECT form"));
    cp.set("subject", ref("Patient", patientId_));
    std::string made = fhirDateTime(txt(obr, 7));
    if (!made.empty()) cp.set("created", S(made));
    // The clinician who recorded the form is its author (by GMC number); the hospital
    // contributes it.
    if (signedBy) {
      cp.set("author", clinician(signedBy, 16));
      Value contributors = A();
      contributors.push(odsRef(ods_));
      cp.set("contributor", std::move(contributors));
    } else {
      cp.set("author", odsRef(ods_));
    }
    put(cp, "activity", std::move(acts));
    out_.resources.push_back(std::move(cp));
  }

  const hl7v2::Message& m_;
  std::string ods_;
  const ingest::ConceptMaps& maps_;
  ingest::MappedRecord& out_;
  std::string patientId_;
  std::optional<Value> order_;
};

}  // namespace

Result<std::shared_ptr<AcutePartner>> AcutePartner::create(const std::string& dir) {
  auto p = std::make_shared<AcutePartner>();
  Status s = p->maps_.loadDirectory(dir);
  if (!s.isOk()) return s;
  return p;
}

ingest::MappedRecord AcutePartner::mapMessage(const hl7v2::Message& msg,
                                              const std::string& ods) const {
  ingest::MappedRecord out;
  out.recordId = msg.header().controlId;
  out.content = std::string(msg.bytes());
  out.overlayTypes = {"Patient", "Encounter"};  // a field not sent is unchanged
  // MSH-10 is unique per sender (MSH-3 application at MSH-4 facility): a resend is
  // recognised by it and never applied twice.
  const hl7v2::Header& h = msg.header();
  if (!h.controlId.empty())
    out.deliveryKey = "hl7v2|" + h.sendingApplication.namespaceId + "|" +
                      h.sendingFacility.namespaceId + "|" + h.controlId;
  Mapper(msg, ods, maps_, out).run();
  return out;
}

bool AcutePartner::map(std::string_view body, ingest::MappedPush& out, IssueList& issues) const {
  hl7v2::ParseResult parsed = hl7v2::parse(body);
  if (!parsed.ok()) {
    for (const hl7v2::Error& e : parsed.errors.items())
      issues.error("structure", e.segmentId.empty() ? "" : e.segmentId, e.message, "hl7.malformed");
    if (issues.empty()) issues.error("structure", "", "the message cannot be read", "hl7.malformed");
    return false;
  }
  return pushFor(parsed.message, out, issues);
}

bool AcutePartner::pushFor(const hl7v2::Message& msg, ingest::MappedPush& out,
                           IssueList& issues) const {
  const hl7v2::Header& h = msg.header();
  out.partner = "hl7v2";
  out.pushId = h.controlId;
  out.sourceOds = h.sendingFacility.namespaceId;
  out.sourceSystem = h.sendingApplication.namespaceId;
  out.contentType = "application/hl7-v2";
  if (out.sourceOds.empty()) {
    issues.error("required", "MSH-4", "no sending facility (MSH-4)", "hl7.required");
    return false;
  }
  out.records.push_back(mapMessage(msg, out.sourceOds));
  return true;
}

}  // namespace acp::mappings::acute
