// RequestParser: incremental HTTP/1.1 request framing (RFC 9112) against the contract in
// gateway/http/request_parser.h — completion, incremental feeding, pipelining, chunked bodies,
// length rules (411/413/400/501), unread bodies on bodiless methods, request-line and header
// limits, and error messages that never echo request bytes.
#include "gateway/http/request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace acp::http {
namespace {

using namespace std::string_literals;
using State = RequestParser::State;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kBigBody = 1 << 20;

const char* stateName(State s) {
  switch (s) {
    case State::kNeedMore: return "kNeedMore";
    case State::kHeadersDone: return "kHeadersDone";
    case State::kComplete: return "kComplete";
    case State::kError: return "kError";
  }
  return "?";
}

// Printable form of request bytes for failure messages (control characters escaped, long input
// shortened).
std::string show(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes.substr(0, 200)) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (bytes.size() > 200) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

// A request head: the request line, the fields, CRLF line ends and the empty line.
std::string head(const std::string& requestLine, const std::vector<std::string>& fields) {
  std::string s = requestLine + "\r\n";
  for (const std::string& f : fields) s += f + "\r\n";
  return s + "\r\n";
}

// Calls next() until it reports something other than kHeadersDone; counts the kHeadersDone.
State drive(RequestParser& p, int* headersDone = nullptr) {
  for (int i = 0; i < 100; ++i) {
    State s = p.next();
    if (s != State::kHeadersDone) return s;
    if (headersDone) ++*headersDone;
  }
  ADD_FAILURE() << "next() keeps reporting kHeadersDone";
  return State::kError;
}

State parseAll(RequestParser& p, const std::string& bytes, int* headersDone = nullptr) {
  p.feed(bytes.data(), bytes.size());
  return drive(p, headersDone);
}

// Feeds one byte at a time, driving the parser after each; every byte but the last must leave
// it needing more.
// With mayStopEarly, stops at the first state other than kNeedMore wherever it comes.
State parseBytewise(RequestParser& p, const std::string& bytes, int* headersDone = nullptr,
                    bool mayStopEarly = false) {
  State s = State::kNeedMore;
  for (size_t i = 0; i < bytes.size(); ++i) {
    p.feed(&bytes[i], 1);
    s = drive(p, headersDone);
    if (s != State::kNeedMore) {
      if (i + 1 != bytes.size() && !mayStopEarly)
        ADD_FAILURE() << "finished with " << stateName(s) << " at byte " << i << " of "
                      << bytes.size() << ": " << p.error().code;
      return s;
    }
  }
  return s;
}

// The whole input is refused with this status and code (fed in one piece).
::testing::AssertionResult refused(const std::string& input, int status, const std::string& code,
                                   size_t maxBody = kBigBody) {
  RequestParser p(maxBody);
  State s = parseAll(p, input);
  if (s != State::kError)
    return ::testing::AssertionFailure()
           << "input \"" << show(input) << "\": expected kError " << status << " " << code
           << ", got " << stateName(s);
  if (p.error().status != status || p.error().code != code)
    return ::testing::AssertionFailure()
           << "input \"" << show(input) << "\": expected " << status << " " << code << ", got "
           << p.error().status << " " << p.error().code << " (" << p.error().message << ")";
  if (p.error().message.empty())
    return ::testing::AssertionFailure() << "input \"" << show(input) << "\": empty message";
  // Once refused, the parser stays refused.
  if (p.next() != State::kError)
    return ::testing::AssertionFailure() << "input \"" << show(input) << "\": error not sticky";
  return ::testing::AssertionSuccess();
}

// The whole input completes (fed in one piece); the parser is left for inspection.
::testing::AssertionResult completes(RequestParser& p, const std::string& input) {
  State s = parseAll(p, input);
  if (s != State::kComplete)
    return ::testing::AssertionFailure()
           << "input \"" << show(input) << "\": expected kComplete, got " << stateName(s) << " "
           << p.error().status << " " << p.error().code << " (" << p.error().message << ")";
  return ::testing::AssertionSuccess();
}

// --- Simple requests, versions, connection management ----------------------------------------

TEST(RequestParser, SimpleGetCompletes) {
  RequestParser p(kBigBody);
  int headersDone = 0;
  std::string in =
      "GET /Patient/1?_format=json HTTP/1.1\r\nHost: example.org\r\nAccept:  application/json "
      "\r\nX-Empty:\r\naccept: text/plain\r\n\r\n";
  ASSERT_EQ(parseAll(p, in, &headersDone), State::kComplete);
  EXPECT_EQ(headersDone, 0);  // no body: nothing to wait for
  const ParsedRequest& r = p.request();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/Patient/1?_format=json");
  EXPECT_EQ(r.minorVersion, 1);
  Headers expected = {{"Host", "example.org"},
                      {"Accept", "application/json"},  // surrounding whitespace trimmed
                      {"X-Empty", ""},
                      {"accept", "text/plain"}};       // names as sent, order kept
  EXPECT_EQ(r.headers, expected);
  EXPECT_TRUE(r.body.empty());
  EXPECT_TRUE(r.keepAlive);
  EXPECT_FALSE(r.expectContinue);
  EXPECT_FALSE(r.unreadBody);
  // Asking again without reset() does not advance into anything else.
  EXPECT_EQ(p.next(), State::kComplete);
  EXPECT_EQ(p.request().target, "/Patient/1?_format=json");
}

TEST(RequestParser, OtherTargetForms) {
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head("OPTIONS * HTTP/1.1", {"Host: a"})));
    EXPECT_EQ(p.request().method, "OPTIONS");
    EXPECT_EQ(p.request().target, "*");
  }
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head("GET http://h.example/fhir/Patient?x=1 HTTP/1.1", {"Host: a"})));
    EXPECT_EQ(p.request().target, "http://h.example/fhir/Patient?x=1");
  }
}

