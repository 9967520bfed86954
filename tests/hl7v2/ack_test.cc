// ACK builder: the spec's AA, AE/AR with ERR segments, escaping, failed parses.
#include "gateway/hl7v2/ack.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "gateway/hl7v2/parser.h"
#include "tests/hl7v2/samples.h"

namespace acp::hl7v2 {
namespace {

using testing::join;

AckOptions fixedClock(std::string controlId = "ACK-PAS0001234") {
  AckOptions o;
  o.timestamp = "20261028093001";
  o.controlId = std::move(controlId);
  return o;
}

Error requiredMissing() {
  Error e;
  e.code = ErrorCode::kRequiredFieldMissing;
  e.segmentId = "PID";
  e.segmentSequence = 1;
  e.segmentPosition = 3;
  e.field = 3;
  e.message = "PID-3 has no NHS number";
  return e;
}

TEST(Ack, AcceptMatchesTheSpecExample) {
  ParseResult r = parse(join(testing::kAdmit));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(buildAck(r.message, AckCode::kAccept, ErrorList(), fixedClock()), testing::kAdmitAck);
  // Same from the header alone, and with the default control id ("ACK-" + MSH-10).
  EXPECT_EQ(buildAck(r.header, AckCode::kAccept, ErrorList(), fixedClock("")), testing::kAdmitAck);
}

TEST(Ack, TimestampFromAnInjectedClock) {
  const auto t = std::chrono::system_clock::from_time_t(1793179801);  // 2026-10-28T09:30:01Z
  EXPECT_EQ(formatTimestamp(t), "20261028093001");
  EXPECT_EQ(formatTimestamp(t + std::chrono::milliseconds(999)), "20261028093001");
  const auto summer = std::chrono::system_clock::from_time_t(1782948600);  // 2026-07-01T23:30Z
  EXPECT_EQ(formatTimestamp(summer, std::chrono::minutes(60)), "20260702003000");
  AckOptions o = fixedClock();
  o.timestamp = formatTimestamp(t);
  ParseResult r = parse(join(testing::kAdmit));
  EXPECT_EQ(buildAck(r.message, AckCode::kAccept, ErrorList(), o), testing::kAdmitAck);
  // No timestamp given: the current time, 14 digits.
  o.timestamp.clear();
  std::string ack = buildAck(r.message, AckCode::kAccept, ErrorList(), o);
  ParseResult parsed = parse(ack);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.header.messageTime.size(), 14u);
}

TEST(Ack, ApplicationErrorWithErrSegments) {
  ParseResult r = parse(join(testing::kAdmit));
  ErrorList errors;
  errors.add(requiredMissing());
  Error w;
  w.severity = Severity::kWarning;
  w.code = ErrorCode::kDataTypeError;
  w.segmentId = "OBX";
  w.segmentSequence = 2;
  w.field = 5;
  w.repetition = 1;
  w.component = 2;
  w.message = "value trimmed";
  errors.add(w);
  EXPECT_EQ(buildAck(r.message, AckCode::kError, errors, fixedClock()),
            "MSH|^~\\&|ACPGW|NORTHSHIRE|PAS|RX8|20261028093001||ACK^A01^ACK|ACK-PAS0001234|P|2.4\r"
            "MSA|AE|PAS0001234|PID-3 has no NHS number\r"
            "ERR|PID^1^3^101&Required field missing&HL70357|PID^1^3|101^Required field missing^"
            "HL70357|E||||PID-3 has no NHS number\r"
            "ERR|OBX^2^5^102&Data type error&HL70357|OBX^2^5^1^2|102^Data type error^HL70357|W||||"
            "value trimmed\r");
}

TEST(Ack, RejectForAnUnsupportedEvent) {
  ParseResult r =
      parse("MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A99^ADT_A01|PAS9|P|2.4\r");
  ASSERT_TRUE(r.ok());
  ErrorList errors;
  HeaderPolicy policy;
  policy.events = {"ADT^A01"};
  ASSERT_FALSE(checkHeader(r.header, policy, errors));
  EXPECT_EQ(buildAck(r.message, AckCode::kReject, errors, fixedClock("ACK-PAS9")),
            "MSH|^~\\&|ACPGW|NORTHSHIRE|PAS|RX8|20261028093001||ACK^A99^ACK|ACK-PAS9|P|2.4\r"
            "MSA|AR|PAS9|event 'ADT\\S\\A99' is not supported\r"
            "ERR|MSH^1^9^201&Unsupported event code&HL70357|MSH^1^9^^2|201^Unsupported event "
            "code^HL70357|E||||event 'ADT\\S\\A99' is not supported\r");
}

TEST(Ack, TextWithDelimitersAndLineBreaksIsEscaped) {
  ParseResult r = parse(join(testing::kAdmit));
  ErrorList errors;
  Error e = requiredMissing();
  e.message = "bad value 'a|b^c~d\\e&f'\nsecond line";
  errors.add(e);
  std::string ack = buildAck(r.message, AckCode::kError, errors, fixedClock());
  const std::string escaped = "bad value 'a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f'\\.br\\second line";
  EXPECT_NE(ack.find("MSA|AE|PAS0001234|" + escaped + "\r"), std::string::npos) << ack;
  EXPECT_NE(ack.find("|E||||" + escaped + "\r"), std::string::npos) << ack;
  // The ACK parses back to the same text.
  ParseResult back = parse(ack);
  ASSERT_TRUE(back.ok()) << back.errors[0].message;
  EXPECT_EQ(back.message.segmentCount(), 3u);
  EXPECT_EQ(back.message.text("ERR", 8), e.message);
  EXPECT_EQ(back.message.text("MSA", 3), e.message);
  EXPECT_EQ(back.message.text("ERR", 3, 1, 1), "101");
  EXPECT_EQ(back.message.text("ERR", 1, 1, 4, 2), "Required field missing");
  EXPECT_EQ(back.message.text("ERR", 4), "E");
}

TEST(Ack, EchoedValuesAreEscapedToo) {
  // A control id and sender with escaped delimiters come back escaped, not raw.
  ParseResult r =
      parse("MSH|^~\\&|P\\S\\AS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|C\\F\\1|P|2.4\r");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.header.controlId, "C|1");
  std::string ack = buildAck(r.message, AckCode::kAccept, ErrorList(), fixedClock("A1"));
  EXPECT_EQ(ack,
            "MSH|^~\\&|ACPGW|NORTHSHIRE|P\\S\\AS|RX8|20261028093001||ACK^A01^ACK|A1|P|2.4\r"
            "MSA|AA|C\\F\\1\r");
}

