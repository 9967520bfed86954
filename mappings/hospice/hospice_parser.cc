#include "mappings/hospice/hospice_parser.h"

#include <cctype>
#include <set>

#include "gateway/core/json.h"

namespace acp::mappings::hospice {

namespace {

using json::Value;

bool leapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

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

const std::set<std::string> kPlaces = {"HOME", "HOSPICE", "HOSP", "HOSP_PICU", "OTHER_HOME",
                                       "OTHER", "UNDECIDED", "NOT_DISCUSSED"};

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
      Contact k{rd.text(item, "name", cw, false),
                rd.code(item, "relationship", cw,
                        {"mother", "father", "carer", "foster carer", "grandparent", "sibling",
                         "other"},
                        false),
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
  plan.preferredPlaceOfCare = rd.code(*p, "preferredPlaceOfCare", w, kPlaces, false);
  if (const Value* d = rd.object(*p, "preferredPlaceOfDeath", w)) {
    std::string dw = w + ".preferredPlaceOfDeath";
    if (version == "1.1")
      rd.unknownMembers(*d, {"first"}, dw);
    else
      rd.unknownMembers(*d, {"first", "second"}, dw);
    plan.preferredPlaceOfDeath1 = rd.code(*d, "first", dw, kPlaces, false);
    if (version != "1.1") plan.preferredPlaceOfDeath2 = rd.code(*d, "second", dw, kPlaces, false);
  }
  if (const Value* res = rd.object(*p, "resuscitation", w)) {
    std::string rw = w + ".resuscitation";
    rd.unknownMembers(*res, {"decision", "details", "decidedOn", "decidedBy"}, rw);
    Resuscitation rs;
    rs.decision = rd.code(*res, "decision", rw,
                          version == "1.1" ? std::set<std::string>{"Y", "N"}
                                           : std::set<std::string>{"FULL", "DNACPR", "MODIFIED"},
                          false);
    rs.details = rd.text(*res, "details", rw, false);
    rs.decidedOn = rd.date(*res, "decidedOn", rw, false);
    rs.decidedBy = rd.person(*res, "decidedBy", rw);
    if (!rs.decision.empty()) plan.resuscitation = std::move(rs);
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
                                    rd.code(*c, "by", cw,
                                            {"young person", "parent", "best interests"}, false)};
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
  std::set<std::string> types = {"SHORT_BREAK", "SYMPTOM_CLINIC", "EOL_CARE", "HOME_VISIT",
                                 "BEREAVEMENT"};
  if (version != "1.1") types.insert("STEP_DOWN");
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
    e.type = rd.code(item, "type", w, types, false);
    e.start = rd.text(item, "start", w, false);
    e.end = rd.text(item, "end", w, false);
    e.location = rd.code(item, "location", w, {"HOSPICE", "HOME"}, false);
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
      r.deceased = Deceased{rd.text(*d, "date", w, false), rd.code(*d, "place", w, kPlaces, false)};
    }
    out.records.push_back(std::move(r));
  }
  return true;
}

}  // namespace acp::mappings::hospice
