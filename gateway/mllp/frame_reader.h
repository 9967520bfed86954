// FrameReader — incremental MLLP (minimal lower layer protocol, release 2) deframing: finds
// where each HL7 v2 message starts and ends in a connection's byte stream. No I/O; the
// listener (mllp_listener.h) feeds it what it reads.
//
// A frame is `0x0B <content> 0x1C 0x0D` (../shared/partners/acute-hl7v2.md). Rules:
//   - Bytes outside a frame (before a 0x0B) are dropped and counted in discardedBytes().
//   - The content ends at the first 0x1C 0x0D pair. A 0x1C followed by anything else is
//     content (the HL7 parser decides what it makes of it); a 0x1C that is the last byte fed
//     so far waits for the next byte.
//   - A 0x0B inside a frame starts the frame again: the bytes since the earlier 0x0B are
//     dropped, counted in discardedBytes() and restartedFrames(). A sender that abandons a
//     frame half-way and starts over therefore loses only the abandoned part, which was never
//     acknowledged.
//   - Content longer than maxFrameBytes is refused (kTooLarge) as soon as that many content
//     bytes have been seen, without waiting for the end, so the buffer stays bounded by
//     maxFrameBytes plus what one feed() adds. kTooLarge is final: the stream cannot be
//     resynchronised safely, the caller closes the connection.
//   - A frame that has not ended when the input ends is simply never returned: inFrame() and
//     pendingFrameBytes() tell the caller what is being dropped.
// Thread-safety: one reader per connection, used by one thread at a time.
// Error contract: never throws except std::bad_alloc; refusals are the kTooLarge state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace acp::mllp {

inline constexpr char kStartBlock = 0x0B;
inline constexpr char kEndBlock = 0x1C;
inline constexpr char kCarriageReturn = 0x0D;

// `0x0B message 0x1C 0x0D`. The message must not hold 0x0B or 0x1C (the listener refuses to
// send such an ACK; see isFrameable()).
std::string encodeFrame(std::string_view message);
// Whether `message` can be framed unambiguously: it holds neither 0x0B nor 0x1C.
bool isFrameable(std::string_view message);

class FrameReader {
 public:
  enum class State {
    kNeedMore,  // no complete frame buffered
    kFrame,     // frame() is the next message
    kTooLarge,  // a frame's content is over maxFrameBytes; final
  };

  explicit FrameReader(size_t maxFrameBytes);

  // Appends bytes read from the connection. Invalidates the view frame() returned.
  void feed(std::string_view bytes);
  // Finds the next complete frame in what was fed. Frames come out in stream order, each once.
  State next();
  // The content of the frame the last next() returned (kFrame), without the framing bytes.
  // Valid until the next call to feed() or next().
  std::string_view frame() const { return std::string_view(buf_).substr(frameBegin_, frameLen_); }

  // A start byte has been seen and its frame has not ended (a frame is in progress).
  bool inFrame() const { return inFrame_; }
  // Content bytes of the frame in progress (0 when none).
  size_t pendingFrameBytes() const { return inFrame_ ? buf_.size() - contentStart_ : 0; }
  // Bytes dropped so far: outside frames, and abandoned frames (with their start byte).
  uint64_t discardedBytes() const { return discarded_; }
  // Frames abandoned because a new 0x0B arrived before their end.
  uint64_t restartedFrames() const { return restarted_; }
  size_t maxFrameBytes() const { return max_; }

 private:
  void releaseReturned();
  void compact();

  size_t max_;
  std::string buf_;
  size_t head_ = 0;  // first byte still needed (the start byte of a frame in progress)
  bool inFrame_ = false;
  size_t contentStart_ = 0;  // first content byte of the frame in progress
  size_t scan_ = 0;          // next byte to examine in the frame in progress
  bool tooLarge_ = false;
  bool returned_ = false;  // frame() is live; head_ moves to returnedEnd_ on the next call
  size_t returnedEnd_ = 0;
  size_t frameBegin_ = 0;
  size_t frameLen_ = 0;
  uint64_t discarded_ = 0;
  uint64_t restarted_ = 0;
};

}  // namespace acp::mllp
