#include "gateway/hl7v2/escape.h"

#include <cstring>

namespace acp::hl7v2 {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool isDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Optional spaces, an optional sign (when allowed), then digits (possibly none).
bool isFormatArgument(std::string_view s, bool signAllowed) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (!s.empty() && (s.front() == '+' || (signAllowed && s.front() == '-'))) s.remove_prefix(1);
  return isDigits(s);
}

enum class Kind { kText, kDrop, kHex, kLiteral };

struct Token {
  Kind kind = Kind::kLiteral;
  size_t length = 0;           // bytes of raw consumed, escape characters included
  std::string_view text;       // kText: what to append (already UTF-8)
  std::string_view hexDigits;  // kHex
  const char* reason = "";     // kLiteral
};

bool isDelimiter(char c, const Delimiters& d) {
  return c == d.field || c == d.component || c == d.repetition || c == d.subcomponent ||
         c == '\r' || c == '\n';
}

// Decodes hex digits (validated: even count, all hex) into bytes.
void hexToBytes(std::string_view digits, std::string& out) {
  for (size_t k = 0; k + 1 < digits.size(); k += 2) {
    out += static_cast<char>(hexValue(digits[k]) * 16 + hexValue(digits[k + 1]));
  }
}

// Checks a hex escape body (the digits after 'X'); returns "" when it is usable text.
const char* checkHex(std::string_view digits, Charset cs) {
  if (digits.empty() || digits.size() % 2 != 0) {
    return "hex escape needs an even number of hex digits";
  }
  for (char c : digits) {
    if (hexValue(c) < 0) return "hex escape holds a character that is not a hex digit";
  }
  char buffer[64];
  std::string heap;
  std::string_view bytes;
  size_t count = digits.size() / 2;
  if (count <= sizeof(buffer)) {
    for (size_t k = 0; k < count; ++k) {
      buffer[k] = static_cast<char>(hexValue(digits[2 * k]) * 16 + hexValue(digits[2 * k + 1]));
    }
    bytes = std::string_view(buffer, count);
  } else {
    hexToBytes(digits, heap);
    bytes = heap;
  }
  for (char c : bytes) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 && u != '\t' && u != '\r' && u != '\n') {
      return "hex escape decodes to a control character";
    }
  }
  if (!isValidIn(bytes, cs)) return "hex escape is not valid text in the message character set";
  return "";
}

// Reads the escape sequence at raw[i] (raw[i] == d.escape).
Token readEscape(std::string_view raw, size_t i, const Delimiters& d, Charset cs) {
  Token t;
  size_t j = i + 1;
  while (j < raw.size() && raw[j] != d.escape && !isDelimiter(raw[j], d)) ++j;
  if (j >= raw.size() || raw[j] != d.escape) {
    t.kind = Kind::kLiteral;
    t.length = j - i;
    t.reason = "unterminated escape sequence";
    return t;
  }
  std::string_view body = raw.substr(i + 1, j - i - 1);
  t.length = j - i + 1;
  if (body.size() == 1) {
    switch (body[0]) {
      case 'F':
        t.kind = Kind::kText;
        t.text = std::string_view(&d.field, 1);
        return t;
      case 'S':
        t.kind = Kind::kText;
        t.text = std::string_view(&d.component, 1);
        return t;
      case 'T':
        t.kind = Kind::kText;
        t.text = std::string_view(&d.subcomponent, 1);
        return t;
      case 'R':
        t.kind = Kind::kText;
        t.text = std::string_view(&d.repetition, 1);
        return t;
      case 'E':
        t.kind = Kind::kText;
        t.text = std::string_view(&d.escape, 1);
        return t;
      case 'P':
        if (d.truncation != '\0') {
          t.kind = Kind::kText;
          t.text = std::string_view(&d.truncation, 1);
          return t;
        }
        break;
      case 'H':
      case 'N':
        t.kind = Kind::kDrop;
        return t;
      default:
        break;
    }
    t.kind = Kind::kLiteral;
    t.reason = "unknown escape sequence";
    return t;
  }
  if (body.empty()) {
    t.kind = Kind::kLiteral;
    t.reason = "empty escape sequence";
    return t;
  }
  switch (body[0]) {
    case 'X': {
      const char* problem = checkHex(body.substr(1), cs);
      if (*problem != '\0') {
        t.kind = Kind::kLiteral;
        t.reason = problem;
      } else {
        t.kind = Kind::kHex;
        t.hexDigits = body.substr(1);
      }
      return t;
    }
    case '.': {
      std::string_view cmd = body.substr(1, 2);
      std::string_view arg = body.substr(cmd.size() + 1);
      if (cmd == "br" && arg.empty()) {
        t.kind = Kind::kText;
        t.text = "\n";
        return t;
      }
      if ((cmd == "sp" && isFormatArgument(arg, false)) || (cmd == "ce" && arg.empty())) {
        t.kind = Kind::kText;
        t.text = "\n";
        return t;
      }
      if (((cmd == "fi" || cmd == "nf") && arg.empty()) ||
          ((cmd == "in" || cmd == "ti") && isFormatArgument(arg, true)) ||
          (cmd == "sk" && isFormatArgument(arg, false))) {
        t.kind = Kind::kDrop;
        return t;
      }
      t.kind = Kind::kLiteral;
      t.reason = "unknown formatting escape sequence";
      return t;
    }
    case 'C':
    case 'M':
      t.kind = Kind::kLiteral;
      t.reason = "character set switching escape sequences are not supported";
      return t;
    case 'Z':
      t.kind = Kind::kLiteral;
      t.reason = "locally defined escape sequences are not supported";
      return t;
    default:
      t.kind = Kind::kLiteral;
      t.reason = "unknown escape sequence";
      return t;
  }
}

}  // namespace

