// The clinician's page of a child's shared advance care plan (GET /view/patient): what the
// $acp-summary operation answers, laid out for a person deciding in a crisis, printable.
//
// Order and emphasis (docs/clinician-view.md):
//   1. the child: name, date of birth, NHS number; an emergency (break-glass) access is said;
//   2. the resuscitation decision, first and unmistakable — its value in large type, who
//      recorded it and when; when the sources disagree, every other source's value beside it
//      in a warning box; when none is recorded, that is said in as many words (never a blank);
//   3. how many decisions the sources disagree on, when any;
//   4. preferred place of care and of death, the emergency plan, symptom plans, the key worker
//      and how to reach them, the other decisions; each with its source organisation (ODS),
//      author and date, differing values and drafts marked as such;
//   5. the review date, highlighted as overdue when it is before `today`; consent to share;
//   6. plans not shared with this reader (whose they are, whom to call);
//   7. the plans' history: every version of each plan, newest first; "in force" only for the
//      versions the answers are read from, an older active version "agreed then, since
//      replaced", and of a version entered in error nothing but that (it may be another
//      child's).
// A superseded, revoked or entered-in-error plan never gives a value here (plan/acp_summary.h
// decides what is current); drafts are shown only as drafts.
// Every value is escaped (view/html.h); the page has no script, no inline style, and links only
// the gateway's own stylesheet, so kContentSecurityPolicy can be strict.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/plan/acp_summary.h"

namespace acp::view {

// The policy every page of the view is served with: nothing but the gateway's own stylesheet,
// fonts and images; no script, no frames, no forms, no plugins.
extern const char* const kContentSecurityPolicy;

// One stored version of one of the child's advance care plans.
struct PlanVersion {
  std::string carePlan;  // "CarePlan/<id>"
  std::string title;     // the plan's title, else its category's text
  int64_t version = 0;
  std::string recorded;  // meta.lastUpdated
  std::string status;    // active, draft, revoked, completed, entered-in-error
  std::string source;    // ODS code ("" when unknown)
  bool deleted = false;
};

struct PlanPage {
  const json::Value* patient = nullptr;        // the child (required)
  const plan::SummaryInput* input = nullptr;   // care teams and withheld plans (required)
  std::vector<plan::ItemAnswer> answers;       // plan::answers(*input)
  std::vector<PlanVersion> history;            // newest first
  std::set<std::string> inForce;               // plan::plansInForce(*input)
  std::string today;      // YYYY-MM-DD: a review date before it is overdue
  std::string generated;  // when the page was made (an instant)
  bool breakGlass = false;
  std::string breakGlassReason;
  std::string stylesheet;  // the stylesheet's path ("" = none)
  // ODS code → organisation name, for the sources (unknown codes are shown as the code).
  std::vector<std::pair<std::string, std::string>> organisations;
};

// The whole page (an HTML document, UTF-8).
std::string renderPlanPage(const PlanPage& page);

// A page for a refusal or failure (404, 401, 403, 410, 412, 400, 500...): its status, a title
// and the message (escaped), nothing about any child.
std::string renderErrorPage(int status, const std::string& title, const std::string& message,
                            const std::string& stylesheet);

}  // namespace acp::view
