// Whether an advance care plan may be shared beyond the organisation that holds it, from the
// Consents recorded for it (security issue: "without consent to share, or after withdrawal, a
// plan's content is visible only to its author organisation"):
// - a CarePlan named by no Consent of its own organisation is shared (the hospital's ReSPECT
//   forms: the form exists to travel with the patient, and its feed carries no consent);
// - otherwise the most recent such Consent of the plan's own organisation (dateTime, then
//   stored time) decides: `active` with provision.type `permit` shares it; anything else
//   (deny, inactive = withdrawn, rejected, entered-in-error) withholds it. The hospice and
//   community mappers write a `deny` when their export records no consent.
// A Consent from another organisation cannot share — or withhold — a plan; one naming no
// organisation decides nothing. Who sees what of a withheld plan: access/plan_sharing.h.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gateway/core/json.h"

namespace acp::plan {

// "<CarePlan id>|<ODS>" → shared (true) or withheld (false): for each plan a Consent names,
// the word of each organisation that recorded one (Consent.organization).
std::map<std::string, bool> planSharing(const std::vector<json::Value>& consents);

// Whether `carePlan` is shared, by its own organisation's word in `sharing`.
bool shared(const json::Value& carePlan, const std::map<std::string, bool>& sharing);

}  // namespace acp::plan
