// The migration runner both stores share (sqlite_schema.cc, pg_schema.cc hold the steps).
//
// schema_version holds one row: the number of steps applied. runMigrations() runs the missing
// steps, each in its own write transaction (Connection::beginWrite: on PostgreSQL under the
// store's write lock, so gateways starting together migrate once) with the version bump, so a
// crash leaves the database at a step boundary. A database newer than `steps` is refused.
// Errors: Status::internal "store.migration-failed: step N: …" / "store.schema-too-new: …".
#pragma once

#include "gateway/core/status.h"
#include "gateway/store/sql_connection.h"

namespace acp::store::sql {

// Step N (1-based) is steps[N-1]; `count` steps in all.
Status runMigrations(Connection& writer, const char* const* steps, int count);

}  // namespace acp::store::sql