void appendDecoded(std::string_view raw, const Delimiters& d, Charset cs, std::string& out) {
  size_t start = 0;
  while (true) {
    const void* hit = start < raw.size()
                          ? std::memchr(raw.data() + start, d.escape, raw.size() - start)
                          : nullptr;
    if (hit == nullptr) {
      appendAsUtf8(raw.substr(start), cs, out);
      return;
    }
    size_t i = static_cast<size_t>(static_cast<const char*>(hit) - raw.data());
    appendAsUtf8(raw.substr(start, i - start), cs, out);
    Token t = readEscape(raw, i, d, cs);
    switch (t.kind) {
      case Kind::kText:
        out.append(t.text);
        break;
      case Kind::kDrop:
        break;
      case Kind::kHex: {
        std::string bytes;
        hexToBytes(t.hexDigits, bytes);
        appendAsUtf8(bytes, cs, out);
        break;
      }
      case Kind::kLiteral:
        appendAsUtf8(raw.substr(i, t.length), cs, out);
        break;
    }
    start = i + t.length;
  }
}

std::string decode(std::string_view raw, const Delimiters& d, Charset cs) {
  std::string out;
  out.reserve(raw.size());
  appendDecoded(raw, d, cs, out);
  return out;
}

size_t findEscapeProblems(std::string_view raw, const Delimiters& d, Charset cs,
                          std::vector<EscapeProblem>& problems) {
  size_t found = 0;
  size_t start = 0;
  while (start < raw.size()) {
    const void* hit = std::memchr(raw.data() + start, d.escape, raw.size() - start);
    if (hit == nullptr) break;
    size_t i = static_cast<size_t>(static_cast<const char*>(hit) - raw.data());
    Token t = readEscape(raw, i, d, cs);
    if (t.kind == Kind::kLiteral) {
      problems.push_back({i, t.length, t.reason});
      ++found;
    }
    start = i + t.length;
  }
  return found;
}

void appendEscaped(std::string_view text, const Delimiters& d, std::string& out) {
  static const char kHex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    char code = '\0';
    if (c == d.field) {
      code = 'F';
    } else if (c == d.component) {
      code = 'S';
    } else if (c == d.subcomponent) {
      code = 'T';
    } else if (c == d.repetition) {
      code = 'R';
    } else if (c == d.escape) {
      code = 'E';
    } else if (d.truncation != '\0' && c == d.truncation) {
      code = 'P';
    }
    if (code != '\0') {
      out += d.escape;
      out += code;
      out += d.escape;
      continue;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += d.escape;
      out += ".br";
      out += d.escape;
    } else if ((u < 0x20 && c != '\t') || u == 0x7F) {
      out += d.escape;
      out += 'X';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
      out += d.escape;
    } else {
      out += c;
    }
  }
}

std::string escape(std::string_view text, const Delimiters& d) {
  std::string out;
  out.reserve(text.size() + 8);
  appendEscaped(text, d, out);
  return out;
}

}  // namespace acp::hl7v2
