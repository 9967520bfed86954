// What a database holds, looked at without changing it: for `acp-gateway check-config`
// (app/config_check.h), which must not create a file or migrate a schema.
// Thread-safety: pure function of the database.
#pragma once

#include <string>

#include "gateway/core/status.h"

namespace acp::store {

struct SchemaProbe {
  bool exists = false;  // SQLite: the file is there; PostgreSQL: the schema_version table is
  int version = 0;      // the schema version it holds (0 when none)
  int current = 0;      // the version this build writes
};

// `location` as SqlStore::open takes it (an SQLite path, or a postgresql:// URI). An SQLite
// file that is not there: exists=false when its folder is writable (the start creates it), an
// error otherwise. Errors: the database cannot be opened or read.
Result<SchemaProbe> probeSchema(const std::string& location);

}  // namespace acp::store
