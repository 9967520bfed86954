// RequestParser — incremental HTTP/1.1 request framing (RFC 9112), the server's first line of
// defence: it decides where a request starts and ends, and refuses anything ambiguous before a
// FhirRequest exists (../shared/reference/security.md, "request smuggling" and limits).
//
// Feed it bytes as they arrive; next() says whether a whole request is ready, more bytes are
// needed, or the input is refused (with the HTTP status, a stable error code and whether the
// connection must close). Bytes after a complete request stay buffered for the next one
// (pipelining). Rules:
//   - request line "METHOD SP target SP HTTP/1.x" (CRLF or bare LF line ends), at most
//     kMaxRequestLine bytes (414 beyond); headers at most kMaxHeaderFields fields, names of
//     token characters at most kMaxHeaderName bytes, values at most kMaxHeaderValue bytes,
//     no whitespace before the colon, no obsolete line folding, no control characters (400);
//   - Content-Length: digits only, repeated copies must agree (400 http.invalid-length);
//     Transfer-Encoding: only "chunked" (501 otherwise); both at once: 400;
//   - POST/PUT/PATCH need one of them (411); a body above maxBodyBytes is 413, decided from
//     Content-Length before the body is read, or while a chunked body arrives;
//   - chunked bodies: hex sizes (no overflow), extensions ignored, trailers read and dropped,
//     CRLF required in the chunk framing (a bare LF there could be read differently by a
//     proxy in front); a malformed chunk is 400 http.incomplete-body and the connection closes.
// Line ends elsewhere may be CRLF or a bare LF (RFC 9112 section 2.2). Buffered bytes stay
// bounded: parsed bytes are dropped as parsing goes on, and every line has a length limit.
// A method that takes no body (GET, HEAD, DELETE...) but announces one is answered and the
// connection then closes: its body is never read, so it can never be taken for a request.
// Thread-safety: one parser per connection, used by one thread at a time.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace acp::http {

struct ParsedRequest {
  std::string method;
  std::string target;   // as sent: origin-form "/a?b", absolute-form "http://h/a", or "*"
  int minorVersion = 1;  // HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
  std::string body;
  bool keepAlive = true;        // the client allows the connection to be reused
  bool expectContinue = false;  // "Expect: 100-continue" and a body follows
  bool unreadBody = false;      // a body was announced on a method that takes none

  // First header with this name (case-insensitive), or nullptr.
  const std::string* header(const std::string& name) const;
};

struct ParseError {
  int status = 400;
  std::string code;     // e.g. "http.length-required" (docs/errors.md)
  std::string message;  // safe to return to the client: never echoes request bytes
};

class RequestParser {
 public:
  enum class State { kNeedMore, kHeadersDone, kComplete, kError };

  static constexpr size_t kMaxRequestLine = 8192;
  static constexpr size_t kMaxHeaderFields = 100;
  static constexpr size_t kMaxHeaderName = 256;
  static constexpr size_t kMaxHeaderValue = 8192;

  explicit RequestParser(size_t maxBodyBytes) : maxBodyBytes_(maxBodyBytes) {}

  // Appends received bytes.
  void feed(const char* data, size_t size) { buffer_.append(data, size); }

  // Advances as far as the buffered bytes allow. kHeadersDone is reported once per request,
  // when the head is complete but its body is not (the server may answer 100 Continue);
  // call next() again after feeding more. kComplete: request() holds the request; call
  // reset() before the next one. kError: error() says why; the connection must close.
  State next();

  const ParsedRequest& request() const { return request_; }
  ParsedRequest& request() { return request_; }
  const ParseError& error() const { return error_; }
  // True once any byte of the current request has arrived (an idle keep-alive connection
  // has none).
  bool started() const {
    return pos_ < buffer_.size() || phase_ != Phase::kRequestLine;
  }
  // Starts the next request; bytes already buffered are kept.
  void reset();

 private:
  enum class Phase { kRequestLine, kHeaders, kBody, kChunkSize, kChunkData, kChunkDataEnd,
                     kTrailers, kDone };

  State fail(int status, std::string code, std::string message);
  // Takes one line (without its CRLF/LF) from the buffer; false when none is complete.
  // `limit` bounds an incomplete line too, so a client cannot grow the buffer without end.
  // strictCrlf: the line must end in CRLF (chunked framing), a bare LF is refused.
  bool takeLine(std::string& line, size_t limit, bool& tooLong, bool strictCrlf = false);
  State advance();
  void compact();
  State parseRequestLine(const std::string& line);
  State parseHeaderLine(const std::string& line);
  State headersComplete();

  size_t maxBodyBytes_;
  std::string buffer_;
  size_t pos_ = 0;  // parse position in buffer_
  Phase phase_ = Phase::kRequestLine;
  ParsedRequest request_;
  ParseError error_;
  size_t bodyRemaining_ = 0;  // Content-Length body or current chunk
  bool headersReported_ = false;
  size_t leadingBlank_ = 0;  // empty-line bytes skipped before this request
  size_t trailers_ = 0;      // trailer fields read
};

}  // namespace acp::http
