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

}  // namespace

void JsonLogFormatter::format(const Poco::Message& msg, std::string& text) {
  json::Value line = json::Value::makeObject();
  line.set("time", json::Value::makeString(Poco::DateTimeFormatter::format(
                       msg.getTime(), "%Y-%m-%dT%H:%M:%S.%iZ")));
  line.set("level", json::Value::makeString(levelName(msg.getPriority())));
  line.set("logger", json::Value::makeString(msg.getSource()));
  line.set("message", json::Value::makeString(msg.getText()));
  for (const char* name : kTextFields)
    if (msg.has(name)) line.set(name, json::Value::makeString(msg.get(name)));
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
