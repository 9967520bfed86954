#include "gateway/view/plan_page.h"

#include <cctype>
#include <map>
#include <set>

#include "gateway/view/html.h"

namespace acp::view {

const char* const kContentSecurityPolicy =
    "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

namespace {

constexpr const char* kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";

// The sections after the resuscitation decision: a heading and the decisions it holds.
struct Section {
  const char* id;
  const char* heading;
  std::vector<std::string> codes;
};

const std::vector<Section>& sections() {
  static const std::vector<Section> kSections = {
      {"place", "Preferred place of care and death",
       {"preferred-place-of-care", "preferred-place-of-death-1", "preferred-place-of-death-2"}},
      {"emergency", "Emergency plan", {"emergency-plan"}},
      {"symptoms", "Symptom management plans", {"symptom-plan"}},
      {"key-worker", "Key worker", {"key-worker"}},
      {"decisions", "Other decisions",
       {"ventilation", "hospital-transfer", "treatment-escalation", "priority", "adrt",
        "transition"}},
      {"review", "Review and consent", {"review-date", "consent-to-share"}},
  };
  return kSections;
}

// A review date before `today` (YYYY-MM-DD) is overdue; a partial date ("2026-11", "2026") only
// once the whole period has passed; anything that is not a date never is.
bool reviewOverdue(const std::string& due, const std::string& today) {
  if (today.size() != 10 || (due.size() != 4 && due.size() != 7 && due.size() != 10)) return false;
  for (size_t i = 0; i < due.size(); ++i)
    if (i == 4 || i == 7 ? due[i] != '-' : !std::isdigit(static_cast<unsigned char>(due[i])))
      return false;
  return due < today.substr(0, due.size());
}

class Page {
 public:
  explicit Page(const PlanPage& p) : p_(p) {
    for (const auto& [ods, name] : p.organisations) names_[ods] = name;
  }

  std::string render() {
    head("Shared advance care plan – " + childName());
    out_ += "<header class=\"nhsuk-header\" role=\"banner\"><div class=\"nhsuk-width-container "
            "nhsuk-header__container\"><p class=\"nhsuk-header__service-name\">Shared advance "
            "care plan</p></div></header>\n";
    out_ += "<div class=\"nhsuk-width-container\"><main class=\"nhsuk-main-wrapper\" "
            "id=\"maincontent\" role=\"main\">\n";
    banner();
    if (p_.breakGlass) {
      out_ += "<div class=\"nhsuk-warning-callout acp-break-glass\" role=\"note\"><h2 "
              "class=\"nhsuk-warning-callout__label\">Emergency access</h2><p>You are seeing "
              "this plan under emergency access. Your access and your reason";
      if (!p_.breakGlassReason.empty())
        out_ += " (&ldquo;" + escape(p_.breakGlassReason) + "&rdquo;)";
      out_ += " are recorded and will be reviewed.</p></div>\n";
    }
    resuscitation();
    disagreements();
    for (const Section& s : sections()) section(s, s.id == std::string("decisions"));
    withheld();
    history();
    out_ += "<p class=\"nhsuk-body-s acp-generated\">Page made " +
            escape(readableDate(p_.generated)) +
            " from the records shared with the gateway. Check the original records when in "
            "doubt.</p>\n";
    out_ += "</main></div>\n</body>\n</html>\n";
    return std::move(out_);
  }

  void head(const std::string& title) {
    out_ += "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>" +
            escape(title) + "</title>\n";
    if (!p_.stylesheet.empty())
      out_ += "<link rel=\"stylesheet\" href=\"" + escape(p_.stylesheet) + "\">\n";
    out_ += "</head>\n<body class=\"acp-view\">\n";
  }

 private:
  std::string childName() const {
    const json::Value* names = p_.patient->find("name");
    if (!names || !names->isArray() || names->items().empty()) return "name not recorded";
    const json::Value* chosen = &names->items()[0];
    for (const json::Value& n : names->items())
      if (n.getString("use") == "official") chosen = &n;
    if (!chosen->getString("text").empty()) return chosen->getString("text");
    std::string given;
    if (const json::Value* g = chosen->find("given"); g && g->isArray())
      for (const json::Value& part : g->items()) given += (given.empty() ? "" : " ") + part.text();
    std::string family = chosen->getString("family");
    std::string out = given + (given.empty() || family.empty() ? "" : " ") + family;
    return out.empty() ? "name not recorded" : out;
  }

