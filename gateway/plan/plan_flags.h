// The Flags that keep a child's shared plan safe to rely on (UK Core Flag, `Flag?patient=`),
// from the same answers as $acp-summary (acp_summary.h). The reasons (CodeSystem
// https://acp-gateway.nhs.uk/CodeSystem/acp-flag; docs/acp-summary.md, "Flags"):
//   resuscitation-disagreement   active plans of different sources disagree on CPR
//   place-of-death-disagreement  … on the preferred place of death (first or second choice)
//   review-overdue               the current plan's review date has passed (SCCI1580)
//   no-place-of-death            an active advance care plan, and no preferred place of death
//   adrt-under-18                an advance decision to refuse treatment for a child under 18
//                                (not valid before 18: Mental Capacity Act 2005)
//   transition-prompt            14 or older, an active plan, and no plan with a transition
//                                activity (NICE NG43: plan transition from school year 9)
// A Flag is active while its reason holds and closed (inactive, period.end) once it does not;
// an open Flag keeps the time it was raised. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/plan/acp_summary.h"

namespace acp::plan {

struct FlagSpec {
  std::string kind;      // acp-flag code
  std::string display;   // the code's display
  std::string category;  // http://terminology.hl7.org/CodeSystem/flag-category: clinical | admin
  std::string text;      // what the clinician reads: names the sources, values and dates
};

// Every kind planFlags() decides on (a kind it does not return must be closed).
const std::vector<std::string>& planFlagKinds();

// What must be flagged now: `in` holds every CarePlan of the child (any category: a transition
// plan counts), `birthDate` the Patient's ("" when unknown: no age rule applies), `nowMs` the
// time of evaluation. A child who has died (`deceased`) gets none: planning prompts and
// disagreements are closed.
std::vector<FlagSpec> planFlags(const SummaryInput& in, const std::string& birthDate,
                                int64_t nowMs, bool deceased = false);

// The Flag `id` on Patient/<personId> as it must be written: raised from `spec` (keeping the
// stored one's start while it stays open), or — `spec` null — the stored one closed at
// `nowInstant`. A non-object when nothing is to be written (nothing stored and nothing
// raised, or already closed).
json::Value flagResource(const std::string& id, const std::string& personId, const FlagSpec* spec,
                         const json::Value& stored, const std::string& nowInstant);

// Age in whole years on the UTC date of `nowMs`; -1 when the birth date is not a full date.
int ageInYears(const std::string& birthDate, int64_t nowMs);

}  // namespace acp::plan
