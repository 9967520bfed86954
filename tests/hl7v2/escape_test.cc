// Escape sequences: decoding (directly and through the parser), warnings, and escaping.
#include "gateway/hl7v2/escape.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/hl7v2/parser.h"

namespace acp::hl7v2 {
namespace {

const Delimiters kStd;

std::string dec(const std::string& raw, Charset cs = Charset::kUtf8) {
  return decode(raw, kStd, cs);
}

std::vector<EscapeProblem> problems(const std::string& raw, Charset cs = Charset::kUtf8) {
  std::vector<EscapeProblem> out;
  findEscapeProblems(raw, kStd, cs, out);
  return out;
}

TEST(Decode, DelimiterEscapes) {
  EXPECT_EQ(dec("a\\F\\b"), "a|b");
  EXPECT_EQ(dec("a\\S\\b"), "a^b");
  EXPECT_EQ(dec("a\\T\\b"), "a&b");
  EXPECT_EQ(dec("a\\R\\b"), "a~b");
  EXPECT_EQ(dec("a\\E\\b"), "a\\b");
  EXPECT_EQ(dec("\\F\\\\S\\\\T\\\\R\\\\E\\"), "|^&~\\");
  EXPECT_EQ(dec("plain text"), "plain text");
  EXPECT_EQ(dec(""), "");
  EXPECT_TRUE(problems("a\\F\\b\\E\\").empty());
}

TEST(Decode, HexEscapes) {
  EXPECT_EQ(dec("caf\\XC3A9\\"), "caf\xC3\xA9");                  // é as UTF-8
  EXPECT_EQ(dec("caf\\XE9\\", Charset::kLatin1), "caf\xC3\xA9");  // é as Latin-1
  EXPECT_EQ(dec("\\X41424344\\"), "ABCD");
  EXPECT_EQ(dec("\\X4a\\"), "J");                     // lower-case hex
  EXPECT_EQ(dec("\\XE282AC\\ 5"), "\xE2\x82\xAC 5");  // €
  EXPECT_EQ(dec("a\\X0D0A\\b"), "a\r\nb");            // CR LF allowed
  EXPECT_EQ(dec("\\X41\\", Charset::kAscii), "A");
  EXPECT_TRUE(problems("\\XC3A9\\").empty());
}

TEST(Decode, BadHexEscapesAreKeptLiterally) {
  // Odd digit count, not hex, empty, invalid UTF-8, control character, non-ASCII under ASCII.
  EXPECT_EQ(dec("\\XABC\\"), "\\XABC\\");
  EXPECT_EQ(dec("\\XZZ\\"), "\\XZZ\\");
  EXPECT_EQ(dec("\\X\\"), "\\X\\");
  EXPECT_EQ(dec("\\XE9\\"), "\\XE9\\");  // a lone Latin-1 byte is not UTF-8
  EXPECT_EQ(dec("\\X00\\"), "\\X00\\");
  EXPECT_EQ(dec("\\X1B\\"), "\\X1B\\");
  EXPECT_EQ(dec("\\XE9\\", Charset::kAscii), "\\XE9\\");
  EXPECT_EQ(problems("\\XABC\\").size(), 1u);
  EXPECT_EQ(problems("\\XE9\\").size(), 1u);
  EXPECT_TRUE(problems("\\XE9\\", Charset::kLatin1).empty());
  EXPECT_STREQ(problems("\\X00\\")[0].reason, "hex escape decodes to a control character");
  // A long hex run works too.
  std::string longHex = "\\X" + std::string(400, '4') + "1\\";
  EXPECT_EQ(problems(longHex).size(), 1u);  // 401 digits: odd
  std::string evenHex = "\\X" + std::string(400, '4') + "\\";
  EXPECT_EQ(dec(evenHex), std::string(200, 'D'));
}

TEST(Decode, FormattingEscapes) {
  EXPECT_EQ(dec("line 1\\.br\\line 2"), "line 1\nline 2");
  EXPECT_EQ(dec("a\\.sp\\b"), "a\nb");
  EXPECT_EQ(dec("a\\.sp 2\\b"), "a\nb");
  EXPECT_EQ(dec("a\\.sp+3\\b"), "a\nb");
  EXPECT_EQ(dec("a\\.ce\\b"), "a\nb");
  EXPECT_EQ(dec("\\.fi\\a\\.nf\\b"), "ab");
  EXPECT_EQ(dec("\\.in+4\\a\\.ti-2\\b\\.sk 3\\c"), "abc");
  EXPECT_EQ(dec("\\H\\bold\\N\\ text"), "bold text");
  EXPECT_TRUE(problems("\\.br\\\\.sp 2\\\\.in+4\\\\H\\\\N\\").empty());
}

TEST(Decode, UnknownAndUnterminatedEscapesAreKeptLiterally) {
  EXPECT_EQ(dec("a\\Q\\b"), "a\\Q\\b");
  EXPECT_EQ(dec("a\\.xx\\b"), "a\\.xx\\b");
  EXPECT_EQ(dec("a\\.br2\\b"), "a\\.br2\\b");
  EXPECT_EQ(dec("a\\.in+x\\b"), "a\\.in+x\\b");
  EXPECT_EQ(dec("\\C2842\\abc"), "\\C2842\\abc");
  EXPECT_EQ(dec("\\M248422\\abc"), "\\M248422\\abc");
  EXPECT_EQ(dec("\\Zlocal\\"), "\\Zlocal\\");
  EXPECT_EQ(dec("\\P\\"), "\\P\\");    // no truncation character declared
  EXPECT_EQ(dec("a\\\\b"), "a\\\\b");  // empty sequence
  EXPECT_EQ(dec("trailing \\"), "trailing \\");
  EXPECT_EQ(dec("trailing \\F"), "trailing \\F");
  EXPECT_EQ(dec("x\\Fy\\F\\"), "x\\Fy\\F\\");  // unknown "Fy", then F, then a lone escape
  // An unterminated sequence ends at a delimiter: what follows decodes normally.
  EXPECT_EQ(dec("a\\F^b\\S\\c"), "a\\F^b^c");

  auto p = problems("a\\Q\\b\\F\\c\\.xx\\d\\");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].offset, 1u);
  EXPECT_EQ(p[0].length, 3u);
  EXPECT_STREQ(p[0].reason, "unknown escape sequence");
  EXPECT_STREQ(p[1].reason, "unknown formatting escape sequence");
  EXPECT_STREQ(p[2].reason, "unterminated escape sequence");
  EXPECT_EQ(p[2].offset, 15u);
  EXPECT_STREQ(problems("\\C2842\\")[0].reason,
               "character set switching escape sequences are not supported");
}

