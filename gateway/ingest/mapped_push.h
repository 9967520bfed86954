// MappedPush / MappedRecord — what a partner mapper hands to the IngestService: one push
// (an export document or one HL7 message) as records, each record the FHIR resources it maps
// to, with the problems found while mapping it.
//
// Contract for mappers: a record whose required data is missing or impossible is marked
// `rejected` with error issues and no resources; optional data that cannot be used is dropped
// with a warning issue. Resources carry their final ids (source_ids.h) so a re-sent record
// maps to the same resources. Plain data; no thread-safety concerns.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "gateway/core/issues.h"
#include "gateway/core/json.h"

namespace acp::ingest {

struct MappedRecord {
  std::string recordId;                 // the source's id for the record (e.g. WB-004471)
  std::vector<json::Value> resources;   // FHIR resources with ids, Patient first
  IssueList issues;                     // locations are source paths (e.g. records[0].child)
  bool rejected = false;
  // Types whose resources are laid over the current version instead of replacing it: a
  // top-level element the record does not carry keeps its stored value (HL7 v2 semantics: a
  // field not sent is unchanged); a top-level member set to JSON null removes the element.
  // Exports that always send the whole record leave it empty.
  std::set<std::string> overlayTypes;
  // For overlay types: object elements merged one level down (e.g. "Encounter.period": a
  // start sent alone keeps the stored end), and members used only when neither the record
  // nor the stored version has them (key "Type/id", value an object, e.g. an Encounter's
  // status when an update message is the first news of a spell). See overlay.h.
  std::set<std::string> overlayObjects;
  std::map<std::string, json::Value> defaults;
  // The record alone as a document of the partner's format (what is kept when the record is
  // rejected, and replayed later); "" when the partner cannot isolate records.
  std::string content;
  // When set: the source's unique id for this delivery (HL7: sender + MSH-10). A record whose
  // key was already applied is answered "unchanged" without being applied again, even when
  // what it would write differs from what is stored now (a resend is never a new event).
  std::string deliveryKey;
  // Patient merges the record asks for (HL7 ADT^A40): applied in the record's transaction
  // after its own resources are laid over the stored ones (IngestService: the duplicate is
  // marked replaced and inactive, the survivor linked to it, and every resource referring to
  // the duplicate re-pointed to the survivor). Both ids are Patient ids.
  struct PatientMerge {
    std::string duplicateId;
    std::string survivorId;
  };
  std::vector<PatientMerge> merges;
};

struct MappedPush {
  std::string partner;       // "hospice", "community", "hl7v2"
  std::string pushId;        // exportId / batchId / MSH-10: unique per push from this source
  std::string sourceOds;     // ODS code of the sending organisation
  std::string sourceSystem;  // the sending system's name
  std::string contentType;   // media type of the pushed document
  std::vector<MappedRecord> records;
};

}  // namespace acp::ingest
