// parse(): segment splitting, line ends, MSH reading, structural errors and limits.
#include "gateway/hl7v2/parser.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/hl7v2/samples.h"

namespace acp::hl7v2 {
namespace {

using testing::join;
using testing::kAdmit;
using testing::kDischarge;
using testing::kRespect;

const char* kMinimalMsh = "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|C1|P|2.4";

// The first error (severity error) of a result, for assertions.
const Error& firstError(const ParseResult& r) {
  for (const Error& e : r.errors) {
    if (e.isError()) return e;
  }
  static const Error kNone;
  ADD_FAILURE() << "no error reported";
  return kNone;
}

class LineEnds : public ::testing::TestWithParam<std::string> {};

TEST_P(LineEnds, SpecExamplesParseWithEveryTerminator) {
  for (const auto* sample : {&kAdmit, &kDischarge, &kRespect}) {
    ParseResult r = parse(join(*sample, GetParam()));
    ASSERT_TRUE(r.ok()) << r.errors[0].message;
    EXPECT_TRUE(r.errors.empty());
    ASSERT_EQ(r.message.segmentCount(), sample->size());
    for (size_t i = 0; i < sample->size(); ++i) {
      EXPECT_EQ(r.message.segment(i).raw(), (*sample)[i]);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Terminators, LineEnds, ::testing::Values("\r", "\r\n", "\n"));

TEST(Parse, MixedTerminatorsAndTrailingEmptyLines) {
  std::string msg = kAdmit[0] + "\r\n" + kAdmit[1] + "\n" + kAdmit[2] + "\r" + kAdmit[3] + "\n\r" +
                    kAdmit[4] + "\r\r\n" + kAdmit[5] + "\r\n\r\n\n  \r\n";
  ParseResult r = parse(msg);
  ASSERT_TRUE(r.ok()) << r.errors[0].message;
  ASSERT_EQ(r.message.segmentCount(), kAdmit.size());
  EXPECT_EQ(r.message.segment(5).id(), "PV1");
  EXPECT_EQ(r.message.segment(5).raw(), kAdmit[5]);
}

TEST(Parse, NoTerminatorAfterTheLastSegment) {
  std::string msg = kAdmit[0] + "\r" + kAdmit[1];
  ParseResult r = parse(msg);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.message.segmentCount(), 2u);
  EXPECT_EQ(r.message.text("EVN", 6), "20261028091500");
}

TEST(Parse, LeadingBlankLinesAndByteOrderMarkAreSkipped) {
  ParseResult r = parse("\xEF\xBB\xBF\r\n \r" + join(kAdmit));
  ASSERT_TRUE(r.ok()) << r.errors[0].message;
  EXPECT_EQ(r.message.segment(0).id(), "MSH");
  EXPECT_EQ(r.message.bytes().substr(0, 2), "\r\n");
}

TEST(Parse, OwnedInputIsTakenWithoutChange) {
  std::string msg = join(kRespect);
  ParseResult r = parse(std::string(msg));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message.bytes(), msg);
  EXPECT_EQ(r.message.count("OBX"), 5u);
}

TEST(Parse, SegmentsKeepTheirPositionSequenceAndOffset) {
  std::string msg = join(kRespect);
  ParseResult r = parse(msg);
  ASSERT_TRUE(r.ok());
  std::vector<Segment> obx = r.message.all("OBX");
  ASSERT_EQ(obx.size(), 5u);
  EXPECT_EQ(obx[0].position(), 4);
  EXPECT_EQ(obx[0].sequence(), 1);
  EXPECT_EQ(obx[4].position(), 8);
  EXPECT_EQ(obx[4].sequence(), 5);
  EXPECT_EQ(msg.substr(obx[2].byteOffset(), 6), "OBX|3|");
  EXPECT_EQ(r.message.segment(0).sequence(), 1);
  EXPECT_EQ(r.message.first("PID").position(), 2);
}

TEST(Parse, HeaderHelpersReadTheMsh) {
  ParseResult r = parse(join(kAdmit));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r.headerRead);
  const Header& h = r.message.header();
  EXPECT_EQ(h.sendingApplication.namespaceId, "PAS");
  EXPECT_EQ(h.sendingFacility.namespaceId, "RX8");
  EXPECT_EQ(h.receivingApplication.namespaceId, "ACPGW");
  EXPECT_EQ(h.receivingFacility.namespaceId, "NORTHSHIRE");
  EXPECT_EQ(h.messageTime, "20261028093000");
  EXPECT_EQ(h.messageType, "ADT");
  EXPECT_EQ(h.triggerEvent, "A01");
  EXPECT_EQ(h.messageStructure, "ADT_A01");
  EXPECT_EQ(h.controlId, "PAS0001234");
  EXPECT_EQ(h.processingId, "P");
  EXPECT_EQ(h.version, "2.4");
  EXPECT_EQ(h.acceptAckType, "AL");
  EXPECT_EQ(h.applicationAckType, "NE");
  EXPECT_EQ(h.charset, "UNICODE UTF-8");
  EXPECT_EQ(r.message.charset(), Charset::kUtf8);
  EXPECT_EQ(r.header.controlId, "PAS0001234");
}

TEST(Parse, HdComponentsAndTimestampComponents) {
  ParseResult r =
      parse("MSH|^~\\&|PAS^1.2.3^ISO|RX8|||20261028093000+0100^S||ADT^A08|C9|P^T|2.4^GBR\r");
  ASSERT_TRUE(r.ok());
  const Header& h = r.message.header();
  EXPECT_EQ(h.sendingApplication.namespaceId, "PAS");
  EXPECT_EQ(h.sendingApplication.universalId, "1.2.3");
  EXPECT_EQ(h.sendingApplication.universalIdType, "ISO");
  EXPECT_EQ(h.messageTime, "20261028093000+0100");
  EXPECT_EQ(h.messageStructure, "");
  EXPECT_EQ(h.processingId, "P");
  EXPECT_EQ(h.processingMode, "T");
  EXPECT_EQ(h.version, "2.4");
  EXPECT_EQ(h.charset, "");
  EXPECT_EQ(r.message.charset(), Charset::kLatin1);
}

TEST(Parse, NonDefaultEncodingCharacters) {
  // Field '#', component '$', repetition '*', escape '!', subcomponent '%'.
  std::string msg =
      "MSH#$*!%#PAS#RX8#ACPGW#NORTHSHIRE#20261028093000##ADT$A01$ADT_A01#C77#P#2.4\r"
      "PID#1##9992530820$$$NHS$NH*M123456$$$RX8$MR##Hartley$Amelia%Rose^x|y~z&w\\v\r"
      "NTE#1##a!F!b!S!c!R!d!T!e!E!f\r";
  ParseResult r = parse(msg);
  ASSERT_TRUE(r.ok()) << r.errors[0].message;
  const Message& m = r.message;
  EXPECT_EQ(m.delimiters().field, '#');
  EXPECT_EQ(m.delimiters().escape, '!');
  EXPECT_EQ(m.text("MSH", 1), "#");
  EXPECT_EQ(m.text("MSH", 2), "$*!%");
  EXPECT_EQ(m.text("MSH", 3), "PAS");
  EXPECT_EQ(m.text("MSH", 9, 1, 2), "A01");
  EXPECT_EQ(m.header().triggerEvent, "A01");
  EXPECT_EQ(m.header().controlId, "C77");
  EXPECT_EQ(m.text("PID", 3, 2, 1), "M123456");
  EXPECT_EQ(m.text("PID", 3, 2, 5), "MR");
  EXPECT_EQ(m.text("PID", 5, 1, 2, 1), "Amelia");
  EXPECT_EQ(m.text("PID", 5, 1, 2, 2), "Rose^x|y~z&w\\v");  // default delimiters are just text
  EXPECT_EQ(m.text("NTE", 3), "a#b$c*d%e!f");
  EXPECT_TRUE(r.errors.empty());
}

TEST(Parse, FiveEncodingCharactersAcceptTheTruncationCharacter) {
  ParseResult r = parse("MSH|^~\\&#|A|B|C|D|20260101||ADT^A01|1|P|2.7\rNTE|1||x\\P\\y\r");
  ASSERT_TRUE(r.ok()) << r.errors[0].message;
  EXPECT_EQ(r.message.delimiters().truncation, '#');
  EXPECT_EQ(r.message.text("MSH", 2), "^~\\&#");
  EXPECT_EQ(r.message.text("NTE", 3), "x#y");
}

// ---- failures ----

TEST(ParseFailure, EmptyInput) {
  for (const char* input : {"", "\r", "\r\n\r\n", "   \n\t\r"}) {
    ParseResult r = parse(input);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.headerRead);
    EXPECT_TRUE(r.message.empty());
    EXPECT_EQ(firstError(r).code, ErrorCode::kSegmentSequenceError);
    EXPECT_EQ(firstError(r).message, "message is empty");
  }
  ParseResult r = parse(static_cast<const char*>(nullptr));
  EXPECT_FALSE(r.ok());
}