TEST(Ack, MsaTextIsCut) {
  ParseResult r = parse(join(testing::kAdmit));
  ErrorList errors;
  Error e = requiredMissing();
  e.message = std::string(200, 'x');
  errors.add(e);
  ParseResult back = parse(buildAck(r.message, AckCode::kError, errors, fixedClock()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.message.text("MSA", 3), std::string(80, 'x'));
  EXPECT_EQ(back.message.text("ERR", 8), std::string(200, 'x'));
}

TEST(Ack, UnparseableMessage) {
  ParseResult r = parse("this is not HL7\r");
  ASSERT_FALSE(r.ok());
  AckOptions o = fixedClock("ACK-0001");
  EXPECT_EQ(buildParseFailureAck(r, o),
            "MSH|^~\\&|ACPGW|NORTHSHIRE|||20261028093001||ACK|ACK-0001|P|2.4\r"
            "MSA|AR||message must start with an MSH segment; it starts with 'thi'\r"
            "ERR|^^^100&Segment sequence error&HL70357||100^Segment sequence error^HL70357|E||||"
            "message must start with an MSH segment; it starts with 'thi'\r");
  EXPECT_EQ(buildAckWithoutHeader(r.errors, o), buildParseFailureAck(r, o));
  // Empty input, no control id given.
  ParseResult empty = parse("");
  o.controlId.clear();
  std::string ack = buildParseFailureAck(empty, o);
  EXPECT_EQ(ack.substr(0, ack.find('\r') + 1),
            "MSH|^~\\&|ACPGW|NORTHSHIRE|||20261028093001||ACK|ACK-20261028093001|P|2.4\r");
  EXPECT_TRUE(parse(ack).ok());
}

TEST(Ack, HalfReadMshStillAddressesTheSender) {
  ParseResult r = parse("MSH|^~|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|PAS77|P|2.4\r");
  ASSERT_FALSE(r.ok());
  std::string ack = buildParseFailureAck(r, fixedClock("ACK-PAS77"));
  EXPECT_EQ(
      ack,
      "MSH|^~\\&|ACPGW|NORTHSHIRE|PAS|RX8|20261028093001||ACK^A01^ACK|ACK-PAS77|P|2.4\r"
      "MSA|AR|PAS77|MSH-2 (encoding characters) must be 4 characters, e.g. \\S\\\\R\\\\E\\\\T\\; "
      "got 2 ('\\S\\\\R\\')\r"
      "ERR|MSH^1^2^102&Data type error&HL70357|MSH^1^2|102^Data type error^HL70357|E||||"
      "MSH-2 (encoding characters) must be 4 characters, e.g. \\S\\\\R\\\\E\\\\T\\; got 2 "
      "('\\S\\\\R\\')\r");
}

TEST(Ack, UnsupportedCharsetGetsAnAr) {
  ParseResult r = parse(
      "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|PAS5|P|2.4|||AL|NE||8859/15\r");
  ASSERT_FALSE(r.ok());
  std::string ack = buildParseFailureAck(r, fixedClock("ACK-PAS5"));
  ParseResult back = parse(ack);
  ASSERT_TRUE(back.ok()) << back.errors[0].message;
  EXPECT_EQ(back.message.text("MSA", 1), "AR");
  EXPECT_EQ(back.message.text("MSA", 2), "PAS5");
  EXPECT_EQ(back.message.text("ERR", 3, 1, 1), "103");
  EXPECT_EQ(back.message.text("ERR", 2), "MSH");
  EXPECT_EQ(back.message.text("ERR", 2, 1, 3), "18");
}

TEST(Ack, InboundDelimitersAreUsed) {
  ParseResult r = parse("MSH#$*!%#PAS#RX8#ACPGW#NORTHSHIRE#20261028093000##ADT$A01#C77#P#2.4\r");
  ASSERT_TRUE(r.ok());
  ErrorList errors;
  Error e = requiredMissing();
  e.message = "a#b$c|d";
  errors.add(e);
  EXPECT_EQ(buildAck(r.message, AckCode::kError, errors, fixedClock("K1")),
            "MSH#$*!%#ACPGW#NORTHSHIRE#PAS#RX8#20261028093001##ACK$A01$ACK#K1#P#2.4\r"
            "MSA#AE#C77#a!F!b!S!c|d\r"
            "ERR#PID$1$3$101%Required field missing%HL70357#PID$1$3#101$Required field missing$"
            "HL70357#E####a!F!b!S!c|d\r");
}

TEST(Ack, SenderAndReceiverAreSwappedWithFallbacks) {
  ParseResult r =
      parse("MSH|^~\\&|PAS^1.2.3^ISO|RX8||FAC^2.16^ISO|20261028093000||ADT^A01|C1|P^T|2.4\r");
  ASSERT_TRUE(r.ok());
  AckOptions o = fixedClock("K");
  o.sendingApplication = "GW";
  o.sendingFacility = "HOME";
  EXPECT_EQ(buildAck(r.message, AckCode::kAccept, ErrorList(), o),
            "MSH|^~\\&|GW|FAC^2.16^ISO|PAS^1.2.3^ISO|RX8|20261028093001||ACK^A01^ACK|K|P^T|2.4\r"
            "MSA|AA|C1\r");
}

TEST(Ack, NonAsciiTextFollowsTheInboundCharset) {
  ErrorList errors;
  Error e = requiredMissing();
  e.message = "Ren\xC3\xA9 \xE2\x82\xAC";  // "René €"
  errors.add(e);
  // UTF-8 inbound: UTF-8 out, declared in MSH-18.
  ParseResult utf8 = parse(join(testing::kAdmit));
  std::string a = buildAck(utf8.message, AckCode::kError, errors, fixedClock());
  EXPECT_EQ(a.substr(0, a.find('\r')),
            "MSH|^~\\&|ACPGW|NORTHSHIRE|PAS|RX8|20261028093001||ACK^A01^ACK|ACK-PAS0001234|P|2.4"
            "||||||UNICODE UTF-8");
  ParseResult back = parse(a);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.message.text("ERR", 8), e.message);
  // Latin-1 inbound (MSH-18 empty): Latin-1 out, no MSH-18, € not representable.
  ParseResult latin1 =
      parse("MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|C1|P|2.4\r");
  std::string b = buildAck(latin1.message, AckCode::kError, errors, fixedClock());
  EXPECT_NE(b.find("|Ren\xE9 ?\r"), std::string::npos);
  EXPECT_EQ(b.find("UNICODE"), std::string::npos);
  ParseResult backLatin1 = parse(b);
  ASSERT_TRUE(backLatin1.ok());
  EXPECT_EQ(backLatin1.message.text("ERR", 8), "Ren\xC3\xA9 ?");
}

