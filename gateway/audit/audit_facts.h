// The stored form of an audited event: the facts of its AuditRecord, its recorded instant and
// the gateway that recorded it, as one compact JSON object. The audit trail keeps (and hashes)
// this instead of the whole AuditEvent: every read is audited, and a BALP AuditEvent is ~2 KB
// of mostly fixed codings while its facts are a few hundred bytes. The AuditEvent served is
// rendered from the facts by audit_event.h, deterministically.
//
// Format (version 1; members in this order, each omitted when empty, false or 0 except v,
// interaction, action, outcome and recorded):
//   {"v":1,"interaction":"read","operation":"$acp-summary","action":"R","outcome":0,
//    "outcomeText":"…","client":"…","organisation":"…","role":"…","token":"…","user":"…",
//    "userName":"…","address":"…","requestId":"…","purpose":"TREAT","reason":"…",
//    "patients":["…"],"entities":["…"],"query":"…",
//    "message":{"system":"…","id":"…","name":"…","details":[["MSH-10","…"],…]},
//    "recorded":"2024-01-01T00:00:00.000Z","observer":{"name":"…","site":"…","address":"…"}}
// (message, added for partner ingest, appears only when its id is set; older facts lack it.)
// patients are sorted and unique; strings are JSON-escaped (json::quote).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/audit/audit_record.h"
#include "gateway/core/status.h"

namespace acp::audit {

// The gateway as the recorder of events (source.observer and the server agent).
struct AuditSource {
  std::string name = "ACP Gateway";  // source.observer.display and the server agent's who
  std::string site;                  // source.site, e.g. the deployment ("" omitted)
  std::string address;               // the server agent's network address: the base URL
};

// What the trail stores for one event. `record.action` must already be resolved (not 0) and
// record.patients normalised (sorted, unique); recordedMs is the event's instant.
std::string writeFacts(const AuditRecord& record, int64_t recordedMs, const AuditSource& source);

// The facts read back. Errors: Status::internal "audit.unreadable: ..." for text that is not
// version-1 facts.
struct AuditFacts {
  AuditRecord record;  // recordedMs set
  AuditSource source;
};
Result<AuditFacts> readFacts(const std::string& text);

}  // namespace acp::audit
