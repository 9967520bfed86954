// `acp-gateway check-config [--config=FILE] [-Dkey=value ...]`: everything a start would refuse,
// found without starting — for the people who run the service, before a restart or a change.
//
// Checked, each on a line of its own ("ok" or "FAIL", the item, what was found):
//   options   every key known and every value in range (readOptions; the caller's part);
//   tls       the server certificate, its key and the client CAs load and match (TlsContext),
//             with the certificate's subject and expiry; the outgoing TLS of notifications;
//   model     the FHIR definitions, profiles (UK Core and the gateway's own) and the partners'
//             concept maps load;
//   auth      the SMART client registry and the token signing key load (mode smart);
//   store     the database is reachable and its schema is one this build can use — without
//             creating or migrating anything (a new SQLite file: its folder is writable; an
//             older schema: the start will migrate it, said so);
//   ports     the HTTP and MLLP listen addresses are free to bind.
// Nothing is changed: no file is created, no schema migrated, no port kept.
// Thread-safety: call from one thread.
#pragma once

#include <ostream>

#include "gateway/app/options.h"

namespace acp::app {

// Runs the checks, writing one line per check to `report`; true when every check passed.
bool checkConfiguration(const Options& options, std::ostream& report);

}  // namespace acp::app
