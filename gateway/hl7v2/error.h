// HL7 v2 problem reports: what the parser, the header checks and later stages (mapper, store)
// found wrong with an inbound message, in the shape of an HL7 ERR segment.
//
// An Error has a severity (acp::Severity from core/issues.h: kFatal and kError are errors,
// kWarning and kInformation are not), a code from HL7 table 0357 (message error condition
// codes), a location (segment id, its occurrence number, field, repetition, component,
// subcomponent; 0 = not known / not applicable) and a human-readable message. The message is
// UTF-8 text meant for the sender's interface team: it may quote a short, sanitised piece of
// the input, never a whole value. ack.h turns an ErrorList into ERR segments.
//
// Thread-safety: plain values; an ErrorList is not synchronised (one list per message).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/issues.h"

namespace acp::hl7v2 {

// HL7 table 0357, message error condition codes (v2.4).
enum class ErrorCode {
  kMessageAccepted = 0,
  kSegmentSequenceError = 100,  // also: unreadable structure (no MSH, bad segment id, limits)
  kRequiredFieldMissing = 101,
  kDataTypeError = 102,       // bad byte, bad encoding characters, value too long, bad UTF-8
  kTableValueNotFound = 103,  // also: MSH-18 names a character set we do not support
  kUnsupportedMessageType = 200,
  kUnsupportedEventCode = 201,
  kUnsupportedProcessingId = 202,
  kUnsupportedVersionId = 203,
  kUnknownKeyIdentifier = 204,
  kDuplicateKeyIdentifier = 205,
  kApplicationRecordLocked = 206,
  kApplicationInternalError = 207,
};

// The table's text for a code, e.g. "Required field missing".
std::string_view errorCodeText(ErrorCode code);

struct Error {
  Severity severity = Severity::kError;
  ErrorCode code = ErrorCode::kApplicationInternalError;
  std::string segmentId;    // "PID"; empty when the problem is not tied to a segment
  int segmentSequence = 0;  // 1-based occurrence of segmentId in the message (2nd OBX = 2)
  int segmentPosition = 0;  // 1-based position among all segments, for logs (MSH = 1)
  int field = 0;            // HL7 field number (MSH-1 is the field separator)
  int repetition = 0;
  int component = 0;
  int subcomponent = 0;
  std::string message;  // UTF-8, for people

  bool isError() const { return severity == Severity::kFatal || severity == Severity::kError; }
  // "PID-3(2).4" style location for logs; "" when there is no segment.
  std::string location() const;
};

class ErrorList {
 public:
  void add(Error e) { items_.push_back(std::move(e)); }
  void append(const ErrorList& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  }

  // True when any entry is an error (kFatal or kError); warnings alone keep a message usable.
  bool hasErrors() const;
  size_t warningCount() const;
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const Error& operator[](size_t i) const { return items_[i]; }
  const std::vector<Error>& items() const { return items_; }
  std::vector<Error>::const_iterator begin() const { return items_.begin(); }
  std::vector<Error>::const_iterator end() const { return items_.end(); }

 private:
  std::vector<Error> items_;
};

}  // namespace acp::hl7v2
