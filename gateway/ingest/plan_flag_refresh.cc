#include "gateway/ingest/plan_flag_refresh.h"

#include "gateway/core/ids.h"
#include "gateway/ingest/profiles.h"
#include "gateway/ingest/source_ids.h"
#include "gateway/plan/plan_flags.h"
#include "gateway/search/query.h"

namespace acp::ingest {

namespace {

Result<json::Value> readJson(store::Transaction& tx, const std::string& type,
                             const std::string& id) {
  auto stored = tx.read(type, id);
  if (!stored.isOk()) {
    if (stored.status().code() == Status::Code::kNotFound ||
        stored.status().code() == Status::Code::kGone)
      return json::Value();
    return stored.status();
  }
  json::Value v;
  json::ParseError err;
  if (!json::parse(stored->json, v, err) || !v.isObject())
    return Status::internal("store: stored JSON unreadable");
  return v;
}

}  // namespace

std::string gatewayFlagId(const std::string& kind, const std::string& personId) {
  return derivedId("Flag", "acp-gateway", kind + "|" + personId);
}

std::vector<std::string> gatewayFlagKinds() {
  std::vector<std::string> kinds = {"identity-mismatch"};
  for (const std::string& k : plan::planFlagKinds()) kinds.push_back(k);
  return kinds;
}

Status refreshPlanFlags(const FlagContext& ctx, store::Transaction& tx,
                        const std::string& personId, int64_t nowMs,
                        std::vector<std::string>& written, IssueList& issues) {
  auto patient = readJson(tx, "Patient", personId);
  if (!patient.isOk()) return patient.status();
  plan::SummaryInput in;
  in.patientId = personId;
  search::SearchQuery q;
  IssueList ignored;
  if (!search::parseQuery(ctx.model, "CarePlan", {{"subject", "Patient/" + personId}},
                          search::QueryOptions{}, q, ignored))
    return Status::internal("plan flags: CarePlan query refused");
  auto ids = tx.match(q, 10000);
  if (!ids.isOk()) return ids.status();
  for (const std::string& id : ids.value()) {
    auto plan = readJson(tx, "CarePlan", id);
    if (!plan.isOk()) return plan.status();
    if (!plan.value().isObject()) continue;
    if (plan.value().getString("status") != "draft") {
      in.carePlans.push_back(plan.take());
      continue;
    }
    // A draft revision: the version it revises may still be in force (acp_summary.h).
    auto versions = tx.versions("CarePlan", id, 50);
    if (!versions.isOk()) return versions.status();
    std::vector<json::Value> newestFirst;
    for (const store::StoredResource& v : versions.value()) {
      if (v.deleted) break;
      json::Value pv;
      json::ParseError err;
      if (json::parse(v.json, pv, err)) newestFirst.push_back(std::move(pv));
    }
    for (json::Value& v : plan::versionsInForce(newestFirst)) in.carePlans.push_back(std::move(v));
  }
  const json::Value& p = patient.value();
  std::string birthDate = p.isObject() ? p.getString("birthDate") : "";
  // A Patient no longer in use (merged into another) raises nothing: its Flags close.
  bool inUse = p.isObject();
  if (const json::Value* active = inUse ? p.find("active") : nullptr)
    inUse = !active->isBool() || active->boolean();
  bool deceased = false;
  if (p.isObject()) {
    if (const json::Value* d = p.find("deceasedBoolean")) deceased = d->isBool() && d->boolean();
    if (p.find("deceasedDateTime")) deceased = true;
  }
  std::vector<plan::FlagSpec> specs;
  if (inUse) specs = plan::planFlags(in, birthDate, nowMs, deceased);
  const std::string now = formatInstant(nowMs);
  for (const std::string& kind : plan::planFlagKinds()) {
    const plan::FlagSpec* spec = nullptr;
    for (const plan::FlagSpec& s : specs)
      if (s.kind == kind) spec = &s;
    const std::string id = gatewayFlagId(kind, personId);
    auto stored = readJson(tx, "Flag", id);
    if (!stored.isOk()) return stored.status();
    json::Value flag = plan::flagResource(id, personId, spec, stored.value(), now);
    if (!flag.isObject()) continue;
    claimProfiles(flag);
    IssueList problems;
    bool ok = ctx.validator.validate(flag, problems);
    if (ok && ctx.profiles) ok = ctx.profiles->validateClaimed(flag, problems);
    if (!ok) {
      issues.warning("processing", "Flag", "the " + kind + " Flag could not be written: it does "
                                               "not validate",
                     "ingest.flag-invalid");
      continue;
    }
    auto w = tx.update("Flag", id, std::move(flag));
    if (!w.isOk()) return w.status();
    if (!w->noop)
      written.push_back("Flag/" + id + "/_history/" + std::to_string(w->resource.versionId));
  }
  return Status::ok();
}

}  // namespace acp::ingest