TEST(Ack, ErrSegmentsAreCapped) {
  ParseResult r = parse(join(testing::kAdmit));
  ErrorList errors;
  for (int i = 0; i < 10; ++i) errors.add(requiredMissing());
  AckOptions o = fixedClock();
  o.maxErrSegments = 3;
  ParseResult back = parse(buildAck(r.message, AckCode::kError, errors, o));
  ASSERT_TRUE(back.ok());
  std::vector<Segment> err = back.message.all("ERR");
  ASSERT_EQ(err.size(), 4u);
  EXPECT_EQ(err[3].text(8), "7 more errors not listed");
  EXPECT_EQ(err[3].text(4), "I");
}

TEST(Ack, CodesAndWarningsInAnAcceptAck) {
  EXPECT_EQ(ackCodeText(AckCode::kAccept), "AA");
  EXPECT_EQ(ackCodeText(AckCode::kError), "AE");
  EXPECT_EQ(ackCodeText(AckCode::kReject), "AR");
  // Parser warnings may travel in an AA; MSA-3 stays empty.
  ParseResult r = parse(join(testing::kAdmit) + "NTE|1||\\Q\\\r");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  std::string ack = buildAck(r.message, AckCode::kAccept, r.errors, fixedClock());
  EXPECT_NE(ack.find("MSA|AA|PAS0001234\rERR|NTE^1^3^102&Data type error&HL70357|NTE^1^3^1^1^1|"
                     "102^Data type error^HL70357|W||||unknown escape sequence '\\E\\Q\\E\\' "
                     "kept as text\r"),
            std::string::npos)
      << ack;
}

}  // namespace
}  // namespace acp::hl7v2

