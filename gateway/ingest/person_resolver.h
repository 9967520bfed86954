// PersonResolver — inside one record's transaction, turns the source patients the record
// carries into the Patients the gateway serves (persons; the rules are in person_index.h).
//
// What resolve() does to the record's resources (`finals`, as about to be written):
// 1. Each Patient in `finals` is a source view (id derived from the source): it is stored as
//    that source's view (Transaction::setPatientSource) under the person it belongs to, and
//    taken out of `finals`. Views retired by an ADT^A40 merge follow their survivor's person.
// 2. The record's other resources are re-pointed from Patient/<source id> to Patient/<person>.
// 3. Every person the record touched is combined again from its sources' views and put in
//    `finals`, with its identity Flag: active while its live views disagree on birth date or
//    sex (the records stay linked; someone must check), inactive once they agree again.
// 4. A person left without live sources (its records now belong to another person: a later
//    NHS number, an A40 merge) is marked inactive with a `replaced-by` link, the other person
//    gets `replaces`, and every resource referring to it (any type's subject/patient
//    reference; Provenance and AuditEvent are history and stay) is re-pointed into `finals`.
//    Nothing is deleted: every earlier version stays in the history.
// Not thread-safe: one per record, used by the thread holding the transaction.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "gateway/core/issues.h"
#include "gateway/core/json.h"
#include "gateway/core/status.h"
#include "gateway/model/model.h"
#include "gateway/store/resource_store.h"

namespace acp::ingest {

class PersonResolver {
 public:
  PersonResolver(const model::Model& model, store::Transaction& tx, std::string nowInstant)
      : model_(model), tx_(tx), now_(std::move(nowInstant)) {}

  // Steps 1–4 above. `sourceIds`: the ids of every source patient the record carries, also
  // those whose view is not in `finals` (older than the stored one): the record's other
  // resources are re-pointed to their persons all the same. Returns whether any source view
  // was written (a record whose view changed must be kept even when its person did not).
  Result<bool> resolve(std::vector<json::Value>& finals, const std::vector<std::string>& sourceIds,
                       IssueList& issues);

  // A Patient written through the REST API (update, or a bundle entry): when it is a person
  // combined from sources, what was written is kept as one more view ("api:<id>", ordered at
  // `nowInstant`), so the next source record does not drop what the API set. Nothing for a
  // Patient without sources.
  static Status keepApiView(store::Transaction& tx, const store::StoredResource& written,
                            const std::string& nowInstant);

  // Makes person `loser` part of person `winner` (a candidate link confirmed by a reviewer):
  // every source view of `loser` joins `winner`, which is combined again; `loser` is kept
  // inactive, replaced-by `winner`, and everything referring to it is re-pointed into
  // `finals` (step 4 above).
  Status mergePersons(const std::string& loser, const std::string& winner,
                      std::vector<json::Value>& finals, IssueList& issues);

  // The persons the last resolve() combined again or moved (their plan Flags may change).
  const std::set<std::string>& touchedPersons() const { return touched_; }

  // A source patient's view as stored: its patient source row, or — for data stored before
  // persons existed — the Patient resource with its id; a non-object when there is none.
  static Result<json::Value> storedView(store::Transaction& tx, const std::string& sourceId);

 private:
  // The person a source belonged to until now: its row's, or its own id when its legacy
  // Patient resource exists, "" when new.
  Result<std::string> formerPerson(const std::string& sourceId);
  // Re-points every stored resource (not Patient, Provenance, AuditEvent) referring to
  // Patient/<from> to Patient/<to>, reading it into `finals` when not there already.
  Result<int> repointStored(const std::string& from, const std::string& to,
                            std::vector<json::Value>& finals);
  // The identity Flag of a person, as it must be now (a non-object: none needed).
  Result<json::Value> identityFlag(const std::string& personId,
                                   const std::vector<std::string>& mismatches);

  const model::Model& model_;
  store::Transaction& tx_;
  std::string now_;
  std::set<std::string> touched_;
  struct Move {
    std::string source, from, to;
  };
  std::map<std::string, std::string> movedTo_;  // former person → the person its sources joined
  std::vector<Move> moves_;                     // sources that changed person
  // A new person whose birth date and family name match a stored Patient's, with its first
  // given name or postcode, and no two NHS numbers apart: a candidate link (store) and a
  // possible-duplicate Flag on each, into `finals`. Never a merge.
  Status proposeNearMatches(const json::Value& person, std::vector<json::Value>& finals,
                            IssueList& issues);
  // Steps 3 and 4 for the persons touched.
  Status recombine(std::vector<json::Value>& finals, IssueList& issues);
};

// Helpers shared with the merge code (ingest_service.cc).
json::Value* findResource(std::vector<json::Value>& list, const std::string& type,
                          const std::string& id);
// Adds {other: Patient/<other>, type} to Patient.link, replacing a link of another type to
// the same Patient (one cannot both replace and be replaced by the same other).
void addPatientLink(json::Value& patient, const std::string& other, const char* type);
// Removes the links of `type` (any type when null) to Patient/<other> (any when ""); the count.
int removePatientLinks(json::Value& patient, const char* type, const std::string& other);
// Rewrites every Reference.reference equal to `from` into `to`, anywhere in `v`; the count.
int repointReferences(json::Value& v, const std::string& from, const std::string& to);

// The id of a person's identity Flag.
std::string identityFlagId(const std::string& personId);
// The id of the possible-duplicate Flag on `personId` about Patient/<other>.
std::string possibleDuplicateFlagId(const std::string& personId, const std::string& other);

}  // namespace acp::ingest
