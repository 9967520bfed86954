#include "gateway/model/primitives.h"

#include <gtest/gtest.h>

#include <string>

namespace acp::model::primitives {
namespace {

TEST(Primitives, Names) {
  EXPECT_EQ(primitiveFromName("dateTime"), Primitive::kDateTime);
  EXPECT_EQ(primitiveFromName("positiveInt"), Primitive::kPositiveInt);
  EXPECT_EQ(primitiveFromName("http://hl7.org/fhirpath/System.String"), Primitive::kString);
  EXPECT_EQ(primitiveFromName("HumanName"), Primitive::kUnknown);
  EXPECT_STREQ(primitiveName(Primitive::kBase64Binary), "base64Binary");
  EXPECT_EQ(jsonKindOf(Primitive::kBoolean), JsonKind::kBoolean);
  EXPECT_EQ(jsonKindOf(Primitive::kDecimal), JsonKind::kNumber);
  EXPECT_EQ(jsonKindOf(Primitive::kUnsignedInt), JsonKind::kNumber);
  EXPECT_EQ(jsonKindOf(Primitive::kCode), JsonKind::kString);
}

TEST(Primitives, Id) {
  EXPECT_TRUE(isValidId("a"));
  EXPECT_TRUE(isValidId("Ab-1.2"));
  EXPECT_TRUE(isValidId(std::string(64, 'x')));
  EXPECT_FALSE(isValidId(std::string(65, 'x')));
  EXPECT_FALSE(isValidId(""));
  EXPECT_FALSE(isValidId("a b"));
  EXPECT_FALSE(isValidId("a_b"));
  EXPECT_FALSE(isValidId("a/b"));
  EXPECT_FALSE(isValidId("é"));
}

TEST(Primitives, DateIsARealCalendarDate) {
  for (const char* ok : {"2024", "2024-02", "2024-02-29", "2000-02-29", "1970-12-31", "0001",
                         "2023-04-30", "9999-12-31"})
    EXPECT_TRUE(isValidDate(ok)) << ok;
  for (const char* bad : {"0000", "2023-02-29", "1900-02-29", "2023-04-31", "2023-13", "2023-00",
                          "2023-01-00", "2023-01-32", "2023-1-01", "20230101", "202", "2023-",
                          "2023-01-", "2023-01-01T10:00:00Z", " 2023", "2023-01-01 "})
    EXPECT_FALSE(isValidDate(bad)) << bad;
}

TEST(Primitives, DateTimeNeedsSecondsAndTimezoneWithATime) {
  for (const char* ok :
       {"2024", "2024-03", "2024-03-01", "2024-03-01T10:11:12Z", "2024-03-01T10:11:12.123456+01:00",
        "2024-03-01T23:59:60-13:59", "2024-03-01T00:00:00+14:00", "2024-03-01T00:00:00-00:00"})
    EXPECT_TRUE(isValidDateTime(ok)) << ok;
  for (const char* bad :
       {"2024-03-01T10:11:12", "2024-03-01T10:11Z", "2024-03T10:11:12Z", "2024-03-01T24:00:00Z",
        "2024-03-01T10:60:00Z", "2024-03-01T10:00:61Z", "2024-03-01T10:00:00.Z",
        "2024-03-01T10:00:00+14:01", "2024-03-01T10:00:00+15:00", "2024-03-01T10:00:00+0100",
        "2024-03-01T10:00:00z", "2024-02-30T10:00:00Z", "2024-03-01T", "2024-03-01 10:00:00Z",
        "2024-03-01T10:00:00Zjunk"})
    EXPECT_FALSE(isValidDateTime(bad)) << bad;
}

TEST(Primitives, InstantNeedsFullPrecisionAndTimezone) {
  EXPECT_TRUE(isValidInstant("2024-03-01T10:11:12Z"));
  EXPECT_TRUE(isValidInstant("2024-03-01T10:11:12.5-05:00"));
  EXPECT_FALSE(isValidInstant("2024-03-01"));
  EXPECT_FALSE(isValidInstant("2024-03-01T10:11Z"));
  EXPECT_FALSE(isValidInstant("2024-03-01T10:11:12"));
  EXPECT_FALSE(isValidInstant("2024-03"));
}

TEST(Primitives, Time) {
  EXPECT_TRUE(isValidTime("00:00:00"));
  EXPECT_TRUE(isValidTime("23:59:59.999"));
  EXPECT_FALSE(isValidTime("24:00:00"));
  EXPECT_FALSE(isValidTime("10:00"));
  EXPECT_FALSE(isValidTime("10:00:00Z"));
  EXPECT_FALSE(isValidTime("1:00:00"));
}

TEST(Primitives, Numbers) {
  for (const char* ok : {"0", "-0", "1.50", "-12.0", "1e10", "1E-3", "0.000", "123456789012345"})
    EXPECT_TRUE(isValidDecimal(ok)) << ok;
  for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "+1", "1,5", "NaN", "1.5.1", "1e+"})
    EXPECT_FALSE(isValidDecimal(bad)) << bad;
  EXPECT_TRUE(isValidInteger("0"));
  EXPECT_TRUE(isValidInteger("-2147483648"));
  EXPECT_TRUE(isValidInteger("2147483647"));
  EXPECT_FALSE(isValidInteger("2147483648"));
  EXPECT_FALSE(isValidInteger("-2147483649"));
  EXPECT_FALSE(isValidInteger("99999999999"));
  EXPECT_FALSE(isValidInteger("1.0"));
  EXPECT_FALSE(isValidInteger("01"));
  EXPECT_FALSE(isValidInteger("1e2"));
  EXPECT_TRUE(isValidPositiveInt("1"));
  EXPECT_TRUE(isValidPositiveInt("2147483647"));
  EXPECT_FALSE(isValidPositiveInt("0"));
  EXPECT_FALSE(isValidPositiveInt("-1"));
  EXPECT_FALSE(isValidPositiveInt("2147483648"));
  EXPECT_TRUE(isValidUnsignedInt("0"));
  EXPECT_FALSE(isValidUnsignedInt("-0"));
  EXPECT_FALSE(isValidUnsignedInt("00"));
  EXPECT_FALSE(isValidUnsignedInt("2147483648"));
}

