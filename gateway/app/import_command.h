// `acp-gateway import --source hospice|community|hl7v2 FILE...` — back-loading partner files
// (a hospice's past exports, a community trust's full extract, an interface engine's archive of
// HL7 v2 messages) into the store, through the same mapping, validation, matching, audit and
// failure list as a live push (ingest/ingest_service.h), without a listener.
//
// Contract:
//   - Every file is read before anything is written: one missing or unreadable file (or a
//     directory) and nothing is imported (exit 66).
//   - The store must exist with this build's schema: an import never creates a store (a
//     mistyped gateway.store.url would hide records in a new file) nor migrates one (exit 78).
//   - A hospice or community file is one document (one push); an HL7 v2 file holds one or more
//     messages (hl7v2/message_file.h: MLLP frames or plain text), each one push, in file order.
//   - Each push is committed as POST /$ingest/<partner> would commit it: its records stored,
//     unchanged or rejected (rejected ones and unreadable documents are kept on the failure
//     list for correction and $replay), with its AuditEvents — interaction operation $import,
//     client "acp-gateway import", the user the person logged in (the kernel's login uid,
//     else SUDO_USER) and the account it ran as. A document refused as unreadable is audited
//     too (outcome 8). An import run again stores nothing twice (unchanged); what it rejects
//     is kept again.
//   - SQLite: the file must not be written by another process (a running gateway) meanwhile:
//     store.in-use, exit 75 (stop it, or send the files to it instead); the import holds the
//     file's lock, so a gateway cannot start on it meanwhile either. PostgreSQL: gateways may
//     run.
//   - It stops at the first push that could not be committed, audited or kept (the store
//     failed): what was committed stays; run it again (exit 75).
//   - Subscriptions matched by the writes are notified by the gateway when it runs (the outbox
//     is in the store).
//   - Output: a progress bar on `progress` when `tty` (documents done of all, records so far);
//     on `out`, one line per document refused and per record rejected (the file, the record's
//     place in it, the gateway's error codes and their locations — never names, numbers or
//     partner record ids), then the summary with the store (a PostgreSQL URL is not printed).
// Exit codes: 0 every record stored or unchanged; 65 some record rejected, document refused
// or file (part) without a message (the rest imported); 64 usage; 66 a file cannot be read;
// 75 the store in use, unreachable or failing; 78 the configuration or the store's schema is
// wrong; 70 an internal error.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "gateway/app/options.h"

namespace acp::app {

struct ImportRequest {
  std::string source;              // hospice | community | hl7v2
  std::vector<std::string> files;
};

int runImport(const Options& options, const ImportRequest& request, std::ostream& out,
              std::ostream& progress, bool tty);

}  // namespace acp::app