TEST(RequestParser, Http10KeepAliveOnlyWhenAsked) {
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head("GET / HTTP/1.0", {"Host: a"})));
    EXPECT_EQ(p.request().minorVersion, 0);
    EXPECT_FALSE(p.request().keepAlive);
  }
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head("GET / HTTP/1.0", {})));
    EXPECT_FALSE(p.request().keepAlive);
  }
  for (const char* value : {"keep-alive", "Keep-Alive", "foo, keep-alive", " KEEP-ALIVE "}) {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head("GET / HTTP/1.0", {std::string("Connection: ") + value})));
    EXPECT_TRUE(p.request().keepAlive) << value;
  }
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head("GET / HTTP/1.0", {"Connection: keep-alive-ish"})));
    EXPECT_FALSE(p.request().keepAlive);
  }
}

TEST(RequestParser, Http11ConnectionClose) {
  for (const char* value : {"close", "Close", "keep-alive, close", "upgrade ,CLOSE"}) {
    RequestParser p(kBigBody);
    ASSERT_TRUE(
        completes(p, head("GET / HTTP/1.1", {"Host: a", std::string("Connection: ") + value})));
    EXPECT_FALSE(p.request().keepAlive) << value;
  }
  for (const char* value : {"keep-alive", "closed", "upgrade"}) {
    RequestParser p(kBigBody);
    ASSERT_TRUE(
        completes(p, head("GET / HTTP/1.1", {"Host: a", std::string("Connection: ") + value})));
    EXPECT_TRUE(p.request().keepAlive) << value;
  }
}

TEST(RequestParser, HeaderLookupIsCaseInsensitiveAndReturnsTheFirst) {
  RequestParser p(kBigBody);
  ASSERT_TRUE(completes(p, head("GET / HTTP/1.1", {"Host: a", "X-Thing: one", "x-thing: two"})));
  const ParsedRequest& r = p.request();
  ASSERT_NE(r.header("x-THING"), nullptr);
  EXPECT_EQ(*r.header("x-THING"), "one");
  ASSERT_NE(r.header("HOST"), nullptr);
  EXPECT_EQ(*r.header("HOST"), "a");
  EXPECT_EQ(r.header("X-Thin"), nullptr);
  EXPECT_EQ(r.header("X-Things"), nullptr);
  EXPECT_EQ(r.header(""), nullptr);
}

// --- Content-Length bodies, incremental feeding, kHeadersDone, Expect ------------------------

const std::string kPost =
    "POST /Patient HTTP/1.1\r\nHost: a\r\nContent-Type: application/fhir+json\r\n"
    "Content-Length: 26\r\n\r\n{\"resourceType\":\"Patient\"}";

TEST(RequestParser, PostInOneFeed) {
  RequestParser p(kBigBody);
  int headersDone = 0;
  ASSERT_EQ(parseAll(p, kPost, &headersDone), State::kComplete);
  EXPECT_EQ(headersDone, 1);
  EXPECT_EQ(p.request().method, "POST");
  EXPECT_EQ(p.request().body, "{\"resourceType\":\"Patient\"}");
  EXPECT_TRUE(p.request().keepAlive);
  EXPECT_FALSE(p.request().unreadBody);
  EXPECT_FALSE(p.request().expectContinue);
}

TEST(RequestParser, ByteByByteEqualsOneFeed) {
  RequestParser whole(kBigBody);
  ASSERT_EQ(parseAll(whole, kPost), State::kComplete);
  RequestParser bytewise(kBigBody);
  int headersDone = 0;
  ASSERT_EQ(parseBytewise(bytewise, kPost, &headersDone), State::kComplete);
  EXPECT_EQ(headersDone, 1);
  const ParsedRequest& a = whole.request();
  const ParsedRequest& b = bytewise.request();
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.minorVersion, b.minorVersion);
  EXPECT_EQ(a.headers, b.headers);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.keepAlive, b.keepAlive);
  EXPECT_EQ(a.expectContinue, b.expectContinue);
  EXPECT_EQ(a.unreadBody, b.unreadBody);
}

TEST(RequestParser, HeadersDoneReportedOnceBeforeTheBody) {
  RequestParser p(kBigBody);
  std::string h = head("PUT /Patient/1 HTTP/1.1", {"Host: a", "Content-Length: 10"});
  p.feed(h.data(), h.size());
  EXPECT_EQ(p.next(), State::kHeadersDone);
  EXPECT_EQ(p.request().method, "PUT");  // the head is readable at this point
  ASSERT_NE(p.request().header("content-length"), nullptr);
  EXPECT_EQ(p.next(), State::kNeedMore);
  EXPECT_EQ(p.next(), State::kNeedMore);  // not reported a second time
  p.feed("01234", 5);
  EXPECT_EQ(p.next(), State::kNeedMore);
  p.feed("56789", 5);
  EXPECT_EQ(p.next(), State::kComplete);
  EXPECT_EQ(p.request().body, "0123456789");
}