  std::string nhsNumber() const {
    if (const json::Value* ids = p_.patient->find("identifier"); ids && ids->isArray())
      for (const json::Value& id : ids->items())
        if (id.getString("system") == kNhsNumberSystem) return id.getString("value");
    return "";
  }

  void banner() {
    out_ += "<section class=\"acp-banner\" aria-label=\"Child\">\n<h1 class=\"nhsuk-heading-l\">" +
            escape(childName()) + "</h1>\n<dl class=\"nhsuk-summary-list acp-banner__facts\">\n";
    row("Date of birth", p_.patient->getString("birthDate").empty()
                             ? "not recorded"
                             : readableDate(p_.patient->getString("birthDate")));
    std::string nhs = nhsNumber();
    row("NHS number", nhs.empty() ? "not recorded" : formatNhsNumber(nhs));
    out_ += "</dl>\n</section>\n";
  }

  void row(const std::string& key, const std::string& value) {
    out_ += "<div class=\"nhsuk-summary-list__row\"><dt class=\"nhsuk-summary-list__key\">" +
            escape(key) + "</dt><dd class=\"nhsuk-summary-list__value\">" + escape(value) +
            "</dd></div>\n";
  }

  static bool listed(const std::string& code) {
    for (const Section& s : sections())
      for (const std::string& c : s.codes)
        if (c == code) return true;
    return false;
  }

  // A value as a person reads it; never blank.
  static std::string readable(const plan::Statement& s) {
    std::string text = s.readable();
    return text.empty() ? "value not readable here: see the source record" : text;
  }

  const plan::ItemAnswer* answer(const std::string& code) const {
    for (const plan::ItemAnswer& a : p_.answers)
      if (a.code == code) return &a;
    return nullptr;
  }

  std::string source(const std::string& ods) const {
    if (ods.empty()) return "an unknown organisation";
    auto n = names_.find(ods);
    return n == names_.end() ? ods : n->second + " (" + ods + ")";
  }

  // "Recorded by <author>, <organisation>, on <date>" for a statement.
  std::string provenance(const plan::Statement& s) const {
    std::string who = s.author ? s.author->getString("display") : "";
    std::string out = "Recorded by " + (who.empty() ? "" : escape(who) + ", ") + escape(source(s.ods));
    if (!s.date.empty()) out += ", on " + escape(readableDate(s.date));
    return out;
  }

  // The other sources' values and the drafts of one decision.
  void alternatives(const plan::ItemAnswer& a) {
    if (!a.differs.empty()) {
      out_ += "<div class=\"nhsuk-warning-callout acp-differs\"><h3 "
              "class=\"nhsuk-warning-callout__label\">The sources disagree</h3><ul>\n";
      for (const plan::Statement& d : a.differs)
        out_ += "<li><strong>" + escape(readable(d)) + "</strong> — " + provenance(d) + "</li>\n";
      out_ += "</ul><p>Check with the organisations before acting on either value.</p></div>\n";
    }
    for (const plan::Statement& d : a.drafts)
      out_ += "<p class=\"acp-draft\"><strong class=\"nhsuk-tag nhsuk-tag--grey\">Draft, not "
              "agreed</strong> " +
              escape(readable(d)) + " — " + provenance(d) + "</p>\n";
  }

  void resuscitation() {
    const plan::ItemAnswer* a = answer("resuscitation");
    out_ += "<section class=\"acp-resuscitation nhsuk-card\" id=\"resuscitation\" "
            "aria-labelledby=\"resuscitation-heading\">\n<div class=\"nhsuk-card__content\">\n"
            "<h2 class=\"nhsuk-card__heading\" id=\"resuscitation-heading\">Resuscitation "
            "(CPR) decision</h2>\n";
    if (a && a->current) {
      out_ += "<p class=\"acp-resuscitation__value\">" + escape(readable(*a->current)) +
              "</p>\n<p class=\"acp-provenance\">" + provenance(*a->current) + "</p>\n";
    } else {
      out_ += "<p class=\"acp-resuscitation__value acp-resuscitation__value--none\">No "
              "resuscitation decision is recorded in the shared plan</p>\n";
    }
    if (a) alternatives(*a);
    out_ += "</div>\n</section>\n";
  }

