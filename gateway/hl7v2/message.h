// Message and Segment: a parsed HL7 v2 message, read-only, with HL7-style accessors.
//
// A Message owns one copy of the message bytes; segments and fields are kept as offsets into
// it, and repetitions, components and subcomponents are found on demand by scanning the
// (short) field, so parsing allocates per message, not per value. Text accessors decode
// escapes and the message character set to UTF-8 when called (escape.h says how each escape
// sequence is read).
//
// Numbering is HL7's: fields, repetitions, components and subcomponents count from 1, and
// MSH-1 is the field separator itself, MSH-2 the encoding characters, so MSH-3 is the first
// field after them (both are returned as they are, never split or decoded). Segment indexes
// (Message::segment) count from 0 like any C++ container; Segment::position() is the 1-based
// place in the message used in error reports.
//
// Absent is empty: asking for a segment, field, repetition, component or subcomponent that
// is not there (or a number < 1) gives an empty string / absent Segment, never an error. The
// HL7 explicit null `""` is returned as those two characters; isNull() tells it apart.
// text(field) with no further numbers is the first subcomponent of the first component of
// the first repetition (HL7 "PID-8" means PID-8.1.1), not the whole field: use raw() for that.
//
// Thread-safety: immutable after parsing; copies share the bytes (reference counted), and any
// number of threads may read one Message at once. A Segment is a view (pointer + index): it
// stays valid while any Message sharing its storage is alive.
// Error contract: accessors never fail; problems were reported by the parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/hl7v2/charset.h"
#include "gateway/hl7v2/delimiters.h"
#include "gateway/hl7v2/header.h"

namespace acp::hl7v2 {

namespace detail {
struct MessageData;  // message_data.h; built by the parser
}

class Segment {
 public:
  Segment() = default;  // absent: every accessor gives empty / 0

  bool present() const { return data_ != nullptr; }
  explicit operator bool() const { return present(); }

  std::string_view id() const;  // "PID"
  int position() const;         // 1-based place in the message (MSH is 1); 0 when absent
  int sequence() const;         // 1-based occurrence of this id (the 2nd OBX is 2)
  size_t byteOffset() const;    // of the segment's first byte in Message::bytes()
  int fieldCount() const;       // number of the last field present (trailing empties count)

  // The whole segment line as received (no terminator).
  std::string_view raw() const;
  // A raw (undecoded) piece: the field, or one repetition / component / subcomponent of it.
  // A 0 stops the descent: raw(3) is all of PID-3 with its repetitions, raw(3, 2) is the
  // second repetition with its components, raw(3, 2, 4) is PID-3(2).4 with its subcomponents.
  std::string_view raw(int field, int repetition = 0, int component = 0,
                       int subcomponent = 0) const;

  // Decoded UTF-8 text of one subcomponent; "" when absent.
  std::string text(int field, int repetition = 1, int component = 1, int subcomponent = 1) const;
  // The same, appended to `out` (lets a caller reuse one buffer).
  void appendText(std::string& out, int field, int repetition = 1, int component = 1,
                  int subcomponent = 1) const;
  // True when the subcomponent is the HL7 explicit null `""` ("delete the value").
  bool isNull(int field, int repetition = 1, int component = 1, int subcomponent = 1) const;

  // Counts: 0 when the piece is absent or empty; an empty piece between delimiters counts
  // ("a~~b" has 3 repetitions).
  int repetitionCount(int field) const;
  int componentCount(int field, int repetition = 1) const;
  int subcomponentCount(int field, int repetition, int component) const;

 private:
  friend class Message;
  Segment(const detail::MessageData* data, uint32_t index) : data_(data), index_(index) {}
  const detail::MessageData* data_ = nullptr;
  uint32_t index_ = 0;
};

class Message {
 public:
  Message() = default;  // no segments
  // Used by the parser (parser.h), which has checked everything message_data.h requires.
  explicit Message(std::shared_ptr<const detail::MessageData> data) : data_(std::move(data)) {}

  bool empty() const { return segmentCount() == 0; }
  size_t segmentCount() const;
  Segment segment(size_t index) const;                  // 0-based; absent when out of range
  Segment first(std::string_view id) const;             // first segment with this id, or absent
  std::vector<Segment> all(std::string_view id) const;  // every segment with this id, in order
  size_t count(std::string_view id) const;

  // Shorthands on the first segment with `id`.
  std::string text(std::string_view id, int field, int repetition = 1, int component = 1,
                   int subcomponent = 1) const {
    return first(id).text(field, repetition, component, subcomponent);
  }
  std::string_view raw(std::string_view id, int field, int repetition = 0, int component = 0,
                       int subcomponent = 0) const {
    return first(id).raw(field, repetition, component, subcomponent);
  }

  const Header& header() const;  // MSH fields, decoded (header.h)
  const Delimiters& delimiters() const;
  Charset charset() const;
  std::string_view bytes() const;  // the message as received (a leading BOM removed)

  // Decodes a raw piece of this message (from raw()) with its delimiters and character set.
  std::string decode(std::string_view raw) const;

 private:
  std::shared_ptr<const detail::MessageData> data_;
};

}  // namespace acp::hl7v2
