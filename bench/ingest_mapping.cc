// acp-bench-ingest-mapping — partner mapping throughput on one thread (one core), no store:
// the real partner mappers (AcutePartner, HospicePartner, CommunityPartner) parse and map
// generated but realistic input (bench/ingest_generate.h), once without and once with the
// validation of every resource they produce (R4 and the claimed profile, as IngestService does
// before it writes). Nothing is written anywhere: the CPU cost of ingest before the store.
//
// Inputs (each a pool cycled through while measuring):
//   adt        --adt-pool HL7 v2.4 ADT messages, mix A01 30 % / A03 20 % / A08 35 % / A31 15 %
//   oru        --adt-pool/4 ORU^R01 ReSPECT form messages
//   hospice    --docs hospice exports (format 1.2) of --hospice-records records each
//   community  --docs community exports of --community-patients Patients each
// Before measuring, every input is mapped and validated once: a rejected record, a document
// that cannot be read or an R4 validation error stops the program (exit 70), so the figures
// are always for input that maps cleanly; the mappers' warnings are listed by code.
//
// Each (input, stage) runs --warmup seconds, then --reps runs of --duration seconds; the
// table shows the median run. Stages: "map" = parse + map (PartnerMapper::map); "map+validate"
// adds R4 and profile validation of every resource as IngestService writes it. The ADT rows
// also show the ratio to
// 99 messages/s per core, the published upper figure for microsoft/FHIR-Converter's Node
// (Handlebars) ADT A01 → FHIR conversion in process (../shared/reference/performance.md;
// other software, context only).
//
// Usage: acp-bench-ingest-mapping [--duration=10] [--warmup=2] [--reps=3] [--seed=1]
//   [--adt-pool=2000] [--docs=8] [--hospice-records=100] [--community-patients=100]
//   [--inputs=adt,oru,hospice,community] [--mappings=DIR] [--conformance=DIR]
// Prints a markdown table on stdout, and one "BENCH ..." line per (input, stage) on stderr.
// Exit codes: 0 ok, 64 bad arguments, 70 set-up failure or input that does not map cleanly.
// Thread-safety: a single-threaded program.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/ingest_generate.h"
#include "gateway/core/xml.h"
#include "gateway/ingest/mapped_push.h"
#include "gateway/ingest/overlay.h"
#include "gateway/ingest/profiles.h"
#include "gateway/profile/profile_validator.h"
#include "gateway/model/model.h"
#include "gateway/model/validator.h"
#include "mappings/acute/acute_mapper.h"
#include "mappings/community/community_mapper.h"
#include "mappings/hospice/hospice_mapper.h"

#ifndef ACP_BENCH_CONFORMANCE_DIR
#define ACP_BENCH_CONFORMANCE_DIR "conformance/r4"
#endif
#ifndef ACP_BENCH_MAPPINGS_DIR
#define ACP_BENCH_MAPPINGS_DIR "mappings"
#endif

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitFailure = 70;
constexpr double kFhirConverterMsgPerSec = 99;  // published, per core (see the file comment)
constexpr double kAdtTarget = 8000;              // messages/s per core (the issue's target)

using Clock = std::chrono::steady_clock;

struct Args {
  double duration = 10, warmup = 2;
  int reps = 3;
  long seed = 1;
  long adtPool = 2000, docs = 8, hospiceRecords = 100, communityPatients = 100;
  std::string inputs = "adt,oru,hospice,community";
  std::string mappings = ACP_BENCH_MAPPINGS_DIR;
  std::string conformance = ACP_BENCH_CONFORMANCE_DIR;
};

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) return false;
    std::string key = arg.substr(2, eq - 2), v = arg.substr(eq + 1);
    char* end = nullptr;
    auto num = [&](double lo, double hi, double& out) {
      out = std::strtod(v.c_str(), &end);
      return !v.empty() && *end == 0 && out >= lo && out <= hi;
    };
    auto count = [&](long lo, long hi, long& out) {
      out = std::strtol(v.c_str(), &end, 10);
      return !v.empty() && *end == 0 && out >= lo && out <= hi;
    };
    long reps = 0;
    bool ok = key == "duration"             ? num(0.1, 3600, a.duration)
              : key == "warmup"             ? num(0, 3600, a.warmup)
              : key == "reps"               ? (count(1, 99, reps) && (a.reps = reps, true))
              : key == "seed"               ? count(0, 1L << 30, a.seed)
              : key == "adt-pool"           ? count(4, 1000000, a.adtPool)
              : key == "docs"               ? count(1, 1000, a.docs)
              : key == "hospice-records"    ? count(1, 5000, a.hospiceRecords)
              : key == "community-patients" ? count(1, 5000, a.communityPatients)
              : key == "inputs"             ? (a.inputs = v, true)
              : key == "mappings"           ? (a.mappings = v, true)
              : key == "conformance"        ? (a.conformance = v, true)
                                            : false;
    if (!ok) return false;
  }
  return true;
}

