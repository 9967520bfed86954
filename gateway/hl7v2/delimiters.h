// Delimiters: the five HL7 v2 encoding characters a message declares in MSH-1 and MSH-2.
//
// MSH-1 is the field separator (the byte right after "MSH"); MSH-2 holds, in this order, the
// component separator, repetition separator, escape character and subcomponent separator
// (a fifth character, the v2.7 truncation character, is accepted and kept, never required).
// Nothing assumes the usual |^~\& : every split and escape uses the declared characters.
// Thread-safety: plain value.
#pragma once

#include <string>
#include <string_view>

#include "gateway/core/status.h"

namespace acp::hl7v2 {

struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
  char truncation = '\0';  // '\0' when MSH-2 declares none

  // MSH-2 as it is written: "^~\&" (plus the truncation character when there is one).
  std::string encodingCharacters() const;

  // Checks and builds the delimiters from MSH-1 and MSH-2. Every character must be printable
  // ASCII punctuation (not a letter, digit or space) and all must differ; MSH-2 must be 4 or 5
  // characters long. Errors: Status::invalid with a message naming the problem.
  static Result<Delimiters> fromMsh(char field, std::string_view msh2);

  // True for printable ASCII that is neither alphanumeric nor a space.
  static bool isAllowed(char c);
};

}  // namespace acp::hl7v2
