// acp-bench-corpus — builds the benchmark corpus from the partners' formats: N children, each
// pushed by a partner in its own format (bench/ingest_generate.h) and taken through the real
// partner mappers and the gateway's IngestService (mapping, R4 + profile validation, person
// resolution, source orders, Provenance, plan Flags) into a SqlStore — so the rows are
// exactly what ingest stores. No HTTP and no audit (the HTTP push path adds an AuditEvent per
// push; the MLLP path one per message).
//
// Children are taken in blocks of 100 (the last block may be shorter): in each block the
// even-numbered children come in one hospice export (format 1.2: Patient, CarePlan with its
// decisions, Encounter of the episode, Condition, Consent, CareTeam ...), the odd-numbered
// ones in one community export (Patient, CarePlan, Encounter of the contact ...), and every
// tenth child (a hospice child) is in the community export too, with a plan that may
// disagree: a second source for the same person, as $acp-summary sees it. Every child so has
// a Patient, at least one Encounter and at least one active CarePlan. NHS numbers are
// sequential valid numbers (Modulus 11) from 999 000 000 (the 999 test range holds ~818 000;
// beyond it they continue from 998 000 000, still valid but outside the test range). The
// content is deterministic for --seed; ids derive from the sources (source_ids.h).
//
// Usage: acp-bench-corpus --db=PATH --ids=PATH [--patients=100000] [--seed=1]
//                         [--conformance=DIR] [--mappings=DIR] [--sqlite-memory-mb=N]
// --sqlite-memory-mb: StoreOptions::sqliteMemoryLimitBytes in MiB (default: the store's, as the
// gateway's gateway.store.sqliteMemoryMegabytes; 0 = no limit): for comparing cache sizes.
// The database must not exist yet. The ids file gets one line per child, in child order:
// "<Patient id>\t<NHS number>\n" (read by bench/*.lua). Prints on stdout one line:
//   BENCH patients=N records=R pushes=P transactions=T versions=V seconds=S map_seconds=M
//         versions_per_s=X records_per_s=Y
//         second_source_unlinked=U
// (versions: resource versions written, Provenance included; transactions: the durable
// commits IngestService made, one per push of at most 256 records; U: second-source records
// whose Patient is not the hospice record's — the person index did not link them, e.g. a
// candidate link for review because the demographics differ). Progress on stderr.
// Exit codes: 0 ok, 64 bad arguments, 65 the database exists, 70 set-up, store or mapping
// failure, or a record that was not stored (with its issues).
// Thread-safety: a single-threaded program.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/ingest_generate.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/model/model.h"
#include "gateway/profile/profile_registry.h"
#include "gateway/profile/profile_validator.h"
#include "gateway/store/sql_store.h"
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
constexpr int kExitExists = 65;
constexpr int kExitFailure = 70;
constexpr long kBlock = 100;
constexpr long kSecondSourceEvery = 10;

using Clock = std::chrono::steady_clock;

struct Args {
  std::string db, ids;
  std::string conformance = ACP_BENCH_CONFORMANCE_DIR;
  std::string mappings = ACP_BENCH_MAPPINGS_DIR;
  long patients = 100000;
  long seed = 1;
  long sqliteMemoryMb = -1;  // -1: the store's default
};

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) return false;
    std::string key = arg.substr(2, eq - 2), v = arg.substr(eq + 1);
    auto count = [&](long lo, long hi, long& out) {
      char* end = nullptr;
      out = std::strtol(v.c_str(), &end, 10);
      return !v.empty() && *end == 0 && out >= lo && out <= hi;
    };
    bool ok = key == "db"            ? (a.db = v, !v.empty())
              : key == "ids"         ? (a.ids = v, !v.empty())
              : key == "conformance" ? (a.conformance = v, !v.empty())
              : key == "mappings"    ? (a.mappings = v, !v.empty())
              : key == "patients"    ? count(1, 2000000, a.patients)
              : key == "seed"        ? count(0, 1L << 30, a.seed)
              : key == "sqlite-memory-mb" ? count(0, 1L << 20, a.sqliteMemoryMb)
                                     : false;
    if (!ok) return false;
  }
  return !a.db.empty() && !a.ids.empty();
}

// Sequential valid NHS numbers: 999 000 000.. first, then 998 000 000.. (see the head comment).
class NhsNumbers {
 public:
  std::string next() {
    for (;;) {
      if (stem_ > 999999999) stem_ = 998000000;
      std::string d = std::to_string(stem_++);
      int sum = 0;
      for (int i = 0; i < 9; ++i) sum += (d[i] - '0') * (10 - i);
      int check = 11 - sum % 11;
      if (check == 11) check = 0;
      if (check == 10) continue;
      return d + static_cast<char>('0' + check);
    }
  }

 private:
  int64_t stem_ = 999000000;
};

int fail(const std::string& what) {
  std::cerr << "acp-bench-corpus: " << what << std::endl;
  return kExitFailure;
}

