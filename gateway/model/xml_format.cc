#include "gateway/model/xml_format.h"

#include <libxml/tree.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/xml.h"

namespace acp::model {

namespace {

constexpr const char* kFhirNs = "http://hl7.org/fhir";
constexpr const char* kXhtmlNs = "http://www.w3.org/1999/xhtml";
constexpr const char* kXmlNs = "http://www.w3.org/XML/1998/namespace";
constexpr const char* kXsiNs = "http://www.w3.org/2001/XMLSchema-instance";
constexpr size_t kMaxIssues = 100;       // stop reporting after this many problems
constexpr size_t kMaxNumberLength = 64;  // same cap as the JSON reader (json::ParseLimits)
constexpr uint32_t kNone = UINT32_MAX;

const char* cstr(const xmlChar* s) { return reinterpret_cast<const char*>(s); }

bool inNamespace(const xmlNode* n, const char* href) {
  return n->ns && n->ns->href && std::strcmp(cstr(n->ns->href), href) == 0;
}
bool attrInNamespace(const xmlAttr* a, const char* href) {
  return a->ns && a->ns->href && std::strcmp(cstr(a->ns->href), href) == 0;
}

bool isXmlSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool allSpace(const xmlChar* s) {
  if (!s) return true;
  for (; *s; ++s)
    if (!isXmlSpace(*s)) return false;
  return true;
}

// The text of an attribute (its text-node children; no entity references exist because
// the hardened parser has no DTD).
std::string attrText(const xmlAttr* a) {
  std::string s;
  for (const xmlNode* c = a->children; c; c = c->next)
    if (c->content) s.append(cstr(c->content));
  return s;
}

// How a primitive type is represented in JSON.
enum class JsonForm { kString, kDecimal, kInteger, kBoolean };

JsonForm jsonForm(std::string_view code) {
  if (code == "boolean") return JsonForm::kBoolean;
  if (code == "decimal") return JsonForm::kDecimal;
  if (code == "integer" || code == "positiveInt" || code == "unsignedInt")
    return JsonForm::kInteger;
  return JsonForm::kString;
}

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; integers stop after
// the integer part.
bool isJsonNumber(std::string_view s, bool integerOnly) {
  size_t i = 0, n = s.size();
  auto digit = [&](size_t k) { return k < n && s[k] >= '0' && s[k] <= '9'; };
  if (i < n && s[i] == '-') ++i;
  if (!digit(i)) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (integerOnly) return i == n;
  if (i < n && s[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == n;
}

// How an element's content is represented.
enum class Shape { kPrimitive, kXhtml, kComplex, kResource, kUnknown };

struct ElementType {
  Shape shape = Shape::kUnknown;
  const TypeDef* def = nullptr;
  std::string_view code;
};

ElementType resolveType(const Model& model, const ElementDef& el, std::string_view choiceType) {
  ElementType r;
  if (el.backbone) {
    r.shape = Shape::kComplex;
    r.def = el.backbone;
    return r;
  }
  if (el.choice) {
    r.code = choiceType;
  } else if (!el.types.empty()) {
    r.code = el.types[0].code;
  }
  if (r.code == "xhtml") {
    r.shape = Shape::kXhtml;
    return r;
  }
  r.def = model.type(r.code);
  if (!r.def) return r;
  switch (r.def->kind) {
    case TypeKind::kPrimitive:
      r.shape = Shape::kPrimitive;
      break;
    case TypeKind::kResource:
      r.shape = Shape::kResource;
      break;
    default:
      r.shape = Shape::kComplex;
  }
  return r;
}

// Looks up a JSON/XML property name (an element name, or name + type for a choice).
const TypeDef::JsonRef* lookup(const TypeDef& t, std::string_view name) {
  auto it = t.byJsonName.find(std::string(name));
  return it == t.byJsonName.end() ? nullptr : &it->second;
}

// Remembers resolveType() per JsonRef (stable addresses inside the model) for the length of
// one conversion: direct-mapped, no allocation, saves a model lookup per element.
class TypeCache {
 public:
  explicit TypeCache(const Model& model) : model_(model) {}
  ElementType get(const TypeDef::JsonRef* ref) {
    Entry& e = entries_[(reinterpret_cast<uintptr_t>(ref) >> 4) & (kSize - 1)];
    if (e.key != ref) {
      e.key = ref;
      e.type = resolveType(model_, *ref->element, ref->type);
    }
    return e.type;
  }

 private:
  static constexpr size_t kSize = 128;
  struct Entry {
    const TypeDef::JsonRef* key = nullptr;
    ElementType type;
  };
  const Model& model_;
  Entry entries_[kSize];
};

// Appends `s` escaped for XML. In attributes also quotes, tabs and line breaks are escaped
// (so attribute-value normalisation cannot change them); carriage returns always are.
// Characters XML 1.0 cannot carry at all (C0 controls, U+FFFE, U+FFFF) become U+FFFD.
void appendEscaped(std::string& out, std::string_view s, bool attribute) {
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    const char* rep = nullptr;
    size_t skip = 1;
    if (c >= 0x20 && c != '&' && c != '<' && c != '>' && c != '"' && c != 0xEF) continue;
    switch (c) {
      case '&':
        rep = "&amp;";
        break;
      case '<':
        rep = "&lt;";
        break;
      case '>':
        rep = "&gt;";
        break;
      case '"':
        rep = attribute ? "&quot;" : nullptr;
        break;
      case '\t':
        rep = attribute ? "&#9;" : nullptr;
        break;
      case '\n':
        rep = attribute ? "&#10;" : nullptr;
        break;
      case '\r':
        rep = "&#13;";
        break;
      case 0xEF:
        if (i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBF &&
            (static_cast<unsigned char>(s[i + 2]) == 0xBE ||
             static_cast<unsigned char>(s[i + 2]) == 0xBF)) {
          rep = "\xEF\xBF\xBD";
          skip = 3;
        }
        break;
      default:
        rep = "\xEF\xBF\xBD";  // other C0 control characters
    }
    if (!rep) continue;
    out.append(s.data() + run, i - run);
    out.append(rep);
    i += skip - 1;
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
}

// Serialises an XHTML subtree with unprefixed names; the root carries the default XHTML
// namespace declaration. Comments and processing instructions are dropped. Fails (with
// `why`) on an element outside the XHTML namespace (or without a namespace unless
// `allowNoNamespace`) and on attributes in a foreign namespace.
bool writeXhtml(const xmlNode* n, std::string& out, bool root, bool allowNoNamespace,
                std::string& why) {
  if (!inNamespace(n, kXhtmlNs) && !(allowNoNamespace && !n->ns)) {
    why = "element '" + std::string(cstr(n->name)) + "' is not in the XHTML namespace";
    return false;
  }
  out += '<';
  out += cstr(n->name);
  if (root) out += " xmlns=\"http://www.w3.org/1999/xhtml\"";
  for (const xmlAttr* a = n->properties; a; a = a->next) {
    out += ' ';
    if (a->ns) {
      if (!attrInNamespace(a, kXmlNs)) {
        why = "attribute '" + std::string(cstr(a->name)) + "' is in an unsupported namespace";
        return false;
      }
      out += "xml:";
    }
    out += cstr(a->name);
    out += "=\"";
    for (const xmlNode* c = a->children; c; c = c->next)
      if (c->content) appendEscaped(out, cstr(c->content), true);
    out += '"';
  }
  bool hasContent = false;
  for (const xmlNode* c = n->children; c && !hasContent; c = c->next)
    hasContent = c->type == XML_ELEMENT_NODE || c->type == XML_TEXT_NODE ||
                 c->type == XML_CDATA_SECTION_NODE;
  if (!hasContent) {
    out += "/>";
    return true;
  }
  out += '>';
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) {
      if (!writeXhtml(c, out, false, allowNoNamespace, why)) return false;
    } else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
      appendEscaped(out, cstr(c->content), false);
    }
  }
  out += "</";
  out += cstr(n->name);
  out += '>';
  return true;
}

// ------------------------------------------------------------------------------------------
// XML → JSON

class Reader {
 public:
  Reader(const Model& model, IssueList& issues)
      : model_(model), issues_(issues), types_(model), issueBase_(issues.size()) {}

