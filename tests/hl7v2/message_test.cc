// Message / Segment accessors on the interface spec's examples.
#include "gateway/hl7v2/message.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "gateway/hl7v2/parser.h"
#include "tests/hl7v2/samples.h"

namespace acp::hl7v2 {
namespace {

using testing::join;

Message parseOk(const std::string& bytes) {
  ParseResult r = parse(bytes);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].message);
  return r.message;
}

class Examples : public ::testing::TestWithParam<std::string> {};

TEST_P(Examples, AdmitA01) {
  Message m = parseOk(join(testing::kAdmit, GetParam()));
  // MSH, with its special numbering.
  EXPECT_EQ(m.text("MSH", 1), "|");
  EXPECT_EQ(m.text("MSH", 2), "^~\\&");
  EXPECT_EQ(m.text("MSH", 3), "PAS");
  EXPECT_EQ(m.text("MSH", 9), "ADT");
  EXPECT_EQ(m.text("MSH", 9, 1, 2), "A01");
  EXPECT_EQ(m.text("MSH", 9, 1, 3), "ADT_A01");
  EXPECT_EQ(m.text("MSH", 10), "PAS0001234");
  EXPECT_EQ(m.text("MSH", 18), "UNICODE UTF-8");
  EXPECT_EQ(m.segment(0).fieldCount(), 18);
  // EVN
  EXPECT_EQ(m.text("EVN", 2), "20261028093000");
  EXPECT_EQ(m.text("EVN", 5, 1, 2), "Roe");
  EXPECT_EQ(m.text("EVN", 6), "20261028091500");
  // PID-3: two repetitions, NHS number and hospital number.
  Segment pid = m.first("PID");
  ASSERT_TRUE(pid);
  EXPECT_EQ(pid.repetitionCount(3), 2);
  EXPECT_EQ(pid.text(3, 1, 1), "9992530820");
  EXPECT_EQ(pid.text(3, 1, 2), "");
  EXPECT_EQ(pid.text(3, 1, 4), "NHS");
  EXPECT_EQ(pid.text(3, 1, 5), "NH");
  EXPECT_EQ(pid.text(3, 2, 1), "M123456");
  EXPECT_EQ(pid.text(3, 2, 4), "RX8");
  EXPECT_EQ(pid.text(3, 2, 5), "MR");
  EXPECT_EQ(pid.componentCount(3, 2), 5);
  EXPECT_EQ(pid.text(3, 3, 1), "");  // no third repetition
  // PID-5: legal name, then the preferred name with type P.
  EXPECT_EQ(pid.repetitionCount(5), 2);
  EXPECT_EQ(pid.text(5, 1, 1), "Hartley");
  EXPECT_EQ(pid.text(5, 1, 2), "Amelia");
  EXPECT_EQ(pid.text(5, 1, 3), "Rose");
  EXPECT_EQ(pid.text(5, 1, 5), "Miss");
  EXPECT_EQ(pid.text(5, 2, 2), "Millie");
  EXPECT_EQ(pid.text(5, 2, 7), "P");
  EXPECT_EQ(pid.componentCount(5, 2), 7);
  EXPECT_EQ(pid.text(7), "20150314");
  EXPECT_EQ(pid.text(8), "F");
  EXPECT_EQ(pid.text(11, 1, 1), "12 Orchard Way");
  EXPECT_EQ(pid.text(11, 1, 3), "Northby");
  EXPECT_EQ(pid.text(11, 1, 5), "NB3 4QT");
  EXPECT_EQ(pid.text(13), "07700 900123");
  // The spec says PID-32; the example's bytes put "01" in PID-30 (see samples.h).
  EXPECT_EQ(pid.text(30), "01");
  EXPECT_EQ(pid.text(32), "");
  // PD1, NK1
  EXPECT_EQ(m.text("PD1", 3, 1, 1), "Castle Street Surgery");
  EXPECT_EQ(m.text("PD1", 3, 1, 3), "X81001");
  EXPECT_EQ(m.text("PD1", 4, 1, 1), "G1234567");
  EXPECT_EQ(m.text("PD1", 4, 1, 3), "Anna");
  EXPECT_EQ(m.text("NK1", 2, 1, 2), "Claire");
  EXPECT_EQ(m.text("NK1", 3), "MTH");
  // PV1 (field positions as in the example's bytes; the corrected one is tested below).
  Segment pv1 = m.first("PV1");
  EXPECT_EQ(pv1.text(2), "I");
  EXPECT_EQ(pv1.text(3, 1, 1), "WARD3");
  EXPECT_EQ(pv1.text(3, 1, 4), "RX8");
  EXPECT_EQ(pv1.text(7, 1, 1), "C4567890");
  EXPECT_EQ(pv1.text(7, 1, 6), "Dr");
  EXPECT_EQ(pv1.text(9), "420");
  EXPECT_EQ(pv1.text(18), "S0098877");
  EXPECT_EQ(pv1.text(19), "");
  EXPECT_EQ(pv1.text(43), "20261028091500");
  EXPECT_EQ(pv1.fieldCount(), 43);
}

