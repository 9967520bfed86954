#include "gateway/ingest/push_audit.h"

#include <algorithm>
#include <set>
#include <string>

#include "gateway/ingest/source_ids.h"

namespace acp::ingest {

namespace {

// An error code fit for free text: the gateway's stable codes are short lower-case tokens
// ("ingest.merged-away"); anything else (never expected) is left out.
bool plainCode(const std::string& code) {
  if (code.empty() || code.size() > 64) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
}

// "3" of "/Patient/x/_history/3"; "" when unversioned.
std::string versionOf(const std::string& ref) {
  size_t at = ref.rfind("/_history/");
  return at == std::string::npos ? "" : ref.substr(at + 10);
}

}  // namespace

audit::AuditRecord pushEvent(const PushAudit& a, const MappedPush& push,
                             const std::vector<const RecordOutcome*>& reported) {
  audit::AuditRecord r = a.requester;
  size_t stored = 0, unchanged = 0, rejected = 0;
  bool storeFailed = false, wrote = false, updated = false;
  std::set<std::string> codes;
  for (const RecordOutcome* reportedOutcome : reported) {
    const RecordOutcome& o = *reportedOutcome;
    switch (o.result) {
      case RecordOutcome::Result::kStored: ++stored; break;
      case RecordOutcome::Result::kUnchanged: ++unchanged; break;
      case RecordOutcome::Result::kRejected: ++rejected; break;
    }
    if (o.result == RecordOutcome::Result::kRejected) {
      if (failedInStore(o)) storeFailed = true;
      for (const Issue& is : o.issues.issues())
        if (is.severity == Severity::kError && plainCode(is.code)) codes.insert(is.code);
      continue;
    }
    for (const std::string& p : o.patients)
      if (std::find(r.patients.begin(), r.patients.end(), p) == r.patients.end())
        r.patients.push_back(p);
    for (const std::string& w : o.written) {
      r.entities.push_back(w);
      wrote = true;
      std::string v = versionOf(w);
      updated = updated || (!v.empty() && v != "1");
    }
  }
  if (wrote) r.action = updated ? 'U' : 'C';
  const size_t n = reported.size();
  std::string why;
  size_t shown = 0;
  for (const std::string& c : codes) {
    if (shown++ == 5) {
      why += ", …";
      break;
    }
    why += (why.empty() ? ": " : ", ") + c;
  }
  if (storeFailed) {
    r.outcome = audit::kOutcomeMajorFailure;
    r.outcomeText = std::to_string(rejected) + " of " + std::to_string(n) +
                    " records not stored: the store failed" + why;
  } else if (rejected > 0 && rejected == n) {
    r.outcome = audit::kOutcomeSeriousFailure;
    r.outcomeText = (n == 1 ? std::string("the record was") : "all " + std::to_string(n) +
                                                                 " records were") +
                    " rejected" + why;
  } else if (rejected > 0) {
    r.outcome = audit::kOutcomeMinorFailure;
    r.outcomeText = std::to_string(rejected) + " of " + std::to_string(n) + " records rejected" +
                    why;
  }
  if (r.message.id.empty()) {
    r.message.id = push.pushId.empty() ? "(none)" : push.pushId;
    r.message.system = std::string(kAcpBase) + "/Id/push/" + push.sourceOds;
  }
  if (r.message.name.empty()) r.message.name = push.partner + " push";
  r.message.details.emplace_back("partner", push.partner);
  if (!push.sourceOds.empty()) r.message.details.emplace_back("source", push.sourceOds);
  r.message.details.emplace_back(
      "records", std::to_string(n) + " of " + std::to_string(push.records.size()) + ": " +
                     std::to_string(stored) + " stored, " + std::to_string(unchanged) +
                     " unchanged, " + std::to_string(rejected) + " rejected");
  return r;
}

}  // namespace acp::ingest
