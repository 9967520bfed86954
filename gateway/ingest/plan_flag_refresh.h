// Keeping a child's plan Flags current in the store (the rules: plan/plan_flags.h).
//
// refreshPlanFlags() runs inside a write transaction: on every ingest that touches a child
// (IngestService, in the record's unit, so the Flags change with the data that changed them),
// and from the timed sweep (IngestService::refreshTimedFlags: review dates pass and children
// turn 14 without any new data). Each Flag has an id derived from (reason, person), so there
// is at most one per reason and child; it is raised, kept, or closed — never deleted.
// Not thread-safe: used by the thread holding the transaction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/core/issues.h"
#include "gateway/core/status.h"
#include "gateway/model/model.h"
#include "gateway/model/validator.h"
#include "gateway/profile/profile_validator.h"
#include "gateway/store/resource_store.h"

namespace acp::ingest {

// The id of the gateway's Flag for `kind` (an acp-flag code) on Patient/<personId>.
std::string gatewayFlagId(const std::string& kind, const std::string& personId);

// Every Flag kind the gateway raises (identity-mismatch and the plan kinds).
std::vector<std::string> gatewayFlagKinds();

struct FlagContext {
  const model::Model& model;
  const model::Validator& validator;
  const profile::ProfileValidator* profiles;  // may be null
};

// Recomputes the plan Flags of Patient/<personId> at `nowMs` and writes what changed; the
// versioned references of the Flags written are appended to `written`. A Flag that would not
// validate is not written (a warning says so).
Status refreshPlanFlags(const FlagContext& ctx, store::Transaction& tx,
                        const std::string& personId, int64_t nowMs,
                        std::vector<std::string>& written, IssueList& issues);

}  // namespace acp::ingest
