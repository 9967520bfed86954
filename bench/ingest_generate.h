// Generated partner input for the ingest benchmarks (acp-bench-ingest-mapping,
// acp-bench-mllp-load): HL7 v2.4 ADT messages as the hospital sends them
// (../shared/partners/acute-hl7v2.md), hospice export documents (format 1.2) and community
// export documents (community-export-1.xsd), with varied names, hospital numbers, NHS numbers
// (valid Modulus 11, 999 test range), visit numbers and dates.
//
// Everything is deterministic for a given seed, so runs are comparable. The output is meant to
// map without a rejected record; the mapping benchmark checks that once before it measures.
// Thread-safety: one generator object per thread; the free functions are pure.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace acp::bench {

// A valid NHS number in the 999 test range: "999" + 6 digits + the Modulus 11 check digit.
std::string nhsNumber(std::mt19937_64& rng);
// The Modulus 11 check (the same rule as ingest::isValidNhsNumber; used to check ourselves).
bool nhsNumberValid(const std::string& digits);

// HL7 TS "YYYYMMDDHHMMSS" of `epochSeconds` (UTC fields; the interface sends local time, the
// difference does not matter for load).
std::string hl7Time(int64_t epochSeconds);

// A stream of ADT messages from one sender connection, as a PAS sends them: each message is
// about one of `patients` children of this stream (disjoint hospital numbers per stream id),
// with its clock moving forward by 1..600 s per message so that the source order (EVN-2)
// always increases within the stream. Mix: A01 admission 30 %, A03 discharge 20 % (of an open
// spell; an A01 when the child has none), A08 update 35 % (of the open spell, its PV1 sent
// again; phone or address may change; an A31 when the child has no open spell), A31 person
// update 15 % (PID, PD1, NK1 and a PV1 of class N). Segments are
// separated by CR. MSH-10 is `controlPrefix` followed by an 8-digit sequence number (keep the
// prefix ≤ 12 characters: MSH-10 is 20 characters at most).
class AdtStream {
 public:
  AdtStream(uint64_t seed, int streamId, int patients, std::string controlPrefix);
  // The next message; `event` (optional) gets the trigger event ("A01", ...).
  std::string next(std::string* event = nullptr);
  uint64_t sequence() const { return seq_; }

 private:
  struct Child {
    std::string mrn, nhs, family, given, middle, preferred, title, dob, sex;
    std::string houseNumber, street, town, postcode, phone;
    std::string gpPractice, gpOds, gpCode, gpFamily, gpGiven;
    std::string parentGiven, relationship;
    std::string openVisit;  // "" when no spell is open
    int64_t admitted = 0;
    std::string ward, bed, service, consultant;
  };
  Child makeChild(int index);
  std::string msh(const char* trigger, const char* structure);
  std::string pid(const Child& c, bool full) const;
  std::string pd1nk1(const Child& c) const;
  std::string pv1(const Child& c, bool discharge, int64_t dischargeAt) const;

  std::mt19937_64 rng_;
  int streamId_;
  std::string prefix_;
  std::vector<Child> children_;
  int64_t clock_;
  uint64_t seq_ = 0;
  uint64_t visits_ = 0;
};

// One ORU^R01 ReSPECT form message (for the mapping benchmark's extra row), child `index`.
std::string respectMessage(std::mt19937_64& rng, int index, const std::string& controlId);

// A hospice export (format 1.2) of `records` records; `exportIndex` makes ids unique.
// With `nhsNumbers` (one per record) the records are about those children (the corpus of
// acp-bench-corpus, so each child's NHS number is known); otherwise random ones. The rest of
// the content is the same for a seed either way.
std::string hospiceExport(std::mt19937_64& rng, int exportIndex, int records,
                          const std::vector<std::string>* nhsNumbers = nullptr);

// A community export (namespace urn:northshire:community:export:1) of `patients` Patients;
// `docIndex` makes ids unique; `nhsNumbers` as for hospiceExport.
std::string communityExport(std::mt19937_64& rng, int docIndex, int patients,
                            const std::vector<std::string>* nhsNumbers = nullptr);

}  // namespace acp::bench
