// What a client without a relationship with a child can learn of the child's existence
// (docs/security.md, "Who may see and write what"): nothing. A read by id, a vread, a
// history-instance and $acp-summary (by id or by NHS number) of what it may not see are
// answered exactly as for something that is not there; a deletion is 410 only to whom could
// have seen what was deleted; history shows a delete only to them; and neither a search's nor
// a history's paging links tell of entries left out.
#include <set>

#include "tests/security/security_fixture.h"

namespace acp::testing::security {
namespace {

const char* const kUnknownNhs = "9990000999";  // no child has it
const char* const kUnknownId = "no-such-resource";

// `a` and `b` are the same answer, but for `idA` in `a` where `b` has `idB`.
void expectSameAnswer(const HttpResult& a, const std::string& idA, const HttpResult& b,
                      const std::string& idB, const std::string& what) {
  EXPECT_EQ(a.status, b.status) << what << ": " << a.body << " / " << b.body;
  std::string bodyA = a.body, bodyB = b.body;
  for (size_t at = bodyA.find(idA); !idA.empty() && at != std::string::npos;
       at = bodyA.find(idA, at))
    bodyA.replace(at, idA.size(), "{id}");
  for (size_t at = bodyB.find(idB); !idB.empty() && at != std::string::npos;
       at = bodyB.find(idB, at))
    bodyB.replace(at, idB.size(), "{id}");
  EXPECT_EQ(bodyA, bodyB) << what;
  EXPECT_EQ(a.header("content-type"), b.header("content-type")) << what;
}

std::string nextLink(const HttpResult& r) {
  if (const json::Value* links = r.json.find("link"))
    for (const json::Value& l : links->items())
      if (l.getString("relation") == "next") return l.getString("url");
  return "";
}

// A link's path and query on the gateway (links carry the base URL).
std::string localPart(const std::string& url) {
  return url.rfind(kBase, 0) == 0 ? url.substr(std::string(kBase).size()) : url;
}

std::string createEncounter(SecureGateway& g, const std::string& client,
                            const std::string& patient) {
  HttpResult made = g.client(
      client, "POST", "/Encounter",
      R"({"resourceType":"Encounter","status":"finished","class":{"system":)"
      R"("http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},)"
      R"("subject":{"reference":"Patient/)" + patient + R"("},)"
      R"("period":{"start":"2026-03-02T10:00:00Z","end":"2026-03-02T10:30:00Z"}})");
  EXPECT_EQ(made.status, 201) << made.body;
  return made.json.getString("id");
}

class Existence : public SharedGateway {
 protected:
  std::string byNhs(const std::string& nhs) {
    return "/Patient/$acp-summary?identifier=" + kNhsSystem + "|" + nhs;
  }
};

TEST_F(Existence, AnNhsNumberProbeCannotTellAChildFromNone) {
  for (const char* client : {"gp2", "urgent", "privacy", "operator"}) {
    SCOPED_TRACE(client);
    HttpResult known = g().get(client, byNhs(kChildNhs));
    HttpResult unknown = g().get(client, byNhs(kUnknownNhs));
    EXPECT_EQ(known.status, 404) << known.body;
    EXPECT_EQ(known.errorCode(), "acp.patient-not-found") << known.body;
    expectSameAnswer(known, "", unknown, "", "$acp-summary by NHS number");
    // The search by NHS number: nothing, no total, no link to more.
    for (const std::string& nhs : {std::string(kChildNhs), std::string(kUnknownNhs)}) {
      HttpResult search = g().get(client, "/Patient?identifier=" + kNhsSystem + "|" + nhs);
      EXPECT_EQ(search.status, 200) << search.body;
      EXPECT_TRUE(resourcesOf(search).empty()) << search.body;
      EXPECT_EQ(search.json.find("total"), nullptr) << search.body;
      EXPECT_EQ(nextLink(search), "") << search.body;
    }
  }
  // The child's practice finds the child, and is told when there is none.
  EXPECT_EQ(g().get("gp1", byNhs(kChildNhs)).status, 200);
  HttpResult none = g().get("gp1", byNhs(kUnknownNhs));
  EXPECT_EQ(none.status, 404) << none.body;
  EXPECT_EQ(none.errorCode(), "acp.patient-not-found");
}

