// `acp-gateway import --source hospice|community|hl7v2 FILE...` — back-loading partner files
// (a hospice's past exports, a community trust's full extract, an interface engine's archive of
// HL7 v2 messages) into the store, through the same mapping, validation, matching, audit and
// failure list as a live push (ingest/ingest_service.h), without a listener.
//
// Contract:
//   - Every file is read before anything is written: one missing or unreadable file and
//     nothing is imported (exit 66).
//   - A hospice or community file is one document (one push); an HL7 v2 file holds one or more
//     messages (hl7v2/message_file.h: MLLP frames or plain text), each one push, in file order.
//   - Each push is committed as POST /$ingest/<partner> would commit it: its records stored,
//     unchanged or rejected (rejected ones and unreadable documents are kept on the failure
//     list for correction and $replay), with its AuditEvents (interaction operation $import,
//     the operating-system account that ran it as the user, detail "partner"/"source"). An
//     import that is run again stores nothing twice (unchanged).
//   - SQLite: the file must not be served by a running gateway meanwhile (store.in-use, exit
//     75: stop it, or send the files to it instead); PostgreSQL: gateways may run.
//   - It stops at the first push that could not be committed or audited (the store failed):
//     what was committed stays; run it again (exit 75).
//   - Subscriptions matched by the writes are notified by the gateway when it runs (the outbox
//     is in the store).
//   - Output: a progress bar on `progress` when `tty` (documents done of all, records so far);
//     on `out`, one line per document refused and per record rejected (the file, the partner's
//     record id, the gateway's error codes and FHIRPath locations — never names or numbers),
//     then the summary.
// Exit codes: 0 every record stored or unchanged; 65 some record rejected or document refused
// (the rest imported); 64 usage; 66 a file cannot be read; 75 store in use or failing; 78 the
// configuration is wrong.
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
