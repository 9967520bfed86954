#include "gateway/store/sql_search.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "gateway/core/json.h"
#include "gateway/search/index.h"
#include "gateway/store/instant.h"

namespace acp::store::sql {
namespace {

using search::Criterion;
using search::ParamValue;
using search::Prefix;
using search::SearchQuery;

Status unsupported(const std::string& what) {
  return Status::notSupported("store.unsupported-search: " + what);
}

Status badCursor(const std::string& what) { return Status::invalid("store.bad-cursor: " + what); }

int64_t satAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return r;
}

// SQL text with its bound arguments, built left to right so placeholders and arguments stay
// in step. Only fixed fragments go through sql(); every datum goes through a bind call.
class SqlBuilder {
 public:
  SqlBuilder& sql(std::string_view s) {
    text_.append(s);
    return *this;
  }
  SqlBuilder& text(std::string v) {
    text_.push_back('?');
    args_.push_back(SqlArg::text(std::move(v)));
    return *this;
  }
  SqlBuilder& integer(int64_t v) {
    text_.push_back('?');
    args_.push_back(SqlArg::integer(v));
    return *this;
  }
  SqlBuilder& real(double v) {
    text_.push_back('?');
    args_.push_back(SqlArg::real(v));
    return *this;
  }
  SqlBuilder& arg(const SqlArg& a) {
    text_.push_back('?');
    args_.push_back(a);
    return *this;
  }
  // "col = ?" or "col IN (?, ?)"; false (nothing written) when `values` is empty.
  bool in(std::string_view col, const std::vector<std::string>& values) {
    if (values.empty()) return false;
    sql(col);
    if (values.size() == 1) {
      sql(" = ").text(values[0]);
      return true;
    }
    sql(" IN (");
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) sql(", ");
      text(values[i]);
    }
    sql(")");
    return true;
  }
  SqlText take() { return SqlText{std::move(text_), std::move(args_)}; }
  const std::string& str() const { return text_; }

 private:
  std::string text_;
  std::vector<SqlArg> args_;
};

// Escapes LIKE wildcards with '\' (used with ESCAPE '\').
std::string likeEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Half a unit in the last place written: "100" → 0.5, "1.50" → 0.005, "1e2" → 50.
// 0 when the text is not a plain decimal (then equality is exact).
double implicitHalfUnit(std::string_view raw) {
  size_t bar = raw.find('|');
  if (bar != std::string_view::npos) raw = raw.substr(0, bar);
  if (!raw.empty() && (raw[0] == '-' || raw[0] == '+')) raw.remove_prefix(1);
  if (raw.empty()) return 0;
  size_t e = raw.find_first_of("eE");
  std::string_view mant = raw.substr(0, e);
  long exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view ex = raw.substr(e + 1);
    if (!ex.empty() && ex[0] == '+') ex.remove_prefix(1);
    auto res = std::from_chars(ex.data(), ex.data() + ex.size(), exponent);
    if (res.ec != std::errc() || res.ptr != ex.data() + ex.size()) return 0;
  }
  long decimals = 0;
  size_t dot = mant.find('.');
  if (dot != std::string_view::npos) decimals = static_cast<long>(mant.size() - dot - 1);
  for (char c : mant)
    if (c != '.' && (c < '0' || c > '9')) return 0;
  long places = decimals - exponent;
  if (places > 300 || places < -300) return 0;
  return 0.5 * std::pow(10.0, static_cast<double>(-places));
}

bool isResourceTypeName(const std::string& s) { return !s.empty() && s[0] >= 'A' && s[0] <= 'Z'; }

std::string criterionType(const Criterion& c) {
  if (!c.type.empty()) return c.type;
  return c.param ? c.param->type : std::string();
}

const char* tableFor(const std::string& type) {
  if (type == "string") return "string_idx";
  if (type == "token") return "token_idx";
  if (type == "date") return "date_idx";
  if (type == "reference") return "reference_idx";
  if (type == "number") return "number_idx";
  if (type == "quantity") return "quantity_idx";
  if (type == "uri") return "uri_idx";
  return nullptr;
}

// Lower drives first: ids and chains and references (a few rows each) before strings,
// dates and numbers, before tokens (status, category: often a large share of a type), and
// negations and :missing last (they exclude rather than select).
int driverRank(const Criterion& c) {
  if (c.name == "_id") return 0;
  const std::string type = criterionType(c);
  if (c.modifier == "missing" || c.modifier == "not") return 4;
  if (c.chain || type == "reference") return 1;
  if (c.name == "identifier") return 1;
  if (type == "token") return 3;
  return 2;
}

// Translates criteria to SQL conditions.
class Planner {
 public:
  Planner(SqlBuilder& b, const SearchSettings& settings) : b_(b), settings_(settings) {}

