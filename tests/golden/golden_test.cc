// Golden tests for the partner mappings (tests/golden/README.md): every case directory
// tests/golden/<partner>/<case>/ holds the inputs in the order they are sent (01-*, 02-*, ...)
// and expected.json. Each input goes through the real path — PartnerMapper::map, then
// IngestService::commit against a fresh SqlStore (with its failure log) — and the test
// compares, after normalisation, the per-push outcomes and every current resource the pushes
// produced with expected.json. Every produced resource (and every outcome) must pass the R4
// model validator. With ACP_GOLDEN_UPDATE=1 the test writes expected.json instead of comparing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/model/validator.h"
#include "gateway/store/sql_store.h"
#include "mappings/acute/acute_mapper.h"
#include "mappings/community/community_mapper.h"
#include "mappings/hospice/hospice_mapper.h"
#include "tests/support/model_fixture.h"
#include "tests/support/test_store.h"

namespace acp::testing {
namespace {

namespace fs = std::filesystem;

const fs::path& goldenRoot() {
  static const fs::path root = fs::path(ACP_SOURCE_DIR) / "tests" / "golden";
  return root;
}

bool updateMode() {
  const char* v = std::getenv("ACP_GOLDEN_UPDATE");
  return v && std::string(v) == "1";
}

// An input file: "NN-<anything>.(json|xml|hl7)", sent in name order.
bool isInput(const fs::path& p) {
  static const std::regex re(R"(^[0-9]{2}-.+\.(json|xml|hl7)$)");
  return std::regex_match(p.filename().string(), re);
}

struct Case {
  std::string partner;  // hospice | community | hl7v2
  std::string name;     // the case directory's name
  fs::path dir;
};

// How GoogleTest prints a case (instead of its bytes).
void PrintTo(const Case& c, std::ostream* os) { *os << c.partner << "/" << c.name; }

std::vector<Case> discoverCases() {
  std::vector<Case> out;
  std::error_code ec;
  for (const char* partner : {"hospice", "community", "hl7v2"}) {
    fs::path pdir = goldenRoot() / partner;
    if (!fs::is_directory(pdir, ec)) continue;
    for (const auto& entry : fs::directory_iterator(pdir, ec))
      if (entry.is_directory())
        out.push_back({partner, entry.path().filename().string(), entry.path()});
  }
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) {
    return a.partner != b.partner ? a.partner < b.partner : a.name < b.name;
  });
  return out;
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What is sent for one input file. HL7 v2 files ending ".raw.hl7" are sent byte for byte (the
// parser accepts CR, CRLF and LF); other ".hl7" files are stored with readable line ends and
// sent with every CRLF or LF turned into the CR the interface specifies.
std::string bodyOf(const fs::path& p) {
  std::string bytes = readFile(p);
  std::string name = p.filename().string();
  bool raw = name.size() > 8 && name.compare(name.size() - 8, 8, ".raw.hl7") == 0;
  if (p.extension() != ".hl7" || raw) return bytes;
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') continue;
    out += bytes[i] == '\n' ? '\r' : bytes[i];
  }
  return out;
}

// The Content-Type each partner sends (docs/mappings/<partner>.md).
std::string mediaTypeOf(const std::string& partner) {
  return partner == "hospice" ? "application/json"
         : partner == "community" ? "application/xml"
                                  : "application/hl7-v2";
}

std::shared_ptr<const ingest::PartnerMapper> makePartner(const std::string& partner) {
  std::string mappings = std::string(ACP_SOURCE_DIR) + "/mappings";
  std::shared_ptr<const ingest::PartnerMapper> p;
  if (partner == "hospice") {
    auto r = mappings::hospice::HospicePartner::create(mappings + "/hospice/conceptmaps");
    EXPECT_TRUE(r.isOk()) << r.status().message();
    if (r.isOk()) p = r.value();
  } else if (partner == "community") {
    auto r = mappings::community::CommunityPartner::create(mappings + "/community");
    EXPECT_TRUE(r.isOk()) << r.status().message();
    if (r.isOk()) p = r.value();
  } else if (partner == "hl7v2") {
    auto r = mappings::acute::AcutePartner::create(mappings + "/acute/conceptmaps");
    EXPECT_TRUE(r.isOk()) << r.status().message();
    if (r.isOk()) p = r.value();
  }
  return p;
}

json::Value parseOrFail(const std::string& text, const std::string& what) {
  json::Value v;
  json::ParseError err;
  if (!json::parse(text, v, err)) ADD_FAILURE() << what << ": not JSON: " << err.message;
  return v;
}

std::string issuesText(const IssueList& issues) {
  std::string s;
  for (const Issue& i : issues.issues())
    s += "  " + std::string(severityCode(i.severity)) + " " + i.code + " at " + i.location + ": " +
         i.message + "\n";
  return s;
}

// ---- normalisation -------------------------------------------------------------------------

// Applies `f` to every string value in the tree.
template <typename F>
void forEachString(json::Value& v, F&& f) {
  if (v.isString()) {
    std::string s = v.text();
    if (f(s)) v = json::Value::makeString(std::move(s));
  } else if (v.isArray()) {
    for (json::Value& item : v.items()) forEachString(item, f);
  } else if (v.isObject()) {
    for (auto& [k, m] : v.members()) forEachString(m, f);
  }
}

bool replaceAll(std::string& s, const std::string& from, const std::string& to) {
  bool changed = false;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
    changed = true;
  }
  return changed;
}

