// The SQLite store's schema and its ordered migrations.
//
// migrate() runs the missing steps through sql::runMigrations (sql_migrations.h): each in its
// own BEGIN IMMEDIATE transaction with the version bump in schema_version, so a crash leaves
// the database at a step boundary. A database newer than this code is refused.
//
// Tables (see sqlite_schema.cc for the DDL):
//   resources(pk, type, id, version, last_updated, deleted, json)  current state per resource
//   versions(seq, type, id, version, last_updated, method, deleted, json)  every version;
//       seq (the rowid) is the commit order used by history paging
//   string_idx, token_idx, date_idx, reference_idx, number_idx, quantity_idx, uri_idx
//       search-index rows keyed by resources.pk, carrying the resource type so lookups by
//       (type, param, value) are one index range
//   conditional_keys(type, key, resource_pk)  unique If-None-Exist keys
//   ingest_failures(...)  kept ingest failures (failure_log.h)
//   deliveries(key, received_at)  deliveries already applied (Transaction::claimDelivery)
//   source_orders(type, id, source_order)  Transaction::sourceOrder
//   patient_sources, source_resources, candidate_links, notifications (steps 6 to 9; the
//       claimer of a pending notification, claimed_by: step 12)
//   used_assertions(client_id, jti, keep_until)  client assertion ids used at POST /token
//       (replay_ledger.h)
//   audit_log(seq, recorded, client, organisation, action, subtype, outcome, purpose, json,
//       prev_hash, hash) and audit_patient(patient, recorded, seq)  the hash-chained, append-only audit
//       trail (audit_log.h)
// Thread-safety: call with the writer connection, before the store is shared.
// Errors: Status::internal "store.migration-failed" / "store.schema-too-new".
#pragma once

#include "gateway/core/status.h"
#include "gateway/store/sql_connection.h"

namespace acp::store::sqlite {

// The schema version this code writes and understands.
int currentSchemaVersion();

// Brings the database up to currentSchemaVersion().
Status migrate(sql::Connection& writer);

}  // namespace acp::store::sqlite