TEST_F(Existence, AReadByIdOfWhatTheClientMayNotSeeIsAnsweredAsNothingThere) {
  struct Route {
    std::string id, path;  // path with "{id}" for the id
  };
  const std::vector<Route> routes = {
      {w().child, "/Patient/{id}"},
      {w().child, "/Patient/{id}/_history/1"},
      {w().child, "/Patient/{id}/_history/99"},
      {w().child, "/Patient/{id}/_history"},
      {w().child, "/Patient/{id}/$acp-summary"},
      {w().hospicePlan, "/CarePlan/{id}"},
      {w().hospicePlan, "/CarePlan/{id}/_history/1"},
      {w().hospicePlan, "/CarePlan/{id}/_history"},
      {w().hospicePlan, "/CarePlan/{id}?_elements=status"},
      {w().hospiceEncounter, "/Encounter/{id}?_summary=true"},
  };
  auto at = [](const Route& r, const std::string& id) {
    std::string p = r.path;
    p.replace(p.find("{id}"), 4, id);
    return p;
  };
  for (const Route& r : routes) {
    SCOPED_TRACE(r.path);
    for (const char* client : {"gp2", "urgent", "privacy"}) {
      SCOPED_TRACE(client);
      HttpResult hidden = g().get(client, at(r, r.id));
      HttpResult missing = g().get(client, at(r, kUnknownId));
      EXPECT_EQ(hidden.status, 404) << hidden.body;
      EXPECT_EQ(hidden.body.find("auth."), std::string::npos) << hidden.body;
      expectSameAnswer(hidden, r.id, missing, kUnknownId, r.path);
    }
    // The child's practice reads it (but a version that is not there is not there).
    HttpResult own = g().get("gp1", at(r, r.id));
    EXPECT_EQ(own.status, r.path.find("/99") == std::string::npos ? 200 : 404) << own.body;
    EXPECT_EQ(g().get("gp1", at(r, kUnknownId)).status, 404);
  }
}

