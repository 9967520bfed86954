// Fuzz target: the search-parameter parser (gateway/search/query.h) and the SQL it becomes,
// run on a real SQLite store holding a child's Patient, CarePlan and Encounter.
// Input: byte 0 picks the resource type (and bit 7 Prefer: handling=strict); the rest is a
// query string, split on '&' and at the first '=' of each pair (values are taken as already
// URL-decoded, as the HTTP layer hands them over).
// Contract: never a crash; a refused query has an error; a parsed query runs, answering
// results or a refusal of the query (400/422/501) — never a store failure (no SQL error from
// a parameter value, whatever it holds).
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/issues.h"
#include "gateway/search/query.h"
#include "gateway/store/sql_store.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace acp;

// Byte 0 (bits 0-6, modulo the count) picks one; tests/fuzz/make-seeds.mjs writes the same order.
const char* const kTypes[] = {"Patient",    "CarePlan",   "Encounter", "Flag",
                              "Condition",  "RiskAssessment", "AuditEvent", "Provenance",
                              "Subscription", "Observation"};

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The store, in a temporary folder removed at exit, with the test fixtures' resources.
store::SqlStore& theStore() {
  static std::unique_ptr<store::SqlStore> s = [] {
    std::string dir = (std::filesystem::temp_directory_path() / "acp-fuzz-search-XXXXXX").string();
    fuzz::check(mkdtemp(dir.data()) != nullptr, "a temporary folder");
    static std::string removeAtExit = dir;
    atexit([] { std::filesystem::remove_all(removeAtExit); });
    auto opened = store::SqlStore::open(dir + "/fuzz.db", fuzz::fhirModel());
    fuzz::check(opened.isOk(), "the store opens");
    std::unique_ptr<store::SqlStore> st = opened.take();
    auto tx = st->begin();
    fuzz::check(tx.isOk(), "a transaction");
    for (const char* fixture : {"patient-amelia.json", "careplan-amelia.json"}) {
      json::Value r;
      json::ParseError err;
      fuzz::check(json::parse(readFile(fuzz::sourcePath(std::string("tests/fixtures/") + fixture)),
                              r, err), "the fixture reads");
      std::string type = r.getString("resourceType");
      fuzz::check(tx.value()->create(type, std::move(r)).isOk(), "the fixture is stored");
    }
    json::Value enc;
    json::ParseError err;
    fuzz::check(json::parse(R"({"resourceType":"Encounter","status":"finished","class":{
        "system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
        "subject":{"reference":"Patient/amelia"},"period":{"start":"2026-10-01T10:00:00Z"}})",
                            enc, err), "the encounter reads");
    fuzz::check(tx.value()->create("Encounter", std::move(enc)).isOk(), "the encounter is stored");
    fuzz::check(tx.value()->commit().isOk(), "the fixtures commit");
    return st;
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string type = kTypes[(data[0] & 0x7f) % (sizeof kTypes / sizeof *kTypes)];
  search::QueryOptions options;
  options.strict = (data[0] & 0x80) != 0;
  options.baseUrl = "https://gateway.test/fhir";
  std::vector<std::pair<std::string, std::string>> params;
  std::string_view rest = fuzz::bytes(data + 1, size - 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t eq = pair.find('=');
    params.emplace_back(std::string(pair.substr(0, eq)),
                        eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  search::SearchQuery query;
  IssueList issues;
  if (!search::parseQuery(*fuzz::fhirModel(), type, params, options, query, issues)) {
    fuzz::check(issues.hasErrors(), "a refused query says why");
    return 0;
  }
  auto page = theStore().search(query);
  if (!page.isOk()) {
    std::fprintf(stderr, "store answered: %s\n", page.status().message().c_str());
    fuzz::check(page.status().code() != Status::Code::kInternal,
                "a parsed query never makes the store fail");
  }
  return 0;
}