  // All criteria of `q` ANDed, each preceded by " AND ", on alias `a` of type `types`.
  //
  // One criterion drives: the one likely to match fewest rows (driverRank) becomes
  // "a.pk IN (rows of an index)", which the database evaluates first. Every other plain
  // criterion is a probe, "EXISTS (a row of the index for a.pk)", answered through the
  // index's (resource_pk, param, ...) prefix for each candidate only. Without this SQLite
  // (which keeps no statistics here) could evaluate "status=active" in full, every active
  // CarePlan of the store, before intersecting it with the one child of a chained NHS number:
  // 60 ms against 2 ms at 100 000 children (docs/performance.md).
  //
  // On PostgreSQL a driver ranked <= 2 (usually selective: a chain, a reference, an
  // identifier, a date, a string; not _id or _lastUpdated, which are column tests) is written
  // "a.pk = ANY(ARRAY(rows of an index))" instead. PostgreSQL plans a cached statement once for
  // any values (its generic plan, used after five runs), and for "a.pk IN (...) ORDER BY pk
  // LIMIT n" the plan it then estimates cheapest walks every resource of the type in key order
  // hoping to fill the page early — a walk over the whole type when the driver matches a few
  // (a birthdate, an NHS number), growing with the store (1.4 ms against 0.2 ms at 1 500
  // patients). The array is computed first (an InitPlan) and, as PostgreSQL estimates an
  // array it cannot see at 10 elements, looked up by key
  // (SearchTest.PostgresGenericPlansStartFromTheDrivingIndex). A driver of this rank that
  // matches most of the type (birthdate=ge2000) is then built into an array in full before the
  // page is cut: correct, slower than the walk would be for it. Token drivers (status=active,
  // often a large share of the type) keep "IN" and the walk. SQLite evaluates "pk IN (...)"
  // first anyway (SearchTest.PlansUseIndexes).
  Status criteria(const std::vector<Criterion>& list, const std::string& a,
                  const std::vector<std::string>& types) {
    size_t driver = 0;
    for (size_t i = 1; i < list.size(); ++i)
      if (driverRank(list[i]) < driverRank(list[driver])) driver = i;
    for (size_t i = 0; i < list.size(); ++i) {
      b_.sql(" AND (");
      arrayDriver_ = i == driver && settings_.dialect == sql::Dialect::kPostgres &&
                     list[i].name != "_id" && list[i].name != "_lastUpdated" &&
                     driverRank(list[i]) <= 2;
      Status s = criterion(list[i], a, types, 0, /*probe=*/i != driver);
      arrayDriver_ = false;
      if (!s.isOk()) return s;
      b_.sql(")");
    }
    return Status::ok();
  }

 private:
  Status criterion(const Criterion& c, const std::string& a, const std::vector<std::string>& types,
                   int depth, bool probe = false) {
    if (depth > 4) return unsupported("chains nested deeper than 4");
    if (c.name == "_id") return idCriterion(c, a);
    if (c.name == "_lastUpdated") return lastUpdatedCriterion(c, a);
    const std::string type = criterionType(c);
    if (c.chain) return chainCriterion(c, a, types, type, depth);
    const char* table = tableFor(type);
    if (!table) return unsupported("parameter '" + c.name + "' of type '" + type + "'");
    if (c.modifier == "missing") {
      b_.sql(a).sql(c.missing ? ".pk NOT IN (SELECT resource_pk FROM "
                              : ".pk IN (SELECT "
                                "resource_pk FROM ");
      b_.sql(table).sql(" WHERE ");
      if (b_.in("type", types)) b_.sql(" AND ");
      b_.sql("param = ").text(c.name).sql(")");
      return Status::ok();
    }
    if (c.values.empty()) return unsupported("parameter '" + c.name + "' without a value");
    bool negate = false;
    if (type == "token" && c.modifier == "not") negate = true;
    if (probe && !negate) {
      // The resource's own index rows (through TABLE_pk): no type test, so that the planner
      // has no reason to prefer the (type, param, value) index and scan it for a.pk.
      const std::string x = "p" + std::to_string(++aliases_);
      b_.sql("EXISTS (SELECT 1 FROM ").sql(table).sql(" ").sql(x).sql(" WHERE ");
      b_.sql(x).sql(".resource_pk = ").sql(a).sql(".pk AND ").sql(x).sql(".param = ").text(c.name);
    } else {
      if (negate)
        b_.sql(a).sql(".pk NOT IN (SELECT resource_pk FROM ");
      else
        openPkSet(a, "resource_pk");
      b_.sql(table).sql(" WHERE ");
      if (b_.in("type", types)) b_.sql(" AND ");
      b_.sql("param = ").text(c.name);
    }
    b_.sql(" AND (");
    for (size_t i = 0; i < c.values.size(); ++i) {
      if (i) b_.sql(" OR ");
      Status s = valueTest(c, type, c.values[i]);
      if (!s.isOk()) return s;
    }
    b_.sql("))");
    if (!probe && !negate) closePkSet();
    return Status::ok();
  }

  // Opens "a.pk IN (SELECT <column> FROM " — or, for the driver criteria() marked, "a.pk =
  // ANY(ARRAY(SELECT <column> FROM " — and remembers which; closePkSet() adds what the array
  // form needs after the caller's own closing parenthesis.
  void openPkSet(const std::string& a, const std::string& column) {
    arrayOpen_.push_back(arrayDriver_);
    b_.sql(a).sql(arrayDriver_ ? ".pk = ANY(ARRAY(SELECT " : ".pk IN (SELECT ").sql(column);
    b_.sql(" FROM ");
    arrayDriver_ = false;  // only the driver itself, never the criteria nested in it
  }
  void closePkSet() {
    assert(!arrayOpen_.empty() && "closePkSet without openPkSet");
    if (arrayOpen_.empty()) return;
    if (arrayOpen_.back()) b_.sql(")");
    arrayOpen_.pop_back();
  }

  Status valueTest(const Criterion& c, const std::string& type, const ParamValue& v) {
    if (type == "string") return stringTest(c, v);
    if (type == "token") return tokenTest(c, v);
    if (type == "date") {
      if (!c.modifier.empty()) return badModifier(c);
      dateTest(v.prefix, v.low, v.high, "low", "high", false);
      return Status::ok();
    }
    if (type == "number" || type == "quantity") return numberTest(c, type, v);
    if (type == "reference") return referenceTest(c, v);
    if (type == "uri") return uriTest(c, v);
    return unsupported("parameter type '" + type + "'");
  }

