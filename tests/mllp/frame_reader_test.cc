// FrameReader: MLLP deframing rules (frame_reader.h) without sockets.
#include "gateway/mllp/frame_reader.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace acp::mllp {
namespace {

using State = FrameReader::State;

// Every frame that next() returns until it needs more bytes.
std::vector<std::string> drain(FrameReader& r, State* last = nullptr) {
  std::vector<std::string> out;
  State s;
  while ((s = r.next()) == State::kFrame) out.emplace_back(r.frame());
  if (last) *last = s;
  return out;
}

TEST(FrameReader, EncodesAFrame) {
  EXPECT_EQ(encodeFrame("MSH|x"), std::string("\x0bMSH|x\x1c\x0d"));
  EXPECT_TRUE(isFrameable("MSH|x\rMSA|AA|1\r"));
  EXPECT_FALSE(isFrameable(std::string("a\x1c") + "b"));
  EXPECT_FALSE(isFrameable(std::string("a\x0b") + "b"));
}

TEST(FrameReader, OneFrame) {
  FrameReader r(1024);
  r.feed(encodeFrame("MSH|^~\\&|PAS\r"));
  ASSERT_EQ(r.next(), State::kFrame);
  EXPECT_EQ(r.frame(), "MSH|^~\\&|PAS\r");
  EXPECT_FALSE(r.inFrame());
  EXPECT_EQ(r.next(), State::kNeedMore);
  EXPECT_EQ(r.discardedBytes(), 0u);
}

TEST(FrameReader, TwoFramesInOneFeedComeOutInOrder) {
  FrameReader r(1024);
  r.feed(encodeFrame("one") + encodeFrame("two"));
  EXPECT_EQ(drain(r), (std::vector<std::string>{"one", "two"}));
}

TEST(FrameReader, ByteByByteIncludingASplitEndMarker) {
  FrameReader r(1024);
  std::string bytes = encodeFrame("MSH|a\rPID|b\r") + encodeFrame("MSH|c");
  std::vector<std::string> got;
  for (char ch : bytes) {
    r.feed(std::string_view(&ch, 1));
    auto more = drain(r);
    got.insert(got.end(), more.begin(), more.end());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"MSH|a\rPID|b\r", "MSH|c"}));
  EXPECT_EQ(r.discardedBytes(), 0u);
}

TEST(FrameReader, BytesOutsideFramesAreDroppedAndCounted) {
  FrameReader r(1024);
  r.feed("junk" + encodeFrame("one") + "\r\n" + encodeFrame("two") + "tail");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(r.discardedBytes(), 4u + 2u + 4u);
  EXPECT_FALSE(r.inFrame());
}

TEST(FrameReader, ALoneEndBlockIsContent) {
  FrameReader r(1024);
  r.feed(std::string("\x0b") + "a\x1c" + "b\x1c\x1c\x0d");
  ASSERT_EQ(r.next(), State::kFrame);
  EXPECT_EQ(r.frame(), std::string("a\x1c") + "b\x1c");
}

TEST(FrameReader, AStartBlockInsideAFrameStartsItAgain) {
  FrameReader r(1024);
  r.feed(std::string(1, kStartBlock) + "abandoned" + encodeFrame("whole"));
  EXPECT_EQ(drain(r), (std::vector<std::string>{"whole"}));
  EXPECT_EQ(r.restartedFrames(), 1u);
  EXPECT_EQ(r.discardedBytes(), 1u + 9u);  // the first start byte and what followed it
}

TEST(FrameReader, AnEmptyFrameIsAFrame) {
  FrameReader r(1024);
  r.feed(encodeFrame(""));
  ASSERT_EQ(r.next(), State::kFrame);
  EXPECT_EQ(r.frame(), "");
}

TEST(FrameReader, TheCapIsOnContentBytes) {
  FrameReader exact(10);
  exact.feed(encodeFrame(std::string(10, 'x')));
  EXPECT_EQ(exact.next(), State::kFrame);

  FrameReader over(10);
  over.feed(encodeFrame(std::string(11, 'x')));
  EXPECT_EQ(over.next(), State::kTooLarge);
  EXPECT_EQ(over.next(), State::kTooLarge);  // final
  over.feed(encodeFrame("small"));
  EXPECT_EQ(over.next(), State::kTooLarge);
}