TEST(ParseFailure, FirstSegmentIsNotMsh) {
  ParseResult r = parse("EVN|A01|20261028093000\r" + join(kAdmit));
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.headerRead);
  EXPECT_EQ(firstError(r).code, ErrorCode::kSegmentSequenceError);
  EXPECT_NE(firstError(r).message.find("must start with an MSH"), std::string::npos);
  EXPECT_TRUE(r.message.empty());
}

TEST(ParseFailure, TruncatedMsh) {
  {
    ParseResult r = parse("MSH");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(firstError(r).code, ErrorCode::kRequiredFieldMissing);
    EXPECT_EQ(firstError(r).segmentId, "MSH");
    EXPECT_EQ(firstError(r).field, 1);
    EXPECT_FALSE(r.headerRead);
  }
  {
    ParseResult r = parse("MSH|^~");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(firstError(r).code, ErrorCode::kDataTypeError);
    EXPECT_EQ(firstError(r).field, 2);
    EXPECT_TRUE(r.headerRead);
  }
  {
    ParseResult r = parse("MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|2026\r");
    ASSERT_FALSE(r.ok());
    ASSERT_TRUE(r.headerRead);
    EXPECT_EQ(r.header.sendingApplication.namespaceId, "PAS");
    // Every missing required field is listed.
    ASSERT_EQ(r.errors.size(), 4u);
    EXPECT_EQ(r.errors[0].code, ErrorCode::kRequiredFieldMissing);
    EXPECT_EQ(r.errors[0].field, 9);
    EXPECT_EQ(r.errors[1].field, 10);
    EXPECT_EQ(r.errors[2].field, 11);
    EXPECT_EQ(r.errors[3].field, 12);
    EXPECT_EQ(r.errors[3].location(), "MSH-12");
  }
}

