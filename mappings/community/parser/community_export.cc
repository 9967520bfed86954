#include "mappings/community/parser/community_export.h"

#include <array>
#include <utility>

namespace acp::mappings::community {

namespace {

// A code list: enum value i has code kCodes[i] (enums are declared in code order).
template <typename E, size_t N>
const char* codeOf(const std::array<const char*, N>& codes, E v) {
  auto i = static_cast<size_t>(v);
  return i < N ? codes[i] : "";
}

template <typename E, size_t N>
std::optional<E> parseCode(const std::array<const char*, N>& codes, std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (s == codes[i]) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<const char*, 8> kNhsNumberStatus = {"01", "02", "03", "04",
                                                         "05", "06", "07", "08"};
constexpr std::array<const char*, 4> kGender = {"male", "female", "other", "unknown"};
constexpr std::array<const char*, 2> kAddressUse = {"home", "temp"};
constexpr std::array<const char*, 4> kCarePlanStatus = {"draft", "active", "completed", "revoked"};
constexpr std::array<const char*, 4> kCarePlanType = {"acp", "symptom", "transition", "general"};
constexpr std::array<const char*, 3> kRegBody = {"NMC", "GMC", "HCPC"};
constexpr std::array<const char*, 6> kDecisionKind = {"cpr",  "ppc",         "ppd",
                                                      "ppd2", "ventilation", "hospital-transfer"};
constexpr std::array<const char*, 4> kActivityStatus = {"planned", "in-progress", "completed",
                                                        "cancelled"};
constexpr std::array<const char*, 3> kConsentSharing = {"yes", "no", "withdrawn"};
constexpr std::array<const char*, 5> kContactType = {"home-visit", "telephone", "clinic",
                                                     "school-visit", "video"};
constexpr std::array<const char*, 5> kStaffRole = {"CNS", "physio", "OT", "HCA", "doctor"};
constexpr std::array<const char*, 3> kContactOutcome = {"attended", "did-not-attend", "cancelled"};

bool digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

int daysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

// "YYYY-MM-DD" at the start of `s`; false when malformed or not a calendar date.
bool readDate(std::string_view s, Date& d) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s, 0, 4, d.year) || !digits(s, 5, 2, d.month) || !digits(s, 8, 2, d.day)) {
    return false;
  }
  return d.year >= 1 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
         d.day <= daysInMonth(d.year, d.month);
}

// An optional timezone ("", "Z", "+hh:mm", "-hh:mm") making up all of `s`.
bool readZone(std::string_view s, std::optional<int>& offset) {
  if (s.empty()) {
    offset.reset();
    return true;
  }
  if (s == "Z") {
    offset = 0;
    return true;
  }
  int h = 0, m = 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !digits(s, 1, 2, h) ||
      !digits(s, 4, 2, m) || m > 59 || h * 60 + m > 14 * 60) {
    return false;
  }
  offset = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
  return true;
}

}  // namespace

const char* code(NhsNumberStatus v) { return codeOf(kNhsNumberStatus, v); }
const char* code(Gender v) { return codeOf(kGender, v); }
const char* code(AddressUse v) { return codeOf(kAddressUse, v); }
const char* code(CarePlanStatus v) { return codeOf(kCarePlanStatus, v); }
const char* code(CarePlanType v) { return codeOf(kCarePlanType, v); }
const char* code(RegBody v) { return codeOf(kRegBody, v); }
const char* code(DecisionKind v) { return codeOf(kDecisionKind, v); }
const char* code(ActivityStatus v) { return codeOf(kActivityStatus, v); }
const char* code(ConsentSharing v) { return codeOf(kConsentSharing, v); }
const char* code(ContactType v) { return codeOf(kContactType, v); }
const char* code(StaffRole v) { return codeOf(kStaffRole, v); }
const char* code(ContactOutcome v) { return codeOf(kContactOutcome, v); }

