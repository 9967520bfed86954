// ConceptMaps — the partners' local code lists translated to SNOMED CT, FHIR code systems or
// the gateway's own code systems, loaded from FHIR R4 ConceptMap JSON files
// (mappings/<partner>/conceptmaps/*.json). The maps are data: changing a translation is an
// edit of a ConceptMap, not of code.
//
// translate(map, code) follows the R4 $translate rules used here: the first target of the
// element whose equivalence is not "unmatched" or "disjoint"; no element → not found.
// Thread-safety: immutable after load(); translate() may run on many threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/core/status.h"

namespace acp::ingest {

struct Coding {
  std::string system;
  std::string code;
  std::string display;
};

class ConceptMaps {
 public:
  // Loads every *.json file in `dir` (each one ConceptMap); a file that is not a ConceptMap
  // with url and group[].element is an error naming the file.
  Status loadDirectory(const std::string& dir);
  // Adds one ConceptMap given as parsed JSON.
  Status add(const json::Value& conceptMap, const std::string& origin);

  // `map` is the ConceptMap's url or, for brevity, its name.
  std::optional<Coding> translate(const std::string& map, const std::string& code) const;
  bool has(const std::string& map) const;
  // The source codes a map knows (for tests and documentation).
  std::vector<std::string> sourceCodes(const std::string& map) const;

 private:
  std::map<std::string, std::map<std::string, Coding>> byUrl_;
  std::map<std::string, std::string> urlByName_;
};

// A CodeableConcept for a source code: the translation when there is one (with the source
// text as `text`), otherwise only `text`.
json::Value codeableConcept(const std::optional<Coding>& coding, const std::string& text);
json::Value codingValue(const Coding& c);

}  // namespace acp::ingest