  bool run(std::string_view text, json::Value& out) {
    xml::XmlError err;
    xml::DocPtr doc = xml::parseUntrusted(text, err);
    if (!doc) {
      issues_.error(err.issueType, "", err.message, err.code);
      return false;
    }
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!inNamespace(root, kFhirNs)) {
      issues_.error("structure", cstr(root->name),
                    "The root element must be in the namespace http://hl7.org/fhir",
                    "parse.xml.namespace");
      return false;
    }
    if (!model_.isResourceType(cstr(root->name))) {
      issues_.error("structure", cstr(root->name),
                    "'" + std::string(cstr(root->name)) + "' is not a FHIR resource type",
                    "parse.xml.unknown-resource");
      return false;
    }
    path_.push_back({cstr(root->name), -1});
    json::Value result;
    readResource(root, result, 1);
    path_.pop_back();
    if (failed_) return false;
    out = std::move(result);
    return true;
  }

 private:
  struct Frame {
    const char* name;
    int index;  // -1 when the element does not repeat
  };
  // One element of the object being read: where its JSON members are and how often it
  // occurred so far (for array indexes and null alignment).
  struct Slot {
    const ElementDef* el;
    uint32_t value = kNone;  // member index of "name"
    uint32_t ext = kNone;    // member index of "_name"
    uint32_t count = 0;
    bool primitiveArray = false;
  };

