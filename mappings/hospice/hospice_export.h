// The Willowbrook Children's Hospice record export (formats 1.2 and 1.1) as typed data:
// what the hospice sends (../shared/partners/hospice-export.md), before any FHIR. Dates are
// already converted from dd/mm/yyyy to ISO (YYYY-MM-DD) by the parser, and ISO date-times to
// FHIR dateTimes (a time without a zone read as Europe/London, with a warning). Codes that the
// mapper translates with the ConceptMaps (places, relationships, episode types) are kept as
// sent, known or not: the mapper keeps an unknown one as text with a warning. The parser
// itself rejects the record for a plan status or resuscitation decision the export version
// does not define (clinical safety). An absent optional field is an empty string / empty
// optional. Plain data.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/core/issues.h"

namespace acp::mappings::hospice {

struct Address {
  std::string line1, line2, town, county, postcode;
};

struct Contact {
  std::string name, relationship, phone;
  std::optional<bool> parentalResponsibility;
};

struct Child {
  std::string nhsNumber;  // as sent (may hold spaces); "" when absent
  std::optional<bool> nhsNumberVerified;
  std::string forename, surname, preferredName;
  std::string dateOfBirth;  // ISO
  std::string sex;          // M F I U
  std::optional<Address> address;
  std::string gpOds, gpName;
  std::vector<Contact> contacts;
};

struct Diagnosis {
  std::string description, snomed;
};

struct Person {
  std::string name, role, organisation, phone, gmcNumber;
};

struct Resuscitation {
  std::string decision;  // FULL DNACPR MODIFIED (1.2) or Y N (1.1); never empty
  std::string details;
  std::string decidedOn;  // ISO
  std::optional<Person> decidedBy;
};

struct SymptomPlan {
  std::string symptom, plan;
};

struct Consent {
  bool given = false;
  std::string recordedOn;  // ISO
  std::string by;          // young person | parent | best interests
};

struct AdvanceCarePlan {
  std::string planId;
  int version = 0;
  std::string status;  // DRAFT AGREED SUPERSEDED WITHDRAWN
  std::string agreedOn, reviewBy;  // ISO
  std::string preferredPlaceOfCare;
  std::string preferredPlaceOfDeath1, preferredPlaceOfDeath2;
  std::optional<Resuscitation> resuscitation;
  std::string emergencyPlan;
  std::vector<SymptomPlan> symptomPlans;
  std::string wishSpiritual, wishCultural, wishOrganTissueDonation, wishOther;
  std::vector<std::string> discussedWith;
  std::optional<Consent> consentToShare;
};

struct Episode {
  std::string episodeId, type;
  std::string start, end;  // FHIR dateTime ("" when absent or unreadable)
  std::string location;    // HOSPICE HOME, or an unknown code as sent
  std::optional<Person> clinician;
  bool cancelled = false;
};

struct Deceased {
  std::string date;   // FHIR date or dateTime; "" when absent or unreadable (still deceased)
  std::string place;  // place code as sent (not mapped: the mapper reports it)
};

struct Record {
  size_t index = 0;  // position in records[] (for issue locations)
  std::string recordId;
  std::string lastModified;     // as sent
  std::string lastModifiedUtc;  // the same instant in UTC, "yyyymmddhhmmss" (source order)
  Child child;
  std::vector<Diagnosis> diagnoses;
  std::optional<Person> keyWorker;
  std::optional<AdvanceCarePlan> plan;
  std::vector<Episode> episodes;
  std::optional<Deceased> deceased;
  std::string sourceJson;  // the record as received (JSON text), for keeping and replay
  IssueList issues;       // what the parser found; locations like records[0].child.dateOfBirth
  bool rejected = false;  // a required field missing or impossible
};

struct Export {
  std::string version;  // "1.2" or "1.1"
  std::string exportId;
  std::string exportedAt;
  std::string sourceSystem, sourceOds;
  std::vector<Record> records;
};

}  // namespace acp::mappings::hospice
