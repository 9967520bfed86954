#include "mappings/hospice/hospice_parser.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <set>

#include "gateway/core/json.h"
#include "gateway/ingest/london_time.h"

namespace acp::mappings::hospice {

namespace london = ingest::london;

namespace {

using json::Value;

bool leapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysIn(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return days[m - 1] + (m == 2 && leapYear(y) ? 1 : 0);
}

bool digitsAt(const std::string& s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// An ISO 8601 date or date-time in the forms fhirDateTimeFromIso() accepts.
struct IsoDateTime {
  int y = 0, mo = 0, d = 0;
  bool hasTime = false;
  int h = 0, mi = 0, s = 0;
  std::string fraction;           // digits after the point
  std::optional<int> offset;      // minutes east of UTC; nullopt when no zone was sent
  bool zulu = false;              // the zone was "Z"
};

std::optional<IsoDateTime> readIso(const std::string& s) {
  IsoDateTime t;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !digitsAt(s, 0, 4, t.y) ||
      !digitsAt(s, 5, 2, t.mo) || !digitsAt(s, 8, 2, t.d))
    return std::nullopt;
  if (t.y < 1 || t.mo < 1 || t.mo > 12 || t.d < 1 || t.d > daysIn(t.y, t.mo)) return std::nullopt;
  if (s.size() == 10) return t;
  if (s[10] != 'T' || s.size() < 16 || s[13] != ':' || !digitsAt(s, 11, 2, t.h) ||
      !digitsAt(s, 14, 2, t.mi) || t.h > 23 || t.mi > 59)
    return std::nullopt;
  t.hasTime = true;
  size_t at = 16;
  if (at < s.size() && s[at] == ':') {
    if (!digitsAt(s, at + 1, 2, t.s) || t.s > 59) return std::nullopt;
    at += 3;
    if (at < s.size() && s[at] == '.') {
      size_t end = at + 1;
      while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
      if (end == at + 1) return std::nullopt;
      t.fraction = s.substr(at + 1, end - at - 1);
      at = end;
    }
  }
  std::string zone = s.substr(at);
  if (zone.empty()) return t;
  if (zone == "Z") {
    t.offset = 0;
    t.zulu = true;
    return t;
  }
  int zh = 0, zm = 0;
  bool colon = zone.size() == 6 && zone[3] == ':';
  if ((zone[0] != '+' && zone[0] != '-') || (zone.size() != 5 && !colon) ||
      !digitsAt(zone, 1, 2, zh) || !digitsAt(zone, colon ? 4 : 3, 2, zm) || zm > 59 ||
      zh * 60 + zm > 14 * 60)
    return std::nullopt;
  t.offset = (zone[0] == '-' ? -1 : 1) * (zh * 60 + zm);
  return t;
}

// Reads one record's fields, collecting issues on the record.
class RecordReader {
 public:
  RecordReader(Record& r, const std::string& version) : r_(r), version_(version) {}

  std::string base() const { return "records[" + std::to_string(r_.index) + "]"; }

  // Reports members of `obj` not in `known` as unused input.
  void unknownMembers(const Value& obj, const std::set<std::string>& known,
                      const std::string& where) {
    for (const auto& [k, v] : obj.members())
      if (!known.count(k))
        r_.issues.warning("informational", where + "." + k,
                          "field \"" + k + "\" is not part of export " + version_ +
                              " and was not used",
                          "hospice.unused-field");
  }

  // A string member; wrong type → warning (or rejection when required) and "".
  std::string text(const Value& obj, const char* key, const std::string& where, bool required) {
    const Value* v = obj.find(key);
    if (!v || v->isNull() || (v->isString() && trimmed(v->text()).empty())) {
      if (required) reject(where + "." + key, std::string(key) + " is required", "hospice.required");
      return "";
    }
    if (!v->isString()) {
      if (required)
        reject(where + "." + key, std::string(key) + " must be a string", "hospice.type");
      else
        drop(where + "." + key, std::string(key) + " must be a string", "hospice.type");
      return "";
    }
    return trimmed(v->text());
  }

  std::optional<bool> boolean(const Value& obj, const char* key, const std::string& where) {
    const Value* v = obj.find(key);
    if (!v || v->isNull()) return std::nullopt;
    if (!v->isBool()) {
      drop(where + "." + key, std::string(key) + " must be true or false", "hospice.type");
      return std::nullopt;
    }
    return v->boolean();
  }