TEST(FrameReader, AnOversizeFrameIsRefusedBeforeItsEnd) {
  FrameReader r(10);
  r.feed("\x0b" + std::string(10, 'x'));
  EXPECT_EQ(r.next(), State::kNeedMore);
  EXPECT_EQ(r.pendingFrameBytes(), 10u);
  r.feed("\x1c");  // could still be the end marker of a 10-byte frame
  EXPECT_EQ(r.next(), State::kNeedMore);
  r.feed("y");  // it was not: 12 content bytes
  EXPECT_EQ(r.next(), State::kTooLarge);
  EXPECT_GT(r.pendingFrameBytes(), 10u);
}

// Found by fuzzing (tests/fuzz/mllp_frames_fuzz.cc): over-long content abandoned by a new
// start byte was refused when the stream came in pieces but passed when it came in one read.
TEST(FrameReader, OverLongContentIsRefusedEvenWhenARestartFollowsInTheSameRead) {
  const std::string stream =
      "\x0b" + std::string(11, 'x') + "\x0b" + "ok" + "\x1c\x0d";
  FrameReader whole(10);
  whole.feed(stream);
  State last;
  EXPECT_TRUE(drain(whole, &last).empty());
  EXPECT_EQ(last, State::kTooLarge);
  FrameReader pieces(10);
  for (char c : stream) {
    pieces.feed(std::string(1, c));
    if (pieces.next() == State::kTooLarge) break;
  }
  EXPECT_EQ(pieces.next(), State::kTooLarge);
  // Exactly at the cap, the restart is taken and the next frame comes out.
  FrameReader atCap(10);
  atCap.feed("\x0b" + std::string(10, 'x') + "\x0b" + "ok" + "\x1c\x0d");
  EXPECT_EQ(drain(atCap), std::vector<std::string>{"ok"});
}

TEST(FrameReader, AFrameAtTheCapWithItsEndMarkerSplit) {
  FrameReader r(10);
  r.feed("\x0b" + std::string(10, 'x') + "\x1c");
  EXPECT_EQ(r.next(), State::kNeedMore);
  r.feed("\x0d");
  ASSERT_EQ(r.next(), State::kFrame);
  EXPECT_EQ(r.frame(), std::string(10, 'x'));
}

TEST(FrameReader, AnUnfinishedFrameIsNeverReturned) {
  FrameReader r(1024);
  r.feed(encodeFrame("done") + "\x0bMSH|half");
  EXPECT_EQ(drain(r), (std::vector<std::string>{"done"}));
  EXPECT_TRUE(r.inFrame());
  EXPECT_EQ(r.pendingFrameBytes(), 8u);
}

TEST(FrameReader, ManyFramesInRandomPiecesAllComeOutInOrder) {
  // Exercises buffer compaction: thousands of frames, fed in pieces of random sizes.
  std::mt19937 rng(20261122);
  std::vector<std::string> sent;
  std::string stream;
  for (int i = 0; i < 5000; ++i) {
    std::string m = "MSH|" + std::to_string(i) + "|" + std::string(rng() % 300, 'a' + i % 26);
    sent.push_back(m);
    if (i % 7 == 0) stream += "noise";
    stream += encodeFrame(m);
  }
  FrameReader r(1024);
  std::vector<std::string> got;
  for (size_t at = 0; at < stream.size();) {
    size_t n = std::min<size_t>(stream.size() - at, 1 + rng() % 100000);
    r.feed(std::string_view(stream).substr(at, n));
    at += n;
    auto more = drain(r);
    got.insert(got.end(), more.begin(), more.end());
  }
  EXPECT_EQ(got, sent);
  EXPECT_EQ(r.discardedBytes(), 5u * ((5000 + 6) / 7));
}

}  // namespace
}  // namespace acp::mllp