TEST(RequestParser, ExpectContinueOnlyWithABody) {
  struct Case {
    std::string input;
    bool expect;
  };
  std::vector<Case> cases = {
      {head("POST / HTTP/1.1", {"Host: a", "Expect: 100-continue", "Content-Length: 3"}) + "abc",
       true},
      {head("POST / HTTP/1.1", {"Host: a", "Expect: 100-Continue", "Content-Length: 3"}) + "abc",
       true},
      {head("POST / HTTP/1.1", {"Host: a", "Expect: 100-continue", "Transfer-Encoding: chunked"}) +
           "3\r\nabc\r\n0\r\n\r\n",
       true},
      {head("POST / HTTP/1.1", {"Host: a", "Content-Length: 3"}) + "abc", false},
      {head("POST / HTTP/1.1", {"Host: a", "Expect: 100-continue", "Content-Length: 0"}), false},
      {head("POST / HTTP/1.1", {"Host: a", "Expect: something-else", "Content-Length: 3"}) + "abc",
       false},
      // RFC 9110 section 10.1.1: a 100-continue expectation in HTTP/1.0 is ignored.
      {head("POST / HTTP/1.0", {"Host: a", "Expect: 100-continue", "Content-Length: 3"}) + "abc",
       false},
      {head("GET / HTTP/1.1", {"Host: a", "Expect: 100-continue"}), false},
  };
  for (const Case& c : cases) {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, c.input));
    EXPECT_EQ(p.request().expectContinue, c.expect) << show(c.input);
  }
  // The flag is already set when kHeadersDone is reported (the server answers 100 then).
  RequestParser p(kBigBody);
  std::string h = head("POST / HTTP/1.1", {"Host: a", "Expect: 100-continue", "Content-Length: 3"});
  p.feed(h.data(), h.size());
  ASSERT_EQ(p.next(), State::kHeadersDone);
  EXPECT_TRUE(p.request().expectContinue);
}

TEST(RequestParser, IdenticalDuplicateContentLengthAccepted) {
  RequestParser p(kBigBody);
  ASSERT_TRUE(completes(
      p, head("POST / HTTP/1.1", {"Host: a", "Content-Length: 5", "content-length: 5"}) + "hello"));
  EXPECT_EQ(p.request().body, "hello");
}

TEST(RequestParser, ZeroContentLengthPost) {
  RequestParser p(kBigBody);
  ASSERT_TRUE(completes(p, head("POST / HTTP/1.1", {"Host: a", "Content-Length: 0"})));
  EXPECT_TRUE(p.request().body.empty());
  EXPECT_TRUE(p.request().keepAlive);
}

// --- Pipelining, line ends, leading empty lines, started() -----------------------------------

TEST(RequestParser, PipelinedRequestsInOneFeed) {
  RequestParser p(kBigBody);
  std::string in = head("GET /a HTTP/1.1", {"Host: a"}) +
                   head("POST /b HTTP/1.1", {"Host: a", "Content-Length: 5"}) + "hello" +
                   head("GET /c HTTP/1.1", {"Host: a", "Connection: close"});
  p.feed(in.data(), in.size());
  ASSERT_EQ(drive(p), State::kComplete);
  EXPECT_EQ(p.request().target, "/a");
  EXPECT_TRUE(p.request().body.empty());
  p.reset();
  EXPECT_TRUE(p.started());  // the next request is already buffered
  ASSERT_EQ(drive(p), State::kComplete);
  EXPECT_EQ(p.request().method, "POST");
  EXPECT_EQ(p.request().target, "/b");
  EXPECT_EQ(p.request().body, "hello");
  p.reset();
  ASSERT_EQ(drive(p), State::kComplete);
  EXPECT_EQ(p.request().target, "/c");
  EXPECT_FALSE(p.request().keepAlive);
  EXPECT_EQ(p.request().headers.size(), 2u);  // nothing carried over from /b
  p.reset();
  EXPECT_FALSE(p.started());
  EXPECT_EQ(p.next(), State::kNeedMore);
}

TEST(RequestParser, PipelinedRequestSplitAcrossFeeds) {
  RequestParser p(kBigBody);
  std::string first = head("POST /a HTTP/1.1", {"Host: a", "Content-Length: 3"}) + "abc";
  std::string second = head("GET /b HTTP/1.1", {"Host: a"});
  std::string in = first + second.substr(0, 7);
  p.feed(in.data(), in.size());
  ASSERT_EQ(drive(p), State::kComplete);
  EXPECT_EQ(p.request().body, "abc");
  p.reset();
  EXPECT_TRUE(p.started());
  EXPECT_EQ(p.next(), State::kNeedMore);
  std::string rest = second.substr(7);
  p.feed(rest.data(), rest.size());
  ASSERT_EQ(drive(p), State::kComplete);
  EXPECT_EQ(p.request().target, "/b");
}

TEST(RequestParser, BareLfLineEnds) {
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, "GET /x HTTP/1.1\nHost: a\nAccept: b\n\n"));
    EXPECT_EQ(p.request().target, "/x");
    Headers expected = {{"Host", "a"}, {"Accept", "b"}};
    EXPECT_EQ(p.request().headers, expected);
  }
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, "POST /x HTTP/1.1\nHost: a\r\nContent-Length: 4\n\nbody"));
    EXPECT_EQ(p.request().body, "body");
  }
  {
    // Chunked framing needs CRLF: a bare LF there is where a proxy in front could disagree.
    RequestParser p(kBigBody);
    std::string bare = "POST /x HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n4\nbody\n0\n\n";
    p.feed(bare.data(), bare.size());
    State s = p.next();
    while (s == State::kHeadersDone) s = p.next();
    EXPECT_EQ(s, State::kError);
    EXPECT_EQ(p.error().code, "http.incomplete-body");
    RequestParser q(kBigBody);
    ASSERT_TRUE(completes(
        q, "POST /x HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n4\r\nbody\r\n0\r\nT: x\n\n"));
    EXPECT_EQ(q.request().body, "body");
  }
}

