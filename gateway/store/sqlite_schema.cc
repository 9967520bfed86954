#include "gateway/store/sqlite_schema.h"

#include <string>

#include "gateway/store/sql_migrations.h"

namespace acp::store::sqlite {
namespace {

// Ordered migration steps; step N brings the schema from version N-1 to N. Never edit a step
// that has shipped: append a new one.
const char* const kSteps[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE resources(
  pk INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated TEXT NOT NULL,      -- instant, always YYYY-MM-DDThh:mm:ss.sssZ (sorts as time)
  deleted INTEGER NOT NULL DEFAULT 0,
  json TEXT,                       -- the current version as stored; NULL when deleted
  UNIQUE(type, id)
);
-- (type, deleted, pk): a type's live resources in pk order without a sort.
CREATE INDEX resources_live ON resources(type, deleted);
CREATE INDEX resources_updated ON resources(type, last_updated);

CREATE TABLE versions(
  seq INTEGER PRIMARY KEY,         -- commit order; history pages by it
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  method TEXT NOT NULL,            -- POST | PUT | DELETE
  deleted INTEGER NOT NULL DEFAULT 0,
  json TEXT,
  UNIQUE(type, id, version)
);
CREATE INDEX versions_type ON versions(type, seq);

CREATE TABLE string_idx(
  resource_pk INTEGER NOT NULL REFERENCES resources(pk),
  type TEXT NOT NULL,
  param TEXT NOT NULL,
  normalized TEXT NOT NULL,
  exact TEXT NOT NULL
);
CREATE INDEX string_idx_norm ON string_idx(type, param, normalized, resource_pk);
CREATE INDEX string_idx_exact ON string_idx(type, param, exact, resource_pk);
CREATE INDEX string_idx_pk ON string_idx(resource_pk, param, normalized);

CREATE TABLE token_idx(
  resource_pk INTEGER NOT NULL REFERENCES resources(pk),
  type TEXT NOT NULL,
  param TEXT NOT NULL,
  system TEXT NOT NULL,
  code TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX token_idx_code ON token_idx(type, param, code, system, resource_pk);
CREATE INDEX token_idx_pk ON token_idx(resource_pk, param, code);

CREATE TABLE date_idx(
  resource_pk INTEGER NOT NULL REFERENCES resources(pk),
  type TEXT NOT NULL,
  param TEXT NOT NULL,
  low INTEGER NOT NULL,            -- inclusive range, ms since the epoch (UTC)
  high INTEGER NOT NULL
);
CREATE INDEX date_idx_low ON date_idx(type, param, low, high, resource_pk);
CREATE INDEX date_idx_high ON date_idx(type, param, high, low, resource_pk);
CREATE INDEX date_idx_pk ON date_idx(resource_pk, param, low, high);

CREATE TABLE reference_idx(
  resource_pk INTEGER NOT NULL REFERENCES resources(pk),
  type TEXT NOT NULL,
  param TEXT NOT NULL,
  target_type TEXT NOT NULL,       -- '' when unknown
  target_id TEXT NOT NULL,         -- '' for references that are not to this server
  url TEXT,                        -- the reference as written; NULL when absent
  ident_system TEXT,               -- Reference.identifier; NULL when absent
  ident_value TEXT
);
CREATE INDEX reference_idx_target
  ON reference_idx(type, param, target_id, target_type, resource_pk);
CREATE INDEX reference_idx_url ON reference_idx(type, param, url, resource_pk)
  WHERE url IS NOT NULL;
CREATE INDEX reference_idx_ident
  ON reference_idx(type, param, ident_value, ident_system, resource_pk)
  WHERE ident_value IS NOT NULL;
CREATE INDEX reference_idx_pk ON reference_idx(resource_pk, param, target_type, target_id);

CREATE TABLE number_idx(
  resource_pk INTEGER NOT NULL REFERENCES resources(pk),
  type TEXT NOT NULL,
  param TEXT NOT NULL,
  value REAL NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX number_idx_value ON number_idx(type, param, value, resource_pk);
CREATE INDEX number_idx_pk ON number_idx(resource_pk, param, value);

CREATE TABLE quantity_idx(
  resource_pk INTEGER NOT NULL REFERENCES resources(pk),
  type TEXT NOT NULL,
  param TEXT NOT NULL,
  value REAL NOT NULL,
  system TEXT NOT NULL,
  code TEXT NOT NULL,
  unit TEXT NOT NULL
);
CREATE INDEX quantity_idx_value ON quantity_idx(type, param, value, resource_pk);
CREATE INDEX quantity_idx_pk ON quantity_idx(resource_pk, param, value);

CREATE TABLE uri_idx(
  resource_pk INTEGER NOT NULL REFERENCES resources(pk),
  type TEXT NOT NULL,
  param TEXT NOT NULL,
  uri TEXT NOT NULL
);
CREATE INDEX uri_idx_uri ON uri_idx(type, param, uri, resource_pk);
CREATE INDEX uri_idx_pk ON uri_idx(resource_pk, param, uri);

CREATE TABLE conditional_keys(
  type TEXT NOT NULL,
  key TEXT NOT NULL,
  resource_pk INTEGER NOT NULL REFERENCES resources(pk),
  UNIQUE(type, key)
);
CREATE INDEX conditional_keys_pk ON conditional_keys(resource_pk);
)sql",
    // 2: kept ingest failures (store/failure_log.h).
    R"sql(
CREATE TABLE ingest_failures(
  id INTEGER PRIMARY KEY,
  partner TEXT NOT NULL,
  source_ods TEXT NOT NULL,
  push_id TEXT NOT NULL,
  record_id TEXT NOT NULL,         -- '' for a whole document
  received_at TEXT NOT NULL,
  content_type TEXT NOT NULL,
  content BLOB NOT NULL,
  issues TEXT NOT NULL,            -- OperationOutcome JSON
  status TEXT NOT NULL,            -- open | replayed
  replays INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ingest_failures_status ON ingest_failures(status, id);
)sql",
    // 3: deliveries already applied (Transaction::claimDelivery): resent HL7 messages.
    R"sql(
CREATE TABLE deliveries(
  key TEXT PRIMARY KEY,
  received_at TEXT NOT NULL
) WITHOUT ROWID;
)sql",
    // 4: fewer index pages per write. :exact string searches use string_idx_norm (the
    // normalised form of the exact value is known), and the url index holds only references
    // that are not to this server's resources (those are found by target type and id).
    R"sql(
DROP INDEX string_idx_exact;
DROP INDEX reference_idx_url;
CREATE INDEX reference_idx_url ON reference_idx(type, param, url, resource_pk)
  WHERE url IS NOT NULL AND target_id = '';
)sql",
    // 5: the source order of each ingested resource (Transaction::sourceOrder).
    R"sql(
CREATE TABLE source_orders(
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  source_order TEXT NOT NULL,
  PRIMARY KEY(type, id)
) WITHOUT ROWID;
)sql",
    // 6: each source's own view of a patient (Transaction::patientSource): the person Patient
    // the gateway serves is combined from them. seq orders them by when they were written.
    R"sql(
CREATE TABLE patient_sources(
  seq INTEGER PRIMARY KEY,
  source_id TEXT NOT NULL UNIQUE,
  person_id TEXT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX patient_sources_person ON patient_sources(person_id, seq);
)sql",
    // 7: which resources each source patient's records wrote (Transaction::sourceResources):
    // they follow the source when it turns out to be another child.
    R"sql(
CREATE TABLE source_resources(
  source_id TEXT NOT NULL,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY(source_id, type, id)
) WITHOUT ROWID;
)sql",
    // 8: possible duplicates for review (Transaction::proposeCandidate): two Patients whose
    // demographics nearly match without an NHS number linking them. Never merged unless a
    // reviewer confirms; a rejected pair is never proposed again.
    R"sql(