  std::string location(const char* leaf = nullptr) const {
    std::string s;
    for (const Frame& f : path_) {
      if (!s.empty()) s += '.';
      s += f.name;
      if (f.index >= 0) {
        s += '[';
        s += std::to_string(f.index);
        s += ']';
      }
    }
    if (leaf) {
      if (!s.empty()) s += '.';
      s += leaf;
    }
    return s;
  }

  void error(const char* type, std::string message, const char* code, const char* leaf = nullptr) {
    failed_ = true;
    if (issues_.size() - issueBase_ >= kMaxIssues) return;
    issues_.error(type, location(leaf), std::move(message), code);
  }

  // Attributes of a resource element or an element of complex type: Element.id and
  // Extension.url (ElementDef::xmlAttribute). xsi:* attributes are ignored.
  void readAttributes(const xmlNode* node, const TypeDef& type, json::Value& obj) {
    for (const xmlAttr* a = node->properties; a; a = a->next) {
      if (attrInNamespace(a, kXsiNs)) continue;
      const ElementDef* el = a->ns ? nullptr : type.find(cstr(a->name));
      if (!el || !el->xmlAttribute) {
        error("structure", "Unknown attribute '" + std::string(cstr(a->name)) + "'",
              "parse.xml.unknown-attribute", cstr(a->name));
        continue;
      }
      obj.members().emplace_back(el->name, json::Value::makeString(attrText(a)));
    }
  }

  void readResource(const xmlNode* node, json::Value& out, size_t depth) {
    const TypeDef* type = model_.type(cstr(node->name));
    out = json::Value::makeObject();
    out.members().emplace_back("resourceType", json::Value::makeString(cstr(node->name)));
    readAttributes(node, *type, out);
    readChildren(node, *type, out, depth);
  }

