// Typed source model of the Northshire community nursing export, version 1
// (shared/partners/community-export.md; schema: mappings/community/community-export-1.xsd).
//
// The parser (community_parser.h) fills these structs one Patient at a time; the FHIR mapper
// reads them. Model contract:
//   * For an accepted Patient (no error issue) every required part is present and valid:
//     code lists are enums, dates and dateTimes are checked against the calendar, integers
//     are in range, and every Decision's value is allowed for its kind. Optional parts are
//     std::optional (or empty vectors for repeating ones).
//   * For a rejected Patient the model is best effort: parts that could not be read keep
//     their default values. Use it for reporting (localId, sourceLine) only.
//   * Codes, identifiers, names and dates hold the XML Schema value: xs:token whitespace is
//     collapsed. Free text (goals, decision details, activity descriptions, contact text)
//     is kept exactly as sent; blank free text becomes std::nullopt.
//   * Values the parser does not judge: the NHS number's check digit (the mapper reports a
//     failing Modulus 11 check) and local activity codes (the mapper's ConceptMap reports
//     unknown ones).
// Thread-safety: plain values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acp::mappings::community {

// The export's XML namespace.
inline constexpr const char* kExportNamespace = "urn:northshire:community:export:1";

// xs:date. `text` is the value as sent (whitespace collapsed), e.g. "2015-03-14"; it may carry
// a timezone ("2015-03-14Z"), which is kept in `text` only.
struct Date {
  int year = 0;
  int month = 0;
  int day = 0;
  std::string text;
};

// xs:dateTime, e.g. "2026-11-01T10:15:00Z". Time zones are optional in xs:dateTime (FHIR
// requires one when a time is given: the mapper decides what to do without one).
struct DateTime {
  Date date;  // date.text is empty; `text` holds the whole value
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::string fraction;                 // decimal digits after the point ("" when none), e.g. "250"
  std::optional<int> utcOffsetMinutes;  // +60 for "+01:00", 0 for "Z"; nullopt when absent
  std::string text;
};

enum class NhsNumberStatus {  // NHS Number Status Indicator Code
  kPresentVerified,           // 01
  kPresentNotTraced,          // 02
  kTraceRequired,             // 03
  kTraceNoMatch,              // 04 trace attempted - no match or multiple match found
  kTraceToResolve,            // 05 trace needs to be resolved
  kTraceInProgress,           // 06
  kNotPresentNoTrace,         // 07 number not present and trace not required
  kTracePostponed,            // 08 baby under six weeks old
};
enum class Gender { kMale, kFemale, kOther, kUnknown };
enum class AddressUse { kHome, kTemp };
enum class CarePlanStatus { kDraft, kActive, kCompleted, kRevoked };
enum class CarePlanType { kAcp, kSymptom, kTransition, kGeneral };
enum class RegBody { kNmc, kGmc, kHcpc };
enum class DecisionKind { kCpr, kPpc, kPpd, kPpd2, kVentilation, kHospitalTransfer };
enum class ActivityStatus { kPlanned, kInProgress, kCompleted, kCancelled };
enum class ConsentSharing { kYes, kNo, kWithdrawn };
enum class ContactType { kHomeVisit, kTelephone, kClinic, kSchoolVisit, kVideo };
enum class StaffRole { kCns, kPhysio, kOt, kHca, kDoctor };
enum class ContactOutcome { kAttended, kDidNotAttend, kCancelled };

// CommunityExport's attributes.
struct ExportHeader {
  DateTime generated;
  std::string trust;    // ODS code of the sending trust, e.g. "RX9"
  std::string batchId;  // unique per push
};

struct NhsNumber {
  std::string value;  // 10 digits; the check digit is NOT verified here
  NhsNumberStatus status = NhsNumberStatus::kPresentVerified;
};

struct Name {
  std::string family;
  std::vector<std::string> given;  // @given split on spaces, in order
  std::optional<std::string> preferred;
};

struct Address {
  AddressUse use = AddressUse::kHome;
  std::vector<std::string> lines;  // 1..4
  std::string postCode;
};

struct RegisteredGp {
  std::string ods;  // practice ODS code
};

struct Caseload {
  std::string team;  // free text, e.g. "Children's Community Nursing"
  Date from;
  std::optional<Date> to;
};

