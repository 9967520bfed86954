#include "gateway/hl7v2/ack.h"

#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <vector>

#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/escape.h"

namespace acp::hl7v2 {
namespace {

constexpr size_t kMsaTextCap = 80;  // MSA-3 length in v2.4

// Joins already-escaped parts with `sep`, leaving out trailing empty parts.
std::string join(std::initializer_list<std::string> parts, char sep) {
  std::vector<const std::string*> v;
  for (const auto& p : parts) v.push_back(&p);
  size_t last = v.size();
  while (last > 0 && v[last - 1]->empty()) --last;
  std::string out;
  for (size_t i = 0; i < last; ++i) {
    if (i > 0) out += sep;
    out += *v[i];
  }
  return out;
}

std::string number(int n) { return n > 0 ? std::to_string(n) : std::string(); }

std::string severityLetter(Severity s) {
  switch (s) {
    case Severity::kFatal:
    case Severity::kError:
      return "E";
    case Severity::kWarning:
      return "W";
    case Severity::kInformation:
      return "I";
  }
  return "E";
}

class AckWriter {
 public:
  explicit AckWriter(const Delimiters& d) : d_(d) {}

  // Escaped text; invalid UTF-8 (from a caller's message) becomes '?'.
  std::string esc(std::string_view s) const {
    if (isValidUtf8(s)) return escape(s, d_);
    std::string clean;
    appendValidUtf8(s, clean, s.size());
    return escape(clean, d_);
  }

  std::string hd(const HierarchicDesignator& h) const {
    return join({esc(h.namespaceId), esc(h.universalId), esc(h.universalIdType)}, d_.component);
  }

  // Appends one segment (fields already escaped), trailing empty fields left out.
  void segment(std::string_view id, std::initializer_list<std::string> fields) {
    out_ += id;
    std::string joined = join(fields, d_.field);
    if (!joined.empty()) {
      out_ += d_.field;
      out_ += joined;
    }
    out_ += '\r';
  }

  void err(const Error& e) {
    const std::string code = std::to_string(static_cast<int>(e.code));
    const std::string text = esc(errorCodeText(e.code));
    std::string eld = join({esc(e.segmentId), number(e.segmentSequence), number(e.field),
                            join({code, text, "HL70357"}, d_.subcomponent)},
                           d_.component);
    std::string erl;
    if (!e.segmentId.empty()) {
      erl = join({esc(e.segmentId), number(e.segmentSequence), number(e.field),
                  number(e.repetition), number(e.component), number(e.subcomponent)},
                 d_.component);
    }
    std::string cwe = join({code, text, "HL70357"}, d_.component);
    segment("ERR", {eld, erl, cwe, severityLetter(e.severity), "", "", "", esc(e.message)});
  }

  std::string take() { return std::move(out_); }

