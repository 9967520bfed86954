// The SQLite audit trail's append step, shared by SqlStore::appendAudit (a transaction of
// its own) and SqlTransaction::appendAudit (inside a write). Internal to store/sqlite.
#pragma once

#include <vector>

#include "gateway/core/status.h"
#include "gateway/store/audit_log.h"
#include "gateway/store/sql_connection.h"

namespace acp::store::sql {

// Appends `rows` after the newest audit_log row, chaining them (audit_log.h), through the
// writer connection `w`, which must be inside a write transaction (the caller commits or
// rolls back). Fills in seq, prevHash, hash and normalises patients. On error some rows may
// have been inserted: the caller must roll back (a savepoint or the transaction).
Status appendAuditRows(Connection& w, std::vector<AuditRow>& rows);

}  // namespace acp::store::sql
