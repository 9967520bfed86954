// acp-bench-load-data — builds the benchmark database directly through the store API
// (acp::store::SqlStore with the R4 model), bypassing HTTP and validation, and reports the
// bulk-load rate.
//
// For each of N patients it writes, in transactions of about --batch resources:
//   Patient    an NHS number (10 digits passing Modulus 11, in the 999 test range), a second
//              local identifier, official name, gender, birthDate, address;
//   Encounter  finished inpatient stay, subject Patient/<id>, period;
//   CarePlan   status active, intent plan, category SNOMED 736366004 (advance care plan),
//              subject Patient/<id>, encounter Encounter/<id>, period.
// Ids are assigned by the store (UUID v4), as for a FHIR create. The data is deterministic
// apart from those ids (fixed seed), so runs are comparable.
//
// With --acp-items each CarePlan is a partner-like advance care plan (a dated CPR decision,
// preferred places of care and death, an emergency plan, a review date, the source's local
// identifier; no encounter reference), and every tenth child has a later plan from a second
// source that disagrees on CPR and place of death — the data $acp-summary reads
// (bench/run-summary.sh).
// With --gp=ODS every Patient names that GP practice (generalPractitioner by ODS code), so a
// gp-practice client of that organisation may read every patient (bench/run-tls.sh reads
// with gateway.auth.mode=smart). Without it the data is as before, byte for byte.
// Usage: acp-bench-load-data --db=PATH --ids=PATH [--patients=100000] [--batch=500] [--acp-items]
//                            [--gp=ODS] [--conformance=DIR]
// The database must not exist yet (a benchmark never appends to an unknown state). The ids
// file gets one line per patient: "<patient id>\t<NHS number>\n" (read by bench/*.lua).
// Prints the load time and rate on stdout. Exit codes: 0 ok, 64 bad arguments, 65 the
// database already exists, 70 any store or model failure (with the store's message).
// Thread-safety: a single-threaded program.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/model/model.h"
#include "gateway/store/sql_store.h"

#ifndef ACP_BENCH_CONFORMANCE_DIR
#define ACP_BENCH_CONFORMANCE_DIR "conformance/r4"
#endif

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitExists = 65;
constexpr int kExitFailure = 70;

struct Args {
  std::string db;
  std::string ids;
  std::string conformance = ACP_BENCH_CONFORMANCE_DIR;
  long patients = 100000;
  long batch = 500;
  bool acpItems = false;  // --acp-items: plans with decisions (bench/run-summary.sh)
  std::string gp;         // --gp=ODS: every Patient's registered GP practice (run-tls.sh)
};

bool parseCount(const std::string& text, long min, long max, long& out) {
  if (text.empty() || text.size() > 9) return false;
  long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < min || v > max) return false;
  out = v;
  return true;
}

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* prefix, std::string& out) {
      std::string p(prefix);
      if (arg.rfind(p, 0) != 0) return false;
      out = arg.substr(p.size());
      return true;
    };
    std::string v;
    if (value("--db=", a.db) || value("--ids=", a.ids) ||
        value("--conformance=", a.conformance)) {
      continue;
    } else if (value("--gp=", a.gp)) {
      if (a.gp.empty() || a.gp.size() > 10) return false;
      for (char c : a.gp)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    } else if (value("--patients=", v)) {
      if (!parseCount(v, 1, 10000000, a.patients)) return false;
    } else if (arg == "--acp-items") {
      a.acpItems = true;
    } else if (value("--batch=", v)) {
      if (!parseCount(v, 1, 100000, a.batch)) return false;
    } else {
      return false;
    }
  }
  return !a.db.empty() && !a.ids.empty();
}