CREATE TABLE candidate_links(
  id INTEGER PRIMARY KEY,
  person_a TEXT NOT NULL,
  person_b TEXT NOT NULL,
  reason TEXT NOT NULL,
  status TEXT NOT NULL,            -- open | confirmed | rejected
  created TEXT NOT NULL,
  decided TEXT,
  UNIQUE(person_a, person_b)
);
CREATE INDEX candidate_links_status ON candidate_links(status, id);
)sql",
    // 9: the notification outbox (store/notification_outbox.h).
    R"sql(
CREATE TABLE notifications(
  id INTEGER PRIMARY KEY,
  subscription_id TEXT NOT NULL,
  type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,            -- pending | delivered | failed
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL,   -- ms since the epoch
  last_error TEXT,
  delivered TEXT
);
CREATE INDEX notifications_due ON notifications(status, next_attempt, id);
)sql",
    // 10: client assertion ids already used at POST /token (store/replay_ledger.h): a jti is
    // accepted once per client; rows go once keep_until (ms since the epoch) has passed.
    R"sql(
CREATE TABLE used_assertions(
  client_id TEXT NOT NULL,
  jti TEXT NOT NULL,
  keep_until INTEGER NOT NULL,
  PRIMARY KEY(client_id, jti)
) WITHOUT ROWID;
CREATE INDEX used_assertions_keep ON used_assertions(keep_until);
)sql",
    // 11: the audit trail (store/audit_log.h): one row per event, hash-chained in seq order,
    // and the patients each event concerns. Append-only: the triggers refuse UPDATE and
    // DELETE, so only an edit of the file behind the gateway's back can change a row (and the
    // chain shows it). Pages are newest first by (recorded, seq): every index ends in recorded
    // (and the rowid, seq), so a page is one index range, also for a date range alone.
    R"sql(
