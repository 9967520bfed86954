// The PostgreSQL store's schema and its ordered migrations (the SQLite ones: sqlite_schema.h).
//
// The tables and columns are those of the SQLite schema at its current version, so one SQL
// text serves both stores; the differences are PostgreSQL's types: BIGINT for every integer
// (ms timestamps), DOUBLE PRECISION for REAL, BYTEA for BLOB, identity columns for SQLite's
// INTEGER PRIMARY KEY rowids, and text compared in byte order (the domain `ctext`, TEXT
// COLLATE "C"), as SQLite compares it — prefix ranges and keyset cursors depend on it,
// whatever the database's own collation.
// schema_version holds one row: the number of steps applied. migrate() runs the missing steps,
// each in its own transaction under the store's write lock (so gateways starting together on
// one database migrate it once). A database newer than this code is refused.
// Thread-safety: call with the writer connection, before the store is shared.
// Errors: Status::internal "store.migration-failed" / "store.schema-too-new".
#pragma once

#include "gateway/core/status.h"
#include "gateway/store/sql_connection.h"

namespace acp::store::pg {

// The schema version this code writes and understands.
int currentSchemaVersion();

// Brings the database up to currentSchemaVersion().
Status migrate(sql::Connection& writer);

}  // namespace acp::store::pg
