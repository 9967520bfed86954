// One child, one Patient: how the sources' patient records become the Patient resource the
// gateway serves (the "person"), and when two sources' records are the same child.
//
// Every source keeps its own view of the child (a *source patient*: the Patient its mapper
// made, with the id derived from the source — source_ids.h), stored beside the resources
// (store::Transaction::patientSource), never served. The served Patient — the person — is
// combined from the views of the sources that belong to it, and everything the sources send
// (encounters, care plans, flags) refers to the person.
//
// Which person a source patient belongs to (personIdFor):
// - a valid NHS number (the mappers put only Modulus 11-valid numbers under the NHS number
//   system) is the child: the person's id derives from it, so every source sending that
//   number lands on the same Patient;
// - without one, the source patient stays where it was (a record that leaves the number out
//   does not leave the person), or, the first time, is a person of its own (id = the source
//   patient's own id): never matched to another source's record on demographics.
//
// Combining (combinePerson), the views oldest written first:
// - identifiers: the union (NHS number first, from the newest view that has it, with its
//   verification status), each source's local identifiers kept;
// - every other element from the newest view that has it (the latest news wins);
// - `link` is the person's own (merges between persons), never a source's;
// - views retired by a merge (a `replaced-by` link) take no part, but their local
//   identifiers stay on the person with use "old" (the merged-away number still finds it).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "gateway/core/json.h"

namespace acp::ingest {

// The person the source patient `sourceId` (its view `view`) belongs to; `currentPerson` is
// the one it belonged to until now ("" when new).
std::string personIdFor(const json::Value& view, const std::string& sourceId,
                        const std::string& currentPerson);

// The person id an NHS number maps to.
std::string personIdForNhsNumber(const std::string& nhsNumber);

// Whether a view was merged into another record by its source (ADT^A40): it has a
// `replaced-by` link and takes no part in its person.
bool isRetired(const json::Value& view);

// Whether a view is what the REST API wrote on the person (id "api:<person>";
// PersonResolver::keepApiView): it takes part in combining but not in identity checks, and
// alone keeps no person alive.
bool isApiView(const json::Value& view);

// The person Patient `personId` from its sources' views (oldest written first, retired ones
// skipped); `stored` is the person as stored (its links and security labels are kept), or a
// non-object when new.
json::Value combinePerson(const std::string& personId, const std::vector<json::Value>& views,
                          const json::Value& stored);

// Where the live views of one person disagree on who the child is: a line per element
// ("birthDate: 2015-03-01 (RX1) / 2015-01-03 (8HV48)"), empty when they agree. Only birth date
// and administrative gender are compared ("unknown" agrees with anything).
std::vector<std::string> identityMismatches(const std::vector<json::Value>& views);

// The NHS number under the NHS number system ("" when none).
std::string nhsNumberOf(const json::Value& patient);

// The id of the Patient this one was merged into (its `replaced-by` link), "" when none.
std::string replacedByOf(const json::Value& patient);

// The ODS code of the organisation a view came from (from its local identifier system),
// "" when it has none.
std::string sourceOdsOf(const json::Value& view);

}  // namespace acp::ingest
