// checkHeader(): the accepted message types, events, processing ids and versions.
#include "gateway/hl7v2/header.h"

#include <gtest/gtest.h>

#include "gateway/hl7v2/parser.h"
#include "tests/hl7v2/samples.h"

namespace acp::hl7v2 {
namespace {

HeaderPolicy northshire() {
  HeaderPolicy p;
  p.messageTypes = {"ADT", "ORU"};
  p.events = {"ADT^A01", "ADT^A02", "ADT^A03", "ADT^A04", "ADT^A05", "ADT^A08",
              "ADT^A11", "ADT^A13", "ADT^A28", "ADT^A31", "ADT^A40", "ORU^R01"};
  p.processingIds = {"P"};
  p.versions = {"2.4"};
  return p;
}

Header headerOf(const std::string& msh) {
  ParseResult r = parse(msh);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].message);
  return r.header;
}

TEST(CheckHeader, SpecExamplesAreAccepted) {
  for (const auto* sample : {&testing::kAdmit, &testing::kDischarge, &testing::kRespect}) {
    ErrorList errors;
    EXPECT_TRUE(checkHeader(parse(testing::join(*sample)).header, northshire(), errors));
    EXPECT_TRUE(errors.empty());
  }
}

TEST(CheckHeader, EmptyPolicyAcceptsAnything) {
  ErrorList errors;
  EXPECT_TRUE(
      checkHeader(headerOf("MSH|^~\\&|A|B|C|D|1||XYZ^Q99|1|T|9.9\r"), HeaderPolicy(), errors));
  EXPECT_TRUE(errors.empty());
}

TEST(CheckHeader, UnsupportedValues) {
  struct Case {
    const char* msh;
    ErrorCode code;
    int field;
    int component;
  };
  const Case cases[] = {
      {"MSH|^~\\&|A|B|C|D|1||SIU^S12|1|P|2.4", ErrorCode::kUnsupportedMessageType, 9, 1},
      {"MSH|^~\\&|A|B|C|D|1||ADT^A99|1|P|2.4", ErrorCode::kUnsupportedEventCode, 9, 2},
      {"MSH|^~\\&|A|B|C|D|1||ADT|1|P|2.4", ErrorCode::kUnsupportedEventCode, 9, 2},
      {"MSH|^~\\&|A|B|C|D|1||ADT^A01|1|T|2.4", ErrorCode::kUnsupportedProcessingId, 11, 1},
      {"MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5.1", ErrorCode::kUnsupportedVersionId, 12, 1},
  };
  for (const Case& c : cases) {
    ErrorList errors;
    EXPECT_FALSE(checkHeader(headerOf(c.msh), northshire(), errors)) << c.msh;
    ASSERT_EQ(errors.size(), 1u) << c.msh;
    EXPECT_EQ(errors[0].code, c.code) << c.msh;
    EXPECT_EQ(errors[0].segmentId, "MSH");
    EXPECT_EQ(errors[0].field, c.field);
    EXPECT_EQ(errors[0].component, c.component);
    EXPECT_TRUE(errors.hasErrors());
  }
}

TEST(CheckHeader, SeveralProblemsAreAllReported) {
  ErrorList errors;
  EXPECT_FALSE(checkHeader(headerOf("MSH|^~\\&|A|B|C|D|1||SIU^S12|1|D|2.3"), northshire(), errors));
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].code, ErrorCode::kUnsupportedMessageType);
  EXPECT_EQ(errors[1].code, ErrorCode::kUnsupportedProcessingId);
  EXPECT_EQ(errors[2].code, ErrorCode::kUnsupportedVersionId);
  EXPECT_EQ(errors[2].message, "version '2.3' is not supported");
}

TEST(ErrorList, TextsAndLocations) {
  EXPECT_EQ(errorCodeText(ErrorCode::kRequiredFieldMissing), "Required field missing");
  EXPECT_EQ(errorCodeText(ErrorCode::kApplicationInternalError), "Application internal error");
  Error e;
  EXPECT_EQ(e.location(), "");
  e.segmentId = "OBX";
  e.segmentSequence = 3;
  e.field = 5;
  e.repetition = 1;
  e.component = 2;
  EXPECT_EQ(e.location(), "OBX[3]-5.2");
  ErrorList list;
  Error w;
  w.severity = Severity::kWarning;
  list.add(w);
  EXPECT_FALSE(list.hasErrors());
  EXPECT_EQ(list.warningCount(), 1u);
  list.add(e);
  EXPECT_TRUE(list.hasErrors());
}

}  // namespace
}  // namespace acp::hl7v2
