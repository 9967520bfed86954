// Review of "one child, one Patient" (gateway/ingest/person_index.h, person_resolver.h) through
// the running server: the three sources in every order, resends, NHS numbers corrected,
// dropped or invalid, ADT^A40 merges, the identity Flag, source orders across sources, and
// references left pointing at a Patient that is not (or no longer) the child.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "gateway/ingest/person_index.h"
#include "gateway/ingest/person_resolver.h"
#include "gateway/ingest/source_ids.h"
#include "tests/ingest/fhir_reading.h"
#include "tests/ingest/hl7_messages.h"

namespace acp::testing {
namespace {

using namespace hl7;

constexpr const char* kNhs = "9992530820";   // the samples' child
constexpr const char* kNhs2 = "9990000018";  // another valid number (Modulus 11)
constexpr const char* kNhs3 = "9990000026";

HttpResult pushHospice(TestServer& server, const std::string& body) {
  return server.request("POST", "/$ingest/hospice", body, {{"Content-Type", "application/json"}});
}
HttpResult pushCommunity(TestServer& server, const std::string& body) {
  return server.request("POST", "/$ingest/community", body,
                        {{"Content-Type", "application/xml"}});
}
std::string hospiceSample() { return readRepoFile("mappings/hospice/samples/example-1.2.json"); }
std::string communitySample() { return readRepoFile("mappings/community/samples/example.xml"); }

std::string person(const std::string& nhs) { return ingest::personIdForNhsNumber(nhs); }

std::vector<json::Value> entries(TestServer& server, const std::string& query) {
  HttpResult r = server.get(query);
  EXPECT_EQ(r.status, 200) << query << ": " << r.body.substr(0, 300);
  std::vector<json::Value> out;
  if (const json::Value* e = r.json.find("entry"))
    for (const json::Value& x : e->items()) out.push_back(*x.find("resource"));
  return out;
}

bool hasIdentifier(const json::Value& patient, const std::string& system,
                   const std::string& value) {
  if (const json::Value* ids = patient.find("identifier"))
    for (const json::Value& id : ids->items())
      if (id.getString("system") == system && id.getString("value") == value) return true;
  return false;
}

std::vector<std::string> linksOf(const json::Value& patient, const std::string& type) {
  std::vector<std::string> out;
  if (const json::Value* links = patient.find("link"))
    for (const json::Value& l : links->items())
      if (l.getString("type") == type) out.push_back(l.find("other")->getString("reference"));
  return out;
}

bool isActive(const json::Value& patient) {
  const json::Value* a = patient.find("active");
  return !a || a->text() != "false";
}

std::string versionOf(TestServer& server, const std::string& path) {
  HttpResult r = server.get(path);
  const json::Value* meta = r.json.find("meta");
  return meta ? meta->getString("versionId") : "";
}

std::string subjectOf(TestServer& server, const std::string& path) {
  HttpResult r = server.get(path);
  EXPECT_EQ(r.status, 200) << path;
  return at(r.json, {"subject", "reference"});
}

void collectReferences(const json::Value& v, std::vector<std::string>& out) {
  if (v.isObject()) {
    for (const auto& [k, child] : v.members()) {
      if (k == "reference" && child.isString())
        out.push_back(child.text());
      else
        collectReferences(child, out);
    }
  } else if (v.isArray()) {
    for (const json::Value& c : v.items()) collectReferences(c, out);
  }
}

// Every Patient reference held by a clinical resource must resolve to a served, active
// Patient (a source view's id is never served; an inactive replaced-by Patient is not the
// child's record any more). Returns "Type/id → reference (why)" lines.
std::vector<std::string> badPatientReferences(TestServer& server) {
  std::vector<std::string> bad;
  for (const char* type : {"Encounter", "CarePlan", "CareTeam", "Condition", "Consent", "Flag",
                           "RelatedPerson"}) {
    for (const json::Value& r : entries(server, std::string("/") + type + "?_count=500")) {
      std::vector<std::string> refs;
      collectReferences(r, refs);
      for (const std::string& ref : refs) {
        if (ref.rfind("Patient/", 0) != 0) continue;
        HttpResult p = server.get("/" + ref);
        std::string where = std::string(type) + "/" + r.getString("id") + " -> " + ref;
        if (p.status != 200)
          bad.push_back(where + " (HTTP " + std::to_string(p.status) + ")");
        else if (!isActive(p.json))
          bad.push_back(where + " (inactive, replaced-by " +
                        (linksOf(p.json, "replaced-by").empty()
                             ? std::string("nothing")
                             : linksOf(p.json, "replaced-by")[0]) +
                        ")");
      }
    }
  }
  // Provenance targets are history: each must at least resolve (vread).
  for (const json::Value& prov : entries(server, "/Provenance?_count=500"))
    if (const json::Value* targets = prov.find("target"))
      for (const json::Value& t : targets->items()) {
        std::string ref = t.getString("reference");
        if (ref.rfind("Patient/", 0) != 0) continue;
        int status = server.get("/" + ref).status;
        if (status != 200)
          bad.push_back("Provenance/" + prov.getString("id") + " -> " + ref + " (HTTP " +
                        std::to_string(status) + ")");
      }
  return bad;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += s + "\n";
  return out;
}

// --- The three sources in every order ------------------------------------------------------

TEST(ReviewPerson, TheThreeSourcesInEveryOrderAreOnePatientAndEveryResendIsUnchanged) {
  const std::string child = person(kNhs);
  std::vector<int> order = {0, 1, 2};
  do {
    SCOPED_TRACE("order " + std::to_string(order[0]) + std::to_string(order[1]) +
                 std::to_string(order[2]) + " (0 hospice, 1 community, 2 hospital)");
    TestServer server;
    int control = 0;
    auto sendSource = [&](int which, bool resend) {
      std::vector<std::string> codes;
      std::string outcome;
      if (which == 0) {
        outcome = outcomeOf(pushHospice(server, hospiceSample()), &codes);
      } else if (which == 1) {
        outcome = outcomeOf(pushCommunity(server, communitySample()), &codes);
      } else {
        // A resend under a new control id (the PAS sends the same admission again): not
        // recognised as a delivery resend, so the content itself must be found unchanged.
        outcome = outcomeOf(
            send(server, admission("PAS" + std::to_string(++control), "M123456", "S001", kNhs)),
            &codes);
      }
      EXPECT_EQ(outcome, resend ? "unchanged" : "stored")
          << "source " << which << (resend ? " resent" : "") << ": " << join(codes);
      EXPECT_FALSE(has(codes, "ingest.identity-mismatch")) << which;
    };
    for (int s : order) sendSource(s, false);

    auto patients = entries(server, "/Patient");
    ASSERT_EQ(patients.size(), 1u);
    const json::Value& p = patients[0];
    EXPECT_EQ(p.getString("id"), child);
    EXPECT_TRUE(hasIdentifier(p, ingest::kNhsNumberSystem, kNhs));
    EXPECT_TRUE(hasIdentifier(p, ingest::localIdentifierSystem("8WB01"), "WB-004471"));
    EXPECT_TRUE(hasIdentifier(p, ingest::localIdentifierSystem("RX9"), "C-77120"));
    EXPECT_TRUE(hasIdentifier(p, ingest::localIdentifierSystem("RX8"), "M123456"));
    EXPECT_EQ(p.getString("birthDate"), "2015-03-14");
    EXPECT_EQ(p.getString("gender"), "female");
    EXPECT_TRUE(entries(server, "/Flag").empty());
    // Each source's encounters and the two plans are the child's.
    EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + child).size(),
              entries(server, "/Encounter").size());
    EXPECT_EQ(entries(server, "/CarePlan?subject=Patient/" + child).size(), 2u);
    EXPECT_EQ(entries(server, "/CarePlan?subject:Patient.identifier=" +
                                  std::string(ingest::kNhsNumberSystem) + "|" + kNhs)
                  .size(),
              2u);
    EXPECT_EQ(join(badPatientReferences(server)), "");