std::string issuesText(const acp::IssueList& issues) {
  std::string s;
  for (const auto& i : issues.issues()) s += " [" + i.code + " " + i.location + ": " + i.message + "]";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) {
    std::cerr << "usage: acp-bench-corpus --db=PATH --ids=PATH [--patients=100000] [--seed=1] "
                 "[--conformance=DIR] [--mappings=DIR] [--sqlite-memory-mb=N]\n";
    return kExitUsage;
  }
  struct stat st;
  if (::stat(args.db.c_str(), &st) == 0) {
    std::cerr << "acp-bench-corpus: " << args.db << " exists; remove it first\n";
    return kExitExists;
  }

  auto model = acp::model::Model::load(args.conformance);
  if (!model.isOk()) return fail(model.status().message());
  std::string root = args.conformance;
  while (!root.empty() && root.back() == '/') root.pop_back();
  root = root.substr(0, root.rfind('/'));
  auto registry =
      acp::profile::ProfileRegistry::load(model.value(), {root + "/acp", root + "/ukcore"});
  if (!registry.isOk()) return fail(registry.status().message());
  acp::store::StoreOptions storeOptions;
  if (args.sqliteMemoryMb >= 0) storeOptions.sqliteMemoryLimitBytes = args.sqliteMemoryMb * 1024 * 1024;
  auto opened = acp::store::SqlStore::open(args.db, model.value(), storeOptions);
  if (!opened.isOk()) return fail(opened.status().message());
  std::shared_ptr<acp::store::SqlStore> store(opened.take().release());

  auto hospice = acp::mappings::hospice::HospicePartner::create(args.mappings + "/hospice/conceptmaps");
  if (!hospice.isOk()) return fail(hospice.status().message());
  auto community = acp::mappings::community::CommunityPartner::create(args.mappings + "/community");
  if (!community.isOk()) return fail(community.status().message());
  acp::ingest::IngestService ingest(model.value(), store);
  ingest.setProfiles(std::make_shared<acp::profile::ProfileValidator>(registry.value()));
  ingest.addPartner(hospice.value());
  ingest.addPartner(community.value());

  std::ofstream ids(args.ids, std::ios::binary | std::ios::trunc);
  if (!ids) return fail("cannot write " + args.ids);

  std::mt19937_64 rng(static_cast<uint64_t>(args.seed) * 7919 + 20261123);
  NhsNumbers numbers;
  long records = 0, pushes = 0, transactions = 0, versions = 0;
  long unlinked = 0;  // second-source records the person index did not put on the same Patient
  double mapSeconds = 0;
  const Clock::time_point started = Clock::now();

  // Maps and commits one document; every record must be stored. `patients` gets the Patient
  // id of each record, in record order.
  auto push = [&](const acp::ingest::PartnerMapper& mapper, const std::string& body,
                  std::vector<std::string>& patients) -> bool {
    acp::ingest::MappedPush mapped;
    acp::IssueList issues;
    Clock::time_point t0 = Clock::now();
    if (!mapper.map(body, mapped, issues)) {
      std::cerr << "acp-bench-corpus: a " << mapper.name() << " document does not map:"
                << issuesText(issues) << "\n";
      return false;
    }
    mapSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<acp::ingest::RecordOutcome> outcomes = ingest.commit(mapped, false);
    ++pushes;
    transactions += static_cast<long>((mapped.records.size() +
                                       acp::ingest::IngestService::kRecordsPerCommit - 1) /
                                      acp::ingest::IngestService::kRecordsPerCommit);
    for (const auto& o : outcomes) {
      if (o.result != acp::ingest::RecordOutcome::Result::kStored || o.patients.empty()) {
        std::cerr << "acp-bench-corpus: " << mapper.name() << " record " << o.recordId << " "
                  << acp::ingest::resultName(o.result) << issuesText(o.issues) << "\n";
        return false;
      }
      ++records;
      versions += static_cast<long>(o.written.size());
      patients.push_back(o.patients.front());
    }
    return true;
  };

  for (long first = 0, block = 0; first < args.patients; first += kBlock, ++block) {
    long last = std::min(args.patients, first + kBlock);
    std::vector<std::string> nhs;
    for (long i = first; i < last; ++i) nhs.push_back(numbers.next());
    std::vector<std::string> hospiceNhs, communityNhs;
    for (long i = first; i < last; ++i) {
      const std::string& n = nhs[static_cast<size_t>(i - first)];
      if (i % 2 == 0) hospiceNhs.push_back(n);
      if (i % 2 == 1 || i % kSecondSourceEvery == 0) communityNhs.push_back(n);
    }
    std::vector<std::string> hospiceIds, communityIds;
    if (!hospiceNhs.empty() &&
        !push(*hospice.value(),
              acp::bench::hospiceExport(rng, static_cast<int>(block),
                                        static_cast<int>(hospiceNhs.size()), &hospiceNhs),
              hospiceIds))
      return kExitFailure;
    if (!communityNhs.empty() &&
        !push(*community.value(),
              acp::bench::communityExport(rng, static_cast<int>(block),
                                          static_cast<int>(communityNhs.size()), &communityNhs),
              communityIds))
      return kExitFailure;
    // The ids file, in child order: a hospice child's Patient from its hospice record.
    size_t h = 0, c = 0;
    for (long i = first; i < last; ++i) {
      const std::string& n = nhs[static_cast<size_t>(i - first)];
      std::string id;
      if (i % 2 == 0) {
        id = hospiceIds.at(h++);
        if (i % kSecondSourceEvery == 0 && communityIds.at(c++) != id) ++unlinked;
      } else {
        id = communityIds.at(c++);
      }
      ids << id << '\t' << n << '\n';
    }
    if (block % 100 == 99) {
      double s = std::chrono::duration<double>(Clock::now() - started).count();
      std::fprintf(stderr, "  %ld children, %ld records, %ld versions, %.0f versions/s\n", last,
                   records, versions, versions / s);
    }
  }
  ids.close();
  if (!ids) return fail("writing " + args.ids + " failed");
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  store.reset();  // closes the database (WAL checkpoint on the last close)
  std::printf("BENCH patients=%ld records=%ld pushes=%ld transactions=%ld versions=%ld "
              "seconds=%.2f map_seconds=%.2f versions_per_s=%.1f records_per_s=%.1f "
              "second_source_unlinked=%ld\n",
              args.patients, records, pushes, transactions, versions, seconds, mapSeconds,
              versions / seconds, records / seconds, unlinked);
  return 0;
}