  // A dd/mm/yyyy date; impossible → rejection when required, otherwise dropped.
  std::string date(const Value& obj, const char* key, const std::string& where, bool required) {
    std::string raw = text(obj, key, where, required);
    if (raw.empty()) return "";
    std::string iso = isoFromDayMonthYear(raw);
    if (iso.empty()) {
      std::string msg = std::string(key) + " is not a real date in the form dd/mm/yyyy";
      if (required)
        reject(where + "." + key, msg, "hospice.invalid-date");
      else
        drop(where + "." + key, msg, "hospice.invalid-date");
    }
    return iso;
  }

  // A code from a fixed list; unknown → warning and "" (or rejection when required).
  std::string code(const Value& obj, const char* key, const std::string& where,
                   const std::set<std::string>& allowed, bool required) {
    std::string c = text(obj, key, where, required);
    if (c.empty()) return "";
    if (!allowed.count(c)) {
      std::string msg = "\"" + std::string(key) + "\" has a value export " + version_ +
                        " does not define";
      if (required)
        reject(where + "." + key, msg, "hospice.unknown-code");
      else
        drop(where + "." + key, msg, "hospice.unknown-code");
      return "";
    }
    return c;
  }

  const Value* object(const Value& obj, const char* key, const std::string& where) {
    const Value* v = obj.find(key);
    if (!v || v->isNull()) return nullptr;
    if (!v->isObject()) {
      drop(where + "." + key, std::string(key) + " must be an object", "hospice.type");
      return nullptr;
    }
    return v;
  }

  const Value* array(const Value& obj, const char* key, const std::string& where) {
    const Value* v = obj.find(key);
    if (!v || v->isNull()) return nullptr;
    if (!v->isArray()) {
      drop(where + "." + key, std::string(key) + " must be a list", "hospice.type");
      return nullptr;
    }
    return v;
  }

  // A code kept as sent even when the list does not hold it (the mapper keeps it as text):
  // an unknown one is reported here when `report`, otherwise by the mapper's ConceptMap.
  std::string keptCode(const Value& obj, const char* key, const std::string& where,
                       const std::set<std::string>& allowed, bool report) {
    std::string c = text(obj, key, where, false);
    if (!c.empty() && !allowed.count(c) && report)
      r_.issues.warning("code-invalid", where + "." + key,
                        "\"" + std::string(key) + "\" has a value export " + version_ +
                            " does not define (\"" + c + "\"); kept as text",
                        "hospice.unknown-code");
    return c;
  }

  // Content that only export 1.2 defines, found in a 1.1 export: used as 1.2 defines it.
  void versionContent(const std::string& where, const std::string& what) {
    r_.issues.warning("informational", where,
                      what + " is not part of export 1.1; used as export 1.2 defines it",
                      "hospice.version-content");
  }

  void assumedZone(const std::string& where) {
    r_.issues.warning("informational", where,
                      "a time without a time zone: read as UK local time (Europe/London)",
                      "hospice.assumed-time-zone");
  }

  // An ISO 8601 date-time as a FHIR dateTime; unreadable → dropped with a warning.
  std::string dateTime(const Value& obj, const char* key, const std::string& where) {
    std::string raw = text(obj, key, where, false);
    if (raw.empty()) return "";
    bool assumed = false;
    std::string out = fhirDateTimeFromIso(raw, &assumed);
    if (out.empty())
      drop(where + "." + key, std::string(key) + " is not an ISO 8601 date-time",
           "hospice.invalid-date");
    else if (assumed)
      assumedZone(where + "." + key);
    return out;
  }

  void reject(const std::string& where, const std::string& msg, const std::string& code) {
    r_.issues.error("required", where, msg, code);
    r_.rejected = true;
  }
  void drop(const std::string& where, const std::string& msg, const std::string& code) {
    r_.issues.warning("value", where, msg + "; the field was not used", code);
  }

  static std::string trimmed(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
  }

  std::optional<Person> person(const Value& obj, const char* key, const std::string& where) {
    const Value* p = object(obj, key, where);
    if (!p) return std::nullopt;
    std::string w = where + "." + key;
    unknownMembers(*p, {"name", "role", "organisation", "phone", "gmcNumber"}, w);
    Person out{text(*p, "name", w, false), text(*p, "role", w, false),
               text(*p, "organisation", w, false), text(*p, "phone", w, false),
               text(*p, "gmcNumber", w, false)};
    if (out.name.empty() && out.role.empty()) return std::nullopt;
    return out;
  }

