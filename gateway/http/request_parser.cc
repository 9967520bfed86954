#include "gateway/http/request_parser.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace acp::http {

namespace {

bool iequals(const std::string& a, const char* b) {
  size_t n = std::strlen(b);
  if (a.size() != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// RFC 9110 token characters.
bool isTokenChar(unsigned char c) {
  return c != 0 && (std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

// Does the comma-separated header value list contain `token` (case-insensitive)?
bool listHas(const std::string& value, const char* token) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    if (iequals(trim(value.substr(start, comma - start)), token)) return true;
    start = comma + 1;
  }
  return false;
}

bool methodTakesBody(const std::string& m) { return m == "POST" || m == "PUT" || m == "PATCH"; }

}  // namespace

const std::string* ParsedRequest::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name.c_str())) return &v;
  return nullptr;
}

void RequestParser::compact() {
  // Amortised: parsed bytes are dropped only when they are at least half of the buffer (or
  // large), so pipelined requests and fine-grained chunks never cost a copy each.
  if (pos_ > 65536 || pos_ * 2 > buffer_.size()) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
}

void RequestParser::reset() {
  compact();
  phase_ = Phase::kRequestLine;
  request_ = ParsedRequest();
  error_ = ParseError();
  bodyRemaining_ = 0;
  headersReported_ = false;
  leadingBlank_ = 0;
  trailers_ = 0;
}

RequestParser::State RequestParser::fail(int status, std::string code, std::string message) {
  error_ = ParseError{status, std::move(code), std::move(message)};
  phase_ = Phase::kDone;
  return State::kError;
}

bool RequestParser::takeLine(std::string& line, size_t limit, bool& tooLong, bool strictCrlf) {
  tooLong = false;
  size_t lf = buffer_.find('\n', pos_);
  if (lf == std::string::npos) {
    // A CR at the end may still be waiting for its LF: it does not count against the limit.
    size_t pending = buffer_.size() - pos_;
    if (pending > 0 && buffer_.back() == '\r') --pending;
    tooLong = pending > limit;
    return false;
  }
  size_t end = lf;
  if (end > pos_ && buffer_[end - 1] == '\r') {
    --end;
  } else if (strictCrlf) {
    tooLong = true;  // a bare LF where CRLF is required: refused like an over-long line
    return false;
  }
  if (end - pos_ > limit) {
    tooLong = true;
    return false;
  }
  line.assign(buffer_, pos_, end - pos_);
  pos_ = lf + 1;
  return true;
}

RequestParser::State RequestParser::parseRequestLine(const std::string& line) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos)
    return fail(400, "http.bad-request-line", "the request line is not METHOD target HTTP/1.x");
  request_.method = line.substr(0, sp1);
  request_.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string version = line.substr(sp2 + 1);
  if (request_.method.empty() || request_.target.empty())
    return fail(400, "http.bad-request-line", "the request line is not METHOD target HTTP/1.x");
  for (unsigned char c : request_.method)
    if (!isTokenChar(c))
      return fail(400, "http.bad-request-line", "the method is not a token");
  for (unsigned char c : request_.target)
    if (c <= 0x20 || c == 0x7f)
      return fail(400, "http.bad-request-line", "the request target holds a control character");
  if (version == "HTTP/1.1") {
    request_.minorVersion = 1;
  } else if (version == "HTTP/1.0") {
    request_.minorVersion = 0;
  } else if (version.rfind("HTTP/", 0) == 0) {
    return fail(505, "http.version-not-supported", "only HTTP/1.0 and HTTP/1.1 are served");
  } else {
    return fail(400, "http.bad-request-line", "the request line is not METHOD target HTTP/1.x");
  }
  phase_ = Phase::kHeaders;
  return State::kNeedMore;
}

