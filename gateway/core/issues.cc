#include "gateway/core/issues.h"

#include "gateway/core/json.h"

namespace acp {

const char* severityCode(Severity s) {
  switch (s) {
    case Severity::kFatal:
      return "fatal";
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInformation:
      return "information";
  }
  return "error";
}

bool IssueList::hasErrors() const {
  for (const auto& i : issues_)
    if (i.severity == Severity::kError || i.severity == Severity::kFatal) return true;
  return false;
}

json::Value IssueList::toOperationOutcome(const std::string& okMessage) const {
  using json::Value;
  Value oo = Value::makeObject();
  oo.set("resourceType", Value::makeString("OperationOutcome"));
  Value list = Value::makeArray();
  auto one = [](Severity sev, const std::string& type, const std::string& location,
                const std::string& message, const std::string& code) {
    Value issue = Value::makeObject();
    issue.set("severity", Value::makeString(severityCode(sev)));
    issue.set("code", Value::makeString(type.empty() ? "processing" : type));
    if (!code.empty()) {
      Value coding = Value::makeObject();
      coding.set("system", Value::makeString(kErrorCodeSystem));
      coding.set("code", Value::makeString(code));
      Value codings = Value::makeArray();
      codings.push(std::move(coding));
      Value details = Value::makeObject();
      details.set("coding", std::move(codings));
      issue.set("details", std::move(details));
    }
    if (!message.empty()) issue.set("diagnostics", Value::makeString(message));
    if (!location.empty()) {
      Value exprs = Value::makeArray();
      exprs.push(Value::makeString(location));
      issue.set("expression", std::move(exprs));
    }
    return issue;
  };
  if (issues_.empty()) {
    list.push(one(Severity::kInformation, "informational", "", okMessage, ""));
  } else {
    for (const auto& i : issues_) list.push(one(i.severity, i.type, i.location, i.message, i.code));
  }
  oo.set("issue", std::move(list));
  return oo;
}

}  // namespace acp