TEST_P(Examples, AdmitWithTheMissingPv1SeparatorPutBack) {
  Message m = parseOk(join(testing::admitCorrected(), GetParam()));
  Segment pv1 = m.first("PV1");
  EXPECT_EQ(pv1.text(10), "420");
  EXPECT_EQ(pv1.text(14), "19");
  EXPECT_EQ(pv1.text(19), "S0098877");
  EXPECT_EQ(pv1.text(44), "20261028091500");
  EXPECT_EQ(pv1.text(45), "");
}

TEST_P(Examples, DischargeA03) {
  Message m = parseOk(join(testing::kDischarge, GetParam()));
  EXPECT_EQ(m.header().triggerEvent, "A03");
  EXPECT_EQ(m.header().controlId, "PAS0001301");
  EXPECT_EQ(m.segment(2).id(), "PID");
  EXPECT_EQ(m.text("PID", 5, 1, 1), "Hartley");
  EXPECT_EQ(m.first("PID").repetitionCount(5), 1);
  Segment pv1 = m.first("PV1");
  // Spec: PV1-19 visit, PV1-36 disposition, PV1-37 discharged to, PV1-44/45 admit/discharge
  // times; the example's bytes sit one field earlier (samples.h).
  EXPECT_EQ(pv1.text(18), "S0098877");
  EXPECT_EQ(pv1.text(35), "19");
  EXPECT_EQ(pv1.text(36), "HOSPICE");
  EXPECT_EQ(pv1.text(43), "20261028091500");
  EXPECT_EQ(pv1.text(44), "20261102160000");
  // Put back the missing separator and the documented positions hold.
  std::vector<std::string> fixed = testing::kDischarge;
  size_t at = fixed[3].find("||420");
  fixed[3].insert(at, "|");
  Message f = parseOk(join(fixed, GetParam()));
  Segment pv1f = f.first("PV1");
  EXPECT_EQ(pv1f.text(19), "S0098877");
  EXPECT_EQ(pv1f.text(36), "19");
  EXPECT_EQ(pv1f.text(37), "HOSPICE");
  EXPECT_EQ(pv1f.text(44), "20261028091500");
  EXPECT_EQ(pv1f.text(45), "20261102160000");
}

TEST_P(Examples, RespectOruR01) {
  Message m = parseOk(join(testing::kRespect, GetParam()));
  EXPECT_EQ(m.header().messageType, "ORU");
  EXPECT_EQ(m.header().triggerEvent, "R01");
  EXPECT_EQ(m.header().sendingApplication.namespaceId, "EPR");
  EXPECT_EQ(m.text("OBR", 3), "RSP-20441");
  EXPECT_EQ(m.text("OBR", 4, 1, 1), "1382601000000107");
  EXPECT_EQ(m.text("OBR", 4, 1, 2), "ReSPECT form");
  EXPECT_EQ(m.text("OBR", 4, 1, 3), "SCT");
  EXPECT_EQ(m.text("OBR", 7), "20261101113000");
  EXPECT_EQ(m.text("OBR", 25), "F");
  std::vector<Segment> obx = m.all("OBX");
  ASSERT_EQ(obx.size(), 5u);
  EXPECT_EQ(obx[0].text(2), "CWE");
  EXPECT_EQ(obx[0].text(3, 1, 1), "CPR");
  EXPECT_EQ(obx[0].text(5, 1, 1), "MODIFIED");
  EXPECT_EQ(obx[0].text(5, 1, 2), "Modified CPR");
  EXPECT_EQ(obx[0].text(5, 1, 3), "L");
  EXPECT_EQ(obx[0].text(11), "F");
  EXPECT_EQ(obx[0].text(16, 1, 1), "C4567890");
  EXPECT_EQ(obx[0].text(16, 1, 3), "Sarah");
  EXPECT_EQ(obx[1].text(3), "PPD");
  EXPECT_EQ(obx[1].text(5), "HOSPICE");
  EXPECT_EQ(obx[1].text(16), "");
  EXPECT_EQ(obx[2].text(2), "TX");
  EXPECT_EQ(obx[2].text(5), "Ward-based care and non-invasive ventilation; no PICU transfer.");
  EXPECT_EQ(obx[3].text(3), "REVIEW");
  EXPECT_EQ(obx[3].text(5), "20270201");
  EXPECT_EQ(obx[4].text(3, 1, 2), "Patient priority");
  EXPECT_EQ(obx[4].text(5), "8");
  EXPECT_EQ(obx[4].text(11), "F");
}

INSTANTIATE_TEST_SUITE_P(Terminators, Examples, ::testing::Values("\r", "\r\n", "\n"));

