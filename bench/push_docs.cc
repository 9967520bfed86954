// acp-bench-push-docs — writes partner push documents for the push scenarios of bench/run.sh:
// --docs hospice exports (format 1.2) or community exports, --records records each, from
// bench/ingest_generate.h (random children, deterministic for --seed; every document has its
// own export / batch id and record ids, so each is new to the gateway), one per file
// (DIR/<kind>-NNNNNN.<json|xml>), and DIR/<kind>.list naming them in order.
// Usage: acp-bench-push-docs --kind=hospice|community --out=DIR [--docs=100] [--records=100]
//                            [--seed=1] [--first=0]
// --first: the index of the first document (keeps ids unique across calls).
// Exit codes: 0 ok, 64 bad arguments, 70 a file could not be written.
// Thread-safety: a single-threaded program.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "bench/ingest_generate.h"

int main(int argc, char** argv) {
  std::string kind, out;
  long docs = 100, records = 100, seed = 1, first = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) kind = "?";
    std::string key = arg.substr(2, eq - 2), v = arg.substr(eq + 1);
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    bool number = !v.empty() && *end == 0 && n >= 0 && n <= 10000000;
    if (key == "kind") kind = v;
    else if (key == "out") out = v;
    else if (key == "docs" && number && n > 0) docs = n;
    else if (key == "records" && number && n > 0 && n <= 256) records = n;
    else if (key == "seed" && number) seed = n;
    else if (key == "first" && number) first = n;
    else kind = "?";
  }
  if ((kind != "hospice" && kind != "community") || out.empty()) {
    std::cerr << "usage: acp-bench-push-docs --kind=hospice|community --out=DIR [--docs=100] "
                 "[--records=100] [--seed=1] [--first=0]\n";
    return 64;
  }
  std::mt19937_64 rng(static_cast<uint64_t>(seed) * 104729 + (kind == "hospice" ? 1 : 2));
  std::ofstream list(out + "/" + kind + ".list", std::ios::trunc);
  for (long d = first; d < first + docs; ++d) {
    char name[64];
    std::snprintf(name, sizeof name, "%s-%06ld.%s", kind.c_str(), d,
                  kind == "hospice" ? "json" : "xml");
    std::string body = kind == "hospice"
                           ? acp::bench::hospiceExport(rng, static_cast<int>(d), static_cast<int>(records))
                           : acp::bench::communityExport(rng, static_cast<int>(d), static_cast<int>(records));
    std::ofstream f(out + "/" + name, std::ios::binary | std::ios::trunc);
    f << body;
    if (!f) {
      std::cerr << "acp-bench-push-docs: cannot write " << out << "/" << name << "\n";
      return 70;
    }
    list << out << "/" << name << "\n";
  }
  return list ? 0 : 70;
}
