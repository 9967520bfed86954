// Shared by the fuzz targets (tests/fuzz/*_fuzz.cc; docs/reliability.md).
//
// Each target defines LLVMFuzzerTestOneInput. It is built two ways:
//   - by `make fuzz`: with clang, libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer
//     (build/fuzz/, CMake option ACP_FUZZ), and run for a given time;
//   - by the ordinary build: linked with replay_main.cc, a driver that runs every file of the
//     target's committed corpus (tests/fuzz/corpus/<target>/) once — the CI replay, a ctest
//     named fuzz_replay.<target>.
// A target states the contract it checks with check(): a broken contract aborts with the
// reason, which libFuzzer reports as a crash and saves the input for.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/core/json.h"
#include "gateway/model/model.h"
#include "gateway/profile/profile_registry.h"

namespace acp::fuzz {

// Aborts with `what` when `ok` is false: a contract of the code under test was broken.
inline void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz contract broken: %s\n", what);
  std::abort();
}

inline std::string_view bytes(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// The repository's folders the gateway loads its definitions from (compiled in: the fuzz
// targets run from any working directory).
inline std::string sourcePath(const std::string& relative) {
  return std::string(ACP_SOURCE_DIR) + "/" + relative;
}

// The FHIR R4 model and the UK Core and ACP profiles, loaded once per process as the gateway
// loads them (gateway/app/gateway.cc); aborts when they cannot be loaded.
inline const std::shared_ptr<const model::Model>& fhirModel() {
  static std::shared_ptr<const model::Model> model = [] {
    auto m = model::Model::load(sourcePath("conformance/r4"));
    if (!m.isOk()) {
      std::fprintf(stderr, "cannot load the FHIR model: %s\n", m.status().message().c_str());
      std::abort();
    }
    return m.take();
  }();
  return model;
}

inline const std::shared_ptr<const profile::ProfileRegistry>& profiles() {
  static std::shared_ptr<const profile::ProfileRegistry> registry = [] {
    auto r = profile::ProfileRegistry::load(
        fhirModel(), {sourcePath("conformance/acp"), sourcePath("conformance/ukcore")});
    if (!r.isOk()) {
      std::fprintf(stderr, "cannot load the profiles: %s\n", r.status().message().c_str());
      std::abort();
    }
    return r.take();
  }();
  return registry;
}

// The same JSON text read twice gives equal values, and what was read writes back to text
// that reads to the same value (compact and pretty).
inline void checkJsonRoundTrip(const json::Value& v) {
  for (bool pretty : {false, true}) {
    std::string text = json::write(v, pretty);
    json::Value again;
    json::ParseError err;
    check(json::parse(text, again, err), "written JSON reads back");
    check(again == v, "written JSON reads back to the same value");
  }
}

}  // namespace acp::fuzz
