#include "gateway/hl7v2/parser.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/escape.h"
#include "gateway/hl7v2/message_data.h"
#include "gateway/hl7v2/split.h"

namespace acp::hl7v2 {
namespace {

constexpr size_t kHeaderValueCap = 199;    // bytes kept of each Header value
constexpr size_t kSalvageLineCap = 65536;  // bytes of the MSH line read for an oversize message
constexpr size_t kQuoteCap = 24;           // bytes of input quoted in an error message
constexpr size_t kMaxStorableBytes = std::numeric_limits<uint32_t>::max() - 1;

enum ByteClass : uint8_t { kNormal, kFieldSep, kLineEnd, kEscape, kControl, kHigh };

bool isLineEnd(char c) { return c == '\r' || c == '\n'; }

bool isSegmentId(std::string_view id) {
  if (id.size() != 3) return false;
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return upper(id[0]) && (upper(id[1]) || digit(id[1])) && (upper(id[2]) || digit(id[2]));
}

std::string quote(std::string_view s) {
  std::string out;
  appendSanitized(s, out, kQuoteCap);
  if (out.size() < s.size()) out += "...";
  return out;
}

std::string hexByte(unsigned char c) {
  static const char kHex[] = "0123456789ABCDEF";
  return std::string("0x") + kHex[c >> 4] + kHex[c & 0xF];
}

class Parser {
 public:
  Parser(const ParseOptions& options, ParseResult& result) : opt_(options), r_(result) {}

  // Over the size limit: adds the error, reads what it can of the MSH line so the AR can
  // still be addressed, and returns true. Nothing is copied.
  bool refuseIfOversize(std::string_view bytes) {
    const size_t limit = std::min(opt_.maxMessageBytes, kMaxStorableBytes);
    if (bytes.size() <= limit) return false;
    addError(ErrorCode::kSegmentSequenceError, {}, 0, 0, 0,
             "message is " + std::to_string(bytes.size()) + " bytes; the limit is " +
                 std::to_string(limit));
    std::string_view head = bytes.substr(0, kSalvageLineCap);
    size_t start = firstLine(head);
    if (start < head.size() && head.substr(start, 3) == "MSH") {
      readMsh(lineAt(head, start), /*report=*/false);
    }
    return true;
  }

  void run(std::string&& bytes) {
    if (refuseIfOversize(bytes)) return;
    data_ = std::make_shared<detail::MessageData>();
    data_->bytes = std::move(bytes);
    std::string& b = data_->bytes;
    if (b.size() >= 3 && b.compare(0, 3, "\xEF\xBB\xBF") == 0) b.erase(0, 3);
    buf_ = b;

    size_t start = firstLine(buf_);
    if (start >= buf_.size()) {
      addError(ErrorCode::kSegmentSequenceError, {}, 0, 0, 0, "message is empty");
      return;
    }
    std::string_view msh = lineAt(buf_, start);
    if (msh.substr(0, 3) != "MSH") {
      addError(ErrorCode::kSegmentSequenceError, {}, 0, 0, 0,
               "message must start with an MSH segment; it starts with '" +
                   quote(msh.substr(0, 3)) + "'");
      return;
    }
    if (!readMsh(msh, /*report=*/true)) return;
    if (!readSegments(start)) return;
    data_->header = r_.header;
    r_.message = Message(std::move(data_));
  }

 private:
  struct Where {
    std::string_view segmentId;
    int sequence = 0;
    int position = 0;
  };

  void addError(ErrorCode code, const Where& w, int field, int component, int repetition,
                std::string message, Severity severity = Severity::kError, int subcomponent = 0) {
    Error e;
    e.severity = severity;
    e.code = code;
    e.segmentId = std::string(w.segmentId);
    e.segmentSequence = w.sequence;
    e.segmentPosition = w.position;
    e.field = field;
    e.repetition = repetition;
    e.component = component;
    e.subcomponent = subcomponent;
    e.message = std::move(message);
    r_.errors.add(std::move(e));
  }

  // Offset of the first line that is not blank; s.size() when there is none.
  static size_t firstLine(std::string_view s) {
    size_t pos = 0;
    while (pos < s.size()) {
      size_t k = pos;
      while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
      if (k < s.size() && !isLineEnd(s[k])) return pos;
      pos = k;
      while (pos < s.size() && isLineEnd(s[pos])) ++pos;
    }
    return s.size();
  }

  static std::string_view lineAt(std::string_view s, size_t start) {
    size_t end = start;
    while (end < s.size() && !isLineEnd(s[end])) ++end;
    return s.substr(start, end - start);
  }

