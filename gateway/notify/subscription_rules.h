// R4 Subscriptions, as the gateway serves them (docs/api.md, "Notifications"): the checks a
// Subscription must pass before it is stored, and how its criteria are read.
//
// A Subscription is accepted when its channel is `rest-hook` with an endpoint the gateway may
// send to (endpointRefusal()), its payload (if any) is FHIR JSON, and its criteria is a search this server can run
// ("CarePlan?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9992530820", any served
// type and supported parameters). `requested` becomes `active` (the server can deliver);
// `off` stays off; `error` and its reason are the server's to set.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/model/model.h"

namespace acp::notify {

// Splits "Type?a=1&b=2" (values percent-decoded); false when there is no type.
bool splitCriteria(const std::string& criteria, std::string& type,
                   std::vector<std::pair<std::string, std::string>>& params);

// Checks a Subscription about to be written and activates a requested one. False with
// issues (FHIRPath locations) when it cannot be served. `allowPlainHttp`: as endpointRefusal().
bool prepareSubscription(json::Value& subscription, const model::Model& model,
                         const std::vector<std::string>& servedTypes, IssueList& issues,
                         bool allowPlainHttp = false);

// "" when a rest-hook may be sent to `endpoint`, else why not. An https:// URL with a host is
// always acceptable (its certificate is checked when delivering: notify/delivery_tls.h). A
// plain http:// one only to this machine — host localhost, 127.0.0.0/8 or ::1 — unless
// `allowPlainHttp` (gateway.notify.allowPlainHttp): notifications about children's plans are
// not sent across a network unencrypted by default (docs/security.md, "Outgoing
// connections"). Anything else (another scheme, no host, not a URL) is refused.
std::string endpointRefusal(const std::string& endpoint, bool allowPlainHttp);

}  // namespace acp::notify
