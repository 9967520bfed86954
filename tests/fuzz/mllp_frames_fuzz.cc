// Fuzz target: the MLLP framer (gateway/mllp/frame_reader.h), which splits every acute
// connection's byte stream into messages.
// Input: byte 0 sets the frame size limit (1..256 bytes, so the limit is often reached),
// byte 1 the size of the pieces the stream arrives in (1..64 bytes); the rest is the stream.
// Contract: the same stream gives the same frames, in order, and the same refusal whether it
// arrives whole or in pieces; the frames are exactly those of a plain reading of the rules
// in frame_reader.h; no frame holds a start or end byte or is over the limit.
#include <string>
#include <vector>

#include "gateway/mllp/frame_reader.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using acp::mllp::FrameReader;

struct Reading {
  std::vector<std::string> frames;
  bool tooLarge = false;
  uint64_t discarded = 0;
  uint64_t restarted = 0;
};

// Feeds `stream` in pieces of `piece` bytes, taking every frame after each piece.
Reading readInPieces(std::string_view stream, size_t piece, size_t max) {
  FrameReader reader(max);
  Reading out;
  for (size_t at = 0; at < stream.size() && !out.tooLarge; at += piece) {
    reader.feed(stream.substr(at, piece));
    for (;;) {
      FrameReader::State s = reader.next();
      if (s == FrameReader::State::kFrame) {
        out.frames.emplace_back(reader.frame());
        continue;
      }
      out.tooLarge = s == FrameReader::State::kTooLarge;
      break;
    }
  }
  out.discarded = reader.discardedBytes();
  out.restarted = reader.restartedFrames();
  return out;
}

// The rules of frame_reader.h read one byte at a time, as a person would apply them.
Reading readByTheRules(std::string_view s, size_t max) {
  Reading out;
  bool in = false;
  std::string content;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in && content.size() > max) {  // more content than the limit seen: refused
      out.tooLarge = true;
      return out;
    }
    if (!in) {
      if (c == acp::mllp::kStartBlock) {
        in = true;
        content.clear();
      } else {
        ++out.discarded;
      }
      continue;
    }
    if (c == acp::mllp::kStartBlock) {  // the frame starts again
      out.discarded += 1 + content.size();
      ++out.restarted;
      content.clear();
      continue;
    }
    if (c == acp::mllp::kEndBlock && i + 1 < s.size() && s[i + 1] == acp::mllp::kCarriageReturn) {
      out.frames.push_back(content);
      in = false;
      ++i;
      continue;
    }
    if (c == acp::mllp::kEndBlock && i + 1 == s.size()) break;  // may be the end marker
    content += c;
  }
  out.tooLarge = in && content.size() > max;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using acp::fuzz::check;
  if (size < 2) return 0;
  size_t max = 1 + data[0];
  size_t piece = 1 + data[1] % 64;
  std::string_view stream = acp::fuzz::bytes(data + 2, size - 2);
  Reading whole = readInPieces(stream, stream.size() + 1, max);
  Reading pieces = readInPieces(stream, piece, max);
  Reading rules = readByTheRules(stream, max);
  check(whole.frames == pieces.frames, "the same frames whole or in pieces");
  check(whole.tooLarge == pieces.tooLarge, "the same refusal whole or in pieces");
  check(whole.frames == rules.frames, "the frames the rules give");
  check(whole.tooLarge == rules.tooLarge, "refused exactly when the rules refuse");
  if (!whole.tooLarge) {
    check(whole.discarded == pieces.discarded && whole.discarded == rules.discarded,
          "the same bytes dropped");
    check(whole.restarted == pieces.restarted && whole.restarted == rules.restarted,
          "the same frames restarted");
  }
  for (const std::string& f : whole.frames) {
    check(f.size() <= max, "no frame over the limit");
    check(f.find(acp::mllp::kStartBlock) == std::string::npos, "no start byte in a frame");
    check(f.find(std::string{acp::mllp::kEndBlock, acp::mllp::kCarriageReturn}) == std::string::npos,
          "no end of frame inside a frame");
  }
  return 0;
}