    // Every source again, in every position: nothing new, no new version of anything.
    std::string version = versionOf(server, "/Patient/" + child);
    size_t provenances = entries(server, "/Provenance?_count=500").size();
    for (int s : {0, 1, 2}) sendSource(s, true);
    for (int s : order) sendSource(s, true);
    EXPECT_EQ(versionOf(server, "/Patient/" + child), version);
    EXPECT_EQ(entries(server, "/Provenance?_count=500").size(), provenances);
  } while (std::next_permutation(order.begin(), order.end()));
}

// --- NHS number corrected from one valid number to another ----------------------------------

// The hospital first files its patient M123456 under the hospice child's NHS number, then
// corrects it (A31) to another child's number. Everything the hospital sent about M123456 is
// that other child's: its spell must follow the hospital's record, not stay on the hospice
// child (whose Patient no longer even carries the hospital number).
TEST(ReviewPerson, ACorrectedNhsNumberTakesTheSourcesEarlierDataToTheRightChild) {
  TestServer server;
  ASSERT_EQ(outcomeOf(pushHospice(server, hospiceSample())), "stored");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001", kNhs))), "stored");
  const std::string spell = "/Encounter/" + ingest::derivedId("Encounter", "RX8", "S001");
  ASSERT_EQ(subjectOf(server, spell), "Patient/" + person(kNhs));

  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, a31("PAS2", "20261002090000", pid("M123456", kNhs2),
                                       "20261002090000")),
                      &codes),
            "stored")
      << join(codes);
  // The hospice child keeps only the hospice's record...
  json::Value hospiceChild = server.get("/Patient/" + person(kNhs)).json;
  EXPECT_FALSE(hasIdentifier(hospiceChild, ingest::localIdentifierSystem("RX8"), "M123456"));
  json::Value hospitalChild = server.get("/Patient/" + person(kNhs2)).json;
  EXPECT_TRUE(hasIdentifier(hospitalChild, ingest::localIdentifierSystem("RX8"), "M123456"));
  // ...so the hospital's spell for M123456 must be on the child the hospital now says it is.
  EXPECT_EQ(subjectOf(server, spell), "Patient/" + person(kNhs2))
      << "the hospital spell of M123456 was left on the hospice child (" << kNhs
      << ") after the hospital corrected M123456's NHS number to " << kNhs2;
  // The hospice's own data stays with the hospice child.
  for (const json::Value& cp : entries(server, "/CarePlan"))
    EXPECT_EQ(at(cp, {"subject", "reference"}), "Patient/" + person(kNhs));
}

