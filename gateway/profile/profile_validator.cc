// ProfileValidator implementation. Error codes introduced here (issue type in brackets), all
// with severity error:
//
//   profile.unknown            [not-supported] the profile url is not in the registry (asked
//                              for, or claimed in meta.profile)
//   profile.type-mismatch      [invalid] the profile constrains another type than the
//                              resource's (or is an extension definition)
//   profile.min                [required] fewer occurrences of an element or slice than the
//                              profile's min, within one occurrence of its parent
//   profile.max                [structure] more occurrences than the profile's max
//   profile.fixed              [value] a value differs from the profile's fixed[x]
//   profile.pattern            [value] a value does not contain the profile's pattern[x]
//   profile.type               [structure] a choice element holds a type the profile does not
//                              allow (e.g. valueString where only valueCodeableConcept is)
//   profile.reference-target   [invalid] a reference to a type none of the profile's
//                              targetProfiles names
//   profile.code-invalid       [code-invalid] a code not in the value set of a required
//                              binding, or (extensible) a code a code system the value set
//                              includes completely does not define
//   profile.code-missing       [code-invalid] a CodeableConcept under a required binding with
//                              no coding from the value set
//   profile.slice-closed       [structure] an item matching no slice where slicing rules are
//                              closed
//   profile.extension-context  [extension] an extension used on an element its definition's
//                              context does not allow
#include "gateway/profile/profile_validator.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>
#include <vector>

namespace acp::profile {
namespace {

constexpr int kMaxDepth = 128;

// One occurrence of an element in the instance.
struct Item {
  const json::Value* value = nullptr;      // the JSON value; for a primitive its value (or null)
  const json::Value* companion = nullptr;  // for a primitive: its `_name` object
  const model::TypeDef* type = nullptr;    // nullptr when the model has no definition
  std::string typeName;        // "CodeableConcept", "date", "BackboneElement", "Patient"
  std::string jsonName;        // as in the JSON: "valueDate", "category"
  std::string location;        // "CarePlan.category[0]"
  std::string contextPath;     // element path without indexes: "CarePlan.category"
  std::string extensionUrl;    // for an Extension: its url
  bool choiceElement = false;  // the element is a choice (value[x])
  bool primitive() const { return !type || type->kind == model::TypeKind::kPrimitive; }
  const json::Value* object() const {
    const json::Value* o = primitive() ? companion : value;
    return o && o->isObject() ? o : nullptr;
  }
};

// A level of a profile chain being applied: the definition and its own chain (for slicings
// and slice discriminator values stated by a less derived level).
struct Level {
  const StructureDef* sd = nullptr;
  std::vector<const StructureDef*> chain;
};

bool deepEqual(const json::Value& a, const json::Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::Kind::kNull:
      return true;
    case json::Kind::kBool:
      return a.boolean() == b.boolean();
    case json::Kind::kNumber:
    case json::Kind::kString:
    case json::Kind::kRaw:
      return a.text() == b.text();
    case json::Kind::kArray:
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i)
        if (!deepEqual(a.items()[i], b.items()[i])) return false;
      return true;
    case json::Kind::kObject:
      if (a.members().size() != b.members().size()) return false;
      for (const auto& [k, v] : a.members()) {
        const json::Value* o = b.find(k);
        if (!o || !deepEqual(v, *o)) return false;
      }
      return true;
  }
  return false;
}

