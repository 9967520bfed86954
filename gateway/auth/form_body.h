// application/x-www-form-urlencoded bodies (the token request, RFC 6749 §4.4.2 / Appendix B),
// parsed strictly: '&'-separated name=value pairs, '+' for space, %XX escapes; a bad escape,
// a NUL, invalid UTF-8, an empty name, a parameter given twice (RFC 6749 §3.2) or a body
// over maxBytes is an error. A parameter with an empty value counts as absent (§3.2) — it
// is dropped — but still counts for the "given twice" rule.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace acp::auth {

struct FormBody {
  bool ok = false;
  std::string error;  // why not, a fixed text (never the body's content)
  std::map<std::string, std::string> params;

  // The value, "" when absent.
  const std::string& get(const std::string& name) const;
};

FormBody parseFormBody(std::string_view body, size_t maxBytes = 64 * 1024);

// Whether a Content-Type value is application/x-www-form-urlencoded (case-insensitive, with
// optional parameters; a charset other than UTF-8 is refused).
bool isFormContentType(std::string_view contentType);

}  // namespace acp::auth