// The hospital corrects M123456's NHS number N1 → N2 (the N1 Patient, left without sources,
// is replaced-by N2). Then the hospice sends its child, who really has N1: a different
// child. The N1 Patient is live again and must not say it was replaced by the N2 child.
TEST(ReviewPerson, APersonLeftByACorrectionAndLaterUsedByAnotherSourceIsNotReplacedBy) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001", kNhs))), "stored");
  ASSERT_EQ(outcomeOf(send(server, a31("PAS2", "20261002090000", pid("M123456", kNhs2),
                                       "20261002090000"))),
            "stored");
  json::Value left = server.get("/Patient/" + person(kNhs)).json;
  ASSERT_FALSE(isActive(left));
  ASSERT_EQ(linksOf(left, "replaced-by"), std::vector<std::string>{"Patient/" + person(kNhs2)});

  ASSERT_EQ(outcomeOf(pushHospice(server, hospiceSample())), "stored");
  json::Value n1 = server.get("/Patient/" + person(kNhs)).json;
  EXPECT_TRUE(hasIdentifier(n1, ingest::localIdentifierSystem("8WB01"), "WB-004471"));
  EXPECT_TRUE(isActive(n1));
  EXPECT_TRUE(linksOf(n1, "replaced-by").empty())
      << "an active Patient (the hospice child, NHS " << kNhs
      << ") says it was replaced by another child's Patient: " << json::write(n1);
  json::Value n2 = server.get("/Patient/" + person(kNhs2)).json;
  EXPECT_TRUE(linksOf(n2, "replaces").empty())
      << "the NHS " << kNhs2 << " child claims to replace the live hospice child: "
      << json::write(n2);
  // The hospice plan is found by its child's NHS number and by nobody else's.
  EXPECT_EQ(entries(server, "/CarePlan?subject=Patient/" + person(kNhs)).size(), 1u);
  EXPECT_EQ(entries(server, "/CarePlan?subject=Patient/" + person(kNhs2)).size(), 0u);
}

