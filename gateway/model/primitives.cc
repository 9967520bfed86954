#include "gateway/model/primitives.h"

#include <cstdint>

namespace acp::model::primitives {
namespace {

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline bool isLowerHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f'); }
// The regex class \s (ASCII): space, tab, LF, VT, FF, CR.
inline bool isSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
inline bool isControl(char c) { return static_cast<unsigned char>(c) < 0x20; }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Reads exactly `n` digits at s[pos..] into `out`.
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!isDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysInMonth(int y, int m) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

// Parses the date part: YYYY[-MM[-DD]]. `parts` receives 1, 2 or 3; `end` the position after.
bool parseDatePart(std::string_view s, int& parts, size_t& end) {
  int y, m, d;
  if (!digits(s, 0, 4, y) || y == 0) return false;  // 0000 is not a year in FHIR
  parts = 1;
  end = 4;
  if (s.size() == 4 || s[4] != '-') return true;
  if (!digits(s, 5, 2, m) || m < 1 || m > 12) return false;
  parts = 2;
  end = 7;
  if (s.size() == 7 || s[7] != '-') return true;
  if (!digits(s, 8, 2, d) || d < 1 || d > daysInMonth(y, m)) return false;
  parts = 3;
  end = 10;
  return true;
}

// hh:mm:ss(.f+)? starting at pos; `end` receives the position after.
bool parseClock(std::string_view s, size_t pos, size_t& end) {
  int h, mi, se;
  if (!digits(s, pos, 2, h) || h > 23) return false;
  if (pos + 2 >= s.size() || s[pos + 2] != ':') return false;
  if (!digits(s, pos + 3, 2, mi) || mi > 59) return false;
  if (pos + 5 >= s.size() || s[pos + 5] != ':') return false;
  if (!digits(s, pos + 6, 2, se) || se > 60) return false;  // 60: leap second
  size_t p = pos + 8;
  if (p < s.size() && s[p] == '.') {
    size_t start = ++p;
    while (p < s.size() && isDigit(s[p])) ++p;
    if (p == start) return false;
  }
  end = p;
  return true;
}

// Z | (+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00), which must end the text.
bool parseZone(std::string_view s, size_t pos) {
  if (pos >= s.size()) return false;
  if (s[pos] == 'Z') return pos + 1 == s.size();
  if (s[pos] != '+' && s[pos] != '-') return false;
  int h, m;
  if (pos + 6 != s.size()) return false;
  if (!digits(s, pos + 1, 2, h) || s[pos + 3] != ':' || !digits(s, pos + 4, 2, m)) return false;
  if (h == 14) return m == 0;
  return h <= 13 && m <= 59;
}

// Unsigned decimal digits without a leading zero (except "0"), value <= 2^31-1.
bool parseBoundedUnsigned(std::string_view s, bool allowZero, int64_t limit) {
  if (s.empty() || s.size() > 10) return false;
  if (s[0] == '0') return allowZero && s.size() == 1;
  int64_t v = 0;
  for (char c : s) {
    if (!isDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  return v <= limit;
}

// No control characters below U+0020 other than tab, CR and LF.
bool noControl(std::string_view s) {
  for (char c : s)
    if (isControl(c) && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

bool startsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

bool equalsLower(std::string_view a, std::string_view lowerB) {
  if (a.size() != lowerB.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lowerB[i]) return false;
  return true;
}

}  // namespace

Primitive primitiveFromName(std::string_view n) {
  struct Entry {
    std::string_view name;
    Primitive p;
  };
  static constexpr Entry kTable[] = {
      {"string", Primitive::kString},
      {"code", Primitive::kCode},
      {"uri", Primitive::kUri},
      {"boolean", Primitive::kBoolean},
      {"dateTime", Primitive::kDateTime},
      {"decimal", Primitive::kDecimal},
      {"integer", Primitive::kInteger},
      {"id", Primitive::kId},
      {"date", Primitive::kDate},
      {"markdown", Primitive::kMarkdown},
      {"canonical", Primitive::kCanonical},
      {"positiveInt", Primitive::kPositiveInt},
      {"unsignedInt", Primitive::kUnsignedInt},
      {"instant", Primitive::kInstant},
      {"url", Primitive::kUrl},
      {"time", Primitive::kTime},
      {"base64Binary", Primitive::kBase64Binary},
      {"oid", Primitive::kOid},
      {"uuid", Primitive::kUuid},
      {"xhtml", Primitive::kXhtml},
      {"http://hl7.org/fhirpath/System.String", Primitive::kString},
  };
  for (const Entry& e : kTable)
    if (e.name == n) return e.p;
  return Primitive::kUnknown;
}

const char* primitiveName(Primitive p) {
  switch (p) {
    case Primitive::kUnknown:
      return "unknown";
    case Primitive::kBoolean:
      return "boolean";
    case Primitive::kInteger:
      return "integer";
    case Primitive::kPositiveInt:
      return "positiveInt";
    case Primitive::kUnsignedInt:
      return "unsignedInt";
    case Primitive::kDecimal:
      return "decimal";
    case Primitive::kString:
      return "string";
    case Primitive::kMarkdown:
      return "markdown";
    case Primitive::kCode:
      return "code";
    case Primitive::kId:
      return "id";
    case Primitive::kUri:
      return "uri";
    case Primitive::kUrl:
      return "url";
    case Primitive::kCanonical:
      return "canonical";
    case Primitive::kOid:
      return "oid";
    case Primitive::kUuid:
      return "uuid";
    case Primitive::kBase64Binary:
      return "base64Binary";
    case Primitive::kDate:
      return "date";
    case Primitive::kDateTime:
      return "dateTime";
    case Primitive::kInstant:
      return "instant";
    case Primitive::kTime:
      return "time";
    case Primitive::kXhtml:
      return "xhtml";
  }
  return "unknown";
}

JsonKind jsonKindOf(Primitive p) {
  switch (p) {
    case Primitive::kBoolean:
      return JsonKind::kBoolean;
    case Primitive::kInteger:
    case Primitive::kPositiveInt:
    case Primitive::kUnsignedInt:
    case Primitive::kDecimal:
      return JsonKind::kNumber;
    default:
      return JsonKind::kString;
  }
}

bool isValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok =
        isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool isValidDate(std::string_view s) {
  int parts;
  size_t end;
  return parseDatePart(s, parts, end) && end == s.size();
}

bool isValidDateTime(std::string_view s) {
  int parts;
  size_t end;
  if (!parseDatePart(s, parts, end)) return false;
  if (end == s.size()) return true;
  // A time needs the full date, the 'T', seconds and a timezone.
  if (parts != 3 || s[end] != 'T') return false;
  size_t after;
  if (!parseClock(s, end + 1, after)) return false;
  return parseZone(s, after);
}

bool isValidInstant(std::string_view s) {
  int parts;
  size_t end;
  if (!parseDatePart(s, parts, end) || parts != 3 || end >= s.size() || s[end] != 'T') return false;
  size_t after;
  if (!parseClock(s, end + 1, after)) return false;
  return parseZone(s, after);
}

bool isValidTime(std::string_view s) {
  size_t end;
  return parseClock(s, 0, end) && end == s.size();
}

bool isValidDecimal(std::string_view s) {
  size_t p = 0, n = s.size();
  if (p < n && s[p] == '-') ++p;
  if (p >= n) return false;
  if (s[p] == '0') {
    ++p;
  } else if (s[p] >= '1' && s[p] <= '9') {
    while (p < n && isDigit(s[p])) ++p;
  } else {
    return false;
  }
  if (p < n && s[p] == '.') {
    size_t start = ++p;
    while (p < n && isDigit(s[p])) ++p;
    if (p == start) return false;
  }
  if (p < n && (s[p] == 'e' || s[p] == 'E')) {
    ++p;
    if (p < n && (s[p] == '+' || s[p] == '-')) ++p;
    size_t start = p;
    while (p < n && isDigit(s[p])) ++p;
    if (p == start) return false;
  }
  return p == n;
}

bool isValidInteger(std::string_view s) {
  if (!s.empty() && s[0] == '-') {
    std::string_view rest = s.substr(1);
    if (rest == "0") return true;  // "-0" matches the R4 regex
    return parseBoundedUnsigned(rest, false, 2147483648LL);
  }
  return parseBoundedUnsigned(s, true, 2147483647LL);
}

bool isValidPositiveInt(std::string_view s) { return parseBoundedUnsigned(s, false, 2147483647LL); }

bool isValidUnsignedInt(std::string_view s) { return parseBoundedUnsigned(s, true, 2147483647LL); }

bool isValidOid(std::string_view s) {
  static constexpr std::string_view kPrefix = "urn:oid:";
  if (!startsWith(s, kPrefix)) return false;
  size_t p = kPrefix.size(), n = s.size();
  if (p >= n || s[p] < '0' || s[p] > '2') return false;
  ++p;
  int arcs = 0;
  while (p < n) {
    if (s[p] != '.') return false;
    ++p;
    if (p >= n || !isDigit(s[p])) return false;
    if (s[p] == '0') {
      ++p;
    } else {
      while (p < n && isDigit(s[p])) ++p;
    }
    ++arcs;
  }
  return arcs >= 1;
}

bool isValidUuid(std::string_view s) {
  static constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.size() != kPrefix.size() + 36 || !startsWith(s, kPrefix)) return false;
  std::string_view u = s.substr(kPrefix.size());
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (u[i] != '-') return false;
    } else if (!isLowerHex(u[i])) {
      return false;
    }
  }
  return true;
}

bool isValidBase64(std::string_view s) {
  size_t count = 0, padding = 0;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    bool alpha =
        isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '/';
    if (c == '=') {
      if (++padding > 2) return false;
    } else if (!alpha || padding > 0) {
      return false;  // not base64, or data after the padding
    }
    ++count;
  }
  return count > 0 && count % 4 == 0;
}

bool isValidCode(std::string_view s) {
  if (s.empty() || isSpace(s.front()) || isSpace(s.back())) return false;
  for (size_t i = 1; i < s.size(); ++i)
    if (isSpace(s[i]) && isSpace(s[i - 1])) return false;
  return noControl(s);
}

bool isValidUri(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (isSpace(c) || isControl(c)) return false;
  return true;
}

const char* checkText(Primitive p, std::string_view s) {
  if (s.empty()) return "empty value";
  switch (p) {
    case Primitive::kUnknown:
      return "unknown primitive type";
    case Primitive::kBoolean:
      return s == "true" || s == "false" ? nullptr : "not a boolean";
    case Primitive::kInteger: {
      if (isValidInteger(s)) return nullptr;
      std::string_view digitsOnly = s[0] == '-' ? s.substr(1) : s;
      bool syntax = !digitsOnly.empty() && digitsOnly[0] != '0';
      for (char c : digitsOnly) syntax = syntax && isDigit(c);
      return syntax ? "integer outside the 32-bit range" : "not an integer";
    }
    case Primitive::kPositiveInt:
      return isValidPositiveInt(s) ? nullptr : "not a positive integer (1..2147483647)";
    case Primitive::kUnsignedInt:
      return isValidUnsignedInt(s) ? nullptr : "not an unsigned integer (0..2147483647)";
    case Primitive::kDecimal:
      return isValidDecimal(s) ? nullptr : "not a decimal";
    case Primitive::kString:
    case Primitive::kMarkdown:
      return noControl(s) ? nullptr : "contains control characters";
    case Primitive::kCode:
      if (!noControl(s)) return "contains control characters";
      return isValidCode(s) ? nullptr : "code has leading/trailing or repeated whitespace";
    case Primitive::kId:
      return isValidId(s) ? nullptr : "not an id ([A-Za-z0-9-.]{1,64})";
    case Primitive::kUri:
    case Primitive::kUrl:
    case Primitive::kCanonical:
      return isValidUri(s) ? nullptr : "contains whitespace or control characters";
    case Primitive::kOid:
      return isValidOid(s) ? nullptr : "not an oid (urn:oid:...)";
    case Primitive::kUuid:
      return isValidUuid(s) ? nullptr : "not a uuid (urn:uuid: + lower-case 8-4-4-4-12 hex)";
    case Primitive::kBase64Binary:
      return isValidBase64(s) ? nullptr : "not base64";
    case Primitive::kDate:
      return isValidDate(s) ? nullptr : "not a date (YYYY, YYYY-MM or YYYY-MM-DD)";
    case Primitive::kDateTime:
      return isValidDateTime(s)
                 ? nullptr
                 : "not a dateTime (a date, or YYYY-MM-DDThh:mm:ss[.f] with a timezone)";
    case Primitive::kInstant:
      return isValidInstant(s) ? nullptr
                               : "not an instant (YYYY-MM-DDThh:mm:ss[.f] with a timezone)";
    case Primitive::kTime:
      return isValidTime(s) ? nullptr : "not a time (hh:mm:ss[.f])";
    case Primitive::kXhtml: {
      if (!noControl(s)) return "contains control characters";
      size_t b = 0, e = s.size();
      while (b < e && isSpace(s[b])) ++b;
      while (e > b && isSpace(s[e - 1])) --e;
      std::string_view t = s.substr(b, e - b);
      if (!startsWith(t, "<div") || t.size() < 5 || !(isSpace(t[4]) || t[4] == '>' || t[4] == '/'))
        return "xhtml must be a <div> element";
      if (!(t.size() >= 10 && t.compare(t.size() - 6, 6, "</div>") == 0) &&
          !(t.size() >= 6 && t.compare(t.size() - 2, 2, "/>") == 0 && t.find('>') == t.size() - 1))
        return "xhtml <div> is not closed";
      return nullptr;
    }
  }
  return "unknown primitive type";
}

namespace {

// Elements R4 allows in narrative (txt-1: HTML 4 formatting elements, a, img, tables, lists).
bool allowedXhtmlElement(std::string_view name) {
  static constexpr std::string_view kAllowed[] = {
      "a",   "abbr",    "acronym", "address", "area", "b",        "bdo",  "big",    "blockquote",
      "br",  "caption", "cite",    "code",    "col",  "colgroup", "dd",   "del",    "dfn",
      "div", "dl",      "dt",      "em",      "h1",   "h2",       "h3",   "h4",     "h5",
      "h6",  "hr",      "i",       "img",     "ins",  "kbd",      "li",   "map",    "ol",
      "p",   "pre",     "q",       "s",       "samp", "small",    "span", "strike", "strong",
      "sub", "sup",     "table",   "tbody",   "td",   "tfoot",    "th",   "thead",  "tr",
      "tt",  "u",       "ul",      "var"};
  for (std::string_view a : kAllowed)
    if (equalsLower(name, a)) return true;
  return false;
}

// Lower-cased start of an attribute value with character references decoded and whitespace
// and control characters dropped, enough to recognise a "javascript:"-style scheme.
size_t normalisedPrefix(std::string_view v, char* out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < v.size() && n < cap;) {
    char c = v[i];
    if (c == '&') {
      size_t semi = v.find(';', i);
      if (semi == std::string_view::npos || semi - i > 12) {
        out[n++] = '&';
        ++i;
        continue;
      }
      std::string_view ref = v.substr(i + 1, semi - i - 1);
      i = semi + 1;
      uint32_t code = 0;
      if (!ref.empty() && ref[0] == '#') {
        bool hex = ref.size() > 1 && (ref[1] == 'x' || ref[1] == 'X');
        for (size_t k = hex ? 2 : 1; k < ref.size(); ++k) {
          char d = lower(ref[k]);
          uint32_t digit;
          if (isDigit(d)) {
            digit = static_cast<uint32_t>(d - '0');
          } else if (hex && d >= 'a' && d <= 'f') {
            digit = static_cast<uint32_t>(d - 'a' + 10);
          } else {
            break;
          }
          code = code * (hex ? 16 : 10) + digit;
          if (code > 0x10ffff) break;
        }
      } else if (equalsLower(ref, "colon")) {
        code = ':';
      } else if (equalsLower(ref, "tab") || equalsLower(ref, "newline")) {
        code = ' ';
      } else {
        code = '&';
      }
      if (code > 0x20 && code < 0x7f) out[n++] = lower(static_cast<char>(code));
      continue;
    }
    if (!isSpace(c) && !isControl(c)) out[n++] = lower(c);
    ++i;
  }
  return n;
}

bool dangerousUrl(std::string_view value, bool forbidData) {
  char buf[16];
  size_t n = normalisedPrefix(value, buf, sizeof(buf));
  std::string_view p(buf, n);
  return startsWith(p, "javascript:") || startsWith(p, "vbscript:") ||
         startsWith(p, "livescript:") || (forbidData && startsWith(p, "data:"));
}

inline bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '-' || c == '_' ||
         c == ':' || c == '.';
}

}  // namespace

