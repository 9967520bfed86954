// IssueList: problems with the data, kept apart from "processing failed" (convention 3).
//
// Every stage (parser, mapper, validator, search, store) appends issues with a severity, an
// OperationOutcome issue type, a FHIRPath location and a stable gateway error code listed in
// docs/errors.md. The list becomes an OperationOutcome (HTTP) or ERR segments (HL7 ACK).
// Thread-safety: not synchronised; one list per request.
#pragma once

#include <string>
#include <vector>

namespace acp {

namespace json {
class Value;
}

enum class Severity { kFatal, kError, kWarning, kInformation };

struct Issue {
  Severity severity = Severity::kError;
  std::string type;      // OperationOutcome.issue.code: structure, value, required, invariant,
                         // code-invalid, not-supported, too-long, processing, not-found, ...
  std::string location;  // FHIRPath, e.g. "CarePlan.activity[2].detail.code"; may be empty
  std::string message;   // human readable diagnostics
  std::string code;      // stable gateway error code, e.g. "validate.unknown-element"
};

// The code system URI of the gateway's stable error codes (OperationOutcome.issue.details).
inline constexpr const char* kErrorCodeSystem = "https://acp-gateway.nhs.uk/CodeSystem/error";

class IssueList {
 public:
  void add(Issue issue) { issues_.push_back(std::move(issue)); }
  void error(std::string type, std::string location, std::string message, std::string code) {
    issues_.push_back({Severity::kError, std::move(type), std::move(location), std::move(message),
                       std::move(code)});
  }
  void warning(std::string type, std::string location, std::string message, std::string code) {
    issues_.push_back({Severity::kWarning, std::move(type), std::move(location),
                       std::move(message), std::move(code)});
  }
  void information(std::string type, std::string location, std::string message,
                   std::string code) {
    issues_.push_back({Severity::kInformation, std::move(type), std::move(location),
                       std::move(message), std::move(code)});
  }
  void append(const IssueList& other) {
    issues_.insert(issues_.end(), other.issues_.begin(), other.issues_.end());
  }

  // Sets the location of every issue (e.g. to "Bundle.entry[3]" for a transaction entry).
  void locateAll(const std::string& location) {
    for (auto& i : issues_) i.location = location;
  }

  // True when any issue is fatal or error.
  bool hasErrors() const;
  bool empty() const { return issues_.empty(); }
  size_t size() const { return issues_.size(); }
  const std::vector<Issue>& issues() const { return issues_; }

  // The list as an R4 OperationOutcome. An empty list gives one "informational" issue
  // with `okMessage`, as R4 requires at least one issue.
  json::Value toOperationOutcome(const std::string& okMessage = "All OK") const;

 private:
  std::vector<Issue> issues_;
};

const char* severityCode(Severity s);

}  // namespace acp