// N1 → N2 → N1 for one hospital patient: it ends where it started. The served N1 Patient
// must be active without a replaced-by link, and the N2 Patient the one replaced.
TEST(ReviewPerson, ACorrectionUndoneLeavesTheLinksPointingTheRightWay) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001", kNhs))), "stored");
  ASSERT_EQ(outcomeOf(send(server, a31("PAS2", "20261002090000", pid("M123456", kNhs2),
                                       "20261002090000"))),
            "stored");
  ASSERT_EQ(outcomeOf(send(server, a31("PAS3", "20261003090000", pid("M123456", kNhs),
                                       "20261003090000"))),
            "stored");
  const std::string spell = "/Encounter/" + ingest::derivedId("Encounter", "RX8", "S001");
  EXPECT_EQ(subjectOf(server, spell), "Patient/" + person(kNhs));
  json::Value n1 = server.get("/Patient/" + person(kNhs)).json;
  json::Value n2 = server.get("/Patient/" + person(kNhs2)).json;
  EXPECT_TRUE(isActive(n1));
  EXPECT_FALSE(isActive(n2));
  EXPECT_TRUE(linksOf(n1, "replaced-by").empty()) << json::write(n1);
  EXPECT_EQ(linksOf(n2, "replaced-by"), std::vector<std::string>{"Patient/" + person(kNhs)})
      << json::write(n2);
  EXPECT_EQ(join(badPatientReferences(server)), "");
}

// --- NHS numbers dropped or invalid ---------------------------------------------------------

TEST(ReviewPerson, AHospiceExportThatDropsTheNhsNumberStaysWithTheChild) {
  TestServer server;
  ASSERT_EQ(outcomeOf(pushHospice(server, hospiceSample())), "stored");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001", kNhs))), "stored");
  std::string doc = hospiceSample();
  replace(doc, "\"nhsNumber\": \"999 253 0820\", \"nhsNumberVerified\": true,", "");
  replace(doc, "2026-10-30T16:02:00+00:00", "2026-11-02T16:02:00+00:00");
  replace(doc, "\"E-90021\"", "\"E-90022\"");
  ASSERT_EQ(outcomeOf(pushHospice(server, doc)), "stored");
  auto patients = entries(server, "/Patient");
  ASSERT_EQ(patients.size(), 1u);
  EXPECT_EQ(patients[0].getString("id"), person(kNhs));
  EXPECT_TRUE(hasIdentifier(patients[0], ingest::kNhsNumberSystem, kNhs));
  EXPECT_TRUE(hasIdentifier(patients[0], ingest::localIdentifierSystem("8WB01"), "WB-004471"));
  EXPECT_EQ(subjectOf(server, "/Encounter/" + ingest::derivedId("Encounter", "8WB01", "E-90022")),
            "Patient/" + person(kNhs));
  EXPECT_EQ(join(badPatientReferences(server)), "");
}

TEST(ReviewPerson, AnNhsNumberFailingModulus11LinksNothing) {
  TestServer server;
  ASSERT_EQ(outcomeOf(pushHospice(server, hospiceSample())), "stored");
  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001", "9992530821")), &codes),
            "stored");
  EXPECT_TRUE(has(codes, "hl7.invalid-nhs-number"));
  // Same name and birth date, a near-miss number: two children all the same.
  EXPECT_EQ(entries(server, "/Patient?family=Hartley&birthdate=2015-03-14").size(), 2u);
  EXPECT_EQ(subjectOf(server, "/Encounter/" + ingest::derivedId("Encounter", "RX8", "S001")),
            "Patient/" + patientId("M123456"));
  json::Value child = server.get("/Patient/" + person(kNhs)).json;
  EXPECT_FALSE(hasIdentifier(child, ingest::localIdentifierSystem("RX8"), "M123456"));
  // Never linked: at most proposed for review (a candidate link, with its Flags).
  for (const json::Value& f : entries(server, "/Flag"))
    EXPECT_NE(json::write(*f.find("code")).find("possible-duplicate"), std::string::npos)
        << json::write(f);
}

// --- ADT^A40 ---------------------------------------------------------------------------------