  // The content of a Resource-typed element: exactly one resource element.
  bool readContained(const xmlNode* node, json::Value& out, size_t depth) {
    for (const xmlAttr* a = node->properties; a; a = a->next) {
      if (attrInNamespace(a, kXsiNs)) continue;
      error("structure", "Unknown attribute '" + std::string(cstr(a->name)) + "'",
            "parse.xml.unknown-attribute", cstr(a->name));
    }
    const xmlNode* resource = nullptr;
    for (const xmlNode* c = node->children; c; c = c->next) {
      if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
        if (!allSpace(c->content))
          error("structure", "Text is not allowed here", "parse.xml.unexpected-text");
        continue;
      }
      if (c->type != XML_ELEMENT_NODE) continue;
      if (resource) {
        error("structure", "Only one resource may appear here", "parse.xml.bad-resource");
        return false;
      }
      resource = c;
    }
    if (!resource) {
      error("structure", "A resource element is required here", "parse.xml.bad-resource");
      return false;
    }
    if (!inNamespace(resource, kFhirNs)) {
      error("structure",
            "Element '" + std::string(cstr(resource->name)) +
                "' must be in the namespace http://hl7.org/fhir",
            "parse.xml.namespace", cstr(resource->name));
      return false;
    }
    if (!model_.isResourceType(cstr(resource->name))) {
      error("structure", "'" + std::string(cstr(resource->name)) + "' is not a FHIR resource type",
            "parse.xml.unknown-resource", cstr(resource->name));
      return false;
    }
    readResource(resource, out, depth);
    return true;
  }

  // A primitive element: value and id attributes, extension children. Returns false when
  // nothing usable was read; `hasValue`/`hasExt` say which JSON members to write.
  bool readPrimitive(const xmlNode* node, std::string_view code, json::Value& value,
                     json::Value& ext, bool& hasValue, bool& hasExt, size_t depth) {
    hasValue = hasExt = false;
    bool ok = true;
    for (const xmlAttr* a = node->properties; a; a = a->next) {
      if (attrInNamespace(a, kXsiNs)) continue;
      const char* name = cstr(a->name);
      if (!a->ns && std::strcmp(name, "value") == 0) {
        std::string text = attrText(a);
        JsonForm form = jsonForm(code);
        if (form == JsonForm::kString) {
          value = json::Value::makeString(std::move(text));
        } else if (form == JsonForm::kBoolean) {
          if (text != "true" && text != "false") {
            error("value", "'" + text + "' is not a valid boolean", "parse.xml.invalid-value");
            ok = false;
            continue;
          }
          value = json::Value::makeBool(text == "true");
        } else {
          if (text.size() > kMaxNumberLength || !isJsonNumber(text, form == JsonForm::kInteger)) {
            error("value",
                  "'" + text.substr(0, kMaxNumberLength) + "' is not a valid " + std::string(code),
                  "parse.xml.invalid-value");
            ok = false;
            continue;
          }
          value = json::Value::makeNumber(std::move(text));
        }
        hasValue = true;
      } else if (!a->ns && std::strcmp(name, "id") == 0) {
        ext.members().emplace_back("id", json::Value::makeString(attrText(a)));
        hasExt = true;
      } else {
        error("structure", "Unknown attribute '" + std::string(name) + "'",
              "parse.xml.unknown-attribute", name);
        ok = false;
      }
    }
    const TypeDef* extensionType = nullptr;
    uint32_t extArray = kNone;
    int extCount = 0;
    for (const xmlNode* c = node->children; c; c = c->next) {
      if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
        if (!allSpace(c->content)) {
          error("structure",
                "Text is not allowed in a primitive element (use the value "
                "attribute)",
                "parse.xml.unexpected-text");
          ok = false;
        }
        continue;
      }
      if (c->type != XML_ELEMENT_NODE) continue;
      if (std::strcmp(cstr(c->name), "extension") != 0) {
        error("structure", "Unknown element '" + std::string(cstr(c->name)) + "'",
              "parse.xml.unknown-element", cstr(c->name));
        ok = false;
        continue;
      }
      if (!inNamespace(c, kFhirNs)) {
        error("structure", "Element 'extension' must be in the namespace http://hl7.org/fhir",
              "parse.xml.namespace", "extension");
        ok = false;
        continue;
      }
      // "_name": {"extension": [ {...} ]}: object, array, object.
      if (depth + 2 > maxJsonDepth_) {
        tooDeep();
        return false;
      }
      if (!extensionType) extensionType = model_.type("Extension");
      if (!extensionType) return false;
      path_.push_back({"extension", extCount++});
      json::Value item = json::Value::makeObject();
      readAttributes(c, *extensionType, item);
      readChildren(c, *extensionType, item, depth + 2);
      path_.pop_back();
      if (extArray == kNone) {
        extArray = static_cast<uint32_t>(ext.members().size());
        ext.members().emplace_back("extension", json::Value::makeArray());
      }
      ext.members()[extArray].second.push(std::move(item));
      hasExt = true;
    }
    if (!hasValue && !hasExt && ok) {
      error("structure", "A primitive element needs a value attribute or extensions",
            "parse.xml.empty-element");
      ok = false;
    }
    return ok && (hasValue || hasExt);
  }

  void tooDeep() {
    error("too-long",
          "Nesting deeper than the JSON limit of " + std::to_string(maxJsonDepth_) + " levels",
          "parse.xml.too-deep");
  }

  // Pads a primitive array member to `n` entries with nulls.
  static void padTo(json::Value& obj, uint32_t member, uint32_t n) {
    if (member == kNone) return;
    auto& items = obj.members()[member].second.items();
    while (items.size() < n) items.emplace_back();
  }

  // Reads the element children of `node` (of `type`) into `obj`, which sits at JSON
  // nesting level `depth`.
  void readChildren(const xmlNode* node, const TypeDef& type, json::Value& obj, size_t depth) {
    const size_t base = slots_.size();
    size_t elements = 0;
    for (const xmlNode* c = node->children; c; c = c->next) elements += c->type == XML_ELEMENT_NODE;
    obj.members().reserve(obj.members().size() + elements);
    for (const xmlNode* c = node->children; c; c = c->next) {
      if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
        if (!allSpace(c->content))
          error("structure", "Text is not allowed here", "parse.xml.unexpected-text");
        continue;
      }
      if (c->type != XML_ELEMENT_NODE) continue;  // comments, processing instructions
      const char* name = cstr(c->name);
      const TypeDef::JsonRef* ref = lookup(type, name);
      if (!ref || ref->element->xmlAttribute) {
        error("structure", "Unknown element '" + std::string(name) + "'",
              "parse.xml.unknown-element", name);
        continue;
      }
      const ElementDef& el = *ref->element;
      ElementType et = types_.get(ref);
      const char* ns = et.shape == Shape::kXhtml ? kXhtmlNs : kFhirNs;
      if (!inNamespace(c, ns)) {
        error("structure", "Element '" + std::string(name) + "' must be in the namespace " + ns,
              "parse.xml.namespace", name);
        continue;
      }
      if (et.shape == Shape::kUnknown) {
        error("structure", "Element '" + std::string(name) + "' has an unsupported type",
              "parse.xml.unknown-element", name);
        continue;
      }
      size_t si = base;
      while (si < slots_.size() && slots_[si].el != &el) ++si;
      if (si == slots_.size()) slots_.push_back(Slot{&el});
      if (!el.isArray() && slots_[si].count > 0) {
        error("structure", "Element '" + std::string(name) + "' may appear only once",
              "parse.xml.repeated-element", name);
        continue;
      }
      const uint32_t index = slots_[si].count++;
      const bool array = el.isArray();
      const size_t childDepth = depth + (array ? 1 : 0) + 1;
      path_.push_back({name, array ? static_cast<int>(index) : -1});

      if (et.shape == Shape::kPrimitive || et.shape == Shape::kXhtml) {
        json::Value value, ext = json::Value::makeObject();
        bool hasValue = false, hasExt = false;
        if (et.shape == Shape::kXhtml) {
          std::string html, why = "the narrative element must be 'div'";
          if (std::strcmp(name, "div") != 0 || !writeXhtml(c, html, true, false, why)) {
            error("structure", "Invalid narrative XHTML: " + why, "parse.xml.xhtml");
          } else {
            value = json::Value::makeString(std::move(html));
            hasValue = true;
          }
        } else {
          readPrimitive(c, et.code, value, ext, hasValue, hasExt, childDepth);
        }
        storePrimitive(obj, si, name, array, index, std::move(value), hasValue, std::move(ext),
                       hasExt);
      } else if (childDepth > maxJsonDepth_) {
        tooDeep();
      } else {
        json::Value child;
        if (et.shape == Shape::kResource) {
          if (!readContained(c, child, childDepth)) child = json::Value();
        } else {
          child = json::Value::makeObject();
          readAttributes(c, *et.def, child);
          readChildren(c, *et.def, child, childDepth);
        }
        if (!child.isNull()) storeComplex(obj, si, name, array, std::move(child));
      }
      path_.pop_back();
    }
    // Align the two arrays of every repeating primitive with its number of occurrences.
    for (size_t i = base; i < slots_.size(); ++i) {
      const Slot& s = slots_[i];
      if (!s.primitiveArray) continue;
      padTo(obj, s.value, s.count);
      padTo(obj, s.ext, s.count);
    }
    slots_.resize(base);
  }

  void storeComplex(json::Value& obj, size_t si, const char* name, bool array, json::Value child) {
    if (!array) {
      obj.members().emplace_back(name, std::move(child));
      return;
    }
    Slot& s = slots_[si];
    if (s.value == kNone) {
      s.value = static_cast<uint32_t>(obj.members().size());
      obj.members().emplace_back(name, json::Value::makeArray());
    }
    obj.members()[s.value].second.push(std::move(child));
  }

  void storePrimitive(json::Value& obj, size_t si, const char* name, bool array, uint32_t index,
                      json::Value value, bool hasValue, json::Value ext, bool hasExt) {
    if (!array) {
      if (hasValue) obj.members().emplace_back(name, std::move(value));
      if (hasExt) obj.members().emplace_back("_" + std::string(name), std::move(ext));
      return;
    }
    Slot& s = slots_[si];
    s.primitiveArray = true;
    if (hasValue) {
      if (s.value == kNone) {
        s.value = static_cast<uint32_t>(obj.members().size());
        obj.members().emplace_back(name, json::Value::makeArray());
      }
      padTo(obj, s.value, index);
      obj.members()[s.value].second.push(std::move(value));
    }
    if (hasExt) {
      if (s.ext == kNone) {
        s.ext = static_cast<uint32_t>(obj.members().size());
        obj.members().emplace_back("_" + std::string(name), json::Value::makeArray());
      }
      padTo(obj, s.ext, index);
      obj.members()[s.ext].second.push(std::move(ext));
    }
  }

  const Model& model_;
  IssueList& issues_;
  TypeCache types_;
  const size_t issueBase_;  // issues already in the list before this conversion
  const size_t maxJsonDepth_ = json::ParseLimits{}.maxDepth;
  bool failed_ = false;
  std::vector<Frame> path_;
  std::vector<Slot> slots_;
};