TEST_F(Existence, PagingLinksDoNotTellOfWhatWasLeftOut) {
  // Another practice: the child's plans are there, one to a page, but it is shown none, and
  // no link to a next page.
  const std::string plans = "/CarePlan?subject=Patient/" + w().child + "&_count=1";
  HttpResult other = g().get("gp2", plans);
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_TRUE(resourcesOf(other).empty()) << other.body;
  EXPECT_EQ(nextLink(other), "") << other.body;
  for (const char* path : {"/CarePlan?_count=1", "/CarePlan/_history?_count=1",
                           "/Patient/_history?_count=1", "/Patient?_count=1&_summary=true"}) {
    HttpResult r = g().get("gp2", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    EXPECT_TRUE(resourcesOf(r).empty()) << path << ": " << r.body;
    EXPECT_EQ(nextLink(r), "") << path << ": " << r.body;
  }
  HttpResult all = g().get("urgent", "/_history?_count=1");
  EXPECT_TRUE(resourcesOf(all).empty()) << all.body;
  EXPECT_EQ(nextLink(all), "") << all.body;

  // The child's practice pages through exactly the child's three plans — every page holds one
  // and the last has no link to an empty page (the other child's plan, left out, does not
  // show as one).
  for (const char* path : {"/CarePlan?_count=1", "/CarePlan?_count=2&_sort=-_lastUpdated"}) {
    SCOPED_TRACE(path);
    std::set<std::string> seen;
    std::string next = path;
    int pages = 0;
    while (!next.empty() && pages < 10) {
      HttpResult page = g().get("gp1", next);
      ASSERT_EQ(page.status, 200) << page.body;
      std::vector<json::Value> got = resourcesOf(page);
      EXPECT_FALSE(got.empty()) << "page " << pages << ": " << page.body;
      for (const json::Value& plan : got) seen.insert(plan.getString("id"));
      EXPECT_EQ(page.body.find(w().otherPlan), std::string::npos);
      next = localPart(nextLink(page));
      ++pages;
    }
    EXPECT_EQ(seen, (std::set<std::string>{w().hospicePlan, w().communityPlan, w().hospitalPlan}));
  }
}

// A deleted resource: 410 to whom could have seen it, a resource never there to anyone else;
// its history (and the delete in the type's and the system's history) likewise.
TEST(ExistenceOfDeletes, ADeletionIsToldOnlyToWhomCouldSeeWhatWasDeleted) {
  SecureGateway g;
  World w = loadWorld(g);
  const std::string gone = createEncounter(g, "hospice", w.child);
  ASSERT_FALSE(gone.empty());
  ASSERT_EQ(g.client("hospice", "DELETE", "/Encounter/" + gone).status, 200);

  // The child's practice: gone.
  EXPECT_EQ(g.get("gp1", "/Encounter/" + gone).status, 410);
  EXPECT_EQ(g.get("gp1", "/Encounter/" + gone + "/_history/2").status, 410);
  HttpResult own = g.get("gp1", "/Encounter/" + gone + "/_history");
  ASSERT_EQ(own.status, 200) << own.body;
  ASSERT_NE(own.json.find("entry"), nullptr) << own.body;
  EXPECT_EQ(own.json.find("entry")->items().size(), 2u) << own.body;
  HttpResult typeHistory = g.get("gp1", "/Encounter/_history?_count=100");
  EXPECT_NE(typeHistory.body.find("\"Encounter/" + gone + "\""), std::string::npos)
      << "the delete entry: " << typeHistory.body;

  // Another practice: as if it had never been.
  for (const char* path : {"/Encounter/{id}", "/Encounter/{id}/_history/2",
                           "/Encounter/{id}/_history/1", "/Encounter/{id}/_history"}) {
    std::string hidden = path, missing = path;
    hidden.replace(hidden.find("{id}"), 4, gone);
    missing.replace(missing.find("{id}"), 4, kUnknownId);
    expectSameAnswer(g.get("gp2", hidden), gone, g.get("gp2", missing), kUnknownId, path);
    EXPECT_EQ(g.get("gp2", hidden).status, 404);
  }
  // Nor is the delete in the histories it may page through.
  for (const std::pair<const char*, const char*>& ask :
       {std::make_pair("gp2", "/Encounter/_history?_count=100"),
        std::make_pair("urgent", "/Encounter/_history?_count=100"),
        std::make_pair("urgent", "/_history?_count=500"),
        // The gateway's Provenance over the write and the delete names only the Encounter: it
        // is the Encounter's patient's.
        std::make_pair("urgent", "/Provenance?_count=500"),
        std::make_pair("urgent", "/Provenance/_history?_count=500")}) {
    HttpResult h = g.get(ask.first, ask.second);
    ASSERT_EQ(h.status, 200) << ask.second << ": " << h.body;
    EXPECT_EQ(h.body.find(gone), std::string::npos) << ask.first << " " << ask.second << ": "
                                                     << h.body;
    EXPECT_EQ(h.json.find("entry"), nullptr) << ask.first << " " << ask.second << ": " << h.body;
  }
  // The child's record holders see the Provenance.
  HttpResult provenance = g.get("hospital", "/Provenance?_count=500");
  EXPECT_NE(provenance.body.find("Encounter/" + gone + "/_history/2"), std::string::npos)
      << provenance.body;
  // A delete of a resource in the record of a child the client has no relationship with is
  // a delete of nothing, exactly as of a resource that is not there; nothing is deleted.
  const std::string others = createEncounter(g, "hospital", w.otherChild);
  HttpResult hiddenDelete = g.client("community", "DELETE", "/Encounter/" + others);
  HttpResult missingDelete = g.client("community", "DELETE", "/Encounter/" + std::string(kUnknownId));
  EXPECT_EQ(hiddenDelete.status, 200) << hiddenDelete.body;
  expectSameAnswer(hiddenDelete, others, missingDelete, kUnknownId, "DELETE");
  EXPECT_EQ(g.get("hospital", "/Encounter/" + others).status, 200);
}

}  // namespace
}  // namespace acp::testing::security