  // Reads MSH-1, MSH-2, the character set and the Header from the MSH line. Returns false
  // when the message cannot go on. With report=false nothing is added to the errors.
  bool readMsh(std::string_view line, bool report) {
    const Where msh{"MSH", 1, 1};
    if (line.size() < 4) {
      if (report) {
        addError(ErrorCode::kRequiredFieldMissing, msh, 1, 0, 0,
                 "MSH segment is truncated: no field separator (MSH-1)");
      }
      return false;
    }
    const char sep = line[3];
    if (!Delimiters::isAllowed(sep)) {
      if (report) {
        addError(ErrorCode::kDataTypeError, msh, 1, 0, 0,
                 "MSH-1 (field separator) must be a printable ASCII punctuation character");
      }
      return false;
    }
    // Raw MSH fields: [0] "MSH", [1] the separator, [2] MSH-2, ...; up to MSH-18 is enough.
    std::array<std::string_view, 19> f{};
    f[0] = line.substr(0, 3);
    f[1] = line.substr(3, 1);
    size_t count = 2;
    {
      size_t p = 4;
      while (count < f.size()) {
        size_t q = line.find(sep, p);
        f[count++] = line.substr(p, q == std::string_view::npos ? std::string_view::npos : q - p);
        if (q == std::string_view::npos) break;
        p = q + 1;
      }
    }
    bool ok = true;
    Delimiters d;
    d.field = sep;
    Result<Delimiters> declared = Delimiters::fromMsh(sep, f[2]);
    if (declared.isOk()) {
      d = declared.value();
    } else {
      ok = false;
      if (report) {
        std::string m = declared.status().message();
        if (!f[2].empty()) m += " ('" + quote(f[2]) + "')";
        addError(ErrorCode::kDataTypeError, msh, 2, 0, 0, std::move(m));
      }
    }
    // Decoded like the other header values: a sender whose delimiters include a character of
    // the set's name ("-" as repetition separator) can only send it escaped, and our ACK
    // escapes it so (found by tests/fuzz/hl7v2_fuzz.cc: the ACK's own MSH-18 was unreadable).
    const std::string cs18 = decode(detail::navigate(f[18], d, 1, 1, 0), d, Charset::kAscii);
    Result<Charset> cs = charsetFromName(cs18);
    if (!cs.isOk()) {
      ok = false;
      if (report) {
        addError(ErrorCode::kTableValueNotFound, msh, 18, 0, 0, cs.status().message());
      }
    }
    const Charset charset = cs.isOk() ? cs.value() : Charset::kLatin1;

    Header& h = r_.header;
    h.delimiters = declared.isOk() ? d : Delimiters();
    auto value = [&](int field, int component) {
      std::string decoded = decode(detail::navigate(f[field], d, 1, component, 1), d, charset);
      std::string out;
      appendSanitized(decoded, out, kHeaderValueCap);
      return out;
    };
    auto hd = [&](int field) {
      return HierarchicDesignator{value(field, 1), value(field, 2), value(field, 3)};
    };
    h.sendingApplication = hd(3);
    h.sendingFacility = hd(4);
    h.receivingApplication = hd(5);
    h.receivingFacility = hd(6);
    h.messageTime = value(7, 1);
    h.messageType = value(9, 1);
    h.triggerEvent = value(9, 2);
    h.messageStructure = value(9, 3);
    h.controlId = value(10, 1);
    h.processingId = value(11, 1);
    h.processingMode = value(11, 2);
    h.version = value(12, 1);
    h.acceptAckType = value(15, 1);
    h.applicationAckType = value(16, 1);
    h.charset.clear();
    {
      std::string_view t = cs18;
      while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
      while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
      appendSanitized(t, h.charset, kHeaderValueCap);
    }
    r_.headerRead = true;

    struct Required {
      int field;
      int component;
      const std::string* value;
      const char* name;
    };
    const Required required[] = {
        {9, 1, &h.messageType, "MSH-9 (message type)"},
        {10, 0, &h.controlId, "MSH-10 (message control id)"},
        {11, 0, &h.processingId, "MSH-11 (processing id)"},
        {12, 0, &h.version, "MSH-12 (version id)"},
    };
    for (const Required& q : required) {
      if (q.value->empty()) {
        ok = false;
        if (report) {
          addError(ErrorCode::kRequiredFieldMissing, msh, q.field, q.component, 0,
                   std::string(q.name) + " is required");
        }
      }
    }
    if (ok && data_) {
      data_->delimiters = d;
      data_->charset = charset;
    }
    return ok;
  }