// ------------------------------------------------------------------------------------------
// JSON → XML

class Writer {
 public:
  Writer(const Model& model, std::string& out, bool pretty)
      : model_(model), out_(out), pretty_(pretty), types_(model) {}

  void writeResource(const json::Value& resource, const TypeDef& type, int depth, bool root) {
    writeComplex(type.name, resource, type, depth,
                 root ? " xmlns=\"http://hl7.org/fhir\"" : nullptr);
  }

 private:
  // One JSON property of the object being written, matched to its element.
  struct Entry {
    size_t order;  // element position in the type's definition
    const ElementDef* el;
    const TypeDef::JsonRef* ref;
    std::string_view name;  // JSON name without "_"
    const json::Value* value = nullptr;
    const json::Value* ext = nullptr;  // the "_name" companion
  };

  void indent(int depth) {
    if (pretty_) out_.append(static_cast<size_t>(depth) * 2, ' ');
  }
  void newline() {
    if (pretty_) out_ += '\n';
  }

  // Writes `<name attrs>children</name>` for an object of complex (or resource) type.
  void writeComplex(std::string_view name, const json::Value& obj, const TypeDef& type, int depth,
                    const char* extraAttributes) {
    const size_t base = entries_.size();
    collect(obj, type);
    indent(depth);
    out_ += '<';
    out_ += name;
    if (extraAttributes) out_ += extraAttributes;
    bool open = false;  // start tag still open (no child written yet)
    for (size_t i = base; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (!e.el->xmlAttribute) continue;
      if (!e.value || e.value->isNull() || !e.value->isPrimitive()) continue;
      out_ += ' ';
      out_ += e.el->name;
      out_ += "=\"";
      appendEscaped(out_, e.value->text(), true);
      out_ += '"';
    }
    for (size_t i = base; i < entries_.size(); ++i) {
      if (entries_[i].el->xmlAttribute) continue;
      Entry e = entries_[i];  // copy: the vector may grow while writing children
      writeEntry(e, depth + 1, open);
    }
    entries_.resize(base);
    if (!open) {
      out_ += "/>";
    } else {
      indent(depth);
      out_ += "</";
      out_ += name;
      out_ += '>';
    }
    newline();
  }