  void disagreements() {
    int n = 0;
    for (const plan::ItemAnswer& a : p_.answers)
      if (!a.differs.empty()) ++n;
    if (n == 0) return;
    out_ += "<div class=\"nhsuk-warning-callout acp-disagreements\" role=\"note\"><h2 "
            "class=\"nhsuk-warning-callout__label\">The sources disagree on " +
            std::to_string(n) + (n == 1 ? " decision" : " decisions") +
            "</h2><p>Each is marked below, with every organisation's value.</p></div>\n";
  }

  // `others`: this section also holds every decision no section names (so a decision the
  // summary gains is never left off the page).
  void section(const Section& s, bool others) {
    std::vector<const plan::ItemAnswer*> items;
    for (const std::string& code : s.codes)
      for (const plan::ItemAnswer& a : p_.answers)
        if (a.code == code) items.push_back(&a);
    if (others)
      for (const plan::ItemAnswer& a : p_.answers)
        if (a.code != "resuscitation" && !listed(a.code)) items.push_back(&a);
    out_ += "<section class=\"acp-section\" id=\"" + std::string(s.id) +
            "\" aria-labelledby=\"" + s.id + "-heading\">\n<h2 class=\"nhsuk-heading-m\" id=\"" +
            s.id + "-heading\">" + s.heading + "</h2>\n";
    if (items.empty()) {
      out_ += "<p class=\"acp-none\">Nothing recorded in the shared plan.</p>\n</section>\n";
      return;
    }
    out_ += "<dl class=\"nhsuk-summary-list\">\n";
    for (const plan::ItemAnswer* a : items) {
      std::string key = a->display + (a->symptom.empty() ? "" : ": " + a->symptom);
      bool overdue = a->code == "review-date" && a->current && a->current->value.isString() &&
                     reviewOverdue(a->current->value.text(), p_.today);
      out_ += "<div class=\"nhsuk-summary-list__row" +
              std::string(a->differs.empty() ? "" : " acp-row--differs") +
              "\"><dt class=\"nhsuk-summary-list__key\">" + escape(key) +
              "</dt><dd class=\"nhsuk-summary-list__value\">";
      if (a->current) {
        std::string value = readable(*a->current);
        if (a->code == "review-date") value = readableDate(value);
        out_ += "<p class=\"acp-value\">" + escape(value);
        if (overdue)
          out_ += " <strong class=\"nhsuk-tag nhsuk-tag--red acp-overdue\">Review overdue</strong>";
        out_ += "</p><p class=\"acp-provenance\">" + provenance(*a->current) + "</p>";
      } else {
        out_ += "<p class=\"acp-none\">No agreed value in the shared plan</p>";
      }
      alternatives(*a);
      out_ += "</dd></div>\n";
    }
    out_ += "</dl>\n</section>\n";
  }

  void withheld() {
    std::set<std::string> said;
    std::string rows;
    for (const json::Value& plan : p_.input->withheld) {
      if (!plan::isAdvanceCarePlan(plan) || !said.insert(plan.getString("id")).second) continue;
      std::string contact;
      if (const json::Value* teams = plan.find("careTeam"); teams && teams->isArray())
        for (const json::Value& t : teams->items()) {
          auto team = p_.input->careTeams.find(t.getString("reference"));
          if (team == p_.input->careTeams.end()) continue;
          std::string who = plan::careTeamText(team->second);
          if (!who.empty()) contact += (contact.empty() ? "" : "; ") + who;
        }
      rows += "<li>A plan held by " + escape(source(plan::sourceOds(plan))) +
              (contact.empty() ? "" : ": contact " + escape(contact)) + "</li>\n";
    }
    if (rows.empty()) return;
    out_ += "<section class=\"acp-section\" id=\"withheld\" aria-labelledby=\"withheld-heading\">\n"
            "<h2 class=\"nhsuk-heading-m\" id=\"withheld-heading\">Plans not shared with "
            "you</h2>\n<p>The child or family has not consented to share these plans with your "
            "organisation, or has withdrawn consent. Contact the organisation that holds "
            "them.</p>\n<ul>\n" +
            rows + "</ul>\n</section>\n";
  }