  Status badModifier(const Criterion& c) {
    return unsupported("modifier ':" + c.modifier + "' on parameter '" + c.name + "'");
  }

  Status stringTest(const Criterion& c, const ParamValue& v) {
    if (c.modifier.empty()) {
      normalizedPrefix("normalized", v.raw);
    } else if (c.modifier == "exact") {
      // Through the normalised index (normalized is always normalizeString(exact)).
      b_.sql("(normalized = ").text(search::normalizeString(v.raw)).sql(" AND exact = ").text(v.raw).sql(")");
    } else if (c.modifier == "contains") {
      std::string n = search::normalizeString(v.raw);
      if (n.empty())
        b_.sql("FALSE");
      else
        b_.sql("normalized LIKE ").text("%" + likeEscape(n) + "%").sql(" ESCAPE '\\'");
    } else {
      return badModifier(c);
    }
    return Status::ok();
  }

  // Starts-with on normalised text. A value that normalises to nothing (only punctuation)
  // matches nothing rather than everything.
  void normalizedPrefix(const char* col, const std::string& raw) {
    std::string n = search::normalizeString(raw);
    if (n.empty())
      b_.sql("FALSE");
    else
      prefixRange(col, std::move(n));
  }

  void prefixRange(const char* col, std::string prefix) {
    std::string succ = prefixSuccessor(prefix);
    b_.sql("(").sql(col).sql(" >= ").text(std::move(prefix));
    if (!succ.empty()) b_.sql(" AND ").sql(col).sql(" < ").text(std::move(succ));
    b_.sql(")");
  }

  // Token-shaped (system|code) match on the given columns.
  void systemCode(const ParamValue& v, const char* systemCol, const char* codeCol) {
    // Entries with an empty code (CodeableConcept.text-only rows) never match a code test.
    std::string code = v.hasSystem ? v.code : (v.code.empty() ? v.raw : v.code);
    if (!v.hasSystem) {
      if (code.empty())
        b_.sql("FALSE");
      else
        b_.sql(codeCol).sql(" = ").text(std::move(code));
    } else if (code.empty()) {  // system|
      b_.sql("(").sql(systemCol).sql(" = ").text(v.system).sql(" AND ").sql(codeCol).sql(" <> '')");
    } else {  // system|code, or |code meaning "no system"
      b_.sql("(")
          .sql(codeCol)
          .sql(" = ")
          .text(std::move(code))
          .sql(" AND ")
          .sql(systemCol)
          .sql(" = ")
          .text(v.system)
          .sql(")");
    }
  }

  Status tokenTest(const Criterion& c, const ParamValue& v) {
    if (c.modifier.empty() || c.modifier == "not") {
      systemCode(v, "system", "code");
    } else if (c.modifier == "text") {
      normalizedPrefix("text", v.raw);
    } else {
      return badModifier(c);
    }
    return Status::ok();
  }

  // R4 date prefixes over the entry range [lo, hi] and the value range [pl, ph].
  void dateTest(Prefix p, int64_t pl, int64_t ph, const char* lo, const char* hi,
                bool asInstantText) {
    auto bound = [&](int64_t ms) {
      if (asInstantText)
        b_.text(formatInstant(ms));
      else
        b_.integer(ms);
    };
    auto contained = [&] {
      b_.sql("(").sql(lo).sql(" >= ");
      bound(pl);
      b_.sql(" AND ").sql(hi).sql(" <= ");
      bound(ph);
      b_.sql(")");
    };
    switch (p) {
      case Prefix::kEq:
        contained();
        break;
      case Prefix::kNe:
        b_.sql("NOT ");
        contained();
        break;
      case Prefix::kGt:
        b_.sql(hi).sql(" > ");
        bound(ph);
        break;
      case Prefix::kLt:
        b_.sql(lo).sql(" < ");
        bound(pl);
        break;
      case Prefix::kGe:
        b_.sql("(").sql(hi).sql(" > ");
        bound(ph);
        b_.sql(" OR ");
        contained();
        b_.sql(")");
        break;
      case Prefix::kLe:
        b_.sql("(").sql(lo).sql(" < ");
        bound(pl);
        b_.sql(" OR ");
        contained();
        b_.sql(")");
        break;
      case Prefix::kSa:
        b_.sql(lo).sql(" > ");
        bound(ph);
        break;
      case Prefix::kEb:
        b_.sql(hi).sql(" < ");
        bound(pl);
        break;
      case Prefix::kAp: {
        int64_t mid = pl / 2 + ph / 2;
        int64_t gap = settings_.nowMs > mid ? settings_.nowMs - mid : mid - settings_.nowMs;
        int64_t tol = gap / 10;
        b_.sql("(").sql(lo).sql(" <= ");
        bound(satAdd(ph, tol));
        b_.sql(" AND ").sql(hi).sql(" >= ");
        bound(satAdd(pl, -tol));
        b_.sql(")");
        break;
      }
    }
  }

