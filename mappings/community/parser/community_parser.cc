#include "mappings/community/parser/community_parser.h"

#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mappings/community/parser/untrusted_xml_reader.h"

namespace acp::mappings::community {

namespace {

constexpr std::string_view kRoot = "CommunityExport";
constexpr const char* kXsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";
constexpr size_t kMaxMessage = 300;

// ---------------------------------------------------------------------------------------------
// Small string helpers.

std::string_view view(const xmlChar* s) {
  return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

bool isXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// XML Schema whitespace "collapse" (xs:token): trims, and runs of blanks become one space.
std::string collapse(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pendingSpace = false;
  for (char c : s) {
    if (isXmlSpace(c)) {
      pendingSpace = !out.empty();
      continue;
    }
    if (pendingSpace) out.push_back(' ');
    pendingSpace = false;
    out.push_back(c);
  }
  return out;
}

bool isBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return isXmlSpace(c); });
}

// Cuts `s` to at most `max` bytes on a UTF-8 boundary (messages quote input values).
void cap(std::string& s, size_t max) {
  if (s.size() <= max) return;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s += "...";
}

// libxml2's message without the export namespace in "{...}Name" and without trailing blanks.
std::string cleanMessage(const char* raw) {
  std::string m = raw ? raw : "unknown XML error";
  const std::string ns = std::string("{") + kExportNamespace + "}";
  for (size_t at = m.find(ns); at != std::string::npos; at = m.find(ns, at)) m.erase(at, ns.size());
  while (!m.empty() && isXmlSpace(m.back())) m.pop_back();
  cap(m, kMaxMessage);
  return m;
}

// The element local name libxml2's schema messages start with: "Element '{ns}Name'..." or
// "Element 'Name'...". Empty when the message has another shape.
std::string elementNameOf(const char* raw) {
  std::string_view m = raw ? raw : "";
  constexpr std::string_view kPrefix = "Element '";
  if (m.substr(0, kPrefix.size()) != kPrefix) return "";
  m.remove_prefix(kPrefix.size());
  size_t end = m.find('\'');
  if (end == std::string_view::npos) return "";
  m = m.substr(0, end);
  if (!m.empty() && m.front() == '{') {
    size_t close = m.find('}');
    if (close == std::string_view::npos) return "";
    m.remove_prefix(close + 1);
  }
  size_t colon = m.find(':');  // a prefixed name from an unexpected namespace
  if (colon != std::string_view::npos) m.remove_prefix(colon + 1);
  return std::string(m);
}

// OperationOutcome issue type for a libxml2 schema validity error.
const char* schemaIssueType(const xmlError& err) {
  if (err.code == XML_SCHEMAV_CVC_COMPLEX_TYPE_4) return "required";  // attribute missing
  if (err.code == XML_SCHEMAV_ELEMENT_CONTENT && err.message &&
      std::strstr(err.message, "Missing child element") != nullptr) {
    return "required";
  }
  if (err.code >= XML_SCHEMAV_VALUE && err.code <= XML_SCHEMAV_CVC_ENUMERATION_VALID) {
    return "value";  // datatype and facet errors (dates, enumerations, patterns, lengths)
  }
  return "structure";
}

// ---------------------------------------------------------------------------------------------
// Element names and locations.

bool inExportNs(const xmlNode* n) {
  return n->ns != nullptr && view(n->ns->href) == kExportNamespace;
}

bool isExportElement(const xmlNode* n, std::string_view name) {
  return n->type == XML_ELEMENT_NODE && view(n->name) == name && inExportNs(n);
}

// Elements the schema lets occur once get no index in locations; repeating ones and those it
// does not know get one.
bool indexedInLocation(const xmlNode* n) {
  static const std::unordered_set<std::string_view> kSingle = {
      "NHSNumber", "Name",   "BirthDate",  "Gender", "Address", "RegisteredGP", "Caseload",
      "PostCode",  "Period", "ReviewDate", "Title",  "Author",  "Consent"};
  return !inExportNs(n) || kSingle.count(view(n->name)) == 0;
}

bool sameName(const xmlNode* a, const xmlNode* b) {
  if (view(a->name) != view(b->name)) return false;
  const xmlChar* na = a->ns ? a->ns->href : nullptr;
  const xmlChar* nb = b->ns ? b->ns->href : nullptr;
  return view(na) == view(nb);
}

