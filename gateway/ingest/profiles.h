// The profiles the gateway claims (meta.profile) on the resources ingest writes, and
// validates them against (IngestService, with a profile::ProfileValidator).
//
//   Patient   UK Core Patient        Encounter  UK Core Encounter
//   Condition UK Core Condition      Consent    UK Core Consent
//   Flag      UK Core Flag
//   CarePlan  ACP-CarePlan when it is an advance care plan (category SNOMED 736366004),
//             else UK Core CarePlan
//   others (CareTeam, Provenance)    none: UK Core has no CareTeam profile
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "gateway/core/json.h"

namespace acp::ingest {

inline constexpr const char* kAcpCarePlanProfile =
    "https://acp-gateway.nhs.uk/StructureDefinition/ACP-CarePlan";

// The profile urls claimed for this resource (empty: none).
std::vector<std::string> claimedProfiles(const json::Value& resource);

// The profiles resources of this type written by ingest may claim (for the
// CapabilityStatement's supportedProfile).
std::vector<std::string> supportedProfiles(const std::string& type);

// Security labels and tags on the stored version (set through the REST API, e.g. a
// confidentiality label) are not a partner's to remove: copied onto `out` where it has none.
void keepStoredLabels(json::Value& out, const json::Value& stored);

// Sets meta.profile to exactly the claimed profiles (removes it when none are claimed; other
// meta members are kept).
void claimProfiles(json::Value& resource);

}  // namespace acp::ingest