const char* checkXhtmlSafety(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    size_t lt = s.find('<', i);
    if (lt == std::string_view::npos) break;
    i = lt + 1;
    if (i >= n) return "unterminated tag";
    if (s.compare(i, 3, "!--") == 0) {
      size_t end = s.find("-->", i + 3);
      if (end == std::string_view::npos) return "unterminated comment";
      i = end + 3;
      continue;
    }
    if (s[i] == '!' || s[i] == '?') return "markup declarations and processing instructions";
    bool closing = s[i] == '/';
    if (closing) ++i;
    size_t nameStart = i;
    while (i < n && isNameChar(s[i])) ++i;
    std::string_view name = s.substr(nameStart, i - nameStart);
    if (size_t colon = name.rfind(':'); colon != std::string_view::npos)
      name = name.substr(colon + 1);
    if (name.empty()) return "malformed tag";
    if (!allowedXhtmlElement(name)) return "element not allowed in narrative";
    if (closing) {
      size_t gt = s.find('>', i);
      if (gt == std::string_view::npos) return "unterminated tag";
      i = gt + 1;
      continue;
    }
    // Attributes up to '>' or '/>'.
    while (true) {
      while (i < n && isSpace(s[i])) ++i;
      if (i >= n) return "unterminated tag";
      if (s[i] == '>') {
        ++i;
        break;
      }
      if (s[i] == '/') {
        ++i;
        continue;
      }
      size_t an = i;
      while (i < n && isNameChar(s[i])) ++i;
      std::string_view attr = s.substr(an, i - an);
      if (attr.empty()) return "malformed attribute";
      if (attr.size() >= 2 && lower(attr[0]) == 'o' && lower(attr[1]) == 'n')
        return "event handler attribute not allowed in narrative";
      while (i < n && isSpace(s[i])) ++i;
      std::string_view value;
      if (i < n && s[i] == '=') {
        ++i;
        while (i < n && isSpace(s[i])) ++i;
        if (i >= n) return "unterminated tag";
        if (s[i] == '"' || s[i] == '\'') {
          char q = s[i++];
          size_t end = s.find(q, i);
          if (end == std::string_view::npos) return "unterminated attribute value";
          value = s.substr(i, end - i);
          i = end + 1;
        } else {
          size_t vs = i;
          while (i < n && !isSpace(s[i]) && s[i] != '>') ++i;
          value = s.substr(vs, i - vs);
        }
      }
      if (size_t colon = attr.rfind(':'); colon != std::string_view::npos)
        attr = attr.substr(colon + 1);
      bool isHref = equalsLower(attr, "href") || equalsLower(attr, "action");
      bool isSrc = equalsLower(attr, "src") || equalsLower(attr, "longdesc") ||
                   equalsLower(attr, "usemap") || equalsLower(attr, "cite");
      if ((isHref || isSrc) && dangerousUrl(value, isHref))
        return "script URL not allowed in narrative";
      if (equalsLower(attr, "style")) {
        char buf[16];
        // Old engines ran script from CSS: reject expression() and script URLs in styles.
        for (size_t k = 0; k + 1 < value.size(); ++k) {
          if (lower(value[k]) == 'e' || lower(value[k]) == 'j' || lower(value[k]) == 'v') {
            size_t m = normalisedPrefix(value.substr(k), buf, sizeof(buf));
            std::string_view p(buf, m);
            if (startsWith(p, "expression(") || startsWith(p, "javascript:") ||
                startsWith(p, "vbscript:"))
              return "script in style attribute not allowed in narrative";
          }
        }
      }
    }
  }
  return nullptr;
}

}  // namespace acp::model::primitives
