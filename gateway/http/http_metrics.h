// What the HTTP listener counts into HttpServerOptions::metrics (docs/operations.md, "Metrics").
// Label values are bounded whatever clients send: the method is one of the HTTP methods the
// gateway knows or "other"; the route is the access log's template (routeTemplate), cut to
// "/{unknown}" when its first segment is not a served route and to "/{other}" when it is
// deeper than any route the gateway serves. Counting never throws (a failure to count is
// dropped: it must not strand a request).
#pragma once

#include <string>

#include "gateway/metrics/registry.h"

namespace acp::http {

std::string metricMethod(const std::string& method);
std::string metricRoute(const std::string& routeTemplate);

// acp_http_requests_total{method,route,status} and acp_http_request_duration_seconds{method,
// route}; `method` and `route` as they came (bounded here).
void countAnswer(metrics::Registry& m, const std::string& method, const std::string& route,
                 int status, double seconds) noexcept;
// acp_http_refusals_total{code}; `code` is one of the listener's own error codes.
void countRefusal(metrics::Registry& m, const std::string& code) noexcept;

}  // namespace acp::http
