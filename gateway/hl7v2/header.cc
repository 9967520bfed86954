#include "gateway/hl7v2/header.h"

#include <algorithm>

#include "gateway/hl7v2/charset.h"

namespace acp::hl7v2 {
namespace {

bool listed(const std::vector<std::string>& list, const std::string& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

void refuse(ErrorList& errors, ErrorCode code, int field, int component, std::string what,
            const std::string& value) {
  Error e;
  e.code = code;
  e.segmentId = "MSH";
  e.segmentSequence = 1;
  e.segmentPosition = 1;
  e.field = field;
  e.component = component;
  e.message = std::move(what);
  e.message += " '";
  appendSanitized(value, e.message, 40);
  e.message += "' is not supported";
  errors.add(std::move(e));
}

}  // namespace

bool checkHeader(const Header& h, const HeaderPolicy& policy, ErrorList& errors) {
  bool ok = true;
  if (!listed(policy.messageTypes, h.messageType)) {
    refuse(errors, ErrorCode::kUnsupportedMessageType, 9, 1, "message type", h.messageType);
    ok = false;
  } else if (!listed(policy.events, h.messageType + "^" + h.triggerEvent)) {
    refuse(errors, ErrorCode::kUnsupportedEventCode, 9, 2, "event",
           h.messageType + "^" + h.triggerEvent);
    ok = false;
  }
  if (!listed(policy.processingIds, h.processingId)) {
    refuse(errors, ErrorCode::kUnsupportedProcessingId, 11, 1, "processing id", h.processingId);
    ok = false;
  }
  if (!listed(policy.versions, h.version)) {
    refuse(errors, ErrorCode::kUnsupportedVersionId, 12, 1, "version", h.version);
    ok = false;
  }
  return ok;
}

}  // namespace acp::hl7v2