// The Modulus 11 check digit of a 9-digit NHS number stem: weights 10..2, 11 - (sum mod 11),
// 11 becomes 0. Returns -1 when the check would be 10 (such stems are never issued).
int nhsCheckDigit(int64_t stem) {
  int digits[9];
  for (int i = 8; i >= 0; --i) {
    digits[i] = static_cast<int>(stem % 10);
    stem /= 10;
  }
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += digits[i] * (10 - i);
  int check = 11 - sum % 11;
  if (check == 11) return 0;
  if (check == 10) return -1;
  return check;
}

// Yields valid NHS numbers in increasing order from the 999 test range.
class NhsNumbers {
 public:
  std::string next() {
    for (;;) {
      int64_t stem = stem_++;
      int check = nhsCheckDigit(stem);
      if (check >= 0) return std::to_string(stem) + static_cast<char>('0' + check);
    }
  }

 private:
  int64_t stem_ = 999000000;  // 999 000 000 .. 999 999 999: about 900k valid numbers
};

const char* const kFamilies[] = {"Okafor", "Hughes", "Patel",  "Smith",  "Jones",  "Williams",
                                 "Brown",  "Taylor", "Davies", "Evans",  "Thomas", "Khan",
                                 "Wilson", "Roberts", "Walker", "Wright", "Nowak",  "Ali"};
const char* const kGivens[] = {"Amelia", "Leo",    "Olivia", "Noah",  "Isla",   "George",
                               "Ava",    "Arthur", "Mia",    "Oscar", "Freya",  "Muhammad",
                               "Grace",  "Harry",  "Lily",   "Jack",  "Sophia", "Theo"};
const char* const kStreets[] = {"Mill Lane", "High Street", "Church Road", "Station Road",
                                "Park Avenue", "Castle Street", "Victoria Road", "Green Lane"};
const char* const kCities[] = {"Northshire", "Leeds", "Bristol", "Norwich", "York", "Exeter"};

template <typename T, size_t N>
const char* pick(const T (&list)[N], std::mt19937& rng) {
  return list[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}

std::string twoDigits(int v) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

acp::Result<acp::json::Value> parse(const std::string& text) {
  acp::json::Value v;
  acp::json::ParseError error;
  if (!acp::json::parse(text, v, error))
    return acp::Status::internal("bench: generated JSON does not parse: " + error.message);
  return v;
}

// `gp`: the registered practice's ODS code, "" for none.
std::string patientJson(const std::string& nhs, long index, const std::string& gp,
                        std::mt19937& rng) {
  int year = std::uniform_int_distribution<int>(1930, 2022)(rng);
  int month = std::uniform_int_distribution<int>(1, 12)(rng);
  int day = std::uniform_int_distribution<int>(1, 28)(rng);
  int house = std::uniform_int_distribution<int>(1, 250)(rng);
  bool female = (rng() & 1) != 0;
  std::string postcode = "NS" + std::to_string(1 + index % 20) + " " +
                         std::to_string(index % 10) + static_cast<char>('A' + index % 26) +
                         static_cast<char>('A' + (index / 26) % 26);
  return std::string(R"({"resourceType":"Patient","identifier":[)") +
         R"({"system":"https://fhir.nhs.uk/Id/nhs-number","value":")" + nhs + R"("},)" +
         R"({"system":"https://fhir.bench.example/Id/local","value":"L)" +
         std::to_string(index) + R"("}],"active":true,"name":[{"use":"official","family":")" +
         pick(kFamilies, rng) + R"(","given":[")" + pick(kGivens, rng) + R"("]}],"gender":")" +
         (female ? "female" : "male") + R"(","birthDate":")" + std::to_string(year) + "-" +
         twoDigits(month) + "-" + twoDigits(day) + R"(","address":[{"use":"home","line":[")" +
         std::to_string(house) + " " + pick(kStreets, rng) + R"("],"city":")" +
         pick(kCities, rng) + R"(","postalCode":")" + postcode + R"("}])" +
         (gp.empty() ? std::string()
                     : R"(,"generalPractitioner":[{"identifier":{"system":)"
                       R"("https://fhir.nhs.uk/Id/ods-organization-code","value":")" +
                           gp + R"("}}])") +
         "}";
}