// Duplicate and survivor both carry the NHS number (one person already), the hospice too, and
// the duplicate had the wrong birth date (a Flag): the merge retires the duplicate's view, the
// Flag closes, the hospice data stays, and the merge resent changes nothing.
TEST(ReviewPerson, AnA40UnderOneNhsNumberRetiresTheDuplicateViewAndClosesItsFlag) {
  TestServer server;
  const std::string child = person(kNhs);
  ASSERT_EQ(outcomeOf(pushHospice(server, hospiceSample())), "stored");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001", kNhs))), "stored");
  std::string wrong = admission("PAS2", "M654321", "S002", kNhs);
  replace(wrong, "|20150314|", "|20150413|");
  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, wrong), &codes), "stored");
  ASSERT_TRUE(has(codes, "ingest.identity-mismatch"));
  ASSERT_EQ(entries(server, "/Flag?patient=Patient/" + child).size(), 1u);

  codes.clear();
  ASSERT_EQ(outcomeOf(send(server, mergeMessage("PAS3", "M123456", "M654321", kNhs)), &codes),
            "stored")
      << join(codes);
  EXPECT_TRUE(has(codes, "ingest.merged"));
  auto patients = entries(server, "/Patient");
  ASSERT_EQ(patients.size(), 1u);
  EXPECT_TRUE(isActive(patients[0]));
  EXPECT_TRUE(linksOf(patients[0], "replaced-by").empty());
  EXPECT_EQ(patients[0].getString("birthDate"), "2015-03-14");
  auto flags = entries(server, "/Flag?patient=Patient/" + child);
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_EQ(flags[0].getString("status"), "inactive");
  EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + child).size(), 3u);
  EXPECT_EQ(entries(server, "/CarePlan?subject=Patient/" + child).size(), 1u);
  EXPECT_EQ(join(badPatientReferences(server)), "");
  // A message under the merged-away number is refused; the merge again writes nothing.
  EXPECT_EQ(outcomeOf(send(server, admission("PAS4", "M654321", "S003", kNhs))), "rejected");
  std::string version = versionOf(server, "/Patient/" + child);
  EXPECT_EQ(outcomeOf(send(server, mergeMessage("PAS5", "M123456", "M654321", kNhs))),
            "unchanged");
  EXPECT_EQ(versionOf(server, "/Patient/" + child), version);
}

// The duplicate carries the NHS number (and shares its person with the hospice); the survivor
// has none yet and its own spell. The survivor takes the number; its former Patient is
// replaced-by the child's, its spell re-pointed, the hospice's data untouched.
TEST(ReviewPerson, AnA40IntoASurvivorWithoutNhsNumberJoinsTheChildWithEverySourcesData) {
  TestServer server;
  const std::string child = person(kNhs);
  ASSERT_EQ(outcomeOf(pushHospice(server, hospiceSample())), "stored");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M654321", "S001", kNhs))), "stored");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS2", "M123456", "S002"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, mergeMessage("PAS3", "M123456", "M654321"))), "stored");

  auto active = entries(server, "/Patient?active:not=false");
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].getString("id"), child);
  EXPECT_TRUE(hasIdentifier(active[0], ingest::localIdentifierSystem("RX8"), "M123456"));
  EXPECT_TRUE(hasIdentifier(active[0], ingest::localIdentifierSystem("8WB01"), "WB-004471"));
  json::Value old = server.get("/Patient/" + patientId("M123456")).json;
  EXPECT_FALSE(isActive(old));
  EXPECT_EQ(linksOf(old, "replaced-by"), std::vector<std::string>{"Patient/" + child});
  EXPECT_EQ(subjectOf(server, "/Encounter/" + ingest::derivedId("Encounter", "RX8", "S002")),
            "Patient/" + child);
  EXPECT_EQ(subjectOf(server, "/Encounter/" + ingest::derivedId("Encounter", "RX8", "S001")),
            "Patient/" + child);
  EXPECT_EQ(entries(server, "/CarePlan?subject=Patient/" + child).size(), 1u);
  EXPECT_EQ(join(badPatientReferences(server)), "");
  // Later messages for the survivor without the number stay with the child.
  ASSERT_EQ(outcomeOf(send(server, admission("PAS4", "M123456", "S003", "", "20261006090000"))),
            "stored");
  EXPECT_EQ(subjectOf(server, "/Encounter/" + ingest::derivedId("Encounter", "RX8", "S003")),
            "Patient/" + child);
}

