// FailureLog — ingest failures kept with their reasons and their content, so that nothing a
// partner sent is lost: the integration team lists them (GET /$ingest/failures) and re-runs
// one after a fix (POST /$ingest/failures/{id}/$replay).
//
// A failure is a rejected record (its content is a standalone document holding only that
// record) or a rejected document. Content may hold patient data: it is kept in the store's
// database with the same protection, and never logged.
// Thread-safety: any number of threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/status.h"

namespace acp::store {

struct KeptFailure {
  int64_t id = 0;           // assigned by the log
  std::string partner;      // "hospice", ...
  std::string sourceOds;
  std::string pushId;
  std::string recordId;     // "" for a whole document
  std::string receivedAt;   // FHIR instant
  std::string contentType;
  std::string content;      // what to replay
  std::string issuesJson;   // the OperationOutcome given at the time
  std::string status = "open";  // open | replayed (stored on a later replay)
  int replays = 0;
};

class FailureLog {
 public:
  virtual ~FailureLog() = default;
  // Keeps a failure; returns its id.
  virtual Result<int64_t> keep(const KeptFailure& failure) = 0;
  // Newest first; `status` "" for all; at most `limit`, ids below `before` when before > 0.
  virtual Result<std::vector<KeptFailure>> list(const std::string& status, int limit,
                                                int64_t before) = 0;
  virtual Result<KeptFailure> get(int64_t id) = 0;  // kNotFound when unknown
  // After a replay: the new status and issues; replays is incremented.
  virtual Status update(int64_t id, const std::string& status, const std::string& issuesJson) = 0;
};

}  // namespace acp::store