TEST(RequestParser, LeadingEmptyLinesIgnored) {
  RequestParser p(kBigBody);
  ASSERT_TRUE(completes(p, "\r\n\r\n\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(p.request().method, "GET");
  EXPECT_EQ(p.request().target, "/x");
  // Also between pipelined requests, and arriving separately.
  p.reset();
  p.feed("\r\n", 2);
  EXPECT_EQ(p.next(), State::kNeedMore);
  std::string second = head("GET /y HTTP/1.1", {"Host: a"});
  p.feed(second.data(), second.size());
  ASSERT_EQ(drive(p), State::kComplete);
  EXPECT_EQ(p.request().target, "/y");
}

TEST(RequestParser, Started) {
  RequestParser p(kBigBody);
  EXPECT_FALSE(p.started());
  EXPECT_EQ(p.next(), State::kNeedMore);
  EXPECT_FALSE(p.started());
  p.feed("G", 1);
  EXPECT_TRUE(p.started());
  EXPECT_EQ(p.next(), State::kNeedMore);
  EXPECT_TRUE(p.started());
  std::string rest = "ET / HTTP/1.1\r\nHost: a\r\n\r\n";
  p.feed(rest.data(), rest.size());
  ASSERT_EQ(drive(p), State::kComplete);
  p.reset();
  EXPECT_FALSE(p.started());  // empty leftover: an idle keep-alive connection
  // A POST whose body is partly read stays started even though the head bytes were released.
  std::string h = head("POST / HTTP/1.1", {"Host: a", "Content-Length: 4"}) + "ab";
  p.feed(h.data(), h.size());
  EXPECT_EQ(drive(p), State::kNeedMore);
  EXPECT_TRUE(p.started());
  p.feed("cd", 2);
  ASSERT_EQ(drive(p), State::kComplete);
  p.reset();
  EXPECT_FALSE(p.started());
}

// --- Chunked bodies -------------------------------------------------------------------------

const std::string kChunked =
    "POST /Bundle HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;name=value\r\nhello\r\n"
    "A ; ext=\"quoted;x\"\r\n, 01234567\r\n"
    "1b\r\n-abcdefghijklmnopqrstuvwxy-\r\n"
    "0;last\r\nX-Trailer: t\r\nContent-Length: 99\r\n\r\n";
const std::string kChunkedBody = "hello, 01234567-abcdefghijklmnopqrstuvwxy-";

TEST(RequestParser, ChunkedWithExtensionsAndTrailers) {
  RequestParser p(kBigBody);
  int headersDone = 0;
  ASSERT_EQ(parseAll(p, kChunked, &headersDone), State::kComplete)
      << p.error().code << " " << p.error().message;
  EXPECT_EQ(headersDone, 1);
  EXPECT_EQ(p.request().body, kChunkedBody);
  Headers expected = {{"Host", "a"}, {"Transfer-Encoding", "chunked"}};
  EXPECT_EQ(p.request().headers, expected);  // trailer fields are dropped
  EXPECT_TRUE(p.request().keepAlive);
  EXPECT_FALSE(p.request().unreadBody);
}

TEST(RequestParser, ChunkedTransferEncodingIsCaseInsensitive) {
  RequestParser p(kBigBody);
  ASSERT_TRUE(completes(p, head("POST / HTTP/1.1", {"Host: a", "transfer-encoding:  Chunked "}) +
                               "3\r\nabc\r\n0\r\n\r\n"));
  EXPECT_EQ(p.request().body, "abc");
}

TEST(RequestParser, ChunkedFollowedByPipelinedRequest) {
  RequestParser p(kBigBody);
  std::string in = kChunked + head("GET /next HTTP/1.1", {"Host: a"});
  p.feed(in.data(), in.size());
  ASSERT_EQ(drive(p), State::kComplete);
  EXPECT_EQ(p.request().body, kChunkedBody);
  p.reset();
  ASSERT_EQ(drive(p), State::kComplete);
  EXPECT_EQ(p.request().target, "/next");
  EXPECT_TRUE(p.request().body.empty());
}

TEST(RequestParser, ChunkedSplitAtEveryBytePosition) {
  for (size_t split = 0; split <= kChunked.size(); ++split) {
    RequestParser p(kBigBody);
    int headersDone = 0;
    p.feed(kChunked.data(), split);
    State s = drive(p, &headersDone);
    if (split < kChunked.size()) {
      ASSERT_EQ(s, State::kNeedMore) << "split at " << split << ": " << p.error().code;
      p.feed(kChunked.data() + split, kChunked.size() - split);
      s = drive(p, &headersDone);
    }
    ASSERT_EQ(s, State::kComplete) << "split at " << split << ": " << p.error().code;
    EXPECT_EQ(p.request().body, kChunkedBody) << "split at " << split;
    EXPECT_EQ(headersDone, 1) << "split at " << split;
  }
}

TEST(RequestParser, ChunkedByteByByte) {
  RequestParser p(kBigBody);
  int headersDone = 0;
  ASSERT_EQ(parseBytewise(p, kChunked, &headersDone), State::kComplete) << p.error().code;
  EXPECT_EQ(p.request().body, kChunkedBody);
  EXPECT_EQ(headersDone, 1);
}

TEST(RequestParser, MalformedChunksAreIncompleteBody) {
  const std::string h = head("POST / HTTP/1.1", {"Host: a", "Transfer-Encoding: chunked"});
  std::vector<std::string> bodies = {
      "xyz\r\nabc\r\n0\r\n\r\n",                 // size not hex
      "0x3\r\nabc\r\n0\r\n\r\n",                 // C-style prefix
      "-3\r\nabc\r\n0\r\n\r\n",                  // sign
      "\r\nabc\r\n0\r\n\r\n",                    // empty size
      ";ext\r\nabc\r\n0\r\n\r\n",                // extension without a size
      "1000000000000000\r\n",                    // 16 hex digits: too long (would overflow)
      "00000000000000003\r\nabc\r\n0\r\n\r\n",   // too long, even if the value is small
      "5\r\nhello0\r\n\r\n",                     // missing CRLF after the data
      "5\r\nhelloXX\r\n0\r\n\r\n",               // junk instead of CRLF after the data
      "5\r\nhello\rX\r\n0\r\n\r\n",              // CR not followed by LF
      "3\r\nabc\r\n0\r\nno colon here\r\n\r\n",  // malformed trailer
      "3\r\nabc\r\n0\r\nX: a\r\n folded\r\n\r\n",  // folded trailer
  };
  for (const std::string& b : bodies)
    EXPECT_TRUE(refused(h + b, 400, "http.incomplete-body"));
  // A chunk-size line that never ends is refused once it is over-long, not buffered forever.
  EXPECT_TRUE(refused(h + "3;" + std::string(5000, 'x'), 400, "http.incomplete-body"));
  EXPECT_TRUE(refused(h + "3;" + std::string(5000, 'x') + "\r\nabc\r\n0\r\n\r\n", 400,
                      "http.incomplete-body"));
}

TEST(RequestParser, MissingCrlfAfterChunkDataRefusedWhenFedIncrementally) {
  const std::string in =
      head("POST / HTTP/1.1", {"Host: a", "Transfer-Encoding: chunked"}) + "5\r\nhello0\r\n\r\n";
  RequestParser p(kBigBody);
  EXPECT_EQ(parseBytewise(p, in, nullptr, /*mayStopEarly=*/true), State::kError);
  EXPECT_EQ(p.error().status, 400);
  EXPECT_EQ(p.error().code, "http.incomplete-body");
}

// --- Length rules ---------------------------------------------------------------------------

TEST(RequestParser, InvalidContentLength) {
  for (const char* value :
       {"abc", "-5", "+5", "5a", "0x10", "1e3", "5 5", "5,5", "5, 5", "", "\t", "1.0",
        "99999999999999999999999999"}) {
    EXPECT_TRUE(refused(head("POST / HTTP/1.1", {"Host: a", std::string("Content-Length: ") +
                                                               value}) + "hello",
                        400, "http.invalid-length"));
  }
  // Also on a method that takes no body: the framing is refused, not ignored.
  EXPECT_TRUE(
      refused(head("GET / HTTP/1.1", {"Host: a", "Content-Length: -1"}), 400, "http.invalid-length"));
}

TEST(RequestParser, ConflictingContentLengths) {
  EXPECT_TRUE(refused(head("POST / HTTP/1.1", {"Host: a", "Content-Length: 5", "Content-Length: 6"}) +
                          "hello!",
                      400, "http.invalid-length"));
  EXPECT_TRUE(refused(head("POST / HTTP/1.1",
                           {"Content-Length: 5", "Host: a", "content-length: 5", "CONTENT-LENGTH: 0"}) +
                          "hello",
                      400, "http.invalid-length"));
}

TEST(RequestParser, ContentLengthAndChunkedAreAmbiguous) {
  EXPECT_TRUE(refused(head("POST / HTTP/1.1",
                           {"Host: a", "Content-Length: 3", "Transfer-Encoding: chunked"}) +
                          "3\r\nabc\r\n0\r\n\r\n",
                      400, "http.ambiguous-length"));
  EXPECT_TRUE(refused(head("POST / HTTP/1.1",
                           {"Host: a", "Transfer-Encoding: chunked", "Content-Length: 0"}) +
                          "0\r\n\r\n",
                      400, "http.ambiguous-length"));
  EXPECT_TRUE(refused(head("GET / HTTP/1.1",
                           {"Host: a", "Transfer-Encoding: chunked", "Content-Length: 5"}),
                      400, "http.ambiguous-length"));
}

TEST(RequestParser, UnsupportedTransferEncoding) {
  for (const char* value : {"gzip", "gzip, chunked", "chunked, gzip", "chunked, chunked",
                            "identity", "chunked;q=1", "chunkedx", ""}) {
    EXPECT_TRUE(refused(head("POST / HTTP/1.1", {"Host: a", std::string("Transfer-Encoding: ") +
                                                               value}) + "0\r\n\r\n",
                        501, "http.unsupported-transfer-encoding"));
  }
  // Two Transfer-Encoding fields are one list "chunked, chunked".
  EXPECT_TRUE(refused(head("POST / HTTP/1.1", {"Host: a", "Transfer-Encoding: chunked",
                                               "transfer-encoding: chunked"}) +
                          "0\r\n\r\n",
                      501, "http.unsupported-transfer-encoding"));
  EXPECT_TRUE(refused(head("POST / HTTP/1.1",
                           {"Host: a", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked"}) +
                          "0\r\n\r\n",
                      501, "http.unsupported-transfer-encoding"));
}

// RFC 9112 section 6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty;
// the server must close the connection after the message (an HTTP/1.0 intermediary would not
// have framed the body the same way: request smuggling).
TEST(RequestParser, TransferEncodingOnHttp10NeverKeepsTheConnection) {
  RequestParser p(kBigBody);
  std::string in =
      head("POST / HTTP/1.0", {"Host: a", "Connection: keep-alive", "Transfer-Encoding: chunked"}) +
      "3\r\nabc\r\n0\r\n\r\n";
  State s = parseAll(p, in);
  EXPECT_TRUE(s == State::kError || (s == State::kComplete && !p.request().keepAlive))
      << "state " << stateName(s) << ", keepAlive " << p.request().keepAlive;
}

TEST(RequestParser, LengthRequired) {
  for (const char* method : {"POST", "PUT", "PATCH"}) {
    EXPECT_TRUE(refused(head(std::string(method) + " /Patient/1 HTTP/1.1", {"Host: a"}), 411,
                        "http.length-required"));
    // HTTP/1.0 too: a body is never read to the end of the connection.
    EXPECT_TRUE(refused(head(std::string(method) + " /Patient/1 HTTP/1.0", {}) + "{}", 411,
                        "http.length-required"));
  }
}

TEST(RequestParser, ContentLengthOverTheCapRefusedBeforeTheBody) {
  RequestParser p(10);
  std::string h = head("POST / HTTP/1.1", {"Host: a", "Expect: 100-continue", "Content-Length: 11"});
  p.feed(h.data(), h.size());
  // Refused straight away: no kHeadersDone (so no 100 Continue), no body byte needed.
  EXPECT_EQ(p.next(), State::kError);
  EXPECT_EQ(p.error().status, 413);
  EXPECT_EQ(p.error().code, "http.body-too-large");
  EXPECT_TRUE(refused(head("POST / HTTP/1.1", {"Host: a", "Content-Length: 999999999999999999"}),
                      413, "http.body-too-large", 10));
  // The cap itself is allowed.
  RequestParser ok(10);
  ASSERT_TRUE(completes(ok, head("POST / HTTP/1.1", {"Host: a", "Content-Length: 10"}) +
                                "0123456789"));
  EXPECT_EQ(ok.request().body, "0123456789");
}

TEST(RequestParser, ChunkedBodyOverTheCap) {
  const std::string h = head("POST / HTTP/1.1", {"Host: a", "Transfer-Encoding: chunked"});
  EXPECT_TRUE(refused(h + "6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n", 413, "http.body-too-large", 10));
  EXPECT_TRUE(refused(h + "b\r\n", 413, "http.body-too-large", 10));  // before the data arrives
  // A huge size (15 hex digits) is a 413, not an overflow.
  EXPECT_TRUE(refused(h + "fffffffffffffff\r\n", 413, "http.body-too-large", 10));
  EXPECT_TRUE(refused(h + "1\r\na\r\nfffffffffffffff\r\n", 413, "http.body-too-large", 10));
  // Incrementally: the second chunk's size line is enough to refuse.
  RequestParser p(10);
  std::string first = h + "6\r\nabcdef\r\n";
  p.feed(first.data(), first.size());
  EXPECT_EQ(drive(p), State::kNeedMore);
  p.feed("5\r\n", 3);
  EXPECT_EQ(p.next(), State::kError);
  EXPECT_EQ(p.error().status, 413);
  // Exactly the cap is allowed.
  RequestParser ok(10);
  ASSERT_TRUE(completes(ok, h + "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n"));
  EXPECT_EQ(ok.request().body, "abcdefghij");
}

// --- Bodies announced on methods that take none -----------------------------------------------

TEST(RequestParser, GetWithContentLengthLeavesTheBodyUnread) {
  // The "body" is itself a request: it must never be taken for one on this connection.
  const std::string smuggled = head("DELETE /Patient/1 HTTP/1.1", {"Host: a"});
  const std::string in =
      head("GET /Patient HTTP/1.1",
           {"Host: a", "Content-Length: " + std::to_string(smuggled.size())}) + smuggled;
  RequestParser p(kBigBody);
  int headersDone = 0;
  ASSERT_EQ(parseAll(p, in, &headersDone), State::kComplete);
  EXPECT_EQ(headersDone, 0);
  EXPECT_EQ(p.request().method, "GET");
  EXPECT_EQ(p.request().target, "/Patient");
  EXPECT_TRUE(p.request().unreadBody);
  EXPECT_FALSE(p.request().keepAlive);
  EXPECT_TRUE(p.request().body.empty());
  // Further calls stay on this request; the body bytes are not parsed.
  EXPECT_EQ(p.next(), State::kComplete);
  EXPECT_EQ(p.request().method, "GET");
}

TEST(RequestParser, GetWithContentLengthCompletesWithoutTheBodyArriving) {
  RequestParser p(kBigBody);
  ASSERT_TRUE(completes(p, head("GET / HTTP/1.1", {"Host: a", "Content-Length: 5"})));
  EXPECT_TRUE(p.request().unreadBody);
  EXPECT_FALSE(p.request().keepAlive);
}

TEST(RequestParser, BodilessMethodsWithChunkedBody) {
  for (const char* method : {"GET", "HEAD", "DELETE", "OPTIONS"}) {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head(std::string(method) + " / HTTP/1.1",
                                  {"Host: a", "Transfer-Encoding: chunked"}) +
                                 "5\r\nhello\r\n0\r\n\r\n"));
    EXPECT_EQ(p.request().method, method);
    EXPECT_TRUE(p.request().unreadBody) << method;
    EXPECT_FALSE(p.request().keepAlive) << method;
    EXPECT_TRUE(p.request().body.empty()) << method;
  }
}

TEST(RequestParser, GetWithZeroContentLengthIsNormal) {
  RequestParser p(kBigBody);
  ASSERT_TRUE(completes(p, head("GET / HTTP/1.1", {"Host: a", "Content-Length: 0"})));
  EXPECT_FALSE(p.request().unreadBody);
  EXPECT_TRUE(p.request().keepAlive);
}

// Methods are case-sensitive (RFC 9110 section 9.1): "post" is a valid token but not POST, so it
// is not given a body either; whatever it announced stays unread and the connection closes.
TEST(RequestParser, LowercaseMethodIsNotTheUppercaseOne) {
  RequestParser p(kBigBody);
  ASSERT_TRUE(completes(p, head("post / HTTP/1.1", {"Host: a", "Content-Length: 5"}) + "hello"));
  EXPECT_EQ(p.request().method, "post");
  EXPECT_TRUE(p.request().unreadBody);
  EXPECT_FALSE(p.request().keepAlive);
  EXPECT_TRUE(p.request().body.empty());
}

// --- Request line ---------------------------------------------------------------------------

TEST(RequestParser, BadRequestLines) {
  for (const std::string& line : {
           std::string("GET  / HTTP/1.1"),      // two spaces
           std::string("GET / HTTP/1.1 "),      // trailing space
           std::string("GET / / HTTP/1.1"),     // too many parts
           std::string("GET /HTTP/1.1"),        // too few
           std::string("GET"),                  // no target, no version
           std::string(" / HTTP/1.1"),          // empty method
           std::string(" GET / HTTP/1.1"),      // leading space
           std::string("GE(T / HTTP/1.1"),      // method character not a token
           std::string("GE\"T / HTTP/1.1"),
           std::string("G\xc3\x89T / HTTP/1.1"),  // non-ASCII
           std::string("GET\t/\tHTTP/1.1"),     // tabs are not separators
           std::string("GET /a\x01z HTTP/1.1"),  // control characters in the target
           std::string("GET /a\x7fz HTTP/1.1"),
           std::string("GET /a\tz HTTP/1.1"),
           "GET /a\0z HTTP/1.1"s,
           std::string("GET /a\rz HTTP/1.1"),   // bare CR
           std::string("GET / http/1.1"),       // version is case-sensitive
           std::string("GET / FOO/1.1"),
       }) {
    EXPECT_TRUE(refused(head(line, {"Host: a"}), 400, "http.bad-request-line"));
  }
}

TEST(RequestParser, UnsupportedHttpVersion) {
  for (const char* version : {"HTTP/2.0", "HTTP/2", "HTTP/0.9", "HTTP/3.0"}) {
    EXPECT_TRUE(refused(head(std::string("GET / ") + version, {"Host: a"}), 505,
                        "http.version-not-supported"));
  }
  // A malformed version is refused either way.
  RequestParser p(kBigBody);
  ASSERT_EQ(parseAll(p, head("GET / HTTP/1.1x", {"Host: a"})), State::kError);
  EXPECT_TRUE(p.error().status == 400 || p.error().status == 505) << p.error().status;
}

TEST(RequestParser, RequestLineLength) {
  const size_t limit = RequestParser::kMaxRequestLine;
  auto lineOf = [](size_t size) {
    std::string prefix = "GET /";
    std::string suffix = " HTTP/1.1";
    return prefix + std::string(size - prefix.size() - suffix.size(), 'a') + suffix;
  };
  // Exactly the limit is accepted, whole or byte by byte.
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head(lineOf(limit), {"Host: a"})));
    EXPECT_EQ(p.request().target.size(), limit - 13);
  }
  {
    RequestParser p(kBigBody);
    EXPECT_EQ(parseBytewise(p, head(lineOf(limit), {"Host: a"})), State::kComplete)
        << p.error().status << " " << p.error().code;
  }
  // One more is a 414, complete or not.
  EXPECT_TRUE(refused(head(lineOf(limit + 1), {"Host: a"}), 414, "http.uri-too-long"));
  EXPECT_TRUE(refused(lineOf(limit + 1000), 414, "http.uri-too-long"));
  {
    RequestParser p(kBigBody);
    std::string partial = "GET /" + std::string(limit - 5, 'a');  // no line end yet
    p.feed(partial.data(), partial.size());
    EXPECT_EQ(p.next(), State::kNeedMore);
    p.feed("a", 1);
    EXPECT_EQ(p.next(), State::kError);
    EXPECT_EQ(p.error().status, 414);
    EXPECT_EQ(p.error().code, "http.uri-too-long");
  }
  {
    // Fed byte by byte with no line end: refused at the first byte beyond the limit.
    RequestParser p(kBigBody);
    std::string junk(limit + 1, 'A');
    size_t i = 0;
    State s = State::kNeedMore;
    for (; i < junk.size() && s == State::kNeedMore; ++i) {
      p.feed(&junk[i], 1);
      s = p.next();
    }
    EXPECT_EQ(s, State::kError);
    EXPECT_EQ(i, limit + 1);
    EXPECT_EQ(p.error().status, 414);
  }
}

