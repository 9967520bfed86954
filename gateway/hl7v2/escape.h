// HL7 v2 escape sequences: decoding inbound text values to UTF-8, and escaping text we write
// (ACK segments).
//
// Decoding (E = the declared escape character, usually '\'):
//   EFE ESE ETE ERE EEE : field separator, component, subcomponent, repetition separator,
//                escape character; EPE: the truncation character (only if MSH-2 declares one);
//   EXhh..E    : hex bytes (an even number of digits, at least two), read in the message's
//                character set (so \XC3A9\ is "é" under UNICODE UTF-8 and \XE9\ is "é" under
//                8859/1). Bytes that are not valid text in that set, or control characters
//                other than TAB, CR and LF, are refused (see below);
//   E.brE      : "\n"; E.spE / E.sp nE (skip lines) and E.ceE (centre next line) also end the
//                line and give one "\n";
//   E.fiE E.nfE E.in±nE E.ti±nE E.sk nE (fill mode, indents, skips) and EHE ENE (highlighting
//                on/off) are formatting without a plain-text meaning: dropped;
//   ECxxyyE EMxxyyzzE (ISO 2022 character set switches) and EZ..E (locally defined) are not
//                supported, and any other sequence is unknown.
// Unknown, unsupported, malformed and unterminated sequences (no closing E before a delimiter
// or the end of the value) are kept literally (the escape character included), and
// findEscapeProblems() reports each one so the parser can warn; nothing here fails or throws.
// Values are split on delimiters before decoding, so an escape sequence never spans a
// delimiter.
// Thread-safety: stateless functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/delimiters.h"

namespace acp::hl7v2 {

// Appends the decoded UTF-8 text of `raw` (bytes in `cs`) to `out`. `raw` is normally one
// subcomponent; delimiter characters in it are copied as they are.
void appendDecoded(std::string_view raw, const Delimiters& d, Charset cs, std::string& out);
std::string decode(std::string_view raw, const Delimiters& d, Charset cs);

// An escape sequence kept literally by appendDecoded.
struct EscapeProblem {
  size_t offset = 0;        // of the escape character in `raw`
  size_t length = 0;        // bytes kept literally
  const char* reason = "";  // static text, e.g. "unknown escape sequence"
};

// Appends to `problems` every escape sequence of `raw` that decoding keeps literally.
// Returns the number appended.
size_t findEscapeProblems(std::string_view raw, const Delimiters& d, Charset cs,
                          std::vector<EscapeProblem>& problems);

// Appends UTF-8 `text` escaped for use as one HL7 value with delimiters `d`: the five
// delimiters (and the truncation character, when declared) become EFE ESE ETE ERE EEE (EPE);
// CR LF, CR and LF become E.brE; other control characters become EXhhE. The result stays
// UTF-8; the caller converts it to the output character set.
void appendEscaped(std::string_view text, const Delimiters& d, std::string& out);
std::string escape(std::string_view text, const Delimiters& d);

}  // namespace acp::hl7v2