RequestParser::State RequestParser::parseHeaderLine(const std::string& line) {
  if (line[0] == ' ' || line[0] == '\t')
    return fail(400, "http.bad-header", "obsolete header line folding is not accepted");
  size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0)
    return fail(400, "http.bad-header", "a header line has no name");
  if (colon > kMaxHeaderName)
    return fail(400, "http.header-too-large", "a header name is longer than " +
                                                  std::to_string(kMaxHeaderName) + " bytes");
  for (size_t i = 0; i < colon; ++i)
    if (!isTokenChar(static_cast<unsigned char>(line[i])))
      return fail(400, "http.bad-header",
                  "a header name holds a character that is not allowed (whitespace before the "
                  "colon is refused)");
  std::string value = trim(line.substr(colon + 1));
  if (value.size() > kMaxHeaderValue)
    return fail(400, "http.header-too-large", "a header value is longer than " +
                                                  std::to_string(kMaxHeaderValue) + " bytes");
  for (unsigned char c : value)
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return fail(400, "http.bad-header", "a header value holds a control character");
  if (request_.headers.size() >= kMaxHeaderFields)
    return fail(400, "http.header-too-large",
                "more than " + std::to_string(kMaxHeaderFields) + " header fields");
  request_.headers.emplace_back(line.substr(0, colon), std::move(value));
  return State::kNeedMore;
}

RequestParser::State RequestParser::headersComplete() {
  ParsedRequest& r = request_;
  // Connection management.
  const std::string* connection = r.header("Connection");
  if (r.minorVersion == 0)
    r.keepAlive = connection && listHas(*connection, "keep-alive");
  else
    r.keepAlive = !(connection && listHas(*connection, "close"));

  // Framing: Content-Length (every copy identical, digits only) or chunked, never both.
  bool hasLength = false;
  unsigned long long length = 0;
  for (const auto& [k, v] : r.headers) {
    if (!iequals(k, "Content-Length")) continue;
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
      return fail(400, "http.invalid-length", "invalid Content-Length");
    unsigned long long n = std::stoull(v);
    if (hasLength && n != length)
      return fail(400, "http.invalid-length", "conflicting Content-Length headers");
    hasLength = true;
    length = n;
  }
  bool chunked = false;
  for (const auto& [k, v] : r.headers) {
    if (!iequals(k, "Transfer-Encoding")) continue;
    if (!iequals(trim(v), "chunked") || chunked)
      return fail(501, "http.unsupported-transfer-encoding",
                  "only the chunked transfer coding is supported");
    chunked = true;
  }
  if (chunked && hasLength)
    return fail(400, "http.ambiguous-length",
                "a request must not carry both Content-Length and chunked encoding");
  // RFC 9112 section 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
  if (chunked && r.minorVersion == 0)
    return fail(400, "http.ambiguous-length", "HTTP/1.0 requests cannot use Transfer-Encoding");

  if (!methodTakesBody(r.method)) {
    // Answered without reading the announced body; the connection closes afterwards.
    if (chunked || length > 0) {
      r.unreadBody = true;
      r.keepAlive = false;
    }
    phase_ = Phase::kDone;
    return State::kComplete;
  }
  if (!chunked && !hasLength)
    return fail(411, "http.length-required", "Content-Length or chunked encoding is required");
  if (hasLength && length > maxBodyBytes_)
    return fail(413, "http.body-too-large",
                "the body is larger than " + std::to_string(maxBodyBytes_) + " bytes");
  const std::string* expect = r.header("Expect");
  r.expectContinue = expect && iequals(trim(*expect), "100-continue") && r.minorVersion == 1 &&
                     (chunked || length > 0);
  if (chunked) {
    phase_ = Phase::kChunkSize;
  } else {
    bodyRemaining_ = static_cast<size_t>(length);
    phase_ = Phase::kBody;
  }
  return State::kNeedMore;
}

RequestParser::State RequestParser::next() {
  State s = advance();
  if (s == State::kNeedMore) compact();
  return s;
}

