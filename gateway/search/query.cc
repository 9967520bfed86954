#include "gateway/search/query.h"

#include <charconv>
#include <limits>
#include <unordered_set>

#include "gateway/search/fhirpath.h"
#include "gateway/search/index.h"

namespace acp::search {

namespace {

using model::Model;
using model::SearchParamDef;

constexpr size_t kMaxChainDepth = 3;  // subject.organization.partof.name is already plenty
// Values ORed in one parameter (a,b,c...), and values in one whole search. Beyond them a search
// is refused (400 too-costly): each value is a term of the store's query, and SQLite refuses an
// expression deeper than 1000 terms (found by fuzz target search: 600 values were a 500).
// Criteria ANDed in one search: each nests the store's WHERE clause one level deeper.
constexpr size_t kMaxValuesPerParameter = 100;
constexpr size_t kMaxValuesPerSearch = 1000;
constexpr size_t kMaxCriteriaPerSearch = 100;

// FHIR result/control parameters the gateway knows but does not implement.
constexpr const char* kUnsupportedParams[] = {"_has",    "_list",      "_filter",
                                              "_type",   "_contained", "_containedType",
                                              "_offset", "_page",      "_score"};

enum class Outcome { kOk, kSkip, kError };

struct Ctx {
  const Model& model;
  const IndexExtractor& index;
  const QueryOptions& options;
  std::string_view baseUrl;  // options.baseUrl without trailing '/'
  IssueList& issues;

