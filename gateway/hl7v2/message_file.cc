#include "gateway/hl7v2/message_file.h"

#include <cctype>

namespace acp::hl7v2 {

namespace {

bool isEnvelope(std::string_view line) {
  if (line.size() < 3) return false;
  std::string_view id = line.substr(0, 3);
  return (id == "FHS" || id == "BHS" || id == "BTS" || id == "FTS") &&
         (line.size() == 3 || line[3] == '|' || !std::isalnum(static_cast<unsigned char>(line[3])));
}

bool isHeader(std::string_view line) {
  // "MSH" and its field separator (any character that is not a letter or digit).
  return line.size() >= 4 && line.substr(0, 3) == "MSH" &&
         !std::isalnum(static_cast<unsigned char>(line[3])) && line[3] != '\r' && line[3] != '\n';
}

// Every segment of a framed message ends with CR: an LF or CRLF ending becomes CR.
std::string withCrEndings(std::string_view m) {
  std::string out;
  out.reserve(m.size() + 1);
  for (size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (c == '\r' && i + 1 < m.size() && m[i + 1] == '\n') continue;  // CR of CRLF: the LF says it
    out += c == '\n' ? '\r' : c;
  }
  // Blank segments (empty lines) are dropped; the message ends with CR.
  std::string clean;
  clean.reserve(out.size() + 1);
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\r', start);
    if (end == std::string::npos) end = out.size();
    if (end > start) clean.append(out, start, end - start).push_back('\r');
    start = end + 1;
  }
  return clean;
}

}  // namespace

MessageFile splitMessageFile(std::string_view bytes) {
  MessageFile out;
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && bytes[first] == '\x0b') {
    size_t at = first;
    while (at < bytes.size()) {
      size_t start = bytes.find('\x0b', at);
      if (start == std::string_view::npos) {
        if (bytes.substr(at).find_first_not_of(" \t\r\n") != std::string_view::npos) ++out.strayLines;
        break;
      }
      if (bytes.substr(at, start - at).find_first_not_of(" \t\r\n") != std::string_view::npos)
        ++out.strayLines;
      size_t end = bytes.find_first_of("\x1c\x0b", start + 1);
      const bool terminated = end != std::string_view::npos && bytes[end] == '\x1c';
      if (end == std::string_view::npos) end = bytes.size();
      if (!terminated) ++out.unterminatedFrames;
      std::string m = withCrEndings(bytes.substr(start + 1, end - start - 1));
      if (!m.empty()) out.messages.push_back(std::move(m));
      if (!terminated) {
        at = end;  // the next frame starts here (or the file ends)
        continue;
      }
      at = end + 1;
      if (at < bytes.size() && bytes[at] == '\r') ++at;  // the frame's trailing CR
    }
    return out;
  }
  std::string current;
  size_t at = 0;
  while (at < bytes.size()) {
    size_t end = bytes.find_first_of("\r\n", at);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view line = bytes.substr(at, end - at);
    at = end + 1;
    size_t indent = line.find_first_not_of(" \t");
    if (indent != std::string_view::npos) line.remove_prefix(indent);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (isEnvelope(line)) continue;
    if (isHeader(line)) {
      if (!current.empty()) out.messages.push_back(std::move(current));
      current.clear();
    } else if (current.empty()) {
      ++out.strayLines;
      continue;
    }
    current.append(line.data(), line.size());
    current += '\r';
  }
  if (!current.empty()) out.messages.push_back(std::move(current));
  return out;
}

}  // namespace acp::hl7v2