TEST(Accessors, AbsentPartsAreEmpty) {
  Message m = parseOk(join(testing::kAdmit));
  EXPECT_EQ(m.text("ZZZ", 1), "");
  EXPECT_FALSE(m.first("ZZZ"));
  EXPECT_TRUE(m.all("ZZZ").empty());
  EXPECT_EQ(m.count("ZZZ"), 0u);
  Segment pid = m.first("PID");
  EXPECT_EQ(pid.text(999), "");
  EXPECT_EQ(pid.text(0), "");
  EXPECT_EQ(pid.text(-1), "");
  EXPECT_EQ(pid.text(3, 0), "");
  EXPECT_EQ(pid.text(3, 1, 0), "");
  EXPECT_EQ(pid.text(3, 1, 1, 0), "");
  EXPECT_EQ(pid.text(3, 1, 1, 2), "");
  EXPECT_EQ(pid.text(3, 1, 9), "");
  EXPECT_EQ(pid.raw(999), "");
  EXPECT_EQ(pid.repetitionCount(2), 0);
  EXPECT_EQ(pid.repetitionCount(999), 0);
  EXPECT_EQ(pid.componentCount(3, 0), 0);
  EXPECT_EQ(pid.subcomponentCount(3, 1, 1), 1);
  EXPECT_EQ(pid.subcomponentCount(3, 1, 2), 0);
  EXPECT_EQ(m.text("MSH", 1, 2), "");
  EXPECT_EQ(m.text("MSH", 2, 1, 2), "");
  EXPECT_FALSE(m.segment(99));
  EXPECT_EQ(m.segment(99).text(1), "");
  Segment none;
  EXPECT_EQ(none.id(), "");
  EXPECT_EQ(none.position(), 0);
  EXPECT_EQ(none.raw(), "");
  EXPECT_EQ(none.fieldCount(), 0);
  EXPECT_EQ(none.repetitionCount(1), 0);
  EXPECT_FALSE(none.isNull(1));
  Message empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.text("MSH", 1), "");
  EXPECT_EQ(empty.header().controlId, "");
  EXPECT_EQ(empty.bytes(), "");
  EXPECT_EQ(empty.delimiters().field, '|');
}

TEST(Accessors, RawAccess) {
  Message m = parseOk(join(testing::kAdmit));
  Segment pid = m.first("PID");
  EXPECT_EQ(pid.raw(3), "9992530820^^^NHS^NH~M123456^^^RX8^MR");
  EXPECT_EQ(pid.raw(3, 2), "M123456^^^RX8^MR");
  EXPECT_EQ(pid.raw(3, 2, 4), "RX8");
  EXPECT_EQ(pid.raw(3, 2, 4, 1), "RX8");
  EXPECT_EQ(pid.raw(3, 0, 4), pid.raw(3));  // a 0 stops the descent
  EXPECT_EQ(m.raw("PID", 5, 2), "Hartley^Millie^^^^^P");
  EXPECT_EQ(m.raw("MSH", 2), "^~\\&");
  EXPECT_EQ(m.raw("MSH", 1), "|");
  EXPECT_EQ(m.segment(0).raw().substr(0, 9), "MSH|^~\\&|");
}

TEST(Accessors, SubcomponentsNullsAndCounts) {
  Message m = parseOk(
      "MSH|^~\\&|A|B|C|D|20260101||ADT^A08|1|P|2.4\r"
      "PID|1||\"\"|x||a&b&c^d~~e||\"\"^y\r");
  Segment pid = m.first("PID");
  EXPECT_TRUE(pid.isNull(3));
  EXPECT_EQ(pid.text(3), "\"\"");
  EXPECT_FALSE(pid.isNull(4));
  EXPECT_FALSE(pid.isNull(1, 0));
  EXPECT_TRUE(pid.isNull(8, 1, 1));
  EXPECT_FALSE(pid.isNull(8, 1, 2));
  EXPECT_EQ(pid.text(6), "a");
  EXPECT_EQ(pid.text(6, 1, 1, 2), "b");
  EXPECT_EQ(pid.text(6, 1, 1, 3), "c");
  EXPECT_EQ(pid.subcomponentCount(6, 1, 1), 3);
  EXPECT_EQ(pid.componentCount(6, 1), 2);
  EXPECT_EQ(pid.repetitionCount(6), 3);
  EXPECT_EQ(pid.text(6, 2), "");
  EXPECT_EQ(pid.text(6, 3), "e");
  EXPECT_FALSE(m.segment(0).isNull(1));
  std::string buffer = "x=";
  pid.appendText(buffer, 6, 3);
  EXPECT_EQ(buffer, "x=e");
}

TEST(Accessors, CopiesShareAndOutliveTheParseResult) {
  Message copy;
  Segment seg;
  {
    ParseResult r = parse(join(testing::kRespect));
    copy = r.message;
    seg = copy.all("OBX")[2];
  }
  Message moved = std::move(copy);
  EXPECT_EQ(moved.text("OBR", 3), "RSP-20441");
  EXPECT_EQ(seg.text(5), "Ward-based care and non-invasive ventilation; no PICU transfer.");
}

TEST(Accessors, ConcurrentReadersSeeTheSameValues) {
  Message m = parseOk(join(testing::kAdmit));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (m.text("PID", 3, 2, 1) != "M123456" || m.text("PID", 5, 2, 7) != "P") {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int n : mismatches) EXPECT_EQ(n, 0);
}

}  // namespace
}  // namespace acp::hl7v2