TEST(Decode, Latin1TextAroundEscapes) {
  // é (0xE9) and ü (0xFC) as Latin-1 bytes around an escape.
  EXPECT_EQ(dec("\xE9\\F\\\xFC", Charset::kLatin1), "\xC3\xA9|\xC3\xBC");
  EXPECT_EQ(dec("\\Q\\\xE9", Charset::kLatin1), "\\Q\\\xC3\xA9");
}

TEST(Escape, DelimitersAndControlCharacters) {
  EXPECT_EQ(escape("a|b^c&d~e\\f", kStd), "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f");
  EXPECT_EQ(escape("l1\nl2\r\nl3\rl4", kStd), "l1\\.br\\l2\\.br\\l3\\.br\\l4");
  EXPECT_EQ(escape(std::string("a\x01\x7F\tb", 5), kStd), "a\\X01\\\\X7F\\\tb");
  EXPECT_EQ(escape("caf\xC3\xA9", kStd), "caf\xC3\xA9");
  Delimiters other = Delimiters::fromMsh('#', "$*!%").value();
  EXPECT_EQ(escape("a#b$c*d!e%f|g", other), "a!F!b!S!c!R!d!E!e!T!f|g");
}

TEST(Escape, RoundTrip) {
  const std::string texts[] = {
      "plain", "a|b^c&d~e\\f", "x\\F\\y", "\\", "||", "a\nb", "caf\xC3\xA9 \xE2\x82\xAC"};
  Delimiters trunc = Delimiters::fromMsh('|', "^~\\&#").value();
  for (const std::string& t : texts) {
    EXPECT_EQ(decode(escape(t, kStd), kStd, Charset::kUtf8), t) << t;
    EXPECT_EQ(decode(escape(t + "#", trunc), trunc, Charset::kUtf8), t + "#") << t;
  }
}

