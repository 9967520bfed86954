// The example messages of ../shared/partners/acute-hl7v2.md, verbatim, one string per segment,
// and helpers to join them with the segment terminators a sender may use.
//
// Note: in the spec's examples the PID and PV1 segments are short of field separators: the
// value documented as PV1-10 ("420") sits in PV1-9, PV1-14 in PV1-13, PV1-19 (visit number)
// in PV1-18, PV1-36/37/44/45 in PV1-35/36/43/44, and PID-32 ("01") in PID-30. Tests on the
// verbatim examples assert where the bytes really are; kAdmitCorrected has the one missing
// PV1 separator put back.
#pragma once

#include <string>
#include <vector>

namespace acp::hl7v2::testing {

inline const std::vector<std::string> kAdmit = {
    "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261028093000||ADT^A01^ADT_A01|PAS0001234|P|2.4|||AL|"
    "NE||UNICODE UTF-8",
    "EVN|A01|20261028093000|||C4567890^Roe^Sarah|20261028091500",
    "PID|1||9992530820^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss~Hartley^Millie^^^^^"
    "P||20150314|F|||12 Orchard Way^^Northby^^NB3 4QT||07700 900123|||||||||||||||||01",
    "PD1|||Castle Street Surgery^^X81001|G1234567^Smith^Anna",
    "NK1|1|Hartley^Claire|MTH|12 Orchard Way^^Northby^^NB3 4QT|07700 900123",
    "PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr||420||||19|||||S0098877||||||||||||||||"
    "|||||||||20261028091500",
};

// kAdmit with the PV1 separator the spec example lacks (after PV1-7).
inline const std::vector<std::string> kAdmitCorrectedPv1 = {
    "PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr|||420||||19|||||S0098877|||||||||||||||"
    "||||||||||20261028091500",
};

inline const std::vector<std::string> kDischarge = {
    "MSH|^~\\&|PAS|RX8|ACPGW|NORTHSHIRE|20261102161000||ADT^A03^ADT_A03|PAS0001301|P|2.4|||AL|"
    "NE||UNICODE UTF-8",
    "EVN|A03|20261102161000",
    "PID|1||9992530820^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss||20150314|F",
    "PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr||420||||19|||||S0098877||||||||||||||||"
    "|19|HOSPICE|||||||20261028091500|20261102160000",
};

inline const std::vector<std::string> kRespect = {
    "MSH|^~\\&|EPR|RX8|ACPGW|NORTHSHIRE|20261101120500||ORU^R01^ORU_R01|EPR0088812|P|2.4|||AL|"
    "NE||UNICODE UTF-8",
    "PID|1||9992530820^^^NHS^NH~M123456^^^RX8^MR||Hartley^Amelia^Rose^^Miss||20150314|F",
    "OBR|1||RSP-20441|1382601000000107^ReSPECT form^SCT|||20261101113000||||||||||||||||||F",
    "OBX|1|CWE|CPR^CPR recommendation^L||MODIFIED^Modified CPR^L||||||F|||||C4567890^Roe^Sarah",
    "OBX|2|CWE|PPD^Preferred place of death^L||HOSPICE^Hospice^L||||||F",
    "OBX|3|TX|ESCAL^Treatment escalation^L||Ward-based care and non-invasive ventilation; no "
    "PICU transfer.||||||F",
    "OBX|4|DT|REVIEW^Review date^L||20270201||||||F",
    "OBX|5|NM|PRIORITY^Patient priority^L||8||||||F",
};

// The spec's ACK for kAdmit.
inline const char* kAdmitAck =
    "MSH|^~\\&|ACPGW|NORTHSHIRE|PAS|RX8|20261028093001||ACK^A01^ACK|ACK-PAS0001234|P|2.4\r"
    "MSA|AA|PAS0001234\r";

// Joins segments, each followed by `terminator`.
inline std::string join(const std::vector<std::string>& segments,
                        const std::string& terminator = "\r") {
  std::string out;
  for (const auto& s : segments) out += s + terminator;
  return out;
}

// kAdmit with its PV1 replaced by the corrected one.
inline std::vector<std::string> admitCorrected() {
  std::vector<std::string> v = kAdmit;
  v.back() = kAdmitCorrectedPv1[0];
  return v;
}

}  // namespace acp::hl7v2::testing
