// A real MLLP client over a plain TCP socket (Poco::Net::StreamSocket): sends one framed HL7 v2
// message and reads the ACK, for the tests of the hospital feed against a real Gateway
// (tests/support/test_server.h).
#pragma once

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <fstream>
#include <sstream>
#include <string>

namespace acp::testing {

class MllpClient {
 public:
  explicit MllpClient(int port)
      : s_(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port))) {
    s_.setReceiveTimeout(Poco::Timespan(20, 0));
  }
  // Sends one framed message and returns the ACK (framing removed), "" when the connection
  // closed without one.
  std::string exchange(const std::string& message) {
    std::string frame = "\x0b" + message + "\x1c\x0d";
    s_.sendBytes(frame.data(), static_cast<int>(frame.size()));
    std::string in;
    char buf[4096];
    while (in.find("\x1c\x0d") == std::string::npos) {
      int n = 0;
      try {
        n = s_.receiveBytes(buf, sizeof buf);
      } catch (...) {
        return "";  // reset: closed without an ACK
      }
      if (n <= 0) return "";
      in.append(buf, static_cast<size_t>(n));
    }
    size_t start = in.find('\x0b');
    return in.substr(start + 1, in.find("\x1c\x0d") - start - 1);
  }

 private:
  Poco::Net::StreamSocket s_;
};

// The segment of an ACK that starts with `id` ("MSA"), without its CR; "" when absent.
inline std::string ackSegment(const std::string& ack, const std::string& id) {
  size_t at = ack.find(id + "|");
  if (at == std::string::npos) return "";
  return ack.substr(at, ack.find('\r', at) - at);
}

// One of the hospital feed's sample messages (mappings/acute/samples/).
inline std::string acuteSample(const std::string& name) {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/mappings/acute/samples/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace acp::testing