// --- Header fields --------------------------------------------------------------------------

TEST(RequestParser, ObsoleteLineFoldingRefused) {
  EXPECT_TRUE(refused(head("GET / HTTP/1.1", {"Host: a", "X-Long: one", " two"}), 400,
                      "http.bad-header"));
  EXPECT_TRUE(refused(head("GET / HTTP/1.1", {"Host: a", "X-Long: one", "\ttwo"}), 400,
                      "http.bad-header"));
  // A first field line that starts with whitespace (RFC 9112 section 2.2).
  EXPECT_TRUE(refused(head("GET / HTTP/1.1", {" Host: a"}), 400, "http.bad-header"));
}

TEST(RequestParser, WhitespaceBeforeColonRefused) {
  for (const char* field : {"Host : a", "Host\t: a", "Content-Length : 5",
                            "Transfer-Encoding : chunked", "X Y: z"}) {
    EXPECT_TRUE(refused(head("POST / HTTP/1.1", {"Host: a", "Content-Length: 0", field}), 400,
                        "http.bad-header"));
  }
}

TEST(RequestParser, MalformedFieldLinesRefused) {
  for (const std::string& field :
       {std::string("no colon"), std::string(": no name"), std::string("X(: y"),
        std::string("X\x01Y: z"), std::string("\r")}) {
    EXPECT_TRUE(refused(head("GET / HTTP/1.1", {"Host: a", field}), 400, "http.bad-header"))
        << show(field);
  }
}