std::string encounterJson(const std::string& patientId, const std::string& start,
                          const std::string& end) {
  return std::string(R"({"resourceType":"Encounter","status":"finished","class":{)") +
         R"("system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP",)" +
         R"("display":"inpatient encounter"},"subject":{"reference":"Patient/)" + patientId +
         R"("},"period":{"start":")" + start + R"(","end":")" + end + R"("}})";
}

std::string carePlanJson(const std::string& patientId, const std::string& encounterId,
                         const std::string& start) {
  return std::string(R"({"resourceType":"CarePlan","status":"active","intent":"plan",)") +
         R"("category":[{"coding":[{"system":"http://snomed.info/sct","code":"736366004",)" +
         R"("display":"Advance care plan"}]}],"title":"Advance care plan",)" +
         R"("subject":{"reference":"Patient/)" + patientId +
         R"("},"encounter":{"reference":"Encounter/)" + encounterId +
         R"("},"period":{"start":")" + start + R"("}})";
}

// --acp-items: the plan as a partner's would be — a CPR decision with its date, preferred
// places of care and death, an emergency plan, a review date — from `ods`, and its local
// identifier. `notForCpr` picks the decision.
std::string acpPlanJson(const std::string& patientId, const std::string& start,
                        const std::string& ods, const std::string& planId, bool notForCpr,
                        const std::string& place) {
  const std::string base = "https://acp-gateway.nhs.uk";
  auto decision = [&](const std::string& item, const std::string& system, const std::string& code,
                      const std::string& date) {
    std::string ext = R"({"url":")" + base + R"(/StructureDefinition/acp-decision-value","valueCodeableConcept":{"coding":[{"system":")" +
                      system + R"(","code":")" + code + R"("}]}})";
    if (!date.empty())
      ext += R"(,{"url":")" + base + R"(/StructureDefinition/acp-decision-date","valueDate":")" + date + R"("})";
    return R"({"detail":{"extension":[)" + ext + R"(],"code":{"coding":[{"system":")" + base +
           R"(/CodeSystem/acp-item","code":")" + item + R"("}]},"status":"in-progress"}})";
  };
  return std::string(R"({"resourceType":"CarePlan","extension":[{"url":")") + base +
         R"(/StructureDefinition/acp-review-date","valueDate":"2027-01-15"}],)" +
         R"("identifier":[{"system":")" + base + "/Id/local/" + ods + R"(/plan","value":")" + planId +
         R"("}],"status":"active","intent":"plan",)" +
         R"("category":[{"coding":[{"system":"http://snomed.info/sct","code":"736366004",)" +
         R"("display":"Advance care plan"}]}],"title":"Advance care plan",)" +
         R"("subject":{"reference":"Patient/)" + patientId + R"("},"period":{"start":")" + start +
         R"("},"author":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":")" +
         ods + R"("}},"activity":[)" +
         decision("resuscitation", "http://snomed.info/sct", notForCpr ? "450476008" : "450475007", start) +
         "," + decision("preferred-place-of-care", base + "/CodeSystem/place", "home", "") + "," +
         decision("preferred-place-of-death-1", base + "/CodeSystem/place", place, "") + "," +
         R"({"detail":{"code":{"coding":[{"system":")" + base +
         R"(/CodeSystem/acp-item","code":"emergency-plan"}]},"status":"in-progress","description":"Call the hospice 24h line first."}}]})";
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