CREATE TABLE audit_log(
  seq INTEGER PRIMARY KEY,         -- 1, 2, 3 … in append order (the chain order)
  recorded TEXT NOT NULL,          -- instant, YYYY-MM-DDThh:mm:ss.sssZ
  client TEXT NOT NULL,
  organisation TEXT NOT NULL,
  action TEXT NOT NULL,            -- C R U D E
  subtype TEXT NOT NULL,           -- read, search-type, create, $acp-summary, login …
  outcome INTEGER NOT NULL,        -- 0 4 8 12
  purpose TEXT NOT NULL,
  json TEXT NOT NULL,              -- the event's facts (audit/audit_facts.h)
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_recorded ON audit_log(recorded);
CREATE INDEX audit_log_client ON audit_log(client, recorded);
CREATE INDEX audit_log_organisation ON audit_log(organisation, recorded);
CREATE INDEX audit_log_purpose ON audit_log(purpose, recorded);
CREATE TABLE audit_patient(
  patient TEXT NOT NULL,
  recorded TEXT NOT NULL,          -- the event's, for pages by patient in time order
  seq INTEGER NOT NULL,
  PRIMARY KEY(patient, recorded, seq)
) WITHOUT ROWID;
CREATE INDEX audit_patient_seq ON audit_patient(seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_patient_no_update BEFORE UPDATE ON audit_patient
  BEGIN SELECT RAISE(ABORT, 'audit_patient is append-only'); END;
CREATE TRIGGER audit_patient_no_delete BEFORE DELETE ON audit_patient
  BEGIN SELECT RAISE(ABORT, 'audit_patient is append-only'); END;
)sql",
    // 12: which gateway process claimed a pending notification (NotificationOutbox), as in
    // PostgreSQL's step 2, where a claim names its claimer so that one whose claimer has died can
    // be released at once (SqlStore::releaseClaimsOfGoneProcesses). SQLite claims leave it NULL
    // (one gateway per file: the file's gateway lock does that job); settling clears it.
    R"sql(
ALTER TABLE notifications ADD COLUMN claimed_by INTEGER;
)sql",
};

constexpr int kStepCount = static_cast<int>(sizeof(kSteps) / sizeof(kSteps[0]));


}  // namespace

int currentSchemaVersion() { return kStepCount; }

Status migrate(sql::Connection& writer) {
  return sql::runMigrations(writer, kSteps, kStepCount);
}

}  // namespace acp::store::sqlite
