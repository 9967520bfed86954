// Fuzz target: the HTTP/1.1 request framer (gateway/http/request_parser.h), the first code
// every byte from a client meets.
// Input: byte 0 sets the size of the pieces the bytes arrive in (1..64); the rest is what a
// client sends on one connection (pipelined requests included). The body limit is 256 bytes.
// Contract: never a crash; the same bytes give the same requests and the same refusal
// whether they arrive whole or in pieces; a refusal carries one of the statuses the framer
// documents and a code; every request has a method and a target and a body within the limit.
#include <set>
#include <string>
#include <vector>

#include "gateway/http/request_parser.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using acp::http::RequestParser;

struct Reading {
  std::vector<std::string> requests;  // method, target, headers and body of each, flattened
  int refusal = 0;                     // the refusal's status, 0 when none
};

std::string flatten(const acp::http::ParsedRequest& r) {
  std::string out = r.method + ' ' + r.target + ' ' + std::to_string(r.minorVersion) + '\n';
  for (const auto& [name, value] : r.headers) out += name + ':' + value + '\n';
  out += std::to_string(r.keepAlive) + std::to_string(r.unreadBody) + '\n' + r.body;
  return out;
}

Reading read(std::string_view bytes, size_t piece) {
  constexpr size_t kMaxBody = 256;
  RequestParser parser(kMaxBody);
  Reading out;
  for (size_t at = 0; at < bytes.size(); at += piece) {
    std::string_view p = bytes.substr(at, piece);
    parser.feed(p.data(), p.size());
    for (;;) {
      RequestParser::State s = parser.next();
      if (s == RequestParser::State::kComplete) {
        const auto& r = parser.request();
        acp::fuzz::check(!r.method.empty() && !r.target.empty(), "a request has a method and a target");
        acp::fuzz::check(r.body.size() <= kMaxBody, "no body over the limit");
        out.requests.push_back(flatten(r));
        bool close = !r.keepAlive || r.unreadBody;
        parser.reset();
        if (close) return out;  // the server closes the connection after answering
        continue;
      }
      if (s == RequestParser::State::kError) {
        static const std::set<int> kDocumented = {400, 411, 413, 414, 501, 505};
        acp::fuzz::check(kDocumented.count(parser.error().status) == 1, "a documented status");
        acp::fuzz::check(!parser.error().code.empty(), "a refusal has a code");
        out.refusal = parser.error().status;
        return out;
      }
      if (s == RequestParser::State::kHeadersDone) continue;  // as the server does
      break;  // kNeedMore
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t piece = 1 + data[0] % 64;
  std::string_view bytes = acp::fuzz::bytes(data + 1, size - 1);
  Reading whole = read(bytes, bytes.size() + 1);
  Reading pieces = read(bytes, piece);
  acp::fuzz::check(whole.requests == pieces.requests, "the same requests whole or in pieces");
  acp::fuzz::check(whole.refusal == pieces.refusal, "the same refusal whole or in pieces");
  return 0;
}