// --- The identity Flag ----------------------------------------------------------------------

TEST(ReviewPerson, TheIdentityFlagIsRaisedClosedAndRaisedAnewWithoutExtraVersions) {
  TestServer server;
  const std::string child = person(kNhs);
  ASSERT_EQ(outcomeOf(pushHospice(server, hospiceSample())), "stored");
  std::string male = a31("PAS1", "20261002090000", pid("M123456", kNhs), "20261002090000");
  replace(male, "|20150314|F", "|20150314|M");
  ASSERT_EQ(outcomeOf(send(server, male)), "stored");
  const std::string flagPath = "/Flag/" + ingest::identityFlagId(child);
  HttpResult flag = server.get(flagPath);
  ASSERT_EQ(flag.status, 200);
  EXPECT_EQ(flag.json.getString("status"), "active");
  EXPECT_NE(at(flag.json, {"code", "text"}).find("gender"), std::string::npos);
  EXPECT_EQ(at(flag.json, {"subject", "reference"}), "Patient/" + child);
  // The same disagreement again (a new control id, same content): no new Flag version.
  std::string again = male;
  replace(again, "|PAS1|", "|PAS1b|");
  EXPECT_EQ(outcomeOf(send(server, again)), "unchanged");
  EXPECT_EQ(versionOf(server, flagPath), "1");

  // "unknown" agrees with anything: closed.
  std::string unknown = a31("PAS2", "20261003090000", pid("M123456", kNhs), "20261003090000");
  replace(unknown, "|20150314|F", "|20150314|U");
  ASSERT_EQ(outcomeOf(send(server, unknown)), "stored");
  flag = server.get(flagPath);
  EXPECT_EQ(flag.json.getString("status"), "inactive");
  EXPECT_FALSE(at(flag.json, {"period", "end"}).empty());
  std::string closedVersion = versionOf(server, flagPath);

  // Raised again: active, a new start, no end.
  std::string male2 = a31("PAS3", "20261004090000", pid("M123456", kNhs), "20261004090000");
  replace(male2, "|20150314|F", "|20150314|M");
  ASSERT_EQ(outcomeOf(send(server, male2)), "stored");
  flag = server.get(flagPath);
  EXPECT_EQ(flag.json.getString("status"), "active");
  EXPECT_TRUE(at(flag.json, {"period", "end"}).empty());
  EXPECT_NE(versionOf(server, flagPath), closedVersion);
  EXPECT_EQ(at(flag.json, {"meta", "profile"}),
            "[\"https://fhir.hl7.org.uk/StructureDefinition/UKCore-Flag\"]");
}

// --- Source orders and overlay across sources ------------------------------------------------

// The hospital's A31 of 5 Nov gives a new address; the hospice export that arrives next
// holds the child as it was on 30 Oct (its record's lastModified). Older data never overwrites
// newer: the served Patient keeps the 5 Nov address.
TEST(ReviewPerson, AnOlderRecordFromAnotherSourceDoesNotOverwriteANewerAddress) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, a31("PAS1", "20261105090000",
                                       pid("M123456", kNhs, "|||1 New Road^^Southby^^SB1 1AA"),
                                       "20261105090000"))),
            "stored");
  ASSERT_NE(at(onlyResource(server, "/Patient"), {"address"}).find("SB1 1AA"), std::string::npos);
  ASSERT_EQ(outcomeOf(pushHospice(server, hospiceSample())), "stored");  // lastModified 30 Oct
  json::Value p = onlyResource(server, "/Patient");
  EXPECT_NE(at(p, {"address"}).find("SB1 1AA"), std::string::npos)
      << "the hospice record of 30 Oct replaced the hospital's address of 5 Nov: "
      << at(p, {"address"});
}