// ".Name" or ".Name[i]" for `n`, i counting earlier element siblings of the same name.
std::string step(const xmlNode* n) {
  std::string s = ".";
  s += view(n->name);
  if (indexedInLocation(n)) {
    size_t i = 0;
    for (const xmlNode* p = n->prev; p; p = p->prev) {
      if (p->type == XML_ELEMENT_NODE && sameName(p, n)) ++i;
    }
    s += "[" + std::to_string(i) + "]";
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Line numbers of the root's children. libxml2 keeps element line numbers in 16 bits, and a
// 40 MB export has far more lines, so the lines are found in the raw text: this scanner walks
// it in step with the reader, which has already parsed that far, so it only needs to know
// well-formed markup (comments, processing instructions, CDATA sections, tags with quoted
// attribute values, text). Total work is one pass over the text.
class ChildLineScanner {
 public:
  explicit ChildLineScanner(std::string_view text) : text_(text) {}

  // The 1-based line of the next start tag at depth 1 (a child of the root), 0 if none.
  long next() {
    while (pos_ < text_.size()) {
      size_t lt = text_.find('<', pos_);
      if (lt == std::string_view::npos) break;
      if (at(lt, "<!--")) {
        pos_ = skipPast(lt + 4, "-->");
      } else if (at(lt, "<![CDATA[")) {
        pos_ = skipPast(lt + 9, "]]>");
      } else if (at(lt, "<?")) {
        pos_ = skipPast(lt + 2, "?>");
      } else if (at(lt, "<!")) {
        pos_ = skipPast(lt + 2, ">");
      } else if (at(lt, "</")) {
        pos_ = skipPast(lt + 2, ">");
        --depth_;
      } else {
        size_t i = lt + 1;
        char quote = 0;
        for (; i < text_.size(); ++i) {
          char c = text_[i];
          if (quote) {
            if (c == quote) quote = 0;
          } else if (c == '"' || c == '\'') {
            quote = c;
          } else if (c == '>') {
            break;
          }
        }
        bool empty = i < text_.size() && text_[i - 1] == '/';
        int depth = depth_;
        if (!empty) ++depth_;
        pos_ = std::min(i + 1, text_.size());
        if (depth == 1) return lineAt(lt);
      }
    }
    pos_ = text_.size();
    return 0;
  }

 private:
  bool at(size_t i, std::string_view s) const { return text_.compare(i, s.size(), s) == 0; }
  size_t skipPast(size_t from, std::string_view end) const {
    size_t e = text_.find(end, from);
    return e == std::string_view::npos ? text_.size() : e + end.size();
  }
  // Line breaks as libxml2 counts them: LF, CR LF, and a lone CR.
  long lineAt(size_t offset) {
    for (size_t i = counted_; i < offset; ++i) {
      char c = text_[i];
      if (c == '\n' || (c == '\r' && (i + 1 >= text_.size() || text_[i + 1] != '\n'))) ++line_;
    }
    counted_ = offset;
    return line_;
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t counted_ = 0;  // newlines before this offset are counted in line_
  long line_ = 1;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Error collection. libxml2 reports schema errors while it parses, which runs ahead of the
// reader (up to a 512-byte chunk), so an error cannot be tied to "the Patient the reader is
// on". It is tied instead to the tree as it stands when the error is raised: the validator
// runs after the tree builder for each SAX event, so the element an error is about is on the
// chain of last element children from the root (the newest element and its ancestors; an
// element whose end tag is being checked is still its parent's last element child). The
// message names the element; its depth-1 ancestor (a Patient, or an unexpected element)
// keys the error until the reader reaches that element. Errors are only ever inside subtrees
// the reader has not yet freed, so sibling counts in locations are exact.

// Schema issues kept per depth-1 element (and for CommunityExport itself): a document full of
// errors must not turn into millions of issues. Further ones are counted, not listed.
constexpr size_t kMaxSchemaIssues = 50;

struct PendingIssues {
  std::vector<Issue> issues;
  size_t dropped = 0;
};

struct ParseState {
  xmlTextReaderPtr reader = nullptr;
  xmlDocPtr doc = nullptr;  // from xmlTextReaderCurrentDoc: ours to free after the reader

  bool fatal = false;  // not well-formed (first error kept)
  std::string fatalMessage;
  int fatalLine = 0;
  int fatalColumn = 0;
  bool internal = false;  // libxml2 failed (memory, schema internal error)
  std::string internalMessage;

  // Schema issues keyed by the depth-1 element they are inside (or are); locations relative.
  std::unordered_map<const xmlNode*, PendingIssues> pending;
  PendingIssues rootIssues;  // about CommunityExport itself; locations absolute
};

// Adds `issue` unless `to` is full.
void keep(PendingIssues& to, Issue issue) {
  if (to.issues.size() >= kMaxSchemaIssues) {
    ++to.dropped;
  } else {
    to.issues.push_back(std::move(issue));
  }
}

// Moves `from` into `to`, prefixing locations with `base` and noting what was dropped.
void release(PendingIssues& from, const std::string& base, IssueList& to) {
  for (Issue& i : from.issues) {
    i.location = base + i.location;
    to.add(std::move(i));
  }
  if (from.dropped > 0) {
    to.error("structure", base.empty() ? std::string(kRoot) : base,
             std::to_string(from.dropped) + " further schema errors are not listed",
             "community.schema");
  }
}

std::vector<xmlNode*> lastElementChain(xmlDocPtr doc) {
  std::vector<xmlNode*> chain;
  for (xmlNode* n = doc ? xmlDocGetRootElement(doc) : nullptr; n != nullptr;) {
    chain.push_back(n);
    xmlNode* next = nullptr;
    for (xmlNode* c = n->last; c != nullptr; c = c->prev) {
      if (c->type == XML_ELEMENT_NODE) {
        next = c;
        break;
      }
    }
    n = next;
  }
  return chain;
}

void onSchemaError(ParseState& st, const xmlError& err) {
  if (st.doc == nullptr) st.doc = xmlTextReaderCurrentDoc(st.reader);
  std::vector<xmlNode*> chain = lastElementChain(st.doc);
  std::string name = elementNameOf(err.message);
  size_t target = 1;  // the depth-1 element when the message names nothing on the chain
  for (size_t i = chain.size(); i-- > 0;) {
    if (!name.empty() && view(chain[i]->name) == name) {
      target = i;
      break;
    }
  }
  PendingIssues& to = chain.size() < 2 || target == 0 ? st.rootIssues : st.pending[chain[1]];
  if (to.issues.size() >= kMaxSchemaIssues) {  // before any work on the message
    ++to.dropped;
    return;
  }
  Issue issue{Severity::kError, schemaIssueType(err), "", cleanMessage(err.message),
              "community.schema"};
  if (&to == &st.rootIssues) {
    issue.location = std::string(kRoot);
  } else {
    for (size_t i = 2; i <= target; ++i) issue.location += step(chain[i]);
  }
  keep(to, std::move(issue));
}

void onError(void* context, xmlErrorPtr err) {
  auto* st = static_cast<ParseState*>(context);
  if (st == nullptr || err == nullptr || err->level < XML_ERR_ERROR) return;  // warnings
  if (err->domain == XML_FROM_SCHEMASV && err->code != XML_SCHEMAV_INTERNAL) {
    if (!st->fatal) onSchemaError(*st, *err);  // after a fatal error nothing is delivered
    return;
  }
  if (err->domain == XML_FROM_MEMORY || err->domain == XML_FROM_SCHEMASV) {
    if (!st->internal) {
      st->internal = true;
      st->internalMessage = cleanMessage(err->message);
    }
    return;
  }
  if (!st->fatal) {  // parser, namespace, encoding, I/O: the document is not well-formed
    st->fatal = true;
    st->fatalMessage = cleanMessage(err->message);
    st->fatalLine = err->line;
    st->fatalColumn = err->int2;
  }
}

// ---------------------------------------------------------------------------------------------
// Building one Patient from its expanded subtree.

class XmlString {
 public:
  explicit XmlString(xmlChar* s) : s_(s) {}
  ~XmlString() { xmlFree(s_); }
  XmlString(const XmlString&) = delete;
  XmlString& operator=(const XmlString&) = delete;
  bool present() const { return s_ != nullptr; }
  std::string_view get() const { return view(s_); }

 private:
  xmlChar* s_;
};

// Reads the typed model from a Patient subtree. Issues go to two lists: `checks` (the parser's
// own rules the schema cannot express: always reported) and `fallback` (a value the model
// cannot hold, or a required part missing: reported only when the schema found nothing in
// this Patient, because normally the schema already reported the same problem; they keep
// the model contract even under a different XSD).
class PatientBuilder {
 public:
  PatientBuilder(std::string base, IssueList& checks, IssueList& fallback,
                 std::unordered_set<std::string>& carePlanIds,
                 std::unordered_set<std::string>& contactIds)
      : base_(std::move(base)),
        checks_(checks),
        fallback_(fallback),
        carePlanIds_(carePlanIds),
        contactIds_(contactIds) {}

  void build(const xmlNode* p, Patient& out) {
    std::string loc = base_;
    out.localId = token(p, "localId", loc, true).value_or("");
    bool nhs = false, name = false, birth = false, gender = false, address = false, gp = false,
         caseload = false;
    for (const xmlNode* c = p->children; c; c = c->next) {
      if (c->type != XML_ELEMENT_NODE || !inExportNs(c)) continue;
      std::string_view n = view(c->name);
      std::string cl = loc + step(c);
      if (n == "NHSNumber") {
        nhs = true;
        out.nhsNumber.value = collapse(text(c));
        if (auto s = token(c, "status", cl, true)) {
          if (auto v = parseNhsNumberStatus(*s)) {
            out.nhsNumber.status = *v;
          } else {
            badValue(cl, "NHSNumber status", *s);
          }
        }
      } else if (n == "Name") {
        name = true;
        out.name.family = token(c, "family", cl, true).value_or("");
        std::string given = token(c, "given", cl, true).value_or("");
        for (size_t at = 0; at < given.size();) {
          size_t sp = given.find(' ', at);
          if (sp == std::string::npos) sp = given.size();
          out.name.given.push_back(given.substr(at, sp - at));
          at = sp + 1;
        }
        out.name.preferred = token(c, "preferred", cl, false);
      } else if (n == "BirthDate") {
        birth = true;
        out.birthDate = date(collapse(text(c)), cl, "BirthDate");
      } else if (n == "Gender") {
        gender = true;
        std::string g = collapse(text(c));
        if (auto v = parseGender(g)) {
          out.gender = *v;
        } else {
          badValue(cl, "Gender", g);
        }
      } else if (n == "Address") {
        address = true;
        buildAddress(c, cl, out.address);
      } else if (n == "RegisteredGP") {
        gp = true;
        out.registeredGp.ods = token(c, "ods", cl, true).value_or("");
      } else if (n == "Caseload") {
        caseload = true;
        out.caseload.team = token(c, "team", cl, true).value_or("");
        out.caseload.from = dateAttr(c, "from", cl, true).value_or(Date{});
        out.caseload.to = dateAttr(c, "to", cl, false);
      } else if (n == "CarePlan") {
        out.carePlans.emplace_back();
        buildCarePlan(c, cl, out.carePlans.back());
      } else if (n == "Contact") {
        out.contacts.emplace_back();
        buildContact(c, cl, out.contacts.back());
      }
    }
    requireChild(nhs, loc, "NHSNumber");
    requireChild(name, loc, "Name");
    requireChild(birth, loc, "BirthDate");
    requireChild(gender, loc, "Gender");
    requireChild(address, loc, "Address");
    requireChild(gp, loc, "RegisteredGP");
    requireChild(caseload, loc, "Caseload");
  }

 private:
  static std::string text(const xmlNode* n) {
    XmlString s(xmlNodeGetContent(n));
    return std::string(s.get());
  }

  // Free text: as sent; nullopt when blank.
  static std::optional<std::string> freeText(const xmlNode* n) {
    std::string s = text(n);
    if (isBlank(s)) return std::nullopt;
    return s;
  }

  // An unqualified attribute, collapsed; nullopt when absent (reported when required).
  std::optional<std::string> token(const xmlNode* n, const char* attr, const std::string& loc,
                                   bool required) {
    XmlString v(xmlGetNoNsProp(n, reinterpret_cast<const xmlChar*>(attr)));
    if (!v.present()) {
      if (required) {
        fallback_.error("required", loc,
                        std::string("Attribute '") + attr + "' of " + std::string(view(n->name)) +
                            " is required",
                        "community.required");
      }
      return std::nullopt;
    }
    return collapse(v.get());
  }

  Date date(const std::string& s, const std::string& loc, const char* what) {
    if (auto d = parseXsDate(s)) return *d;
    badValue(loc, what, s);
    return Date{};
  }

  std::optional<Date> dateAttr(const xmlNode* n, const char* attr, const std::string& loc,
                               bool required) {
    auto s = token(n, attr, loc, required);
    if (!s) return std::nullopt;
    auto d = parseXsDate(*s);
    if (!d) badValue(loc, attr, *s);
    return d;
  }

  int intAttr(const xmlNode* n, const char* attr, const std::string& loc) {
    auto s = token(n, attr, loc, true);
    if (!s) return 0;
    std::string_view v = *s;
    bool negative = false;
    if (!v.empty() && (v.front() == '+' || v.front() == '-')) {
      negative = v.front() == '-';
      v.remove_prefix(1);
    }
    long long value = 0;
    bool ok = !v.empty() && v.size() <= 18;
    for (char c : v) {
      if (c < '0' || c > '9') ok = false;
      if (ok) value = value * 10 + (c - '0');
    }
    if (negative) value = -value;
    if (!ok || value < INT32_MIN || value > INT32_MAX) {
      badValue(loc, attr, *s);
      return 0;
    }
    return static_cast<int>(value);
  }

  template <typename E>
  E codeAttr(const xmlNode* n, const char* attr, const std::string& loc,
             std::optional<E> (*parse)(std::string_view), E fallbackValue) {
    auto s = token(n, attr, loc, true);
    if (!s) return fallbackValue;
    if (auto v = parse(*s)) return *v;
    badValue(loc, attr, *s);
    return fallbackValue;
  }

  void badValue(const std::string& loc, const std::string& what, const std::string& value) {
    std::string shown = value;
    cap(shown, 64);
    fallback_.error("value", loc, "Invalid " + what + " '" + shown + "'", "community.value");
  }

  void requireChild(bool seen, const std::string& loc, const char* child) {
    if (!seen) {
      fallback_.error("required", loc, std::string("Missing required element ") + child,
                      "community.required");
    }
  }

  void duplicate(std::unordered_set<std::string>& seen, const std::string& id,
                 const std::string& loc, const char* what) {
    if (id.empty()) return;
    if (!seen.insert(id).second) {
      checks_.error("duplicate", loc,
                    std::string(what) + " id '" + id + "' occurs more than once in the export",
                    "community.duplicate-id");
    }
  }

  void buildAddress(const xmlNode* a, const std::string& loc, Address& out) {
    out.use = codeAttr<AddressUse>(a, "use", loc, parseAddressUse, AddressUse::kHome);
    bool postCode = false;
    for (const xmlNode* c = a->children; c; c = c->next) {
      if (isExportElement(c, "Line")) {
        out.lines.push_back(collapse(text(c)));
      } else if (isExportElement(c, "PostCode")) {
        postCode = true;
        out.postCode = collapse(text(c));
      }
    }
    if (out.lines.empty()) requireChild(false, loc, "Line");
    requireChild(postCode, loc, "PostCode");
  }

  void buildCarePlan(const xmlNode* p, const std::string& loc, CarePlan& out) {
    out.id = token(p, "id", loc, true).value_or("");
    duplicate(carePlanIds_, out.id, loc, "CarePlan");
    out.version = intAttr(p, "version", loc);
    out.status =
        codeAttr<CarePlanStatus>(p, "status", loc, parseCarePlanStatus, CarePlanStatus::kDraft);
    out.type = codeAttr<CarePlanType>(p, "type", loc, parseCarePlanType, CarePlanType::kGeneral);
    bool period = false, review = false, title = false, author = false, consent = false;
    for (const xmlNode* c = p->children; c; c = c->next) {
      if (c->type != XML_ELEMENT_NODE || !inExportNs(c)) continue;
      std::string_view n = view(c->name);
      std::string cl = loc + step(c);
      if (n == "Period") {
        period = true;
        out.period.start = dateAttr(c, "start", cl, true).value_or(Date{});
        out.period.end = dateAttr(c, "end", cl, false);
      } else if (n == "ReviewDate") {
        review = true;
        out.reviewDate = date(collapse(text(c)), cl, "ReviewDate");
      } else if (n == "Title") {
        title = true;
        out.title = collapse(text(c));
      } else if (n == "Author") {
        author = true;
        out.author.name = token(c, "name", cl, true).value_or("");
        out.author.role = token(c, "role", cl, true).value_or("");
        out.author.regBody = codeAttr<RegBody>(c, "regBody", cl, parseRegBody, RegBody::kNmc);
        out.author.regNumber = token(c, "regNumber", cl, true).value_or("");
      } else if (n == "Goal") {
        std::string g = text(c);
        if (isBlank(g)) {
          badValue(cl, "Goal", g);
        } else {
          out.goals.push_back(std::move(g));
        }
      } else if (n == "Decision") {
        out.decisions.emplace_back();
        buildDecision(c, cl, out.decisions.back());
      } else if (n == "Activity") {
        Activity a;
        a.code = token(c, "code", cl, true).value_or("");
        a.status = codeAttr<ActivityStatus>(c, "status", cl, parseActivityStatus,
                                            ActivityStatus::kPlanned);
        a.description = freeText(c);
        out.activities.push_back(std::move(a));
      } else if (n == "Consent") {
        consent = true;
        out.consent.sharing =
            codeAttr<ConsentSharing>(c, "sharing", cl, parseConsentSharing, ConsentSharing::kYes);
        out.consent.date = dateAttr(c, "date", cl, true).value_or(Date{});
      }
    }
    requireChild(period, loc, "Period");
    requireChild(review, loc, "ReviewDate");
    requireChild(title, loc, "Title");
    requireChild(author, loc, "Author");
    requireChild(consent, loc, "Consent");
  }

  void buildDecision(const xmlNode* d, const std::string& loc, Decision& out) {
    auto kind = token(d, "kind", loc, true);
    auto value = token(d, "value", loc, true);
    out.details = freeText(d);
    if (value) out.value = *value;
    if (!kind) return;
    auto k = parseDecisionKind(*kind);
    if (!k) {
      badValue(loc, "Decision kind", *kind);
      return;
    }
    out.kind = *k;
    if (!value) return;
    if (decisionValueAllowed(*k, *value)) return;
    // A known decision code used with the wrong kind: the schema cannot see this. An unknown
    // code is the schema's to report (a fallback here).
    bool knownCode = false;
    for (DecisionKind other : {DecisionKind::kCpr, DecisionKind::kPpc, DecisionKind::kVentilation,
                               DecisionKind::kHospitalTransfer}) {
      knownCode = knownCode || decisionValueAllowed(other, *value);
    }
    if (!knownCode) {
      badValue(loc, "Decision value", *value);
      return;
    }
    std::string allowed;
    for (std::string_view v : decisionValues(*k)) {
      if (!allowed.empty()) allowed += ", ";
      allowed += v;
    }
    checks_.error("code-invalid", loc,
                  "Decision value '" + *value + "' is not allowed for kind '" + *kind +
                      "' (allowed: " + allowed + ")",
                  "community.decision-value");
  }

  void buildContact(const xmlNode* c, const std::string& loc, Contact& out) {
    out.id = token(c, "id", loc, true).value_or("");
    duplicate(contactIds_, out.id, loc, "Contact");
    if (auto s = token(c, "date", loc, true)) {
      if (auto t = parseXsDateTime(*s)) {
        out.date = *t;
      } else {
        badValue(loc, "date", *s);
      }
    }
    out.minutes = intAttr(c, "minutes", loc);
    out.type = codeAttr<ContactType>(c, "type", loc, parseContactType, ContactType::kHomeVisit);
    out.staffRole = codeAttr<StaffRole>(c, "staffRole", loc, parseStaffRole, StaffRole::kCns);
    out.outcome =
        codeAttr<ContactOutcome>(c, "outcome", loc, parseContactOutcome, ContactOutcome::kAttended);
    out.text = freeText(c);
  }

  std::string base_;
  IssueList& checks_;
  IssueList& fallback_;
  std::unordered_set<std::string>& carePlanIds_;
  std::unordered_set<std::string>& contactIds_;
};

// ---------------------------------------------------------------------------------------------
// The header.

bool validOds(std::string_view s) {
  return s.size() >= 3 && s.size() <= 10 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

// Reads and checks CommunityExport's attributes (the reader is on the root element).
std::optional<ExportHeader> readHeader(xmlTextReaderPtr r, IssueList& issues) {
  std::optional<std::string> generated, trust, batchId;
  const std::string loc(kRoot);
  for (int more = xmlTextReaderMoveToFirstAttribute(r); more == 1;
       more = xmlTextReaderMoveToNextAttribute(r)) {
    if (xmlTextReaderIsNamespaceDecl(r) == 1) continue;
    std::string_view ns = view(xmlTextReaderConstNamespaceUri(r));
    std::string_view name = view(xmlTextReaderConstLocalName(r));
    XmlString value(xmlTextReaderValue(r));
    if (ns.empty() && name == "generated") {
      generated = collapse(value.get());
    } else if (ns.empty() && name == "trust") {
      trust = collapse(value.get());
    } else if (ns.empty() && name == "batchId") {
      batchId = collapse(value.get());
    } else if (ns == kXsiNamespace &&
               (name == "schemaLocation" || name == "noNamespaceSchemaLocation")) {
      continue;  // a hint only: the gateway validates against its own copy of the schema
    } else {
      std::string shown(view(xmlTextReaderConstName(r)));
      cap(shown, 64);
      issues.error("structure", loc, "Unknown CommunityExport attribute '" + shown + "'",
                   "community.header");
    }
  }
  xmlTextReaderMoveToElement(r);

  ExportHeader h;
  auto missing = [&](const char* attr) {
    issues.error("required", loc,
                 std::string("CommunityExport attribute '") + attr + "' is required",
                 "community.header");
  };
  auto invalid = [&](const char* attr, std::string value, const char* expected) {
    cap(value, 64);
    issues.error("value", loc,
                 std::string("CommunityExport attribute '") + attr + "' ('" + value + "') is not " +
                     expected,
                 "community.header");
  };
  if (!generated) {
    missing("generated");
  } else if (auto t = parseXsDateTime(*generated)) {
    h.generated = *t;
  } else {
    invalid("generated", *generated, "an xs:dateTime");
  }
  if (!trust) {
    missing("trust");
  } else if (!validOds(*trust)) {
    invalid("trust", *trust, "an ODS code");
  } else {
    h.trust = *trust;
  }
  if (!batchId) {
    missing("batchId");
  } else if (batchId->empty() || batchId->size() > 64) {
    invalid("batchId", *batchId, "an identifier of 1 to 64 characters");
  } else {
    h.batchId = *batchId;
  }
  if (issues.hasErrors()) return std::nullopt;
  return h;
}

// ---------------------------------------------------------------------------------------------

struct VctxtDeleter {
  void operator()(xmlSchemaValidCtxt* v) const { xmlSchemaFreeValidCtxt(v); }
};

// Owns the libxml2 objects of one parse and frees them in the order they depend on each
// other: the reader (which unplugs the validator) before the validation context, and the
// document the reader was told to preserve after both.
struct ParseResources {
  ParseState* state = nullptr;
  std::unique_ptr<xmlSchemaValidCtxt, VctxtDeleter> vctxt;
  TextReaderPtr reader;
  ~ParseResources() {
    reader.reset();
    vctxt.reset();
    if (state != nullptr && state->doc != nullptr) {
      xmlFreeDoc(state->doc);
      state->doc = nullptr;
    }
  }
};

// Appends libxml2's error messages to the std::string `context` (schema loading).
void collectMessage(void* context, xmlErrorPtr err) {
  auto* out = static_cast<std::string*>(context);
  if (err == nullptr || err->level < XML_ERR_ERROR || out->size() > 1000) return;
  if (!out->empty()) out->append("; ");
  out->append(cleanMessage(err->message));
}

const char* communityCodeFor(const std::string& xmlCode) {
  if (xmlCode == "parse.xml.doctype") return "community.doctype";
  if (xmlCode == "parse.xml.encoding") return "community.encoding";
  if (xmlCode == "parse.xml.too-large") return "community.too-large";
  if (xmlCode == "parse.xml.internal") return "community.internal";
  return "community.not-well-formed";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<std::shared_ptr<const CommunitySchema>> CommunitySchema::load(const std::string& xsdPath) {
  acp::xml::xmlSafeInit();
  std::string messages;
  xmlSchemaParserCtxtPtr pctxt = xmlSchemaNewParserCtxt(xsdPath.c_str());
  if (pctxt == nullptr) return Status::internal("cannot create a schema parser for " + xsdPath);
  xmlSchemaSetParserStructuredErrors(pctxt, collectMessage, &messages);
  // Errors raised without a context (e.g. the file cannot be opened) go to `messages` too,
  // not to stderr. (Not an UntrustedReadScope: that would refuse to load the file itself.)
  xmlStructuredErrorFunc previousHandler = xmlStructuredError;
  void* previousContext = xmlStructuredErrorContext;
  xmlSetStructuredErrorFunc(&messages, collectMessage);
  xmlSchemaPtr schema = xmlSchemaParse(pctxt);
  xmlSetStructuredErrorFunc(previousContext, previousHandler);
  xmlSchemaFreeParserCtxt(pctxt);
  if (schema == nullptr) {
    return Status::internal("cannot load the community export schema " + xsdPath + ": " +
                            (messages.empty() ? "unknown error" : messages));
  }
  return std::shared_ptr<const CommunitySchema>(new CommunitySchema(schema));
}

CommunitySchema::~CommunitySchema() { xmlSchemaFree(schema_); }

CommunityExportParser::CommunityExportParser(std::shared_ptr<const CommunitySchema> schema)
    : schema_(std::move(schema)) {}

DocumentOutcome CommunityExportParser::parse(std::string_view xml,
                                             const PatientCallback& onPatient) const {
  DocumentOutcome out;
  auto failDocument = [&out](const char* type, std::string message, const char* code,
                             Status::Code status = Status::Code::kInvalid) {
    out.issues.error(type, std::string(kRoot), message, code);
    out.status = status == Status::Code::kInternal ? Status::internal(std::move(message))
                                                   : Status::invalid(std::move(message));
    out.complete = false;
    return std::move(out);
  };

  if (isBlank(xml)) {
    return failDocument("structure", "The export is empty", "community.empty");
  }
  if (!schema_ || schema_->get() == nullptr) {
    return failDocument("exception", "The community export schema is not loaded",
                        "community.internal", Status::Code::kInternal);
  }

  ParseState st;
  // Declared before the resources, so it outlives every libxml2 call that may report to it.
  UntrustedReadScope scope(onError, &st);
  ParseResources res;
  res.state = &st;
  acp::xml::XmlError xmlError;
  res.reader = openUntrustedReader(xml, xmlError);
  if (!res.reader) {
    const char* code = communityCodeFor(xmlError.code);
    bool internal = std::strcmp(code, "community.internal") == 0;
    return failDocument(xmlError.issueType.empty() ? "structure" : xmlError.issueType.c_str(),
                        xmlError.message, code,
                        internal ? Status::Code::kInternal : Status::Code::kInvalid);
  }
  xmlTextReaderPtr r = res.reader.get();
  st.reader = r;
  // The structured handler must be set before the validator is plugged in, so that schema
  // errors are relayed to it too.
  xmlTextReaderSetStructuredErrorHandler(r, onError, &st);
  res.vctxt.reset(xmlSchemaNewValidCtxt(schema_->get()));
  if (!res.vctxt || xmlTextReaderSchemaValidateCtxt(r, res.vctxt.get(), 0) != 0) {
    return failDocument("exception", "Cannot start schema validation", "community.internal",
                        Status::Code::kInternal);
  }

  // The reader stopped: report why (`where` is used when libxml2 reported nothing).
  auto failStopped = [&](const char* where) {
    if (st.internal) {
      return failDocument("exception", "XML processing failed: " + st.internalMessage,
                          "community.internal", Status::Code::kInternal);
    }
    std::string msg = "The export is not well-formed XML";
    if (st.fatal) {
      msg += ": " + st.fatalMessage;
      if (st.fatalLine > 0) {
        msg += " (line " + std::to_string(st.fatalLine);
        if (st.fatalColumn > 0) msg += ", column " + std::to_string(st.fatalColumn);
        msg += ")";
      }
    } else {
      msg += std::string(": ") + where;
    }
    return failDocument("structure", std::move(msg), "community.not-well-formed");
  };
  auto doctype = [&]() {
    return failDocument("structure",
                        "XML with a DOCTYPE is not accepted (DTDs and entities are disabled)",
                        "community.doctype");
  };

  // 1. The root element.
  int ret = 0;
  while ((ret = xmlTextReaderRead(r)) == 1) {
    int type = xmlTextReaderNodeType(r);
    if (type == XML_READER_TYPE_DOCUMENT_TYPE) return doctype();
    if (type == XML_READER_TYPE_ELEMENT) break;
  }
  if (ret != 1 || st.fatal || st.internal) return failStopped("no root element");
  std::string_view rootName = view(xmlTextReaderConstLocalName(r));
  std::string_view rootNs = view(xmlTextReaderConstNamespaceUri(r));
  if (rootName != kRoot) {
    std::string shown(rootName);
    cap(shown, 64);
    return failDocument("structure", "The root element is '" + shown + "', not CommunityExport",
                        "community.root");
  }
  if (rootNs != kExportNamespace) {
    std::string shown(rootNs.empty() ? "no namespace" : "namespace '" + std::string(rootNs) + "'");
    cap(shown, 100);
    return failDocument("structure", "CommunityExport is in " + shown + ", not " + kExportNamespace,
                        "community.namespace");
  }

  // 2. The header, checked before any Patient is delivered.
  IssueList headerIssues;
  out.header = readHeader(r, headerIssues);
  if (!out.header) {
    out.issues.append(headerIssues);
    out.status = Status::invalid(headerIssues.issues().front().message);
    return out;
  }

  // 3. The root's children, one at a time.
  ChildLineScanner lines(xml);
  size_t patientIndex = 0;
  std::unordered_map<std::string, size_t> otherIndex;  // unexpected depth-1 elements by name
  std::unordered_set<std::string> localIds, carePlanIds, contactIds;
  ret = xmlTextReaderRead(r);
  while (ret == 1 && !st.internal) {
    int type = xmlTextReaderNodeType(r);
    if (type == XML_READER_TYPE_DOCUMENT_TYPE) return doctype();
    if (type != XML_READER_TYPE_ELEMENT || xmlTextReaderDepth(r) != 1) {
      ret = xmlTextReaderRead(r);
      continue;
    }
    // Expand parses through the element's end tag, so every schema error about it has been
    // raised. After a fatal error libxml2 may hand out an unfinished subtree: only an
    // element followed by something (its end tag was parsed) is complete.
    xmlNode* node = xmlTextReaderExpand(r);
    if (node == nullptr || st.internal || (st.fatal && node->next == nullptr)) break;
    long line = lines.next();
    auto pendingIt = st.pending.find(node);
    PendingIssues schemaIssues;
    if (pendingIt != st.pending.end()) {
      schemaIssues = std::move(pendingIt->second);
      st.pending.erase(pendingIt);
    }
    bool schemaFound = !schemaIssues.issues.empty();

    if (!isExportElement(node, "Patient")) {
      std::string name(view(node->name));
      std::string base =
          std::string(kRoot) + "." + name + "[" + std::to_string(otherIndex[name]++) + "]";
      if (!schemaFound) {  // e.g. a schema that allows it: still not a Patient
        out.issues.error("structure", base, "Unexpected element '" + name + "' in the export",
                         "community.schema");
      }
      release(schemaIssues, base, out.issues);
      // libxml2 stops validating the rest of an element's content after an unexpected child
      // (here: every later Patient), so the document cannot be judged beyond this point.
      out.status = Status::invalid("Unexpected element '" + name +
                                   "' in the export: the rest of the document is not read");
      out.complete = false;
      return out;
    }

    PatientRecord rec;
    rec.index = patientIndex++;
    rec.patient.sourceLine = line;
    std::string base = std::string(kRoot) + ".Patient[" + std::to_string(rec.index) + "]";
    IssueList checks, fallback;
    PatientBuilder(base, checks, fallback, carePlanIds, contactIds).build(node, rec.patient);
    release(schemaIssues, base, rec.issues);
    if (!rec.patient.localId.empty() && !localIds.insert(rec.patient.localId).second) {
      rec.issues.error(
          "duplicate", base,
          "Patient localId '" + rec.patient.localId + "' occurs more than once in the export",
          "community.duplicate-id");
    }
    rec.issues.append(checks);
    if (!schemaFound) rec.issues.append(fallback);

    bool accepted = rec.accepted();
    ++out.patientsDelivered;
    ++(accepted ? out.patientsAccepted : out.patientsRejected);
    Status s;
    {
      // The callback may use libxml2 for its own (trusted) work: give it the thread back.
      UntrustedReadScope::Pause pause(scope);
      s = onPatient(std::move(rec));
    }
    if (!s.isOk()) {
      out.status = std::move(s);
      out.complete = false;
      return out;
    }
    ret = xmlTextReaderNext(r);
  }
  if (ret != 0 || st.fatal || st.internal) return failStopped("unexpected end of the document");

  // 4. Read to the end: document-level schema issues (about CommunityExport itself).
  release(st.rootIssues, "", out.issues);
  out.complete = true;
  out.status =
      out.issues.hasErrors() ? Status::invalid(out.issues.issues().front().message) : Status::ok();
  return out;
}

}  // namespace acp::mappings::community
