#include "gateway/ingest/person_resolver.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "gateway/ingest/person_index.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/ingest/plan_flag_refresh.h"
#include "gateway/ingest/profiles.h"
#include "gateway/plan/plan_flags.h"
#include "gateway/ingest/source_ids.h"
#include "gateway/search/query.h"

namespace acp::ingest {

namespace {

json::Value str(const std::string& s) { return json::Value::makeString(s); }

Result<json::Value> parseStored(const std::string& text) {
  json::Value v;
  json::ParseError err;
  if (!json::parse(text, v, err) || !v.isObject())
    return Status::internal("store.sqlite: stored JSON unreadable");
  return v;
}

}  // namespace

json::Value* findResource(std::vector<json::Value>& list, const std::string& type,
                          const std::string& id) {
  for (json::Value& r : list)
    if (r.getString("resourceType") == type && r.getString("id") == id) return &r;
  return nullptr;
}

int removePatientLinks(json::Value& patient, const char* type, const std::string& other) {
  json::Value* links = patient.find("link");
  if (!links || !links->isArray()) return 0;
  auto& items = links->items();
  size_t before = items.size();
  items.erase(std::remove_if(items.begin(), items.end(),
                             [&](const json::Value& l) {
                               const json::Value* o = l.find("other");
                               bool to = other.empty() ||
                                         (o && o->getString("reference") == "Patient/" + other);
                               return to && (!type || l.getString("type") == type);
                             }),
              items.end());
  int removed = static_cast<int>(before - items.size());
  if (items.empty()) patient.erase("link");
  return removed;
}

void addPatientLink(json::Value& patient, const std::string& other, const char* type) {
  json::Value* links = patient.find("link");
  if (links && links->isArray())
    for (const json::Value& l : links->items())
      if (const json::Value* o = l.find("other");
          o && o->getString("reference") == "Patient/" + other && l.getString("type") == type)
        return;
  // A Patient cannot both replace and be replaced by the same other: the newer link wins.
  removePatientLinks(patient, nullptr, other);
  links = patient.find("link");
  if (!links || !links->isArray()) links = &patient.set("link", json::Value::makeArray());
  json::Value l = json::Value::makeObject();
  json::Value ref = json::Value::makeObject();
  ref.set("reference", str("Patient/" + other));
  l.set("other", std::move(ref));
  l.set("type", str(type));
  links->push(std::move(l));
}

int repointReferences(json::Value& v, const std::string& from, const std::string& to) {
  int n = 0;
  if (v.isObject()) {
    for (auto& [k, child] : v.members()) {
      if (k == "reference" && child.isString() && child.text() == from) {
        child = str(to);
        ++n;
      } else {
        n += repointReferences(child, from, to);
      }
    }
  } else if (v.isArray()) {
    for (json::Value& child : v.items()) n += repointReferences(child, from, to);
  }
  return n;
}

std::string identityFlagId(const std::string& personId) {
  return gatewayFlagId("identity-mismatch", personId);
}

Result<json::Value> PersonResolver::storedView(store::Transaction& tx, const std::string& sourceId) {
  auto row = tx.patientSource(sourceId);
  if (!row.isOk()) return row.status();
  if (row.value()) return parseStored(row.value()->json);
  auto legacy = tx.read("Patient", sourceId);
  if (legacy.isOk()) return parseStored(legacy->json);
  if (legacy.status().code() != Status::Code::kNotFound &&
      legacy.status().code() != Status::Code::kGone)
    return legacy.status();
  return json::Value();
}

Status PersonResolver::keepApiView(store::Transaction& tx, const store::StoredResource& written,
                                   const std::string& nowInstant) {
  if (written.type != "Patient" || written.deleted) return Status::ok();
  auto sources = tx.patientSources(written.id);
  if (!sources.isOk()) return sources.status();
  const std::string apiSource = "api:" + written.id;
  bool fromSources = false;
  for (const store::PatientSource& row : sources.value())
    fromSources = fromSources || row.sourceId != apiSource;
  if (!fromSources) return Status::ok();
  auto view = parseStored(written.json);
  if (!view.isOk()) return view.status();
  json::Value v = view.take();
  v.erase("meta");
  v.erase("link");  // links are the person's own, never a view's
  v.set("id", str(apiSource));
  auto changed = tx.setPatientSource(apiSource, written.id, json::write(v));
  if (!changed.isOk()) return changed.status();
  // Ordered as the sources' own times are: "utc-time:YYYYMMDDhhmmss".
  std::string digits;
  for (char c : nowInstant.substr(0, 19))
    if (c >= '0' && c <= '9') digits.push_back(c);
  return tx.setSourceOrder("Patient", apiSource, "utc-time:" + digits);
}

Result<std::string> PersonResolver::formerPerson(const std::string& sourceId) {
  auto row = tx_.patientSource(sourceId);
  if (!row.isOk()) return row.status();
  if (row.value()) return row.value()->personId;
  auto legacy = tx_.read("Patient", sourceId);
  if (legacy.isOk()) return sourceId;
  if (legacy.status().code() != Status::Code::kNotFound &&
      legacy.status().code() != Status::Code::kGone)
    return legacy.status();
  return std::string();
}

Result<bool> PersonResolver::resolve(std::vector<json::Value>& finals,
                                     const std::vector<std::string>& sourceIds,
                                     IssueList& issues) {
  // 1. The source views, live ones first: a retired view follows its survivor's person.
  std::vector<json::Value> views;
  for (auto it = finals.begin(); it != finals.end();) {
    if (it->getString("resourceType") == "Patient") {
      views.push_back(std::move(*it));
      it = finals.erase(it);
    } else {
      ++it;
    }
  }
  std::stable_partition(views.begin(), views.end(),
                        [](const json::Value& v) { return !isRetired(v); });
  bool wrote = false;
  std::map<std::string, std::string> personOf;  // source id → person id
  std::set<std::string>& touched = touched_;   // persons to combine again
  std::map<std::string, std::string>& movedTo = movedTo_;
  std::vector<Move>& moves = moves_;
  std::vector<std::pair<std::string, std::string>> wholeMoves;  // person → person
  for (json::Value& view : views) {
    const std::string sourceId = view.getString("id");
    auto former = formerPerson(sourceId);
    if (!former.isOk()) return former.status();
    std::string person;
    if (isRetired(view)) {
      std::string survivor = replacedByOf(view);
      if (auto known = personOf.find(survivor); known != personOf.end()) {
        person = known->second;
      } else {
        auto survivorPerson = formerPerson(survivor);
        if (!survivorPerson.isOk()) return survivorPerson.status();
        person = !survivorPerson.value().empty() ? survivorPerson.value()
                 : !former.value().empty()       ? former.value()
                                                 : sourceId;
      }
    } else {
      person = personIdFor(view, sourceId, former.value());
    }
    // The view is kept as the source sent it, without what only the served Patient carries.
    if (json::Value* meta = view.find("meta"); meta && meta->isObject()) view.erase("meta");
    auto changed = tx_.setPatientSource(sourceId, person, json::write(view));
    if (!changed.isOk()) return changed.status();
    wrote = wrote || changed.value();
    personOf[sourceId] = person;
    touched.insert(person);
    if (!former.value().empty() && former.value() != person) {
      touched.insert(former.value());
      movedTo.emplace(former.value(), person);
      moves.push_back({sourceId, former.value(), person});
      // The first NHS number of a child known without one: the whole child goes (the other
      // sources joined to it by a reviewer's confirmed link too), not this source alone —
      // only a *different* earlier NHS number means this record was another child's.
      auto was = tx_.read("Patient", former.value());
      if (was.isOk()) {
        auto p = parseStored(was->json);
        if (!p.isOk()) return p.status();
        if (nhsNumberOf(p.value()).empty()) wholeMoves.emplace_back(former.value(), person);
      }
    }
  }

  // Source patients of the record whose view is not written (older than the stored one):
  // the record's other resources still go to their person.
  for (const std::string& sourceId : sourceIds) {
    if (personOf.count(sourceId)) continue;
    auto former = formerPerson(sourceId);
    if (!former.isOk()) return former.status();
    personOf[sourceId] = former.value().empty() ? sourceId : former.value();
  }

  // 2. The record's own resources refer to the person.
  for (json::Value& r : finals)
    for (const auto& [source, person] : personOf)
      if (source != person) repointReferences(r, "Patient/" + source, "Patient/" + person);

  for (const auto& [from, to] : wholeMoves) {
    auto rows = tx_.patientSources(from);
    if (!rows.isOk()) return rows.status();
    for (const store::PatientSource& row : rows.value()) {
      auto moved = tx_.setPatientSource(row.sourceId, to, row.json);
      if (!moved.isOk()) return moved.status();
    }
  }
  // A pair a reviewer said were two children stays two under the persons' new ids.
  if (!movedTo.empty()) {
    auto rejected = tx_.candidates("rejected", 100000);
    if (!rejected.isOk()) return rejected.status();
    for (const store::CandidateLink& c : rejected.value())
      for (const auto& [from, to] : movedTo) {
        std::string other = c.personA == from ? c.personB : c.personB == from ? c.personA : "";
        if (other.empty() || other == to) continue;
        auto carried = tx_.proposeCandidate(to, other, c.reason, now_);
        if (!carried.isOk()) return carried.status();
        if (carried.value() > 0) {
          Status d = tx_.decideCandidate(carried.value(), "rejected", now_);
          if (!d.isOk()) return d;
        }
      }
  }
  Status combined = recombine(finals, issues);
  if (!combined.isOk()) return combined;
  return wrote;
}

Status PersonResolver::mergePersons(const std::string& loser, const std::string& winner,
                                    std::vector<json::Value>& finals, IssueList& issues) {
  // A Patient written only through the API has no views: what it holds becomes one, so the
  // merged Patient keeps it (an NHS number among it).
  for (const std::string& person : {winner, loser}) {
    auto own = tx_.patientSources(person);
    if (!own.isOk()) return own.status();
    if (!own.value().empty()) continue;
    auto stored = tx_.read("Patient", person);
    if (!stored.isOk()) continue;
    auto view = parseStored(stored->json);
    if (!view.isOk()) return view.status();
    json::Value v = view.take();
    v.erase("meta");
    v.erase("link");
    v.set("id", str("api:" + person));
    auto written = tx_.setPatientSource("api:" + person, person, json::write(v));
    if (!written.isOk()) return written.status();
    // As old as what it holds: when it was last written.
    std::string digits;
    for (char c : stored->lastUpdated.substr(0, 19))
      if (c >= '0' && c <= '9') digits.push_back(c);
    Status ordered = tx_.setSourceOrder("Patient", "api:" + person, "utc-time:" + digits);
    if (!ordered.isOk()) return ordered;
  }
  auto rows = tx_.patientSources(loser);
  if (!rows.isOk()) return rows.status();
  for (const store::PatientSource& row : rows.value()) {
    auto moved = tx_.setPatientSource(row.sourceId, winner, row.json);
    if (!moved.isOk()) return moved.status();
  }
  touched_.insert(loser);
  touched_.insert(winner);
  movedTo_.emplace(loser, winner);
  return recombine(finals, issues);
}

Status PersonResolver::recombine(std::vector<json::Value>& finals, IssueList& issues) {
  const std::set<std::string>& touched = touched_;
  const std::map<std::string, std::string>& movedTo = movedTo_;
  const std::vector<Move>& moves = moves_;
  // 3 and 4. Every person touched, combined again or moved.
  std::map<std::string, std::vector<std::string>> replaces;  // person → persons it replaces
  std::map<std::string, std::vector<std::string>> unlinks;   // person → no longer replaces
  size_t personsPlaced = 0;  // persons go first in `finals`, as the mappers put Patients
  for (const std::string& personId : touched) {
    auto rows = tx_.patientSources(personId);
    if (!rows.isOk()) return rows.status();
    // Oldest first, by the sources' own times (source orders: UTC times of every source), so
    // an older record that arrives late never outweighs newer news from another source;
    // written order only between views without one.
    std::vector<std::pair<std::string, json::Value>> ordered;
    for (const store::PatientSource& row : rows.value()) {
      auto v = parseStored(row.json);
      if (!v.isOk()) return v.status();
      auto order = tx_.sourceOrder("Patient", row.sourceId);
      if (!order.isOk()) return order.status();
      ordered.emplace_back(comparableOrder(order.value()), v.take());
    }
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<json::Value> personViews;
    for (auto& [order, view] : ordered) personViews.push_back(std::move(view));
    json::Value stored;
    auto current = tx_.read("Patient", personId);
    if (current.isOk()) {
      auto v = parseStored(current->json);
      if (!v.isOk()) return v.status();
      stored = v.take();
    }
    // Live: a source's view that is not retired (what the API wrote alone keeps no one).
    bool live = std::any_of(personViews.begin(), personViews.end(), [](const json::Value& v) {
      return !isRetired(v) && !isApiView(v);
    });
    if (live) {
      json::Value person = combinePerson(personId, personViews, stored);
      if (!stored.isObject()) {
        // A child seen for the first time: possibly one already known without an NHS number
        // to say so — proposed for review, never merged.
        Status proposed = proposeNearMatches(person, finals, issues);
        if (!proposed.isOk()) return proposed;
      }
      // Live again (its sources came back): no longer replaced by anyone, and whoever it was
      // replaced by no longer replaces it.
      if (const json::Value* links = stored.isObject() ? stored.find("link") : nullptr)
        for (const json::Value& l : links->items())
          if (l.getString("type") == "replaced-by")
            if (const json::Value* o = l.find("other");
                o && o->getString("reference").rfind("Patient/", 0) == 0)
              unlinks[o->getString("reference").substr(8)].push_back(personId);
      removePatientLinks(person, "replaced-by", "");
      // A source that left this person (a corrected NHS number) while others stay: what its
      // records wrote goes with it, everything else stays.
      for (const Move& m : moves) {
        if (m.from != personId) continue;
        auto own = tx_.sourceResources(m.source);
        if (!own.isOk()) return own.status();
        int moved = 0;
        for (const auto& [type, id] : own.value()) {
          json::Value* target = findResource(finals, type, id);
          if (!target) {
            auto cur = tx_.read(type, id);
            if (!cur.isOk()) continue;  // deleted since: nothing to move
            auto v = parseStored(cur->json);
            if (!v.isOk()) return v.status();
            finals.push_back(v.take());
            target = &finals.back();
          }
          moved += repointReferences(*target, "Patient/" + personId, "Patient/" + m.to) > 0;
        }
        issues.warning("business-rule", "Patient",
                       "this source's record now belongs to another patient (its NHS number "
                       "changed): " + std::to_string(moved) +
                           " of its resource(s) moved; the other sources' records stay",
                       "ingest.source-moved");
      }
      claimProfiles(person);
      keepStoredLabels(person, stored);
      finals.insert(finals.begin() + static_cast<long>(personsPlaced++), std::move(person));
      std::vector<std::string> m = identityMismatches(personViews);
      auto flag = identityFlag(personId, m);
      if (!flag.isOk()) return flag.status();
      if (flag.value().isObject()) {
        std::string list;
        for (const std::string& line : m) list += (list.empty() ? "" : "; ") + line;
        if (!m.empty())
          issues.warning("business-rule", "Patient",
                         "records sharing this NHS number disagree (" + list +
                             "): linked, and flagged for review (Flag/" + identityFlagId(personId) +
                             ")",
                         "ingest.identity-mismatch");
        finals.push_back(flag.take());
      }
      continue;
    }
    auto to = movedTo.find(personId);
    if (to == movedTo.end() || !stored.isObject()) continue;
    // Every source of this person now belongs to another: it is that person.
    stored.set("active", json::Value::makeBool(false));
    addPatientLink(stored, to->second, "replaced-by");
    json::Value* inFinals = findResource(finals, "Patient", personId);
    if (inFinals)
      *inFinals = std::move(stored);
    else
      finals.insert(finals.begin() + static_cast<long>(personsPlaced++), std::move(stored));
    replaces[to->second].push_back(personId);
    // What the API wrote on it goes with its sources.
    for (const store::PatientSource& row : rows.value())
      if (row.sourceId.rfind("api:", 0) == 0) {
        auto rehomed = tx_.setPatientSource(row.sourceId, to->second, row.json);
        if (!rehomed.isOk()) return rehomed.status();
      }
    // Its own Flags (identity, plan) are closed — the other person's are recomputed — and,
    // as history of the same child, move with everything else.
    for (const std::string& kind : gatewayFlagKinds()) {
      const std::string flagId = gatewayFlagId(kind, personId);
      auto f = tx_.read("Flag", flagId);
      if (!f.isOk()) continue;
      auto v = parseStored(f->json);
      if (!v.isOk()) return v.status();
      json::Value closed = plan::flagResource(flagId, personId, nullptr, v.value(), now_);
      if (closed.isObject()) finals.push_back(std::move(closed));
    }
    auto moved = repointStored("Patient/" + personId, "Patient/" + to->second, finals);
    if (!moved.isOk()) return moved.status();
    issues.information("informational", "Patient",
                       "the patient's records now belong to the patient with the same NHS "
                       "number or merged into it: " + std::to_string(moved.value()) +
                           " resource(s) re-pointed",
                       "ingest.person-moved");
  }
  for (const auto& [personId, olds] : unlinks) {
    json::Value* person = findResource(finals, "Patient", personId);
    if (!person) {
      auto current = tx_.read("Patient", personId);
      if (!current.isOk()) continue;  // gone: nothing to unlink
      auto v = parseStored(current->json);
      if (!v.isOk()) return v.status();
      finals.push_back(v.take());
      person = &finals.back();
    }
    for (const std::string& old : olds) removePatientLinks(*person, "replaces", old);
  }
  for (const auto& [personId, olds] : replaces) {
    json::Value* person = findResource(finals, "Patient", personId);
    if (!person) continue;
    for (const std::string& old : olds) addPatientLink(*person, old, "replaces");
  }
  return Status::ok();
}

namespace {

std::string lowerText(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The first name's family and first given name, the first address's postcode (no spaces),
// the NHS number — what a near match compares.
struct Demographics {
  std::string family, given, postcode, nhs, birthDate, gender;
};

Demographics demographicsOf(const json::Value& p) {
  Demographics d;
  d.birthDate = p.getString("birthDate");
  d.gender = p.getString("gender");
  if (const json::Value* names = p.find("name"); names && names->isArray() && !names->items().empty()) {
    const json::Value& n = names->items()[0];
    d.family = lowerText(n.getString("family"));
    if (const json::Value* given = n.find("given"); given && given->isArray() && !given->items().empty())
      d.given = lowerText(given->items()[0].text());
  }
  if (const json::Value* addrs = p.find("address"); addrs && addrs->isArray() && !addrs->items().empty())
    for (char c : addrs->items()[0].getString("postalCode"))
      if (c != ' ') d.postcode.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  d.nhs = nhsNumberOf(p);
  return d;
}

}  // namespace

std::string possibleDuplicateFlagId(const std::string& personId, const std::string& other) {
  return gatewayFlagId("possible-duplicate|" + other, personId);
}

Status PersonResolver::proposeNearMatches(const json::Value& person,
                                          std::vector<json::Value>& finals, IssueList& issues) {
  const std::string personId = person.getString("id");
  Demographics mine = demographicsOf(person);
  if (mine.birthDate.empty() || mine.family.empty()) return Status::ok();
  search::SearchQuery q;
  IssueList ignored;
  if (!search::parseQuery(model_, "Patient", {{"birthdate", "eq" + mine.birthDate}},
                          search::QueryOptions{}, q, ignored))
    return Status::ok();  // a birth date the search cannot read: nothing to compare
  auto ids = tx_.match(q, 50);
  if (!ids.isOk()) return ids.status();
  for (const std::string& other : ids.value()) {
    // Itself, or one this very record merges with it (an A40, a later NHS number).
    if (other == personId || movedTo_.count(other) || movedTo_.count(personId)) continue;
    auto stored = tx_.read("Patient", other);
    if (!stored.isOk()) continue;
    auto v = parseStored(stored->json);
    if (!v.isOk()) return v.status();
    const json::Value& p = v.value();
    if (const json::Value* active = p.find("active"); active && active->isBool() && !active->boolean())
      continue;
    Demographics theirs = demographicsOf(p);
    // Two NHS numbers: two children (the same number would have made them one already).
    if (!mine.nhs.empty() && !theirs.nhs.empty()) continue;
    if (theirs.birthDate != mine.birthDate || theirs.family != mine.family) continue;
    // Twins: a known, different sex is two children.
    auto known = [](const std::string& g) { return !g.empty() && g != "unknown"; };
    if (known(mine.gender) && known(theirs.gender) && mine.gender != theirs.gender) continue;
    bool given = !mine.given.empty() && mine.given == theirs.given;
    bool postcode = !mine.postcode.empty() && mine.postcode == theirs.postcode;
    if (!given && !postcode) continue;
    std::string reason = std::string("same birth date, family name") + (given ? ", given name" : "") +
                         (postcode ? ", postcode" : "") + "; no NHS number links them";
    auto link = tx_.proposeCandidate(personId, other, reason, now_);
    if (!link.isOk()) return link.status();
    if (link.value() == 0) continue;  // known pair (open, confirmed or rejected)
    const std::string n = std::to_string(link.value());
    for (const auto& [self, that] : {std::pair<std::string, std::string>{personId, other}, {other, personId}}) {
      plan::FlagSpec spec;
      spec.kind = "possible-duplicate";
      spec.display = "Possibly the same child as another record";
      spec.category = "admin";
      spec.text = "Possibly the same child as Patient/" + that + " (" + reason +
                  "). Not merged: confirm or reject the link (POST /$candidate-links/" + n +
                  "/$confirm or /$reject).";
      json::Value flag =
          plan::flagResource(possibleDuplicateFlagId(self, that), self, &spec, json::Value(), now_);
      claimProfiles(flag);
      finals.push_back(std::move(flag));
    }
    issues.warning("business-rule", "Patient",
                   "possibly the same child as another Patient (" + reason +
                       "): candidate link " + n + " for review (GET /$candidate-links); not merged",
                   "ingest.possible-duplicate");
  }
  return Status::ok();
}

Result<int> PersonResolver::repointStored(const std::string& from, const std::string& to,
                                          std::vector<json::Value>& finals) {
  int moved = 0;
  for (const std::string& type : model_.resourceTypes()) {
    if (type == "Patient" || type == "Provenance" || type == "AuditEvent") continue;
    std::set<std::string> ids;
    for (const char* code : {"subject", "patient"}) {
      const model::SearchParamDef* param = model_.searchParam(type, code);
      if (!param || param->type != "reference") continue;
      if (!param->target.empty() &&
          std::find(param->target.begin(), param->target.end(), "Patient") == param->target.end())
        continue;
      search::SearchQuery q;
      IssueList ignored;
      if (!search::parseQuery(model_, type, {{code, from}}, search::QueryOptions{}, q, ignored))
        continue;
      auto found = tx_.match(q, 100000);
      if (!found.isOk()) return found.status();
      ids.insert(found->begin(), found->end());
    }
    for (const std::string& id : ids) {
      json::Value* target = findResource(finals, type, id);
      if (!target) {
        auto cur = tx_.read(type, id);
        if (!cur.isOk()) return cur.status();
        auto v = parseStored(cur->json);
        if (!v.isOk()) return v.status();
        finals.push_back(v.take());
        target = &finals.back();
      }
      moved += repointReferences(*target, from, to) > 0 ? 1 : 0;
    }
  }
  return moved;
}

Result<json::Value> PersonResolver::identityFlag(const std::string& personId,
                                                 const std::vector<std::string>& mismatches) {
  const std::string id = identityFlagId(personId);
  json::Value stored;
  auto current = tx_.read("Flag", id);
  if (current.isOk()) {
    auto v = parseStored(current->json);
    if (!v.isOk()) return v.status();
    stored = v.take();
  }
  plan::FlagSpec spec;
  spec.kind = "identity-mismatch";
  spec.display = "Records sharing an NHS number disagree on who the child is";
  spec.category = "admin";
  spec.text = "Records sharing this NHS number disagree on who the child is — ";
  for (size_t i = 0; i < mismatches.size(); ++i) spec.text += (i ? "; " : "") + mismatches[i];
  spec.text += ". Check the child's identity with the sources before relying on shared data.";
  json::Value flag =
      plan::flagResource(id, personId, mismatches.empty() ? nullptr : &spec, stored, now_);
  if (flag.isObject()) claimProfiles(flag);
  return flag;
}

}  // namespace acp::ingest
