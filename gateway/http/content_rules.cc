#include "gateway/http/content_rules.h"

#include "gateway/ingest/source_ids.h"

namespace acp::http {

namespace {

void walk(const json::Value& v, const std::string& path, IssueList& issues, bool& ok) {
  if (v.isArray()) {
    for (size_t i = 0; i < v.items().size(); ++i)
      walk(v.items()[i], path + "[" + std::to_string(i) + "]", issues, ok);
    return;
  }
  if (!v.isObject()) return;
  if (v.getString("system") == ingest::kNhsNumberSystem) {
    const json::Value* value = v.find("value");
    if (value && value->isString() && !ingest::isValidNhsNumber(value->text())) {
      issues.error("value", path + ".value",
                   "not a valid NHS number: it must be ten digits with a valid Modulus 11 "
                   "check digit",
                   "rule.nhs-number");
      ok = false;
    }
  }
  for (const auto& member : v.members()) {
    if (member.first == "text" || member.first == "div") continue;  // narrative: no identifiers
    walk(member.second, path + "." + member.first, issues, ok);
  }
}

}  // namespace

bool checkContentRules(const json::Value& resource, const std::string& at, IssueList& issues) {
  bool ok = true;
  walk(resource, at.empty() ? resource.getString("resourceType") : at, issues, ok);
  return ok;
}

}  // namespace acp::http
