// Character sets: MSH-18 handling in the parser, UTF-8 validation, conversions.
#include "gateway/hl7v2/charset.h"

#include <gtest/gtest.h>

#include <string>

#include "gateway/hl7v2/parser.h"

namespace acp::hl7v2 {
namespace {

std::string msh(const std::string& charset) {
  return "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|C1|P|2.4|||AL|NE||" + charset +
         "\r";
}

TEST(Charset, Names) {
  EXPECT_EQ(charsetFromName("").value(), Charset::kLatin1);
  EXPECT_EQ(charsetFromName("8859/1").value(), Charset::kLatin1);
  EXPECT_EQ(charsetFromName(" UNICODE UTF-8 ").value(), Charset::kUtf8);
  EXPECT_EQ(charsetFromName("unicode utf-8").value(), Charset::kUtf8);
  EXPECT_EQ(charsetFromName("ASCII").value(), Charset::kAscii);
  for (const char* name : {"UTF-8", "UNICODE", "8859/15", "ISO IR87", "UNICODE UTF-16"}) {
    Result<Charset> r = charsetFromName(name);
    ASSERT_FALSE(r.isOk()) << name;
    EXPECT_EQ(r.status().code(), Status::Code::kNotSupported);
  }
  EXPECT_EQ(charsetName(Charset::kUtf8), "UNICODE UTF-8");
}

TEST(Charset, Utf8Validation) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ASCII text, long enough for the fast path"));
  EXPECT_TRUE(isValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  size_t at = 99;
  EXPECT_FALSE(isValidUtf8("abc\xE9xyz", &at));  // Latin-1 é
  EXPECT_EQ(at, 3u);
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xF8\x88\x80\x80\x80"));
  EXPECT_FALSE(isValidUtf8("abcdefgh\xC3"));  // truncated at the end
  EXPECT_FALSE(isValidUtf8("\x80"));
}

TEST(Charset, Conversions) {
  std::string out;
  appendAsUtf8("Ren\xE9 \xFF", Charset::kLatin1, out);
  EXPECT_EQ(out, "Ren\xC3\xA9 \xC3\xBF");
  out.clear();
  appendUtf8AsLatin1("Ren\xC3\xA9 \xE2\x82\xAC", out);
  EXPECT_EQ(out, "Ren\xE9 ?");
  out.clear();
  appendSanitized(
      "a\x01"
      "b\xFF"
      "c\xC3\xA9",
      out, 100);
  EXPECT_EQ(out, "a?b?c\xC3\xA9");
  out.clear();
  appendSanitized("caf\xC3\xA9", out, 4);  // never cuts a character in two
  EXPECT_EQ(out, "caf");
}

TEST(ParsedCharset, EmptyMsh18MeansLatin1) {
  ParseResult r = parse(msh("") + "PID|1||1||Ren\xE9^Zo\xEB||\r");
  ASSERT_TRUE(r.ok()) << r.errors[0].message;
  EXPECT_EQ(r.message.charset(), Charset::kLatin1);
  EXPECT_EQ(r.message.text("PID", 5, 1, 1), "Ren\xC3\xA9");
  EXPECT_EQ(r.message.text("PID", 5, 1, 2), "Zo\xC3\xAB");
  // raw() keeps the bytes as sent.
  EXPECT_EQ(r.message.raw("PID", 5, 1, 1), "Ren\xE9");
  // Same without MSH-18 at all.
  ParseResult r2 = parse(
      "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|C1|P|2.4\r"
      "PID|1||1||Ren\xE9\r");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2.message.text("PID", 5), "Ren\xC3\xA9");
}

TEST(ParsedCharset, Explicit8859_1) {
  ParseResult r = parse(msh("8859/1") +
                        "NTE|1||\xA3"
                        "5\r");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message.text("NTE", 3),
            "\xC2\xA3"
            "5");  // £5
  EXPECT_EQ(r.message.header().charset, "8859/1");
}

TEST(ParsedCharset, Utf8IsValidated) {
  ParseResult ok = parse(msh("UNICODE UTF-8") + "PID|1||1||Ren\xC3\xA9\r");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.message.text("PID", 5), "Ren\xC3\xA9");

  ParseResult bad = parse(msh("UNICODE UTF-8") + "PID|1||1||Ren\xE9^x\r");
  ASSERT_FALSE(bad.ok());
  ASSERT_EQ(bad.errors.size(), 1u);
  const Error& e = bad.errors[0];
  EXPECT_EQ(e.code, ErrorCode::kDataTypeError);
  EXPECT_EQ(e.segmentId, "PID");
  EXPECT_EQ(e.field, 5);
  EXPECT_NE(e.message.find("invalid UTF-8"), std::string::npos);
  EXPECT_NE(e.message.find("0xE9"), std::string::npos);
  EXPECT_TRUE(bad.message.empty());
  EXPECT_TRUE(bad.headerRead);
  EXPECT_EQ(bad.header.controlId, "C1");

  // Invalid UTF-8 in the MSH itself.
  ParseResult badMsh = parse(
      "MSH|^~\\&|P\xC3S|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|C1|P|2.4|||AL|NE||"
      "UNICODE UTF-8\r");
  ASSERT_FALSE(badMsh.ok());
  EXPECT_EQ(badMsh.errors[0].field, 3);
  EXPECT_EQ(badMsh.header.sendingApplication.namespaceId, "P?S");  // sanitised
}

TEST(ParsedCharset, AsciiRefusesHighBytes) {
  EXPECT_TRUE(parse(msh("ASCII") + "NTE|1||plain\r").ok());
  ParseResult r = parse(msh("ASCII") + "NTE|1||caf\xC3\xA9\r");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].message.find("non-ASCII"), std::string::npos);
}

TEST(ParsedCharset, UnknownCharsetIsError103) {
  ParseResult r = parse(msh("8859/15") + "PID|1||1\r");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  const Error& e = r.errors[0];
  EXPECT_EQ(e.code, ErrorCode::kTableValueNotFound);
  EXPECT_EQ(e.location(), "MSH-18");
  EXPECT_NE(e.message.find("'8859/15'"), std::string::npos);
  EXPECT_TRUE(r.message.empty());
  ASSERT_TRUE(r.headerRead);
  EXPECT_EQ(r.header.charset, "8859/15");
  EXPECT_EQ(r.header.controlId, "C1");
}

TEST(ParsedCharset, OnlyTheFirstRepetitionOfMsh18Counts) {
  ParseResult r = parse(msh("UNICODE UTF-8~8859/1") + "NTE|1||\xC3\xA9\r");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message.charset(), Charset::kUtf8);
}

}  // namespace
}  // namespace acp::hl7v2