std::optional<NhsNumberStatus> parseNhsNumberStatus(std::string_view s) {
  return parseCode<NhsNumberStatus>(kNhsNumberStatus, s);
}
std::optional<Gender> parseGender(std::string_view s) { return parseCode<Gender>(kGender, s); }
std::optional<AddressUse> parseAddressUse(std::string_view s) {
  return parseCode<AddressUse>(kAddressUse, s);
}
std::optional<CarePlanStatus> parseCarePlanStatus(std::string_view s) {
  return parseCode<CarePlanStatus>(kCarePlanStatus, s);
}
std::optional<CarePlanType> parseCarePlanType(std::string_view s) {
  return parseCode<CarePlanType>(kCarePlanType, s);
}
std::optional<RegBody> parseRegBody(std::string_view s) { return parseCode<RegBody>(kRegBody, s); }
std::optional<DecisionKind> parseDecisionKind(std::string_view s) {
  return parseCode<DecisionKind>(kDecisionKind, s);
}
std::optional<ActivityStatus> parseActivityStatus(std::string_view s) {
  return parseCode<ActivityStatus>(kActivityStatus, s);
}
std::optional<ConsentSharing> parseConsentSharing(std::string_view s) {
  return parseCode<ConsentSharing>(kConsentSharing, s);
}
std::optional<ContactType> parseContactType(std::string_view s) {
  return parseCode<ContactType>(kContactType, s);
}
std::optional<StaffRole> parseStaffRole(std::string_view s) {
  return parseCode<StaffRole>(kStaffRole, s);
}
std::optional<ContactOutcome> parseContactOutcome(std::string_view s) {
  return parseCode<ContactOutcome>(kContactOutcome, s);
}

const std::vector<std::string_view>& decisionValues(DecisionKind kind) {
  static const std::vector<std::string_view> kCpr = {"attempt", "dnacpr", "modified"};
  static const std::vector<std::string_view> kPlace = {
      "home",      "hospice", "hospital",  "other-home",
      "care-home", "other",   "undecided", "declined-to-discuss"};
  static const std::vector<std::string_view> kVentilation = {"full", "non-invasive-only", "none"};
  static const std::vector<std::string_view> kTransfer = {"yes", "only-for-symptoms", "no"};
  switch (kind) {
    case DecisionKind::kCpr:
      return kCpr;
    case DecisionKind::kPpc:
    case DecisionKind::kPpd:
    case DecisionKind::kPpd2:
      return kPlace;
    case DecisionKind::kVentilation:
      return kVentilation;
    case DecisionKind::kHospitalTransfer:
      return kTransfer;
  }
  return kCpr;  // unreachable: every kind is handled above
}

bool decisionValueAllowed(DecisionKind kind, std::string_view value) {
  for (std::string_view v : decisionValues(kind)) {
    if (v == value) return true;
  }
  return false;
}

std::optional<Date> parseXsDate(std::string_view s) {
  Date d;
  std::optional<int> zone;
  if (!readDate(s, d) || !readZone(s.substr(10), zone)) return std::nullopt;
  d.text = std::string(s);
  return d;
}

std::optional<DateTime> parseXsDateTime(std::string_view s) {
  DateTime t;
  if (!readDate(s, t.date) || s.size() < 19 || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      !digits(s, 11, 2, t.hour) || !digits(s, 14, 2, t.minute) || !digits(s, 17, 2, t.second) ||
      t.hour > 23 || t.minute > 59 || t.second > 59) {
    return std::nullopt;
  }
  size_t at = 19;
  if (at < s.size() && s[at] == '.') {
    size_t end = at + 1;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    if (end == at + 1) return std::nullopt;  // "." needs at least one digit
    t.fraction = std::string(s.substr(at + 1, end - at - 1));
    at = end;
  }
  if (!readZone(s.substr(at), t.utcOffsetMinutes)) return std::nullopt;
  t.text = std::string(s);
  return t;
}

}  // namespace acp::mappings::community
