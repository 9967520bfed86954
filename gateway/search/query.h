// SearchQuery — a FHIR search request parsed and checked against the model's
// SearchParameters, before any storage is touched (search/ plans, store/ executes).
//
// Parsing never throws. Problems are appended to the IssueList: unknown parameters are
// warnings in lenient mode and errors in strict mode (`Prefer: handling=strict`); malformed
// values (bad date, bad prefix, unknown modifier) are always errors ("value" / "not-supported").
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/issues.h"
#include "gateway/model/model.h"

namespace acp::search {

enum class Prefix { kEq, kNe, kGt, kLt, kGe, kLe, kSa, kEb, kAp };

// One value of one parameter (a comma-separated list gives several, ORed). Which fields are
// set depends on the parameter type:
//   string      raw, normalized
//   token       hasSystem, system, code (raw = the whole unescaped value); with :text only raw
//               and normalized (compare with TokenEntry.text); _id: code = the id
//   date        prefix, low, high (raw = the date text)
//   number      prefix, number (raw = the number text)
//   quantity    prefix, number, quantitySystem, quantityCode (both "" when not given)
//   reference   refType / refId for "Type/id", a bare id (refType from a :Type modifier, else
//               "") or an absolute URL on QueryOptions::baseUrl; url for any absolute URL
//               (canonicals included); a /_history/n version is dropped. With :identifier:
//               hasSystem, system, code as for tokens.
//   uri         raw
struct ParamValue {
  Prefix prefix = Prefix::kEq;  // date, number, quantity
  std::string raw;              // the value after prefix removal and unescaping (\, \| \$)
  std::string normalized;       // string and token:text: normalizeString(raw) (index.h)
  // token: system|code split. hasSystem is false for a bare "code" (any system).
  bool hasSystem = false;
  std::string system;
  std::string code;
  // date: inclusive range of the value (see index.h DateEntry)
  int64_t low = 0;
  int64_t high = 0;
  // reference: "Patient/123" → type Patient, id 123; bare "123" → type "", id 123;
  // absolute URL → url set (and type/id when it is on this server's base).
  std::string refType;
  std::string refId;
  std::string url;
  double number = 0;  // number / quantity value
  std::string quantitySystem, quantityCode;
};

// One parameter occurrence: name[:modifier][.chain]=v1,v2 (values ORed). Occurrences are ANDed.
struct Criterion {
  std::string name;       // "subject", "_id", "patient"
  std::string modifier;   // "", "exact", "contains", "missing", "not", "text", "identifier",
                          // "above", "below", or a resource type for references ("Patient")
  const model::SearchParamDef* param = nullptr;  // nullptr for _id / _lastUpdated handled by
                                                 // the store itself (param then describes
                                                 // them too, from the Resource definitions)
  std::string type;       // the parameter's type: string token date reference number ...
  // Chained parameter (subject:Patient.identifier=...): the target type and the criterion
  // applied to the referenced resources. Nested chains nest.
  std::string chainTargetType;
  // Every target type the chain applies to: one when the :Type modifier names it or the
  // parameter has a single target; several when the parameter has several targets and all of
  // them define the chained parameter with the same type (chainTargetType is then "").
  std::vector<std::string> chainTargetTypes;
  std::unique_ptr<Criterion> chain;
  std::vector<ParamValue> values;  // ORed
  bool missing = false;            // for :missing=true|false, the flag
};

struct SortKey {
  std::string name;  // parameter code, or "_id" / "_lastUpdated"
  const model::SearchParamDef* param = nullptr;
  bool descending = false;
};

struct IncludeSpec {
  std::string sourceType;  // "CarePlan"; "*" with wildcard
  std::string param;       // "subject"; "*" for all reference parameters
  std::string targetType;  // optional ":Patient" qualifier
  bool iterate = false;
};

enum class SummaryMode { kNone, kTrue, kText, kData, kCount, kFalse };

struct SearchQuery {
  std::string resourceType;           // "" for a system-wide search (not yet supported)
  std::vector<Criterion> criteria;    // ANDed
  std::vector<SortKey> sort;
  std::vector<IncludeSpec> includes;
  std::vector<IncludeSpec> revincludes;
  int count = 50;                      // page size, 0..maxCount
  bool totalAccurate = false;          // _total=accurate
  SummaryMode summary = SummaryMode::kNone;
  std::vector<std::string> elements;   // _elements
  std::string cursor;                  // opaque keyset cursor from a previous page's link
  // Parameters echoed in self/next links (normalised, in request order, without _cursor).
  std::vector<std::pair<std::string, std::string>> echo;
};

struct QueryOptions {
  bool strict = false;   // Prefer: handling=strict
  int defaultCount = 50;
  int maxCount = 1000;
  std::string baseUrl;   // this server's base, to recognise absolute references to itself
};

// Parses `params` (already URL-decoded name/value pairs, in order) for `resourceType`.
// Returns false when an error was added to `issues` (the search must not run).
bool parseQuery(const model::Model& model, const std::string& resourceType,
                const std::vector<std::pair<std::string, std::string>>& params,
                const QueryOptions& options, SearchQuery& out, IssueList& issues);

}  // namespace acp::search