  Status numberTest(const Criterion& c, const std::string& type, const ParamValue& v) {
    if (!c.modifier.empty()) return badModifier(c);
    const double n = v.number;
    if (!std::isfinite(n)) return unsupported("non-finite number in '" + c.name + "'");
    const double half = implicitHalfUnit(v.raw);
    bool unit = type == "quantity" && !v.quantityCode.empty();
    if (unit) b_.sql("(");
    switch (v.prefix) {
      case Prefix::kEq:
        if (half > 0)
          b_.sql("(value >= ").real(n - half).sql(" AND value < ").real(n + half).sql(")");
        else
          b_.sql("value = ").real(n);
        break;
      case Prefix::kNe:
        if (half > 0)
          b_.sql("(value < ").real(n - half).sql(" OR value >= ").real(n + half).sql(")");
        else
          b_.sql("value <> ").real(n);
        break;
      case Prefix::kGt:
      case Prefix::kSa:
        b_.sql("value > ").real(n);
        break;
      case Prefix::kLt:
      case Prefix::kEb:
        b_.sql("value < ").real(n);
        break;
      case Prefix::kGe:
        b_.sql("value >= ").real(n);
        break;
      case Prefix::kLe:
        b_.sql("value <= ").real(n);
        break;
      case Prefix::kAp: {
        double tol = std::fabs(n) * 0.1;
        if (tol < half) tol = half;
        b_.sql("(value >= ").real(n - tol).sql(" AND value <= ").real(n + tol).sql(")");
        break;
      }
    }
    if (unit) {
      if (!v.quantitySystem.empty())
        b_.sql(" AND system = ").text(v.quantitySystem).sql(" AND code = ").text(v.quantityCode);
      else
        b_.sql(" AND (code = ")
            .text(v.quantityCode)
            .sql(" OR unit = ")
            .text(v.quantityCode)
            .sql(")");
      b_.sql(")");
    }
    return Status::ok();
  }

  Status referenceTest(const Criterion& c, const ParamValue& v) {
    if (c.modifier == "identifier") {
      systemCode(v, "ident_system", "ident_value");
      return Status::ok();
    }
    std::string modType;
    if (!c.modifier.empty()) {
      if (!isResourceTypeName(c.modifier)) return badModifier(c);
      modType = c.modifier;
    }
    std::string refType = v.refType.empty() ? modType : v.refType;
    if (!modType.empty() && refType != modType) {  // Patient/1 with :Group never matches
      b_.sql("FALSE");
      return Status::ok();
    }
    std::string refId = v.refId;
    if (refId.empty() && v.url.empty()) refId = v.raw;  // a bare value the parser left whole
    bool any = false;
    b_.sql("(");
    if (!refId.empty()) {
      b_.sql("(target_id = ").text(refId);
      if (!refType.empty()) b_.sql(" AND target_type = ").text(refType);
      b_.sql(")");
      any = true;
    }
    if (!v.url.empty()) {
      if (any) b_.sql(" OR ");
      // Only references that are not to this server's resources are in the url index (the
      // others are found by target_id above).
      b_.sql("(url = ").text(v.url).sql(" AND target_id = '')");
      any = true;
    }
    if (!any) b_.sql("FALSE");
    b_.sql(")");
    return Status::ok();
  }

  Status uriTest(const Criterion& c, const ParamValue& v) {
    if (c.modifier.empty()) {
      b_.sql("uri = ").text(v.raw);
    } else if (c.modifier == "below") {
      prefixRange("uri", v.raw);
    } else if (c.modifier == "above") {
      b_.sql("substr(").text(v.raw).sql(", 1, length(uri)) = uri");
    } else {
      return badModifier(c);
    }
    return Status::ok();
  }

  Status idCriterion(const Criterion& c, const std::string& a) {
    if (c.modifier == "missing") {
      b_.sql(c.missing ? "FALSE" : "TRUE");
      return Status::ok();
    }
    if (!c.modifier.empty() && c.modifier != "not") return badModifier(c);
    if (c.values.empty()) return unsupported("_id without a value");
    b_.sql(a).sql(c.modifier == "not" ? ".id NOT IN (" : ".id IN (");
    for (size_t i = 0; i < c.values.size(); ++i) {
      if (i) b_.sql(", ");
      const ParamValue& v = c.values[i];
      b_.text(!v.raw.empty() ? v.raw : v.code);
    }
    b_.sql(")");
    return Status::ok();
  }

  Status lastUpdatedCriterion(const Criterion& c, const std::string& a) {
    if (c.modifier == "missing") {
      b_.sql(c.missing ? "FALSE" : "TRUE");
      return Status::ok();
    }
    if (!c.modifier.empty()) return badModifier(c);
    if (c.values.empty()) return unsupported("_lastUpdated without a value");
    const std::string col = a + ".last_updated";
    b_.sql("(");
    for (size_t i = 0; i < c.values.size(); ++i) {
      if (i) b_.sql(" OR ");
      const ParamValue& v = c.values[i];
      dateTest(v.prefix, v.low, v.high, col.c_str(), col.c_str(), true);
    }
    b_.sql(")");
    return Status::ok();
  }

  Status chainCriterion(const Criterion& c, const std::string& a,
                        const std::vector<std::string>& types, const std::string& type, int depth) {
    if (type != "reference")
      return unsupported("chain on parameter '" + c.name + "' which is not a reference");
    if (!c.modifier.empty() && !isResourceTypeName(c.modifier)) return badModifier(c);
    std::vector<std::string> targets;
    if (!c.chainTargetType.empty())
      targets.push_back(c.chainTargetType);
    else if (!c.modifier.empty())
      targets.push_back(c.modifier);
    else if (c.param)
      targets = c.param->target;
    const std::string n = std::to_string(++aliases_);
    const std::string rr = "rr" + n, t = "t" + n;
    openPkSet(a, rr + ".resource_pk");
    b_.sql("reference_idx ").sql(rr).sql(" WHERE ");
    if (b_.in(rr + ".type", types)) b_.sql(" AND ");
    b_.sql(rr).sql(".param = ").text(c.name);
    if (targets.size() == 1) {
      b_.sql(" AND ").sql(rr).sql(".target_type = ").text(targets[0]);
      b_.sql(" AND ")
          .sql(rr)
          .sql(".target_id IN (SELECT ")
          .sql(t)
          .sql(".id FROM resources ")
          .sql(t)
          .sql(" WHERE ")
          .sql(t)
          .sql(".type = ")
          .text(targets[0]);
    } else {
      b_.sql(" AND (")
          .sql(rr)
          .sql(".target_type, ")
          .sql(rr)
          .sql(".target_id) IN (SELECT ")
          .sql(t)
          .sql(".type, ")
          .sql(t)
          .sql(".id FROM resources ")
          .sql(t)
          .sql(" WHERE ");
      if (b_.in(t + ".type", targets)) b_.sql(" AND ");
      b_.sql("TRUE");
    }
    b_.sql(" AND ").sql(t).sql(".deleted = 0 AND (");
    Status s = criterion(*c.chain, t, targets, depth + 1);
    if (!s.isOk()) return s;
    b_.sql(")))");
    closePkSet();
    return Status::ok();
  }

