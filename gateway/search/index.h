// Search-index extraction: what a resource contributes to each search parameter.
//
// Driven by the R4 SearchParameter definitions (their FHIRPath expressions, evaluated by
// search/fhirpath.h against the model): no code per resource type. The store writes these
// rows in the same transaction as the resource (store/sqlite), and search/query.h plans
// queries against them. Pure functions; thread-safe.
// Error contract: nothing here fails or throws on any input; values that cannot be indexed
// (malformed dates, JSON of the wrong kind) are left out.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/model/model.h"

namespace acp::search {

// Normalises text for string search: lower case, accents and punctuation-insensitive as far as
// ASCII goes (Latin-1 / common UTF-8 accented letters folded), whitespace collapsed.
std::string normalizeString(std::string_view s);

// HumanName gives one entry each for family, given, prefix, suffix and text; Address for line,
// city, district, state, postalCode, country and text.
struct StringEntry {
  std::string param;       // search parameter code ("family", "name", "address-postalcode")
  std::string normalized;  // normalizeString(value): default (starts-with) and :contains
  std::string exact;       // the value as written: :exact
};

// One entry per Coding (system, code, normalised display), per Identifier (system, value,
// normalised type.text), per ContactPoint ("", value, ""), per code/boolean/uri/string ("",
// text, ""). CodeableConcept.text gives an extra text-only entry (system "" and code "", text
// set): code matching must therefore never match an empty code.
struct TokenEntry {
  std::string param;
  std::string system;  // "" when the value has no system (code, boolean, or Coding without)
  std::string code;    // code / identifier value / boolean "true"|"false" / ContactPoint value
  std::string text;    // normalised display / CodeableConcept.text / Identifier.type.text (:text)
};

// Dates as an inclusive range in milliseconds since the Unix epoch (UTC). A partial date
// covers its whole extent: "2024" → [2024-01-01T00:00:00.000, 2024-12-31T23:59:59.999].
// Open-ended Periods use INT64_MIN / INT64_MAX.
// A Period gives [start.low, end.high]; a Timing the span of its events (and
// repeat.boundsPeriod).
struct DateEntry {
  std::string param;
  int64_t low = 0;
  int64_t high = 0;
};

// Reference.reference "Patient/123" and "Patient/123/_history/2" give type Patient, id 123 (the
// version is dropped). An absolute URL gives its Type (when it ends in Type/id) and, only when
// it starts with IndexOptions::baseUrl, its id. "#id" (contained) and "urn:uuid:" give only
// url. A reference without a type in its text takes Reference.type. canonical / uri values give
// url (and the Type when the URL ends in Type/id). A Reference with only an identifier gives
// identifierSystem / identifierValue (and Reference.type as targetType). url holds the
// reference text as written whenever there is one.
struct ReferenceEntry {
  std::string param;
  std::string targetType;  // "Patient" for "Patient/123"; "" when unknown
  std::string targetId;    // "123"; "" for absolute URLs that are not this server's
  std::string url;         // the reference text as written (absolute URLs, canonicals)
  std::string identifierSystem;  // Reference.identifier (logical reference), for :identifier
  std::string identifierValue;
};

struct NumberEntry {
  std::string param;
  double value = 0;     // for comparison
  std::string text;     // original decimal text (precision gives the implicit range)
};

struct QuantityEntry {
  std::string param;
  double value = 0;
  std::string system;
  std::string code;
  std::string unit;
};

struct UriEntry {
  std::string param;
  std::string uri;
};

struct IndexValues {
  std::vector<StringEntry> strings;
  std::vector<TokenEntry> tokens;
  std::vector<DateEntry> dates;
  std::vector<ReferenceEntry> references;
  std::vector<NumberEntry> numbers;
  std::vector<QuantityEntry> quantities;
  std::vector<UriEntry> uris;
};

// Extracts the index rows of every search parameter of the resource's type (and of
// Resource/DomainResource, except _id/_lastUpdated which the store keeps itself).
// Unsupported expression forms are skipped, never guessed.
// Uses IndexExtractor::forModel (below).
IndexValues extractIndex(const model::Model& model, const json::Value& resource);

struct IndexOptions {
  // This server's base URL ("https://host/fhir"; a trailing slash is ignored): absolute
  // references starting with it are indexed with their type and id like relative ones.
  std::string baseUrl;
};
IndexValues extractIndex(const model::Model& model, const json::Value& resource,
                         const IndexOptions& options);

// A search parameter that is not indexed for a resource type, and why.
struct SkippedParam {
  std::string resourceType;
  std::string code;
  std::string reason;  // "no expression", "composite parameters are not indexed", ...
};

// The compiled search parameters of every resource type of one Model (each expression parsed
// once, at construction). Immutable afterwards: extract() may run on any number of threads.
// Not indexed: _id and _lastUpdated (the store keeps them), parameters without an expression,
// composite and special parameters, phonetic parameters (no phonetic matching), expressions
// that do not compile, and expressions whose results cannot be indexed as the parameter type.
class IndexExtractor {
 public:
  explicit IndexExtractor(const model::Model& model);  // the model must outlive this
  ~IndexExtractor();
  IndexExtractor(const IndexExtractor&) = delete;
  IndexExtractor& operator=(const IndexExtractor&) = delete;

  // Index rows of `resource` (an object with resourceType); empty for unknown types or
  // malformed input. Never throws.
  IndexValues extract(const json::Value& resource, const IndexOptions& options = {}) const;

  // True when `code` is a parameter of `resourceType` whose rows extract() produces (false
  // for skipped parameters and for _id / _lastUpdated, which the store keeps itself).
  bool isIndexed(std::string_view resourceType, std::string_view code) const;

  // Parameters not indexed, by resource type then code (diagnostics, CapabilityStatement).
  const std::vector<SkippedParam>& skipped() const { return skipped_; }

  // The extractor of `model`, built on first use and owned by the model (Model::derived), so
  // it lives exactly as long as the model. Thread-safe.
  static const IndexExtractor& forModel(const model::Model& model);

  struct TypeParams;  // index.cc

 private:
  const model::Model& model_;
  std::vector<SkippedParam> skipped_;
  std::unordered_map<std::string, std::unique_ptr<TypeParams>> byType_;
};

// Date helpers shared with query parsing: parse a FHIR date/dateTime/instant (possibly
// partial) into its inclusive millisecond range. Returns false when malformed.
bool dateRange(std::string_view text, int64_t& low, int64_t& high);

}  // namespace acp::search