// NUL is not a token character (RFC 9110 section 5.6.2), in a method or a field name. A
// C-string based intermediary would read "Transfer-Encoding\0" as Transfer-Encoding and frame
// the body differently from this parser (request smuggling).
TEST(RequestParser, NulIsNotATokenCharacter) {
  EXPECT_TRUE(refused(head("GE\0T / HTTP/1.1"s, {"Host: a"}), 400, "http.bad-request-line"));
  EXPECT_TRUE(refused(head("GET / HTTP/1.1", {"Host: a", "X\0Y: z"s}), 400, "http.bad-header"));
  EXPECT_TRUE(refused(head("POST / HTTP/1.1",
                           {"Host: a", "Content-Length: 5", "Transfer-Encoding\0: chunked"s}) +
                          "0\r\n\r\n",
                      400, "http.bad-header"));
  EXPECT_TRUE(refused(head("POST / HTTP/1.1", {"Host: a", "Content-Length\0: 5"s}) + "hello", 400,
                      "http.bad-header"));
}

TEST(RequestParser, ControlCharacterInValueRefused) {
  for (const std::string& value :
       {std::string("a\x01z"), "a\0z"s, std::string("a\x7fz"),
        std::string("a\rz"), std::string("a\x1bz"), std::string("a\x0bz")}) {
    EXPECT_TRUE(refused(head("GET / HTTP/1.1", {"Host: a", "X-Value: " + value}), 400,
                        "http.bad-header"))
        << show(value);
  }
  // HTAB and bytes above 0x7f (obs-text) are allowed inside a value.
  RequestParser p(kBigBody);
  ASSERT_TRUE(completes(p, head("GET / HTTP/1.1", {"Host: a", "X-Value: a\tb \xc3\xa9"})));
  EXPECT_EQ(*p.request().header("x-value"), "a\tb \xc3\xa9");
}

