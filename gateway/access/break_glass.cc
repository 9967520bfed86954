#include "gateway/access/break_glass.h"

#include "gateway/core/ids.h"
#include "gateway/ingest/source_ids.h"
#include "gateway/search/index.h"
#include "gateway/search/query.h"
#include "gateway/store/instant.h"

namespace acp::access {

const char* const BreakGlass::kClientSystem = "https://acp-gateway.nhs.uk/Id/break-glass-client";
const char* const BreakGlass::kFlagCode = "break-glass";

namespace {
const char* const kFlagSystem = "https://acp-gateway.nhs.uk/CodeSystem/acp-flag";
json::Value str(const std::string& s) { return json::Value::makeString(s); }
}  // namespace

BreakGlass::BreakGlass(std::shared_ptr<store::ResourceStore> store,
                       std::shared_ptr<const model::Model> model, BreakGlassOptions options)
    : store_(std::move(store)), model_(std::move(model)), options_(std::move(options)) {}

int64_t BreakGlass::now() const { return options_.nowMs ? options_.nowMs() : nowMillis(); }

bool BreakGlass::holds(const auth::Principal& principal, const std::string& patientId,
                       std::string* reason) const {
  search::QueryOptions opts;
  opts.strict = true;
  opts.defaultCount = 100;
  opts.maxCount = 100;
  search::SearchQuery query;
  IssueList issues;
  if (!search::parseQuery(*model_, "Flag",
                          {{"patient", "Patient/" + patientId},
                           {"identifier", std::string(kClientSystem) + "|" + principal.clientId}},
                          opts, query, issues))
    return false;
  auto page = store_->search(query);
  if (!page.isOk()) return false;
  const int64_t t = now();
  for (const store::StoredResource& r : page->entries) {
    json::Value flag;
    json::ParseError err;
    if (!json::parse(r.json, flag, err) || flag.getString("status") != "active") continue;
    bool isGrant = false;  // R4 Flag has no code search parameter: checked here
    if (const json::Value* code = flag.find("code"))
      if (const json::Value* codings = code->find("coding"); codings && codings->isArray())
        for (const json::Value& c : codings->items())
          isGrant = isGrant || (c.getString("system") == kFlagSystem &&
                                c.getString("code") == kFlagCode);
    if (!isGrant) continue;
    const json::Value* period = flag.find("period");
    int64_t low = 0, high = 0;
    if (!period || !search::dateRange(period->getString("end"), low, high) || high < t) continue;
    if (reason) {
      const json::Value* code = flag.find("code");
      *reason = code ? code->getString("text") : "";
    }
    return true;
  }
  return false;
}

Status BreakGlass::grant(const auth::Principal& principal, const std::string& patientId,
                         const std::string& reason) const {
  const int64_t start = now();
  const int64_t end = start + int64_t{options_.minutes} * 60000;
  json::Value flag = json::Value::makeObject();
  flag.set("resourceType", str("Flag"));
  json::Value id = json::Value::makeObject();
  id.set("system", str(kClientSystem));
  id.set("value", str(principal.clientId));
  flag.set("identifier", json::Value::makeArray());
  flag.find("identifier")->push(std::move(id));
  flag.set("status", str("active"));
  json::Value catCoding = json::Value::makeObject();
  catCoding.set("system", str("http://terminology.hl7.org/CodeSystem/flag-category"));
  catCoding.set("code", str("admin"));
  catCoding.set("display", str("Administrative"));
  json::Value category = json::Value::makeObject();
  category.set("coding", json::Value::makeArray());
  category.find("coding")->push(std::move(catCoding));
  flag.set("category", json::Value::makeArray());
  flag.find("category")->push(std::move(category));
  json::Value coding = json::Value::makeObject();
  coding.set("system", str(kFlagSystem));
  coding.set("code", str(kFlagCode));
  coding.set("display", str("Emergency (break-glass) access to this record"));
  json::Value code = json::Value::makeObject();
  code.set("coding", json::Value::makeArray());
  code.find("coding")->push(std::move(coding));
  code.set("text", str("Emergency access by " + principal.organisation + " (" +
                       principal.clientId + "): " + reason));
  flag.set("code", std::move(code));
  json::Value subject = json::Value::makeObject();
  subject.set("reference", str("Patient/" + patientId));
  flag.set("subject", std::move(subject));
  json::Value period = json::Value::makeObject();
  period.set("start", str(store::formatInstant(start)));
  period.set("end", str(store::formatInstant(end)));
  flag.set("period", std::move(period));
  json::Value authorId = json::Value::makeObject();
  authorId.set("system", str(ingest::kOdsSystem));
  authorId.set("value", str(principal.organisation));
  json::Value author = json::Value::makeObject();
  author.set("type", str("Organization"));
  author.set("identifier", std::move(authorId));
  flag.set("author", std::move(author));
  auto tx = store_->begin();
  if (!tx.isOk()) return tx.status();
  auto w = tx.value()->create("Flag", std::move(flag));
  if (!w.isOk()) return w.status();
  return tx.value()->commit();
}

}  // namespace acp::access
