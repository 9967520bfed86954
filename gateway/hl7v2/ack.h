// ACK builder: the HL7 v2 original-mode acknowledgment (ACK) for an inbound message, with one
// ERR segment per reported problem.
//
// Layout (segments separated and ended by CR, as HL7 requires; "|^~\&" stand for the
// inbound message's own delimiters, or the defaults when they could not be read):
//   MSH|^~\&|<inbound MSH-5>|<inbound MSH-6>|<inbound MSH-3>|<inbound MSH-4>|<time>||
//       ACK^<inbound trigger>^ACK|<control id>|<inbound MSH-11>|<inbound MSH-12>
//   MSA|<AA/AE/AR>|<inbound MSH-10>[|<text of the first error>]
//   ERR|<ERR-1>|<ERR-2>|<ERR-3>|<ERR-4>||||<ERR-8>          (one per error and warning)
// - MSH-3/4 are the inbound MSH-5/6 (the address the sender used for us); when those are
//   empty, AckOptions::sendingApplication / sendingFacility (ACPGW / NORTHSHIRE).
// - MSH-9 is "ACK" alone when the inbound trigger event is unknown; MSH-11 and MSH-12 fall
//   back to AckOptions::processingId / version when the inbound ones are unknown.
// - MSA-3 (text message, kept in v2.4) carries the first error's message, cut to 80 bytes,
//   when the code is AE or AR.
// - ERR fills both layouts, so v2.4 receivers (ERR-1 only) and v2.5+ receivers understand it:
//     ERR-1 (v2.4 ELD) SEG^sequence^field^code&text&HL70357
//     ERR-2 (ERL)      SEG^sequence^field^repetition^component^subcomponent (empty parts and
//                      trailing zeros left out; empty when the error has no segment)
//     ERR-3 (CWE)      code^text^HL70357, e.g. 101^Required field missing^HL70357
//     ERR-4            severity: E (kFatal, kError), W (kWarning), I (kInformation)
//     ERR-8            the error's message (user message)
//   At most AckOptions::maxErrSegments ERR segments are written; a last one says how many
//   more there were.
// - Every value written is escaped (escape.h), so delimiters, line breaks and control
//   characters in error texts or echoed values cannot break the ACK's structure.
// - Character set: the ACK carries no MSH-18 while it is pure ASCII (as in the interface
//   spec's example). Otherwise, when the inbound message was 8859/1 (or its MSH-18 empty),
//   the ACK is written in Latin-1 (characters outside it become '?'); in every other case it
//   is UTF-8 and MSH-18 says "UNICODE UTF-8". The result is therefore the bytes to send, not
//   necessarily UTF-8 text.
// Thread-safety: stateless functions. Error contract: never fail; missing inputs give empty
// fields (or the documented defaults).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "gateway/hl7v2/error.h"
#include "gateway/hl7v2/header.h"
#include "gateway/hl7v2/parser.h"

namespace acp::hl7v2 {

enum class AckCode { kAccept, kError, kReject };  // AA, AE, AR

std::string_view ackCodeText(AckCode code);  // "AA", "AE", "AR"

struct AckOptions {
  // MSH-7. The caller's clock, formatted with formatTimestamp() (tests inject a fixed value).
  // Empty: the current time in UTC.
  std::string timestamp;
  // MSH-10, the ACK's own control id. Empty: "ACK-" + the inbound MSH-10 (the interface
  // spec's pattern; then a resent message gets the same ACK id), or "ACK-" + the timestamp
  // when the inbound control id is unknown.
  std::string controlId;
  std::string sendingApplication = "ACPGW";  // fallbacks for MSH-3 / MSH-4 (see above)
  std::string sendingFacility = "NORTHSHIRE";
  std::string processingId = "P";  // fallbacks for MSH-11 / MSH-12
  std::string version = "2.4";
  size_t maxErrSegments = 50;
};

// "YYYYMMDDHHMMSS" for `time` shifted by `utcOffset` (e.g. +60 min for British Summer Time);
// no zone suffix, as in the interface spec.
std::string formatTimestamp(std::chrono::system_clock::time_point time,
                            std::chrono::minutes utcOffset = std::chrono::minutes(0));

// The ACK for a message whose MSH was read (parsed, or at least its header: ParseResult::
// header when headerRead).
std::string buildAck(const Header& inbound, AckCode code, const ErrorList& errors,
                     const AckOptions& options);
inline std::string buildAck(const Message& inbound, AckCode code, const ErrorList& errors,
                            const AckOptions& options) {
  return buildAck(inbound.header(), code, errors, options);
}

// An AR for input whose MSH could not be read at all: MSH-3/4 from the options, MSH-5/6
// empty, MSH-9 "ACK", MSA-2 empty, default delimiters.
std::string buildAckWithoutHeader(const ErrorList& errors, const AckOptions& options);

// The AR for a failed parse: buildAck(result.header, AR, ...) when the header was read,
// buildAckWithoutHeader otherwise.
std::string buildParseFailureAck(const ParseResult& result, const AckOptions& options);

}  // namespace acp::hl7v2
