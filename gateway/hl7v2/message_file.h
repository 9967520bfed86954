// A file of HL7 v2 messages, as interface engines export them for back-loading (the import
// command, app/import_command.h), split into messages. Two layouts are read:
//   - MLLP frames (the file starts, after any whitespace, with 0x0B): each frame is one
//     message, from 0x0B to the next 0x1C — or to the next 0x0B or the end of the file when
//     its 0x1C is missing (counted as unterminated); bytes between frames other than CR, LF,
//     spaces and tabs are counted as stray.
//   - plain text: segments end with CR, LF or CRLF, and leading spaces or tabs of a line are
//     dropped; a message starts at every "MSH" segment (MSH then its field separator). Blank
//     lines are skipped, and so are the batch envelope's segments (FHS, BHS, BTS, FTS); any
//     other line before the first MSH is counted as stray.
// A UTF-8 byte order mark at the start of the file is dropped.
// Each message comes back with CR after every segment, as MLLP would deliver it; its bytes are
// otherwise untouched (the parser decides their character set). Messages are in file order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace acp::hl7v2 {

struct MessageFile {
  std::vector<std::string> messages;
  size_t strayLines = 0;  // lines (or framed-file bytes runs) that belong to no message
  size_t unterminatedFrames = 0;  // MLLP frames without their 0x1C (still returned)
};

MessageFile splitMessageFile(std::string_view bytes);

}  // namespace acp::hl7v2