// Server-assigned values that differ between runs: the store's meta, Provenance.recorded.
void normaliseResource(json::Value& r) {
  if (json::Value* meta = r.find("meta")) {
    meta->erase("versionId");
    meta->erase("lastUpdated");
    if (meta->members().empty()) r.erase("meta");
  }
  if (r.getString("resourceType") == "Provenance") r.erase("recorded");
}

// ---- structural comparison -----------------------------------------------------------------

std::string shortJson(const json::Value* v) {
  if (!v) return "(absent)";
  std::string s = json::write(*v);
  if (s.size() > 160) s = s.substr(0, 157) + "...";
  return s;
}

// Records up to `limit` differences between `want` and `got` at FHIRPath-ish `path`: object
// members by name (order ignored), arrays by index (order significant).
void diff(const std::string& path, const json::Value& want, const json::Value& got,
          std::vector<std::string>& out, size_t& total) {
  auto note = [&](const std::string& line) {
    ++total;
    if (out.size() < 25) out.push_back(line);
  };
  if (want.kind() != got.kind()) {
    note(path + ": expected " + shortJson(&want) + ", got " + shortJson(&got));
    return;
  }
  if (want.isObject()) {
    for (const auto& [k, w] : want.members()) {
      const json::Value* g = got.find(k);
      if (!g)
        note(path + "." + k + ": expected " + shortJson(&w) + ", got (absent)");
      else
        diff(path + "." + k, w, *g, out, total);
    }
    for (const auto& [k, g] : got.members())
      if (!want.find(k)) note(path + "." + k + ": expected (absent), got " + shortJson(&g));
    return;
  }
  if (want.isArray()) {
    size_t n = std::min(want.items().size(), got.items().size());
    for (size_t i = 0; i < n; ++i)
      diff(path + "[" + std::to_string(i) + "]", want.items()[i], got.items()[i], out, total);
    for (size_t i = n; i < want.items().size(); ++i)
      note(path + "[" + std::to_string(i) + "]: expected " + shortJson(&want.items()[i]) +
           ", got (absent)");
    for (size_t i = n; i < got.items().size(); ++i)
      note(path + "[" + std::to_string(i) + "]: expected (absent), got " +
           shortJson(&got.items()[i]));
    return;
  }
  if (want.text() != got.text())
    note(path + ": expected " + shortJson(&want) + ", got " + shortJson(&got));
}

// ---- running a case ------------------------------------------------------------------------

class GoldenCase : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenCase, Matches) {
  const Case& c = GetParam();
  std::vector<fs::path> inputs;
  for (const auto& entry : fs::directory_iterator(c.dir))
    if (entry.is_regular_file() && isInput(entry.path())) inputs.push_back(entry.path());
  std::sort(inputs.begin(), inputs.end());
  ASSERT_FALSE(inputs.empty()) << c.dir << " holds no input (NN-*.json|xml|hl7)";

