#include "gateway/hl7v2/message.h"

#include "gateway/hl7v2/escape.h"
#include "gateway/hl7v2/message_data.h"
#include "gateway/hl7v2/split.h"

namespace acp::hl7v2 {
namespace {

const detail::MessageData& emptyData() {
  static const detail::MessageData kEmpty;
  return kEmpty;
}

}  // namespace

// ---- Segment ----

std::string_view Segment::id() const {
  if (!data_) return {};
  return data_->view(data_->fields[data_->segments[index_].firstField]);
}

int Segment::position() const { return data_ ? static_cast<int>(index_) + 1 : 0; }

int Segment::sequence() const {
  return data_ ? static_cast<int>(data_->segments[index_].sequence) : 0;
}

size_t Segment::byteOffset() const { return data_ ? data_->segments[index_].line.begin : 0; }

int Segment::fieldCount() const {
  return data_ ? static_cast<int>(data_->segments[index_].fieldCount) - 1 : 0;
}

std::string_view Segment::raw() const {
  return data_ ? data_->view(data_->segments[index_].line) : std::string_view();
}

std::string_view Segment::raw(int field, int repetition, int component, int subcomponent) const {
  if (!data_ || field < 1) return {};
  const detail::SegmentData& s = data_->segments[index_];
  if (static_cast<uint32_t>(field) >= s.fieldCount) return {};
  std::string_view f = data_->view(data_->fields[s.firstField + static_cast<uint32_t>(field)]);
  if (index_ == 0 && field <= 2) {  // MSH-1 and MSH-2 are delimiters, never split
    return repetition > 1 || component > 1 || subcomponent > 1 ? std::string_view() : f;
  }
  return detail::navigate(f, data_->delimiters, repetition, component, subcomponent);
}

void Segment::appendText(std::string& out, int field, int repetition, int component,
                         int subcomponent) const {
  if (!data_ || repetition < 1 || component < 1 || subcomponent < 1) return;
  std::string_view v = raw(field, repetition, component, subcomponent);
  if (v.empty()) return;
  if (index_ == 0 && field <= 2) {
    out.append(v);
    return;
  }
  appendDecoded(v, data_->delimiters, data_->charset, out);
}

std::string Segment::text(int field, int repetition, int component, int subcomponent) const {
  std::string out;
  appendText(out, field, repetition, component, subcomponent);
  return out;
}

bool Segment::isNull(int field, int repetition, int component, int subcomponent) const {
  if (repetition < 1 || component < 1 || subcomponent < 1) return false;
  if (data_ && index_ == 0 && field <= 2) return false;
  return raw(field, repetition, component, subcomponent) == "\"\"";
}

int Segment::repetitionCount(int field) const {
  std::string_view f = raw(field);
  if (f.empty()) return 0;
  if (index_ == 0 && field <= 2) return 1;
  return detail::pieceCount(f, data_->delimiters.repetition);
}

int Segment::componentCount(int field, int repetition) const {
  if (repetition < 1) return 0;
  std::string_view r = raw(field, repetition);
  if (r.empty()) return 0;
  if (index_ == 0 && field <= 2) return 1;
  return detail::pieceCount(r, data_->delimiters.component);
}

int Segment::subcomponentCount(int field, int repetition, int component) const {
  if (repetition < 1 || component < 1) return 0;
  std::string_view c = raw(field, repetition, component);
  if (c.empty()) return 0;
  if (index_ == 0 && field <= 2) return 1;
  return detail::pieceCount(c, data_->delimiters.subcomponent);
}

// ---- Message ----

size_t Message::segmentCount() const { return data_ ? data_->segments.size() : 0; }

Segment Message::segment(size_t index) const {
  if (!data_ || index >= data_->segments.size()) return Segment();
  return Segment(data_.get(), static_cast<uint32_t>(index));
}

Segment Message::first(std::string_view id) const {
  if (!data_) return Segment();
  for (size_t i = 0; i < data_->segments.size(); ++i) {
    if (data_->view(data_->fields[data_->segments[i].firstField]) == id) {
      return Segment(data_.get(), static_cast<uint32_t>(i));
    }
  }
  return Segment();
}

std::vector<Segment> Message::all(std::string_view id) const {
  std::vector<Segment> out;
  if (!data_) return out;
  for (size_t i = 0; i < data_->segments.size(); ++i) {
    if (data_->view(data_->fields[data_->segments[i].firstField]) == id) {
      out.push_back(Segment(data_.get(), static_cast<uint32_t>(i)));
    }
  }
  return out;
}

size_t Message::count(std::string_view id) const {
  size_t n = 0;
  if (!data_) return n;
  for (const auto& s : data_->segments) n += data_->view(data_->fields[s.firstField]) == id;
  return n;
}

const Header& Message::header() const { return (data_ ? *data_ : emptyData()).header; }

const Delimiters& Message::delimiters() const { return (data_ ? *data_ : emptyData()).delimiters; }

Charset Message::charset() const { return (data_ ? *data_ : emptyData()).charset; }

std::string_view Message::bytes() const {
  return data_ ? std::string_view(data_->bytes) : std::string_view();
}

std::string Message::decode(std::string_view raw) const {
  const detail::MessageData& d = data_ ? *data_ : emptyData();
  return hl7v2::decode(raw, d.delimiters, d.charset);
}

}  // namespace acp::hl7v2