// The instance contains the pattern (FHIR pattern[x] semantics).
bool containsPattern(const json::Value& inst, const json::Value& pat) {
  if (pat.isObject()) {
    if (!inst.isObject()) return false;
    for (const auto& [k, pv] : pat.members()) {
      const json::Value* iv = inst.find(k);
      if (!iv || !containsPattern(*iv, pv)) return false;
    }
    return true;
  }
  if (pat.isArray()) {
    if (!inst.isArray()) return false;
    for (const json::Value& p : pat.items()) {
      bool found = false;
      for (const json::Value& i : inst.items()) {
        if (containsPattern(i, p)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }
  return deepEqual(inst, pat);
}

std::string shown(const json::Value* v) {
  if (!v) return "nothing";
  std::string s = json::write(*v);
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

const json::Value* findCompanion(const json::Value& obj, std::string_view name) {
  for (const auto& m : obj.members()) {
    const std::string& k = m.first;
    if (k.size() == name.size() + 1 && k[0] == '_' && k.compare(1, name.size(), name) == 0)
      return &m.second;
  }
  return nullptr;
}

std::string indexed(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

class Run {
 public:
  Run(const ProfileRegistry& reg, const json::Value& root, IssueList& issues)
      : reg_(reg), model_(reg.model()), root_(root), issues_(issues) {}

  size_t errors() const { return errors_; }

  // The resource as the root item; false when it is not a resource of a known type.
  bool rootItem(Item& item) const {
    if (!root_.isObject()) return false;
    const std::string& rt = root_.getString("resourceType");
    const model::TypeDef* t = model_.type(rt);
    if (!t || t->kind != model::TypeKind::kResource) return false;
    item.value = &root_;
    item.type = t;
    item.typeName = rt;
    item.location = rt;
    item.contextPath = rt;
    return true;
  }

  void error(const char* type, const char* code, std::string location, std::string message) {
    ++errors_;
    issues_.error(type, std::move(location), std::move(message), code);
  }

  // ---- profile levels ------------------------------------------------------------------------

  void applyLevel(const StructureDef* sd, const Item& root) {
    Level lvl;
    lvl.sd = sd;
    lvl.chain = sd->chain();
    walkNode(lvl, sd->root, root, 0);
  }

  // ---- extension definitions ---------------------------------------------------------------

  void walkExtensions(const Item& item, int depth) {
    if (depth > kMaxDepth) return;
    const json::Value* obj = item.object();
    if (!obj || !item.type) return;
    for (const auto& [key, value] : obj->members()) {
      if (key == "resourceType") continue;
      bool companion = key.size() > 1 && key[0] == '_';
      std::string name = companion ? key.substr(1) : key;
      std::string chosen;
      const model::ElementDef* el = item.type->findJson(name, &chosen);
      if (!el) continue;
      if (!companion && (el->name == "extension" || el->name == "modifierExtension")) {
        forEachObject(value, item.location + "." + key,
                      [&](const json::Value& ext, const std::string& loc) {
                        Item e = extensionItem(ext, loc, item.contextPath + "." + el->name);
                        checkExtension(e, item);
                        walkExtensions(e, depth + 1);
                      });
        continue;
      }
      Item child;
      child.choiceElement = el->choice;
      child.jsonName = name;
      child.contextPath = item.contextPath + "." + el->name;
      setType(child, *el, chosen);
      if (companion) {
        if (!child.primitive()) continue;
        forEachObject(value, item.location + "." + name,
                      [&](const json::Value& comp, const std::string& loc) {
                        Item p = child;
                        p.companion = &comp;
                        p.location = loc;
                        walkExtensions(p, depth + 1);
                      });
        continue;
      }
      if (child.primitive()) continue;
      bool resource = child.type->kind == model::TypeKind::kResource;
      forEachObject(value, item.location + "." + key,
                    [&](const json::Value& v, const std::string& loc) {
                      Item c = child;
                      c.value = &v;
                      c.location = loc;
                      if (resource) {
                        const std::string& rt = v.getString("resourceType");
                        c.type = model_.type(rt);
                        if (!c.type) return;
                        c.typeName = rt;
                        c.contextPath = rt;
                      }
                      walkExtensions(c, depth + 1);
                    });
    }
  }

 private:
  // ---- items -------------------------------------------------------------------------------

  template <typename F>
  static void forEachObject(const json::Value& v, const std::string& location, F f) {
    if (v.isObject()) {
      f(v, location);
    } else if (v.isArray()) {
      for (size_t i = 0; i < v.items().size(); ++i)
        if (v.items()[i].isObject()) f(v.items()[i], indexed(location, i));
    }
  }

  Item extensionItem(const json::Value& ext, const std::string& loc,
                     const std::string& contextPath) const {
    Item e;
    e.value = &ext;
    e.type = model_.type("Extension");
    e.typeName = "Extension";
    e.jsonName = "extension";
    e.location = loc;
    e.contextPath = contextPath;
    e.extensionUrl = ext.getString("url");
    return e;
  }

  void setType(Item& item, const model::ElementDef& el, const std::string& chosen) const {
    if (!chosen.empty()) {
      item.typeName = chosen;
    } else if (!el.types.empty()) {
      item.typeName = el.types[0].code;
    } else {
      item.typeName = "BackboneElement";  // contentReference
    }
    if (el.backbone && !el.choice) {
      item.type = el.backbone;
    } else {
      item.type = model_.type(item.typeName);
      if (!item.type && item.typeName.find('.') != std::string::npos) item.typeName = "string";
    }
  }

  // The occurrences of one element (group) within `parent`. `el` receives the element.
  std::vector<Item> children(const Item& parent, const ElementGroup& g,
                             const model::ElementDef*& el) const {
    std::vector<Item> out;
    el = nullptr;
    if (!parent.type) return out;
    std::string pinned;  // "valueCodeableConcept" written as the element name
    el = parent.type->find(g.name);
    if (!el) {
      el = parent.type->findJson(g.name, &pinned);
      if (!el || !el->choice) {
        el = nullptr;
        return out;
      }
    }
    const json::Value* obj = parent.object();
    if (!obj) return out;
    auto base = [&](const std::string& jsonName) {
      Item it;
      it.jsonName = jsonName;
      it.choiceElement = el->choice;
      it.contextPath = parent.contextPath + "." + el->name;
      return it;
    };
    if (el->choice) {
      for (const auto& [key, value] : obj->members()) {
        if (key.empty() || key[0] == '_') continue;
        std::string chosen;
        if (parent.type->findJson(key, &chosen) != el) continue;
        if (!pinned.empty() && key != g.name) continue;
        Item it = base(key);
        setType(it, *el, chosen);
        it.location = parent.location + "." + key;
        if (it.primitive()) {
          it.value = value.isNull() ? nullptr : &value;
          const json::Value* comp = findCompanion(*obj, key);
          it.companion = comp && comp->isObject() ? comp : nullptr;
        } else {
          it.value = &value;
        }
        finishItem(it);
        out.push_back(std::move(it));
      }
      return out;
    }
    const json::Value* v = obj->find(el->name);
    const json::Value* comp = findCompanion(*obj, el->name);
    Item proto = base(el->name);
    setType(proto, *el, "");
    std::string loc = parent.location + "." + el->name;
    auto make = [&](const json::Value* value, const json::Value* companion, std::string location) {
      Item it = proto;
      it.value = value && !value->isNull() ? value : nullptr;
      it.companion = companion && companion->isObject() ? companion : nullptr;
      if (!it.value && !it.companion) return;
      it.location = std::move(location);
      if (it.type && it.type->kind == model::TypeKind::kResource && it.value) {
        const std::string& rt = it.value->getString("resourceType");
        it.type = model_.type(rt);
        it.typeName = rt;
        it.contextPath = rt;
      }
      finishItem(it);
      out.push_back(std::move(it));
    };
    if (el->isArray()) {
      size_t n = std::max(v && v->isArray() ? v->items().size() : 0,
                          comp && comp->isArray() ? comp->items().size() : 0);
      for (size_t i = 0; i < n; ++i) {
        const json::Value* vi =
            v && v->isArray() && i < v->items().size() ? &v->items()[i] : nullptr;
        const json::Value* ci =
            comp && comp->isArray() && i < comp->items().size() ? &comp->items()[i] : nullptr;
        make(vi, ci, indexed(loc, i));
      }
    } else {
      make(v && !v->isArray() ? v : nullptr, comp && !comp->isArray() ? comp : nullptr, loc);
    }
    return out;
  }

  static void finishItem(Item& it) {
    if (it.typeName == "Extension" && it.value && it.value->isObject())
      it.extensionUrl = it.value->getString("url");
  }

  // ---- walking a differential ----------------------------------------------------------------

  void walkNode(const Level& lvl, const ElementNode& node, const Item& item, int depth) {
    if (depth > kMaxDepth) return;
    for (const ElementGroup& g : node.groups) {
      const model::ElementDef* el = nullptr;
      std::vector<Item> items = children(item, g, el);
      if (!el) continue;
      std::string where = item.location + "." + el->name;
      const ElementNode& whole = *g.element;
      if (whole.constraint) checkCount(lvl, whole, items.size(), where, items);
      for (const Item& it : items) {
        if (whole.constraint) checkItem(lvl, whole, it);
        walkNode(lvl, whole, it, depth + 1);
      }
      if (!g.slices.empty()) applySlices(lvl, g, *el, items, where, depth);
    }
  }

  void checkCount(const Level& lvl, const ElementNode& node, size_t count, const std::string& where,
                  const std::vector<const Item*>& items) {
    const ElementConstraint& c = *node.constraint;
    if (c.min && count < static_cast<size_t>(*c.min)) {
      error("required", "profile.min", where,
            lvl.sd->label + ": " + node.id + " min " + std::to_string(*c.min) + ", found " +
                std::to_string(count));
    }
    if (c.max && *c.max >= 0 && count > static_cast<size_t>(*c.max)) {
      error("structure", "profile.max", items[*c.max]->location,
            lvl.sd->label + ": " + node.id + " max " + std::to_string(*c.max) + ", found " +
                std::to_string(count));
    }
  }
  void checkCount(const Level& lvl, const ElementNode& node, size_t count, const std::string& where,
                  const std::vector<Item>& items) {
    std::vector<const Item*> ptrs;
    ptrs.reserve(items.size());
    for (const Item& i : items) ptrs.push_back(&i);
    checkCount(lvl, node, count, where, ptrs);
  }

  // ---- slicing -------------------------------------------------------------------------------

  // The node with this id in the level or a less derived one.
  static const ElementNode* nodeInChain(const Level& lvl, const std::string& id,
                                        bool (*want)(const ElementNode&)) {
    for (const StructureDef* sd : lvl.chain) {
      auto it = sd->byId.find(id);
      if (it != sd->byId.end() && want(*it->second)) return it->second;
    }
    return nullptr;
  }

  // A discriminator of one slice, resolved to what an item must have.
  struct Expect {
    Discriminator::Kind kind = Discriminator::Kind::kValue;
    std::vector<std::string> path;       // empty for $this
    const json::Value* value = nullptr;  // into the registry's (immutable) constraints
    bool isPattern = false;              // contains, not equals
    std::string url;                     // an extension slice's profile url (value is then unset)
    bool mustExist = false;
    std::vector<std::string> types;
  };

  // The constraint at `path` below the slice (in this level or a less derived one).
  static const ElementConstraint* constraintAt(const Level& lvl, const std::string& sliceId,
                                               const std::vector<std::string>& path,
                                               bool (*want)(const ElementConstraint&)) {
    for (const StructureDef* sd : lvl.chain) {
      auto it = sd->byId.find(sliceId);
      if (it == sd->byId.end()) continue;
      const ElementNode* n = child(it->second, path, path.size());
      if (n && n->constraint && want(*n->constraint)) return &*n->constraint;
    }
    return nullptr;
  }

  static const ElementNode* child(const ElementNode* n, const std::vector<std::string>& path,
                                  size_t depth) {
    for (size_t k = 0; k < depth && n; ++k) {
      const ElementNode* next = nullptr;
      for (const ElementGroup& g : n->groups)
        if (g.name == path[k]) next = g.element.get();
      n = next;
    }
    return n;
  }

  static bool hasValue(const ElementNode* n) {
    return n && n->constraint &&
           (!n->constraint->fixedType.empty() || !n->constraint->patternType.empty());
  }

  // The fixed[x] / pattern[x] a slice has at `path`: stated at that path, or at a node above
  // it (then the part of that value at the rest of the path). False when there is none.
  static bool expectedAt(const Level& lvl, const std::string& sliceId,
                         const std::vector<std::string>& path, Expect& e) {
    for (const StructureDef* sd : lvl.chain) {
      auto it = sd->byId.find(sliceId);
      if (it == sd->byId.end()) continue;
      for (size_t depth = path.size() + 1; depth-- > 0;) {
        const ElementNode* n = child(it->second, path, depth);
        if (!hasValue(n)) continue;
        const ElementConstraint& c = *n->constraint;
        const json::Value* v = !c.fixedType.empty() ? &c.fixed : &c.pattern;
        for (size_t k = depth; k < path.size() && v; ++k) {
          if (v->isArray()) v = v->items().size() == 1 ? &v->items()[0] : nullptr;
          v = v && v->isObject() ? v->find(path[k]) : nullptr;
        }
        if (!v) return false;
        e.value = v;
        e.isPattern = c.fixedType.empty();
        return true;
      }
    }
    return false;
  }

  static std::vector<std::string> splitPath(const std::string& p) {
    std::vector<std::string> out;
    if (p == "$this" || p.empty()) return out;
    size_t start = 0;
    while (true) {
      size_t dot = p.find('.', start);
      out.push_back(p.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return out;
  }

  // Resolves the discriminators of a slice; false when they cannot be evaluated.
  bool resolveSlice(const Level& lvl, const ElementGroup& g, const ElementNode& slice,
                    const Slicing& slicing, std::vector<Expect>& out) const {
    for (const Discriminator& d : slicing.discriminators) {
      if (d.path.find('(') != std::string::npos) return false;
      Expect e;
      e.kind = d.kind;
      e.path = splitPath(d.path);
      switch (d.kind) {
        case Discriminator::Kind::kValue:
        case Discriminator::Kind::kPattern: {
          if (expectedAt(lvl, slice.id, e.path, e)) break;
          if ((g.name == "extension" || g.name == "modifierExtension") && e.path.size() == 1 &&
              e.path[0] == "url") {
            const ElementConstraint* t =
                constraintAt(lvl, slice.id, {}, [](const ElementConstraint& x) {
                  return !x.types.empty() && !x.types[0].profiles.empty();
                });
            if (!t) return false;
            e.url = t->types[0].profiles[0];
            break;
          }
          return false;
        }
        case Discriminator::Kind::kExists: {
          const ElementConstraint* c =
              constraintAt(lvl, slice.id, e.path, [](const ElementConstraint& x) {
                return (x.min && *x.min > 0) || (x.max && *x.max == 0);
              });
          if (!c) return false;
          e.mustExist = c->min && *c->min > 0;
          break;
        }
        case Discriminator::Kind::kType: {
          if (!e.path.empty()) return false;
          const ElementConstraint* c = constraintAt(
              lvl, slice.id, {}, [](const ElementConstraint& x) { return !x.types.empty(); });
          if (c) {
            for (const TypeConstraint& t : c->types) e.types.push_back(t.code);
          } else if (g.choice) {
            e.types.push_back("#json:" + slice.sliceName);  // value[x]:valueString
          } else {
            return false;
          }
          break;
        }
        case Discriminator::Kind::kProfile:
          return false;
      }
      out.push_back(std::move(e));
    }
    return !out.empty();
  }

  // The values at a dotted path below an item: arrays on the way are flattened; a value that
  // is an array is offered whole and item by item. Choice names match by prefix ("value"
  // finds valueString).
  static void valuesAt(const json::Value& v, const std::vector<std::string>& path, size_t i,
                       std::vector<const json::Value*>& out) {
    if (i == path.size()) {
      out.push_back(&v);
      if (v.isArray())
        for (const json::Value& x : v.items()) out.push_back(&x);
      return;
    }
    if (v.isArray()) {
      for (const json::Value& x : v.items()) valuesAt(x, path, i, out);
      return;
    }
    if (!v.isObject()) return;
    if (const json::Value* c = v.find(path[i])) {
      valuesAt(*c, path, i + 1, out);
      return;
    }
    const std::string& seg = path[i];
    for (const auto& [k, x] : v.members()) {
      if (k.size() > seg.size() && k.compare(0, seg.size(), seg) == 0 &&
          std::isupper(static_cast<unsigned char>(k[seg.size()])))
        valuesAt(x, path, i + 1, out);
    }
  }

  static bool matches(const Item& item, const std::vector<Expect>& expects) {
    for (const Expect& e : expects) {
      switch (e.kind) {
        case Discriminator::Kind::kValue:
        case Discriminator::Kind::kPattern: {
          if (!item.value) return false;
          std::vector<const json::Value*> vals;
          valuesAt(*item.value, e.path, 0, vals);
          bool any = false;
          for (const json::Value* v : vals) {
            bool hit = !e.url.empty() ? v->isString() && withoutVersion(v->text()) == e.url
                       : e.isPattern  ? containsPattern(*v, *e.value)
                                      : deepEqual(*v, *e.value);
            if (hit) {
              any = true;
              break;
            }
          }
          if (!any) return false;
          break;
        }
        case Discriminator::Kind::kExists: {
          std::vector<const json::Value*> vals;
          if (item.value) valuesAt(*item.value, e.path, 0, vals);
          if (vals.empty() == e.mustExist) return false;
          break;
        }
        case Discriminator::Kind::kType: {
          bool any = false;
          for (const std::string& t : e.types)
            any |= t == item.typeName || t == "#json:" + item.jsonName;
          if (!any) return false;
          break;
        }
        case Discriminator::Kind::kProfile:
          return false;
      }
    }
    return true;
  }

  void applySlices(const Level& lvl, const ElementGroup& g, const model::ElementDef& el,
                   const std::vector<Item>& items, const std::string& where, int depth) {
    const ElementNode* slicingNode = nodeInChain(lvl, g.element->id, [](const ElementNode& n) {
      return n.constraint && n.constraint->slicing.has_value();
    });
    Slicing slicing;
    if (slicingNode) {
      slicing = *slicingNode->constraint->slicing;
    } else if (el.name == "extension" || el.name == "modifierExtension") {
      slicing.discriminators.push_back({Discriminator::Kind::kValue, "url"});
    } else if (g.choice) {
      slicing.discriminators.push_back({Discriminator::Kind::kType, "$this"});
    } else {
      return;  // slices without a slicing anywhere: nothing to match them by
    }
    struct SliceState {
      const ElementNode* node;
      std::vector<Expect> expects;
      bool evaluable;
      std::vector<const Item*> matched;
    };
    std::vector<SliceState> states;
    bool allEvaluable = true;
    for (const auto& s : g.slices) {
      SliceState st{s.get(), {}, false, {}};
      st.evaluable = resolveSlice(lvl, g, *s, slicing, st.expects);
      allEvaluable &= st.evaluable;
      states.push_back(std::move(st));
    }
    // Closed rules are checked by the level that states them, over its own slices.
    bool checkClosed = slicing.rules == "closed" && allEvaluable && slicingNode &&
                       lvl.sd->byId.count(g.element->id) &&
                       lvl.sd->byId.at(g.element->id) == slicingNode;
    for (const Item& it : items) {
      bool assigned = false;
      for (SliceState& st : states) {
        if (st.evaluable && matches(it, st.expects)) {
          st.matched.push_back(&it);
          assigned = true;
          break;
        }
      }
      if (!assigned && checkClosed) {
        error("structure", "profile.slice-closed", it.location,
              lvl.sd->label + ": " + g.element->id + " is closed to items matching no slice");
      }
    }
    for (SliceState& st : states) {
      if (!st.evaluable) continue;
      if (st.node->constraint) checkCount(lvl, *st.node, st.matched.size(), where, st.matched);
      for (const Item* it : st.matched) {
        if (st.node->constraint) checkItem(lvl, *st.node, *it);
        walkNode(lvl, *st.node, *it, depth + 1);
      }
    }
  }

  // ---- one item against one element constraint ----------------------------------------------

  void checkItem(const Level& lvl, const ElementNode& node, const Item& item) {
    const ElementConstraint& c = *node.constraint;
    const std::string& label = lvl.sd->label;
    if (!c.types.empty()) {
      if (item.choiceElement) {
        bool ok = false;
        std::string allowed;
        for (const TypeConstraint& t : c.types) {
          ok |= t.code == item.typeName;
          allowed += (allowed.empty() ? "" : ", ") + t.code;
        }
        if (!ok) {
          error("structure", "profile.type", item.location,
                label + ": " + node.id + " type " + item.typeName +
                    " is not allowed (allowed: " + allowed + ")");
          return;
        }
      }
      if (item.typeName == "Reference") checkTarget(lvl, node, item);
    }
    if (!c.fixedType.empty()) {
      if (!item.value || !deepEqual(*item.value, c.fixed)) {
        error("value", "profile.fixed", item.location,
              label + ": " + node.id + " must be " + shown(&c.fixed) + ", found " +
                  shown(item.value));
      }
    }
    if (!c.patternType.empty()) {
      if (!item.value || !containsPattern(*item.value, c.pattern)) {
        error("value", "profile.pattern", item.location,
              label + ": " + node.id + " must contain " + shown(&c.pattern) + ", found " +
                  shown(item.value));
      }
    }
    if ((c.binding.strength == "required" || c.binding.strength == "extensible") &&
        !c.binding.valueSet.empty() && item.value) {
      checkBinding(lvl, node, item);
    }
  }

  void checkBinding(const Level& lvl, const ElementNode& node, const Item& item) {
    const model::Binding& b = node.constraint->binding;
    const model::ValueSetCodes* codes = reg_.valueSetCodes(b.valueSet);
    if (!codes) return;
    const ValueSetContent* own = reg_.valueSet(b.valueSet);
    bool required = b.strength == "required";
    std::string head = lvl.sd->label + ": " + node.id + " ";
    auto notIn = [&](const std::string& code) {
      return head + "code '" + code + "' is not in the " + b.strength + " value set " + b.valueSet;
    };
    // Whether a coding's code is wrong for the binding (false when the binding says nothing
    // about its system).
    auto wrong = [&](const std::string& system, const std::string& code, bool& fromSet) {
      auto sys = codes->bySystem.find(system);
      if (sys == codes->bySystem.end()) return false;
      if (!required && !(own && own->completeSystems.count(system))) return false;
      fromSet = true;
      return sys->second.count(code) == 0;
    };
    if (item.primitive()) {
      if (required && item.value->isString() && !codes->contains(item.value->text()))
        error("code-invalid", "profile.code-invalid", item.location, notIn(item.value->text()));
      return;
    }
    if (!item.value->isObject()) return;
    if (item.typeName == "Coding") {
      const std::string& code = item.value->getString("code");
      const json::Value* system = item.value->find("system");
      bool fromSet = false;
      if (system && system->isString()) {
        if (wrong(system->text(), code, fromSet) || (required && !fromSet))
          error("code-invalid", "profile.code-invalid", item.location + ".code", notIn(code));
      } else if (required && !codes->contains(code)) {
        error("code-invalid", "profile.code-invalid", item.location + ".code", notIn(code));
      }
      return;
    }
    if (item.typeName != "CodeableConcept") return;
    bool fromSet = false;
    if (const json::Value* codings = item.value->find("coding"); codings && codings->isArray()) {
      for (size_t i = 0; i < codings->items().size(); ++i) {
        const json::Value& cd = codings->items()[i];
        if (!cd.isObject()) continue;
        const std::string& code = cd.getString("code");
        bool inSystem = false;
        if (wrong(cd.getString("system"), code, inSystem)) {
          error("code-invalid", "profile.code-invalid",
                indexed(item.location + ".coding", i) + ".code", notIn(code));
        } else if (inSystem) {
          fromSet = true;
        }
      }
    }
    if (required && !fromSet) {
      error("code-invalid", "profile.code-missing", item.location,
            head + "needs a coding from the required value set " + b.valueSet);
    }
  }

  // The resource type a Reference points at; "" when it cannot be told.
  std::string referencedType(const json::Value& ref) const {
    const std::string& r = ref.getString("reference");
    if (!r.empty()) {
      if (r[0] == '#') {
        if (const json::Value* contained = root_.find("contained");
            contained && contained->isArray())
          for (const json::Value& c : contained->items())
            if (c.isObject() && c.getString("id") == r.substr(1))
              return c.getString("resourceType");
        return {};
      }
      if (r.compare(0, 4, "urn:") != 0) {
        std::string_view s = r;
        size_t cut = s.find_first_of("?#");
        if (cut != std::string_view::npos) s = s.substr(0, cut);
        std::vector<std::string_view> segs;
        size_t start = 0;
        while (true) {
          size_t slash = s.find('/', start);
          segs.push_back(s.substr(
              start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
          if (slash == std::string_view::npos) break;
          start = slash + 1;
        }
        std::string_view type;
        if (segs.size() >= 4 && segs[segs.size() - 2] == "_history") {
          type = segs[segs.size() - 4];
        } else if (segs.size() >= 2) {
          type = segs[segs.size() - 2];
        }
        if (model_.isResourceType(type)) return std::string(type);
      }
    }
    const std::string& t = ref.getString("type");
    return model_.isResourceType(t) ? t : std::string();
  }

  void checkTarget(const Level& lvl, const ElementNode& node, const Item& item) {
    if (!item.value || !item.value->isObject()) return;
    std::vector<std::string> allowed;
    for (const TypeConstraint& t : node.constraint->types) {
      if (t.code != "Reference") continue;
      for (const std::string& tp : t.targetProfiles) {
        std::string_view core = coreTypeOf(tp);
        if (!core.empty() && model_.isResourceType(core)) {
          allowed.emplace_back(core);
        } else if (const StructureDef* sd = reg_.structure(tp); sd && !sd->isExtension()) {
          allowed.push_back(sd->type);
        } else {
          return;  // a target profile we cannot resolve: no check
        }
      }
    }
    if (allowed.empty()) return;
    std::string type = referencedType(*item.value);
    if (type.empty() || std::find(allowed.begin(), allowed.end(), type) != allowed.end()) return;
    std::string list;
    for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
    bool fromReference = !item.value->getString("reference").empty();
    error("invalid", "profile.reference-target",
          item.location + (fromReference ? ".reference" : ".type"),
          lvl.sd->label + ": " + node.id + " must refer to " + list + ", found " + type);
  }

  // ---- one extension against its definition ----------------------------------------------------

  bool contextAllows(const StructureDef& def, const Item& parent) const {
    if (def.contexts.empty()) return true;
    for (const ExtensionContext& c : def.contexts) {
      if (c.type == "fhirpath") return true;
      if (c.type == "extension") {
        if (!parent.extensionUrl.empty() && withoutVersion(c.expression) == parent.extensionUrl)
          return true;
        continue;
      }
      const std::string& x = c.expression;
      if (x == parent.contextPath || x == parent.typeName || x == "Element" || x == "Base")
        return true;
      if (parent.choiceElement && x == parent.contextPath + "[x]") return true;
      for (const model::TypeDef* t = parent.type; t && !t->base.empty(); t = model_.type(t->base))
        if (x == t->base) return true;
      if (parent.type && parent.type->kind == model::TypeKind::kBackbone && x == "BackboneElement")
        return true;
    }
    return false;
  }

 public:
  void checkExtension(const Item& ext, const Item& parent) {
    if (ext.extensionUrl.empty()) return;
    const StructureDef* def = reg_.structure(ext.extensionUrl);
    if (!def || !def->isExtension()) return;
    if (!contextAllows(*def, parent)) {
      std::string list;
      for (const ExtensionContext& c : def->contexts)
        list += (list.empty() ? "" : ", ") + c.expression;
      error("extension", "profile.extension-context", ext.location,
            def->label + ": not allowed on " + parent.contextPath + " (context: " + list + ")");
    }
    for (const StructureDef* sd : def->chain()) applyLevel(sd, ext);
  }

 private:
  const ProfileRegistry& reg_;
  const model::Model& model_;
  const json::Value& root_;
  IssueList& issues_;
  size_t errors_ = 0;
};

}  // namespace

ProfileValidator::ProfileValidator(std::shared_ptr<const ProfileRegistry> registry)
    : registry_(std::move(registry)) {}

namespace {

// Applies the given profiles' levels (each level once) and the extension definitions.
bool runProfiles(const ProfileRegistry& reg, const json::Value& resource,
                 const std::vector<const StructureDef*>& profiles, IssueList& issues,
                 size_t preErrors) {
  Run run(reg, resource, issues);
  Item root;
  if (!run.rootItem(root)) return preErrors == 0;
  std::unordered_set<const StructureDef*> done;
  for (const StructureDef* p : profiles)
    for (const StructureDef* sd : p->chain())
      if (done.insert(sd).second) run.applyLevel(sd, root);
  run.walkExtensions(root, 0);
  return run.errors() == 0 && preErrors == 0;
}

}  // namespace

bool ProfileValidator::validate(const json::Value& resource, std::string_view profileUrl,
                                IssueList& issues) const {
  const std::string& rt = resource.isObject() ? resource.getString("resourceType") : std::string();
  const StructureDef* sd = registry_->structure(profileUrl);
  if (!sd) {
    issues.error("not-supported", rt, "unknown profile " + std::string(profileUrl),
                 "profile.unknown");
    return false;
  }
  if (sd->isExtension() || sd->kind != "resource" || sd->type != rt) {
    issues.error("invalid", "resourceType",
                 sd->label + ": the profile constrains " + sd->type + ", not " +
                     (rt.empty() ? std::string("this resource") : rt),
                 "profile.type-mismatch");
    return false;
  }
  return runProfiles(*registry_, resource, {sd}, issues, 0);
}

bool ProfileValidator::validateClaimed(const json::Value& resource, IssueList& issues) const {
  const std::string& rt = resource.isObject() ? resource.getString("resourceType") : std::string();
  std::vector<const StructureDef*> profiles;
  size_t errors = 0;
  const json::Value* meta = resource.isObject() ? resource.find("meta") : nullptr;
  const json::Value* claimed = meta && meta->isObject() ? meta->find("profile") : nullptr;
  if (claimed && claimed->isArray()) {
    for (size_t i = 0; i < claimed->items().size(); ++i) {
      const json::Value& u = claimed->items()[i];
      if (!u.isString()) continue;
      std::string loc = rt + ".meta.profile[" + std::to_string(i) + "]";
      const StructureDef* sd = registry_->structure(u.text());
      if (!sd) {
        ++errors;
        issues.error("not-supported", loc, "unknown profile " + u.text(), "profile.unknown");
      } else if (sd->isExtension() || sd->kind != "resource" || sd->type != rt) {
        ++errors;
        issues.error("invalid", loc,
                     sd->label + ": the profile constrains " + sd->type + ", not " + rt,
                     "profile.type-mismatch");
      } else {
        profiles.push_back(sd);
      }
    }
  }
  return runProfiles(*registry_, resource, profiles, issues, errors);
}

}  // namespace acp::profile
