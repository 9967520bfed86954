// AccessPolicy — who may see and write which patient's data (the security issue's "who may
// see and write what"; docs/security.md has the table for people).
//
// Reads are decided on what is about to be returned (so _include, _revinclude, history and
// Bundles never leak): each resource's patients (access/patient_compartment.h) must all be
// patients the principal has a legitimate relationship with:
//   - a GP practice the patient is registered with (Patient.generalPractitioner ODS code);
//   - a key worker's organisation (a CareTeam of the patient with a key-worker participant
//     acting on behalf of the organisation's ODS code);
//   - an organisation that holds a record of the patient (a source: the patient carries its
//     local identifier, current or old);
//   - a break-glass grant of the client for that patient (access/break_glass.h): held from an
//     earlier request, or made by this one when it states an emergency (urgent care only).
// A Provenance that names no patient itself (the gateway's own, over a REST write, targets
// the versions written) belongs to the patients of its targets (a delete marker's: those of the
// version it deleted), so it tells nobody else of them. Resources in no patient's compartment
// (Organization, Practitioner, ...) are readable with the scope alone. Advance care plans the patient has not consented to share are shown to
// organisations other than their author as withheldView() (access/plan_sharing.h).
// Roles: the privacy officer and the service operator read no patient data through FHIR REST;
// the superuser (gateway.auth.mode=none) may do anything.
//
// A Session holds what one request looked up (patient facts are read from the store once per
// request, each part — the Patient, its CareTeams, its Consents — only when a decision needs
// it, and never cached across requests, so a withdrawal or a change of GP applies to the next
// request). What the request itself writes is seen by the decisions after its commit: the
// caller calls refresh() then (a transaction that creates a child and its plan answers with
// both). Sessions are not thread-safe; the policy is.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gateway/access/break_glass.h"
#include "gateway/access/patient_compartment.h"
#include "gateway/auth/principal.h"
#include "gateway/core/json.h"
#include "gateway/core/status.h"
#include "gateway/store/resource_store.h"

namespace acp::access {

// Why the principal may see a patient's data.
enum class Relationship {
  kNone,
  kRegisteredPractice,
  kKeyWorker,
  kRecordHolder,
  kBreakGlass,
  kSuperuser,
};
const char* relationshipName(Relationship r);

class AccessPolicy {
 public:
  AccessPolicy(std::shared_ptr<const PatientCompartment> compartment,
               std::shared_ptr<store::ResourceStore> store,
               std::shared_ptr<const BreakGlass> breakGlass = nullptr);

  const PatientCompartment& compartment() const { return *compartment_; }

  enum class Verdict { kAllow, kWithhold, kDeny };

  class Session {
   public:
    Session(const AccessPolicy& policy, const auth::Principal& principal);

    // The request states an emergency (purpose ETREAT) with this reason: an urgent-care
    // client without a relationship with a patient is granted access to that one patient
    // (access/break_glass.h) — to one patient per request at most.
    void breakGlass(const std::string& reason) { requestReason_ = reason; }
    // Whether any access in this session was by break-glass, and the reason that applied.
    bool usedBreakGlass() const { return usedBreakGlass_; }
    const std::string& breakGlassReason() const { return breakGlassReason_; }

    // The relationship with one patient (looked up once per session). Deleted or unknown
    // patients have none (except for the superuser). When the request states an emergency
    // this may grant break-glass for the patient (see breakGlass()).
    Relationship relationship(const std::string& patientId);
    // As relationship(), but never grants break-glass (a grant held already counts): for
    // choosing among patients before deciding on one.
    Relationship standing(const std::string& patientId);
    // Whether relationship() could still grant break-glass in this request: it states an
    // emergency, the principal is urgent care, and no patient was granted yet.
    bool mayBreakGlass() const;
    // Drops every fact and relationship looked up so far: the next decision reads the store
    // afresh. Called once a write made by this request has committed, so that what it answers
    // is decided on the committed state (a Patient it created, a CareTeam or Consent it
    // changed). Break-glass grants stay as made; patientsSeen() is kept.
    void refresh();
    // Whether the principal may see patient data at all (its role reads clinical records).
    bool readsPatientData() const;

    // kAllow: return as is; kWithhold: return withheldView(resource) (a CarePlan the patient
    // has not consented to share, for another organisation); kDeny: do not return it.
    // `why` (optional) receives a reason for the audit trail, never patient data.
    Verdict mayRead(const json::Value& resource, std::string* why = nullptr);
    // The patients of a resource (PatientCompartment::patientsOf), remembered for the audit.
    std::vector<std::string> patientsOf(const json::Value& resource);
    // Every patient whose data this session decided on (allowed or not), for the audit.
    const std::set<std::string>& patientsSeen() const { return seen_; }

    // Whether a plan of the patient is withheld from this principal: not shared and not its
    // author's. The CarePlan as stored.
    bool withheld(const json::Value& carePlan);

   private:
    // What the store says about one patient, each part read only when a decision needs it.
    struct Facts {
      bool found = false;
      std::set<std::string> practices, holders;               // from the Patient
      std::optional<std::set<std::string>> keyWorkers;        // from its CareTeams
      std::optional<std::map<std::string, bool>> sharing;     // from its Consents
    };
    Facts& facts(const std::string& patientId);               // the Patient part
    Relationship decide(const std::string& patientId, bool mayGrant);
    // The patients of what a Provenance targets (local references resolved in the store).
    std::vector<std::string> targetPatients(const json::Value& provenance);
    const std::set<std::string>& keyWorkers(const std::string& patientId);
    const std::map<std::string, bool>& sharing(const std::string& patientId);

    const AccessPolicy& policy_;
    const auth::Principal& principal_;
    std::map<std::string, Facts> facts_;
    std::map<std::string, Relationship> relationships_;
    std::set<std::string> seen_;
    std::string requestReason_;     // the emergency this request states ("" none)
    std::string breakGlassReason_;  // the reason of the grant(s) used
    std::string grantedPatient_;  // the patient this request's break-glass granted, if any
    bool usedBreakGlass_ = false;
  };

 private:
  std::shared_ptr<const PatientCompartment> compartment_;
  std::shared_ptr<store::ResourceStore> store_;
  std::shared_ptr<const BreakGlass> breakGlass_;
};

}  // namespace acp::access