  SqlBuilder& b_;
  const SearchSettings& settings_;
  int aliases_ = 0;
  bool arrayDriver_ = false;     // the next openPkSet() is the PostgreSQL driver's array
  std::vector<bool> arrayOpen_;  // per openPkSet() not yet closed: whether it was the array
};

// ---- sort keys ---------------------------------------------------------------------------

// The expression of one sort key over alias r (binds the parameter code).
Status sortExpr(const search::SortKey& k, const std::string& resourceType, SqlBuilder& b) {
  if (k.name == "_id") {
    b.sql("r.id");
    return Status::ok();
  }
  if (k.name == "_lastUpdated") {
    b.sql("r.last_updated");
    return Status::ok();
  }
  if (!k.param) return unsupported("sort by unknown parameter '" + k.name + "'");
  const std::string& type = k.param->type;
  const char* agg = k.descending ? "max(" : "min(";
  const char* table = tableFor(type);
  std::string column;
  if (type == "string")
    column = "normalized";
  else if (type == "token")
    column = "code";
  else if (type == "date")
    column = k.descending ? "high" : "low";
  else if (type == "number" || type == "quantity")
    column = "value";
  else if (type == "reference")
    column = "coalesce(url, target_type || '/' || target_id)";
  else if (type == "uri")
    column = "uri";
  if (!table || column.empty()) return unsupported("sort by '" + k.name + "' of type " + type);
  b.sql("(SELECT ")
      .sql(agg)
      .sql(column)
      .sql(") FROM ")
      .sql(table)
      .sql(" WHERE resource_pk = r.pk AND param = ")
      .text(k.name)
      .sql(")");
  return Status::ok();
}

std::string sortSignature(const std::vector<search::SortKey>& sort) {
  std::string sig;
  for (const auto& k : sort) {
    if (!sig.empty()) sig.push_back(',');
    sig += k.name;
    sig += k.descending ? ":d" : ":a";
  }
  return sig.empty() ? "pk" : sig;
}

// ---- cursors -----------------------------------------------------------------------------
// Byte format before base64url: 'S' <len>:<signature> 'i'<pk>';' then per key one of
//   'n'  |  'i' <int> ';'  |  'r' <shortest round-trip double> ';'  |  't' <len> ':' <bytes>

void putInt(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
  out.push_back(';');
}

void putText(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out.push_back(':');
  out.append(s);
}

