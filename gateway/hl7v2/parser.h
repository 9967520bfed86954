// parse(): the bytes of one HL7 v2 message (MLLP framing already removed) → Message, hardened
// against anything a network peer can send.
//
// Rules:
//   - segments end in CR, LF or CRLF, mixed freely; empty and blank (spaces/tabs) lines are
//     skipped anywhere, so trailing line ends do no harm; a leading UTF-8 byte order mark is
//     dropped;
//   - the first segment must be MSH; MSH-1 (field separator) and MSH-2 (encoding characters)
//     are read from it, never assumed (delimiters.h says what is accepted);
//   - MSH-18 chooses the character set (charset.h): empty or 8859/1 is Latin-1 and converted
//     to UTF-8 by the accessors, UNICODE UTF-8 is validated, ASCII allows 7-bit only; any
//     other value is error 103 at MSH-18;
//   - MSH-9.1 (message type), MSH-10 (control id), MSH-11 (processing id) and MSH-12
//     (version) are required (101);
//   - segment ids are three characters [A-Z][A-Z0-9][A-Z0-9]; another MSH, or a batch
//     envelope (FHS, BHS, BTS, FTS), is refused: one message per call;
//   - bytes below 0x20 other than TAB, CR and LF are refused wherever they appear (102);
//   - escape sequences are checked (escape.h): one kept literally is a warning, never an
//     error;
//   - limits (ParseOptions): message size, segment count, fields per segment, bytes per field.
//
// Error contract: never throws (an unexpected exception becomes error 207). The result is
// ok() when no error (severity kError) was found; then `message` holds the message and
// `errors` may hold warnings. When not ok, `message` is empty, `errors` holds the error(s)
// that stopped parsing (parsing stops at the first structural error; missing MSH fields are
// all listed), and `header` holds whatever MSH fields could be read (headerRead) so an ACK
// can still be addressed (ack.h: buildParseFailureAck). Every parse failure is answered AR:
// the message cannot be read as sent, and resending the same bytes cannot succeed.
//
// Codes used: 100 no MSH first / empty message / bad segment id / second MSH or batch
// segment / over the size or segment limits; 101 MSH-1, -9, -10, -11 or -12 missing;
// 102 bad MSH-1/MSH-2, control byte, invalid UTF-8 or non-ASCII under ASCII, field too long,
// too many fields; 103 unsupported MSH-18; warnings use 102 (escape kept literally).
//
// Thread-safety: stateless; call from any number of threads at once.
// Cost: one copy of the input, one pass over it, two vectors of offsets (8 bytes per field);
// values are split and decoded only when read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "gateway/hl7v2/error.h"
#include "gateway/hl7v2/header.h"
#include "gateway/hl7v2/message.h"

namespace acp::hl7v2 {

struct ParseOptions {
  size_t maxMessageBytes = 1 << 20;  // whole message, after MLLP framing is removed
  size_t maxSegments = 10000;
  size_t maxFieldsPerSegment = 1000;  // a segment with more fields is refused
  size_t maxFieldBytes = 65536;       // raw bytes of one field, repetitions included
  size_t maxWarnings = 100;           // further warnings are summed up in one last warning
};

struct ParseResult {
  Message message;          // the parsed message when ok(); empty otherwise
  Header header;            // MSH fields as far as they could be read (see headerRead)
  bool headerRead = false;  // the MSH line was found and split on its field separator
  ErrorList errors;         // errors and warnings, in the order found

  bool ok() const { return !errors.hasErrors(); }
};

ParseResult parse(std::string_view bytes, const ParseOptions& options = ParseOptions());
// Takes ownership of the bytes (no copy).
ParseResult parse(std::string&& bytes, const ParseOptions& options = ParseOptions());
inline ParseResult parse(const char* bytes, const ParseOptions& options = ParseOptions()) {
  return parse(std::string_view(bytes ? bytes : ""), options);
}

}  // namespace acp::hl7v2