TEST(ParseFailure, BadEncodingCharacters) {
  const char* bad[] = {
      "MSH|^~\\|A|B|C|D|1||ADT^A01|1|P|2.4",     // three characters
      "MSH|^~\\&*!|A|B|C|D|1||ADT^A01|1|P|2.4",  // six
      "MSH|^^\\&|A|B|C|D|1||ADT^A01|1|P|2.4",    // repeated
      "MSH|^~|&|A|B|C|D|1||ADT^A01|1|P|2.4",     // the field separator again
      "MSH|^~a&|A|B|C|D|1||ADT^A01|1|P|2.4",     // a letter
      "MSH|^~ &|A|B|C|D|1||ADT^A01|1|P|2.4",     // a space
      "MSH||A|B|C|D|1||ADT^A01|1|P|2.4",         // empty MSH-2
  };
  for (const char* input : bad) {
    ParseResult r = parse(input);
    ASSERT_FALSE(r.ok()) << input;
    EXPECT_EQ(firstError(r).code, ErrorCode::kDataTypeError) << input;
    EXPECT_EQ(firstError(r).field, 2) << input;
    EXPECT_TRUE(r.message.empty());
  }
  for (const char* input : {"MSHA^~\\&|x", "MSH ^~\\&", "MSH\x01^~\\&"}) {
    ParseResult r = parse(input);
    ASSERT_FALSE(r.ok()) << input;
    EXPECT_EQ(firstError(r).field, 1) << input;
    EXPECT_FALSE(r.headerRead);
  }
}