class CursorReader {
 public:
  explicit CursorReader(std::string_view s) : s_(s) {}
  bool atEnd() const { return pos_ >= s_.size(); }
  bool tag(char& c) {
    if (atEnd()) return false;
    c = s_[pos_++];
    return true;
  }
  bool integer(int64_t& v) {
    size_t end = s_.find(';', pos_);
    if (end == std::string_view::npos) return false;
    auto r = std::from_chars(s_.data() + pos_, s_.data() + end, v);
    if (r.ec != std::errc() || r.ptr != s_.data() + end) return false;
    pos_ = end + 1;
    return true;
  }
  bool real(double& v) {
    size_t end = s_.find(';', pos_);
    if (end == std::string_view::npos) return false;
    auto r = std::from_chars(s_.data() + pos_, s_.data() + end, v);
    if (r.ec != std::errc() || r.ptr != s_.data() + end) return false;
    pos_ = end + 1;
    return true;
  }
  bool text(std::string& v) {
    size_t colon = s_.find(':', pos_);
    if (colon == std::string_view::npos || colon == pos_ || colon - pos_ > 9) return false;
    size_t len = 0;
    auto r = std::from_chars(s_.data() + pos_, s_.data() + colon, len);
    if (r.ec != std::errc() || r.ptr != s_.data() + colon) return false;
    if (len > s_.size() - colon - 1) return false;
    v.assign(s_.substr(colon + 1, len));
    pos_ = colon + 1 + len;
    return true;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::string encodeSearchCursor(const std::string& sig, int64_t pk,
                               const std::vector<SqlArg>& keys) {
  std::string raw = "S";
  putText(raw, sig);
  raw.push_back('i');
  putInt(raw, pk);
  for (const SqlArg& k : keys) {
    switch (k.kind) {
      case SqlArg::Kind::kNull:
        raw.push_back('n');
        break;
      case SqlArg::Kind::kInt:
        raw.push_back('i');
        putInt(raw, k.i);
        break;
      case SqlArg::Kind::kReal: {
        raw.push_back('r');
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, k.d);
        raw.append(buf, r.ptr);
        raw.push_back(';');
        break;
      }
      case SqlArg::Kind::kText:
        raw.push_back('t');
        putText(raw, k.s);
        break;
    }
  }
  return base64UrlEncode(raw);
}

Status decodeSearchCursor(const std::string& cursor, const std::string& sig, size_t nKeys,
                          int64_t& pk, std::vector<SqlArg>& keys) {
  std::string raw;
  if (cursor.size() > 64 * 1024 || !base64UrlDecode(cursor, raw))
    return badCursor("not a search cursor");
  CursorReader r(raw);
  char t;
  std::string gotSig;
  if (!r.tag(t) || t != 'S' || !r.text(gotSig) || !r.tag(t) || t != 'i' || !r.integer(pk))
    return badCursor("not a search cursor");
  if (gotSig != sig) return badCursor("the cursor belongs to a different _sort");
  while (!r.atEnd()) {
    if (!r.tag(t)) return badCursor("truncated");
    if (t == 'n') {
      keys.push_back(SqlArg::null());
    } else if (t == 'i') {
      int64_t v;
      if (!r.integer(v)) return badCursor("bad integer key");
      keys.push_back(SqlArg::integer(v));
    } else if (t == 'r') {
      double v;
      if (!r.real(v)) return badCursor("bad number key");
      keys.push_back(SqlArg::real(v));
    } else if (t == 't') {
      std::string v;
      if (!r.text(v)) return badCursor("bad text key");
      keys.push_back(SqlArg::text(std::move(v)));
    } else {
      return badCursor("unknown key tag");
    }
  }
  if (keys.size() != nKeys) return badCursor("wrong number of sort keys");
  return Status::ok();
}

// "after the cursor row" for keys [i, n) then pk: NULLs sort last, pk ascending breaks ties.
void keysetCondition(SqlBuilder& b, const std::vector<search::SortKey>& sort,
                     const std::vector<SqlArg>& keys, int64_t pk, size_t i) {
  if (i == sort.size()) {
    b.sql("pk > ").integer(pk);
    return;
  }
  const std::string k = "k" + std::to_string(i);
  if (keys[i].kind == SqlArg::Kind::kNull) {
    b.sql("(").sql(k).sql(" IS NULL AND ");
    keysetCondition(b, sort, keys, pk, i + 1);
    b.sql(")");
    return;
  }
  b.sql("(")
      .sql(k)
      .sql(" IS NULL OR ")
      .sql(k)
      .sql(sort[i].descending ? " < " : " > ")
      .arg(keys[i])
      .sql(" OR (")
      .sql(k)
      .sql(" = ")
      .arg(keys[i])
      .sql(" AND ");
  keysetCondition(b, sort, keys, pk, i + 1);
  b.sql("))");
}

std::string orderBy(const std::vector<search::SortKey>& sort, const std::string& prefix) {
  std::string o;
  for (size_t i = 0; i < sort.size(); ++i) {
    const std::string k = prefix + "k" + std::to_string(i);
    o += "(" + k + " IS NULL), " + k + (sort[i].descending ? " DESC, " : " ASC, ");
  }
  return o + prefix + "pk";
}

// " FROM resources r WHERE r.type = ? AND r.deleted = 0 AND (criteria...)"
Status baseFrom(const SearchQuery& q, const SearchSettings& settings, SqlBuilder& b) {
  if (q.resourceType.empty()) return unsupported("system-wide search");
  b.sql(" FROM resources r WHERE r.type = ").text(q.resourceType).sql(" AND r.deleted = 0");
  Planner p(b, settings);
  return p.criteria(q.criteria, "r", {q.resourceType});
}

struct PageQuery {
  SqlText text;
  size_t keys = 0;
};

Result<PageQuery> buildPage(const SearchQuery& q, const SearchSettings& settings, int64_t limit) {
  const std::string sig = sortSignature(q.sort);
  int64_t afterPk = 0;
  std::vector<SqlArg> keys;
  if (!q.cursor.empty()) {
    Status s = decodeSearchCursor(q.cursor, sig, q.sort.size(), afterPk, keys);
    if (!s.isOk()) return s;
  }
  SqlBuilder b;
  if (q.sort.empty()) {
    b.sql("SELECT r.pk, r.id, r.version, r.last_updated, r.json");
    Status s = baseFrom(q, settings, b);
    if (!s.isOk()) return s;
    if (!q.cursor.empty()) b.sql(" AND r.pk > ").integer(afterPk);
    b.sql(" ORDER BY r.pk LIMIT ").integer(limit);
    return PageQuery{b.take(), 0};
  }
  b.sql("SELECT p.pk, x.id, x.version, x.last_updated, x.json");
  for (size_t i = 0; i < q.sort.size(); ++i) b.sql(", p.k").sql(std::to_string(i));
  b.sql(" FROM (SELECT * FROM (SELECT r.pk AS pk");
  for (size_t i = 0; i < q.sort.size(); ++i) {
    b.sql(", ");
    Status s = sortExpr(q.sort[i], q.resourceType, b);
    if (!s.isOk()) return s;
    b.sql(" AS k").sql(std::to_string(i));
  }
  Status s = baseFrom(q, settings, b);
  if (!s.isOk()) return s;
  b.sql(") s");
  if (!q.cursor.empty()) {
    b.sql(" WHERE ");
    keysetCondition(b, q.sort, keys, afterPk, 0);
  }
  b.sql(" ORDER BY ").sql(orderBy(q.sort, "")).sql(" LIMIT ").integer(limit);
  b.sql(") p JOIN resources x ON x.pk = p.pk ORDER BY ").sql(orderBy(q.sort, "p."));
  return PageQuery{b.take(), q.sort.size()};
}

// ---- includes ----------------------------------------------------------------------------

struct Row {
  int64_t pk = 0;
  StoredResource res;
};

std::string jsonIntArray(const std::vector<const Row*>& rows) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out.push_back(',');
    out += std::to_string(rows[i]->pk);
  }
  out.push_back(']');
  return out;
}

