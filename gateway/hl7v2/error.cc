#include "gateway/hl7v2/error.h"

namespace acp::hl7v2 {

std::string_view errorCodeText(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMessageAccepted:
      return "Message accepted";
    case ErrorCode::kSegmentSequenceError:
      return "Segment sequence error";
    case ErrorCode::kRequiredFieldMissing:
      return "Required field missing";
    case ErrorCode::kDataTypeError:
      return "Data type error";
    case ErrorCode::kTableValueNotFound:
      return "Table value not found";
    case ErrorCode::kUnsupportedMessageType:
      return "Unsupported message type";
    case ErrorCode::kUnsupportedEventCode:
      return "Unsupported event code";
    case ErrorCode::kUnsupportedProcessingId:
      return "Unsupported processing id";
    case ErrorCode::kUnsupportedVersionId:
      return "Unsupported version id";
    case ErrorCode::kUnknownKeyIdentifier:
      return "Unknown key identifier";
    case ErrorCode::kDuplicateKeyIdentifier:
      return "Duplicate key identifier";
    case ErrorCode::kApplicationRecordLocked:
      return "Application record locked";
    case ErrorCode::kApplicationInternalError:
      return "Application internal error";
  }
  return "Application internal error";
}

std::string Error::location() const {
  if (segmentId.empty()) return "";
  std::string out = segmentId;
  if (segmentSequence > 1) out += "[" + std::to_string(segmentSequence) + "]";
  if (field > 0) {
    out += "-" + std::to_string(field);
    if (repetition > 1) out += "(" + std::to_string(repetition) + ")";
    if (component > 0) {
      out += "." + std::to_string(component);
      if (subcomponent > 0) out += "." + std::to_string(subcomponent);
    }
  }
  return out;
}

bool ErrorList::hasErrors() const {
  for (const auto& e : items_) {
    if (e.isError()) return true;
  }
  return false;
}

size_t ErrorList::warningCount() const {
  size_t n = 0;
  for (const auto& e : items_) {
    if (e.severity == Severity::kWarning) ++n;
  }
  return n;
}

}  // namespace acp::hl7v2