// One kind of input: its documents and the partner that maps them.
struct Input {
  std::string name;       // adt, oru, hospice, community
  std::string docUnit;    // "messages", "documents"
  std::string recUnit;    // "messages", "records", "patients"
  const acp::ingest::PartnerMapper* partner = nullptr;
  std::vector<std::string> docs;
  size_t bytes = 0;  // of all docs
};

struct Counts {
  uint64_t docs = 0, records = 0, resources = 0, bytes = 0;
  double seconds = 0;
};

// The profile validator IngestService uses (conformance/acp + conformance/ukcore), set in main.
const acp::profile::ProfileValidator* gProfiles = nullptr;

// Validates one mapped resource as IngestService does before writing it as a new resource:
// the record's overlay defaults applied (nothing stored yet), its profile claimed, then R4 and
// the profile.
void validateAsWritten(const acp::model::Validator& validator, const acp::ingest::MappedRecord& r,
                       const acp::json::Value& res, acp::IssueList& issues) {
  const std::string& type = res.getString("resourceType");
  std::set<std::string> objects;
  for (const std::string& path : r.overlayObjects)
    if (path.rfind(type + ".", 0) == 0) objects.insert(path.substr(type.size() + 1));
  auto d = r.defaults.find(type + "/" + res.getString("id"));
  acp::json::Value out = acp::ingest::layOver(res, acp::json::Value(), objects,
                                             d == r.defaults.end() ? nullptr : &d->second);
  acp::ingest::claimProfiles(out);
  if (validator.validate(out, issues) && gProfiles) gProfiles->validateClaimed(out, issues);
}

// Maps (and validates) one document; returns false on a document-level failure.
bool runOne(const Input& in, const std::string& doc, const acp::model::Validator* validator,
            Counts& c) {
  acp::ingest::MappedPush push;
  acp::IssueList issues;
  if (!in.partner->map(doc, push, issues)) return false;
  c.docs += 1;
  c.bytes += doc.size();
  c.records += push.records.size();
  for (const acp::ingest::MappedRecord& r : push.records) {
    c.resources += r.resources.size();
    if (validator) {
      acp::IssueList vi;
      for (const acp::json::Value& res : r.resources) validateAsWritten(*validator, r, res, vi);
    }
  }
  return true;
}

Counts measure(const Input& in, const acp::model::Validator* validator, double seconds) {
  Counts c;
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(seconds));
  size_t i = 0;
  for (;;) {
    runOne(in, in.docs[i], validator, c);
    i = (i + 1) % in.docs.size();
    auto now = Clock::now();
    if (now >= end) {
      c.seconds = std::chrono::duration<double>(now - start).count();
      return c;
    }
  }
}