std::string jsonIdArray(const std::vector<const Row*>& rows) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out.push_back(',');
    out += json::quote(rows[i]->res.id);
  }
  out.push_back(']');
  return out;
}

class Includer {
 public:
  Includer(Connection& conn, const SearchSettings& settings, std::vector<StoredResource>& out)
      : conn_(conn), settings_(settings), out_(out) {}

  void seen(int64_t pk) { seen_.insert(pk); }
  bool truncated() const { return truncated_; }

  // Applies `spec` forwards (_include) from `sources` (all of type `type`); new rows are
  // appended to `added`.
  Status include(const search::IncludeSpec& spec, const std::string& type,
                 const std::vector<const Row*>& sources, std::vector<Row>& added) {
    if (spec.sourceType != "*" && spec.sourceType != type) return Status::ok();
    SqlBuilder b;
    b.sql(
         "SELECT x.pk, x.type, x.id, x.version, x.last_updated, x.json FROM reference_idx rr "
         "JOIN resources x ON x.type = rr.target_type AND x.id = rr.target_id "
         "WHERE rr.resource_pk IN (")
        .sql(settings_.dialect == sql::Dialect::kPostgres
                 ? "SELECT value::bigint FROM json_array_elements_text(CAST("
                 : "SELECT value FROM json_each((")
        .text(jsonIntArray(sources))
        .sql(settings_.dialect == sql::Dialect::kPostgres ? " AS json))" : "))")
        .sql(") AND x.deleted = 0");
    if (spec.param != "*") b.sql(" AND rr.param = ").text(spec.param);
    if (!spec.targetType.empty()) b.sql(" AND rr.target_type = ").text(spec.targetType);
    b.sql(" ORDER BY x.pk");
    return collect(b.take(), added);
  }

  // Applies `spec` backwards (_revinclude): resources of spec.sourceType whose spec.param
  // points at one of `targets` (all of type `type`).
  Status revinclude(const search::IncludeSpec& spec, const std::string& type,
                    const std::vector<const Row*>& targets, std::vector<Row>& added) {
    if (!spec.targetType.empty() && spec.targetType != type) return Status::ok();
    SqlBuilder b;
    b.sql(
        "SELECT x.pk, x.type, x.id, x.version, x.last_updated, x.json FROM reference_idx rr "
        "JOIN resources x ON x.pk = rr.resource_pk WHERE ");
    if (spec.sourceType != "*") b.sql("rr.type = ").text(spec.sourceType).sql(" AND ");
    if (spec.param != "*") b.sql("rr.param = ").text(spec.param).sql(" AND ");
    b.sql("rr.target_id IN (")
        .sql(settings_.dialect == sql::Dialect::kPostgres
                 ? "SELECT value FROM json_array_elements_text(CAST("
                 : "SELECT value FROM json_each((")
        .text(jsonIdArray(targets))
        .sql(settings_.dialect == sql::Dialect::kPostgres ? " AS json))" : "))")
        .sql(") AND rr.target_type = ")
        .text(type)
        .sql(" AND x.deleted = 0 ORDER BY x.pk");
    return collect(b.take(), added);
  }

 private:
  Status collect(SqlText q, std::vector<Row>& added) {
    if (truncated_) return Status::ok();
    auto st = conn_.prepare(q.sql);
    if (!st.isOk()) return st.status();
    Statement& s = st.value();
    s.bindAll(q.args);
    for (;;) {
      StepResult r = s.step();
      if (r == StepResult::kDone) break;
      if (r != StepResult::kRow) return s.error("include");
      int64_t pk = s.columnInt(0);
      if (!seen_.insert(pk).second) continue;
      if (out_.size() >= settings_.maxIncludes) {
        truncated_ = true;
        break;
      }
      Row row;
      row.pk = pk;
      row.res.type = s.columnString(1);
      row.res.id = s.columnString(2);
      row.res.versionId = s.columnInt(3);
      row.res.lastUpdated = s.columnString(4);
      row.res.json = s.columnString(5);
      out_.push_back(row.res);
      added.push_back(std::move(row));
    }
    return Status::ok();
  }

  Connection& conn_;
  const SearchSettings& settings_;
  std::vector<StoredResource>& out_;
  std::unordered_set<int64_t> seen_;
  bool truncated_ = false;
};

// Runs every applicable spec on `sources` grouped by type; `iterateOnly` for the second level.
Status includeLevel(Includer& inc, const SearchQuery& q, const std::vector<const Row*>& sources,
                    bool iterateOnly, std::vector<Row>& added) {
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<const Row*>> byType;
  for (const Row* r : sources) {
    auto& v = byType[r->res.type];
    if (v.empty()) order.push_back(r->res.type);
    v.push_back(r);
  }
  for (const std::string& type : order) {
    const auto& group = byType[type];
    for (const auto& spec : q.includes) {
      if (iterateOnly && !spec.iterate) continue;
      Status s = inc.include(spec, type, group, added);
      if (!s.isOk()) return s;
    }
    for (const auto& spec : q.revincludes) {
      if (iterateOnly && !spec.iterate) continue;
      Status s = inc.revinclude(spec, type, group, added);
      if (!s.isOk()) return s;
    }
  }
  return Status::ok();
}

}  // namespace

// ---- public ------------------------------------------------------------------------------

Result<SqlText> pageSql(const SearchQuery& query, const SearchSettings& settings) {
  auto p = buildPage(query, settings, int64_t{query.count < 0 ? 0 : query.count} + 1);
  if (!p.isOk()) return p.status();
  return std::move(p.value().text);
}