  void error(std::string type, std::string_view location, std::string message, std::string code) {
    issues.error(std::move(type), std::string(location), std::move(message), std::move(code));
  }
  // Unknown or unsupported parameters: a warning when lenient, an error when strict.
  void ignored(std::string_view location, std::string message, std::string code) {
    if (options.strict)
      issues.error("not-supported", std::string(location), std::move(message), std::move(code));
    else
      issues.warning("not-supported", std::string(location),
                     std::move(message) + "; the parameter was ignored", std::move(code));
  }
};

// Splits on `sep` where it is not escaped by a backslash. Pieces keep their escapes.
std::vector<std::string_view> splitUnescaped(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;  // skip the escaped character
    } else if (s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// Removes the escapes \, \| \$ \\ (any other backslash stays as written).
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() &&
        (s[i + 1] == ',' || s[i + 1] == '|' || s[i + 1] == '$' || s[i + 1] == '\\')) {
      out += s[i + 1];
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool contains(const std::vector<std::string>& v, std::string_view x) {
  for (const std::string& s : v)
    if (s == x) return true;
  return false;
}

// FHIR decimal: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool parseDecimal(std::string_view s, double& out) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t intStart = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  size_t intLen = i - intStart;
  if (intLen == 0 || (intLen > 1 && s[intStart] == '0')) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t f = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == f) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t e = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == e) return false;
  }
  if (i != s.size()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parsePrefix(std::string_view s, Prefix& p) {
  static constexpr std::pair<const char*, Prefix> kPrefixes[] = {
      {"eq", Prefix::kEq}, {"ne", Prefix::kNe}, {"gt", Prefix::kGt},
      {"lt", Prefix::kLt}, {"ge", Prefix::kGe}, {"le", Prefix::kLe},
      {"sa", Prefix::kSa}, {"eb", Prefix::kEb}, {"ap", Prefix::kAp}};
  for (const auto& [text, prefix] : kPrefixes)
    if (s == text) {
      p = prefix;
      return true;
    }
  return false;
}

// Removes a leading prefix ("ge2024") from a date / number / quantity value.
bool takePrefix(Ctx& ctx, std::string_view location, std::string_view& v, Prefix& p) {
  p = Prefix::kEq;
  if (v.size() >= 2 && v[0] >= 'a' && v[0] <= 'z' && v[1] >= 'a' && v[1] <= 'z') {
    if (!parsePrefix(v.substr(0, 2), p)) {
      ctx.error("value", location,
                "'" + std::string(v) + "' is not a valid value: expected an optional prefix (eq, "
                "ne, gt, lt, ge, le, sa, eb, ap) followed by a date or number; '" +
                    std::string(v.substr(0, 2)) + "' is not a prefix",
                "search.invalid-prefix");
      return false;
    }
    v.remove_prefix(2);
  }
  return true;
}

bool isResourceParam(std::string_view code) { return code == "_id" || code == "_lastUpdated"; }

// Parameter types whose values the gateway can search.
bool searchableType(std::string_view t) {
  return t == "string" || t == "token" || t == "date" || t == "reference" || t == "number" ||
         t == "quantity" || t == "uri";
}

// Is `code` a parameter of `type` that can be searched (known, indexed or kept by the store)?
// Adds the warning / error and returns kSkip when not.
Outcome checkParam(Ctx& ctx, std::string_view type, std::string_view code,
                   std::string_view location, const SearchParamDef*& def) {
  def = ctx.model.searchParam(type, code);
  if (!def) {
    for (const char* u : kUnsupportedParams) {
      if (code == u) {
        ctx.ignored(location, "parameter " + std::string(code) + " is not supported",
                    "search.unsupported-parameter");
        return Outcome::kSkip;
      }
    }
    ctx.ignored(location,
                "unknown search parameter '" + std::string(code) + "' for " + std::string(type),
                "search.unknown-parameter");
    return Outcome::kSkip;
  }
  if (isResourceParam(code)) return Outcome::kOk;
  if (!searchableType(def->type) || !ctx.index.isIndexed(type, code)) {
    ctx.ignored(location,
                "search parameter '" + std::string(code) + "' of " + std::string(type) +
                    " is not supported",
                "search.unsupported-parameter");
    return Outcome::kSkip;
  }
  return Outcome::kOk;
}

bool checkModifier(Ctx& ctx, const Criterion& c, std::string_view location) {
  const std::string& m = c.modifier;
  if (m.empty()) return true;
  const std::string& t = c.type;
  auto unsupported = [&]() {
    ctx.error("not-supported", location,
              "modifier ':" + m + "' is not supported for " + t + " parameters",
              "search.unsupported-modifier");
    return false;
  };
  auto unknown = [&]() {
    ctx.error("not-supported", location,
              "modifier ':" + m + "' is not valid for parameter " + c.name,
              "search.unknown-modifier");
    return false;
  };
  if (c.name == "_id") return unknown();
  if (m == "missing") return true;
  if (t == "string") {
    if (m == "exact" || m == "contains") return true;
    if (m == "text") return unsupported();
  } else if (t == "token") {
    if (m == "not" || m == "text") return true;
    if (m == "above" || m == "below" || m == "in" || m == "not-in" || m == "of-type")
      return unsupported();
  } else if (t == "reference") {
    if (m == "identifier") return true;
    if (ctx.model.isResourceType(m)) {
      if (!c.param->target.empty() && !contains(c.param->target, m)) {
        ctx.error("value", location, m + " is not a target type of " + c.name,
                  "search.invalid-reference");
        return false;
      }
      return true;
    }
    if (m == "above" || m == "below") return unsupported();
  } else if (t == "uri") {
    if (m == "exact" || m == "above" || m == "below") return true;
  }
  return unknown();
}

bool parseTokenValue(Ctx& ctx, const Criterion& c, std::string_view piece,
                     std::string_view location, ParamValue& v) {
  v.raw = unescape(piece);
  if (c.modifier == "text") {
    v.normalized = normalizeString(v.raw);
    if (v.normalized.empty()) {
      ctx.error("value", location, "text search needs letters or digits", "search.invalid-token");
      return false;
    }
    return true;
  }
  if (c.name == "_id") {
    if (!isValidId(v.raw)) {
      ctx.error("value", location, "'" + v.raw + "' is not a valid resource id",
                "search.invalid-id");
      return false;
    }
    v.code = v.raw;
    return true;
  }
  std::vector<std::string_view> parts = splitUnescaped(piece, '|');
  if (parts.size() > 2) {
    ctx.error("value", location, "a token is [system|]code", "search.invalid-token");
    return false;
  }
  if (parts.size() == 2) {
    v.hasSystem = true;
    v.system = unescape(parts[0]);
    v.code = unescape(parts[1]);
  } else {
    v.code = v.raw;
  }
  if (v.system.empty() && v.code.empty()) {
    ctx.error("value", location, "empty token", "search.invalid-token");
    return false;
  }
  return true;
}

bool parseReferenceValue(Ctx& ctx, const Criterion& c, std::string_view piece,
                         std::string_view location, ParamValue& v) {
  if (c.modifier == "identifier") {
    std::vector<std::string_view> parts = splitUnescaped(piece, '|');
    v.raw = unescape(piece);
    if (parts.size() == 2) {
      v.hasSystem = true;
      v.system = unescape(parts[0]);
      v.code = unescape(parts[1]);
    } else if (parts.size() == 1) {
      v.code = v.raw;
    }
    if (parts.size() > 2 || v.code.empty()) {
      ctx.error("value", location, "an identifier is [system|]value", "search.invalid-reference");
      return false;
    }
    return true;
  }
  v.raw = unescape(piece);
  std::string_view typeModifier;
  if (ctx.model.isResourceType(c.modifier)) typeModifier = c.modifier;
  auto bad = [&](const std::string& why) {
    ctx.error("value", location, "'" + v.raw + "': " + why, "search.invalid-reference");
    return false;
  };
  ParsedReference r;
  parseReference(ctx.model, v.raw, r);
  if (r.contained) return bad("contained references cannot be searched");
  if (r.absolute) {
    v.url = v.raw;
    if (!r.type.empty() && !ctx.baseUrl.empty() && r.base == ctx.baseUrl) {
      v.refType = std::string(r.type);
      v.refId = std::string(r.id);
    }
  } else if (!r.type.empty()) {
    v.refType = std::string(r.type);
    v.refId = std::string(r.id);
  } else if (v.raw.find('/') == std::string::npos) {
    if (!isValidId(v.raw)) return bad("not a valid resource id");
    v.refId = v.raw;
    v.refType = std::string(typeModifier);
  } else {
    return bad("not a reference of the form Type/id or an absolute URL");
  }
  if (!typeModifier.empty() && !v.refType.empty() && v.refType != typeModifier)
    return bad("the type does not match the modifier :" + std::string(typeModifier));
  if (!v.refType.empty() && !c.param->target.empty() && !contains(c.param->target, v.refType))
    return bad(v.refType + " is not a target type of " + c.name);
  return true;
}

bool parseValue(Ctx& ctx, const Criterion& c, std::string_view piece, std::string_view location,
                ParamValue& v) {
  const std::string& t = c.type;
  if (t == "string") {
    v.raw = unescape(piece);
    v.normalized = normalizeString(v.raw);
    if (v.normalized.empty() && c.modifier != "exact") {
      ctx.error("value", location, "string search needs letters or digits",
                "search.invalid-string");
      return false;
    }
    return true;
  }
  if (t == "token") return parseTokenValue(ctx, c, piece, location, v);
  if (t == "reference") return parseReferenceValue(ctx, c, piece, location, v);
  if (t == "uri") {
    v.raw = unescape(piece);
    return true;
  }
  if (t == "date") {
    if (!takePrefix(ctx, location, piece, v.prefix)) return false;
    v.raw = unescape(piece);
    if (!dateRange(v.raw, v.low, v.high)) {
      ctx.error("value", location, "'" + v.raw + "' is not a valid date", "search.invalid-date");
      return false;
    }
    return true;
  }
  if (t == "number") {
    if (!takePrefix(ctx, location, piece, v.prefix)) return false;
    v.raw = unescape(piece);
    if (!parseDecimal(v.raw, v.number)) {
      ctx.error("value", location, "'" + v.raw + "' is not a valid number",
                "search.invalid-number");
      return false;
    }
    return true;
  }
  if (t == "quantity") {
    if (!takePrefix(ctx, location, piece, v.prefix)) return false;
    std::vector<std::string_view> parts = splitUnescaped(piece, '|');
    v.raw = unescape(piece);
    if ((parts.size() != 1 && parts.size() != 3) || !parseDecimal(unescape(parts[0]), v.number)) {
      ctx.error("value", location, "a quantity is [prefix]number[|system|code]",
                "search.invalid-quantity");
      return false;
    }
    if (parts.size() == 3) {
      v.quantitySystem = unescape(parts[1]);
      v.quantityCode = unescape(parts[2]);
    }
    return true;
  }
  ctx.error("not-supported", location, t + " parameters are not supported",
            "search.unsupported-parameter");
  return false;
}

// Parses one "name[:modifier][.chain]=value" occurrence for `type`. `location` is the full
// parameter name as sent.
Outcome parseCriterion(Ctx& ctx, std::string_view type, std::string_view spec,
                       std::string_view value, std::string_view location, size_t depth,
                       Criterion& c) {
  size_t dot = spec.find('.');
  std::string_view head = spec.substr(0, dot);
  std::string_view rest = dot == std::string_view::npos ? std::string_view() : spec.substr(dot + 1);
  size_t colon = head.find(':');
  std::string_view code = head.substr(0, colon);
  const SearchParamDef* def = nullptr;
  Outcome o = checkParam(ctx, type, code, location, def);
  if (o != Outcome::kOk) return o;
  c.name = std::string(code);
  c.param = def;
  c.type = def->type;
  if (colon != std::string_view::npos) {
    c.modifier = std::string(head.substr(colon + 1));
    if (c.modifier.empty()) {
      ctx.error("not-supported", location, "empty modifier", "search.unknown-modifier");
      return Outcome::kError;
    }
  }

  if (!rest.empty() || dot != std::string_view::npos) {
    if (c.type != "reference") {
      ctx.error("not-supported", location, c.name + " is not a reference parameter: no chaining",
                "search.invalid-chain");
      return Outcome::kError;
    }
    if (rest.empty()) {
      ctx.error("value", location, "empty chained parameter", "search.invalid-chain");
      return Outcome::kError;
    }
    if (depth + 1 > kMaxChainDepth) {
      ctx.error("not-supported", location,
                "chains are limited to " + std::to_string(kMaxChainDepth) + " links",
                "search.chain-too-deep");
      return Outcome::kError;
    }
    std::string_view chained = rest.substr(0, rest.find_first_of(":."));
    std::vector<std::string> targets;
    if (!c.modifier.empty()) {
      if (!ctx.model.isResourceType(c.modifier)) {
        ctx.error("not-supported", location,
                  "a chained parameter takes only a resource type modifier",
                  "search.invalid-chain");
        return Outcome::kError;
      }
      if (!def->target.empty() && !contains(def->target, c.modifier)) {
        ctx.error("value", location, c.modifier + " is not a target type of " + c.name,
                  "search.invalid-chain");
        return Outcome::kError;
      }
      targets.push_back(c.modifier);
    } else if (def->target.size() == 1) {
      targets.push_back(def->target[0]);
    } else {
      // Several targets: chain across all of them when every one defines the chained
      // parameter with the same type; otherwise the client must name the type.
      std::string chainedType;
      bool all = !def->target.empty();
      for (const std::string& t : def->target) {
        const SearchParamDef* p = ctx.model.searchParam(t, chained);
        if (!p || (!chainedType.empty() && p->type != chainedType) ||
            (!isResourceParam(chained) && !ctx.index.isIndexed(t, chained))) {
          all = false;
          break;
        }
        chainedType = p->type;
      }
      if (!all) {
        ctx.error("not-supported", location,
                  "chain ambiguous: " + c.name + " has several target types; name one (" + c.name +
                      ":Type." + std::string(chained) + ")",
                  "search.chain-ambiguous");
        return Outcome::kError;
      }
      targets = def->target;
    }
    c.chain = std::make_unique<Criterion>();
    o = parseCriterion(ctx, targets[0], rest, value, location, depth + 1, *c.chain);
    if (o != Outcome::kOk) {
      c.chain.reset();
      return o;
    }
    c.chainTargetType = targets.size() == 1 ? targets[0] : std::string();
    c.chainTargetTypes = std::move(targets);
    return Outcome::kOk;
  }

  if (!checkModifier(ctx, c, location)) return Outcome::kError;
  if (c.modifier == "missing") {
    if (value != "true" && value != "false") {
      ctx.error("value", location, ":missing takes true or false", "search.invalid-missing");
      return Outcome::kError;
    }
    c.missing = value == "true";
    return Outcome::kOk;
  }
  bool ok = true;
  size_t pieces = 0;
  for (std::string_view piece : splitUnescaped(value, ',')) pieces += !piece.empty();
  if (pieces > kMaxValuesPerParameter) {
    ctx.error("too-costly", location,
              "at most " + std::to_string(kMaxValuesPerParameter) +
                  " values in one parameter (got " + std::to_string(pieces) + ")",
              "search.too-many-values");
    return Outcome::kError;
  }
  for (std::string_view piece : splitUnescaped(value, ',')) {
    if (piece.empty()) continue;
    ParamValue v;
    if (parseValue(ctx, c, piece, location, v))
      c.values.push_back(std::move(v));
    else
      ok = false;
  }
  if (!ok) return Outcome::kError;
  if (c.values.empty()) return Outcome::kSkip;  // "name=" is ignored
  return Outcome::kOk;
}

// The value with empty comma-separated pieces removed (as echoed in links).
std::string echoValue(std::string_view value) {
  std::string out;
  for (std::string_view piece : splitUnescaped(value, ',')) {
    if (piece.empty()) continue;
    if (!out.empty()) out += ',';
    out.append(piece);
  }
  return out;
}

bool parseInclude(Ctx& ctx, const std::string& resourceType, std::string_view name,
                  std::string_view modifier, std::string_view value, SearchQuery& out) {
  bool rev = name == "_revinclude";
  IncludeSpec spec;
  if (modifier == "iterate" || modifier == "recurse") {
    spec.iterate = true;
  } else if (!modifier.empty()) {
    ctx.error("not-supported", name, "unknown modifier ':" + std::string(modifier) + "'",
              "search.unknown-modifier");
    return false;
  }
  auto bad = [&](const std::string& why) {
    ctx.error("value", name, "'" + std::string(value) + "': " + why, "search.invalid-include");
    return false;
  };
  if (value == "*") {
    spec.sourceType = "*";
    spec.param = "*";
  } else {
    std::vector<std::string_view> parts = splitUnescaped(value, ':');
    if (parts.size() < 2 || parts.size() > 3) return bad("expected Type:parameter[:targetType]");
    spec.sourceType = std::string(parts[0]);
    spec.param = std::string(parts[1]);
    if (parts.size() == 3) spec.targetType = std::string(parts[2]);
    if (!ctx.model.isResourceType(spec.sourceType)) return bad("unknown resource type");
    if (!rev && !spec.iterate && spec.sourceType != resourceType)
      return bad("_include must start at " + resourceType + " (or use :iterate)");
    if (!spec.targetType.empty() && !ctx.model.isResourceType(spec.targetType))
      return bad("unknown target type");
    if (spec.param != "*") {
      const SearchParamDef* def = ctx.model.searchParam(spec.sourceType, spec.param);
      if (!def || def->type != "reference" || !ctx.index.isIndexed(spec.sourceType, spec.param))
        return bad("not a reference parameter of " + spec.sourceType);
      if (!spec.targetType.empty() && !def->target.empty() &&
          !contains(def->target, spec.targetType))
        return bad(spec.targetType + " is not a target of " + spec.param);
      if (rev && !spec.iterate && !def->target.empty() && !contains(def->target, resourceType))
        return bad(spec.param + " cannot refer to " + resourceType);
    }
  }
  (rev ? out.revincludes : out.includes).push_back(std::move(spec));
  return true;
}

bool parseSort(Ctx& ctx, const std::string& resourceType, std::string_view value,
               SearchQuery& out) {
  std::unordered_set<std::string> seen;
  std::string echo;
  for (std::string_view item : splitUnescaped(value, ',')) {
    item = trim(item);
    SortKey key;
    if (!item.empty() && item[0] == '-') {
      key.descending = true;
      item.remove_prefix(1);
    }
    key.name = std::string(item);
    const SearchParamDef* def = ctx.model.searchParam(resourceType, key.name);
    bool allowed = def && (isResourceParam(key.name) ||
                           ((def->type == "string" || def->type == "token" || def->type == "date" ||
                             def->type == "number" || def->type == "reference") &&
                            ctx.index.isIndexed(resourceType, key.name)));
    if (!allowed) {
      ctx.error("not-supported", "_sort", "cannot sort " + resourceType + " by '" + key.name + "'",
                "search.invalid-sort");
      return false;
    }
    if (!seen.insert(key.name).second) {
      ctx.error("value", "_sort", "'" + key.name + "' is repeated", "search.invalid-sort");
      return false;
    }
    key.param = def;
    if (!echo.empty()) echo += ',';
    echo += (key.descending ? "-" : "") + key.name;
    out.sort.push_back(std::move(key));
  }
  out.echo.emplace_back("_sort", std::move(echo));
  return true;
}

bool parseCount(Ctx& ctx, std::string_view value, SearchQuery& out) {
  bool digitsOnly = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
  if (!digitsOnly) {
    ctx.error("value", "_count", "_count must be a non-negative integer", "search.invalid-count");
    return false;
  }
  int64_t n = 0;
  auto r = std::from_chars(value.data(), value.data() + value.size(), n);
  if (r.ec != std::errc()) n = std::numeric_limits<int64_t>::max();  // too many digits
  int max = std::max(0, ctx.options.maxCount);
  if (n > max) {
    ctx.issues.warning("informational", "_count",
                       "_count " + std::string(value) + " is over the maximum page size " +
                           std::to_string(max) + "; " + std::to_string(max) + " is used",
                       "search.count-clamped");
    n = max;
  }
  out.count = static_cast<int>(n);
  out.echo.emplace_back("_count", std::to_string(out.count));
  return true;
}

void parseElements(Ctx& ctx, const std::string& resourceType, std::string_view value,
                   SearchQuery& out) {
  const model::TypeDef* t = ctx.model.type(resourceType);
  std::string echo;
  for (std::string_view item : splitUnescaped(value, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    if (!t || (!t->find(item) && !t->findJson(item))) {
      ctx.ignored("_elements", "'" + std::string(item) + "' is not an element of " + resourceType,
                  "search.unknown-element");
      continue;
    }
    out.elements.emplace_back(item);
    if (!echo.empty()) echo += ',';
    echo.append(item);
  }
  if (!echo.empty()) out.echo.emplace_back("_elements", std::move(echo));
}

size_t errorCount(const IssueList& issues) {
  size_t n = 0;
  for (const Issue& i : issues.issues())
    n += i.severity == Severity::kError || i.severity == Severity::kFatal;
  return n;
}

}  // namespace

bool parseQuery(const Model& model, const std::string& resourceType,
                const std::vector<std::pair<std::string, std::string>>& params,
                const QueryOptions& options, SearchQuery& out, IssueList& issues) {
  const size_t errorsBefore = errorCount(issues);
  out = SearchQuery();
  out.resourceType = resourceType;
  out.count = std::max(0, std::min(options.defaultCount, options.maxCount));
  if (resourceType.empty()) {
    issues.error("not-supported", "", "system-wide search is not supported",
                 "search.system-search");
    return false;
  }
  if (!model.isResourceType(resourceType)) {
    issues.error("not-supported", "", "unknown resource type '" + resourceType + "'",
                 "search.unknown-type");
    return false;
  }
  std::string_view baseUrl = options.baseUrl;
  while (!baseUrl.empty() && baseUrl.back() == '/') baseUrl.remove_suffix(1);
  Ctx ctx{model, IndexExtractor::forModel(model), options, baseUrl, issues};
  std::unordered_set<std::string> seenSingle;

  size_t values = 0;  // in the criteria so far (kMaxValuesPerSearch)
  for (const auto& [fullName, value] : params) {
    std::string_view name = fullName;
    size_t colon = name.find(':');
    std::string_view base = name.substr(0, colon);
    std::string_view modifier =
        colon == std::string_view::npos ? std::string_view() : name.substr(colon + 1);
    if (base == "_format" || base == "_pretty") continue;  // transport level

    if (base == "_include" || base == "_revinclude") {
      if (parseInclude(ctx, resourceType, base, modifier, value, out))
        out.echo.emplace_back(fullName, value);
      continue;
    }
    bool single = base == "_sort" || base == "_count" || base == "_total" || base == "_summary" ||
                  base == "_elements" || base == "_cursor";
    if (single) {
      if (!modifier.empty()) {
        ctx.error("not-supported", name, std::string(base) + " takes no modifier",
                  "search.unknown-modifier");
        continue;
      }
      if (!seenSingle.insert(std::string(base)).second) {
        ctx.error("value", name, std::string(base) + " may appear only once",
                  "search.repeated-parameter");
        continue;
      }
      if (base == "_sort") {
        parseSort(ctx, resourceType, value, out);
      } else if (base == "_count") {
        parseCount(ctx, value, out);
      } else if (base == "_total") {
        if (value == "none" || value == "estimate" || value == "accurate") {
          out.totalAccurate = value == "accurate";
          out.echo.emplace_back("_total", value);
        } else {
          ctx.error("value", "_total", "_total is none, estimate or accurate",
                    "search.invalid-total");
        }
      } else if (base == "_summary") {
        static constexpr std::pair<const char*, SummaryMode> kModes[] = {
            {"true", SummaryMode::kTrue},
            {"text", SummaryMode::kText},
            {"data", SummaryMode::kData},
            {"count", SummaryMode::kCount},
            {"false", SummaryMode::kFalse}};
        bool found = false;
        for (const auto& [text, mode] : kModes) {
          if (value == text) {
            out.summary = mode;
            found = true;
          }
        }
        if (found)
          out.echo.emplace_back("_summary", value);
        else
          ctx.error("value", "_summary", "_summary is true, text, data, count or false",
                    "search.invalid-summary");
      } else if (base == "_elements") {
        parseElements(ctx, resourceType, value, out);
      } else {  // _cursor: opaque, not echoed
        out.cursor = value;
      }
      continue;
    }

    Criterion c;
    Outcome o = parseCriterion(ctx, resourceType, name, value, name, 0, c);
    if (o == Outcome::kOk) {
      const Criterion* leaf = &c;
      while (leaf->chain) leaf = leaf->chain.get();
      values += std::max<size_t>(1, leaf->values.size());
      if (values > kMaxValuesPerSearch || out.criteria.size() + 1 > kMaxCriteriaPerSearch) {
        ctx.error("too-costly", name,
                  "at most " + std::to_string(kMaxCriteriaPerSearch) + " parameters and " +
                      std::to_string(kMaxValuesPerSearch) + " values in one search",
                  "search.too-many-values");
        break;
      }
      out.echo.emplace_back(fullName, echoValue(value));
      out.criteria.push_back(std::move(c));
    }
  }
  return errorCount(issues) == errorsBefore;
}

}  // namespace acp::search