// Maps and validates every document once; prints the first problems and returns false when
// anything is rejected or invalid.
bool checkClean(const Input& in, const acp::model::Validator& validator,
                std::map<std::string, uint64_t>& warnings) {
  int shown = 0;
  bool clean = true;
  auto show = [&](const std::string& where, const acp::IssueList& issues) {
    for (const acp::Issue& i : issues.issues()) {
      if (i.severity != acp::Severity::kError && i.severity != acp::Severity::kFatal) continue;
      clean = false;
      if (shown++ < 5)
        std::cerr << "ingest-mapping: " << in.name << " " << where << ": " << i.code << " at "
                  << i.location << ": " << i.message << "\n";
    }
  };
  for (size_t d = 0; d < in.docs.size(); ++d) {
    acp::ingest::MappedPush push;
    acp::IssueList issues;
    bool ok = in.partner->map(in.docs[d], push, issues);
    show("document " + std::to_string(d), issues);
    if (!ok) {
      clean = false;
      continue;
    }
    for (const acp::ingest::MappedRecord& r : push.records) {
      if (r.rejected) clean = false;
      show("record " + r.recordId, r.issues);
      for (const acp::Issue& i : r.issues.issues())
        if (i.severity == acp::Severity::kWarning) ++warnings[i.code];
      for (const acp::json::Value& res : r.resources) {
        acp::IssueList vi;
        validateAsWritten(validator, r, res, vi);
        show("record " + r.recordId + " (R4 and profile validation)", vi);
      }
    }
  }
  return clean;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fixed(double v, int decimals) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) {
    std::cerr << "usage: acp-bench-ingest-mapping [--duration=S] [--warmup=S] [--reps=N] "
                 "[--seed=N] [--adt-pool=N] [--docs=N] [--hospice-records=N] "
                 "[--community-patients=N] [--inputs=adt,oru,hospice,community] "
                 "[--mappings=DIR] [--conformance=DIR]\n";
    return kExitUsage;
  }
  acp::xml::xmlSafeInit();
  auto model = acp::model::Model::load(args.conformance);
  if (!model.isOk()) {
    std::cerr << "ingest-mapping: " << model.status().message() << "\n";
    return kExitFailure;
  }
  acp::model::Validator validator(model.value());
  std::string conformanceRoot = args.conformance;
  while (!conformanceRoot.empty() && conformanceRoot.back() == '/') conformanceRoot.pop_back();
  conformanceRoot = conformanceRoot.substr(0, conformanceRoot.rfind('/'));
  auto registry = acp::profile::ProfileRegistry::load(
      model.value(), {conformanceRoot + "/acp", conformanceRoot + "/ukcore"});
  if (!registry.isOk()) {
    std::cerr << "ingest-mapping: profiles: " << registry.status().message() << "\n";
    return 2;
  }
  acp::profile::ProfileValidator profiles(registry.value());
  gProfiles = &profiles;
  auto acute = acp::mappings::acute::AcutePartner::create(args.mappings + "/acute/conceptmaps");
  auto hospice =
      acp::mappings::hospice::HospicePartner::create(args.mappings + "/hospice/conceptmaps");
  auto community = acp::mappings::community::CommunityPartner::create(args.mappings + "/community");
  for (const acp::Status* s : {acute.isOk() ? nullptr : &acute.status(),
                               hospice.isOk() ? nullptr : &hospice.status(),
                               community.isOk() ? nullptr : &community.status()}) {
    if (s) {
      std::cerr << "ingest-mapping: " << s->message() << "\n";
      return kExitFailure;
    }
  }

  // ---- inputs ----
  std::mt19937_64 rng(static_cast<uint64_t>(args.seed));
  std::vector<Input> inputs;
  auto wanted = [&](const char* n) { return ("," + args.inputs + ",").find(std::string(",") + n + ",") != std::string::npos; };
  if (wanted("adt")) {
    Input in{"adt", "messages", "messages", acute.value().get(), {}, 0};
    acp::bench::AdtStream stream(static_cast<uint64_t>(args.seed), 1,
                                 static_cast<int>(std::max(10L, args.adtPool / 4)), "PAS");
    for (long i = 0; i < args.adtPool; ++i) in.docs.push_back(stream.next());
    inputs.push_back(std::move(in));
  }
  if (wanted("oru")) {
    Input in{"oru", "messages", "messages", acute.value().get(), {}, 0};
    for (long i = 0; i < std::max(4L, args.adtPool / 4); ++i)
      in.docs.push_back(acp::bench::respectMessage(rng, static_cast<int>(i),
                                                   "EPR" + std::to_string(10000000 + i)));
    inputs.push_back(std::move(in));
  }
  if (wanted("hospice")) {
    Input in{"hospice", "documents", "records", hospice.value().get(), {}, 0};
    for (long d = 0; d < args.docs; ++d)
      in.docs.push_back(acp::bench::hospiceExport(rng, static_cast<int>(d),
                                                  static_cast<int>(args.hospiceRecords)));
    inputs.push_back(std::move(in));
  }
  if (wanted("community")) {
    Input in{"community", "documents", "patients", community.value().get(), {}, 0};
    for (long d = 0; d < args.docs; ++d)
      in.docs.push_back(acp::bench::communityExport(rng, static_cast<int>(d),
                                                    static_cast<int>(args.communityPatients)));
    inputs.push_back(std::move(in));
  }
  if (inputs.empty()) {
    std::cerr << "ingest-mapping: --inputs names none of adt, oru, hospice, community\n";
    return kExitUsage;
  }

  // ---- the inputs must map cleanly ----
  std::ostringstream inputLines;
  for (Input& in : inputs) {
    for (const std::string& d : in.docs) in.bytes += d.size();
    std::map<std::string, uint64_t> warnings;  // by issue code
    if (!checkClean(in, validator, warnings)) {
      std::cerr << "ingest-mapping: the generated " << in.name
                << " input does not map cleanly (see above); nothing measured\n";
      return kExitFailure;
    }
    Counts once;
    for (const std::string& d : in.docs) runOne(in, d, nullptr, once);
    inputLines << "- " << in.name << ": " << in.docs.size() << " " << in.docUnit << ", "
               << once.records << " " << in.recUnit << " → " << once.resources
               << " resources, " << fixed(in.bytes / 1024.0, 0) << " KiB in all ("
               << fixed(static_cast<double>(in.bytes) / in.docs.size(), 0) << " bytes per "
               << (in.docUnit == "messages" ? "message" : "document") << "); mapper warnings: ";
    if (warnings.empty()) inputLines << "none";
    for (auto it = warnings.begin(); it != warnings.end(); ++it)
      inputLines << (it == warnings.begin() ? "" : ", ") << it->first << " × " << it->second;
    inputLines << "\n";
  }

  // ---- measure: per rep, every input and stage in turn ----
  struct Row {
    const Input* in;
    bool validate;
    std::vector<Counts> runs;
  };
  std::vector<Row> rows;
  for (const Input& in : inputs)
    for (bool v : {false, true}) rows.push_back({&in, v, {}});
  for (Row& r : rows) {
    if (args.warmup > 0) measure(*r.in, r.validate ? &validator : nullptr, args.warmup);
  }
  for (int rep = 0; rep < args.reps; ++rep)
    for (Row& r : rows) {
      r.runs.push_back(measure(*r.in, r.validate ? &validator : nullptr, args.duration));
      const Counts& c = r.runs.back();
      std::cerr << "ingest-mapping: " << r.in->name << (r.validate ? " map+validate" : " map")
                << " #" << rep + 1 << ": " << fixed(c.docs / c.seconds, 1) << " "
                << r.in->docUnit << "/s\n";
    }

  // ---- table ----
  std::cout << "Mapping throughput, one thread, no store: " << args.reps << " × "
            << fixed(args.duration, 1) << " s per row after " << fixed(args.warmup, 1)
            << " s warm-up, median run.\n\n"
            << inputLines.str() << "\n"
            << "| input | stage | documents/s | records/s | resources/s | MB/s | µs per record |"
               " vs FHIR-Converter 99 msg/s (published figure) |\n"
            << "|---|---|---:|---:|---:|---:|---:|---:|\n";
  double adtMap = -1, adtValidate = -1;
  for (const Row& r : rows) {
    std::vector<double> docs, recs, res, mb;
    for (const Counts& c : r.runs) {
      docs.push_back(c.docs / c.seconds);
      recs.push_back(c.records / c.seconds);
      res.push_back(c.resources / c.seconds);
      mb.push_back(c.bytes / c.seconds / 1e6);
    }
    double d = median(docs), rc = median(recs), rs = median(res), m = median(mb);
    bool adt = r.in->name == "adt";
    if (adt) (r.validate ? adtValidate : adtMap) = d;
    std::string label = r.in->name == "adt"       ? "ADT A01/A03/A08/A31 (messages)"
                        : r.in->name == "oru"     ? "ORU^R01 ReSPECT (messages)"
                        : r.in->name == "hospice" ? "hospice export (records)"
                                                  : "community export (patients)";
    std::cout << "| " << label << " | " << (r.validate ? "map+validate" : "map") << " | "
              << fixed(d, 0) << " | " << fixed(rc, 0) << " | " << fixed(rs, 0) << " | "
              << fixed(m, 1) << " | " << fixed(rc > 0 ? 1e6 / rc : 0, 1) << " | "
              << (adt ? fixed(d / kFhirConverterMsgPerSec, 0) + "×" : "—") << " |\n";
    std::cerr << "BENCH input=" << r.in->name << " stage=" << (r.validate ? "map+validate" : "map")
              << " docs_per_s=" << fixed(d, 1) << " records_per_s=" << fixed(rc, 1)
              << " resources_per_s=" << fixed(rs, 1) << " mb_per_s=" << fixed(m, 2) << "\n";
  }
  if (adtMap >= 0) {
    auto verdict = [](double v) { return v >= kAdtTarget ? "pass" : "FAIL"; };
    std::cout << "\nTarget (issue): ADT mapping ≥ " << fixed(kAdtTarget, 0)
              << " messages/s per core — map " << fixed(adtMap, 0) << ": " << verdict(adtMap)
              << "; map+validate " << fixed(adtValidate, 0) << ": " << verdict(adtValidate)
              << ".\n";
  }
  return 0;
}