Result<Page> executeSearch(Connection& conn, const SearchQuery& q, const SearchSettings& settings) {
  Page page;
  const int count = q.count < 0 ? 0 : q.count;
  if (q.totalAccurate || count == 0 || q.summary == search::SummaryMode::kCount) {
    SqlBuilder b;
    b.sql("SELECT count(*)");
    Status s = baseFrom(q, settings, b);
    if (!s.isOk()) return s;
    SqlText t = b.take();
    auto st = conn.prepare(t.sql);
    if (!st.isOk()) return st.status();
    st.value().bindAll(t.args);
    if (st.value().step() != StepResult::kRow) return st.value().error("count");
    page.total = st.value().columnInt(0);
  }
  if (count == 0) {
    if (!q.cursor.empty()) {  // still reject a foreign cursor
      int64_t pk;
      std::vector<SqlArg> keys;
      Status s = decodeSearchCursor(q.cursor, sortSignature(q.sort), q.sort.size(), pk, keys);
      if (!s.isOk()) return s;
    }
    return page;
  }
  auto pq = buildPage(q, settings, int64_t{count} + 1);
  if (!pq.isOk()) return pq.status();
  const PageQuery& p = pq.value();
  auto st = conn.prepare(p.text.sql);
  if (!st.isOk()) return st.status();
  Statement& s = st.value();
  s.bindAll(p.text.args);
  std::vector<Row> rows;
  std::vector<SqlArg> lastKeys;
  bool more = false;
  for (;;) {
    StepResult r = s.step();
    if (r == StepResult::kDone) break;
    if (r != StepResult::kRow) return s.error("search");
    if (static_cast<int>(rows.size()) == count) {
      more = true;
      break;
    }
    Row row;
    row.pk = s.columnInt(0);
    row.res.type = q.resourceType;
    row.res.id = s.columnString(1);
    row.res.versionId = s.columnInt(2);
    row.res.lastUpdated = s.columnString(3);
    row.res.json = s.columnString(4);
    if (static_cast<int>(rows.size()) == count - 1) {
      lastKeys.clear();
      for (size_t i = 0; i < p.keys; ++i) lastKeys.push_back(s.columnArg(5 + static_cast<int>(i)));
    }
    rows.push_back(std::move(row));
  }
  s = Statement();  // release before running further statements
  if (more) page.nextCursor = encodeSearchCursor(sortSignature(q.sort), rows.back().pk, lastKeys);

  if (!q.includes.empty() || !q.revincludes.empty()) {
    Includer inc(conn, settings, page.included);
    std::vector<const Row*> sources;
    for (const Row& r : rows) {
      inc.seen(r.pk);
      sources.push_back(&r);
    }
    std::vector<Row> level1;
    if (!sources.empty()) {
      Status st2 = includeLevel(inc, q, sources, false, level1);
      if (!st2.isOk()) return st2;
    }
    std::vector<const Row*> next;
    for (const Row& r : level1) next.push_back(&r);
    if (!next.empty()) {
      std::vector<Row> level2;
      Status st2 = includeLevel(inc, q, next, true, level2);
      if (!st2.isOk()) return st2;
    }
    page.includesTruncated = inc.truncated();
  }
  page.entries.reserve(rows.size());
  for (Row& r : rows) page.entries.push_back(std::move(r.res));
  return page;
}

Result<std::vector<std::string>> matchIds(Connection& conn, const SearchQuery& q, int limit,
                                          const SearchSettings& settings) {
  SqlBuilder b;
  b.sql("SELECT r.id");
  Status s = baseFrom(q, settings, b);
  if (!s.isOk()) return s;
  b.sql(" ORDER BY r.pk LIMIT ").integer(limit < 0 ? 0 : limit);
  SqlText t = b.take();
  auto st = conn.prepare(t.sql);
  if (!st.isOk()) return st.status();
  st.value().bindAll(t.args);
  std::vector<std::string> ids;
  for (;;) {
    StepResult r = st.value().step();
    if (r == StepResult::kDone) break;
    if (r != StepResult::kRow) return st.value().error("match");
    ids.push_back(st.value().columnString(0));
  }
  return ids;
}

std::string encodeHistoryCursor(int64_t seq) {
  std::string raw = "H";
  putInt(raw, seq);
  return base64UrlEncode(raw);
}

Result<int64_t> decodeHistoryCursor(const std::string& cursor) {
  std::string raw;
  if (cursor.size() > 1024 || !base64UrlDecode(cursor, raw))
    return badCursor("not a history cursor");
  CursorReader r(raw);
  char t;
  int64_t seq;
  if (!r.tag(t) || t != 'H' || !r.integer(seq) || !r.atEnd())
    return badCursor("not a history cursor");
  return seq;
}

namespace {
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}

std::string base64UrlEncode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out.push_back(kB64[v >> 18 & 63]);
    out.push_back(kB64[v >> 12 & 63]);
    out.push_back(kB64[v >> 6 & 63]);
    out.push_back(kB64[v & 63]);
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    unsigned v = byte(i) << 16;
    out.push_back(kB64[v >> 18 & 63]);
    out.push_back(kB64[v >> 12 & 63]);
  } else if (rest == 2) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out.push_back(kB64[v >> 18 & 63]);
    out.push_back(kB64[v >> 12 & 63]);
    out.push_back(kB64[v >> 6 & 63]);
  }
  return out;
}

bool base64UrlDecode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 == 1) return false;
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

std::string prefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (s.empty()) return s;
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

}  // namespace acp::store::sql