  uint32_t nextSequence(std::string_view id) {
    uint32_t key = (static_cast<uint32_t>(static_cast<unsigned char>(id[0])) << 16) |
                   (static_cast<uint32_t>(static_cast<unsigned char>(id[1])) << 8) |
                   static_cast<uint32_t>(static_cast<unsigned char>(id[2]));
    if (!bigCounts_.empty()) return ++bigCounts_[key];
    for (auto& entry : smallCounts_) {
      if (entry.first == key) return ++entry.second;
    }
    if (smallCounts_.size() < 32) {
      smallCounts_.emplace_back(key, 1);
      return 1;
    }
    for (const auto& entry : smallCounts_) bigCounts_[entry.first] = entry.second;
    return ++bigCounts_[key];
  }

  void warn(const Where& w, int field, std::string_view raw, const EscapeProblem& p) {
    if (warnings_ >= opt_.maxWarnings) {
      if (!warningsCapped_) {
        warningsCapped_ = true;
        addError(
            ErrorCode::kDataTypeError, {}, 0, 0, 0,
            "more than " + std::to_string(opt_.maxWarnings) + " warnings; the rest are not listed",
            Severity::kWarning);
      }
      return;
    }
    ++warnings_;
    const Delimiters& d = data_->delimiters;
    int rep = 1, comp = 1, sub = 1;
    for (size_t k = 0; k < p.offset; ++k) {
      char c = raw[k];
      if (c == d.repetition) {
        ++rep;
        comp = 1;
        sub = 1;
      } else if (c == d.component) {
        ++comp;
        sub = 1;
      } else if (c == d.subcomponent) {
        ++sub;
      }
    }
    addError(
        ErrorCode::kDataTypeError, w, field, comp, rep,
        std::string(p.reason) + " '" + quote(raw.substr(p.offset, p.length)) + "' kept as text",
        Severity::kWarning, sub);
  }