TEST(Primitives, IdentifiersAndUris) {
  EXPECT_TRUE(isValidOid("urn:oid:2.16.840.1.113883"));
  EXPECT_TRUE(isValidOid("urn:oid:1.0"));
  EXPECT_FALSE(isValidOid("urn:oid:1"));
  EXPECT_FALSE(isValidOid("urn:oid:3.1"));
  EXPECT_FALSE(isValidOid("urn:oid:1.01"));
  EXPECT_FALSE(isValidOid("urn:oid:1..2"));
  EXPECT_FALSE(isValidOid("1.2.3"));
  EXPECT_TRUE(isValidUuid("urn:uuid:9a3c5f2e-1d4b-4c8a-9e6f-2b7d8c1a0e51"));
  EXPECT_FALSE(isValidUuid("urn:uuid:9A3C5F2E-1D4B-4C8A-9E6F-2B7D8C1A0E51"));
  EXPECT_FALSE(isValidUuid("urn:uuid:9a3c5f2e1d4b4c8a9e6f2b7d8c1a0e51"));
  EXPECT_FALSE(isValidUuid("9a3c5f2e-1d4b-4c8a-9e6f-2b7d8c1a0e51"));
  EXPECT_TRUE(isValidUri("http://e.org/a?b=c#d"));
  EXPECT_TRUE(isValidUri("urn:ietf:bcp:47"));
  EXPECT_FALSE(isValidUri(""));
  EXPECT_FALSE(isValidUri("a b"));
  EXPECT_FALSE(
      isValidUri("a\x01"
                 "b"));
}