RequestParser::State RequestParser::advance() {
  bool tooLong = false;
  std::string line;
  for (;;) {
    switch (phase_) {
      case Phase::kRequestLine: {
        // A few empty lines before a request are ignored (RFC 9112 section 2.2); they are
        // dropped from the buffer and bounded.
        size_t skipped = 0;
        while (pos_ + skipped < buffer_.size() &&
               (buffer_[pos_ + skipped] == '\r' || buffer_[pos_ + skipped] == '\n'))
          ++skipped;
        if (skipped > 0) {
          pos_ += skipped;
          leadingBlank_ += skipped;
          if (leadingBlank_ > 64)
            return fail(400, "http.bad-request-line", "too many empty lines before the request");
        }
        if (!takeLine(line, kMaxRequestLine, tooLong)) {
          if (tooLong)
            return fail(414, "http.uri-too-long",
                        "the request line is longer than " + std::to_string(kMaxRequestLine) +
                            " bytes");
          return State::kNeedMore;
        }
        State s = parseRequestLine(line);
        if (s == State::kError) return s;
        break;
      }
      case Phase::kHeaders: {
        if (!takeLine(line, kMaxHeaderName + kMaxHeaderValue + 64, tooLong)) {
          if (tooLong)
            return fail(400, "http.header-too-large", "a header line is too long");
          return State::kNeedMore;
        }
        State s = line.empty() ? headersComplete() : parseHeaderLine(line);
        if (s != State::kNeedMore) return s;
        break;
      }
      case Phase::kBody: {
        if (!headersReported_) {
          headersReported_ = true;
          return State::kHeadersDone;
        }
        size_t take = std::min(bodyRemaining_, buffer_.size() - pos_);
        request_.body.append(buffer_, pos_, take);
        pos_ += take;
        bodyRemaining_ -= take;
        if (bodyRemaining_ > 0) return State::kNeedMore;
        phase_ = Phase::kDone;
        return State::kComplete;
      }
      case Phase::kChunkSize: {
        if (!headersReported_) {
          headersReported_ = true;
          return State::kHeadersDone;
        }
        if (!takeLine(line, 1024, tooLong, /*strictCrlf=*/true)) {
          if (tooLong)
            return fail(400, "http.incomplete-body", "the request body is incomplete or malformed");
          return State::kNeedMore;
        }
        std::string size = trim(line.substr(0, line.find(';')));
        if (size.empty() || size.size() > 15 ||
            size.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
          return fail(400, "http.incomplete-body", "the request body is incomplete or malformed");
        unsigned long long n = std::stoull(size, nullptr, 16);
        if (n == 0) {
          phase_ = Phase::kTrailers;
          break;
        }
        if (request_.body.size() + n > maxBodyBytes_)
          return fail(413, "http.body-too-large",
                      "the body is larger than " + std::to_string(maxBodyBytes_) + " bytes");
        bodyRemaining_ = static_cast<size_t>(n);
        phase_ = Phase::kChunkData;
        break;
      }
      case Phase::kChunkData: {
        size_t take = std::min(bodyRemaining_, buffer_.size() - pos_);
        request_.body.append(buffer_, pos_, take);
        pos_ += take;
        bodyRemaining_ -= take;
        if (bodyRemaining_ > 0) return State::kNeedMore;
        phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd: {
        if (!takeLine(line, 2, tooLong, /*strictCrlf=*/true)) {
          if (tooLong)
            return fail(400, "http.incomplete-body", "the request body is incomplete or malformed");
          return State::kNeedMore;
        }
        if (!line.empty())
          return fail(400, "http.incomplete-body", "the request body is incomplete or malformed");
        phase_ = Phase::kChunkSize;
        break;
      }
      case Phase::kTrailers: {
        if (!takeLine(line, kMaxHeaderName + kMaxHeaderValue + 64, tooLong)) {
          if (tooLong)
            return fail(400, "http.incomplete-body", "the request body is incomplete or malformed");
          return State::kNeedMore;
        }
        if (line.empty()) {
          phase_ = Phase::kDone;
          return State::kComplete;
        }
        if (line.find(':') == std::string::npos || line[0] == ' ' || line[0] == '\t' ||
            ++trailers_ > kMaxHeaderFields)
          return fail(400, "http.incomplete-body", "the request body is incomplete or malformed");
        break;  // trailer fields are read and dropped
      }
      case Phase::kDone:
        return error_.code.empty() ? State::kComplete : State::kError;
    }
  }
}

}  // namespace acp::http
