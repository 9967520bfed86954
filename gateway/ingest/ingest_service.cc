#include "gateway/ingest/ingest_service.h"

#include <algorithm>
#include <set>

#include "gateway/core/ids.h"
#include "gateway/ingest/london_time.h"
#include "gateway/ingest/overlay.h"
#include "gateway/ingest/person_index.h"
#include "gateway/ingest/person_resolver.h"
#include "gateway/ingest/plan_flag_refresh.h"
#include "gateway/ingest/profiles.h"
#include "gateway/ingest/push_audit.h"
#include "gateway/ingest/source_ids.h"
#include "gateway/search/query.h"

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

// The record's outcome as a store failure: rejected, with nothing it wrote kept (the sender
// resends; not kept as a failure, being transient).
RecordOutcome& storeFailed(RecordOutcome& o, const Status& s) {
  o.issues.error("transient", "", "the record could not be stored: " + s.message(),
                 "ingest.store-failed");
  o.result = RecordOutcome::Result::kRejected;
  o.references.clear();
  o.wrote = false;
  return o;
}

bool rejectedByMapper(const MappedRecord& r) { return r.rejected || r.issues.hasErrors(); }

// The Patient ids a resource is (a Patient) or refers to (subject, patient, a merge's link,
// a possible-duplicate Flag's other child: any Reference to Patient/<id>, versioned or not).
void patientsReferred(const json::Value& v, std::set<std::string>& out, bool top = true) {
  if (top && v.getString("resourceType") == "Patient" && !v.getString("id").empty())
    out.insert(v.getString("id"));
  if (v.isObject()) {
    for (const auto& [name, member] : v.members()) {
      if (name == "reference" && member.isString()) {
        const std::string& ref = member.text();
        if (ref.rfind("Patient/", 0) == 0) {
          std::string id = ref.substr(8, ref.find('/', 8) - 8);
          if (!id.empty()) out.insert(id);
        }
      } else if (member.isObject() || member.isArray()) {
        patientsReferred(member, out, false);
      }
    }
  } else if (v.isArray()) {
    for (const json::Value& item : v.items()) patientsReferred(item, out, false);
  }
}

// The outcome of a record before (or without) the store: its id and the mapper's issues.
RecordOutcome mapperOutcome(const MappedRecord& r) {
  RecordOutcome o;
  o.recordId = r.recordId;
  o.issues = r.issues;
  o.result = RecordOutcome::Result::kRejected;
  return o;
}

}  // namespace

// Orders as they compare: the HL7 feed's first form ("hl7-time:" + local UK time, written
// before source orders were kept in UTC) is read as the UTC time it stands for, so data
// stored then is still ordered correctly against what arrives now.
std::string comparableOrder(const std::string& order) {
  static const std::string legacy = "hl7-time:";
  if (order.compare(0, legacy.size(), legacy) != 0 || order.size() != legacy.size() + 14)
    return order;
  for (size_t i = legacy.size(); i < order.size(); ++i)
    if (order[i] < '0' || order[i] > '9') return order;
  auto n = [&](size_t at, size_t len) { return std::stoi(order.substr(legacy.size() + at, len)); };
  int y = n(0, 4), mo = n(4, 2), d = n(6, 2), h = n(8, 2);
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return order;
  return "utc-time:" + london::utcStamp(y, mo, d, h, n(10, 2), n(12, 2),
                                        london::offsetMinutes(y, mo, d, h));
}

std::string sourceOrder(const json::Value& resource) {
  const json::Value* ext = resource.find("extension");
  if (!ext || !ext->isArray()) return "";
  for (const json::Value& e : ext->items())
    if (e.getString("url") == kSourceOrderExtension) return e.getString("valueString");
  return "";
}

json::Value withoutSourceOrder(const json::Value& resource) {
  json::Value out = resource;
  json::Value* ext = out.find("extension");
  if (!ext || !ext->isArray()) return out;
  auto& items = ext->items();
  items.erase(std::remove_if(items.begin(), items.end(),
                             [](const json::Value& e) {
                               return e.getString("url") == kSourceOrderExtension;
                             }),
              items.end());
  if (items.empty()) out.erase("extension");
  return out;
}