int fail(const acp::Status& s) {
  std::cerr << "acp-bench-load-data: " << s.message() << std::endl;
  return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) {
    std::cerr << "usage: acp-bench-load-data --db=PATH --ids=PATH [--patients=100000] "
                 "[--batch=500] [--acp-items] [--gp=ODS] [--conformance=DIR]"
              << std::endl;
    return kExitUsage;
  }
  if (exists(args.db)) {
    std::cerr << "acp-bench-load-data: " << args.db << " exists; remove it first" << std::endl;
    return kExitExists;
  }

  auto model = acp::model::Model::load(args.conformance);
  if (!model.isOk()) return fail(model.status());
  auto opened = acp::store::SqlStore::open(args.db, model.value());
  if (!opened.isOk()) return fail(opened.status());
  std::unique_ptr<acp::store::SqlStore> store = opened.take();

  std::ofstream ids(args.ids, std::ios::binary | std::ios::trunc);
  if (!ids) {
    std::cerr << "acp-bench-load-data: cannot write " << args.ids << std::endl;
    return kExitFailure;
  }

  std::mt19937 rng(20261122);
  NhsNumbers nhsNumbers;
  const long patientsPerTx = std::max(1L, args.batch / 3);
  long resources = 0;
  long transactions = 0;
  auto started = std::chrono::steady_clock::now();

  for (long first = 0; first < args.patients; first += patientsPerTx) {
    auto tx = store->begin();
    if (!tx.isOk()) return fail(tx.status());
    long last = std::min(args.patients, first + patientsPerTx);
    for (long i = first; i < last; ++i) {
      std::string nhs = nhsNumbers.next();
      auto patient = parse(patientJson(nhs, i, args.gp, rng));
      if (!patient.isOk()) return fail(patient.status());
      auto p = tx.value()->create("Patient", patient.take());
      if (!p.isOk()) return fail(p.status());
      const std::string& patientId = p->resource.id;

      int month = std::uniform_int_distribution<int>(1, 12)(rng);
      int day = std::uniform_int_distribution<int>(1, 20)(rng);
      std::string date = "2025-" + twoDigits(month) + "-" + twoDigits(day);
      auto encounter =
          parse(encounterJson(patientId, date + "T10:00:00Z",
                              "2025-" + twoDigits(month) + "-" + twoDigits(day + 5) +
                                  "T16:00:00Z"));
      if (!encounter.isOk()) return fail(encounter.status());
      auto e = tx.value()->create("Encounter", encounter.take());
      if (!e.isOk()) return fail(e.status());

      auto carePlan = parse(args.acpItems
                                ? acpPlanJson(patientId, date, "8WB01", "P" + std::to_string(i),
                                              i % 2 == 0, "home")
                                : carePlanJson(patientId, e->resource.id, date));
      if (!carePlan.isOk()) return fail(carePlan.status());
      auto c = tx.value()->create("CarePlan", carePlan.take());
      if (!c.isOk()) return fail(c.status());
      if (args.acpItems && i % 10 == 0) {
        // A tenth of the children: a later plan from a second source that disagrees.
        auto second = parse(acpPlanJson(patientId, "2026-" + twoDigits(month) + "-" + twoDigits(day),
                                        "RX9", "C" + std::to_string(i), i % 2 != 0, "hospice"));
        if (!second.isOk()) return fail(second.status());
        auto c2 = tx.value()->create("CarePlan", second.take());
        if (!c2.isOk()) return fail(c2.status());
        ++resources;
      }

      ids << patientId << '\t' << nhs << '\n';
      resources += 3;
    }
    acp::Status committed = tx.value()->commit();
    if (!committed.isOk()) return fail(committed);
    ++transactions;
    if (transactions % 100 == 0) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                     .count();
      std::fprintf(stderr, "  %ld patients, %ld resources, %.0f res/s\n", last, resources,
                   resources / s);
    }
  }
  ids.close();
  if (!ids) {
    std::cerr << "acp-bench-load-data: writing " << args.ids << " failed" << std::endl;
    return kExitFailure;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  store.reset();  // closes the database (WAL checkpoint on the last close)

  std::printf("loaded %ld patients, %ld resources in %ld transactions in %.1f s: %.0f res/s\n",
              args.patients, resources, transactions, seconds, resources / seconds);
  return 0;
}
