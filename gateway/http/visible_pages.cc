// Paging a client's filtered view (fhir_service.h: visiblePage, keepVisible) — searches and
// histories for a client that may not see everything.
//
// Filtering one store page after the fact would leave its links telling: a page emptied by the
// filter still has a `next` link when more rows follow, so a client could learn that matches
// it may not see exist (e.g. CarePlan?subject=<a child it has no relationship with>&_count=1).
// Instead, store pages are read until `count` visible entries are collected, and a next cursor
// is given only when a further visible entry exists. The store's cursors mark the end of a
// page, so a store page is never split: one that would overflow the answer is left for the
// next request, its starting cursor becoming the next link (the answer may then hold fewer than
// `count` entries, as R4 allows); once the answer is full, the same look-ahead decides the link.
//
// The scan is bounded (kScanLimit rows a request): past it, the page ends with a next cursor
// where the scan stopped, which tells only that the query matched many resources, not whose.
#include <algorithm>
#include <set>

#include "gateway/access/plan_sharing.h"
#include "gateway/http/fhir_service.h"

namespace acp::http {

namespace {

constexpr int kScanLimit = 5000;  // store rows read for one page, at most
constexpr int kMinRows = 25;      // store rows asked for at least, once the page holds some

}  // namespace

bool FhirService::keepVisible(const FhirRequest& rq, store::StoredResource& version) const {
  if (!restricted(rq)) return true;
  if (version.deleted) {
    std::optional<json::Value> last = contentBefore(version.type, version.id, version.versionId);
    return last && mayKnow(rq, *last);
  }
  json::Value stored = parseStored(version.json);
  switch (rq.context.access->mayRead(stored)) {
    case access::AccessPolicy::Verdict::kAllow: return true;
    case access::AccessPolicy::Verdict::kDeny: return false;
    case access::AccessPolicy::Verdict::kWithhold:
      version.json = json::write(access::withheldView(stored));
      return true;
  }
  return false;
}

Result<store::Page> FhirService::visiblePage(const FhirRequest& rq, const PageSource& source,
                                             const std::string& start, int count) const {
  if (!restricted(rq) || count <= 0) {
    auto page = source(start, count);
    if (page.isOk() && restricted(rq)) page->total.reset();
    return page;
  }
  store::Page out;
  std::set<std::string> listed;  // type/id of what the page holds (an include is listed once)
  std::string cursor = start;
  int scanned = 0;
  for (;;) {
    // An empty page asks for `count` rows, so that it can always take what it finds; a page
    // already holding some asks for at least kMinRows and ends before a store page that
    // would overflow it.
    const int room = count - static_cast<int>(out.entries.size());
    const int ask = out.entries.empty() ? count : std::max(room, std::min(count, kMinRows));
    auto page = source(cursor, ask);
    if (!page.isOk()) return page.status();
    scanned += static_cast<int>(page->entries.size());
    std::vector<store::StoredResource> visible;
    for (store::StoredResource& r : page->entries)
      if (keepVisible(rq, r)) visible.push_back(std::move(r));
    if (!out.entries.empty() && out.entries.size() + visible.size() > static_cast<size_t>(count)) {
      out.nextCursor = cursor;  // the next page starts with something to see
      return out;
    }
    for (store::StoredResource& r : visible) {
      listed.insert(r.type + "/" + r.id);
      out.entries.push_back(std::move(r));
    }
    for (store::StoredResource& r : page->included)
      if (!listed.count(r.type + "/" + r.id) && keepVisible(rq, r)) {
        listed.insert(r.type + "/" + r.id);
        out.included.push_back(std::move(r));
      }
    out.includesTruncated = out.includesTruncated || page->includesTruncated;
    if (page->nextCursor.empty()) return out;  // nothing further, seen or not
    cursor = page->nextCursor;
    if (scanned >= kScanLimit) {
      out.nextCursor = cursor;
      return out;
    }
  }
}

}  // namespace acp::http