// Through the parser: decoding in accessors, warnings with locations.
TEST(ParsedEscapes, AccessorsDecodeAndParserWarns) {
  ParseResult r = parse(
      "MSH|^~\\&|A|B|C|D|20260101||ORU^R01|1|P|2.4||||||UNICODE UTF-8\r"
      "OBX|1|TX|ESCAL||Line 1\\.br\\Line 2 \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ caf\\XC3A9\\||||||F\r"
      "OBX|2|TX|X||ok~a^b&c\\Q\\d||||||F\r"
      "OBX|3|TX|X||unterminated \\F||||||F\r");
  ASSERT_TRUE(r.ok()) << r.errors[0].message;
  std::vector<Segment> obx = r.message.all("OBX");
  EXPECT_EQ(obx[0].text(5), "Line 1\nLine 2 | ^ & ~ \\ caf\xC3\xA9");
  EXPECT_EQ(obx[1].text(5, 2, 2, 2), "c\\Q\\d");
  EXPECT_EQ(obx[2].text(5), "unterminated \\F");
  ASSERT_EQ(r.errors.size(), 2u);
  const Error& w1 = r.errors[0];
  EXPECT_EQ(w1.severity, Severity::kWarning);
  EXPECT_EQ(w1.code, ErrorCode::kDataTypeError);
  EXPECT_EQ(w1.segmentId, "OBX");
  EXPECT_EQ(w1.segmentSequence, 2);
  EXPECT_EQ(w1.segmentPosition, 3);
  EXPECT_EQ(w1.field, 5);
  EXPECT_EQ(w1.repetition, 2);
  EXPECT_EQ(w1.component, 2);
  EXPECT_EQ(w1.subcomponent, 2);
  EXPECT_EQ(w1.message, "unknown escape sequence '\\Q\\' kept as text");
  EXPECT_EQ(w1.location(), "OBX[2]-5(2).2.2");
  EXPECT_EQ(r.errors[1].segmentSequence, 3);
  EXPECT_EQ(r.errors[1].message, "unterminated escape sequence '\\F' kept as text");
}

TEST(ParsedEscapes, Latin1HexAndBytes) {
  ParseResult r = parse(
      "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.4\r"
      "PID|1||1||Ren\xE9^Zo\\XEB\\\r");
  ASSERT_TRUE(r.ok()) << r.errors[0].message;
  EXPECT_EQ(r.message.text("PID", 5, 1, 1), "Ren\xC3\xA9");
  EXPECT_EQ(r.message.text("PID", 5, 1, 2), "Zo\xC3\xAB");
  EXPECT_TRUE(r.errors.empty());
}

TEST(ParsedEscapes, HexThatIsNotUtf8WarnsAndStaysLiteral) {
  ParseResult r = parse(
      "MSH|^~\\&|A|B|C|D|20260101||ADT^A01|1|P|2.4||||||UNICODE UTF-8\r"
      "PID|1||1||Zo\\XEB\\\r");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message.text("PID", 5), "Zo\\XEB\\");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].severity, Severity::kWarning);
  EXPECT_EQ(r.errors[0].location(), "PID-5.1.1");
}

}  // namespace
}  // namespace acp::hl7v2