  auto partner = makePartner(c.partner);
  ASSERT_TRUE(partner) << "unknown partner " << c.partner;
  EXPECT_TRUE(partner->acceptsMediaType(mediaTypeOf(c.partner)));
  auto model = r4Shared();
  std::string templ = (fs::temp_directory_path() / "acp-golden-XXXXXX").string();
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  const fs::path tmp = templ;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{tmp};
  TestStoreLocation location((tmp / "golden.db").string());
  std::shared_ptr<store::SqlStore> sqlite;
  {
    auto opened = store::SqlStore::open(location.location(), model);
    ASSERT_TRUE(opened.isOk()) << opened.status().message();
    sqlite = std::shared_ptr<store::SqlStore>(opened.take());
  }
  ingest::IngestService service(model, sqlite, sqlite);
  service.addPartner(partner);
  model::Validator validator(model);
  // The profiles the gateway loads (conformance/acp and conformance/ukcore): ingest validates
  // against them, and every stored resource is checked again here.
  static const std::shared_ptr<const profile::ProfileRegistry> registry = [&] {
    auto r = profile::ProfileRegistry::load(
        model, {std::string(ACP_SOURCE_DIR) + "/conformance/acp",
                std::string(ACP_SOURCE_DIR) + "/conformance/ukcore"});
    EXPECT_TRUE(r.isOk()) << r.status().message();
    return r.isOk() ? r.value() : nullptr;
  }();
  ASSERT_NE(registry, nullptr);
  auto profiles = std::make_shared<profile::ProfileValidator>(registry);
  service.setProfiles(profiles);
  // A fixed day for what depends on the date (ages, review dates, the times Flags are
  // raised): 2026-11-23T12:00:00Z, so the expected output never drifts with the calendar.
  service.setClock([] { return int64_t{1795435200000}; });

  // Every push, as the partner's answer would carry it (gateway/http/ingest_endpoint.cc): the
  // outcome Parameters with document-level issues first, or the OperationOutcome of a
  // document that could not be read.
  json::Value outcomes = json::Value::makeArray();
  std::vector<std::string> refs;  // Type/id of what the pushes wrote, in order of appearance
  size_t expectedKept = 0;
  for (const fs::path& input : inputs) {
    std::string body = bodyOf(input);
    ingest::MappedPush push;
    IssueList docIssues;
    json::Value outcome;
    if (!partner->map(body, push, docIssues)) {
      EXPECT_TRUE(docIssues.hasErrors()) << input << ": a failed document says why";
      service.keepDocumentFailure(c.partner, mediaTypeOf(c.partner), body, docIssues);
      ++expectedKept;
      outcome = docIssues.toOperationOutcome();
    } else {
      std::vector<ingest::RecordOutcome> records = service.commit(push);
      outcome = ingest::IngestService::outcomeParameters(push, records);
      if (!docIssues.empty()) {
        json::Value p = json::Value::makeObject();
        p.set("name", json::Value::makeString("documentIssues"));
        p.set("resource", docIssues.toOperationOutcome());
        auto& params = outcome.find("parameter")->items();
        params.insert(params.begin(), std::move(p));
      }
      for (const ingest::RecordOutcome& r : records) {
        for (const std::string& ref : r.references) {
          size_t h = ref.find("/_history/");
          std::string current = ref.substr(0, h);
          if (std::find(refs.begin(), refs.end(), current) == refs.end()) refs.push_back(current);
        }
        for (const Issue& i : r.issues.issues()) expectedKept += i.code == "ingest.kept";
      }
    }
    IssueList outcomeIssues;
    EXPECT_TRUE(validator.validate(outcome, outcomeIssues))
        << input.filename() << ": the outcome is not valid R4:\n" << issuesText(outcomeIssues);
    outcomes.push(std::move(outcome));
  }
  // The failure log holds one entry per kept record or document.
  auto kept = sqlite->list("", 1000, 0);
  ASSERT_TRUE(kept.isOk()) << kept.status().message();
  EXPECT_EQ(kept->size(), expectedKept) << "kept failures";