TEST(RequestParser, HeaderFieldCount) {
  std::vector<std::string> fields;
  for (size_t i = 0; i < RequestParser::kMaxHeaderFields; ++i)
    fields.push_back("X-F" + std::to_string(i) + ": v");
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head("GET / HTTP/1.1", fields)));
    EXPECT_EQ(p.request().headers.size(), RequestParser::kMaxHeaderFields);
  }
  fields.push_back("X-One-Too-Many: v");
  EXPECT_TRUE(refused(head("GET / HTTP/1.1", fields), 400, "http.header-too-large"));
  // Refused as the extra field arrives, without waiting for the end of the head.
  RequestParser p(kBigBody);
  std::string partial = "GET / HTTP/1.1\r\n";
  for (const std::string& f : fields) partial += f + "\r\n";
  p.feed(partial.data(), partial.size());
  EXPECT_EQ(p.next(), State::kError);
  EXPECT_EQ(p.error().code, "http.header-too-large");
}

TEST(RequestParser, HeaderNameLength) {
  const size_t limit = RequestParser::kMaxHeaderName;
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head("GET / HTTP/1.1", {"Host: a", std::string(limit, 'N') + ": v"})));
    ASSERT_NE(p.request().header(std::string(limit, 'n')), nullptr);
  }
  RequestParser p(kBigBody);
  EXPECT_EQ(parseAll(p, head("GET / HTTP/1.1", {"Host: a", std::string(limit + 1, 'N') + ": v"})),
            State::kError);
  EXPECT_EQ(p.error().status, 400);
  EXPECT_FALSE(p.error().code.empty());
}