namespace acp::hl7v2 {
namespace {

// Found by fuzzing (tests/fuzz/hl7v2_fuzz.cc): with "-" as the sender's repetition separator,
// the ACK's MSH-18 "UNICODE UTF-8" was written raw and read back as two repetitions, so the
// ACK itself was refused by a parser. It is now escaped, and MSH-18 is read decoded.
TEST(Ack, ANonAsciiAckIsReadableWithADashAsRepetitionSeparator) {
  const std::string in = "MSH|^-\\&|EPR|RX8|ACPGW|NORTHSHIRE|20261108100000||ORU^R01^ORU_R01|"
                         "EPR7|P|2.4|||AL|NE||UNICODE UTF\\R\\8\r"
                         "PID|1||9992530820^^^NHS^NH||Hartley^Zoë\r";
  ParseResult r = parse(in);
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].message);
  EXPECT_EQ(r.header.charset, "UNICODE UTF-8");
  ErrorList warnings;
  Error e;
  e.code = ErrorCode::kRequiredFieldMissing;
  e.severity = Severity::kError;
  e.message = "Zoë's record";  // non-ASCII: the ACK declares UTF-8
  warnings.add(e);
  std::string ack = buildAck(r.message, AckCode::kError, warnings, fixedClock());
  ParseResult back = parse(ack);
  ASSERT_TRUE(back.ok()) << ack;
  EXPECT_EQ(back.header.charset, "UNICODE UTF-8");
  EXPECT_EQ(back.message.text("MSA", 1), "AE");
}

}  // namespace
}  // namespace acp::hl7v2