  void openStartTag(bool& open) {
    if (open) return;
    out_ += '>';
    newline();
    open = true;
  }

  // Matches the object's members to elements and sorts them into definition order.
  void collect(const json::Value& obj, const TypeDef& type) {
    const size_t base = entries_.size();
    if (!obj.isObject()) return;
    for (const auto& [key, value] : obj.members()) {
      bool underscore = !key.empty() && key[0] == '_';
      std::string_view name = underscore ? std::string_view(key).substr(1) : std::string_view(key);
      const TypeDef::JsonRef* ref = lookup(type, name);
      if (!ref) continue;  // resourceType, or unknown (skipped by contract)
      Entry* found = nullptr;
      for (size_t i = base; i < entries_.size(); ++i)
        if (entries_[i].name == name) found = &entries_[i];
      if (!found) {
        entries_.push_back(Entry{static_cast<size_t>(ref->element - type.elements.data()),
                                 ref->element, ref, name});
        found = &entries_.back();
      }
      (underscore ? found->ext : found->value) = &value;
    }
    // Insertion sort (few members; stable, keeps JSON order within one element).
    for (size_t i = base + 1; i < entries_.size(); ++i) {
      Entry e = entries_[i];
      size_t j = i;
      while (j > base && entries_[j - 1].order > e.order) {
        entries_[j] = entries_[j - 1];
        --j;
      }
      entries_[j] = e;
    }
  }