TEST(ParseFailure, BadEncodingCharactersStillSalvageTheControlId) {
  ParseResult r = parse("MSH|^~|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01|PAS77|P|2.4\r");
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(r.headerRead);
  EXPECT_EQ(r.header.controlId, "PAS77");
  EXPECT_EQ(r.header.messageType, "ADT");
  EXPECT_EQ(r.header.delimiters.component, '^');  // defaults, for the ACK
}

TEST(ParseFailure, JunkBytes) {
  {
    std::string junk("\x00\x01\x02\xFF\xFE junk", 11);
    ParseResult r = parse(junk);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.headerRead);
  }
  {
    std::string msg = join(kAdmit) + std::string("\x89PNG\x1A\x00\x00", 7);
    ParseResult r = parse(msg);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.headerRead);
    EXPECT_EQ(firstError(r).code, ErrorCode::kSegmentSequenceError);
    EXPECT_EQ(firstError(r).segmentPosition, 7);
  }
  {
    // A control byte inside a field.
    std::string msg = kMinimalMsh + std::string("\rPID|1||123\x07") + "456\r";
    ParseResult r = parse(msg);
    ASSERT_FALSE(r.ok());
    const Error& e = firstError(r);
    EXPECT_EQ(e.code, ErrorCode::kDataTypeError);
    EXPECT_EQ(e.segmentId, "PID");
    EXPECT_EQ(e.segmentSequence, 1);
    EXPECT_EQ(e.segmentPosition, 2);
    EXPECT_EQ(e.field, 3);
    EXPECT_NE(e.message.find("0x07"), std::string::npos);
  }
  {
    // MLLP framing bytes left in the message.
    std::string msg = "\x0B" + join(kAdmit) + "\x1C\r";
    EXPECT_FALSE(parse(msg).ok());
  }
  {
    // A NUL byte in the MSH.
    std::string msg = kMinimalMsh;
    msg[20] = '\0';
    EXPECT_FALSE(parse(msg).ok());
  }
}

TEST(ParseFailure, BadSegmentIds) {
  for (const char* seg : {"pid|1", "PI|1", "PIDX|1", "P-D|1", "1ID|1", " PID|1", "PID 1|2"}) {
    ParseResult r = parse(std::string(kMinimalMsh) + "\r" + seg + "\r");
    ASSERT_FALSE(r.ok()) << seg;
    EXPECT_EQ(firstError(r).code, ErrorCode::kSegmentSequenceError) << seg;
    EXPECT_EQ(firstError(r).segmentPosition, 2) << seg;
  }
  // Z segments and digits after the first letter are fine; an id alone is a segment.
  ParseResult r = parse(std::string(kMinimalMsh) + "\rZPI|1|x\rPV2\rOB1|a\r");
  ASSERT_TRUE(r.ok()) << r.errors[0].message;
  EXPECT_EQ(r.message.segmentCount(), 4u);
  EXPECT_EQ(r.message.first("PV2").fieldCount(), 0);
  EXPECT_EQ(r.message.text("ZPI", 2), "x");
}

TEST(ParseFailure, SecondMshOrBatchSegmentsAreRefused) {
  for (const char* seg : {"MSH|^~\\&|A", "BHS|^~\\&|A", "FHS|^~\\&", "BTS|1", "FTS|1"}) {
    ParseResult r = parse(join(kRespect) + seg + "\r");
    ASSERT_FALSE(r.ok()) << seg;
    EXPECT_EQ(firstError(r).code, ErrorCode::kSegmentSequenceError);
    EXPECT_EQ(firstError(r).segmentPosition, 9);
  }
}

// ---- limits ----

