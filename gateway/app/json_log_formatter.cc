#include "gateway/app/json_log_formatter.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>

#include <cctype>

#include "gateway/core/json.h"

namespace acp::app {

namespace {

const char* levelName(Poco::Message::Priority p) {
  switch (p) {
    case Poco::Message::PRIO_FATAL: return "fatal";
    case Poco::Message::PRIO_CRITICAL: return "critical";
    case Poco::Message::PRIO_ERROR: return "error";
    case Poco::Message::PRIO_WARNING: return "warning";
    case Poco::Message::PRIO_NOTICE: return "notice";
    case Poco::Message::PRIO_INFORMATION: return "information";
    case Poco::Message::PRIO_DEBUG: return "debug";
    default: return "trace";
  }
}

// The structured fields a source may set on a message (text values), and those that are numbers.
constexpr const char* kTextFields[] = {"requestId", "method", "route", "org"};
constexpr const char* kNumberFields[] = {"status", "ms"};

// Text with every byte sequence that is not UTF-8 replaced by U+FFFD, so the line is valid JSON
// whatever a message quotes (a path, a library's error text).
std::string validUtf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size() && !(n == 2 && c < 0xC2) && !(c > 0xF4);
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && n == 3) {
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d >= 0xA0);
    }
    if (ok && n == 4) {
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d >= 0x90);
    }
    if (!ok) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(s, i, n);
    i += n;
  }
  return out;
}

}  // namespace

void JsonLogFormatter::format(const Poco::Message& msg, std::string& text) {
  json::Value line = json::Value::makeObject();
  line.set("time", json::Value::makeString(Poco::DateTimeFormatter::format(
                       msg.getTime(), "%Y-%m-%dT%H:%M:%S.%iZ")));
  line.set("level", json::Value::makeString(levelName(msg.getPriority())));
  line.set("logger", json::Value::makeString(msg.getSource()));
  line.set("message", json::Value::makeString(validUtf8(msg.getText())));
  for (const char* name : kTextFields)
    if (msg.has(name)) line.set(name, json::Value::makeString(validUtf8(msg.get(name))));
  for (const char* name : kNumberFields)
    if (msg.has(name)) {
      const std::string& v = msg.get(name);
      // JSON number text only (the sources write integers and "%.1f"): digits, one point.
      bool number = !v.empty() && std::isdigit(static_cast<unsigned char>(v[0])) &&
                    v.find_first_not_of("0123456789.") == std::string::npos &&
                    v.find('.') == v.rfind('.') && v.back() != '.';
      line.set(name, number ? json::Value::makeNumber(v) : json::Value::makeString(v));
    }
  text = json::write(line);
}

}  // namespace acp::app
