// MessageData: the storage behind a Message (internal to gateway/hl7v2; the parser builds it,
// message.cc reads it). Not part of the public API.
//
// Invariants the parser guarantees: bytes.size() < 2^32; every Span lies inside bytes;
// segments[0] is the MSH; for each segment, fields[firstField] is its 3-character id and
// fields[firstField + n] is field n (for the MSH, field 1 is the separator byte and field 2
// the encoding characters); every text byte is valid in `charset`.
// Thread-safety: immutable once built.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/delimiters.h"
#include "gateway/hl7v2/header.h"

namespace acp::hl7v2::detail {

struct Span {
  uint32_t begin = 0;
  uint32_t size = 0;
};

struct SegmentData {
  Span line;                // the whole segment
  uint32_t firstField = 0;  // index into MessageData::fields of the id
  uint32_t fieldCount = 0;  // entries in fields, the id included
  uint32_t sequence = 0;    // 1-based occurrence of this id
};

struct MessageData {
  std::string bytes;
  Delimiters delimiters;
  Charset charset = Charset::kLatin1;
  Header header;
  std::vector<Span> fields;
  std::vector<SegmentData> segments;

  std::string_view view(Span s) const { return std::string_view(bytes.data() + s.begin, s.size); }
};

}  // namespace acp::hl7v2::detail
