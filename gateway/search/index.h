// Search-index extraction: what a resource contributes to each search parameter.
//
// Driven by the R4 SearchParameter definitions (their FHIRPath expressions, evaluated by
// search/fhirpath.h against the model): no code per resource type. The store writes these
// rows in the same transaction as the resource (store/sqlite), and search/query.h plans
// queries against them. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/model/model.h"

namespace acp::search {

// Normalises text for string search: lower case, accents and punctuation-insensitive as far as
// ASCII goes (Latin-1 / common UTF-8 accented letters folded), whitespace collapsed.
std::string normalizeString(std::string_view s);

struct StringEntry {
  std::string param;       // search parameter code ("family", "name", "address-postalcode")
  std::string normalized;  // normalizeString(value): default (starts-with) and :contains
  std::string exact;       // the value as written: :exact
};

struct TokenEntry {
  std::string param;
  std::string system;  // "" when the value has no system (code, boolean, or Coding without)
  std::string code;    // code / identifier value / boolean "true"|"false" / ContactPoint value
  std::string text;    // normalised display / CodeableConcept.text / Identifier.type.text (:text)
};

// Dates as an inclusive range in milliseconds since the Unix epoch (UTC). A partial date
// covers its whole extent: "2024" → [2024-01-01T00:00:00.000, 2024-12-31T23:59:59.999].
// Open-ended Periods use INT64_MIN / INT64_MAX.
struct DateEntry {
  std::string param;
  int64_t low = 0;
  int64_t high = 0;
};

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
IndexValues extractIndex(const model::Model& model, const json::Value& resource);

// Date helpers shared with query parsing: parse a FHIR date/dateTime/instant (possibly
// partial) into its inclusive millisecond range. Returns false when malformed.
bool dateRange(std::string_view text, int64_t& low, int64_t& high);

}  // namespace acp::search
