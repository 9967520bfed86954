// Streaming parser for the Northshire community nursing export, version 1
// (shared/partners/community-export.md), validated against
// mappings/community/community-export-1.xsd while it streams.
//
// Use:
//   auto schema = CommunitySchema::load(dir + "/mappings/community/community-export-1.xsd");
//   CommunityExportParser parser(schema.value());          // once, shared by all threads
//   DocumentOutcome out = parser.parse(body, [&](PatientRecord&& r) {
//     if (!r.accepted()) { report(r.patient.localId, r.issues); return Status::ok(); }
//     return mapAndStore(r.patient);   // a non-ok Status stops the parse
//   });
//
// Streaming: the document is read with libxml2's xmlTextReader (kUntrustedReaderOptions: no
// network, no entities, no DTD; a DOCTYPE is refused before parsing). Only the current
// Patient's subtree is expanded into a tree, and it is freed before the next Patient, so
// memory does not grow with the number of Patients (the input text itself is not copied).
// The XSD is validated by libxml2 as the bytes are parsed (xmlTextReaderSchemaValidateCtxt).
//
// Outcome, per Patient (PatientRecord, delivered in document order, exactly once each):
//   * accepted() when it carries no error issue; otherwise it is rejected, and the callback
//     still receives it (with a best-effort model) so it can be reported by localId / line.
//   * A schema error inside one Patient (a bad code, a missing @localId, an unknown element,
//     ...) rejects that Patient only; the others continue. So do the parser's own checks:
//     a Decision value not allowed for its kind, a localId / CarePlan id / Contact id seen
//     before in the same document (the later Patient is rejected), a value the schema
//     accepted but the typed model cannot hold.
// Outcome, per document (DocumentOutcome):
//   * status ok: read to the end, no document-level error. Rejected Patients do not change it.
//   * status invalid (Status::Code::kInvalid), the document fails as a whole, with the reason
//     in `issues`: empty, DOCTYPE / markup declaration, not UTF-8, not well-formed, root
//     element or namespace wrong, header attribute missing / malformed / unknown, or an
//     element other than Patient directly under CommunityExport (libxml2 does not validate
//     an element's remaining content after an unexpected child, so no later Patient could be
//     trusted). Parsing stops at the failure (complete == false).
//     Other document-level schema errors (no Patient at all, text between Patients) are
//     reported in `issues` while parsing goes on: status invalid, complete == true, every
//     Patient delivered.
//   * A failure found after Patients were delivered (e.g. the XML breaks in the middle)
//     leaves them delivered: the callback is never "taken back". Which Patients were
//     delivered before the failure depends on how far libxml2 had parsed (it reads ahead by
//     up to 512 bytes): every Patient ending more than ~1 KB before the point of failure has
//     been delivered, no Patient after it is. The caller should answer the push as failed
//     (the trust re-sends; storing per record is idempotent) and may keep what it stored.
//   * The callback's own non-ok Status stops the parse: it becomes `status`, complete ==
//     false.
//   * The header (CommunityExport @generated, @trust, @batchId) is read and checked before the
//     first Patient is delivered; `header` is set once it passed.
// Issues: type is the OperationOutcome issue type; location is FHIRPath-like over the
// export, e.g. "CommunityExport.Patient[3].CarePlan[0].Decision[1]" (0-based indices counted
// per element name among its siblings; Patient[n] counts Patient elements only); code is one
// of (stable, listed in docs/errors.md by whoever wires the endpoint):
//   community.empty            structure     no bytes, or only whitespace
//   community.doctype          structure     DOCTYPE / ENTITY / other markup declaration
//   community.encoding         structure     not UTF-8
//   community.too-large        too-long      over 2 GiB
//   community.not-well-formed  structure     libxml2's first error, with line and column
//   community.root             structure     the root element is not CommunityExport
//   community.namespace        structure     CommunityExport not in the export namespace
//   community.header           required / value / structure   a header attribute missing,
//                                            malformed, or unknown
//   community.schema           structure / value / required   an XSD violation
//   community.decision-value   code-invalid  Decision @value not allowed for its @kind
//   community.duplicate-id     duplicate     Patient @localId, CarePlan @id or Contact @id
//                                            repeated in the document
//   community.value            value         a value the schema accepts but the model cannot
//                                            hold (e.g. a year over 9999)
//   community.required         required      a part the model requires that the schema did
//                                            not (only with a different XSD than ours)
// A Patient's schema issues are capped at 50 (then one issue counts the rest); community.value
// and community.required are only reported for a Patient the schema found nothing wrong with
// (otherwise they would repeat the schema's finding).
//   community.internal         exception     libxml2 failed (not caused by the input)
// Thread-safety: CommunitySchema is immutable once loaded and shared (libxml2 compiled
// schemas are read-only during validation); each parse() call builds its own reader and
// validation context, so one parser may be used from many threads at once. The callback
// runs on the calling thread, synchronously; it may itself call parse().
// Error contract: never throws (a throwing callback propagates, leaving nothing leaked).
#pragma once

#include <libxml/xmlschemas.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/core/issues.h"
#include "gateway/core/status.h"
#include "mappings/community/parser/community_export.h"

namespace acp::mappings::community {

// The compiled export schema: loaded once, shared read-only by every parse on every thread.
class CommunitySchema {
 public:
  // Reads and compiles the XSD at `xsdPath` (a trusted file shipped with the gateway).
  // Status::internal with libxml2's first messages when it cannot be read or compiled.
  static Result<std::shared_ptr<const CommunitySchema>> load(const std::string& xsdPath);

  ~CommunitySchema();
  CommunitySchema(const CommunitySchema&) = delete;
  CommunitySchema& operator=(const CommunitySchema&) = delete;

  xmlSchemaPtr get() const { return schema_; }

 private:
  explicit CommunitySchema(xmlSchemaPtr schema) : schema_(schema) {}
  xmlSchemaPtr schema_;
};

// One Patient element, as delivered to the callback.
struct PatientRecord {
  size_t index = 0;  // 0-based position among the document's Patient elements
  Patient patient;   // typed values (best effort when rejected); patient.sourceLine is set
  IssueList issues;  // this Patient's issues; locations start "CommunityExport.Patient[index]"
  bool accepted() const { return !issues.hasErrors(); }
};

// Called once per Patient, in document order. Return Status::ok() to go on; any other Status
// stops the parse and becomes DocumentOutcome::status.
using PatientCallback = std::function<Status(PatientRecord&& record)>;

struct DocumentOutcome {
  Status status;                       // see the contract above
  bool complete = false;               // the document was read to its end
  std::optional<ExportHeader> header;  // set once the header was read and passed its checks
  size_t patientsDelivered = 0;        // callback invocations
  size_t patientsAccepted = 0;
  size_t patientsRejected = 0;
  IssueList issues;  // document-level issues only (each Patient's are in its record)
};

class CommunityExportParser {
 public:
  explicit CommunityExportParser(std::shared_ptr<const CommunitySchema> schema);

  // Parses one export document (`xml`: the request body, UTF-8; not copied, it must stay
  // alive during the call) and delivers its Patients to `onPatient`. See the contract above.
  DocumentOutcome parse(std::string_view xml, const PatientCallback& onPatient) const;

 private:
  std::shared_ptr<const CommunitySchema> schema_;
};

}  // namespace acp::mappings::community