TEST(Primitives, CodeWhitespace) {
  EXPECT_TRUE(isValidCode("active"));
  EXPECT_TRUE(isValidCode("in progress"));
  EXPECT_FALSE(isValidCode(" active"));
  EXPECT_FALSE(isValidCode("active "));
  EXPECT_FALSE(isValidCode("in  progress"));
  EXPECT_FALSE(isValidCode(""));
}

TEST(Primitives, Base64) {
  EXPECT_TRUE(isValidBase64("AAAA"));
  EXPECT_TRUE(isValidBase64("SGVsbG8="));
  EXPECT_TRUE(isValidBase64("SGVs\r\nbG8h"));
  EXPECT_TRUE(isValidBase64("SA=="));
  EXPECT_FALSE(isValidBase64("SA="));
  EXPECT_FALSE(isValidBase64("S==="));
  EXPECT_FALSE(isValidBase64("SA==SA=="));
  EXPECT_FALSE(isValidBase64("SGV!"));
  EXPECT_FALSE(isValidBase64(""));
}

TEST(Primitives, CheckTextPerType) {
  EXPECT_EQ(checkText(Primitive::kBoolean, "true"), nullptr);
  EXPECT_NE(checkText(Primitive::kBoolean, "TRUE"), nullptr);
  EXPECT_EQ(checkText(Primitive::kString, "line\r\n\ttab"), nullptr);
  EXPECT_NE(checkText(Primitive::kString, std::string("nul\0x", 5)), nullptr);
  EXPECT_NE(checkText(Primitive::kMarkdown, "bell\a"), nullptr);
  EXPECT_NE(checkText(Primitive::kString, ""), nullptr);
  EXPECT_EQ(checkText(Primitive::kCanonical, "http://e.org/vs|1.0"), nullptr);
  EXPECT_NE(checkText(Primitive::kUrl, "http://e.org/a b"), nullptr);
  EXPECT_STREQ(checkText(Primitive::kInteger, "2147483648"), "integer outside the 32-bit range");
  EXPECT_STREQ(checkText(Primitive::kInteger, "1.5"), "not an integer");
  EXPECT_EQ(checkText(Primitive::kXhtml, "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"),
            nullptr);
  EXPECT_EQ(checkText(Primitive::kXhtml, "  <div>x</div>\n"), nullptr);
  EXPECT_EQ(checkText(Primitive::kXhtml, "<div/>"), nullptr);
  EXPECT_NE(checkText(Primitive::kXhtml, "<divx>x</divx>"), nullptr);
  EXPECT_NE(checkText(Primitive::kXhtml, "<p>x</p>"), nullptr);
  EXPECT_NE(checkText(Primitive::kXhtml, "<div>x"), nullptr);
  EXPECT_NE(checkText(Primitive::kXhtml, "plain text"), nullptr);
}

TEST(Primitives, XhtmlSafety) {
  EXPECT_EQ(checkXhtmlSafety("<div><p>a <b>b</b> <i>c</i></p><ul><li>d</li></ul></div>"), nullptr);
  EXPECT_EQ(
      checkXhtmlSafety("<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"https://e.org\">"
                       "x</a><img src=\"data:image/png;base64,AAAA\"/></div>"),
      nullptr);
  EXPECT_EQ(
      checkXhtmlSafety("<xhtml:div xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">a</xhtml:div>"),
      nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><script>x</script></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><SCRIPT>x</SCRIPT></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><style>p{}</style></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><object data=\"x\"></object></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><form action=\"x\"></form></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><img src=\"x\" onerror=\"alert(1)\"/></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><a href=\"javascript:alert(1)\">x</a></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><a href=\" JaVaScRiPt:alert(1)\">x</a></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><a href=\"jav&#x09;ascript:alert(1)\">x</a></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><a href=\"&#106;avascript&colon;alert(1)\">x</a></div>"),
            nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><a href=\"data:text/html,<script>x</script>\">x</a></div>"),
            nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><p style=\"width:expression(alert(1))\">x</p></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><!DOCTYPE x></div>"), nullptr);
  EXPECT_NE(checkXhtmlSafety("<div><p title=\"x>"), nullptr);
}

}  // namespace
}  // namespace acp::model::primitives