  // Every current resource the pushes produced, as stored; each must be valid R4.
  json::Value resources = json::Value::makeObject();
  std::vector<std::string> provenanceIds;
  for (const std::string& ref : refs) {
    size_t slash = ref.find('/');
    std::string type = ref.substr(0, slash), id = ref.substr(slash + 1);
    auto stored = sqlite->read(type, id);
    if (!stored.isOk()) {
      ADD_FAILURE() << ref << " cannot be read: " << stored.status().message();
      continue;
    }
    json::Value r = parseOrFail(stored->json, ref);
    IssueList issues;
    EXPECT_TRUE(validator.validate(r, issues, type))
        << ref << " is not valid R4:\n" << issuesText(issues) << json::write(r, true);
    IssueList profileIssues;
    EXPECT_TRUE(profiles->validateClaimed(r, profileIssues))
        << ref << " is not valid against its profiles:\n" << issuesText(profileIssues);
    normaliseResource(r);
    if (type == "Provenance") provenanceIds.push_back(id);
    resources.set(ref, std::move(r));
  }

  // Stable names for what differs between runs: Provenance ids (random UUIDs) become
  // provenance-1, -2, ... in order of appearance; kept-failure numbers become N.
  json::Value got = json::Value::makeObject();
  got.set("outcomes", std::move(outcomes));
  got.set("resources", std::move(resources));
  static const std::regex keptNo(R"(kept as failure [0-9]+ \(GET /\$ingest/failures/[0-9]+\))");
  auto stabilise = [&](std::string& s) {
    bool changed = false;
    for (size_t i = 0; i < provenanceIds.size(); ++i)
      changed = replaceAll(s, provenanceIds[i], "provenance-" + std::to_string(i + 1)) || changed;
    if (s.find("kept as failure") != std::string::npos) {
      std::string t = std::regex_replace(s, keptNo, "kept as failure N (GET /$ingest/failures/N)");
      changed = changed || t != s;
      s = std::move(t);
    }
    return changed;
  };
  forEachString(got, stabilise);
  json::Value renamed = json::Value::makeObject();
  for (auto& [k, v] : got.find("resources")->members()) {
    std::string key = k;
    stabilise(key);
    renamed.set(key, std::move(v));
  }
  got.set("resources", std::move(renamed));

  fs::path expectedPath = c.dir / "expected.json";
  if (updateMode()) {
    std::ofstream out(expectedPath, std::ios::binary | std::ios::trunc);
    out << json::write(got, true) << "\n";
    ASSERT_TRUE(out.good()) << "cannot write " << expectedPath;
    return;
  }
  ASSERT_TRUE(fs::exists(expectedPath))
      << expectedPath << " is missing (generate it with ACP_GOLDEN_UPDATE=1, then review it)";
  json::Value want = parseOrFail(readFile(expectedPath), expectedPath.string());
  std::vector<std::string> lines;
  size_t total = 0;
  const json::Value empty = json::Value::makeArray();
  const json::Value* wantOutcomes = want.find("outcomes");
  diff("outcomes", wantOutcomes ? *wantOutcomes : empty, *got.find("outcomes"), lines, total);
  const json::Value* wantResources = want.find("resources");
  const json::Value& gotResources = *got.find("resources");
  if (wantResources && wantResources->isObject()) {
    for (const auto& [k, w] : wantResources->members()) {
      const json::Value* g = gotResources.find(k);
      if (!g) {
        ++total;
        if (lines.size() < 25) lines.push_back(k + ": expected, but not produced");
      } else {
        diff(k, w, *g, lines, total);
      }
    }
  }
  for (const auto& [k, g] : gotResources.members())
    if (!wantResources || !wantResources->find(k)) {
      ++total;
      if (lines.size() < 25) lines.push_back(k + ": produced, but not in expected.json");
    }
  if (total > 0) {
    std::string report;
    for (const std::string& l : lines) report += "  " + l + "\n";
    if (total > lines.size())
      report += "  ... and " + std::to_string(total - lines.size()) + " more\n";
    ADD_FAILURE() << c.partner << "/" << c.name << ": " << total
                  << " difference(s) from expected.json (ACP_GOLDEN_UPDATE=1 rewrites it):\n"
                  << report;
  }
}

std::string caseName(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.partner + "_" + info.param.name;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(golden, GoldenCase, ::testing::ValuesIn(discoverCases()), caseName);

}  // namespace
}  // namespace acp::testing