 private:
  const Delimiters& d_;
  std::string out_;
};

bool hasHighBytes(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

std::string build(const Header* in, AckCode code, const ErrorList& errors, const AckOptions& o) {
  const Delimiters d = in ? in->delimiters : Delimiters();
  // Body first: MSA and ERR.
  AckWriter body(d);
  std::string msaText;
  if (code != AckCode::kAccept) {
    for (const Error& e : errors) {
      if (!e.isError()) continue;
      std::string cut;
      appendValidUtf8(e.message, cut, kMsaTextCap);
      msaText = body.esc(cut);
      break;
    }
  }
  body.segment("MSA", {std::string(ackCodeText(code)), in ? body.esc(in->controlId) : "", msaText});
  size_t written = 0;
  for (const Error& e : errors) {
    if (written == o.maxErrSegments) {
      Error more;
      more.severity = Severity::kInformation;
      more.code = ErrorCode::kApplicationInternalError;
      more.message = std::to_string(errors.size() - written) + " more errors not listed";
      body.err(more);
      break;
    }
    body.err(e);
    ++written;
  }
  std::string bodyText = body.take();

  // MSH.
  AckWriter msh(d);
  const std::string timestamp =
      o.timestamp.empty() ? formatTimestamp(std::chrono::system_clock::now()) : o.timestamp;
  std::string controlId = o.controlId;
  if (controlId.empty()) {
    controlId = "ACK-" + (in && !in->controlId.empty() ? in->controlId : timestamp);
  }
  HierarchicDesignator ourApp{o.sendingApplication, "", ""};
  HierarchicDesignator ourFacility{o.sendingFacility, "", ""};
  if (in && !in->receivingApplication.empty()) ourApp = in->receivingApplication;
  if (in && !in->receivingFacility.empty()) ourFacility = in->receivingFacility;
  std::string type = "ACK";
  if (in && !in->triggerEvent.empty()) {
    type = join({"ACK", msh.esc(in->triggerEvent), "ACK"}, d.component);
  }
  std::string processing = msh.esc(o.processingId);
  if (in && !in->processingId.empty()) {
    processing = join({msh.esc(in->processingId), msh.esc(in->processingMode)}, d.component);
  }
  const std::string version = msh.esc(in && !in->version.empty() ? in->version : o.version);
  const std::string theirApp = in ? msh.hd(in->sendingApplication) : "";
  const std::string theirFacility = in ? msh.hd(in->sendingFacility) : "";

  Charset inboundCharset = Charset::kUtf8;
  if (in) {
    Result<Charset> cs = charsetFromName(in->charset);
    if (cs.isOk()) inboundCharset = cs.value();
  }
  const bool nonAscii = hasHighBytes(bodyText) || hasHighBytes(controlId) ||
                        hasHighBytes(theirApp) || hasHighBytes(theirFacility) ||
                        hasHighBytes(msh.hd(ourApp)) || hasHighBytes(msh.hd(ourFacility)) ||
                        hasHighBytes(type) || hasHighBytes(processing) || hasHighBytes(version) ||
                        hasHighBytes(timestamp);
  const bool utf8Declared = nonAscii && inboundCharset == Charset::kUtf8;

  std::string encoding = d.encodingCharacters();
  // MSH-2 is written raw: it must not be escaped. The AckWriter adds MSH-1 (the separator).
  std::string out = "MSH";
  out += d.field;
  out += encoding;
  out += d.field;
  std::string rest =
      join({msh.hd(ourApp), msh.hd(ourFacility), theirApp, theirFacility, msh.esc(timestamp), "",
            type, msh.esc(controlId), processing, version, "", "", "", "", "",
            utf8Declared ? msh.esc("UNICODE UTF-8") : std::string()},
           d.field);
  out += rest;
  out += '\r';
  out += bodyText;

  if (nonAscii && inboundCharset != Charset::kUtf8) {
    std::string converted;
    converted.reserve(out.size());
    appendUtf8AsLatin1(out, converted);
    if (inboundCharset == Charset::kAscii) {
      for (char& c : converted) {
        if (static_cast<unsigned char>(c) >= 0x80) c = '?';
      }
    }
    return converted;
  }
  return out;
}

}  // namespace

std::string_view ackCodeText(AckCode code) {
  switch (code) {
    case AckCode::kAccept:
      return "AA";
    case AckCode::kError:
      return "AE";
    case AckCode::kReject:
      return "AR";
  }
  return "AR";
}

std::string formatTimestamp(std::chrono::system_clock::time_point time,
                            std::chrono::minutes utcOffset) {
  const auto shifted = std::chrono::floor<std::chrono::seconds>(time + utcOffset);
  const std::time_t t = std::chrono::system_clock::to_time_t(shifted);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

std::string buildAck(const Header& inbound, AckCode code, const ErrorList& errors,
                     const AckOptions& options) {
  return build(&inbound, code, errors, options);
}

std::string buildAckWithoutHeader(const ErrorList& errors, const AckOptions& options) {
  return build(nullptr, AckCode::kReject, errors, options);
}

std::string buildParseFailureAck(const ParseResult& result, const AckOptions& options) {
  if (result.headerRead) return buildAck(result.header, AckCode::kReject, result.errors, options);
  return buildAckWithoutHeader(result.errors, options);
}

}  // namespace acp::hl7v2