TEST(RequestParser, HeaderValueLength) {
  const size_t limit = RequestParser::kMaxHeaderValue;
  {
    RequestParser p(kBigBody);
    ASSERT_TRUE(completes(p, head("GET / HTTP/1.1", {"Host: a", "X: " + std::string(limit, 'v')})));
    EXPECT_EQ(p.request().header("x")->size(), limit);
  }
  EXPECT_TRUE(refused(head("GET / HTTP/1.1", {"Host: a", "X: " + std::string(limit + 1, 'v')}),
                      400, "http.header-too-large"));
  // A field line that never ends is refused once over-long, not buffered forever.
  RequestParser p(kBigBody);
  std::string in = "GET / HTTP/1.1\r\nX: " + std::string(4 * limit, 'v');
  p.feed(in.data(), in.size());
  EXPECT_EQ(p.next(), State::kError);
  EXPECT_EQ(p.error().status, 400);
  EXPECT_EQ(p.error().code, "http.header-too-large");
}

// --- Error messages -------------------------------------------------------------------------

TEST(RequestParser, ErrorMessagesNeverEchoRequestBytes) {
  const std::vector<std::string> inputs = {
      head("POST / HTTP/1.1", {"Host: a", "Content-Length: EVIL"}),
      head("POST / HTTP/1.1", {"Host: a", "Content-Length: 5", "Content-Length: 6EVIL"}),
      head("POST / HTTP/1.1", {"Host: a", "Transfer-Encoding: EVIL"}),
      head("EV(IL / HTTP/1.1", {"Host: a"}),
      head("GET /EVIL\x01 HTTP/1.1", {"Host: a"}),
      head("GET / EVIL/1.1", {"Host: a"}),
      head("GET / HTTP/9.EVIL", {"Host: a"}),
      head("GET /" + std::string(9000, 'x') + "EVIL HTTP/1.1", {"Host: a"}),
      head("GET / HTTP/1.1", {"Host: a", "EVIL : x"}),
      head("GET / HTTP/1.1", {"Host: a", "X: EVIL\x01"}),
      head("GET / HTTP/1.1", {"Host: a", " EVIL"}),
      head("GET / HTTP/1.1", {"Host: a", "EVIL" + std::string(300, 'x') + ": y"}),
      head("PUT /EVIL HTTP/1.1", {"Host: EVIL"}),
      head("POST / HTTP/1.1", {"Host: a", "Transfer-Encoding: chunked"}) + "EVIL\r\n",
      head("POST / HTTP/1.1", {"Host: a", "Transfer-Encoding: chunked"}) + "3\r\nabcEVIL\r\n",
      head("POST / HTTP/1.1", {"Host: a", "Transfer-Encoding: chunked"}) + "0\r\nEVIL\r\n\r\n",
  };
  for (const std::string& in : inputs) {
    RequestParser p(kBigBody);
    ASSERT_EQ(parseAll(p, in), State::kError) << show(in);
    EXPECT_FALSE(p.error().message.empty()) << show(in);
    EXPECT_EQ(p.error().message.find("EVIL"), std::string::npos)
        << show(in) << " -> " << p.error().message;
    EXPECT_EQ(p.error().message.find("evil"), std::string::npos) << show(in);
  }
}

}  // namespace
}  // namespace acp::http
