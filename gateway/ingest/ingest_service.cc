#include "gateway/ingest/ingest_service.h"

#include <algorithm>

#include "gateway/core/ids.h"
#include "gateway/ingest/source_ids.h"

namespace acp::ingest {

namespace {

json::Value str(const std::string& s) { return json::Value::makeString(s); }

json::Value reference(const std::string& ref) {
  json::Value r = json::Value::makeObject();
  r.set("reference", str(ref));
  return r;
}

json::Value identifierRef(const std::string& system, const std::string& value,
                          const std::string& display) {
  json::Value id = json::Value::makeObject();
  id.set("system", str(system));
  id.set("value", str(value));
  json::Value r = json::Value::makeObject();
  r.set("identifier", std::move(id));
  if (!display.empty()) r.set("display", str(display));
  return r;
}

}  // namespace

std::string sourceOrder(const json::Value& resource) {
  const json::Value* ext = resource.find("extension");
  if (!ext || !ext->isArray()) return "";
  for (const json::Value& e : ext->items())
    if (e.getString("url") == kSourceOrderExtension) return e.getString("valueString");
  return "";
}

json::Value sourceOrderExtension(const std::string& order) {
  json::Value e = json::Value::makeObject();
  e.set("url", json::Value::makeString(kSourceOrderExtension));
  e.set("valueString", json::Value::makeString(order));
  return e;
}

const char* resultName(RecordOutcome::Result r) {
  switch (r) {
    case RecordOutcome::Result::kStored: return "stored";
    case RecordOutcome::Result::kUnchanged: return "unchanged";
    case RecordOutcome::Result::kRejected: return "rejected";
  }
  return "rejected";
}

IngestService::IngestService(std::shared_ptr<const model::Model> model,
                             std::shared_ptr<store::ResourceStore> store,
                             std::shared_ptr<store::FailureLog> failures)
    : model_(std::move(model)),
      store_(std::move(store)),
      failures_(std::move(failures)),
      validator_(model_) {}

void IngestService::keepDocumentFailure(const std::string& partner,
                                        const std::string& contentType, const std::string& body,
                                        const IssueList& issues) const {
  if (!failures_) return;
  store::KeptFailure f;
  f.partner = partner;
  f.contentType = contentType;
  f.content = body;
  f.issuesJson = json::write(issues.toOperationOutcome());
  auto kept = failures_->keep(f);
  (void)kept;  // best effort: the sender got the answer and still holds the document
}

void IngestService::addPartner(std::shared_ptr<const PartnerMapper> mapper) {
  partners_.push_back(std::move(mapper));
}

const PartnerMapper* IngestService::partner(const std::string& name) const {
  for (const auto& p : partners_)
    if (p->name() == name) return p.get();
  return nullptr;
}

std::vector<std::string> IngestService::partnerNames() const {
  std::vector<std::string> out;
  for (const auto& p : partners_) out.push_back(p->name());
  return out;
}

std::vector<RecordOutcome> IngestService::commit(const MappedPush& push, bool keepFailures) const {
  std::vector<RecordOutcome> out;
  out.reserve(push.records.size());
  for (const MappedRecord& r : push.records) {
    out.push_back(commitRecord(push, r));
    const RecordOutcome& o = out.back();
    if (o.result != RecordOutcome::Result::kRejected || !keepFailures || !failures_) continue;
    // A store failure is transient: the sender resends (or the HTTP client retries); keeping
    // it would only hold a copy of a record that will arrive again.
    bool transient = false;
    for (const Issue& i : o.issues.issues()) transient = transient || i.code == "ingest.store-failed";
    if (transient) continue;
    store::KeptFailure f;
    f.partner = push.partner;
    f.sourceOds = push.sourceOds;
    f.pushId = push.pushId;
    f.recordId = r.recordId;
    f.contentType = push.contentType;
    f.content = r.content;
    f.issuesJson = json::write(o.issues.toOperationOutcome());
    auto kept = failures_->keep(f);
    if (!kept.isOk())
      out.back().issues.warning("transient", "", "the rejected record could not be kept for replay",
                                "ingest.not-kept");
    else
      out.back().issues.information("informational", "",
                                    "kept as failure " + std::to_string(kept.value()) +
                                        " (GET /$ingest/failures/" + std::to_string(kept.value()) +
                                        ")",
                                    "ingest.kept");
  }
  return out;
}

RecordOutcome IngestService::commitRecord(const MappedPush& push,
                                          const MappedRecord& record) const {
  RecordOutcome o;
  o.recordId = record.recordId;
  for (const Issue& i : record.issues.issues()) o.issues.add(i);
  if (record.rejected || record.issues.hasErrors()) {
    o.result = RecordOutcome::Result::kRejected;
    return o;
  }
  auto fail = [&](const Status& s) {
    o.issues.error("transient", "", "the record could not be stored: " + s.message(),
                   "ingest.store-failed");
    o.result = RecordOutcome::Result::kRejected;
    o.references.clear();
    return o;
  };
  auto tx = store_->begin();
  if (!tx.isOk()) return fail(tx.status());
  // The resources as they will be written: overlays completed from the current versions
  // (inside this transaction), then every one validated before anything is written.
  std::vector<json::Value> finals;
  finals.reserve(record.resources.size());
  for (const json::Value& res : record.resources) {
    json::Value out = res;
    const std::string& type = res.getString("resourceType");
    std::string order = sourceOrder(res);
    bool overlay = record.overlayTypes.count(type) > 0;
    if (overlay || !order.empty()) {
      auto cur = tx.value()->read(type, res.getString("id"));
      json::Value current;
      json::ParseError err;
      if (cur.isOk() && json::parse(cur->json, current, err) && current.isObject()) {
        // Clinical safety: data older than what is stored (an earlier plan version, an
        // admission arriving after its discharge) is never laid over newer data.
        std::string stored = sourceOrder(current);
        if (!order.empty() && !stored.empty() && order < stored) {
          o.issues.warning("informational", type,
                           type + " " + res.getString("id") +
                               ": the stored version is newer than this record's; not applied",
                           "ingest.stale");
          continue;
        }
        if (overlay)
          for (const auto& [k, v] : current.members()) {
            if (k == "meta" || out.find(k)) continue;
            out.set(k, v);
          }
      }
    }
    // A member set to null by the mapper is an explicit removal (it also stopped the overlay
    // from keeping the stored value).
    auto& members = out.members();
    members.erase(std::remove_if(members.begin(), members.end(),
                                 [](const json::Value::Member& m) { return m.second.isNull(); }),
                  members.end());
    finals.push_back(std::move(out));
  }
  bool valid = true;
  for (const json::Value& res : finals) valid = validator_.validate(res, o.issues) && valid;
  if (!valid) {
    o.result = RecordOutcome::Result::kRejected;
    return o;
  }
  std::vector<std::string> changed;
  for (const json::Value& res : finals) {
    const std::string& type = res.getString("resourceType");
    const std::string& id = res.getString("id");
    auto w = tx.value()->update(type, id, res);
    if (!w.isOk()) return fail(w.status());
    std::string ref = type + "/" + id + "/_history/" + std::to_string(w->resource.versionId);
    o.references.push_back(ref);
    if (!w->noop) changed.push_back(ref);
  }
  if (changed.empty()) {
    o.result = RecordOutcome::Result::kUnchanged;
    return o;  // nothing written: the transaction rolls back with nothing in it
  }
  auto p = tx.value()->create("Provenance", provenance(push, record, changed));
  if (!p.isOk()) return fail(p.status());
  o.references.push_back("Provenance/" + p->resource.id + "/_history/" +
                         std::to_string(p->resource.versionId));
  Status s = tx.value()->commit();
  if (!s.isOk()) return fail(s);
  o.result = RecordOutcome::Result::kStored;
  return o;
}

json::Value IngestService::provenance(const MappedPush& push, const MappedRecord& record,
                                      const std::vector<std::string>& targets) const {
  json::Value p = json::Value::makeObject();
  p.set("resourceType", str("Provenance"));
  json::Value t = json::Value::makeArray();
  for (const std::string& ref : targets) t.push(reference(ref));
  p.set("target", std::move(t));
  p.set("recorded", str(formatInstant(nowMillis())));
  json::Value agent = json::Value::makeObject();
  json::Value type = json::Value::makeObject();
  json::Value coding = json::Value::makeArray();
  json::Value c = json::Value::makeObject();
  c.set("system", str("http://terminology.hl7.org/CodeSystem/provenance-participant-type"));
  c.set("code", str("author"));
  coding.push(std::move(c));
  type.set("coding", std::move(coding));
  agent.set("type", std::move(type));
  agent.set("who", identifierRef(kOdsSystem, push.sourceOds, push.sourceSystem));
  json::Value agents = json::Value::makeArray();
  agents.push(std::move(agent));
  p.set("agent", std::move(agents));
  // The push (document or message) and the record in it that these versions came from.
  json::Value entities = json::Value::makeArray();
  json::Value pushEntity = json::Value::makeObject();
  pushEntity.set("role", str("source"));
  pushEntity.set("what", identifierRef(std::string(kAcpBase) + "/Id/push/" + push.sourceOds,
                                       push.pushId, push.partner + " push"));
  entities.push(std::move(pushEntity));
  json::Value recordEntity = json::Value::makeObject();
  recordEntity.set("role", str("source"));
  recordEntity.set("what", identifierRef(localIdentifierSystem(push.sourceOds) + "/record",
                                         record.recordId, "source record"));
  entities.push(std::move(recordEntity));
  p.set("entity", std::move(entities));
  return p;
}

json::Value IngestService::outcomeParameters(const MappedPush& push,
                                             const std::vector<RecordOutcome>& outcomes) {
  json::Value params = json::Value::makeArray();
  auto part = [](const std::string& name, const char* key, json::Value v) {
    json::Value p = json::Value::makeObject();
    p.set("name", str(name));
    p.set(key, std::move(v));
    return p;
  };
  params.push(part("pushId", "valueString", str(push.pushId)));
  params.push(part("source", "valueIdentifier", [&] {
    json::Value id = json::Value::makeObject();
    id.set("system", str(kOdsSystem));
    id.set("value", str(push.sourceOds));
    return id;
  }()));
  int counts[3] = {0, 0, 0};
  for (const auto& o : outcomes) ++counts[static_cast<int>(o.result)];
  params.push(part("stored", "valueInteger", json::Value::makeNumber(std::to_string(counts[0]))));
  params.push(part("unchanged", "valueInteger", json::Value::makeNumber(std::to_string(counts[1]))));
  params.push(part("rejected", "valueInteger", json::Value::makeNumber(std::to_string(counts[2]))));
  for (const auto& o : outcomes) {
    json::Value rec = json::Value::makeObject();
    rec.set("name", str("record"));
    json::Value parts = json::Value::makeArray();
    parts.push(part("id", "valueString", str(o.recordId)));
    parts.push(part("outcome", "valueCode", str(resultName(o.result))));
    for (const std::string& ref : o.references) parts.push(part("resource", "valueReference", reference(ref)));
    if (!o.issues.empty()) {
      json::Value issues = json::Value::makeObject();
      issues.set("name", str("issues"));
      issues.set("resource", o.issues.toOperationOutcome());
      parts.push(std::move(issues));
    }
    rec.set("part", std::move(parts));
    params.push(std::move(rec));
  }
  json::Value p = json::Value::makeObject();
  p.set("resourceType", str("Parameters"));
  p.set("parameter", std::move(params));
  return p;
}

}  // namespace acp::ingest
