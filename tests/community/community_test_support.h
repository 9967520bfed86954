// Helpers shared by the community export parser tests.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "mappings/community/parser/community_parser.h"

namespace acp::mappings::community::testing {

inline const std::string kXsdPath = ACP_SOURCE_DIR "/mappings/community/community-export-1.xsd";
inline const std::string kExamplePath =
    ACP_SOURCE_DIR "/tests/community/community-export-example.xml";

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The specification's example document, verbatim.
inline const std::string& exampleXml() {
  static const std::string xml = readFile(kExamplePath);
  return xml;
}

inline std::shared_ptr<const CommunitySchema> schema() {
  static const std::shared_ptr<const CommunitySchema> s = [] {
    auto loaded = CommunitySchema::load(kXsdPath);
    if (!loaded.isOk()) {
      ADD_FAILURE() << loaded.status().message();
      return std::shared_ptr<const CommunitySchema>();
    }
    return loaded.value();
  }();
  return s;
}

inline const CommunityExportParser& parser() {
  static const CommunityExportParser p(schema());
  return p;
}

inline const char* kHeader =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<CommunityExport xmlns=\"urn:northshire:community:export:1\" "
    "generated=\"2026-11-01T10:15:00Z\" trust=\"RX9\" batchId=\"RX9-20261101-1015\">\n";
inline const char* kFooter = "</CommunityExport>\n";

// One valid Patient (the example's, with ids derived from `id`); every line ends in "\n".
inline std::string patientXml(const std::string& id) {
  return "  <Patient localId=\"" + id +
         "\">\n"
         "    <NHSNumber status=\"01\">9992530820</NHSNumber>\n"
         "    <Name family=\"Hartley\" given=\"Amelia Rose\" preferred=\"Millie\"/>\n"
         "    <BirthDate>2015-03-14</BirthDate>\n"
         "    <Gender>female</Gender>\n"
         "    <Address use=\"home\"><Line>12 Orchard Way</Line><Line>Northby</Line>"
         "<PostCode>NB3 4QT</PostCode></Address>\n"
         "    <RegisteredGP ods=\"X81001\"/>\n"
         "    <Caseload team=\"Children's Community Nursing\" from=\"2022-05-01\"/>\n"
         "    <CarePlan id=\"CP-" +
         id +
         "\" version=\"2\" status=\"active\" type=\"acp\">\n"
         "      <Period start=\"2026-09-12\"/>\n"
         "      <ReviewDate>2026-12-12</ReviewDate>\n"
         "      <Title>Advance care plan</Title>\n"
         "      <Author name=\"Jo Patel\" role=\"Community Nurse Specialist\" regBody=\"NMC\" "
         "regNumber=\"12A3456E\"/>\n"
         "      <Goal>Remain at home with family, avoiding unplanned admissions.</Goal>\n"
         "      <Decision kind=\"cpr\" value=\"modified\">Airway support and oxygen only."
         "</Decision>\n"
         "      <Decision kind=\"ppd\" value=\"home\"/>\n"
         "      <Decision kind=\"ppd2\" value=\"hospice\"/>\n"
         "      <Decision kind=\"ventilation\" value=\"non-invasive-only\"/>\n"
         "      <Activity code=\"CCN01\" status=\"in-progress\">Weekly symptom review at home"
         "</Activity>\n"
         "      <Activity code=\"PHY01\" status=\"in-progress\">Chest physiotherapy twice weekly"
         "</Activity>\n"
         "      <Consent sharing=\"yes\" date=\"2026-09-12\"/>\n"
         "    </CarePlan>\n"
         "    <Contact id=\"V-" +
         id +
         "\" date=\"2026-10-28T14:00:00Z\" minutes=\"45\" type=\"home-visit\" "
         "staffRole=\"CNS\" outcome=\"attended\">Settled week; parents confident with suction."
         "</Contact>\n"
         "  </Patient>\n";
}

inline std::string documentXml(const std::vector<std::string>& patients) {
  std::string doc = kHeader;
  for (const auto& p : patients) doc += p;
  doc += kFooter;
  return doc;
}

// Replaces the first occurrence of `from` (which must occur) in `s`.
inline std::string replaceOnce(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

struct Collected {
  DocumentOutcome outcome;
  std::vector<PatientRecord> records;
};

inline Collected parseAll(std::string_view xml) {
  Collected c;
  c.outcome = parser().parse(xml, [&c](PatientRecord&& r) {
    c.records.push_back(std::move(r));
    return Status::ok();
  });
  return c;
}

inline bool hasIssue(const IssueList& issues, const std::string& code,
                     const std::string& location) {
  for (const auto& i : issues.issues()) {
    if (i.code == code && i.location == location) return true;
  }
  return false;
}

inline std::string describe(const IssueList& issues) {
  std::string s;
  for (const auto& i : issues.issues()) {
    s += "[" + i.code + " " + i.type + " @" + i.location + "] " + i.message + "\n";
  }
  return s;
}

}  // namespace acp::mappings::community::testing
