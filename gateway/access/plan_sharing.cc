#include "gateway/access/plan_sharing.h"

#include "gateway/plan/acp_summary.h"

namespace acp::access {

const char* const kRedactedSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
const char* const kRedactedCode = "REDACTED";

std::string authorOrganisation(const json::Value& carePlan) { return plan::sourceOds(carePlan); }

json::Value withheldView(const json::Value& carePlan) {
  // Already an outline (a Bundle entry checked twice): unchanged.
  if (const json::Value* meta = carePlan.find("meta"))
    if (const json::Value* labels = meta->find("security"); labels && labels->isArray())
      for (const json::Value& l : labels->items())
        if (l.getString("system") == kRedactedSystem && l.getString("code") == kRedactedCode)
          return carePlan;
  json::Value out = json::Value::makeObject();
  for (const char* key : {"resourceType", "id", "meta", "identifier", "status", "intent",
                          "category", "subject", "period", "created", "author", "careTeam"})
    if (const json::Value* v = carePlan.find(key)) out.set(key, *v);
  json::Value* meta = out.find("meta");
  if (!meta) {
    out.set("meta", json::Value::makeObject());
    meta = out.find("meta");
  }
  json::Value label = json::Value::makeObject();
  label.set("system", json::Value::makeString(kRedactedSystem));
  label.set("code", json::Value::makeString(kRedactedCode));
  label.set("display", json::Value::makeString("redacted"));
  json::Value* security = meta->find("security");
  if (!security || !security->isArray()) {
    meta->set("security", json::Value::makeArray());
    security = meta->find("security");
  }
  security->items().push_back(std::move(label));
  std::string ods = authorOrganisation(carePlan);
  out.set("title", json::Value::makeString("Advance care plan not shared"));
  json::Value note = json::Value::makeObject();
  note.set("text", json::Value::makeString(
                       "This plan's content is not shared: there is no consent to share it, or "
                       "consent was withdrawn. Contact " +
                       (ods.empty() ? std::string("the organisation that recorded it")
                                    : "the recording organisation (ODS " + ods + ")") +
                       " or the care team named here."));
  json::Value notes = json::Value::makeArray();
  notes.items().push_back(std::move(note));
  out.set("note", std::move(notes));
  return out;
}

}  // namespace acp::access
