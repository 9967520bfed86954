// POST /$ingest/<partner>: a partner's push in its own format (the body is not FHIR).
// 200 with a Parameters resource listing every record's outcome (IngestService), even when
// some records were rejected; 400 with an OperationOutcome when the document as a whole
// cannot be read (nothing stored); 415 when the Content-Type is not the partner's.
#include <cctype>

#include "gateway/http/fhir_service.h"

namespace acp::http {

FhirService::Outcome FhirService::ingestPush(const FhirRequest& rq,
                                             const std::string& name) const {
  const ingest::PartnerMapper* partner = ingest_->partner(name);
  std::string type = rq.header("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!partner->acceptsMediaType(type))
    return fail(415, "not-supported",
                "this endpoint takes the " + name + " export format, not \"" + type + "\"",
                "ingest.unsupported-media-type");
  if (rq.body.empty()) return fail(400, "required", "the push is empty", "http.empty-body");
  ingest::MappedPush push;
  IssueList issues;
  if (!partner->map(rq.body, push, issues)) {
    Outcome o;
    o.status = 400;
    o.issues = std::move(issues);
    return o;
  }
  std::vector<ingest::RecordOutcome> outcomes = ingest_->commit(push);
  Outcome o;
  json::Value params = ingest::IngestService::outcomeParameters(push, outcomes);
  if (!issues.empty()) {
    // Document-level warnings (unused top-level fields) come first, as their own parameter.
    json::Value p = json::Value::makeObject();
    p.set("name", json::Value::makeString("documentIssues"));
    p.set("resource", issues.toOperationOutcome());
    params.find("parameter")->items().insert(params.find("parameter")->items().begin(), std::move(p));
  }
  o.body = std::move(params);
  return o;
}

}  // namespace acp::http