  void history() {
    out_ += "<section class=\"acp-section\" id=\"history\" aria-labelledby=\"history-heading\">\n"
            "<h2 class=\"nhsuk-heading-m\" id=\"history-heading\">History of the plans</h2>\n";
    if (p_.history.empty()) {
      out_ += "<p class=\"acp-none\">No advance care plan is recorded.</p>\n</section>\n";
      return;
    }
    out_ += "<table class=\"nhsuk-table\"><caption class=\"nhsuk-table__caption\">Every "
            "recorded version, newest first</caption>\n<thead class=\"nhsuk-table__head\"><tr "
            "class=\"nhsuk-table__row\"><th scope=\"col\" class=\"nhsuk-table__header\">Recorded"
            "</th><th scope=\"col\" class=\"nhsuk-table__header\">Organisation</th><th "
            "scope=\"col\" class=\"nhsuk-table__header\">Plan</th><th scope=\"col\" "
            "class=\"nhsuk-table__header\">Version</th><th scope=\"col\" "
            "class=\"nhsuk-table__header\">Status</th></tr></thead>\n<tbody "
            "class=\"nhsuk-table__body\">\n";
    for (const PlanVersion& v : p_.history) {
      std::string status = statusText(v);
      // A version entered in error may be another child's: nothing of it but that.
      bool hidden = !v.deleted && v.status == "entered-in-error";
      out_ += "<tr class=\"nhsuk-table__row\"><td class=\"nhsuk-table__cell\">" +
              escape(readableDate(v.recorded)) + "</td><td class=\"nhsuk-table__cell\">" +
              escape(hidden ? "—" : source(v.source)) + "</td><td class=\"nhsuk-table__cell\">" +
              escape(hidden ? "—" : v.title.empty() ? v.carePlan : v.title) +
              "</td><td class=\"nhsuk-table__cell\">" + std::to_string(v.version) +
              "</td><td class=\"nhsuk-table__cell\">" + escape(status) + "</td></tr>\n";
    }
    out_ += "</tbody></table>\n</section>\n";
  }

  // A version's status as the history shows it: "in force" only for a version of a plan in
  // force (plan::plansInForce); any other active version was agreed once and since replaced.
  std::string statusText(const PlanVersion& v) const {
    if (v.deleted) return "deleted";
    if (v.status == "active")
      return p_.inForce.count(v.carePlan + "/_history/" + std::to_string(v.version))
                 ? "in force"
                 : "agreed then, since replaced";
    if (v.status == "revoked") return "superseded or withdrawn";
    if (v.status == "entered-in-error") return "entered in error";
    if (v.status == "draft") return "draft, not agreed";
    return v.status;
  }

  const PlanPage& p_;
  std::map<std::string, std::string> names_;
  std::string out_;
};

}  // namespace

std::string renderPlanPage(const PlanPage& page) {
  static const json::Value kEmpty = json::Value::makeObject();
  static const plan::SummaryInput kNoInput;
  PlanPage p = page;
  if (!p.patient) p.patient = &kEmpty;
  if (!p.input) p.input = &kNoInput;
  return Page(p).render();
}

std::string renderErrorPage(int status, const std::string& title, const std::string& message,
                            const std::string& stylesheet) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>" +
         escape(title) + "</title>\n";
  if (!stylesheet.empty())
    out += "<link rel=\"stylesheet\" href=\"" + escape(stylesheet) + "\">\n";
  out += "</head>\n<body class=\"acp-view\">\n<header class=\"nhsuk-header\" role=\"banner\"><div "
         "class=\"nhsuk-width-container nhsuk-header__container\"><p "
         "class=\"nhsuk-header__service-name\">Shared advance care plan</p></div></header>\n<div "
         "class=\"nhsuk-width-container\"><main class=\"nhsuk-main-wrapper\" id=\"maincontent\" "
         "role=\"main\">\n<h1 class=\"nhsuk-heading-l\">" +
         escape(title) + "</h1>\n<p class=\"acp-error\" data-status=\"" + std::to_string(status) +
         "\">" + escape(message) + "</p>\n</main></div>\n</body>\n</html>\n";
  return out;
}

}  // namespace acp::view
