#include "gateway/plan/plan_flags.h"

#include <cctype>
#include <ctime>
#include <map>
#include <set>

#include "gateway/plan/consent_sharing.h"

namespace acp::plan {

namespace {

constexpr const char* kBase = "https://acp-gateway.nhs.uk";

json::Value str(const std::string& s) { return json::Value::makeString(s); }

// "YYYY-MM-DD" of the UTC day of `ms`.
std::string utcDate(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

bool fullDate(const std::string& d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
  return true;
}

// The plans not shared beyond their organisation (plan/consent_sharing.h), "CarePlan/<id>":
// a Flag is read by every organisation caring for the child, so it never carries their
// content — only who holds them.
using Withheld = std::set<std::string>;

bool fromWithheld(const Statement& s, const Withheld& withheld) {
  return withheld.count(s.carePlan.substr(0, s.carePlan.find("/_history/"))) > 0;
}

std::string said(const Statement& s, const Withheld& withheld) {
  std::string who = s.ods.empty() ? "unknown source" : s.ods;
  if (fromWithheld(s, withheld)) return "a plan held by " + who + " that is not shared: ask them";
  return s.readable() + " (" + who + (s.date.empty() ? "" : ", " + s.date.substr(0, 10)) + ")";
}

const ItemAnswer* find(const std::vector<ItemAnswer>& answers, const std::string& code) {
  for (const ItemAnswer& a : answers)
    if (a.code == code) return &a;
  return nullptr;
}

// "X (A, date) / Y (B, date)" for an answer with differing values.
std::string disagreement(const ItemAnswer& a, const Withheld& withheld) {
  std::string out = said(*a.current, withheld);
  for (const Statement& s : a.differs) out += " / " + said(s, withheld);
  return out;
}

// Who disagrees: "Sources disagree" across organisations, "<ODS>'s records disagree" when the
// values all come from one organisation (e.g. one form holding two values for one item).
std::string whoDisagrees(const std::vector<const ItemAnswer*>& answers) {
  std::string only;
  bool several = false;
  for (const ItemAnswer* a : answers) {
    std::vector<const Statement*> all = {&*a->current};
    for (const Statement& s : a->differs) all.push_back(&s);
    for (const Statement* s : all) {
      if (only.empty()) only = s->ods;
      several = several || s->ods != only;
    }
  }
  return several || only.empty() ? "Sources disagree" : only + "'s records disagree";
}

bool hasCode(const json::Value& cc, const std::string& system, const std::string& code) {
  if (const json::Value* codings = cc.find("coding"); codings && codings->isArray())
    for (const json::Value& c : codings->items()) {
      std::string got = c.getString("code");
      for (char& ch : got) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (c.getString("system") == system && got == code) return true;
    }
  return false;
}

// Any activity of the plan coded `code` in `system` (codes compared in lower case).
bool hasActivity(const json::Value& plan, const std::string& system, const std::string& code) {
  if (const json::Value* activities = plan.find("activity"); activities && activities->isArray())
    for (const json::Value& a : activities->items())
      if (const json::Value* detail = a.find("detail"))
        if (const json::Value* c = detail->find("code"); c && hasCode(*c, system, code)) return true;
  return false;
}

bool isTransitionPlan(const json::Value& plan) {
  if (const json::Value* cats = plan.find("category"); cats && cats->isArray())
    for (const json::Value& c : cats->items())
      if (hasCode(c, std::string(kBase) + "/CodeSystem/care-plan-type", "transition")) return true;
  return hasActivity(plan, std::string(kBase) + "/CodeSystem/acp-item", "transition") ||
         hasActivity(plan, std::string(kBase) + "/CodeSystem/community-activity", "trn01");
}

}  // namespace

int ageInYears(const std::string& birthDate, int64_t nowMs) {
  if (!fullDate(birthDate)) return -1;
  std::string today = utcDate(nowMs);
  int age = std::stoi(today.substr(0, 4)) - std::stoi(birthDate.substr(0, 4));
  if (today.substr(5) < birthDate.substr(5)) --age;  // birthday not reached this year
  return age;
}

const std::vector<std::string>& planFlagKinds() {
  static const std::vector<std::string> kinds = {
      "resuscitation-disagreement", "place-of-death-disagreement", "review-overdue",
      "no-place-of-death",          "adrt-under-18",               "transition-prompt"};
  return kinds;
}

std::vector<FlagSpec> planFlags(const SummaryInput& in, const std::string& birthDate,
                                int64_t nowMs, bool deceased) {
  std::vector<FlagSpec> out;
  if (deceased) return out;
  std::vector<ItemAnswer> answers = plan::answers(in);
  std::set<std::string> withheld;
  std::map<std::string, bool> sharing = planSharing(in.consents);
  for (const json::Value& p : in.carePlans)
    if (!shared(p, sharing)) withheld.insert("CarePlan/" + p.getString("id"));
  std::vector<const json::Value*> activePlans;
  for (const json::Value& p : in.carePlans)
    if (isAdvanceCarePlan(p) && p.getString("status") == "active") activePlans.push_back(&p);

  if (const ItemAnswer* cpr = find(answers, "resuscitation"); cpr && !cpr->differs.empty())
    out.push_back({"resuscitation-disagreement", "Sources disagree on the resuscitation decision",
                   "clinical",
                   whoDisagrees({cpr}) + " on the resuscitation decision: " + disagreement(*cpr, withheld) +
                       ". The most recently agreed is shown as current ($acp-summary); agree "
                       "one decision with every source."});
  std::string places;
  std::vector<const ItemAnswer*> placeAnswers;
  for (const char* code : {"preferred-place-of-death-1", "preferred-place-of-death-2"})
    if (const ItemAnswer* a = find(answers, code); a && !a->differs.empty()) {
      places += (places.empty() ? "" : "; ") + std::string(code[25] == '1' ? "first" : "second") +
                " choice: " + disagreement(*a, withheld);
      placeAnswers.push_back(a);
    }
  if (!places.empty())
    out.push_back({"place-of-death-disagreement",
                   "Sources disagree on the preferred place of death", "clinical",
                   whoDisagrees(placeAnswers) + " on the preferred place of death — " + places +
                       ". Agree it with the family and every source."});
  const std::string today = utcDate(nowMs);
  if (const ItemAnswer* review = find(answers, "review-date"); review && review->current) {
    std::string due = review->current->value.isString() ? review->current->value.text() : "";
    std::string whose = review->current->ods.empty() ? "unknown source" : review->current->ods;
    if (fullDate(due) && due < today)
      out.push_back({"review-overdue", "The advance care plan's review date has passed", "admin",
                     "The advance care plan's review date (" +
                         (fromWithheld(*review->current, withheld)
                              ? "of a plan held by " + whose + " that is not shared"
                              : due + ", " + whose) +
                         ") has passed: review the plan with the child and family (SCCI1580: "
                         "review at least every 3 months)."});
  }
  if (!activePlans.empty()) {
    const ItemAnswer* ppd = find(answers, "preferred-place-of-death-1");
    if (!ppd || !ppd->current)
      out.push_back({"no-place-of-death", "No preferred place of death recorded", "clinical",
                     "The child has an active advance care plan but no preferred place of death "
                     "is recorded: discuss it with the child and family and record it "
                     "(SCCI1580)."});
  }
  int age = ageInYears(birthDate, nowMs);
  if (age >= 0 && age < 18) {
    std::string where;
    for (const json::Value* p : activePlans)
      if (hasActivity(*p, std::string(kBase) + "/CodeSystem/acp-item", "adrt")) {
        std::string ref = p->getString("resourceType") + "/" + p->getString("id");
        where += (where.empty() ? "" : ", ") +
                 (withheld.count(ref) ? "in a plan held by " + sourceOds(*p) + " that is not shared"
                                      : ref);
      }
    if (!where.empty())
      out.push_back({"adrt-under-18", "Advance decision to refuse treatment for a child", "clinical",
                     "An advance decision to refuse treatment is recorded (" + where +
                         ") but the child is " + std::to_string(age) +
                         ": it is not valid before 18 (Mental Capacity Act 2005). Record the "
                         "child's wishes and best-interests decisions in the plan instead."});
  }
  if (age >= 14 && !activePlans.empty()) {
    bool transition = false;
    for (const json::Value& p : in.carePlans)
      if (p.getString("status") == "active" || p.getString("status") == "draft" ||
          p.getString("status") == "completed")
        transition = transition || isTransitionPlan(p);
    if (!transition)
      out.push_back({"transition-prompt", "Plan the transition to adult services", "admin",
                     "The child is " + std::to_string(age) +
                         " and no plan has a transition activity: plan the move to adult "
                         "services (NICE NG43: from school year 9)."});
  }
  return out;
}

json::Value flagResource(const std::string& id, const std::string& personId, const FlagSpec* spec,
                         const json::Value& stored, const std::string& nowInstant) {
  bool open = stored.isObject() && stored.getString("status") == "active";
  if (!spec) {
    // The reason no longer holds: an open Flag is closed; none is made.
    if (!open) return json::Value();
    json::Value closed = stored;
    closed.set("status", str("inactive"));
    json::Value* period = closed.find("period");
    if (!period || !period->isObject()) period = &closed.set("period", json::Value::makeObject());
    period->set("end", str(nowInstant));
    return closed;
  }
  json::Value flag = json::Value::makeObject();
  flag.set("resourceType", str("Flag"));
  flag.set("id", str(id));
  if (stored.isObject())
    if (const json::Value* meta = stored.find("meta")) {
      // Security labels and tags set on the stored Flag stay.
      json::Value kept = json::Value::makeObject();
      for (const char* key : {"security", "tag"})
        if (const json::Value* labels = meta->find(key)) kept.set(key, *labels);
      if (!kept.members().empty()) flag.set("meta", std::move(kept));
    }
  flag.set("status", str("active"));
  json::Value category = json::Value::makeObject();
  json::Value catCoding = json::Value::makeObject();
  catCoding.set("system", str("http://terminology.hl7.org/CodeSystem/flag-category"));
  catCoding.set("code", str(spec->category));
  catCoding.set("display", str(spec->category == "clinical" ? "Clinical" : "Administrative"));
  category.set("coding", json::Value::makeArray());
  category.find("coding")->push(std::move(catCoding));
  flag.set("category", json::Value::makeArray());
  flag.find("category")->push(std::move(category));
  json::Value code = json::Value::makeObject();
  json::Value coding = json::Value::makeObject();
  coding.set("system", str(std::string(kBase) + "/CodeSystem/acp-flag"));
  coding.set("code", str(spec->kind));
  coding.set("display", str(spec->display));
  code.set("coding", json::Value::makeArray());
  code.find("coding")->push(std::move(coding));
  code.set("text", str(spec->text));
  flag.set("code", std::move(code));
  json::Value subject = json::Value::makeObject();
  subject.set("reference", str("Patient/" + personId));
  flag.set("subject", std::move(subject));
  json::Value period = json::Value::makeObject();
  const json::Value* was = open ? stored.find("period") : nullptr;
  period.set("start", str(was && was->isObject() && !was->getString("start").empty()
                              ? was->getString("start")
                              : nowInstant));
  flag.set("period", std::move(period));
  return flag;
}

}  // namespace acp::plan
