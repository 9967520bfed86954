// FHIRPath — the subset of FHIRPath used by the R4 SearchParameter expressions, compiled
// against the model and evaluated over json::Value resources.
//
// Supported: path navigation from a resource-type root (choice elements, `_name` companions of
// primitives, contained/inline resources), `|` union, `and` / `or` / `xor`, `=` / `!=`,
// `is` / `as` (operators and functions), `ofType()`, `where()`, `exists()`, `empty()`, `not()`,
// `first()`, `last()`, `hasValue()`, `resolve()`, `[n]`, `$this`, string / number / boolean
// literals and parentheses. Anything else (other functions, `%` variables, arithmetic,
// ordering comparisons) fails to compile, so no expression is ever evaluated half-understood.
//
// An expression is compiled for one resource type: of its top-level `|` branches only those
// rooted at that type or at one of its ancestors (Resource, DomainResource) are kept, so a
// shared expression like "CarePlan.subject.where(resolve() is Patient) | Condition.subject..."
// yields just the CarePlan branch for CarePlan. Kept branches are checked against the model
// (every element name must exist, every type name must be a type).
//
// resolve() never reads the store: a contained reference ("#id") resolves to the contained
// resource; any other reference resolves to a placeholder item that knows only the target
// type (from "Type/id", an absolute URL ending in Type/id, or Reference.type), which is what
// `where(resolve() is Patient)` needs. Navigating into such a placeholder yields nothing.
//
// Thread-safety: a compiled Expression is immutable; evaluate() may run on many threads at
// once. Error contract: compile() returns kInvalid with a message for anything outside the
// subset or not matching the model; evaluate() never fails (malformed JSON just yields
// fewer items) and never throws.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/json.h"
#include "gateway/core/status.h"
#include "gateway/model/model.h"

namespace acp::search {

// One item of an evaluation result.
struct PathItem {
  // The JSON value. nullptr for a primitive that is present only through its `_name`
  // extension companion. For a placeholder produced by resolve(), the Reference (or the
  // canonical/uri primitive) that was resolved.
  const json::Value* node = nullptr;
  // The `_name` companion of a primitive (its id/extension object), or nullptr.
  const json::Value* extension = nullptr;
  // FHIR type name from the model: "dateTime", "Period", "CodeableConcept", "Patient", or the
  // path of a backbone element ("CarePlan.activity"). Points into the Model (or a literal).
  std::string_view type;
  const model::TypeDef* typeDef = nullptr;  // nullptr only for types the model lacks
  bool placeholder = false;  // produced by resolve() for a reference that was not resolved
};

// A reference string taken apart: "Patient/123", "Patient/123/_history/2",
// "https://host/fhir/Patient/123", "#contained-id", "urn:uuid:…", canonical "url|version".
struct ParsedReference {
  std::string_view base;     // "https://host/fhir" for absolute Type/id URLs, else ""
  std::string_view type;     // resource type when the text ends in Type/id[/_history/v]
  std::string_view id;       // id when type is set; the local id for "#id"; else ""
  std::string_view version;  // _history version, if any
  bool absolute = false;     // has a URI scheme (http:, https:, urn:, …)
  bool contained = false;    // "#id"
};

// Parses `text` (no allocation; views point into `text`). `type` is set only when the segment
// names a concrete resource type of `model` and the id has valid FHIR id syntax. Returns false
// when the text is empty; any non-empty text parses (possibly with no type/id).
bool parseReference(const model::Model& model, std::string_view text, ParsedReference& out);

// True when `id` matches the FHIR id syntax [A-Za-z0-9\-.]{1,64}.
bool isValidId(std::string_view id);

class Expression {
 public:
  Expression();  // the empty expression: evaluates to nothing
  ~Expression();
  Expression(const Expression&);
  Expression& operator=(const Expression&);
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;

  // Parses `text` and compiles the branches that apply to `resourceType` (see above). An
  // expression with no applicable branch compiles to an empty Expression. Errors: kInvalid
  // (syntax, unsupported construct, unknown element or type); the message names the problem.
  // `model` must outlive the Expression.
  static Result<Expression> compile(const model::Model& model, std::string_view text,
                                    std::string_view resourceType);

  bool empty() const { return root_ == nullptr; }
  // Static result types of the kept branches, as FHIR type names ("Reference", "Period").
  // A resolve() result appears as "Resource".
  const std::vector<std::string>& resultTypes() const { return resultTypes_; }

  // Evaluates against `resource` (a JSON resource of the compiled type), appending result
  // items to `out`. Items point into `resource`, which must outlive them (literals into this
  // Expression, boolean results into static storage).
  void evaluate(const json::Value& resource, std::vector<PathItem>& out) const;
  std::vector<PathItem> evaluate(const json::Value& resource) const;

  struct Node;  // compiled syntax tree (fhirpath.cc)

 private:
  std::shared_ptr<const Node> root_;
  const model::Model* model_ = nullptr;
  std::vector<std::string> resultTypes_;
};

}  // namespace acp::search
