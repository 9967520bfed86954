#include "gateway/hl7v2/charset.h"

namespace acp::hl7v2 {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
size_t utf8SequenceLength(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  unsigned char c = p[i];
  if (c < 0x80) return 1;
  auto cont = [&](size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    unsigned char c1 = p[i + 1];
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    unsigned char c1 = p[i + 1];
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
}

}  // namespace

Result<Charset> charsetFromName(std::string_view name) {
  while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  if (name.empty() || equalsIgnoreCase(name, "8859/1")) return Charset::kLatin1;
  if (equalsIgnoreCase(name, "UNICODE UTF-8")) return Charset::kUtf8;
  if (equalsIgnoreCase(name, "ASCII")) return Charset::kAscii;
  std::string shown;
  appendSanitized(name, shown, 40);
  return Status::notSupported("character set '" + shown +
                              "' in MSH-18 is not supported (use UNICODE UTF-8 or 8859/1)");
}

std::string_view charsetName(Charset cs) {
  switch (cs) {
    case Charset::kLatin1:
      return "8859/1";
    case Charset::kUtf8:
      return "UNICODE UTF-8";
    case Charset::kAscii:
      return "ASCII";
  }
  return "8859/1";
}

bool isValidUtf8(std::string_view s, size_t* errorOffset) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    // Fast path: eight ASCII bytes at a time.
    while (i + 8 <= n) {
      bool ascii = true;
      for (size_t k = 0; k < 8; ++k) ascii &= static_cast<unsigned char>(s[i + k]) < 0x80;
      if (!ascii) break;
      i += 8;
    }
    if (i >= n) break;
    size_t len = utf8SequenceLength(s, i);
    if (len == 0) {
      if (errorOffset) *errorOffset = i;
      return false;
    }
    i += len;
  }
  return true;
}

bool isValidIn(std::string_view bytes, Charset cs) {
  switch (cs) {
    case Charset::kLatin1:
      return true;
    case Charset::kUtf8:
      return isValidUtf8(bytes);
    case Charset::kAscii:
      for (char c : bytes) {
        if (static_cast<unsigned char>(c) >= 0x80) return false;
      }
      return true;
  }
  return false;
}

void appendAsUtf8(std::string_view bytes, Charset cs, std::string& out) {
  if (cs != Charset::kLatin1) {
    out.append(bytes);
    return;
  }
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) continue;
    out.append(bytes.data() + start, i - start);
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
    start = i + 1;
  }
  out.append(bytes.data() + start, bytes.size() - start);
}

void appendUtf8AsLatin1(std::string_view utf8, std::string& out, char replacement) {
  size_t i = 0;
  while (i < utf8.size()) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    size_t len = utf8SequenceLength(utf8, i);
    if (len == 2) {
      unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3Fu);
      out += cp <= 0xFF ? static_cast<char>(cp) : replacement;
    } else {
      out += replacement;
    }
    i += len == 0 ? 1 : len;
  }
}

namespace {

void appendCleaned(std::string_view s, std::string& out, size_t maxBytes, bool keepControls) {
  size_t written = 0;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = utf8SequenceLength(s, i);
    bool bad = len == 0 || (!keepControls && ((c < 0x20 && c != '\t') || c == 0x7F));
    size_t outLen = bad ? 1 : len;
    if (written + outLen > maxBytes) break;
    if (bad) {
      out += '?';
    } else {
      out.append(s.data() + i, len);
    }
    written += outLen;
    i += len == 0 ? 1 : len;
  }
}

}  // namespace

void appendSanitized(std::string_view s, std::string& out, size_t maxBytes) {
  appendCleaned(s, out, maxBytes, false);
}

void appendValidUtf8(std::string_view s, std::string& out, size_t maxBytes) {
  appendCleaned(s, out, maxBytes, true);
}

}  // namespace acp::hl7v2
