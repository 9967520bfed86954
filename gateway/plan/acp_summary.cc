#include "gateway/plan/acp_summary.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <set>

#include "gateway/search/index.h"

namespace acp::plan {

namespace {

constexpr const char* kBase = "https://acp-gateway.nhs.uk";
constexpr const char* kSnomed = "http://snomed.info/sct";
constexpr const char* kOds = "https://fhir.nhs.uk/Id/ods-organization-code";

std::string acpItemSystem() { return std::string(kBase) + "/CodeSystem/acp-item"; }

}  // namespace

std::string sourceOds(const json::Value& plan) {
  const std::string prefix = std::string(kBase) + "/Id/local/";
  if (const json::Value* ids = plan.find("identifier"); ids && ids->isArray())
    for (const json::Value& id : ids->items()) {
      const std::string& system = id.getString("system");
      if (system.compare(0, prefix.size(), prefix) == 0) {
        std::string rest = system.substr(prefix.size());
        return rest.substr(0, rest.find('/'));
      }
    }
  if (const json::Value* author = plan.find("author"))
    if (const json::Value* id = author->find("identifier"); id && id->getString("system") == kOds)
      return id->getString("value");
  return "";
}

namespace {
std::string sd(const char* name) { return std::string(kBase) + "/StructureDefinition/" + name; }

// The decisions every summary answers, in the order a clinician reads them.
struct ItemDef {
  const char* code;
  const char* display;
};
const ItemDef kItems[] = {
    {"resuscitation", "Resuscitation (CPR) decision"},
    {"preferred-place-of-care", "Preferred place of care"},
    {"preferred-place-of-death-1", "Preferred place of death, first choice"},
    {"preferred-place-of-death-2", "Preferred place of death, second choice"},
    {"ventilation", "Ventilation"},
    {"hospital-transfer", "Transfer to hospital"},
    {"treatment-escalation", "Treatment escalation"},
    {"priority", "Priority of care (ReSPECT scale)"},
    {"adrt", "Advance decision to refuse treatment"},
    {"emergency-plan", "Emergency plan"},
    {"symptom-plan", "Symptom management plan"},
    {"key-worker", "Key worker"},
    {"transition", "Transition to adult services"},
    {"review-date", "Plan review date"},
    {"consent-to-share", "Consent to share the plan"},
};

json::Value str(const std::string& s) { return json::Value::makeString(s); }

json::Value part(const std::string& name, const char* key, json::Value v) {
  json::Value p = json::Value::makeObject();
  p.set("name", str(name));
  p.set(key, std::move(v));
  return p;
}

json::Value parts(const std::string& name, json::Value list) {
  json::Value p = json::Value::makeObject();
  p.set("name", str(name));
  p.set("part", std::move(list));
  return p;
}

// A date or dateTime as ms since the epoch (its earliest instant); min() when unreadable.
int64_t instant(const std::string& text) {
  int64_t low = 0, high = 0;
  if (text.empty() || !search::dateRange(text, low, high)) return std::numeric_limits<int64_t>::min();
  return low;
}

bool hasCoding(const json::Value& resource, const char* element, const char* system,
               const char* code) {
  if (const json::Value* list = resource.find(element); list && list->isArray())
    for (const json::Value& cc : list->items())
      if (const json::Value* codings = cc.find("coding"); codings && codings->isArray())
        for (const json::Value& c : codings->items())
          if (c.getString("system") == system && c.getString("code") == code) return true;
  return false;
}

const json::Value* extension(const json::Value& v, const std::string& url) {
  if (const json::Value* exts = v.find("extension"); exts && exts->isArray())
    for (const json::Value& e : exts->items())
      if (e.getString("url") == url) return &e;
  return nullptr;
}

std::string itemCode(const json::Value& detail) {
  if (const json::Value* code = detail.find("code"))
    if (const json::Value* codings = code->find("coding"); codings && codings->isArray())
      for (const json::Value& c : codings->items())
        if (c.getString("system") == acpItemSystem()) return c.getString("code");
  return "";
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string codeOf(const json::Value& cc) {
  if (const json::Value* codings = cc.find("coding"); codings && codings->isArray())
    for (const json::Value& c : codings->items())
      if (!c.getString("code").empty()) return c.getString("system") + "|" + c.getString("code");
  return "text|" + lower(cc.getString("text"));
}

std::string planDate(const json::Value& plan) {
  if (const json::Value* period = plan.find("period"))
    if (!period->getString("start").empty()) return period->getString("start");
  return plan.getString("created");
}

std::string versionedRef(const json::Value& r) {
  std::string ref = r.getString("resourceType") + "/" + r.getString("id");
  if (const json::Value* meta = r.find("meta"); meta && !meta->getString("versionId").empty())
    ref += "/_history/" + meta->getString("versionId");
  return ref;
}

std::string lastUpdated(const json::Value& r) {
  const json::Value* meta = r.find("meta");
  return meta ? meta->getString("lastUpdated") : "";
}

// Is `a` agreed later than `b`? A date without a time is the whole day: against a time on
// the same day (as written) it ties, and the one stored last counts as newer.
bool newer(const Statement& a, const Statement& b) {
  if ((a.date.size() == 10 || b.date.size() == 10) && a.date.size() >= 10 && b.date.size() >= 10) {
    std::string da = a.date.substr(0, 10), db = b.date.substr(0, 10);
    if (da != db) return da > db;
    return a.stored > b.stored;
  }
  if (a.when != b.when) return a.when > b.when;
  return a.stored > b.stored;
}

Statement base(const json::Value& plan, bool draft) {
  Statement c;
  c.valueKey = "valueString";
  c.ods = sourceOds(plan);
  c.author = plan.find("author");
  c.date = planDate(plan);
  c.stored = lastUpdated(plan);
  c.when = instant(c.date);
  if (c.when == std::numeric_limits<int64_t>::min()) c.when = instant(c.stored);
  c.carePlan = versionedRef(plan);
  c.draft = draft;
  return c;
}

}  // namespace

std::string careTeamText(const json::Value& team) {
  std::string text;
  if (const json::Value* ps = team.find("participant"); ps && ps->isArray())
    for (const json::Value& p : ps->items()) {
      std::string who = p.find("member") ? p.find("member")->getString("display") : "";
      if (who.empty()) continue;
      text += (text.empty() ? "" : "; ") + who;
    }
  if (text.empty()) return text;
  if (const json::Value* tel = team.find("telecom"); tel && tel->isArray())
    for (const json::Value& t : tel->items())
      if (!t.getString("value").empty()) text += ", " + t.getString("value");
  return text;
}

namespace {

void collectPlan(const json::Value& plan, const SummaryInput& in, std::vector<Statement>& out) {
  const std::string& status = plan.getString("status");
  if (status != "active" && status != "draft") return;
  bool draft = status == "draft";
  if (const json::Value* activities = plan.find("activity"); activities && activities->isArray())
    for (const json::Value& a : activities->items()) {
      const json::Value* detail = a.find("detail");
      if (!detail) continue;
      std::string code = itemCode(*detail);
      if (code.empty()) continue;
      Statement c = base(plan, draft);
      c.key = code;
      if (const json::Value* date = extension(*detail, sd("acp-decision-date"))) {
        c.date = date->getString("valueDate");
        int64_t w = instant(c.date);
        if (w != std::numeric_limits<int64_t>::min()) c.when = w;
      }
      if (const json::Value* v = extension(*detail, sd("acp-decision-value"))) {
        const json::Value* cc = v->find("valueCodeableConcept");
        if (!cc) continue;
        c.valueKey = "valueCodeableConcept";
        c.value = *cc;
        c.compare = codeOf(*cc);
      } else {
        std::string text = detail->getString("description");
        if (code == "symptom-plan") {
          if (const json::Value* reasons = detail->find("reasonCode");
              reasons && reasons->isArray() && !reasons->items().empty())
            c.symptom = reasons->items()[0].getString("text");
          c.key = code + "|" + lower(c.symptom);
        }
        if (text.empty()) continue;
        c.value = str(text);
        c.compare = "text|" + lower(text);
      }
      out.push_back(std::move(c));
    }
  // The review date, an extension on the plan itself.
  if (const json::Value* review = extension(plan, sd("acp-review-date"))) {
    Statement c = base(plan, draft);
    c.key = "review-date";
    c.valueKey = "valueDate";
    c.value = str(review->getString("valueDate"));
    c.compare = review->getString("valueDate");
    out.push_back(std::move(c));
  }
  // The key worker: the plan's CareTeam (its members, their roles and numbers).
  if (const json::Value* teams = plan.find("careTeam"); teams && teams->isArray())
    for (const json::Value& ref : teams->items()) {
      auto team = in.careTeams.find(ref.getString("reference"));
      if (team == in.careTeams.end()) continue;
      std::string text = careTeamText(team->second);
      if (text.empty()) continue;
      Statement c = base(plan, draft);
      c.key = "key-worker";
      c.value = str(text);
      c.compare = "text|" + lower(text);
      out.push_back(std::move(c));
    }
}

void collectConsents(const SummaryInput& in, std::vector<Statement>& out) {
  // The plans' own statuses: the consent recorded for a plan no longer in force is not about
  // the plan the child has now.
  std::map<std::string, std::string> planStatus;  // "CarePlan/<id>" → the best status seen
  for (const json::Value& p : in.carePlans) {
    std::string& st = planStatus["CarePlan/" + p.getString("id")];
    const std::string& s = p.getString("status");
    if (st.empty() || s == "active") st = s;
  }
  for (const json::Value& consent : in.consents) {
    const std::string& status = consent.getString("status");
    if (status == "entered-in-error" || status == "rejected") continue;
    const json::Value* provision = consent.find("provision");
    bool ofAPlanGone = false;
    if (provision)
      if (const json::Value* data = provision->find("data"); data && data->isArray())
        for (const json::Value& d : data->items())
          if (const json::Value* r = d.find("reference")) {
            std::string target = r->getString("reference");
            target = target.substr(0, target.find("/_history/"));
            auto it = planStatus.find(target);
            if (it != planStatus.end() && (it->second == "revoked" || it->second == "completed" ||
                                           it->second == "entered-in-error"))
              ofAPlanGone = true;
          }
    if (ofAPlanGone) continue;
    std::string type = provision ? provision->getString("type") : "";
    Statement c;
    c.key = "consent-to-share";
    c.valueKey = "valueCode";
    // proposed = nothing recorded yet: the plan is not shared (a proposed Consent is "deny");
    // inactive = consent withdrawn: refused from then on.
    c.value = str(status == "proposed"   ? "not-recorded"
                  : status == "inactive" ? "refused"
                  : type == "permit"     ? "given"
                                         : "refused");
    c.compare = c.value.text();
    c.ods = "";
    if (const json::Value* orgs = consent.find("organization"); orgs && orgs->isArray())
      for (const json::Value& o : orgs->items())
        if (const json::Value* id = o.find("identifier"); id && id->getString("system") == kOds)
          c.ods = id->getString("value");
    c.author = nullptr;
    c.date = consent.getString("dateTime");
    c.stored = lastUpdated(consent);
    c.when = instant(c.date);
    if (c.when == std::numeric_limits<int64_t>::min()) c.when = instant(c.stored);
    c.carePlan = "";
    if (provision)
      if (const json::Value* data = provision->find("data"); data && data->isArray())
        for (const json::Value& d : data->items())
          if (const json::Value* ref = d.find("reference");
              ref && ref->getString("reference").rfind("CarePlan/", 0) == 0)
            c.carePlan = ref->getString("reference");
    c.consent = versionedRef(consent);
    c.draft = false;
    out.push_back(std::move(c));
  }
}

json::Value describe(const Statement& c) {
  json::Value list = json::Value::makeArray();
  list.push(part("value", c.valueKey, c.value));
  if (!c.ods.empty()) {
    json::Value id = json::Value::makeObject();
    id.set("system", str(kOds));
    id.set("value", str(c.ods));
    list.push(part("source", "valueIdentifier", std::move(id)));
  }
  if (c.author) list.push(part("author", "valueReference", *c.author));
  if (!c.date.empty())
    list.push(part("date", c.date.size() > 10 ? "valueDateTime" : "valueDate", str(c.date)));
  if (!c.carePlan.empty()) {
    json::Value ref = json::Value::makeObject();
    ref.set("reference", str(c.carePlan));
    list.push(part("carePlan", "valueReference", std::move(ref)));
  }
  if (!c.consent.empty()) {
    json::Value ref = json::Value::makeObject();
    ref.set("reference", str(c.consent));
    list.push(part("consent", "valueReference", std::move(ref)));
  }
  return list;
}

}  // namespace

std::string Statement::readable() const {
  if (value.isString()) return value.text();
  if (const json::Value* codings = value.find("coding"); codings && codings->isArray())
    for (const json::Value& c : codings->items()) {
      if (!c.getString("display").empty()) return c.getString("display");
      if (!c.getString("code").empty()) return c.getString("code");
    }
  return value.getString("text");
}

bool isAdvanceCarePlan(const json::Value& carePlan) {
  return hasCoding(carePlan, "category", kSnomed, "736366004") ||
         hasCoding(carePlan, "category", kSnomed, "1382601000000107");
}

namespace {

// One plan in force per source: of a source's active advance care plans (a new ReSPECT form, a
// hospice record's new plan), the most recently agreed one; the older ones are superseded by it
// and read as such (versions of one plan are one plan). Source ODS → its newest active plan.
std::map<std::string, const json::Value*> newestActiveBySource(const SummaryInput& in) {
  std::map<std::string, const json::Value*> inForce;
  auto agreedAt = [](const json::Value& p) {
    int64_t w = instant(planDate(p));
    return w != std::numeric_limits<int64_t>::min() ? w : instant(lastUpdated(p));
  };
  for (const json::Value& plan : in.carePlans) {
    if (!isAdvanceCarePlan(plan) || plan.getString("status") != "active") continue;
    std::string ods = sourceOds(plan);
    if (ods.empty()) continue;
    const json::Value*& best = inForce[ods];
    if (!best || agreedAt(plan) > agreedAt(*best) ||
        (agreedAt(plan) == agreedAt(*best) && lastUpdated(plan) > lastUpdated(*best)))
      best = &plan;
  }
  return inForce;
}

// Whether an active plan is superseded by its source's newer one.
bool superseded(const json::Value& plan,
                const std::map<std::string, const json::Value*>& inForce) {
  auto best = inForce.find(sourceOds(plan));
  return best != inForce.end() && best->second->getString("id") != plan.getString("id");
}

}  // namespace

std::set<std::string> plansInForce(const SummaryInput& in) {
  auto inForce = newestActiveBySource(in);
  std::set<std::string> out;
  for (const json::Value& plan : in.carePlans)
    if (isAdvanceCarePlan(plan) && plan.getString("status") == "active" &&
        !superseded(plan, inForce))
      out.insert(versionedRef(plan));
  return out;
}

std::vector<ItemAnswer> answers(const SummaryInput& in) {
  auto inForce = newestActiveBySource(in);
  std::vector<Statement> all;
  for (const json::Value& plan : in.carePlans) {
    if (!isAdvanceCarePlan(plan)) continue;
    if (plan.getString("status") == "active" && superseded(plan, inForce))
      continue;  // superseded by the same source's newer plan
    collectPlan(plan, in, all);
  }
  collectConsents(in, all);

  std::vector<ItemAnswer> out;
  auto answer = [&](const ItemDef& def, const std::string& key, const std::string& symptom) {
    ItemAnswer a;
    a.code = def.code;
    a.display = def.display;
    a.symptom = symptom;
    std::vector<const Statement*> agreed;
    for (const Statement& st : all) {
      if (st.key != key) continue;
      if (st.draft)
        a.drafts.push_back(st);
      else
        agreed.push_back(&st);
    }
    if (!agreed.empty()) {
      const Statement* cur = agreed[0];
      for (const Statement* st : agreed)
        if (newer(*st, *cur)) cur = st;
      a.current = *cur;
      for (const Statement* st : agreed)
        if (st != cur && st->compare != cur->compare) a.differs.push_back(*st);
    }
    out.push_back(std::move(a));
  };
  for (const ItemDef& def : kItems) {
    if (std::string(def.code) != "symptom-plan") {
      answer(def, def.code, "");
      continue;
    }
    // One decision per symptom, in the order the symptoms first appear.
    std::vector<std::string> keys;
    std::vector<std::string> names;
    for (const Statement& st : all)
      if (st.key.rfind("symptom-plan|", 0) == 0 &&
          std::find(keys.begin(), keys.end(), st.key) == keys.end()) {
        keys.push_back(st.key);
        names.push_back(st.symptom);
      }
    for (size_t i = 0; i < keys.size(); ++i) answer(def, keys[i], names[i]);
    // None recorded is an answer too.
    if (keys.empty()) answer(def, "symptom-plan|", "");
  }
  return out;
}

std::vector<json::Value> versionsInForce(const std::vector<json::Value>& newestFirst) {
  std::vector<json::Value> out;
  if (newestFirst.empty()) return out;
  out.push_back(newestFirst[0]);
  if (newestFirst[0].getString("status") != "draft") return out;
  for (size_t i = 1; i < newestFirst.size(); ++i) {
    const std::string& status = newestFirst[i].getString("status");
    if (status == "draft") continue;
    if (status == "active") out.push_back(newestFirst[i]);
    break;
  }
  return out;
}

json::Value acpSummary(const SummaryInput& in) {
  json::Value params = json::Value::makeArray();
  json::Value patient = json::Value::makeObject();
  patient.set("reference", str("Patient/" + in.patientId));
  params.push(part("patient", "valueReference", std::move(patient)));
  int disagreements = 0;
  for (const ItemAnswer& a : answers(in)) {
    json::Value list = json::Value::makeArray();
    json::Value coding = json::Value::makeObject();
    coding.set("system", str(acpItemSystem()));
    coding.set("code", str(a.code));
    coding.set("display", str(a.display));
    list.push(part("code", "valueCoding", std::move(coding)));
    if (!a.symptom.empty()) list.push(part("symptom", "valueString", str(a.symptom)));
    if (a.current) list.push(parts("current", describe(*a.current)));
    for (const Statement& st : a.differs) list.push(parts("differs", describe(st)));
    for (const Statement& st : a.drafts) list.push(parts("draft", describe(st)));
    if (!a.differs.empty()) ++disagreements;
    params.push(parts("item", std::move(list)));
  }
  params.push(part("disagreements", "valueInteger",
                   json::Value::makeNumber(std::to_string(disagreements))));
  std::set<std::string> said;
  for (const json::Value& plan : in.withheld) {
    if (!isAdvanceCarePlan(plan) || !said.insert(plan.getString("id")).second) continue;
    json::Value list = json::Value::makeArray();
    json::Value ref = json::Value::makeObject();
    ref.set("reference", str("CarePlan/" + plan.getString("id")));
    list.push(part("carePlan", "valueReference", std::move(ref)));
    if (std::string ods = sourceOds(plan); !ods.empty()) {
      json::Value id = json::Value::makeObject();
      id.set("system", str(kOds));
      id.set("value", str(ods));
      list.push(part("source", "valueIdentifier", std::move(id)));
    }
    list.push(part("status", "valueCode", str(plan.getString("status"))));
    // Whom to call: the plan's care team (its key worker).
    if (const json::Value* teams = plan.find("careTeam"); teams && teams->isArray())
      for (const json::Value& t : teams->items()) {
        auto team = in.careTeams.find(t.getString("reference"));
        if (team == in.careTeams.end()) continue;
        std::string who = careTeamText(team->second);
        if (!who.empty()) list.push(part("contact", "valueString", str(who)));
      }
    list.push(part("reason", "valueString",
                   str("not shared: no consent to share this plan, or consent withdrawn; "
                       "contact the organisation that holds it")));
    params.push(parts("withheld", std::move(list)));
  }
  json::Value out = json::Value::makeObject();
  out.set("resourceType", str("Parameters"));
  out.set("parameter", std::move(params));
  return out;
}

}  // namespace acp::plan
