// gateway.log.format=json: one JSON object per line, for log collectors —
//   {"time":"2026-11-24T10:00:00.123Z","level":"information","logger":"acp.http",
//    "message":"GET /Patient/{id} 200 1.2ms org=X81001 rid=…","requestId":"…",
//    "method":"GET","route":"/Patient/{id}","status":200,"ms":1.2,"org":"X81001"}
// The fields after "message" are those the line's source set on it (the access log sets them;
// other lines have none). What may be logged is the sources' contract: never an NHS number, a
// name or a query string (docs/operations.md, "Logs").
// Bytes that are not UTF-8 become U+FFFD, so every line is valid JSON.
// Thread-safety: format() keeps no state; safe from any thread.
#pragma once

#include <Poco/Formatter.h>
#include <Poco/Message.h>

#include <string>

namespace acp::app {

class JsonLogFormatter : public Poco::Formatter {
 public:
  void format(const Poco::Message& msg, std::string& text) override;
};

}  // namespace acp::app
