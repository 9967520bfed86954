// The consolidated advance care plan of one child: one answer per decision, with who said it,
// when, in which plan, and every other source's differing value ($acp-summary; the rules for
// the clinical safety officer are in docs/acp-summary.md).
//
// Input: everything stored about the child that a plan is made of — every CarePlan of the
// Patient (any status), the CareTeams they name, the Consents. Output: a FHIR Parameters
// resource (conformance/acp/OperationDefinition-acp-summary.json):
//   patient          the Patient
//   item (1..*)      one per decision: code (acp-item), [symptom], current?, draft*, differs*
//     current / draft / differs: value[x], source (ODS), author?, date?, carePlan (versioned)
//   disagreements    how many items have a differing value
//   withheld (0..*)  a plan not shared with this reader: carePlan, source (ODS), status,
//                    contact (its key worker, when its care team names one), reason
// Rules:
// - Only advance care plans count (category SNOMED 736366004 Advance care plan, or the
//   ReSPECT form 1382601000000107).
// - One plan in force per source: when a source has several active advance care plans for
//   the child (a new ReSPECT form, a hospice record's new plan), its most recently agreed one
//   counts and the older ones are superseded by it.
// - Only an `active` plan gives a current value. Revoked (superseded, withdrawn), completed,
//   entered-in-error and unknown plans never do and are not shown; a `draft` plan's values are
//   shown as drafts only.
// - Current = the value agreed most recently, whichever the source: the decision's own date
//   (acp-decision-date), else the plan's agreed date (period.start, else created), else when
//   it was stored; ties go to the plan stored last.
// - Every other active plan's value that differs from the current one is listed (differs).
// - Symptom plans are one decision per symptom (matched on the symptom's text, ignoring case).
// - The review date is the current plan's (the most recently agreed active plan with one); the
//   key worker comes from the CareTeam of the active plans; consent to share from the Consents
//   (the most recent by date: permit = given, deny = refused or withdrawn).
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gateway/core/json.h"

namespace acp::plan {

struct SummaryInput {
  std::string patientId;
  std::vector<json::Value> carePlans;            // as stored: meta.versionId and lastUpdated set
  std::map<std::string, json::Value> careTeams;  // "CareTeam/<id>" → the CareTeam
  std::vector<json::Value> consents;             // as stored
  // Advance care plans the reader may not see (no consent to share, and not its author's):
  // they give no value; the summary says they exist, whose they are and whom to call.
  std::vector<json::Value> withheld;
};

// One value of one decision, from one plan (or one Consent).
struct Statement {
  std::string key;       // item code, + "|" + the symptom (lower case) for symptom plans
  std::string symptom;   // as written
  const char* valueKey;  // "valueCodeableConcept", "valueString", "valueDate", "valueCode"
  json::Value value;
  std::string compare;   // what "the same value" means: system|code, or normalised text
  std::string ods;       // the organisation whose record holds it
  const json::Value* author = nullptr;  // points into the SummaryInput
  std::string date;      // when it was agreed, as written
  int64_t when = 0;      // the same, for "most recent"
  std::string stored;    // meta.lastUpdated, for ties
  std::string carePlan;  // CarePlan/<id>/_history/<version>
  std::string consent;   // Consent/<id>/_history/<version> (consent to share)
  bool draft = false;

  // The value for a person to read: a coding's display (else its code), or the text.
  std::string readable() const;
};

// The answer for one decision.
struct ItemAnswer {
  std::string code;     // acp-item code
  std::string display;
  std::string symptom;  // symptom plans
  std::optional<Statement> current;
  std::vector<Statement> differs;  // other active plans' values that differ from current
  std::vector<Statement> drafts;
};

// A draft revision does not take its plan out of force. Given the versions of one CarePlan,
// newest first: the versions to read — the current one, and, when it is a draft, the most
// recent earlier version that is not a draft, if that one is active (it still answers; the
// draft is shown as a draft).
std::vector<json::Value> versionsInForce(const std::vector<json::Value>& newestFirst);

// The answers, one per decision in the order documented above (the data behind acpSummary;
// the plan Flags use them too). Statements point into `in`: keep it alive while using them.
std::vector<ItemAnswer> answers(const SummaryInput& in);

json::Value acpSummary(const SummaryInput& in);

// The plan versions the answers read ("CarePlan/<id>/_history/<version>"): every active
// advance care plan not superseded by its source's newer one — the plans in force.
std::set<std::string> plansInForce(const SummaryInput& in);

// The ODS code of the organisation a plan came from: its local identifier's system
// (…/Id/local/<ODS>/…), else an Organization author's ODS code; "" when neither.
std::string sourceOds(const json::Value& plan);

// A care team as a person reads it: its members' names and roles, then its numbers ("" when it
// names nobody).
std::string careTeamText(const json::Value& team);

// Whether a CarePlan is an advance care plan (or a ReSPECT form).
bool isAdvanceCarePlan(const json::Value& carePlan);

}  // namespace acp::plan
