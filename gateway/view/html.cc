#include "gateway/view/html.h"

#include <cctype>

namespace acp::view {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], 0 when it is not one.
size_t utf8Length(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  if (n == 2 && c < 0xC2) return 0;  // overlong
  if (n == 3) {
    unsigned char d = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d >= 0xA0)) return 0;  // overlong, surrogate
  }
  if (n == 4) {
    unsigned char d = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xF0 && d < 0x90) || c > 0xF4 || (c == 0xF4 && d >= 0x90)) return 0;
  }
  return n;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8Length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    char c = text[i++];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\t': case '\n': case '\r': out += c; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
          out += kReplacement;
        else
          out += c;
    }
  }
  return out;
}

std::string formatNhsNumber(std::string_view digits) {
  if (digits.size() != 10) return std::string(digits);
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::string(digits);
  return std::string(digits.substr(0, 3)) + " " + std::string(digits.substr(3, 3)) + " " +
         std::string(digits.substr(6));
}

std::string readableDate(std::string_view date) {
  static const char* const kMonths[] = {"January", "February", "March",     "April",
                                        "May",     "June",     "July",      "August",
                                        "September", "October", "November", "December"};
  auto digits = [&](size_t at, size_t n) {
    if (at + n > date.size()) return -1;
    int v = 0;
    for (size_t k = at; k < at + n; ++k) {
      if (!std::isdigit(static_cast<unsigned char>(date[k]))) return -1;
      v = v * 10 + (date[k] - '0');
    }
    return v;
  };
  int year = digits(0, 4);
  if (year < 0) return std::string(date);
  if (date.size() == 4) return std::string(date);
  int month = date.size() >= 7 && date[4] == '-' ? digits(5, 2) : -1;
  if (month < 1 || month > 12) return std::string(date);
  if (date.size() == 7) return std::string(kMonths[month - 1]) + " " + std::to_string(year);
  int day = date.size() >= 10 && date[7] == '-' ? digits(8, 2) : -1;
  if (day < 1 || day > 31) return std::string(date);
  std::string out = std::to_string(day) + " " + kMonths[month - 1] + " " + std::to_string(year);
  if (date.size() >= 16 && date[10] == 'T' && digits(11, 2) >= 0 && date[13] == ':' &&
      digits(14, 2) >= 0) {
    // The time as written, with its zone: a reader must not take UTC for UK clock time.
    out += ", " + std::string(date.substr(11, 5));
    size_t zone = date.find_first_of("Z+-", 16);
    if (zone != std::string_view::npos)
      out += date[zone] == 'Z' ? " UTC" : " (UTC" + std::string(date.substr(zone)) + ")";
  }
  return out;
}

}  // namespace acp::view