json::Value sourceOrderExtension(const std::string& order) {
  json::Value e = json::Value::makeObject();
  e.set("url", json::Value::makeString(kSourceOrderExtension));
  e.set("valueString", json::Value::makeString(order));
  return e;
}

bool failedInStore(const RecordOutcome& o) {
  if (o.result != RecordOutcome::Result::kRejected) return false;
  for (const Issue& i : o.issues.issues())
    if (i.code == "ingest.store-failed") return true;
  return false;
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

Status IngestService::keepDocumentFailure(const std::string& partner,
                                        const std::string& contentType, const std::string& body,
                                        const IssueList& issues, const std::string& pushId,
                                        const std::string& sourceOds) const {
  if (metrics_) {
    try {
      metrics_
          ->counter("acp_ingest_documents_refused_total",
                    "Partner documents that could not be read at all, by partner",
                    {{"partner", partner}})
          .inc();
    } catch (...) {
    }
  }
  if (!failures_) return Status::internal("ingest.not-kept: there is no failure log");
  store::KeptFailure f;
  f.partner = partner;
  f.pushId = pushId;
  f.sourceOds = sourceOds;
  f.contentType = contentType;
  f.content = body;
  f.issuesJson = json::write(issues.toOperationOutcome());
  auto kept = failures_->keep(f);
  return kept.isOk() ? Status::ok() : kept.status();
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

std::vector<RecordOutcome> IngestService::commit(const MappedPush& push, bool keepFailures,
                                                 PushAudit* audit) const {
  std::vector<RecordOutcome> out(push.records.size());
  for (size_t from = 0; from < push.records.size(); from += kRecordsPerCommit) {
    std::vector<Item> items;
    for (size_t i = from; i < push.records.size() && i < from + kRecordsPerCommit; ++i)
      items.push_back({&push, &push.records[i], &out[i], audit});
    commitItems(items);
  }
  if (keepFailures) keepRejected(push, out);
  auditRemaining(push, out, audit);
  count(push, out);
  return out;
}

void IngestService::count(const MappedPush& push, const std::vector<RecordOutcome>& outcomes) const {
  if (!metrics_) return;
  size_t byOutcome[4] = {0, 0, 0, 0};  // stored, unchanged, rejected, failed
  for (const RecordOutcome& o : outcomes) {
    size_t k = o.result == RecordOutcome::Result::kStored      ? 0
               : o.result == RecordOutcome::Result::kUnchanged ? 1
               : failedInStore(o)                              ? 3
                                                               : 2;
    ++byOutcome[k];
  }
  static const char* const kNames[4] = {"stored", "unchanged", "rejected", "failed"};
  try {  // counting must never fail a push
    for (size_t k = 0; k < 4; ++k)
      if (byOutcome[k])
        metrics_
            ->counter("acp_ingest_records_total", "Partner records received, by partner and outcome",
                      {{"partner", push.partner}, {"outcome", kNames[k]}})
            .inc(byOutcome[k]);
  } catch (...) {
  }
}

void IngestService::auditRemaining(const MappedPush& push, std::vector<RecordOutcome>& outcomes,
                                   PushAudit* audit) {
  if (!audit) return;
  audit->complete = false;
  if (!audit->trail) return;
  std::vector<const RecordOutcome*> rest;
  for (const RecordOutcome& o : outcomes)
    if (!o.audited) rest.push_back(&o);
  if (rest.empty() && !outcomes.empty()) {
    audit->complete = true;
    return;
  }
  // Nothing of these records is stored (rejected, unchanged without writes, or their
  // transaction failed): their event stands on its own.
  Status s = audit->trail->record(pushEvent(*audit, push, rest));
  if (!s.isOk()) return;
  for (RecordOutcome& o : outcomes) o.audited = true;
  audit->complete = true;
}

// One commitGrouped() call: its push, and its outcomes once its group has committed.
struct IngestService::Waiter {
  const MappedPush* push;
  PushAudit* audit;
  std::vector<RecordOutcome> outcomes;
  bool done = false;
};

std::vector<RecordOutcome> IngestService::commitGrouped(const MappedPush& push,
                                                        PushAudit* audit) const {
  // Leader/follower: the first caller to find no commit running becomes the leader, takes
  // every waiting push (its own among them) and commits them in one transaction while later
  // callers queue; when it is done it wakes them and the next one leads. No thread of its
  // own, and a lone caller commits at once.
  Waiter self{&push, audit, {}, false};
  std::unique_lock<std::mutex> lock(groupMutex_);
  groupQueue_.push_back(&self);
  while (!self.done) {
    if (groupLeader_) {
      groupCv_.wait(lock);
      continue;
    }
    groupLeader_ = true;
    std::vector<Waiter*> group;
    size_t records = 0;
    while (!groupQueue_.empty() &&
           (group.empty() || records + groupQueue_.front()->push->records.size() <= kRecordsPerCommit)) {
      records += groupQueue_.front()->push->records.size();
      group.push_back(groupQueue_.front());
      groupQueue_.pop_front();
    }
    lock.unlock();
    std::vector<Item> items;
    for (Waiter* w : group) {
      w->outcomes.resize(w->push->records.size());
      for (size_t i = 0; i < w->push->records.size(); ++i)
        items.push_back({w->push, &w->push->records[i], &w->outcomes[i], w->audit});
    }
    // Whatever happens, the group is answered and the next leader can run: an exception
    // (out of memory, ...) fails the group's records as a store failure would (no ACK: the
    // senders resend) instead of leaving every later caller waiting for ever.
    try {
      commitItems(items);
      for (Waiter* w : group) keepRejected(*w->push, w->outcomes);
    } catch (const std::exception& e) {
      for (const Item& it : items)
        storeFailed(*it.outcome, Status::internal(std::string("ingest.internal: ") + e.what()));
    } catch (...) {
      for (const Item& it : items) storeFailed(*it.outcome, Status::internal("ingest.internal"));
    }
    lock.lock();
    for (Waiter* w : group) w->done = true;
    groupLeader_ = false;
    groupCv_.notify_all();
  }
  lock.unlock();
  auditRemaining(push, self.outcomes, audit);  // on this caller's thread, no transaction held
  count(push, self.outcomes);
  return std::move(self.outcomes);
}

void IngestService::commitItems(const std::vector<Item>& items) const {
  bool anyToStore = false;
  for (const Item& it : items) {
    if (!rejectedByMapper(*it.record))
      anyToStore = true;
    else
      *it.outcome = mapperOutcome(*it.record);
  }
  if (!anyToStore) return;
  auto tx = store_->begin();
  bool stored = false;
  for (const Item& it : items) {
    if (rejectedByMapper(*it.record)) continue;
    if (!tx.isOk()) {
      *it.outcome = mapperOutcome(*it.record);
      storeFailed(*it.outcome, tx.status());
      continue;
    }
    *it.outcome = applyRecord(*tx.value(), *it.push, *it.record);
    stored = stored || it.outcome->wrote;
  }
  if (!tx.isOk() || !stored) return;  // nothing written: the transaction rolls back empty
  // Each audited push's AuditEvent for its records in this transaction (push_audit.h): the
  // items of one push are consecutive. An event that cannot be appended fails the whole
  // transaction: nothing is stored unaudited.
  Status s;
  for (size_t from = 0; from < items.size() && s.isOk();) {
    size_t to = from;
    std::vector<const RecordOutcome*> reported;
    while (to < items.size() && items[to].push == items[from].push)
      reported.push_back(items[to++].outcome);
    PushAudit* audit = items[from].audit;
    if (audit && audit->trail)
      s = audit->trail->recordWithin(*tx.value(), pushEvent(*audit, *items[from].push, reported));
    from = to;
  }
  if (s.isOk()) s = tx.value()->commit();
  if (s.isOk()) {
    for (const Item& it : items)
      if (it.audit && it.audit->trail) it.outcome->audited = true;
    return;
  }
  // Nothing of this transaction is durable, and an "unchanged" answer may rest on it too (a
  // resend recognised by the delivery claim of its original earlier in the same group, a
  // record equal to what an earlier one wrote): every record answered stored or unchanged
  // fails, so no sender is told its message is safe. Rejected records keep their reasons.
  for (const Item& it : items)
    if (it.outcome->result != RecordOutcome::Result::kRejected) storeFailed(*it.outcome, s);
}

void IngestService::keepRejected(const MappedPush& push, std::vector<RecordOutcome>& outcomes) const {
  if (!failures_) return;
  for (size_t i = 0; i < outcomes.size() && i < push.records.size(); ++i) {
    RecordOutcome& o = outcomes[i];
    if (o.result != RecordOutcome::Result::kRejected) continue;
    // A store failure is transient: the sender resends (or the HTTP client retries); keeping
    // it would only hold a copy of a record that will arrive again.
    if (failedInStore(o)) continue;
    const MappedRecord& r = push.records[i];
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
      o.issues.warning("transient", "", "the rejected record could not be kept for replay",
                       "ingest.not-kept");
    else
      o.issues.information("informational", "",
                           "kept as failure " + std::to_string(kept.value()) +
                               " (GET /$ingest/failures/" + std::to_string(kept.value()) + ")",
                           "ingest.kept");
  }
}

RecordOutcome IngestService::applyRecord(store::Transaction& tx, const MappedPush& push,
                                         const MappedRecord& record) const {
  RecordOutcome o;
  o.recordId = record.recordId;
  for (const Issue& i : record.issues.issues()) o.issues.add(i);
  Status unit = tx.beginUnit();
  if (!unit.isOk()) return storeFailed(o, unit);
  // The record's writes: kept in the transaction only when the record is stored.
  auto finish = [&](RecordOutcome& result) -> RecordOutcome {
    Status end = tx.endUnit(result.wrote);
    if (!end.isOk()) storeFailed(result, end);
    return std::move(result);
  };
  if (!record.deliveryKey.empty()) {
    auto fresh = tx.claimDelivery(record.deliveryKey);
    if (!fresh.isOk()) return finish(storeFailed(o, fresh.status()));
    if (!fresh.value()) {
      o.issues.information("informational", "",
                           "already received and applied (a resend): nothing written",
                           "ingest.resent");
      o.result = RecordOutcome::Result::kUnchanged;
      return finish(o);
    }
  }
  // The resources as they will be written: overlays completed from the current versions
  // (inside this transaction), then every one validated before anything is written.
  std::vector<json::Value> finals;
  finals.reserve(record.resources.size());
  struct Order {
    std::string type, id, order;
  };
  std::vector<Order> orders;  // to record once the resources are written
  for (const json::Value& res : record.resources) {
    const std::string& type = res.getString("resourceType");
    const std::string& id = res.getString("id");
    // The source order travels from the mapper in an extension but is kept beside the
    // resource (Transaction::sourceOrder), never in it: a record that only confirms what is
    // stored then advances the order without making a new version.
    std::string order = sourceOrder(res);
    json::Value incoming = withoutSourceOrder(res);
    bool overlay = record.overlayTypes.count(type) > 0;
    json::Value current;
    std::string stored;
    if (type == "Patient") {
      // A source patient: its view as this source last sent it (person_resolver.h).
      auto view = PersonResolver::storedView(tx, id);
      if (!view.isOk()) return finish(storeFailed(o, view.status()));
      current = view.take();
    }
    if (overlay || !order.empty()) {
      if (type != "Patient") {
        auto cur = tx.read(type, id);
        json::ParseError err;
        if (!cur.isOk() || !json::parse(cur->json, current, err) || !current.isObject())
          current = json::Value();
      }
      auto so = tx.sourceOrder(type, id);
      if (!so.isOk()) return finish(storeFailed(o, so.status()));
      // Versions written before the order was kept beside them carry it in the extension.
      stored = !so.value().empty() ? so.value() : current.isObject() ? sourceOrder(current) : "";
      if (current.isObject()) current = withoutSourceOrder(current);
    }
    // A patient merged into another (ADT^A40) takes no more data: it would land on an
    // inactive record that searches for the child skip. Rejected (kept) so the sender's team
    // resends it under the surviving patient.
    if (type == "Patient" && current.isObject()) {
      std::string into = replacedByOf(current);
      if (!into.empty()) {
        into = "Patient/" + into;
        o.issues.error("processing", "Patient",
                       "Patient " + id + " was merged into " + into +
                           " (ADT^A40): data for it must be sent under the surviving patient; "
                           "not applied",
                       "ingest.merged-away");
        o.result = RecordOutcome::Result::kRejected;
        return finish(o);
      }
    }
    // Clinical safety: data older than what is stored (an earlier plan version, an admission
    // arriving after its discharge) never overwrites newer data. A partial (overlay) record
    // may still fill elements the stored version lacks.
    if (!order.empty() && !stored.empty() && comparableOrder(order) < comparableOrder(stored)) {
      std::vector<std::string> filled;
      if (overlay) {
        json::Value gapsFilled = fillGaps(current, incoming, filled);
        if (!filled.empty()) {
          std::string list;
          for (const std::string& f : filled) list += (list.empty() ? "" : ", ") + f;
          o.issues.warning("informational", type,
                           type + " " + id + ": the stored version is newer than this record's; "
                           "only what it lacked was taken (" + list + ")",
                           "ingest.stale");
          finals.push_back(std::move(gapsFilled));
          continue;
        }
      }
      o.issues.warning("informational", type,
                       type + " " + id + ": the stored version is newer than this record's; not applied",
                       "ingest.stale");
      continue;
    }
    json::Value out;
    if (overlay) {
      std::set<std::string> objects;
      for (const std::string& path : record.overlayObjects)
        if (path.compare(0, type.size() + 1, type + ".") == 0) objects.insert(path.substr(type.size() + 1));
      auto d = record.defaults.find(type + "/" + id);
      out = layOver(incoming, current, objects, d == record.defaults.end() ? nullptr : &d->second);
    } else {
      out = std::move(incoming);
      stripNulls(out);  // a member set to null is an explicit removal
    }
    if (!order.empty() && order != stored) orders.push_back({type, id, order});
    claimProfiles(out);
    keepStoredLabels(out, current);
    finals.push_back(std::move(out));
  }
  for (const MappedRecord::PatientMerge& m : record.merges) {
    auto merged = applyMerge(tx, m, finals, o.issues);
    if (!merged.isOk()) return finish(storeFailed(o, merged.status()));
    if (!merged.value()) {
      o.result = RecordOutcome::Result::kRejected;
      return finish(o);
    }
  }
  // The record's source orders first: combining a person orders its sources' views by them
  // (undone with the unit if the record is not stored).
  for (const Order& ord : orders) {
    Status so = tx.setSourceOrder(ord.type, ord.id, ord.order);
    if (!so.isOk()) return finish(storeFailed(o, so));
  }
  // Source patients become the persons served (one child, one Patient: person_index.h).
  std::vector<std::string> sourcePatients;
  for (const json::Value& res : record.resources)
    if (res.getString("resourceType") == "Patient") sourcePatients.push_back(res.getString("id"));
  PersonResolver persons(*model_, tx, formatInstant(now()));
  auto wroteSources = persons.resolve(finals, sourcePatients, o.issues);
  if (!wroteSources.isOk()) return finish(storeFailed(o, wroteSources.status()));
  bool valid = true;
  for (const json::Value& res : finals) {
    bool ok = validator_.validate(res, o.issues);
    if (ok && profiles_) ok = profiles_->validateClaimed(res, o.issues);
    valid = valid && ok;
  }
  if (!valid) {
    o.result = RecordOutcome::Result::kRejected;
    return finish(o);
  }
  // The persons the record concerns, for its AuditEvent (push_audit.h).
  {
    std::set<std::string> patients;
    for (const json::Value& res : finals) patientsReferred(res, patients);
    o.patients.assign(patients.begin(), patients.end());
  }
  // What the record's source patient's records wrote: it follows that record if it turns out
  // to be another child (person_resolver.h).
  if (!sourcePatients.empty()) {
    std::vector<std::pair<std::string, std::string>> own;
    for (const json::Value& res : record.resources)
      if (res.getString("resourceType") != "Patient")
        own.emplace_back(res.getString("resourceType"), res.getString("id"));
    Status kept = tx.addSourceResources(sourcePatients.front(), own);
    if (!kept.isOk()) return finish(storeFailed(o, kept));
  }
  std::vector<std::string> changed;
  for (const json::Value& res : finals) {
    const std::string& type = res.getString("resourceType");
    const std::string& id = res.getString("id");
    auto w = tx.update(type, id, res);
    if (!w.isOk()) return finish(storeFailed(o, w.status()));
    std::string ref = type + "/" + id + "/_history/" + std::to_string(w->resource.versionId);
    o.references.push_back(ref);
    if (!w->noop) changed.push_back(ref);
  }
  // The child's plan Flags, when what they depend on changed (plans, the Patient: a birth
  // date, a merge), in the same unit as the change.
  bool planInputs = false;
  for (const std::string& ref : changed)
    planInputs = planInputs || ref.rfind("CarePlan/", 0) == 0 || ref.rfind("Patient/", 0) == 0;
  if (planInputs) {
    FlagContext ctx{*model_, validator_, profiles_.get()};
    std::vector<std::string> flags;
    // The persons the record touched, and those its plans are about (a record whose Patient
    // part was older than the stored one still changes its plans).
    std::set<std::string> planPersons = persons.touchedPersons();
    for (const json::Value& res : finals)
      if (res.getString("resourceType") == "CarePlan")
        if (const json::Value* subject = res.find("subject")) {
          const std::string& ref = subject->getString("reference");
          if (ref.rfind("Patient/", 0) == 0) planPersons.insert(ref.substr(8));
        }
    for (const std::string& person : planPersons) {
      Status flagged = refreshPlanFlags(ctx, tx, person, now(), flags, o.issues);
      if (!flagged.isOk()) return finish(storeFailed(o, flagged));
    }
    for (const std::string& ref : flags) {
      changed.push_back(ref);
      o.references.push_back(ref);
    }
  }
  if (changed.empty()) {
    o.result = RecordOutcome::Result::kUnchanged;
    // Nothing new to serve, but newer orders or a source's changed view (one that another
    // source's newer data outweighs): they (and the delivery claim) are kept; with neither,
    // the unit is undone.
    o.wrote = !orders.empty() || wroteSources.value();
    return finish(o);
  }
  auto p = tx.create("Provenance", provenance(push, record, changed));
  if (!p.isOk()) return finish(storeFailed(o, p.status()));
  o.references.push_back("Provenance/" + p->resource.id + "/_history/" +
                         std::to_string(p->resource.versionId));
  o.written = changed;
  o.written.push_back(o.references.back());
  o.result = RecordOutcome::Result::kStored;
  o.wrote = true;
  return finish(o);
}

Result<bool> IngestService::applyMerge(store::Transaction& tx,
                                       const MappedRecord::PatientMerge& merge,
                                       std::vector<json::Value>& finals, IssueList& issues) const {
  if (merge.duplicateId == merge.survivorId) {
    issues.error("processing", "Patient", "a merge needs two different patients", "ingest.merge-invalid");
    return false;
  }
  // The survivor as stored before this record: its NHS number counts even when the message
  // does not repeat it. Both are source patients: their views (person_resolver.h).
  auto before = PersonResolver::storedView(tx, merge.survivorId);
  if (!before.isOk()) return before.status();
  json::Value storedSurvivor = before.take();
  json::Value* survivor = findResource(finals, "Patient", merge.survivorId);
  if (!survivor) {
    // The record's Patient was older than the stored one (not applied): the merge still is,
    // on the survivor as stored.
    if (!storedSurvivor.isObject()) {
      issues.error("processing", "Patient", "the surviving patient of the merge is not known",
                   "ingest.merge-invalid");
      return false;
    }
    finals.push_back(storedSurvivor);
    survivor = &finals.back();
  }
  auto stored = PersonResolver::storedView(tx, merge.duplicateId);
  if (!stored.isOk()) return stored.status();
  if (!stored.value().isObject()) {
    // Nothing was ever stored for the duplicate, so nothing refers to it: the survivor stands.
    issues.warning("informational", "Patient",
                   "the duplicate patient of the merge is not known here; nothing to move",
                   "ingest.merge-unknown-duplicate");
    return true;
  }
  json::Value duplicate = stored.take();
  // Clinical safety: two records with different NHS numbers are two people, whatever the
  // sender says; merging them would put one child's plan in another's record.
  std::string a = nhsNumberOf(*survivor), b = nhsNumberOf(duplicate);
  std::string was = storedSurvivor.isObject() ? nhsNumberOf(storedSurvivor) : "";
  if (!b.empty() && ((!a.empty() && a != b) || (!was.empty() && was != b))) {
    issues.error("processing", "Patient.identifier",
                 "the two patients of the merge have different NHS numbers; not merged",
                 "ingest.merge-conflict");
    return false;
  }
  if (a.empty() && !b.empty()) {
    // The survivor takes the NHS number the duplicate was known by.
    for (const json::Value& id : duplicate.find("identifier")->items())
      if (id.getString("system") == kNhsNumberSystem) {
        json::Value* ids = survivor->find("identifier");
        if (!ids || !ids->isArray()) ids = &survivor->set("identifier", json::Value::makeArray());
        ids->items().insert(ids->items().begin(), id);
        break;
      }
  }
  addPatientLink(*survivor, merge.duplicateId, "replaces");
  duplicate.set("active", json::Value::makeBool(false));
  addPatientLink(duplicate, merge.survivorId, "replaced-by");
  if (json::Value* inFinals = findResource(finals, "Patient", merge.duplicateId))
    *inFinals = std::move(duplicate);
  else
    finals.push_back(std::move(duplicate));
  // The duplicate's records are the survivor's now.
  Status moved = tx.moveSourceResources(merge.duplicateId, merge.survivorId);
  if (!moved.isOk()) return moved;
  // The duplicate's view is now retired: PersonResolver moves its person — and everything
  // that refers to it — to the survivor's when no other source keeps it.
  issues.information("informational", "Patient", "merged into the surviving patient",
                     "ingest.merged");
  return true;
}

int64_t IngestService::now() const { return clock_ ? clock_() : nowMillis(); }

Result<int> IngestService::refreshTimedFlags() const {
  // The children with an active plan (the only ones whose Flags can change with time), and
  // those with an open plan Flag (so a Flag can close when its plan went).
  std::set<std::string> persons;
  auto collect = [&](const std::string& type, std::vector<std::pair<std::string, std::string>> params,
                     const char* element) -> Status {
    search::SearchQuery q;
    IssueList ignored;
    search::QueryOptions opts;
    opts.defaultCount = 1000;
    opts.maxCount = 1000;
    if (!search::parseQuery(*model_, type, params, opts, q, ignored))
      return Status::internal("plan flags: query refused");
    for (int pages = 0; pages < 100000; ++pages) {
      auto page = store_->search(q);
      if (!page.isOk()) return page.status();
      for (const store::StoredResource& r : page->entries) {
        json::Value v;
        json::ParseError err;
        if (!json::parse(r.json, v, err)) continue;
        if (const json::Value* ref = v.find(element)) {
          const std::string& target = ref->getString("reference");
          if (target.rfind("Patient/", 0) == 0) persons.insert(target.substr(8));
        }
      }
      if (page->nextCursor.empty()) break;
      q.cursor = page->nextCursor;
    }
    return Status::ok();
  };
  Status s = collect("CarePlan", {{"status", "active"}}, "subject");
  if (!s.isOk()) return s;
  s = collect("Flag", {}, "subject");
  if (!s.isOk()) return s;
  int written = 0;
  FlagContext ctx{*model_, validator_, profiles_.get()};
  std::vector<std::string> batch(persons.begin(), persons.end());
  // Short writer turns: every audited read waits for the writer (its group commit), and the
  // store hands the writer over in arrival order, so one turn is what a read may wait.
  constexpr size_t kPersonsPerTurn = 2;
  for (size_t from = 0; from < batch.size(); from += kPersonsPerTurn) {
    auto tx = store_->begin();
    if (!tx.isOk()) return tx.status();
    std::vector<std::string> refs;
    IssueList issues;
    for (size_t i = from; i < batch.size() && i < from + kPersonsPerTurn; ++i) {
      Status f = refreshPlanFlags(ctx, *tx.value(), batch[i], now(), refs, issues);
      if (!f.isOk()) return f;
    }
    if (refs.empty()) continue;  // nothing changed: the transaction rolls back empty
    Status c = tx.value()->commit();
    if (!c.isOk()) return c;
    written += static_cast<int>(refs.size());
  }
  return written;
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