  void writeEntry(const Entry& e, int depth, bool& open) {
    ElementType et = types_.get(e.ref);
    switch (et.shape) {
      case Shape::kUnknown:
        return;
      case Shape::kXhtml:
        if (e.value && e.value->isString()) {
          openStartTag(open);
          writeDiv(e.value->text(), depth);
        }
        return;
      case Shape::kPrimitive: {
        const json::Value* v = e.value;
        const json::Value* x = e.ext;
        if ((v && v->isArray()) || (x && x->isArray())) {
          size_t n = std::max(v && v->isArray() ? v->items().size() : 0,
                              x && x->isArray() ? x->items().size() : 0);
          for (size_t i = 0; i < n; ++i) {
            const json::Value* vi =
                v && v->isArray() && i < v->items().size() ? &v->items()[i] : nullptr;
            const json::Value* xi =
                x && x->isArray() && i < x->items().size() ? &x->items()[i] : nullptr;
            writePrimitive(e.name, vi, xi, depth, open);
          }
        } else {
          writePrimitive(e.name, v, x, depth, open);
        }
        return;
      }
      case Shape::kResource:
      case Shape::kComplex: {
        if (!e.value) return;
        if (e.value->isArray()) {
          for (const json::Value& item : e.value->items())
            writeObject(e.name, item, et, depth, open);
        } else {
          writeObject(e.name, *e.value, et, depth, open);
        }
        return;
      }
    }
  }