// A field the hospital does not send is unchanged (overlay) — also when it was set on the
// served Patient through the REST API (acknowledged 200): the next ADT must not drop it.
TEST(ReviewPerson, AnElementSetThroughTheApiSurvivesAMessageThatDoesNotSendIt) {
  TestServer server;
  const std::string child = person(kNhs);
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001", kNhs))), "stored");
  json::Value p = server.get("/Patient/" + child).json;
  json::Value telecom;
  json::ParseError err;
  ASSERT_TRUE(json::parse(R"([{"system":"phone","value":"07700 900555","use":"home"}])", telecom,
                          err));
  p.set("telecom", telecom);
  ASSERT_EQ(server.put("/Patient/" + child, json::write(p)).status, 200);
  ASSERT_EQ(outcomeOf(send(server, a31("PAS2", "20261002090000",
                                       pid("M123456", kNhs, "|||1 New Road^^Southby^^SB1 1AA"),
                                       "20261002090000"))),
            "stored");
  json::Value after = server.get("/Patient/" + child).json;
  EXPECT_NE(at(after, {"address"}).find("SB1 1AA"), std::string::npos);
  EXPECT_NE(at(after, {"telecom"}).find("07700 900555"), std::string::npos)
      << "the phone number written through the API was dropped by an A31 that did not send "
         "PID-13: "
      << json::write(after);
}

// A late admission (older than the stored A31) carries the NHS number the A31 did not send:
// it fills what the stored record lacks, and the NHS number is the child's identity.
TEST(ReviewPerson, ALateMessageCarryingTheNhsNumberStillJoinsTheChild) {
  TestServer server;
  ASSERT_EQ(outcomeOf(pushHospice(server, hospiceSample())), "stored");
  ASSERT_EQ(outcomeOf(send(server, a31("PAS1", "20261005090000", pid("M123456"),
                                       "20261005090000"))),
            "stored");
  std::vector<std::string> codes;
  ASSERT_EQ(outcomeOf(send(server, admission("PAS2", "M123456", "S001", kNhs)), &codes),
            "stored");
  EXPECT_EQ(subjectOf(server, "/Encounter/" + ingest::derivedId("Encounter", "RX8", "S001")),
            "Patient/" + person(kNhs))
      << "the NHS number of a late (older) message was ignored: " << join(codes);
}

// --- Nothing left pointing at a source view --------------------------------------------------

TEST(ReviewPerson, NoResourcePointsAtAnUnservedOrRetiredPatientAfterMovesAndMerges) {
  TestServer server;
  // A hospital patient without a number with a spell and a ReSPECT form, merged into one
  // that later gets a number; the hospice and community records of the same child.
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M654321", "S001"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, respect("EPR1", "M654321", "RSP-1"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, admission("PAS2", "M123456", "S002"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, mergeMessage("PAS3", "M123456", "M654321"))), "stored");
  ASSERT_EQ(outcomeOf(pushCommunity(server, communitySample())), "stored");
  ASSERT_EQ(outcomeOf(send(server, a31("PAS4", "20261006090000", pid("M123456", kNhs),
                                       "20261006090000"))),
            "stored");
  ASSERT_EQ(outcomeOf(pushHospice(server, hospiceSample())), "stored");
  EXPECT_EQ(join(badPatientReferences(server)), "");
  auto active = entries(server, "/Patient?active:not=false");
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].getString("id"), person(kNhs));
  EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + person(kNhs)).size(),
            entries(server, "/Encounter").size());
  EXPECT_EQ(entries(server, "/CarePlan?subject=Patient/" + person(kNhs)).size(), 3u);
}

// A third valid number, so a correction from N2 to N3 does not touch N1.
TEST(ReviewPerson, ACorrectionAwayFromAnOtherwiseEmptyPersonMovesEverythingAndKeepsHistory) {
  TestServer server;
  ASSERT_EQ(outcomeOf(send(server, admission("PAS1", "M123456", "S001", kNhs2))), "stored");
  ASSERT_EQ(outcomeOf(send(server, respect("EPR1", "M123456", "RSP-1"))), "stored");
  ASSERT_EQ(outcomeOf(send(server, a31("PAS2", "20261003090000", pid("M123456", kNhs3),
                                       "20261003090000"))),
            "stored");
  EXPECT_EQ(entries(server, "/Encounter?subject=Patient/" + person(kNhs3)).size(), 1u);
  EXPECT_EQ(entries(server, "/CarePlan?subject=Patient/" + person(kNhs3)).size(), 1u);
  EXPECT_EQ(server.get("/Patient/" + person(kNhs2) + "/_history/1").status, 200);
  EXPECT_EQ(join(badPatientReferences(server)), "");
}

}  // namespace
}  // namespace acp::testing
