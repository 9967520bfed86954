// What others see of an advance care plan the child has not consented to share (the rule of
// what is shared: plan/consent_sharing.h): "others see that a plan exists and whom to call".
// A withheld plan is shown to other organisations as withheldView(): what it is, whose, its
// status and dates and its care team (whom to call), never its content.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/plan/consent_sharing.h"

namespace acp::access {

using plan::planSharing;

// The ODS code of the organisation a CarePlan came from (plan::sourceOds: its local
// identifier's system, else an Organization author); "" when unknown.
std::string authorOrganisation(const json::Value& carePlan);

// What another organisation sees of a withheld CarePlan: resourceType, id, meta (with the
// security label REDACTED), identifier, status, intent, category, subject, period, created,
// author, careTeam, a narrative-free title saying why; a `note` saying whom to call.
json::Value withheldView(const json::Value& carePlan);

// The label a withheld view carries in meta.security (v3 ObservationValue REDACTED).
extern const char* const kRedactedSystem;
extern const char* const kRedactedCode;

}  // namespace acp::access
