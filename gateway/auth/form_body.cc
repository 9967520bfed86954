#include "gateway/auth/form_body.h"

#include <cstdint>
#include <set>

namespace acp::auth {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hexValue(in[i + 1]);
      int lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return true;
}

bool validUtf8NoNul(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::string& FormBody::get(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

FormBody parseFormBody(std::string_view body, size_t maxBytes) {
  FormBody f;
  if (body.size() > maxBytes) {
    f.error = "The request body is too large.";
    return f;
  }
  std::set<std::string> seen;
  size_t i = 0;
  while (i <= body.size()) {
    size_t end = body.find('&', i);
    if (end == std::string_view::npos) end = body.size();
    std::string_view pair = body.substr(i, end - i);
    i = end + 1;
    if (pair.empty()) {
      if (end == body.size()) break;
      continue;  // "a=1&&b=2": an empty pair is nothing
    }
    size_t eq = pair.find('=');
    std::string name, value;
    if (!decode(pair.substr(0, eq), name) ||
        (eq != std::string_view::npos && !decode(pair.substr(eq + 1), value))) {
      f.error = "The request body has a malformed percent-encoding.";
      return f;
    }
    if (name.empty()) {
      f.error = "The request body has a parameter without a name.";
      return f;
    }
    if (!validUtf8NoNul(name) || !validUtf8NoNul(value)) {
      f.error = "The request body is not valid UTF-8.";
      return f;
    }
    if (!seen.insert(name).second) {
      f.error = "A parameter is given more than once.";
      return f;
    }
    if (!value.empty()) f.params.emplace(std::move(name), std::move(value));
    if (end == body.size()) break;
  }
  f.ok = true;
  return f;
}

bool isFormContentType(std::string_view contentType) {
  size_t semi = contentType.find(';');
  if (lower(trim(contentType.substr(0, semi))) != "application/x-www-form-urlencoded") {
    return false;
  }
  while (semi != std::string_view::npos) {
    std::string_view rest = contentType.substr(semi + 1);
    size_t next = rest.find(';');
    std::string param = lower(trim(rest.substr(0, next)));
    if (param.rfind("charset=", 0) == 0) {
      std::string cs = param.substr(8);
      if (cs.size() >= 2 && cs.front() == '"' && cs.back() == '"') cs = cs.substr(1, cs.size() - 2);
      if (cs != "utf-8" && cs != "utf8" && cs != "us-ascii") return false;
    }
    semi = next == std::string_view::npos ? next : semi + 1 + next;
  }
  return true;
}

}  // namespace acp::auth
