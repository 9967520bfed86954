#include "gateway/mllp/frame_reader.h"

namespace acp::mllp {

namespace {
// Consumed bytes are erased from the front of the buffer once they are at least this many and
// at least half of it, so pipelined frames do not cost a move of the whole buffer each.
constexpr size_t kCompactAbove = 64 * 1024;
}  // namespace

std::string encodeFrame(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 3);
  out += kStartBlock;
  out.append(message.data(), message.size());
  out += kEndBlock;
  out += kCarriageReturn;
  return out;
}

bool isFrameable(std::string_view message) {
  return message.find(kStartBlock) == std::string_view::npos &&
         message.find(kEndBlock) == std::string_view::npos;
}

FrameReader::FrameReader(size_t maxFrameBytes) : max_(maxFrameBytes) {}

void FrameReader::releaseReturned() {
  if (!returned_) return;
  head_ = returnedEnd_;
  returned_ = false;
  frameBegin_ = frameLen_ = 0;
}

void FrameReader::compact() {
  if (head_ == 0) return;
  if (head_ < buf_.size() && (head_ < kCompactAbove || head_ < buf_.size() / 2)) return;
  buf_.erase(0, head_);
  if (inFrame_) {
    contentStart_ -= head_;
    scan_ -= head_;
  }
  head_ = 0;
}

void FrameReader::feed(std::string_view bytes) {
  releaseReturned();
  compact();
  if (tooLarge_) return;  // final: nothing more is kept
  buf_.append(bytes.data(), bytes.size());
}

FrameReader::State FrameReader::next() {
  if (tooLarge_) return State::kTooLarge;
  releaseReturned();
  if (!inFrame_) {
    size_t start = buf_.find(kStartBlock, head_);
    if (start == std::string::npos) {
      discarded_ += buf_.size() - head_;
      head_ = buf_.size();
      compact();
      return State::kNeedMore;
    }
    discarded_ += start - head_;
    head_ = start;
    inFrame_ = true;
    contentStart_ = scan_ = start + 1;
  }
  const char* p = buf_.data();
  size_t n = buf_.size();
  size_t i = scan_;
  for (; i < n; ++i) {
    // Over the limit as soon as that much content has been seen, whether or not a restart or
    // the end follows: the same stream is refused at the same byte however it was split
    // into reads (found by tests/fuzz/mllp_frames_fuzz.cc: an over-long frame abandoned by a
    // new 0x0B was refused when read in pieces but not when read whole).
    if (i - contentStart_ > max_) {
      tooLarge_ = true;
      return State::kTooLarge;
    }
    if (p[i] == kStartBlock) {
      // The frame in progress is abandoned; a new one starts here.
      discarded_ += i - head_;
      ++restarted_;
      head_ = i;
      contentStart_ = i + 1;
      continue;
    }
    if (p[i] != kEndBlock) continue;
    if (i + 1 == n) break;  // the end marker may be split across reads
    if (p[i + 1] != kCarriageReturn) continue;
    size_t length = i - contentStart_;
    if (length > max_) {
      tooLarge_ = true;
      return State::kTooLarge;
    }
    frameBegin_ = contentStart_;
    frameLen_ = length;
    returnedEnd_ = i + 2;
    returned_ = true;
    inFrame_ = false;
    return State::kFrame;
  }
  scan_ = i;
  // Content certain so far (a 0x1C at the very end may still turn out to be the end marker).
  if (i - contentStart_ > max_) {
    tooLarge_ = true;
    return State::kTooLarge;
  }
  compact();
  return State::kNeedMore;
}

}  // namespace acp::mllp
