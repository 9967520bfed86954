#include "bench/ingest_generate.h"

#include <cstdio>
#include <ctime>

namespace acp::bench {

namespace {

// Names as the partners send them: a few with apostrophes, hyphens and non-ASCII letters
// (UTF-8; MSH-18 says UNICODE UTF-8).
const char* const kFamilies[] = {
    "Hartley", "Ahmed",   "O'Neill", "Kowalski", "Nguyen",  "Patel",    "Smith-Jones",
    "Okafor",  "Evans",   "Brown",   "Müller",   "Hughes",  "Khan",     "Williams",
    "Taylor",  "Davies",  "Wilson",  "Roberts",  "Zhang",   "Murphy",   "Ó Briain",
    "Clarke",  "Begum",   "Jackson", "Walker",   "Nowak",   "Thompson", "Ali"};
const char* const kGirls[] = {"Amelia", "Zara", "Olivia", "Isla", "Freya", "Aisha", "Siân",
                              "Zoë",    "Maya", "Ava",    "Lily", "Mia",   "Hana",  "Nia"};
const char* const kBoys[] = {"Oliver", "Noah", "Leo",  "Arthur", "Muhammad", "Oscar", "Rhys",
                             "Jakub",  "Theo", "Finn", "Ethan",  "Dylan",    "Kai",   "Rory"};
const char* const kMiddles[] = {"Rose", "James", "Grace", "Lee", "Mae", "John", "", "", ""};
const char* const kStreets[] = {"Orchard Way", "Mill Lane",     "Castle Street", "Church Road",
                                "Station Road", "Beech Avenue", "Willow Close",  "High Street",
                                "Park View",    "Meadow Rise"};
const char* const kTowns[] = {"Northby", "Southam", "Eastwick", "Westerley", "Brookford"};
const char* const kPractices[][2] = {{"Castle Street Surgery", "X81001"},
                                     {"Northby Health Centre", "X81002"},
                                     {"Brookford Medical Practice", "X81003"},
                                     {"Meadow Rise Surgery", "X81004"}};
const char* const kWards[] = {"WARD3", "WARD5", "PICU", "NEONAT", "WARD7"};
const char* const kServices[] = {"420", "260", "321", "290"};  // treatment function codes
const char* const kConsultants[][3] = {{"C4567890", "Roe", "Sarah"},
                                       {"C1234567", "Ibrahim", "Yusuf"},
                                       {"C7654321", "Fletcher", "Kate"}};
const char* const kRelationships[] = {"MTH", "FTH", "GRD"};
const char* const kDiagnoses[][2] = {{"Spinal muscular atrophy type 1", "64383006"},
                                     {"Duchenne muscular dystrophy", "76670001"},
                                     {"Batten disease", ""}, {"Trisomy 18", "51500006"},
                                     {"Severe hypoxic ischaemic encephalopathy", ""}};
const char* const kHospiceDecisions[] = {"FULL", "DNACPR", "MODIFIED"};
const char* const kHospicePlaces[] = {"HOME", "HOSPICE", "HOSP", "UNDECIDED"};
const char* const kEpisodeTypes[] = {"SHORT_BREAK", "SYMPTOM_CLINIC", "HOME_VISIT"};
const char* const kCommunityCpr[] = {"attempt", "dnacpr", "modified"};
const char* const kCommunityPlaces[] = {"home", "hospice", "hospital", "undecided"};
const char* const kContactTypes[] = {"home-visit", "telephone", "clinic", "school-visit"};

template <typename T, size_t N>
const T& pick(std::mt19937_64& rng, const T (&list)[N]) {
  return list[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}

int between(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

std::string digits(std::mt19937_64& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + between(rng, 0, 9));
  return s;
}

std::string pad(uint64_t v, int width) {
  std::string s = std::to_string(v);
  return s.size() < static_cast<size_t>(width) ? std::string(width - s.size(), '0') + s : s;
}

std::tm utc(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

std::string isoDate(int64_t t) {  // YYYY-MM-DD
  std::tm tm = utc(t);
  char b[48];
  std::snprintf(b, sizeof b, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return b;
}

std::string dmy(int64_t t) {  // dd/mm/yyyy
  std::tm tm = utc(t);
  char b[48];
  std::snprintf(b, sizeof b, "%02d/%02d/%04d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
  return b;
}

std::string isoDateTime(int64_t t) {  // YYYY-MM-DDTHH:MM:SSZ
  std::tm tm = utc(t);
  char b[64];
  std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return b;
}

constexpr int64_t k2026 = 1767225600;  // 2026-01-01T00:00:00Z
constexpr int64_t kDay = 86400;

int64_t birthTime(std::mt19937_64& rng) {  // a child: born 2008..2025
  return k2026 - static_cast<int64_t>(between(rng, 1 * 365, 18 * 365)) * kDay;
}

std::string postcode(std::mt19937_64& rng) {
  static const char* const areas[] = {"NB", "SB", "EW", "WY"};
  std::string pc = pick(rng, areas);
  pc += std::to_string(between(rng, 1, 19)) + " " + std::to_string(between(rng, 1, 9));
  static const char letters[] = "ABDEFGHJLNPQRSTUWXYZ";
  pc += letters[between(rng, 0, 19)];
  pc += letters[between(rng, 0, 19)];
  return pc;
}

std::string jsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string xmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

bool nhsNumberValid(const std::string& d) {
  if (d.size() != 10) return false;
  int sum = 0;
  for (int i = 0; i < 9; ++i) {
    if (d[i] < '0' || d[i] > '9') return false;
    sum += (d[i] - '0') * (10 - i);
  }
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  return check != 10 && d[9] == static_cast<char>('0' + check);
}

std::string nhsNumber(std::mt19937_64& rng) {
  for (;;) {
    std::string d = "999" + digits(rng, 6);
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (d[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11) check = 0;
    if (check == 10) continue;  // no valid number with these nine digits
    return d + static_cast<char>('0' + check);
  }
}

std::string hl7Time(int64_t t) {
  std::tm tm = utc(t);
  char b[64];
  std::snprintf(b, sizeof b, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return b;
}

// ---- ADT ---------------------------------------------------------------------------------

AdtStream::AdtStream(uint64_t seed, int streamId, int patients, std::string controlPrefix)
    : rng_(seed * 1000003 + static_cast<uint64_t>(streamId)),
      streamId_(streamId),
      prefix_(std::move(controlPrefix)),
      clock_(k2026 + 300 * kDay) {
  children_.reserve(patients);
  for (int i = 0; i < patients; ++i) children_.push_back(makeChild(i));
}

AdtStream::Child AdtStream::makeChild(int index) {
  Child c;
  c.mrn = "M" + pad(static_cast<uint64_t>(streamId_) * 100000 + index, 7);
  c.nhs = nhsNumber(rng_);
  c.sex = between(rng_, 0, 1) ? "F" : "M";
  c.family = pick(rng_, kFamilies);
  c.given = c.sex == "F" ? pick(rng_, kGirls) : pick(rng_, kBoys);
  c.middle = pick(rng_, kMiddles);
  if (between(rng_, 0, 3) == 0) c.preferred = c.sex == "F" ? pick(rng_, kGirls) : pick(rng_, kBoys);
  c.title = c.sex == "F" ? "Miss" : "Master";
  c.dob = hl7Time(birthTime(rng_)).substr(0, 8);
  c.houseNumber = std::to_string(between(rng_, 1, 180));
  c.street = pick(rng_, kStreets);
  c.town = pick(rng_, kTowns);
  c.postcode = postcode(rng_);
  c.phone = "07700 900" + digits(rng_, 3);
  const auto& practice = pick(rng_, kPractices);
  c.gpPractice = practice[0];
  c.gpOds = practice[1];
  c.gpCode = "G" + digits(rng_, 7);
  c.gpFamily = pick(rng_, kFamilies);
  c.gpGiven = pick(rng_, kGirls);
  c.parentGiven = pick(rng_, kGirls);
  c.relationship = pick(rng_, kRelationships);
  return c;
}

std::string AdtStream::msh(const char* trigger, const char* structure) {
  std::string t = hl7Time(clock_);
  return "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|" + t + "||ADT^" + trigger + "^" + structure + "|" +
         prefix_ + pad(++seq_, 8) + "|P|2.4|||AL|NE||UNICODE UTF-8\r" + "EVN|" + trigger + "|" +
         t + "\r";
}

std::string AdtStream::pid(const Child& c, bool full) const {
  std::string s = "PID|1||" + c.nhs + "^^^NHS^NH~" + c.mrn + "^^^RX8^MR||" + c.family + "^" +
                  c.given + "^" + c.middle + "^^" + c.title;
  if (full && !c.preferred.empty()) s += "~" + c.family + "^" + c.preferred + "^^^^^P";
  s += "||" + c.dob + "|" + c.sex;
  if (!full) return s + "\r";
  // PID-9, 10 empty; PID-11 address; PID-12 empty; PID-13 phone; PID-14..31 empty; PID-32.
  s += "|||" + c.houseNumber + " " + c.street + "^^" + c.town + "^^" + c.postcode + "||" +
       c.phone + std::string(19, '|') + "01\r";
  return s;
}

std::string AdtStream::pd1nk1(const Child& c) const {
  return "PD1|||" + c.gpPractice + "^^" + c.gpOds + "|" + c.gpCode + "^" + c.gpFamily + "^" +
         c.gpGiven + "\r" + "NK1|1|" + c.family + "^" + c.parentGiven + "|" + c.relationship +
         "|" + c.houseNumber + " " + c.street + "^^" + c.town + "^^" + c.postcode + "|" +
         c.phone + "\r";
}

// PV1 with the fields at the positions the interface defines: 2 class, 3 location,
// 4 admission type, 7 attending doctor, 10 hospital service, 14 admit source, 19 visit number,
// 36 discharge disposition, 37 discharged to, 44 admit time, 45 discharge time.
std::string AdtStream::pv1(const Child& c, bool discharge, int64_t dischargeAt) const {
  std::vector<std::string> f(46);
  f[1] = "1";
  f[2] = "I";
  f[3] = c.ward + "^B" + c.bed + "^1^RX8";
  f[4] = "22";
  f[7] = c.consultant;
  f[10] = c.service;
  f[14] = "19";
  f[19] = c.openVisit;
  f[44] = hl7Time(c.admitted);
  if (discharge) {
    f[36] = "19";
    f[37] = dischargeAt % 3 == 0 ? "HOSPICE" : "HOME";
    f[45] = hl7Time(dischargeAt);
  }
  size_t last = discharge ? 45 : 44;
  std::string s = "PV1";
  for (size_t i = 1; i <= last; ++i) s += "|" + f[i];
  return s + "\r";
}

std::string AdtStream::next(std::string* event) {
  clock_ += between(rng_, 1, 600);
  Child& c = children_[std::uniform_int_distribution<size_t>(0, children_.size() - 1)(rng_)];
  int roll = between(rng_, 1, 100);
  std::string trigger = roll <= 30 ? "A01" : roll <= 50 ? "A03" : roll <= 85 ? "A08" : "A31";
  if (trigger == "A03" && c.openVisit.empty()) trigger = "A01";  // nothing to discharge
  if (trigger == "A08" && c.openVisit.empty()) trigger = "A31";  // no visit to update
  if (event) *event = trigger;
  std::string m;
  if (trigger == "A01") {
    c.openVisit = "S" + pad(static_cast<uint64_t>(streamId_) * 10000000 + ++visits_, 9);
    c.admitted = clock_ - between(rng_, 0, 1800);
    c.ward = pick(rng_, kWards);
    c.bed = std::to_string(between(rng_, 1, 24));
    c.service = pick(rng_, kServices);
    const auto& doc = pick(rng_, kConsultants);
    c.consultant = std::string(doc[0]) + "^" + doc[1] + "^" + doc[2] + "^^^Dr";
    m = msh("A01", "ADT_A01") + pid(c, true) + pd1nk1(c) + pv1(c, false, 0);
  } else if (trigger == "A03") {
    m = msh("A03", "ADT_A03") + pid(c, false) + pv1(c, true, clock_ - between(rng_, 0, 600));
    c.openVisit.clear();
  } else if (trigger == "A08") {
    if (between(rng_, 0, 2) == 0) c.phone = "07700 900" + digits(rng_, 3);
    if (between(rng_, 0, 9) == 0) c.houseNumber = std::to_string(between(rng_, 1, 180));
    m = msh("A08", "ADT_A01") + pid(c, true) + pd1nk1(c) + pv1(c, false, 0);
  } else {  // A31: person only
    if (between(rng_, 0, 2) == 0) c.phone = "07700 900" + digits(rng_, 3);
    m = msh("A31", "ADT_A05") + pid(c, true) + pd1nk1(c) + "PV1|1|N\r";
  }
  return m;
}

std::string respectMessage(std::mt19937_64& rng, int index, const std::string& controlId) {
  std::string nhs = nhsNumber(rng);
  std::string mrn = "M" + pad(9000000 + index, 7);
  std::string sex = between(rng, 0, 1) ? "F" : "M";
  std::string given = sex == "F" ? pick(rng, kGirls) : pick(rng, kBoys);
  int64_t t = k2026 + between(rng, 0, 300) * kDay + between(rng, 0, kDay - 1);
  static const char* const cpr[] = {"450475007^For attempted CPR^SCT",
                                    "450476008^Not for attempted CPR^SCT",
                                    "MODIFIED^Modified CPR^L"};
  static const char* const ppd[] = {"HOME^Home^L", "HOSPICE^Hospice^L", "HOSP^Hospital^L",
                                    "UNDECIDED^Undecided^L"};
  std::string s = "MSH|^~\\&|EPR|RX8|ACPGW|NORTHSHIRE|" + hl7Time(t) +
                  "||ORU^R01^ORU_R01|" + controlId + "|P|2.4|||AL|NE||UNICODE UTF-8\r";
  s += "PID|1||" + nhs + "^^^NHS^NH~" + mrn + "^^^RX8^MR||" + pick(rng, kFamilies) + "^" + given +
       "||" + hl7Time(birthTime(rng)).substr(0, 8) + "|" + sex + "\r";
  s += "OBR|1||RSP-" + pad(index, 6) +
       "|1382601000000107^ReSPECT form^SCT|||" + hl7Time(t - 1800) + std::string(18, '|') +
       "F\r";
  s += "OBX|1|CWE|CPR^CPR recommendation^L||" + std::string(pick(rng, cpr)) +
       "||||||F|||||C4567890^Roe^Sarah\r";
  s += "OBX|2|CWE|PPD^Preferred place of death^L||" + std::string(pick(rng, ppd)) + "||||||F\r";
  s += "OBX|3|TX|ESCAL^Treatment escalation^L||Ward-based care and non-invasive ventilation;"
       "\\.br\\no PICU transfer.||||||F\r";
  s += "OBX|4|DT|REVIEW^Review date^L||" + hl7Time(t + 90 * kDay).substr(0, 8) + "||||||F\r";
  s += "OBX|5|NM|PRIORITY^Patient priority^L||" + std::to_string(between(rng, 0, 10)) +
       "||||||F\r";
  return s;
}

// ---- hospice -----------------------------------------------------------------------------

std::string hospiceExport(std::mt19937_64& rng, int exportIndex, int records,
                          const std::vector<std::string>* nhsNumbers) {
  int64_t exported = k2026 + 300 * kDay + exportIndex * 3600;
  std::string s = "{\n  \"exportVersion\": \"1.2\",\n  \"exportId\": \"WB-EXP-B" +
                  pad(exportIndex, 6) + "\",\n  \"exportedAt\": \"" + isoDateTime(exported) +
                  "\",\n  \"source\": {\"system\": \"Willowbrook CareRecord\", \"odsCode\": "
                  "\"8WB01\"},\n  \"records\": [";
  for (int r = 0; r < records; ++r) {
    int id = exportIndex * records + r;
    std::string nhs = nhsNumber(rng);
    if (nhsNumbers) nhs = nhsNumbers->at(static_cast<size_t>(r));
    bool girl = between(rng, 0, 1);
    std::string fore = girl ? pick(rng, kGirls) : pick(rng, kBoys);
    std::string sur = pick(rng, kFamilies);
    int64_t agreed = exported - between(rng, 10, 200) * kDay;
    const auto& dx = pick(rng, kDiagnoses);
    std::string snomed = dx[1];
    s += r ? ",\n    {" : "\n    {";
    s += "\"recordId\": \"WB-" + pad(100000 + id, 6) + "\", \"lastModified\": \"" +
         isoDateTime(exported - between(rng, 60, 86400)) + "\",\n     \"child\": {";
    s += "\"nhsNumber\": \"" + nhs.substr(0, 3) + " " + nhs.substr(3, 3) + " " + nhs.substr(6) +
         "\", \"nhsNumberVerified\": " + (between(rng, 0, 4) ? "true" : "false") +
         ", \"forename\": \"" + jsonEscape(fore) + "\", \"surname\": \"" + jsonEscape(sur) +
         "\", \"dateOfBirth\": \"" + dmy(birthTime(rng)) + "\", \"sex\": \"" +
         (girl ? "F" : "M") + "\",\n       \"address\": {\"line1\": \"" +
         std::to_string(between(rng, 1, 180)) + " " + pick(rng, kStreets) +
         "\", \"town\": \"" + pick(rng, kTowns) + "\", \"postcode\": \"" + postcode(rng) +
         "\"},\n       \"gp\": {\"practiceOdsCode\": \"X81001\", \"practiceName\": \"Castle "
         "Street Surgery\"},\n       \"contacts\": [{\"name\": \"" +
         std::string(pick(rng, kGirls)) + " " + jsonEscape(sur) +
         "\", \"relationship\": \"mother\", \"phone\": \"07700 900" + digits(rng, 3) +
         "\", \"parentalResponsibility\": true}]},\n";
    s += "     \"diagnoses\": [{\"description\": \"" + std::string(dx[0]) + "\"" +
         (snomed.empty() ? "" : ", \"snomed\": \"" + snomed + "\"") + "}],\n";
    s += "     \"keyWorker\": {\"name\": \"Jo Patel\", \"role\": \"Community Nurse "
         "Specialist\", \"organisation\": \"Northshire Community Health NHS Trust\", "
         "\"phone\": \"01632 960001\"},\n";
    s += "     \"advanceCarePlan\": {\"planId\": \"ACP-" + pad(20000 + id, 6) +
         "\", \"version\": " + std::to_string(between(rng, 1, 6)) +
         ", \"status\": \"AGREED\", \"agreedOn\": \"" + dmy(agreed) + "\", \"reviewBy\": \"" +
         dmy(agreed + 90 * kDay) + "\", \"preferredPlaceOfCare\": \"HOME\",\n       "
         "\"preferredPlaceOfDeath\": {\"first\": \"" + pick(rng, kHospicePlaces) +
         "\", \"second\": \"HOSPICE\"},\n       \"resuscitation\": {\"decision\": \"" +
         pick(rng, kHospiceDecisions) +
         "\", \"details\": \"Airway support and oxygen; no chest compressions.\", "
         "\"decidedOn\": \"" + dmy(agreed) + "\", \"decidedBy\": {\"name\": \"Dr S. Roe\", "
         "\"role\": \"Consultant Paediatrician\", \"gmcNumber\": \"7012345\"}},\n       "
         "\"emergencyPlan\": \"Call hospice 24h line first; if seizure > 5 min give buccal "
         "midazolam and call 999.\",\n       \"symptomPlans\": [{\"symptom\": \"seizures\", "
         "\"plan\": \"Buccal midazolam 5 mg, repeat once after 10 min.\"}],\n       "
         "\"wishes\": {\"spiritual\": \"Family would like the chaplain informed.\"},\n       "
         "\"discussedWith\": [\"mother\", \"father\"],\n       \"consentToShare\": "
         "{\"given\": true, \"recordedOn\": \"" + dmy(agreed) + "\", \"by\": \"parent\"}},\n";
    int64_t start = exported - between(rng, 20, 120) * kDay;
    s += "     \"episodes\": [{\"episodeId\": \"E-" + pad(500000 + id, 6) + "\", \"type\": \"" +
         pick(rng, kEpisodeTypes) + "\", \"start\": \"" + isoDateTime(start) +
         "\", \"end\": \"" + isoDateTime(start + between(rng, 1, 72) * 3600) +
         "\", \"location\": \"HOSPICE\", \"clinician\": {\"name\": \"Sam Idris\", \"role\": "
         "\"Staff Nurse\"}}]}";
  }
  s += "\n  ]\n}\n";
  return s;
}

// ---- community ---------------------------------------------------------------------------

std::string communityExport(std::mt19937_64& rng, int docIndex, int patients,
                            const std::vector<std::string>* nhsNumbers) {
  int64_t generated = k2026 + 300 * kDay + docIndex * 3600;
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CommunityExport "
                  "xmlns=\"urn:northshire:community:export:1\" generated=\"" +
                  isoDateTime(generated) + "\" trust=\"RX9\" batchId=\"RX9-B" +
                  pad(docIndex, 6) + "\">\n";
  for (int p = 0; p < patients; ++p) {
    int id = docIndex * patients + p;
    bool girl = between(rng, 0, 1);
    std::string given = girl ? pick(rng, kGirls) : pick(rng, kBoys);
    std::string middle = pick(rng, kMiddles);
    if (!middle.empty()) given += " " + middle;
    int64_t start = generated - between(rng, 10, 200) * kDay;
    s += "  <Patient localId=\"C-" + pad(100000 + id, 6) + "\">\n";
    std::string nhs = nhsNumber(rng);
    if (nhsNumbers) nhs = nhsNumbers->at(static_cast<size_t>(p));
    s += "    <NHSNumber status=\"01\">" + nhs + "</NHSNumber>\n";
    s += "    <Name family=\"" + xmlEscape(pick(rng, kFamilies)) + "\" given=\"" +
         xmlEscape(given) + "\"/>\n";
    s += "    <BirthDate>" + isoDate(birthTime(rng)) + "</BirthDate>\n";
    s += std::string("    <Gender>") + (girl ? "female" : "male") + "</Gender>\n";
    s += "    <Address use=\"home\"><Line>" + std::to_string(between(rng, 1, 180)) + " " +
         pick(rng, kStreets) + "</Line><Line>" + pick(rng, kTowns) + "</Line><PostCode>" +
         postcode(rng) + "</PostCode></Address>\n";
    s += "    <RegisteredGP ods=\"X8100" + std::to_string(between(rng, 1, 4)) + "\"/>\n";
    s += "    <Caseload team=\"Children's Community Nursing\" from=\"" +
         isoDate(start - 400 * kDay) + "\"/>\n";
    s += "    <CarePlan id=\"CP-" + pad(30000 + id, 6) + "\" version=\"" +
         std::to_string(between(rng, 1, 5)) + "\" status=\"active\" type=\"acp\">\n";
    s += "      <Period start=\"" + isoDate(start) + "\"/>\n";
    s += "      <ReviewDate>" + isoDate(start + 90 * kDay) + "</ReviewDate>\n";
    s += "      <Title>Advance care plan</Title>\n";
    s += "      <Author name=\"Jo Patel\" role=\"Community Nurse Specialist\" regBody=\"NMC\" "
         "regNumber=\"12A3456E\"/>\n";
    s += "      <Goal>Remain at home with family, avoiding unplanned admissions.</Goal>\n";
    s += "      <Decision kind=\"cpr\" value=\"" + std::string(pick(rng, kCommunityCpr)) +
         "\">Airway support and oxygen only.</Decision>\n";
    s += "      <Decision kind=\"ppd\" value=\"" + std::string(pick(rng, kCommunityPlaces)) +
         "\"/>\n";
    s += "      <Decision kind=\"ppd2\" value=\"hospice\"/>\n";
    s += "      <Decision kind=\"ventilation\" value=\"non-invasive-only\"/>\n";
    s += "      <Activity code=\"CCN01\" status=\"in-progress\">Weekly symptom review at "
         "home</Activity>\n";
    s += "      <Activity code=\"PHY01\" status=\"in-progress\">Chest physiotherapy twice "
         "weekly</Activity>\n";
    s += "      <Consent sharing=\"yes\" date=\"" + isoDate(start) + "\"/>\n";
    s += "    </CarePlan>\n";
    s += "    <Contact id=\"V-" + pad(400000 + id, 6) + "\" date=\"" +
         isoDateTime(generated - between(rng, 1, 30) * kDay) + "\" minutes=\"" +
         std::to_string(between(rng, 15, 90)) + "\" type=\"" + pick(rng, kContactTypes) +
         "\" staffRole=\"CNS\" outcome=\"attended\">Settled week; parents confident with "
         "suction.</Contact>\n";
    s += "  </Patient>\n";
  }
  s += "</CommunityExport>\n";
  return s;
}

}  // namespace acp::bench
