#include "gateway/search/index.h"

#include <charconv>
#include <limits>
#include <mutex>
#include <unordered_set>

#include "gateway/search/fhirpath.h"

namespace acp::search {

namespace {

// ASCII replacements for U+00C0..U+017F (Latin-1 Supplement letters and Latin Extended-A).
// "" means the code point is dropped (×, ÷).
constexpr const char* kLatinFold[] = {
    // U+00C0
    "a",
    "a",
    "a",
    "a",
    "a",
    "a",
    "ae",
    "c",
    "e",
    "e",
    "e",
    "e",
    "i",
    "i",
    "i",
    "i",
    // U+00D0
    "d",
    "n",
    "o",
    "o",
    "o",
    "o",
    "o",
    "",
    "o",
    "u",
    "u",
    "u",
    "u",
    "y",
    "th",
    "ss",
    // U+00E0
    "a",
    "a",
    "a",
    "a",
    "a",
    "a",
    "ae",
    "c",
    "e",
    "e",
    "e",
    "e",
    "i",
    "i",
    "i",
    "i",
    // U+00F0
    "d",
    "n",
    "o",
    "o",
    "o",
    "o",
    "o",
    "",
    "o",
    "u",
    "u",
    "u",
    "u",
    "y",
    "th",
    "y",
    // U+0100
    "a",
    "a",
    "a",
    "a",
    "a",
    "a",
    "c",
    "c",
    "c",
    "c",
    "c",
    "c",
    "c",
    "c",
    "d",
    "d",
    // U+0110
    "d",
    "d",
    "e",
    "e",
    "e",
    "e",
    "e",
    "e",
    "e",
    "e",
    "e",
    "e",
    "g",
    "g",
    "g",
    "g",
    // U+0120
    "g",
    "g",
    "g",
    "g",
    "h",
    "h",
    "h",
    "h",
    "i",
    "i",
    "i",
    "i",
    "i",
    "i",
    "i",
    "i",
    // U+0130
    "i",
    "i",
    "ij",
    "ij",
    "j",
    "j",
    "k",
    "k",
    "k",
    "l",
    "l",
    "l",
    "l",
    "l",
    "l",
    "l",
    // U+0140
    "l",
    "l",
    "l",
    "n",
    "n",
    "n",
    "n",
    "n",
    "n",
    "n",
    "n",
    "n",
    "o",
    "o",
    "o",
    "o",
    // U+0150
    "o",
    "o",
    "oe",
    "oe",
    "r",
    "r",
    "r",
    "r",
    "r",
    "r",
    "s",
    "s",
    "s",
    "s",
    "s",
    "s",
    // U+0160
    "s",
    "s",
    "t",
    "t",
    "t",
    "t",
    "t",
    "t",
    "u",
    "u",
    "u",
    "u",
    "u",
    "u",
    "u",
    "u",
    // U+0170
    "u",
    "u",
    "u",
    "u",
    "w",
    "w",
    "y",
    "y",
    "y",
    "z",
    "z",
    "z",
    "z",
    "z",
    "z",
    "s",
};
static_assert(sizeof(kLatinFold) / sizeof(kLatinFold[0]) == 0x180 - 0xC0);

constexpr int64_t kMsPerDay = 86400000;

int64_t daysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at s[i].
bool digits(std::string_view s, size_t& i, size_t n, int& out) {
  if (i + n > s.size()) return false;
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = s[i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  i += n;
  return true;
}

bool toDouble(std::string_view s, double& out) {
  if (s.empty()) return false;
  if (s[0] == '+') return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// ---------------------------------------------------------------------------------------------
// What an evaluated item is, for indexing.

enum class Shape {
  kOther,
  kString,  // string, markdown, code, id
  kUri,     // uri, url, canonical, uuid, oid
  kBoolean,
  kNumber,  // decimal, integer, positiveInt, unsignedInt
  kDate,    // date, dateTime, instant
  kPeriod,
  kTiming,
  kHumanName,
  kAddress,
  kCoding,
  kCodeableConcept,
  kIdentifier,
  kContactPoint,
  kReference,
  kQuantity,  // Quantity and its specialisations
  kMoney,
};

Shape shapeOf(std::string_view t) {
  if (t.empty()) return Shape::kOther;
  switch (t[0]) {
    case 'A':
      if (t == "Address") return Shape::kAddress;
      if (t == "Age") return Shape::kQuantity;
      break;
    case 'C':
      if (t == "Coding") return Shape::kCoding;
      if (t == "CodeableConcept") return Shape::kCodeableConcept;
      if (t == "ContactPoint") return Shape::kContactPoint;
      if (t == "Count") return Shape::kQuantity;
      break;
    case 'D':
      if (t == "Duration" || t == "Distance") return Shape::kQuantity;
      break;
    case 'H':
      if (t == "HumanName") return Shape::kHumanName;
      break;
    case 'I':
      if (t == "Identifier") return Shape::kIdentifier;
      break;
    case 'M':
      if (t == "Money") return Shape::kMoney;
      if (t == "MoneyQuantity") return Shape::kQuantity;
      break;
    case 'P':
      if (t == "Period") return Shape::kPeriod;
      break;
    case 'Q':
      if (t == "Quantity") return Shape::kQuantity;
      break;
    case 'R':
      if (t == "Reference") return Shape::kReference;
      break;
    case 'S':
      if (t == "SimpleQuantity") return Shape::kQuantity;
      break;
    case 'T':
      if (t == "Timing") return Shape::kTiming;
      break;
    case 'b':
      if (t == "boolean") return Shape::kBoolean;
      break;
    case 'c':
      if (t == "code") return Shape::kString;
      if (t == "canonical") return Shape::kUri;
      break;
    case 'd':
      if (t == "date" || t == "dateTime") return Shape::kDate;
      if (t == "decimal") return Shape::kNumber;
      break;
    case 'i':
      if (t == "id") return Shape::kString;
      if (t == "instant") return Shape::kDate;
      if (t == "integer") return Shape::kNumber;
      break;
    case 'm':
      if (t == "markdown") return Shape::kString;
      break;
    case 'o':
      if (t == "oid") return Shape::kUri;
      break;
    case 'p':
      if (t == "positiveInt") return Shape::kNumber;
      break;
    case 's':
      if (t == "string") return Shape::kString;
      break;
    case 'u':
      if (t == "uri" || t == "url" || t == "uuid") return Shape::kUri;
      if (t == "unsignedInt") return Shape::kNumber;
      break;
    default:
      break;
  }
  return Shape::kOther;
}

enum class ParamKind { kString, kToken, kDate, kReference, kNumber, kQuantity, kUri };

bool paramKind(std::string_view type, ParamKind& out) {
  if (type == "string")
    out = ParamKind::kString;
  else if (type == "token")
    out = ParamKind::kToken;
  else if (type == "date")
    out = ParamKind::kDate;
  else if (type == "reference")
    out = ParamKind::kReference;
  else if (type == "number")
    out = ParamKind::kNumber;
  else if (type == "quantity")
    out = ParamKind::kQuantity;
  else if (type == "uri")
    out = ParamKind::kUri;
  else
    return false;
  return true;
}

bool accepts(ParamKind k, Shape s) {
  switch (k) {
    case ParamKind::kString:
      return s == Shape::kString || s == Shape::kUri || s == Shape::kHumanName ||
             s == Shape::kAddress;
    case ParamKind::kToken:
      return s == Shape::kCoding || s == Shape::kCodeableConcept || s == Shape::kIdentifier ||
             s == Shape::kContactPoint || s == Shape::kBoolean || s == Shape::kString ||
             s == Shape::kUri;
    case ParamKind::kDate:
      return s == Shape::kDate || s == Shape::kPeriod || s == Shape::kTiming;
    case ParamKind::kReference:
      return s == Shape::kReference || s == Shape::kUri;
    case ParamKind::kNumber:
      return s == Shape::kNumber;
    case ParamKind::kQuantity:
      return s == Shape::kQuantity || s == Shape::kMoney;
    case ParamKind::kUri:
      return s == Shape::kUri;
  }
  return false;
}

const std::string& primitiveText(const PathItem& i) {
  static const std::string kEmpty;
  return i.node && (i.node->isString() || i.node->isNumber() || i.node->isBool()) ? i.node->text()
                                                                                  : kEmpty;
}

// Calls f(text) for a string member or each string of an array member.
template <typename F>
void forEachString(const json::Value& obj, std::string_view key, F&& f) {
  const json::Value* v = obj.find(key);
  if (!v) return;
  if (v->isString()) {
    if (!v->text().empty()) f(v->text());
  } else if (v->isArray()) {
    for (const json::Value& e : v->items())
      if (e.isString() && !e.text().empty()) f(e.text());
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string normalizeString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pendingSpace = false;
  auto put = [&](std::string_view piece) {
    if (piece.empty()) return;
    if (pendingSpace && !out.empty()) out += ' ';
    pendingSpace = false;
    out.append(piece);
  };
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      if (c >= 'A' && c <= 'Z') {
        char l = static_cast<char>(c - 'A' + 'a');
        put(std::string_view(&l, 1));
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        char l = static_cast<char>(c);
        put(std::string_view(&l, 1));
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        pendingSpace = true;
      }
      // other ASCII (punctuation, controls): dropped
      continue;
    }
    // Multi-byte UTF-8 sequences.
    if ((c & 0xE0) == 0xC0 && i + 1 < s.size() &&
        (static_cast<unsigned char>(s[i + 1]) & 0xC0) == 0x80) {
      unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      i += 2;
      if (cp >= 0xC0 && cp < 0x180) {
        put(kLatinFold[cp - 0xC0]);
      } else if (cp == 0xA0) {
        pendingSpace = true;  // no-break space
      } else if (cp >= 0x80 && cp < 0xC0) {
        // Latin-1 punctuation and symbols (¡ « » ° …): dropped
      } else if (cp >= 0x300 && cp < 0x370) {
        // combining diacritical marks (decomposed accents): dropped
      } else {
        put(s.substr(i - 2, 2));
      }
      continue;
    }
    if ((c & 0xF0) == 0xE0 && i + 2 < s.size()) {
      unsigned cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                    (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
      if (cp >= 0x2000 && cp <= 0x200B) {
        pendingSpace = true;  // typographic spaces
        i += 3;
        continue;
      }
      if (cp >= 0x2010 && cp <= 0x206F) {  // general punctuation: dashes, quotes, …
        i += 3;
        continue;
      }
      put(s.substr(i, 3));
      i += 3;
      continue;
    }
    // Any other byte (4-byte sequences, stray continuation bytes): kept as is.
    size_t n = (c & 0xF8) == 0xF0 ? 4 : 1;
    if (i + n > s.size()) n = s.size() - i;
    put(s.substr(i, n));
    i += n;
  }
  return out;
}

bool dateRange(std::string_view s, int64_t& low, int64_t& high) {
  size_t i = 0;
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  if (!digits(s, i, 4, year) || year < 1) return false;
  enum { kYear, kMonth, kDay, kMinute, kSecond } precision = kYear;
  int64_t fractionMs = 0;
  int64_t unitMs = 0;  // extent of the last given unit
  int64_t offsetMs = 0;
  if (i < s.size()) {
    if (s[i] != '-') return false;
    ++i;
    if (!digits(s, i, 2, month) || month < 1 || month > 12) return false;
    precision = kMonth;
  }
  if (i < s.size()) {
    if (s[i] != '-') return false;
    ++i;
    if (!digits(s, i, 2, day) || day < 1 || day > daysInMonth(year, month)) return false;
    precision = kDay;
  }
  if (i < s.size()) {
    if (s[i] != 'T') return false;
    ++i;
    if (!digits(s, i, 2, hour) || hour > 23) return false;
    if (i >= s.size() || s[i] != ':') return false;
    ++i;
    if (!digits(s, i, 2, minute) || minute > 59) return false;
    precision = kMinute;
    unitMs = 60000;
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!digits(s, i, 2, second) || second > 60) return false;
      if (second == 60) second = 59;  // leap second: within the last second of the minute
      precision = kSecond;
      unitMs = 1000;
      if (i < s.size() && s[i] == '.') {
        ++i;
        size_t start = i;
        int64_t scale = 100;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          if (scale > 0) fractionMs += (s[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
        size_t n = i - start;
        if (n == 0) return false;
        unitMs = n >= 3 ? 1 : (n == 2 ? 10 : 100);
      }
    }
    if (i < s.size()) {
      if (s[i] == 'Z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i] == '-' ? -1 : 1;
        ++i;
        int oh = 0, om = 0;
        if (!digits(s, i, 2, oh) || oh > 14) return false;
        if (i >= s.size() || s[i] != ':') return false;
        ++i;
        if (!digits(s, i, 2, om) || om > 59) return false;
        offsetMs = sign * (oh * 3600000LL + om * 60000LL);
      } else {
        return false;
      }
    }
  }
  if (i != s.size()) return false;
  int64_t start = daysFromCivil(year, month, day) * kMsPerDay;
  switch (precision) {
    case kYear:
      low = start;
      high = daysFromCivil(year + 1, 1, 1) * kMsPerDay - 1;
      return true;
    case kMonth:
      low = start;
      high = (month == 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1)) *
                 kMsPerDay -
             1;
      return true;
    case kDay:
      low = start;
      high = start + kMsPerDay - 1;
      return true;
    case kMinute:
    case kSecond:
      low = start + hour * 3600000LL + minute * 60000LL + second * 1000LL + fractionMs - offsetMs;
      high = low + unitMs - 1;
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

namespace {

struct CompiledParam {
  const model::SearchParamDef* def = nullptr;
  ParamKind kind = ParamKind::kString;
  Expression expression;
};

// Collects entries, dropping exact duplicates (two names with the same family, a Coding
// reached through two branches).
class Collector {
 public:
  Collector(const model::Model& model, const IndexOptions& options, IndexValues& out)
      : model_(model), options_(options), out_(out) {}

  void add(const CompiledParam& p, const PathItem& item) {
    Shape s = shapeOf(item.type);
    if (!accepts(p.kind, s)) return;
    const std::string& code = p.def->code;
    switch (p.kind) {
      case ParamKind::kString:
        addString(code, s, item);
        break;
      case ParamKind::kToken:
        addToken(code, s, item);
        break;
      case ParamKind::kDate:
        addDate(code, s, item);
        break;
      case ParamKind::kReference:
        addReference(code, s, item);
        break;
      case ParamKind::kNumber:
        addNumber(code, item);
        break;
      case ParamKind::kQuantity:
        addQuantity(code, s, item);
        break;
      case ParamKind::kUri: {
        const std::string& t = primitiveText(item);
        if (!t.empty() && fresh({"u", code, t})) out_.uris.push_back({code, t});
        break;
      }
    }
  }

 private:
  bool fresh(std::initializer_list<std::string_view> parts) {
    std::string key;
    for (std::string_view p : parts) {
      key.append(p);
      key += '\x1f';
    }
    return seen_.insert(std::move(key)).second;
  }

  void string(const std::string& code, std::string_view value) {
    if (value.empty()) return;
    std::string norm = normalizeString(value);
    if (!fresh({"s", code, value})) return;
    out_.strings.push_back({code, std::move(norm), std::string(value)});
  }

  void addString(const std::string& code, Shape s, const PathItem& item) {
    if (!item.node) return;
    if (s == Shape::kString || s == Shape::kUri) {
      if (item.node->isString()) string(code, item.node->text());
      return;
    }
    if (!item.node->isObject()) return;
    auto each = [&](std::string_view v) { string(code, v); };
    if (s == Shape::kHumanName) {
      for (const char* k : {"family", "given", "prefix", "suffix", "text"})
        forEachString(*item.node, k, each);
    } else {  // Address
      for (const char* k : {"line", "city", "district", "state", "postalCode", "country", "text"})
        forEachString(*item.node, k, each);
    }
  }

  void token(const std::string& code, std::string_view system, std::string_view value,
             std::string_view display) {
    if (system.empty() && value.empty() && display.empty()) return;
    std::string text = display.empty() ? std::string() : normalizeString(display);
    if (!fresh({"t", code, system, value, text})) return;
    out_.tokens.push_back({code, std::string(system), std::string(value), std::move(text)});
  }

  void coding(const std::string& code, const json::Value& c) {
    if (!c.isObject()) return;
    token(code, c.getString("system"), c.getString("code"), c.getString("display"));
  }

  void addToken(const std::string& code, Shape s, const PathItem& item) {
    if (!item.node) return;
    const json::Value& v = *item.node;
    switch (s) {
      case Shape::kCoding:
        coding(code, v);
        return;
      case Shape::kCodeableConcept: {
        if (!v.isObject()) return;
        if (const json::Value* codings = v.find("coding"); codings && codings->isArray())
          for (const json::Value& c : codings->items()) coding(code, c);
        const std::string& text = v.getString("text");
        if (!text.empty()) token(code, "", "", text);
        return;
      }
      case Shape::kIdentifier: {
        if (!v.isObject()) return;
        const std::string& system = v.getString("system");
        const std::string& value = v.getString("value");
        if (system.empty() && value.empty()) return;
        const json::Value* type = v.find("type");
        token(code, system, value, type ? type->getString("text") : std::string_view());
        return;
      }
      case Shape::kContactPoint:
        if (v.isObject()) token(code, "", v.getString("value"), "");
        return;
      case Shape::kBoolean:
        if (v.isBool()) token(code, "", v.boolean() ? "true" : "false", "");
        return;
      default:
        if (v.isString()) token(code, "", v.text(), "");
        return;
    }
  }

  void date(const std::string& code, int64_t low, int64_t high) {
    if (low > high) return;
    if (!fresh({"d", code, std::to_string(low), std::to_string(high)})) return;
    out_.dates.push_back({code, low, high});
  }

  // A Period's bounds; false when it has neither a usable start nor end.
  static bool periodRange(const json::Value& p, int64_t& low, int64_t& high) {
    if (!p.isObject()) return false;
    int64_t lo = 0, hi = 0, l2 = 0, h2 = 0;
    const std::string& start = p.getString("start");
    const std::string& end = p.getString("end");
    bool hasStart = !start.empty() && dateRange(start, lo, hi);
    bool hasEnd = !end.empty() && dateRange(end, l2, h2);
    if ((!start.empty() && !hasStart) || (!end.empty() && !hasEnd)) return false;
    if (!hasStart && !hasEnd) return false;
    low = hasStart ? lo : std::numeric_limits<int64_t>::min();
    high = hasEnd ? h2 : std::numeric_limits<int64_t>::max();
    return true;
  }

  void addDate(const std::string& code, Shape s, const PathItem& item) {
    if (!item.node) return;
    const json::Value& v = *item.node;
    int64_t low = 0, high = 0;
    if (s == Shape::kDate) {
      if (v.isString() && dateRange(v.text(), low, high)) date(code, low, high);
    } else if (s == Shape::kPeriod) {
      if (periodRange(v, low, high)) date(code, low, high);
    } else if (s == Shape::kTiming) {
      if (!v.isObject()) return;
      bool any = false;
      int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
      if (const json::Value* events = v.find("event"); events && events->isArray()) {
        for (const json::Value& e : events->items()) {
          if (e.isString() && dateRange(e.text(), low, high)) {
            lo = std::min(lo, low);
            hi = std::max(hi, high);
            any = true;
          }
        }
      }
      if (const json::Value* repeat = v.find("repeat"); repeat && repeat->isObject()) {
        if (const json::Value* bounds = repeat->find("boundsPeriod");
            bounds && periodRange(*bounds, low, high)) {
          lo = std::min(lo, low);
          hi = std::max(hi, high);
          any = true;
        }
      }
      if (any) date(code, lo, hi);
    }
  }

  void reference(const std::string& code, std::string_view text, std::string_view typeUri,
                 std::string_view idSystem, std::string_view idValue) {
    ReferenceEntry e;
    e.param = code;
    if (!text.empty()) {
      e.url = std::string(text);
      ParsedReference r;
      parseReference(model_, text, r);
      if (!r.type.empty()) {
        e.targetType = std::string(r.type);
        std::string_view base = options_.baseUrl;
        while (!base.empty() && base.back() == '/') base.remove_suffix(1);
        if (!r.absolute || (!base.empty() && r.base == base)) e.targetId = std::string(r.id);
      } else if (!r.absolute && !r.contained && isValidId(text)) {
        e.targetId = std::string(text);  // a bare id: the type comes from Reference.type
      }
    }
    if (e.targetType.empty() && !typeUri.empty()) {
      size_t slash = typeUri.rfind('/');
      std::string_view t = slash == std::string_view::npos ? typeUri : typeUri.substr(slash + 1);
      if (model_.isResourceType(t)) e.targetType = std::string(t);
    }
    if (e.targetType.empty()) e.targetId.clear();  // an id without a type is no reference
    e.identifierSystem = std::string(idSystem);
    e.identifierValue = std::string(idValue);
    if (e.url.empty() && e.targetType.empty() && e.identifierSystem.empty() &&
        e.identifierValue.empty())
      return;
    if (!fresh({"r", code, e.targetType, e.targetId, e.url, e.identifierSystem, e.identifierValue}))
      return;
    out_.references.push_back(std::move(e));
  }

  void addReference(const std::string& code, Shape s, const PathItem& item) {
    if (!item.node) return;
    const json::Value& v = *item.node;
    if (s == Shape::kUri) {
      if (v.isString()) reference(code, v.text(), "", "", "");
      return;
    }
    if (!v.isObject()) return;
    std::string_view idSystem, idValue;
    if (const json::Value* ident = v.find("identifier"); ident && ident->isObject()) {
      idSystem = ident->getString("system");
      idValue = ident->getString("value");
    }
    reference(code, v.getString("reference"), v.getString("type"), idSystem, idValue);
  }

  void addNumber(const std::string& code, const PathItem& item) {
    if (!item.node || !item.node->isNumber()) return;
    double d = 0;
    if (!toDouble(item.node->text(), d)) return;
    if (!fresh({"n", code, item.node->text()})) return;
    out_.numbers.push_back({code, d, item.node->text()});
  }

  void addQuantity(const std::string& code, Shape s, const PathItem& item) {
    if (!item.node || !item.node->isObject()) return;
    const json::Value& v = *item.node;
    const json::Value* value = v.find("value");
    double d = 0;
    if (!value || !value->isNumber() || !toDouble(value->text(), d)) return;
    QuantityEntry e;
    e.param = code;
    e.value = d;
    if (s == Shape::kMoney) {
      e.system = "urn:iso:std:iso:4217";
      e.code = v.getString("currency");
    } else {
      e.system = v.getString("system");
      e.code = v.getString("code");
      e.unit = v.getString("unit");
    }
    if (!fresh({"q", code, value->text(), e.system, e.code, e.unit})) return;
    out_.quantities.push_back(std::move(e));
  }

  const model::Model& model_;
  const IndexOptions& options_;
  IndexValues& out_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

struct IndexExtractor::TypeParams {
  std::vector<CompiledParam> params;
};

IndexExtractor::IndexExtractor(const model::Model& model) : model_(model) {
  for (const std::string& type : model.resourceTypes()) {
    auto tp = std::make_unique<TypeParams>();
    std::unordered_set<std::string> codes;
    for (const model::SearchParamDef* def : model.searchParams(type)) {
      if (def->code == "_id" || def->code == "_lastUpdated") continue;  // kept by the store
      if (!codes.insert(def->code).second) continue;                    // the first definition wins
      auto skip = [&](std::string reason) {
        skipped_.push_back({type, def->code, std::move(reason)});
      };
      ParamKind kind;
      if (!paramKind(def->type, kind)) {
        skip(def->type + " parameters are not indexed");
        continue;
      }
      if (def->code == "phonetic") {
        skip("phonetic matching is not implemented");
        continue;
      }
      if (def->expression.empty()) {
        skip("no expression");
        continue;
      }
      Result<Expression> compiled = Expression::compile(model, def->expression, type);
      if (!compiled.isOk()) {
        skip(compiled.status().message());
        continue;
      }
      if (compiled->empty()) {
        skip("no branch of the expression applies to " + type);
        continue;
      }
      bool indexable = false;
      std::string types;
      for (const std::string& t : compiled->resultTypes()) {
        indexable |= accepts(kind, shapeOf(t));
        types += (types.empty() ? "" : ", ") + t;
      }
      if (!indexable) {
        skip("results of type " + types + " cannot be indexed as " + def->type);
        continue;
      }
      tp->params.push_back({def, kind, compiled.take()});
    }
    byType_[type] = std::move(tp);
  }
}

IndexExtractor::~IndexExtractor() = default;

IndexValues IndexExtractor::extract(const json::Value& resource,
                                    const IndexOptions& options) const {
  IndexValues out;
  if (!resource.isObject()) return out;
  auto it = byType_.find(resource.getString("resourceType"));
  if (it == byType_.end()) return out;
  Collector collector(model_, options, out);
  std::vector<PathItem> items;
  for (const CompiledParam& p : it->second->params) {
    items.clear();
    p.expression.evaluate(resource, items);
    for (const PathItem& item : items) collector.add(p, item);
  }
  return out;
}

bool IndexExtractor::isIndexed(std::string_view resourceType, std::string_view code) const {
  auto it = byType_.find(std::string(resourceType));
  if (it == byType_.end()) return false;
  for (const CompiledParam& p : it->second->params)
    if (p.def->code == code) return true;
  return false;
}

const IndexExtractor& IndexExtractor::forModel(const model::Model& model) {
  // Fast path without locking: the last extractor this thread used, if it belongs to the
  // same loaded model (compared by serial, so a freed model is never mistaken for a new one
  // at the same address). The extractor itself is owned by the model.
  thread_local uint64_t lastSerial = 0;
  thread_local const IndexExtractor* last = nullptr;
  if (lastSerial == model.serial() && last) return *last;
  const IndexExtractor& e = model.derived<IndexExtractor>(
      [](const model::Model& m) { return std::make_unique<IndexExtractor>(m); });
  lastSerial = model.serial();
  last = &e;
  return e;
}

IndexValues extractIndex(const model::Model& model, const json::Value& resource) {
  return IndexExtractor::forModel(model).extract(resource);
}

IndexValues extractIndex(const model::Model& model, const json::Value& resource,
                         const IndexOptions& options) {
  return IndexExtractor::forModel(model).extract(resource, options);
}

}  // namespace acp::search
