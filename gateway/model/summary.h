// _summary and _elements (R4 search.html#summary / #elements), driven by the model's
// isSummary flags. Mandatory elements (min > 0) and modifiers are kept as R4 requires for
// _elements; id, meta and resourceType are always kept. The result carries
// meta.tag SUBSETTED (http://terminology.hl7.org/CodeSystem/v3-ObservationValue).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/model/model.h"
#include "gateway/search/query.h"

namespace acp::model {

// Returns a copy of `resource` reduced per the mode. kNone/kFalse return it unchanged.
// kCount is handled by the caller (no resources returned).
json::Value applySummary(const Model& model, const json::Value& resource,
                         search::SummaryMode mode);

// Keeps only the named top-level elements (plus mandatory ones, id, meta, resourceType).
json::Value applyElements(const Model& model, const json::Value& resource,
                          const std::vector<std::string>& elements);

}  // namespace acp::model