TEST(Limits, MessageSize) {
  ParseOptions options;
  options.maxMessageBytes = 100;
  std::string msg = join(kAdmit);
  for (bool owned : {false, true}) {
    ParseResult r = owned ? parse(std::string(msg), options) : parse(msg, options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(firstError(r).code, ErrorCode::kSegmentSequenceError);
    EXPECT_NE(firstError(r).message.find("the limit is 100"), std::string::npos);
    EXPECT_TRUE(r.message.empty());
    // The header is still read, for the AR.
    ASSERT_TRUE(r.headerRead);
    EXPECT_EQ(r.header.controlId, "PAS0001234");
    EXPECT_EQ(r.errors.size(), 1u);
  }
  options.maxMessageBytes = msg.size();
  EXPECT_TRUE(parse(msg, options).ok());
}

TEST(Limits, DefaultMessageSizeIsOneMebibyte) {
  std::string msg = std::string(kMinimalMsh) + "\r";
  std::string nte = "NTE|1||" + std::string(1000, 'x') + "\r";
  while (msg.size() + nte.size() <= (1u << 20)) msg += nte;
  EXPECT_TRUE(parse(msg).ok());
  msg += nte;
  ParseResult r = parse(msg);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(firstError(r).message.find("the limit is 1048576"), std::string::npos);
}

TEST(Limits, TwentyThousandSegmentsAreRefused) {
  std::string msg = std::string(kMinimalMsh) + "\r";
  for (int i = 1; i < 20000; ++i) msg += "NTE|" + std::to_string(i) + "\r";
  ParseResult r = parse(msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(firstError(r).code, ErrorCode::kSegmentSequenceError);
  EXPECT_NE(firstError(r).message.find("more than 10000 segments"), std::string::npos);
  EXPECT_EQ(r.header.controlId, "C1");

  ParseOptions options;
  options.maxSegments = 20000;
  ParseResult ok = parse(msg, options);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.message.segmentCount(), 20000u);
  EXPECT_EQ(ok.message.segment(19999).sequence(), 19999);
}

TEST(Limits, ExactlyMaxSegmentsIsAccepted) {
  ParseOptions options;
  options.maxSegments = 3;
  std::string msg = std::string(kMinimalMsh) + "\rNTE|1\rNTE|2\r\r\n";
  EXPECT_TRUE(parse(msg, options).ok());
  EXPECT_FALSE(parse(msg + "NTE|3", options).ok());
}

TEST(Limits, FieldLength) {
  ParseOptions options;
  options.maxFieldBytes = 14;  // MSH-7 has 14
  std::string msg = std::string(kMinimalMsh) + "\rNTE|1||01234567890123\r";
  EXPECT_TRUE(parse(msg, options).ok());
  ParseResult r = parse(std::string(kMinimalMsh) + "\rNTE|1||01234567890123A\r", options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(firstError(r).code, ErrorCode::kDataTypeError);
  EXPECT_EQ(firstError(r).location(), "NTE-3");
  EXPECT_NE(firstError(r).message.find("15 bytes"), std::string::npos);
}

TEST(Limits, FieldsPerSegment) {
  ParseOptions options;
  options.maxFieldsPerSegment = 20;
  std::string ok = std::string(kMinimalMsh) + "\rNTE" + std::string(20, '|') + "\r";
  EXPECT_TRUE(parse(ok, options).ok());
  ParseResult r = parse(std::string(kMinimalMsh) + "\rNTE" + std::string(21, '|') + "\r", options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(firstError(r).field, 21);
  // The default is generous but bounded.
  EXPECT_FALSE(parse(std::string(kMinimalMsh) + "\rNTE" + std::string(5000, '|')).ok());
}

TEST(Limits, WarningsAreCapped) {
  ParseOptions options;
  options.maxWarnings = 3;
  std::string msg = std::string(kMinimalMsh) + "\rNTE|1||\\Q\\~\\Q\\~\\Q\\~\\Q\\~\\Q\\\r";
  ParseResult r = parse(msg, options);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors.warningCount(), 4u);
  EXPECT_NE(r.errors[3].message.find("more than 3 warnings"), std::string::npos);
}

}  // namespace
}  // namespace acp::hl7v2