  // Splits every segment from `start` on; false on the first error.
  bool readSegments(size_t start) {
    detail::MessageData& m = *data_;
    const Delimiters& d = m.delimiters;
    std::array<uint8_t, 256> cls{};
    for (int c = 0; c < 0x20; ++c) cls[c] = kControl;
    for (int c = 0x80; c < 0x100; ++c) cls[c] = kHigh;
    cls['\t'] = kNormal;
    cls['\r'] = kLineEnd;
    cls['\n'] = kLineEnd;
    cls[static_cast<unsigned char>(d.field)] = kFieldSep;
    cls[static_cast<unsigned char>(d.escape)] = kEscape;

    const char* b = buf_.data();
    const size_t n = buf_.size();
    m.segments.reserve(16);
    m.fields.reserve(128);
    std::vector<EscapeProblem> problems;
    size_t pos = start;
    while (pos < n) {
      if (isLineEnd(b[pos])) {
        ++pos;
        continue;
      }
      const size_t lineStart = pos;
      const int position = static_cast<int>(m.segments.size()) + 1;
      if (b[pos] == ' ' || b[pos] == '\t') {
        size_t k = pos;
        while (k < n && (b[k] == ' ' || b[k] == '\t')) ++k;
        if (k == n || isLineEnd(b[k])) {
          pos = k;
          continue;
        }
      }
      if (m.segments.size() >= opt_.maxSegments) {
        addError(ErrorCode::kSegmentSequenceError, {}, 0, 0, 0,
                 "message has more than " + std::to_string(opt_.maxSegments) + " segments");
        return false;
      }
      std::string_view id = buf_.substr(pos, 3);
      bool idEnds = pos + 3 >= n || b[pos + 3] == d.field || isLineEnd(b[pos + 3]);
      if (!isSegmentId(id) || !idEnds) {
        std::string_view shown = lineAt(buf_, pos).substr(0, 8);
        addError(ErrorCode::kSegmentSequenceError, Where{{}, 0, position}, 0, 0, 0,
                 "segment " + std::to_string(position) + " does not start with a segment id " +
                     "(three characters A-Z 0-9 and a field separator): '" + quote(shown) + "'");
        return false;
      }
      if (position > 1 &&
          (id == "MSH" || id == "FHS" || id == "BHS" || id == "BTS" || id == "FTS")) {
        addError(ErrorCode::kSegmentSequenceError, Where{id, 0, position}, 0, 0, 0,
                 std::string(id) + " segment at position " + std::to_string(position) +
                     ": one message per frame, batches are not supported");
        return false;
      }
      const Where where{id, static_cast<int>(nextSequence(id)), position};
      detail::SegmentData seg;
      seg.firstField = static_cast<uint32_t>(m.fields.size());
      seg.sequence = static_cast<uint32_t>(where.sequence);
      m.fields.push_back({static_cast<uint32_t>(pos), 3});
      size_t i = pos + 3;
      int fieldNo = 0;
      bool more = false;
      if (position == 1) {  // MSH-1 is the separator itself; MSH-2 starts after it
        m.fields.push_back({static_cast<uint32_t>(i), 1});
        fieldNo = 1;
        i += 1;
        more = true;
      } else if (i < n && b[i] == d.field) {
        ++i;
        more = true;
      }
      while (more) {
        ++fieldNo;
        if (static_cast<size_t>(fieldNo) > opt_.maxFieldsPerSegment) {
          addError(ErrorCode::kDataTypeError, where, fieldNo, 0, 0,
                   "segment has more than " + std::to_string(opt_.maxFieldsPerSegment) + " fields");
          return false;
        }
        const size_t fieldStart = i;
        bool escape = false, high = false;
        for (; i < n; ++i) {
          uint8_t k = cls[static_cast<unsigned char>(b[i])];
          if (k == kNormal) continue;
          if (k == kFieldSep || k == kLineEnd) break;
          if (k == kEscape) {
            escape = true;
          } else if (k == kHigh) {
            high = true;
          } else {
            addError(
                ErrorCode::kDataTypeError, where, fieldNo, 0, 0,
                "control character " + hexByte(static_cast<unsigned char>(b[i])) + " in the field");
            return false;
          }
        }
        const size_t len = i - fieldStart;
        std::string_view raw = buf_.substr(fieldStart, len);
        if (len > opt_.maxFieldBytes) {
          addError(ErrorCode::kDataTypeError, where, fieldNo, 0, 0,
                   "field is " + std::to_string(len) + " bytes; the limit is " +
                       std::to_string(opt_.maxFieldBytes));
          return false;
        }
        if (high && m.charset != Charset::kLatin1) {
          size_t bad = 0;
          bool valid = true;
          if (m.charset == Charset::kUtf8) {
            valid = isValidUtf8(raw, &bad);
          } else {
            for (bad = 0; bad < len && static_cast<unsigned char>(raw[bad]) < 0x80; ++bad) {
            }
            valid = bad == len;
          }
          if (!valid) {
            addError(ErrorCode::kDataTypeError, where, fieldNo, 0, 0,
                     std::string(m.charset == Charset::kUtf8 ? "invalid UTF-8" : "non-ASCII byte") +
                         " (byte " + hexByte(static_cast<unsigned char>(raw[bad])) + " at offset " +
                         std::to_string(bad) + " of the field) under MSH-18 '" +
                         std::string(charsetName(m.charset)) + "'");
            return false;
          }
        }
        m.fields.push_back({static_cast<uint32_t>(fieldStart), static_cast<uint32_t>(len)});
        if (escape && !(position == 1 && fieldNo == 2)) {
          problems.clear();
          if (findEscapeProblems(raw, d, m.charset, problems) > 0) {
            for (const EscapeProblem& p : problems) warn(where, fieldNo, raw, p);
          }
        }
        more = i < n && b[i] == d.field;
        if (more) ++i;
      }
      seg.line = {static_cast<uint32_t>(lineStart), static_cast<uint32_t>(i - lineStart)};
      seg.fieldCount = static_cast<uint32_t>(m.fields.size()) - seg.firstField;
      m.segments.push_back(seg);
      pos = i;
    }
    return true;
  }

  const ParseOptions& opt_;
  ParseResult& r_;
  std::shared_ptr<detail::MessageData> data_;
  std::string_view buf_;
  std::vector<std::pair<uint32_t, uint32_t>> smallCounts_;
  std::unordered_map<uint32_t, uint32_t> bigCounts_;
  size_t warnings_ = 0;
  bool warningsCapped_ = false;
};

ParseResult internalError() {
  ParseResult r;
  Error e;
  e.code = ErrorCode::kApplicationInternalError;
  e.message = "internal error while parsing the message";
  r.errors.add(std::move(e));
  return r;
}

}  // namespace

ParseResult parse(std::string&& bytes, const ParseOptions& options) {
  try {
    ParseResult result;
    Parser(options, result).run(std::move(bytes));
    return result;
  } catch (const std::exception&) {  // out of memory; nothing else throws
    return internalError();
  }
}

ParseResult parse(std::string_view bytes, const ParseOptions& options) {
  try {
    ParseResult result;
    if (Parser(options, result).refuseIfOversize(bytes)) return result;
    return parse(std::string(bytes), options);
  } catch (const std::exception&) {
    return internalError();
  }
}

}  // namespace acp::hl7v2
