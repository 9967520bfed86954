// Tests for the typed source model's code tables and date readers
// (mappings/community/parser/community_export.h) and the hardened reader's prolog check.
#include "mappings/community/parser/community_export.h"

#include <gtest/gtest.h>

#include <string>

#include "mappings/community/parser/untrusted_xml_reader.h"

namespace acp::mappings::community {
namespace {

TEST(CommunityExportModelTest, CodesRoundTrip) {
  EXPECT_STREQ(code(Gender::kFemale), "female");
  EXPECT_EQ(parseGender("unknown"), Gender::kUnknown);
  EXPECT_FALSE(parseGender("Female").has_value());
  EXPECT_FALSE(parseGender(" female").has_value());
  EXPECT_STREQ(code(NhsNumberStatus::kPresentVerified), "01");
  EXPECT_STREQ(code(NhsNumberStatus::kTracePostponed), "08");
  EXPECT_EQ(parseNhsNumberStatus("05"), NhsNumberStatus::kTraceToResolve);
  EXPECT_FALSE(parseNhsNumberStatus("09").has_value());
  EXPECT_FALSE(parseNhsNumberStatus("1").has_value());
  EXPECT_STREQ(code(DecisionKind::kHospitalTransfer), "hospital-transfer");
  EXPECT_EQ(parseDecisionKind("ppd2"), DecisionKind::kPpd2);
  EXPECT_STREQ(code(ContactOutcome::kDidNotAttend), "did-not-attend");
  EXPECT_EQ(parseStaffRole("OT"), StaffRole::kOt);
  EXPECT_EQ(parseRegBody("HCPC"), RegBody::kHcpc);
  EXPECT_EQ(parseCarePlanStatus("revoked"), CarePlanStatus::kRevoked);
  EXPECT_EQ(parseCarePlanType("transition"), CarePlanType::kTransition);
  EXPECT_EQ(parseActivityStatus("in-progress"), ActivityStatus::kInProgress);
  EXPECT_EQ(parseConsentSharing("withdrawn"), ConsentSharing::kWithdrawn);
  EXPECT_EQ(parseContactType("school-visit"), ContactType::kSchoolVisit);
  EXPECT_EQ(parseAddressUse("temp"), AddressUse::kTemp);
}

TEST(CommunityExportModelTest, DecisionValuesPerKind) {
  EXPECT_TRUE(decisionValueAllowed(DecisionKind::kCpr, "dnacpr"));
  EXPECT_FALSE(decisionValueAllowed(DecisionKind::kCpr, "home"));
  EXPECT_TRUE(decisionValueAllowed(DecisionKind::kPpc, "declined-to-discuss"));
  EXPECT_TRUE(decisionValueAllowed(DecisionKind::kPpd2, "care-home"));
  EXPECT_FALSE(decisionValueAllowed(DecisionKind::kPpd, "none"));
  EXPECT_TRUE(decisionValueAllowed(DecisionKind::kVentilation, "non-invasive-only"));
  EXPECT_FALSE(decisionValueAllowed(DecisionKind::kVentilation, "yes"));
  EXPECT_TRUE(decisionValueAllowed(DecisionKind::kHospitalTransfer, "only-for-symptoms"));
  EXPECT_FALSE(decisionValueAllowed(DecisionKind::kHospitalTransfer, "full"));
  EXPECT_EQ(decisionValues(DecisionKind::kPpd).size(), 8u);
}

TEST(CommunityExportModelTest, XsDate) {
  auto d = parseXsDate("2016-02-29");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->year, 2016);
  EXPECT_EQ(d->month, 2);
  EXPECT_EQ(d->day, 29);
  EXPECT_EQ(d->text, "2016-02-29");
  EXPECT_TRUE(parseXsDate("2000-02-29").has_value());
  EXPECT_TRUE(parseXsDate("2015-03-14Z").has_value());
  EXPECT_TRUE(parseXsDate("2015-03-14+01:00").has_value());
  for (const char* bad : {"2015-02-29", "1900-02-29", "2015-04-31", "2015-13-01", "2015-00-10",
                          "0000-01-01", "15-03-14", "2015-3-14", "2015-03-14T00:00:00",
                          " 2015-03-14", "2015-03-14+15:00", "12015-03-14", ""}) {
    EXPECT_FALSE(parseXsDate(bad).has_value()) << bad;
  }
}

TEST(CommunityExportModelTest, XsDateTime) {
  auto t = parseXsDateTime("2026-10-28T14:05:09.250+01:30");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->date.year, 2026);
  EXPECT_EQ(t->date.day, 28);
  EXPECT_EQ(t->hour, 14);
  EXPECT_EQ(t->minute, 5);
  EXPECT_EQ(t->second, 9);
  EXPECT_EQ(t->fraction, "250");
  EXPECT_EQ(t->utcOffsetMinutes, 90);
  EXPECT_EQ(t->text, "2026-10-28T14:05:09.250+01:30");
  auto local = parseXsDateTime("2026-10-28T14:00:00");
  ASSERT_TRUE(local.has_value());
  EXPECT_FALSE(local->utcOffsetMinutes.has_value());
  EXPECT_EQ(parseXsDateTime("2026-10-28T14:00:00-05:00")->utcOffsetMinutes, -300);
  for (const char* bad :
       {"2026-10-28", "2026-10-28T24:00:00", "2026-10-28T14:60:00", "2026-10-28T14:00:60",
        "2026-10-28T14:00", "2026-10-28 14:00:00", "2026-10-28T14:00:00.", "2026-10-28T14:00:00Z ",
        "2026-02-30T00:00:00Z", "2026-10-28T14:00:00+1:00"}) {
    EXPECT_FALSE(parseXsDateTime(bad).has_value()) << bad;
  }
}

TEST(UntrustedXmlReaderTest, PrologCheck) {
  acp::xml::XmlError e;
  EXPECT_TRUE(checkUntrustedProlog("\xEF\xBB\xBF<?xml version=\"1.0\"?><!-- c --><a/>", e));
  EXPECT_FALSE(checkUntrustedProlog("<!DOCTYPE a><a/>", e));
  EXPECT_EQ(e.code, "parse.xml.doctype");
  EXPECT_FALSE(checkUntrustedProlog("<?xml version=\"1.0\" encoding=\"UTF-7\"?><a/>", e));
  EXPECT_EQ(e.code, "parse.xml.encoding");
  EXPECT_FALSE(checkUntrustedProlog("text<a/>", e));
  EXPECT_EQ(e.code, "parse.xml.malformed");
  EXPECT_FALSE(checkUntrustedProlog("<!-- only a comment -->", e));
  EXPECT_EQ(e.code, "parse.xml.malformed");
}

}  // namespace
}  // namespace acp::mappings::community
