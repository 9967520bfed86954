// Consent to share an advance care plan (security issue: "without consent to share, or after
// withdrawal, a plan's content is visible only to its author organisation; others see that a
// plan exists and whom to call").
//
// The rule, from the Consents stored for the patient (partner mappers write one per plan:
// ingest/fhir_build.h consentToShare; the hospice and community mappers write a `deny` when
// their export records no consent):
// - a CarePlan named by no Consent of its own organisation is shared (the hospital's ReSPECT forms:
//   the form exists to travel with the patient, and its feed carries no consent);
// - otherwise the most recent such Consent of the plan's own organisation (dateTime, then
//   stored time) decides: `active` with
//   provision.type `permit` shares it; anything else (deny, inactive = withdrawn, rejected,
//   entered-in-error) withholds it.
// A withheld plan is shown to other organisations as withheldView(): what it is, whose, its
// status and dates and its care team (whom to call), never its content.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gateway/core/json.h"

namespace acp::access {

// "<CarePlan id>|<ODS>" → shared (true) or withheld (false): for each plan a Consent names,
// the word of each organisation that recorded one (Consent.organization). Only the plan's own
// organisation's word counts (AccessPolicy::Session::withheld): a Consent from anyone else
// cannot share — or withhold — another organisation's plan. A Consent naming no organisation
// decides nothing.
std::map<std::string, bool> planSharing(const std::vector<json::Value>& consents);

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
