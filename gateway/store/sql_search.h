// Search execution for the SQL store (SQLite and PostgreSQL): SearchQuery → SQL over the
// index tables, keyset paging, _include / _revinclude.
//
// SQL is assembled only from fixed fragments; every value (parameter codes, types, search
// values, cursor keys) is a bound placeholder, so SQL metacharacters in input are data.
// One criterion drives: `pk IN (SELECT resource_pk FROM <kind>_idx WHERE type = ? AND
// param = ? AND (value tests ORed))` (on PostgreSQL, for a driver ranked selective,
// `pk = ANY(ARRAY(SELECT …))`: sql_search.cc, Planner::criteria); every other criterion is a
// probe, `EXISTS` on the candidate's own index rows; NOT IN for :not and :missing=true.
// Chains nest the same shape through reference_idx and resources.
// Semantics (R4 search, with the documented simplifications):
//   string     default starts-with on the normalised text, as an index range [p, succ(p));
//              :exact equality on the text as written; :contains a LIKE scan of the
//              (type, param) range with % and _ escaped. A value that normalises to nothing
//              (only punctuation) matches nothing.
//   token      code | system|code | |code (no system) | system| ; :not (resources without a
//              matching entry, including those with no entry); :text starts-with on the
//              normalised display (scans the (type, param) range).
//   date       R4 range rules: the entry range [low, high] against the value range
//              [pl, ph]: eq contained; ne not contained; gt high > ph; lt low < pl;
//              ge gt-or-eq; le lt-or-eq; sa low > ph; eb high < pl; ap overlap widened by
//              10% of the distance between the value and now.
//   number     eq/ne use the value's implicit precision (100 → [99.5, 100.5)); stored values
//   quantity   are points; ap is ±10%. Quantity units: system|code, or code matching the
//              code or the unit text when no system is given.
//   reference  Type/id, id (any type), absolute URL (the text as written, or type/id when the
//              parser recognised this server's base), :Type, :identifier (system|value on
//              Reference.identifier), :missing; chains nest (subject:Patient.identifier=...).
//   uri        equality; :below prefix range; :above (stored uri is a prefix) as a scan.
//   _id, _lastUpdated on the resources table.
// _include / _revinclude run on the page's matches: forwards through reference_idx to the
// current targets (optionally of one type), backwards to resources whose parameter points at a
// match. :iterate specs are applied once more to what the first step included (one extra
// level, not to a fixed point). Results are deduplicated, never repeat a match, skip deleted
// resources, and stop at SearchSettings::maxIncludes (Page::includesTruncated). A "*" source
// type or parameter in _revinclude cannot use the (type, param, target) index and scans
// reference_idx.
// The total (COUNT over the same criteria) is computed when query.totalAccurate, when
// count == 0 or for _summary=count.
// Sorting uses min() of a parameter's entries ascending and max() descending (dates: low /
// high), missing values last, pk as the final tie-breaker. Cursors carry the last row's sort
// keys and pk (a small tagged, length-prefixed record, base64url) plus a signature of the sort, so
// a page is always "rows after this one" and concurrent inserts cannot cause duplicates or skips.
// Thread-safety: stateless functions; the Connection must be owned by the calling thread.
// Errors: Status::notSupported "store.unsupported-search" for criteria the store cannot
// execute (system-wide search, composite/special parameters, unsupported modifiers),
// Status::invalid "store.bad-cursor" for a cursor that is not ours or not for this sort,
// Status::internal "store.sqlite" for database failures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/core/status.h"
#include "gateway/search/query.h"
#include "gateway/store/resource_store.h"
#include "gateway/store/sql_connection.h"

namespace acp::store::sql {

struct SearchSettings {
  int64_t nowMs = 0;          // for date ap tolerance
  size_t maxIncludes = 1000;  // _include/_revinclude results per page, beyond: truncated
  Dialect dialect = Dialect::kSqlite;  // the SQL written (executeSearch/matchIds: the connection's)
};

// Runs the query on `conn` (a reader inside a read transaction, or the writer inside the
// write transaction): one page of matches, the total when query.totalAccurate or count == 0,
// the includes, and the next cursor.
Result<Page> executeSearch(Connection& conn, const search::SearchQuery& query,
                           const SearchSettings& settings);

// Ids of current resources matching `query`, in pk order, at most `limit`.
Result<std::vector<std::string>> matchIds(Connection& conn, const search::SearchQuery& query,
                                          int limit, const SearchSettings& settings);

// The SQL and arguments of the page query (for EXPLAIN QUERY PLAN checks in tests).
struct SqlText {
  std::string sql;
  std::vector<SqlArg> args;
};
Result<SqlText> pageSql(const search::SearchQuery& query, const SearchSettings& settings);

// History cursors: the last returned version's seq.
std::string encodeHistoryCursor(int64_t seq);
Result<int64_t> decodeHistoryCursor(const std::string& cursor);

// base64url without padding (RFC 4648 §5); decode returns false on any invalid character.
std::string base64UrlEncode(std::string_view data);
bool base64UrlDecode(std::string_view text, std::string& out);

// The successor of a prefix in byte order: every string starting with `prefix` is >= prefix
// and < successor. Empty when no such bound exists (all 0xFF), meaning "no upper bound".
std::string prefixSuccessor(std::string_view prefix);

}  // namespace acp::store::sql