struct Period {
  Date start;
  std::optional<Date> end;
};

struct Author {
  std::string name;
  std::string role;
  RegBody regBody = RegBody::kNmc;
  std::string regNumber;
};

struct Decision {
  DecisionKind kind = DecisionKind::kCpr;
  std::string value;                   // a code allowed for `kind` (see decisionValueAllowed)
  std::optional<std::string> details;  // the element's free text
};

struct Activity {
  std::string code;  // the trust's local activity code, possibly unknown (mapper reports)
  ActivityStatus status = ActivityStatus::kPlanned;
  std::optional<std::string> description;
};

struct Consent {
  ConsentSharing sharing = ConsentSharing::kYes;
  Date date;
};

struct CarePlan {
  std::string id;
  int version = 0;
  CarePlanStatus status = CarePlanStatus::kDraft;
  CarePlanType type = CarePlanType::kGeneral;
  Period period;
  Date reviewDate;
  std::string title;
  Author author;
  std::vector<std::string> goals;
  std::vector<Decision> decisions;
  std::vector<Activity> activities;
  Consent consent;
};

struct Contact {
  std::string id;
  DateTime date;
  int minutes = 0;
  ContactType type = ContactType::kHomeVisit;
  StaffRole staffRole = StaffRole::kCns;
  ContactOutcome outcome = ContactOutcome::kAttended;
  std::optional<std::string> text;
};

struct Patient {
  std::string localId;  // empty when the attribute is missing (the Patient is rejected)
  long sourceLine = 0;  // 1-based line of the <Patient> start tag in the document
  NhsNumber nhsNumber;
  Name name;
  Date birthDate;
  Gender gender = Gender::kUnknown;
  Address address;
  RegisteredGp registeredGp;
  Caseload caseload;
  std::vector<CarePlan> carePlans;
  std::vector<Contact> contacts;
};

// Codes as they appear in the export (e.g. code(Gender::kFemale) == "female",
// code(NhsNumberStatus::kPresentVerified) == "01", code(DecisionKind::kHospitalTransfer) ==
// "hospital-transfer").
const char* code(NhsNumberStatus v);
const char* code(Gender v);
const char* code(AddressUse v);
const char* code(CarePlanStatus v);
const char* code(CarePlanType v);
const char* code(RegBody v);
const char* code(DecisionKind v);
const char* code(ActivityStatus v);
const char* code(ConsentSharing v);
const char* code(ContactType v);
const char* code(StaffRole v);
const char* code(ContactOutcome v);

// The reverse: nullopt for a string that is not exactly one of the codes.
std::optional<NhsNumberStatus> parseNhsNumberStatus(std::string_view s);
std::optional<Gender> parseGender(std::string_view s);
std::optional<AddressUse> parseAddressUse(std::string_view s);
std::optional<CarePlanStatus> parseCarePlanStatus(std::string_view s);
std::optional<CarePlanType> parseCarePlanType(std::string_view s);
std::optional<RegBody> parseRegBody(std::string_view s);
std::optional<DecisionKind> parseDecisionKind(std::string_view s);
std::optional<ActivityStatus> parseActivityStatus(std::string_view s);
std::optional<ConsentSharing> parseConsentSharing(std::string_view s);
std::optional<ContactType> parseContactType(std::string_view s);
std::optional<StaffRole> parseStaffRole(std::string_view s);
std::optional<ContactOutcome> parseContactOutcome(std::string_view s);

// The decision codes the specification allows for `kind`, in specification order.
const std::vector<std::string_view>& decisionValues(DecisionKind kind);
bool decisionValueAllowed(DecisionKind kind, std::string_view value);

// Strict xs:date / xs:dateTime readers: no surrounding blanks, four-digit years 0001..9999,
// the day checked against the month (leap years included), hours 00..23, seconds 00..59,
// offsets "Z" or ±hh:mm within ±14:00. nullopt when `s` is not such a value. (Stricter than
// XML Schema, which also allows longer or negative years and 24:00:00: a value the schema
// accepts but these refuse rejects its Patient with community.value.)
std::optional<Date> parseXsDate(std::string_view s);
std::optional<DateTime> parseXsDateTime(std::string_view s);

}  // namespace acp::mappings::community