  void writeObject(std::string_view name, const json::Value& v, const ElementType& et, int depth,
                   bool& open) {
    if (!v.isObject()) return;
    if (et.shape == Shape::kComplex) {
      openStartTag(open);
      writeComplex(name, v, *et.def, depth, nullptr);
      return;
    }
    const TypeDef* rt = model_.type(v.getString("resourceType"));
    if (!rt || rt->kind != TypeKind::kResource || rt->abstract) return;
    openStartTag(open);
    indent(depth);
    out_ += '<';
    out_ += name;
    out_ += '>';
    newline();
    writeResource(v, *rt, depth + 1, false);
    indent(depth);
    out_ += "</";
    out_ += name;
    out_ += '>';
    newline();
  }

  void writePrimitive(std::string_view name, const json::Value* v, const json::Value* x, int depth,
                      bool& open) {
    bool hasValue = v && v->isPrimitive() && !v->isNull();
    const json::Value* id = x && x->isObject() ? x->find("id") : nullptr;
    const json::Value* extensions = x && x->isObject() ? x->find("extension") : nullptr;
    bool hasId = id && id->isString();
    bool hasExtensions = false;
    if (extensions && extensions->isArray())
      for (const json::Value& item : extensions->items()) hasExtensions |= item.isObject();
    if (!hasValue && !hasId && !hasExtensions) return;
    openStartTag(open);
    indent(depth);
    out_ += '<';
    out_ += name;
    if (hasId) {
      out_ += " id=\"";
      appendEscaped(out_, id->text(), true);
      out_ += '"';
    }
    if (hasValue) {
      out_ += " value=\"";
      appendEscaped(out_, v->text(), true);
      out_ += '"';
    }
    if (!hasExtensions) {
      out_ += "/>";
      newline();
      return;
    }
    out_ += '>';
    newline();
    if (!extensionType_) extensionType_ = model_.type("Extension");
    if (extensionType_) {
      for (const json::Value& item : extensions->items())
        if (item.isObject()) writeComplex("extension", item, *extensionType_, depth + 1, nullptr);
    }
    indent(depth);
    out_ += "</";
    out_ += name;
    out_ += '>';
    newline();
  }

  // Embeds the narrative: parsed by the hardened parser and re-serialised, so the output is
  // always well-formed XHTML; text that does not parse is kept as escaped text instead.
  void writeDiv(const std::string& html, int depth) {
    indent(depth);
    xml::XmlError err;
    xml::DocPtr doc = xml::parseUntrusted(html, err);
    const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (root && std::strcmp(cstr(root->name), "div") == 0 &&
        (!root->ns || inNamespace(root, kXhtmlNs))) {
      size_t mark = out_.size();
      std::string why;
      if (writeXhtml(root, out_, true, true, why)) {
        newline();
        return;
      }
      out_.resize(mark);
    }
    out_ += "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
    appendEscaped(out_, html, false);
    out_ += "</div>";
    newline();
  }

  const Model& model_;
  std::string& out_;
  bool pretty_;
  TypeCache types_;
  const TypeDef* extensionType_ = nullptr;
  std::vector<Entry> entries_;
};

}  // namespace

bool xmlToJson(const Model& model, std::string_view xml, json::Value& out, IssueList& issues) {
  Reader reader(model, issues);
  return reader.run(xml, out);
}

std::string jsonToXml(const Model& model, const json::Value& resource, bool pretty) {
  std::string out;
  if (!resource.isObject()) return out;
  const TypeDef* type = model.type(resource.getString("resourceType"));
  if (!type || type->kind != TypeKind::kResource || type->abstract) return out;
  out.reserve(4096);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
  if (pretty) out += '\n';
  Writer writer(model, out, pretty);
  writer.writeResource(resource, *type, 0, true);
  return out;
}

}  // namespace acp::model
