// HL7 v2 test messages for the hospital feed (RX8) and the POST /$ingest/hl7v2 client used by
// the acute ingest tests. Segments are joined with CR, as the interface sends them.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "gateway/ingest/source_ids.h"
#include "tests/support/test_server.h"

namespace acp::testing::hl7 {

inline std::string message(std::initializer_list<std::string> segments) {
  std::string out;
  for (const std::string& s : segments) out += s + "\r";
  return out;
}

inline std::string msh(const std::string& type, const std::string& controlId,
                       const std::string& time, const std::string& app = "PAS") {
  return "MSH|^~\\&|" + app + "|RX8|ACPGW|NORTHSHIRE|" + time + "||" + type + "|" + controlId +
         "|P|2.4|||AL|NE||UNICODE UTF-8";
}

// PID with hospital number `mrn`, optionally an NHS number, and fields after PID-8 (`tail`
// starts with the "|" that opens PID-9).
inline std::string pid(const std::string& mrn, const std::string& nhs = "",
                       const std::string& tail = "") {
  std::string ids = (nhs.empty() ? "" : nhs + "^^^NHS^NH~") + mrn + "^^^RX8^MR";
  return "PID|1||" + ids + "||Hartley^Amelia^Rose^^Miss||20150314|F" + tail;
}

inline std::string admission(const std::string& controlId, const std::string& mrn,
                             const std::string& visit, const std::string& nhs = "",
                             const std::string& time = "20261001090000") {
  return message({msh("ADT^A01^ADT_A01", controlId, time), "EVN|A01|" + time, pid(mrn, nhs),
                  "PV1|1|I|WARD3^B2^1^RX8|22|||C4567890^Roe^Sarah^^^Dr||420||||19||||||" + visit +
                      "|||||||||||||||||||||||||20261001085000"});
}

inline std::string a31(const std::string& controlId, const std::string& evnTime,
                       const std::string& pidSegment, const std::string& mshTime = "20261001090000") {
  return message({msh("ADT^A31^ADT_A05", controlId, mshTime), "EVN|A31|" + evnTime, pidSegment});
}

inline std::string respect(const std::string& controlId, const std::string& mrn,
                           const std::string& form) {
  return message({msh("ORU^R01^ORU_R01", controlId, "20261002120000", "EPR"), pid(mrn),
                  "OBR|1||" + form +
                      "|1382601000000107^ReSPECT form^SCT|||20261002113000||||||||||||||||||F",
                  "OBX|1|CWE|CPR^CPR recommendation^L||450476008^Not for attempted CPR^SCT||||||F"});
}

inline std::string mergeMessage(const std::string& controlId, const std::string& survivor,
                                const std::string& duplicate, const std::string& nhs = "",
                                const std::string& time = "20261005100000") {
  return message({msh("ADT^A40^ADT_A39", controlId, time), "EVN|A40|" + time, pid(survivor, nhs),
                  "MRG|" + duplicate + "^^^RX8^MR"});
}

inline HttpResult send(TestServer& server, const std::string& m) {
  return server.request("POST", "/$ingest/hl7v2", m, {{"Content-Type", "application/hl7-v2"}});
}

// The one record's outcome (stored | unchanged | rejected) and its issue codes.
inline std::string outcomeOf(const HttpResult& r, std::vector<std::string>* codes = nullptr) {
  std::string outcome;
  const json::Value* params = r.json.find("parameter");
  if (!params) return "no answer: " + r.body;
  for (const json::Value& p : params->items()) {
    if (p.getString("name") != "record") continue;
    for (const json::Value& part : p.find("part")->items()) {
      if (part.getString("name") == "outcome") outcome = part.getString("valueCode");
      if (part.getString("name") == "issues" && codes)
        for (const json::Value& i : part.find("resource")->find("issue")->items())
          codes->push_back(i.find("details")->find("coding")->items()[0].getString("code"));
    }
  }
  return outcome;
}

inline bool has(const std::vector<std::string>& codes, const std::string& code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

inline std::string patientId(const std::string& mrn) {
  return ingest::derivedId("Patient", "RX8", mrn);
}

}  // namespace acp::testing::hl7