  Record& r_;
  const std::string& version_;
};

void readChild(RecordReader& rd, const Value& rec, Record& r) {
  std::string w = rd.base() + ".child";
  const Value* c = rec.find("child");
  if (!c || !c->isObject()) {
    rd.reject(w, "child is required", "hospice.required");
    return;
  }
  rd.unknownMembers(*c, {"nhsNumber", "nhsNumberVerified", "forename", "surname",
                         "preferredName", "dateOfBirth", "sex", "address", "gp", "contacts"},
                    w);
  Child& ch = r.child;
  ch.nhsNumber = rd.text(*c, "nhsNumber", w, false);
  ch.nhsNumberVerified = rd.boolean(*c, "nhsNumberVerified", w);
  ch.forename = rd.text(*c, "forename", w, true);
  ch.surname = rd.text(*c, "surname", w, true);
  ch.preferredName = rd.text(*c, "preferredName", w, false);
  ch.dateOfBirth = rd.date(*c, "dateOfBirth", w, true);
  ch.sex = rd.code(*c, "sex", w, {"M", "F", "I", "U"}, false);
  if (const Value* a = rd.object(*c, "address", w)) {
    std::string aw = w + ".address";
    rd.unknownMembers(*a, {"line1", "line2", "town", "county", "postcode"}, aw);
    ch.address = Address{rd.text(*a, "line1", aw, false), rd.text(*a, "line2", aw, false),
                         rd.text(*a, "town", aw, false), rd.text(*a, "county", aw, false),
                         rd.text(*a, "postcode", aw, false)};
  }
  if (const Value* g = rd.object(*c, "gp", w)) {
    rd.unknownMembers(*g, {"practiceOdsCode", "practiceName"}, w + ".gp");
    ch.gpOds = rd.text(*g, "practiceOdsCode", w + ".gp", false);
    ch.gpName = rd.text(*g, "practiceName", w + ".gp", false);
  }
  if (const Value* list = rd.array(*c, "contacts", w)) {
    size_t i = 0;
    for (const Value& item : list->items()) {
      std::string cw = w + ".contacts[" + std::to_string(i++) + "]";
      if (!item.isObject()) {
        rd.drop(cw, "a contact must be an object", "hospice.type");
        continue;
      }
      rd.unknownMembers(item, {"name", "relationship", "phone", "parentalResponsibility"}, cw);
      // Kept as sent: the mapper keeps a relationship it cannot translate as text.
      Contact k{rd.text(item, "name", cw, false), rd.text(item, "relationship", cw, false),
                rd.text(item, "phone", cw, false), rd.boolean(item, "parentalResponsibility", cw)};
      if (k.name.empty() && k.phone.empty()) {
        rd.drop(cw, "a contact without name or phone", "hospice.empty-contact");
        continue;
      }
      ch.contacts.push_back(std::move(k));
    }
  }
}

void readPlan(RecordReader& rd, const Value& rec, Record& r, const std::string& version) {
  const Value* p = rd.object(rec, "advanceCarePlan", rd.base());
  if (!p) return;
  std::string w = rd.base() + ".advanceCarePlan";
  rd.unknownMembers(*p, {"planId", "version", "status", "agreedOn", "reviewBy",
                         "preferredPlaceOfCare", "preferredPlaceOfDeath", "resuscitation",
                         "emergencyPlan", "symptomPlans", "wishes", "discussedWith",
                         "consentToShare"},
                    w);
  AdvanceCarePlan plan;
  // Without its id, version and status a plan cannot be placed: the record is rejected
  // rather than a plan of unknown standing shown to anyone.
  plan.planId = rd.text(*p, "planId", w, true);
  const Value* ver = p->find("version");
  if (!ver || !ver->isNumber() || ver->text().find_first_not_of("0123456789") != std::string::npos ||
      ver->text().size() > 9) {
    rd.reject(w + ".version", "version must be a whole number", "hospice.required");
  } else {
    plan.version = std::stoi(ver->text());
  }
  plan.status = rd.code(*p, "status", w, {"DRAFT", "AGREED", "SUPERSEDED", "WITHDRAWN"}, true);
  plan.agreedOn = rd.date(*p, "agreedOn", w, false);
  plan.reviewBy = rd.date(*p, "reviewBy", w, false);
  // Place codes are kept as sent, known or not: a preference is a clinical decision, and the
  // mapper keeps a code it cannot translate as text (with a warning), never drops it.
  plan.preferredPlaceOfCare = rd.text(*p, "preferredPlaceOfCare", w, false);
  if (const Value* d = rd.object(*p, "preferredPlaceOfDeath", w)) {
    std::string dw = w + ".preferredPlaceOfDeath";
    rd.unknownMembers(*d, {"first", "second"}, dw);
    plan.preferredPlaceOfDeath1 = rd.text(*d, "first", dw, false);
    plan.preferredPlaceOfDeath2 = rd.text(*d, "second", dw, false);
    if (version == "1.1" && !plan.preferredPlaceOfDeath2.empty())
      rd.versionContent(dw + ".second", "preferredPlaceOfDeath.second");
  }
  if (const Value* res = rd.object(*p, "resuscitation", w)) {
    std::string rw = w + ".resuscitation";
    rd.unknownMembers(*res, {"decision", "details", "decidedOn", "decidedBy"}, rw);
    Resuscitation rs;
    rs.decision = rd.text(*res, "decision", rw, false);
    rs.details = rd.text(*res, "details", rw, false);
    rs.decidedOn = rd.date(*res, "decidedOn", rw, false);
    rs.decidedBy = rd.person(*res, "decidedBy", rw);
    // Clinical safety: a resuscitation decision that cannot be read is never stored in part
    // (the plan would be shown without it): the record is rejected and kept for the
    // integration team, as for a plan of unknown status.
    const std::set<std::string> decisions =
        version == "1.1" ? std::set<std::string>{"Y", "N"}
                         : std::set<std::string>{"FULL", "DNACPR", "MODIFIED"};
    if (!rs.decision.empty() && !decisions.count(rs.decision)) {
      rd.reject(rw + ".decision",
                "resuscitation decision \"" + rs.decision + "\" is not defined by export " +
                    version + ": a resuscitation decision that cannot be read is never stored",
                "hospice.unknown-code");
    } else if (rs.decision.empty() &&
               std::any_of(res->members().begin(), res->members().end(),
                           [](const auto& m) { return !m.second.isNull(); })) {
      rd.reject(rw + ".decision",
                "a resuscitation section without a decision cannot be read and is never stored",
                "hospice.required");
    } else if (!rs.decision.empty()) {
      plan.resuscitation = std::move(rs);
    }
  }
  plan.emergencyPlan = rd.text(*p, "emergencyPlan", w, false);
  if (const Value* list = rd.array(*p, "symptomPlans", w)) {
    size_t i = 0;
    for (const Value& item : list->items()) {
      std::string sw = w + ".symptomPlans[" + std::to_string(i++) + "]";
      if (!item.isObject()) {
        rd.drop(sw, "a symptom plan must be an object", "hospice.type");
        continue;
      }
      rd.unknownMembers(item, {"symptom", "plan"}, sw);
      SymptomPlan sp{rd.text(item, "symptom", sw, false), rd.text(item, "plan", sw, false)};
      if (!sp.plan.empty()) plan.symptomPlans.push_back(std::move(sp));
    }
  }
  if (const Value* wi = rd.object(*p, "wishes", w)) {
    std::string ww = w + ".wishes";
    rd.unknownMembers(*wi, {"spiritual", "cultural", "organTissueDonation", "other"}, ww);
    plan.wishSpiritual = rd.text(*wi, "spiritual", ww, false);
    plan.wishCultural = rd.text(*wi, "cultural", ww, false);
    plan.wishOrganTissueDonation = rd.text(*wi, "organTissueDonation", ww, false);
    plan.wishOther = rd.text(*wi, "other", ww, false);
  }
  if (const Value* list = rd.array(*p, "discussedWith", w)) {
    for (const Value& item : list->items())
      if (item.isString() && !item.text().empty()) plan.discussedWith.push_back(item.text());
  }
  if (const Value* c = rd.object(*p, "consentToShare", w)) {
    std::string cw = w + ".consentToShare";
    rd.unknownMembers(*c, {"given", "recordedOn", "by"}, cw);
    std::optional<bool> given = rd.boolean(*c, "given", cw);
    if (given) {
      plan.consentToShare = Consent{*given, rd.date(*c, "recordedOn", cw, false),
                                    rd.keptCode(*c, "by", cw,
                                                {"young person", "parent", "best interests"},
                                                true)};
    } else {
      rd.drop(cw + ".given", "consentToShare without \"given\" is treated as no consent",
              "hospice.consent-unclear");
    }
  }
  r.plan = std::move(plan);
}

void readEpisodes(RecordReader& rd, const Value& rec, Record& r, const std::string& version) {
  const Value* list = rd.array(rec, "episodes", rd.base());
  if (!list) return;
  size_t i = 0;
  for (const Value& item : list->items()) {
    std::string w = rd.base() + ".episodes[" + std::to_string(i++) + "]";
    if (!item.isObject()) {
      rd.drop(w, "an episode must be an object", "hospice.type");
      continue;
    }
    rd.unknownMembers(item, {"episodeId", "type", "start", "end", "location", "clinician",
                             "cancelled"},
                      w);
    Episode e;
    e.episodeId = rd.text(item, "episodeId", w, false);
    // The type is kept as sent (the mapper keeps an unknown one as text); STEP_DOWN in 1.1 is
    // used as 1.2 defines it.
    e.type = rd.text(item, "type", w, false);
    if (version == "1.1" && e.type == "STEP_DOWN")
      rd.versionContent(w + ".type", "episode type STEP_DOWN");
    e.start = rd.dateTime(item, "start", w);
    e.end = rd.dateTime(item, "end", w);
    e.location = rd.keptCode(item, "location", w, {"HOSPICE", "HOME"}, true);
    e.clinician = rd.person(item, "clinician", w);
    e.cancelled = rd.boolean(item, "cancelled", w).value_or(false);
    if (e.episodeId.empty()) {
      rd.drop(w, "an episode without episodeId cannot be kept apart from others",
              "hospice.episode-without-id");
      continue;
    }
    r.episodes.push_back(std::move(e));
  }
}

}  // namespace

std::string isoFromDayMonthYear(const std::string& s) {
  if (s.size() != 10 || s[2] != '/' || s[5] != '/') return "";
  for (size_t i : {0, 1, 3, 4, 6, 7, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return "";
  int d = std::stoi(s.substr(0, 2)), m = std::stoi(s.substr(3, 2)), y = std::stoi(s.substr(6, 4));
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || m < 1 || m > 12 || d < 1) return "";
  int max = days[m - 1] + (m == 2 && leapYear(y) ? 1 : 0);
  if (d > max) return "";
  return s.substr(6, 4) + "-" + s.substr(3, 2) + "-" + s.substr(0, 2);
}

std::string fhirDateTimeFromIso(const std::string& iso, bool* zoneAssumed) {
  if (zoneAssumed) *zoneAssumed = false;
  auto t = readIso(iso);
  if (!t) return "";
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02d-%02d", t->y, t->mo, t->d);
  if (!t->hasTime) return date;
  char time[16];
  std::snprintf(time, sizeof time, "T%02d:%02d:%02d", t->h, t->mi, t->s);
  std::string out = std::string(date) + time;
  if (!t->fraction.empty()) out += "." + t->fraction;
  if (t->zulu) return out + "Z";
  int offset = 0;
  if (t->offset) {
    offset = *t->offset;
  } else {
    offset = london::offsetMinutes(t->y, t->mo, t->d, t->h);
    if (zoneAssumed) *zoneAssumed = true;
  }
  return out + london::offsetText(offset);
}

std::string utcStampFromIso(const std::string& iso, bool* zoneAssumed) {
  if (zoneAssumed) *zoneAssumed = false;
  auto t = readIso(iso);
  if (!t) return "";
  int offset = 0;
  if (t->offset) {
    offset = *t->offset;
  } else {
    offset = london::offsetMinutes(t->y, t->mo, t->d, t->h);
    if (zoneAssumed && t->hasTime) *zoneAssumed = true;
  }
  return london::utcStamp(t->y, t->mo, t->d, t->h, t->mi, t->s, offset);
}

bool parseExport(std::string_view body, Export& out, IssueList& issues) {
  json::Value doc;
  json::ParseError err;
  if (!json::parse(body, doc, err)) {
    issues.error("structure", "", "the export is not valid JSON: " + err.message,
                 "hospice.not-json");
    return false;
  }
  if (!doc.isObject()) {
    issues.error("structure", "", "the export must be a JSON object", "hospice.not-an-export");
    return false;
  }
  const Value* version = doc.find("exportVersion");
  out.version = version && version->isString() ? version->text() : "";
  if (out.version != "1.2" && out.version != "1.1") {
    issues.error("not-supported", "exportVersion",
                 "exportVersion must be \"1.2\" or \"1.1\"", "hospice.unsupported-version");
    return false;
  }
  out.exportId = doc.getString("exportId");
  out.exportedAt = doc.getString("exportedAt");
  const Value* source = doc.find("source");
  if (source && source->isObject()) {
    out.sourceSystem = source->getString("system");
    out.sourceOds = source->getString("odsCode");
  }
  if (out.exportId.empty())
    issues.error("required", "exportId", "exportId is required", "hospice.required");
  if (out.sourceOds.empty())
    issues.error("required", "source.odsCode", "source.odsCode is required", "hospice.required");
  const Value* records = doc.find("records");
  if (!records || !records->isArray())
    issues.error("required", "records", "records must be a list", "hospice.required");
  if (issues.hasErrors()) return false;
  for (const auto& [k, v] : doc.members())
    if (k != "exportVersion" && k != "exportId" && k != "exportedAt" && k != "source" &&
        k != "records")
      issues.warning("informational", k, "field \"" + k + "\" is not part of the export and was not used",
                     "hospice.unused-field");
  size_t index = 0;
  for (const Value& rec : records->items()) {
    Record r;
    r.index = index++;
    r.sourceJson = json::write(rec);
    RecordReader rd(r, out.version);
    if (!rec.isObject()) {
      rd.reject(rd.base(), "a record must be an object", "hospice.type");
      out.records.push_back(std::move(r));
      continue;
    }
    rd.unknownMembers(rec, {"recordId", "lastModified", "child", "diagnoses", "keyWorker",
                            "advanceCarePlan", "episodes", "deceased"},
                      rd.base());
    r.recordId = rd.text(rec, "recordId", rd.base(), true);
    r.lastModified = rd.text(rec, "lastModified", rd.base(), true);
    if (!r.lastModified.empty()) {
      // The record's place in the hospice's order of changes (source order of the resources
      // that are not bound to a plan version): unreadable → the record cannot be placed.
      bool assumed = false;
      r.lastModifiedUtc = utcStampFromIso(r.lastModified, &assumed);
      if (r.lastModifiedUtc.empty())
        rd.reject(rd.base() + ".lastModified",
                  "lastModified is not an ISO 8601 date-time: the record cannot be ordered "
                  "against what is stored",
                  "hospice.invalid-date");
      else if (assumed)
        rd.assumedZone(rd.base() + ".lastModified");
    }
    readChild(rd, rec, r);
    if (const Value* list = rd.array(rec, "diagnoses", rd.base())) {
      size_t i = 0;
      for (const Value& item : list->items()) {
        std::string w = rd.base() + ".diagnoses[" + std::to_string(i++) + "]";
        if (!item.isObject()) continue;
        rd.unknownMembers(item, {"description", "snomed"}, w);
        Diagnosis d{rd.text(item, "description", w, false), rd.text(item, "snomed", w, false)};
        if (!d.snomed.empty() && d.snomed.find_first_not_of("0123456789") != std::string::npos) {
          rd.drop(w + ".snomed", "snomed must be a SNOMED CT concept id (digits)",
                  "hospice.invalid-snomed");
          d.snomed.clear();
        }
        if (!d.description.empty() || !d.snomed.empty()) r.diagnoses.push_back(std::move(d));
      }
    }
    r.keyWorker = rd.person(rec, "keyWorker", rd.base());
    readPlan(rd, rec, r, out.version);
    readEpisodes(rd, rec, r, out.version);
    if (const Value* d = rd.object(rec, "deceased", rd.base())) {
      std::string w = rd.base() + ".deceased";
      rd.unknownMembers(*d, {"date", "place"}, w);
      // The date: dd/mm/yyyy (the system's date form) or ISO 8601. Unreadable → the child is
      // still recorded as deceased (deceasedBoolean), with a warning.
      std::string raw = rd.text(*d, "date", w, false), date;
      if (!raw.empty()) {
        bool assumed = false;
        date = isoFromDayMonthYear(raw);
        if (date.empty()) date = fhirDateTimeFromIso(raw, &assumed);
        if (date.empty())
          rd.drop(w + ".date", "date is neither dd/mm/yyyy nor an ISO 8601 date or date-time",
                  "hospice.invalid-date");
        else if (assumed)
          rd.assumedZone(w + ".date");
      }
      r.deceased = Deceased{date, rd.text(*d, "place", w, false)};
    }
    out.records.push_back(std::move(r));
  }
  return true;
}

}  // namespace acp::mappings::hospice
