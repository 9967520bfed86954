#include "gateway/access/patient_compartment.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace acp::access {

Result<std::shared_ptr<const PatientCompartment>> PatientCompartment::load(
    std::shared_ptr<const model::Model> model, const std::string& file) {
  std::ifstream in(file);
  if (!in) return Status::invalid("cannot read the Patient compartment definition " + file);
  std::stringstream text;
  text << in.rdbuf();
  json::Value doc;
  json::ParseError err;
  if (!json::parse(text.str(), doc, err) || !doc.find("resources") ||
      !doc.find("resources")->isObject())
    return Status::invalid("the Patient compartment definition " + file + " is not valid");
  auto out = std::shared_ptr<PatientCompartment>(new PatientCompartment());
  out->model_ = model;
  for (const auto& [type, params] : doc.find("resources")->members()) {
    if (!model->isResourceType(type) || !params.isArray()) continue;
    std::vector<search::Expression>& exprs = out->byType_[type];
    for (const json::Value& p : params.items()) {
      if (type == "Patient") continue;  // its own id and Patient.link, handled in patientsOf
      const model::SearchParamDef* def = model->searchParam(type, p.text());
      if (!def || def->type != "reference" || def->expression.empty())
        return Status::invalid("compartment parameter " + type + "." + p.text() +
                               " is not a reference search parameter of the model");
      auto compiled = search::Expression::compile(*model, def->expression, type);
      if (!compiled.isOk())
        return Status::invalid("compartment parameter " + type + "." + p.text() + ": " +
                               compiled.status().message());
      if (!compiled.value().empty()) exprs.push_back(std::move(compiled.value()));
    }
  }
  return std::shared_ptr<const PatientCompartment>(std::move(out));
}

bool PatientCompartment::covers(const std::string& type) const { return byType_.count(type) > 0; }

namespace {

// "Patient/123" (also versioned, or absolute) → "123"; anything else "".
std::string patientIdOf(const model::Model& model, const json::Value* reference) {
  if (!reference || !reference->isObject()) return "";
  const json::Value* text = reference->find("reference");
  if (!text || !text->isString()) return "";
  search::ParsedReference parsed;
  std::string s = text->text();
  if (!search::parseReference(model, s, parsed) || parsed.type != "Patient") return "";
  return std::string(parsed.id);
}

void addUnique(std::vector<std::string>& out, std::string id) {
  if (!id.empty() && std::find(out.begin(), out.end(), id) == out.end())
    out.push_back(std::move(id));
}

}  // namespace

std::vector<std::string> PatientCompartment::patientsOf(const json::Value& resource) const {
  std::vector<std::string> out;
  const std::string type = resource.getString("resourceType");
  if (type == "Patient") {
    addUnique(out, resource.getString("id"));
    if (const json::Value* links = resource.find("link"); links && links->isArray())
      for (const json::Value& l : links->items()) addUnique(out, patientIdOf(*model_, l.find("other")));
    return out;
  }
  auto it = byType_.find(type);
  if (it == byType_.end()) return out;
  std::vector<search::PathItem> items;
  for (const search::Expression& e : it->second) {
    items.clear();
    e.evaluate(resource, items);
    for (const search::PathItem& item : items) addUnique(out, patientIdOf(*model_, item.node));
  }
  return out;
}

}  // namespace acp::access
