#include "gateway/search/fhirpath.h"

#include <charconv>
#include <optional>
#include <utility>

namespace acp::search {

using model::ElementDef;
using model::Model;
using model::TypeDef;
using model::TypeKind;

namespace {

constexpr size_t kMaxDepth = 100;  // nesting of the syntax tree (guards the recursion)

const json::Value& trueValue() {
  static const json::Value v = json::Value::makeBool(true);
  return v;
}
const json::Value& falseValue() {
  static const json::Value v = json::Value::makeBool(false);
  return v;
}

bool isIdentStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }

// ---------------------------------------------------------------------------------------------
// Lexer

enum class Tok : unsigned char {
  kEnd,
  kIdent,
  kString,
  kNumber,
  kThis,
  kDot,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kComma,
  kPipe,
  kEq,
  kNe,
  kMinus,
  kOther,  // an operator outside the subset (< > <= >= ~ !~ + * / & %)
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  size_t pos = 0;
  bool quoted = false;  // `backtick` identifier: never a keyword
};

bool lex(std::string_view s, std::vector<Token>& out, std::string& error) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    Token t;
    t.pos = i;
    if (isIdentStart(c)) {
      size_t j = i;
      while (j < s.size() && isIdentChar(s[j])) ++j;
      t.kind = Tok::kIdent;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (c == '`') {
      size_t j = s.find('`', i + 1);
      if (j == std::string_view::npos || j == i + 1) {
        error = "unterminated quoted identifier at " + std::to_string(i);
        return false;
      }
      t.kind = Tok::kIdent;
      t.quoted = true;
      t.text = std::string(s.substr(i + 1, j - i - 1));
      i = j + 1;
    } else if (isDigit(c)) {
      size_t j = i;
      while (j < s.size() && isDigit(s[j])) ++j;
      if (j + 1 < s.size() && s[j] == '.' && isDigit(s[j + 1])) {
        ++j;
        while (j < s.size() && isDigit(s[j])) ++j;
      }
      t.kind = Tok::kNumber;
      t.text = std::string(s.substr(i, j - i));
      i = j;
    } else if (c == '\'') {
      std::string text;
      size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        char d = s[j];
        if (d == '\'') {
          closed = true;
          ++j;
          break;
        }
        if (d == '\\') {
          if (j + 1 >= s.size()) break;
          char e = s[j + 1];
          switch (e) {
            case '\'':
            case '"':
            case '`':
            case '\\':
            case '/':
              text += e;
              break;
            case 'n':
              text += '\n';
              break;
            case 'r':
              text += '\r';
              break;
            case 't':
              text += '\t';
              break;
            case 'f':
              text += '\f';
              break;
            default:
              error = "unsupported escape in string literal at " + std::to_string(j);
              return false;
          }
          j += 2;
          continue;
        }
        text += d;
        ++j;
      }
      if (!closed) {
        error = "unterminated string literal at " + std::to_string(i);
        return false;
      }
      t.kind = Tok::kString;
      t.text = std::move(text);
      i = j;
    } else if (c == '$') {
      size_t j = i + 1;
      while (j < s.size() && isIdentChar(s[j])) ++j;
      if (s.substr(i, j - i) != "$this") {
        error = "unsupported variable " + std::string(s.substr(i, j - i));
        return false;
      }
      t.kind = Tok::kThis;
      i = j;
    } else {
      ++i;
      switch (c) {
        case '.':
          t.kind = Tok::kDot;
          break;
        case '(':
          t.kind = Tok::kLParen;
          break;
        case ')':
          t.kind = Tok::kRParen;
          break;
        case '[':
          t.kind = Tok::kLBracket;
          break;
        case ']':
          t.kind = Tok::kRBracket;
          break;
        case '{':
          t.kind = Tok::kLBrace;
          break;
        case '}':
          t.kind = Tok::kRBrace;
          break;
        case ',':
          t.kind = Tok::kComma;
          break;
        case '|':
          t.kind = Tok::kPipe;
          break;
        case '=':
          t.kind = Tok::kEq;
          break;
        case '-':
          t.kind = Tok::kMinus;
          break;
        case '!':
          if (i < s.size() && s[i] == '=') {
            ++i;
            t.kind = Tok::kNe;
          } else {
            t.kind = Tok::kOther;
            t.text = "!";
          }
          break;
        case '<':
        case '>':
        case '~':
        case '+':
        case '*':
        case '/':
        case '&':
        case '%':
          t.kind = Tok::kOther;
          t.text = std::string(1, c);
          break;
        default:
          error = "unexpected character at " + std::to_string(t.pos);
          return false;
      }
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = s.size();
  out.push_back(end);
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Syntax tree, compiled in place. Its parts live in a named namespace because
// Expression::Node (declared in the header) holds them.

namespace fhirpath_detail {

enum class Op : unsigned char {
  kThis,
  kIdent,       // parsed identifier; compiled into kTypeFilter or kMember
  kTypeFilter,  // a resource type name at the start of a path: keeps focus items of that type
  kMember,
  kCall,
  kIndex,
  kUnion,
  kAnd,
  kOr,
  kXor,
  kEq,
  kNe,
  kIs,
  kAs,
  kLiteral,
  kEmpty,
};

enum class Fn : unsigned char {
  kNone,
  kWhere,
  kExists,
  kEmpty,
  kNot,
  kFirst,
  kLast,
  kOfType,
  kAs,
  kIs,
  kResolve,
  kHasValue,
};

// How one element appears in JSON for one of its types.
struct JsonChoice {
  std::string jsonName;        // "valueQuantity", "status"
  std::string underscoreName;  // "_valueQuantity": the primitive companion
  std::string_view type;       // FHIR type name (points into the model)
  const TypeDef* def = nullptr;
  bool primitive = false;
  bool polymorphic = false;  // typed "Resource": the concrete type comes from resourceType
};

// The element `name` of one parent type.
struct MemberStep {
  const TypeDef* parent = nullptr;
  std::vector<JsonChoice> choices;
};

}  // namespace fhirpath_detail

using namespace fhirpath_detail;  // NOLINT: internal to this file

namespace {

std::string_view systemTypeName(std::string_view code) {
  constexpr std::string_view kPrefix = "http://hl7.org/fhirpath/System.";
  if (code.substr(0, kPrefix.size()) != kPrefix) return code;
  std::string_view t = code.substr(kPrefix.size());
  if (t == "String") return "string";
  if (t == "Boolean") return "boolean";
  if (t == "Integer") return "integer";
  if (t == "Decimal") return "decimal";
  if (t == "Date") return "date";
  if (t == "DateTime") return "dateTime";
  if (t == "Time") return "time";
  return code;
}

bool makeStep(const Model& model, const TypeDef* parent, std::string_view name, MemberStep& step) {
  if (!parent) return false;
  const ElementDef* el = parent->find(name);
  if (!el) return false;
  step.parent = parent;
  step.choices.clear();
  auto add = [&](std::string jsonName, std::string_view type, const TypeDef* def) {
    JsonChoice c;
    c.underscoreName = "_" + jsonName;
    c.jsonName = std::move(jsonName);
    c.type = def ? std::string_view(def->name) : type;
    c.def = def;
    c.primitive = def && def->kind == TypeKind::kPrimitive;
    c.polymorphic = def && def->kind == TypeKind::kResource && def->abstract;
    step.choices.push_back(std::move(c));
  };
  if (el->backbone) {
    add(el->name, el->backbone->name, el->backbone);
  } else if (el->choice) {
    for (const model::TypeRef& tr : el->types) {
      std::string_view code = systemTypeName(tr.code);
      add(model::choiceJsonName(el->name, code), code, model.type(code));
    }
  } else if (!el->types.empty()) {
    std::string_view code = systemTypeName(el->types[0].code);
    add(el->name, code, model.type(code));
  } else {
    return false;
  }
  return true;
}

// True when `t` is the type `name` or derives from it (Age → Quantity, code → string,
// Patient → DomainResource → Resource).
bool derives(const Model& model, const TypeDef* t, std::string_view name) {
  for (int guard = 0; t && guard < 16; ++guard) {
    if (t->name == name) return true;
    if (t->base.empty()) return false;
    t = model.type(t->base);
  }
  return false;
}

bool isOfType(const Model& model, const PathItem& item, std::string_view name) {
  if (item.typeDef) return derives(model, item.typeDef, name);
  return item.type == name;
}

}  // namespace

struct Expression::Node {
  Op op = Op::kEmpty;
  std::string name;                         // identifier / function name
  std::unique_ptr<Node> base;               // invocation target; nullptr = the focus
  std::vector<std::unique_ptr<Node>> args;  // function arguments / binary operands
  size_t pos = 0;                           // offset in the text (messages)
  // Filled by the compiler:
  Fn fn = Fn::kNone;
  std::string typeName;           // is / as / ofType / type filter
  std::vector<MemberStep> steps;  // kMember: per static parent type
  size_t index = 0;               // kIndex
  json::Value literal;            // kLiteral
  std::string_view valueType;     // kLiteral / boolean results: result type name
  const TypeDef* valueDef = nullptr;
};

using Node = Expression::Node;

namespace {

// ---------------------------------------------------------------------------------------------
// Parser (precedence climbing over the FHIRPath grammar, restricted to the subset).

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  std::unique_ptr<Node> parse() {
    auto n = parseOr();
    if (n && peek().kind != Tok::kEnd) return fail("unexpected token at " + posText());
    return n;
  }
  const std::string& error() const { return error_; }

 private:
  const Token& peek() const { return tokens_[i_]; }
  bool isKeyword(std::string_view kw) const {
    const Token& t = peek();
    return t.kind == Tok::kIdent && !t.quoted && t.text == kw;
  }
  std::string posText() const { return std::to_string(peek().pos); }
  std::unique_ptr<Node> fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return nullptr;
  }
  std::unique_ptr<Node> binary(Op op, std::unique_ptr<Node> l, std::unique_ptr<Node> r,
                               size_t pos) {
    auto n = std::make_unique<Node>();
    n->op = op;
    n->pos = pos;
    n->args.push_back(std::move(l));
    n->args.push_back(std::move(r));
    return n;
  }

  std::unique_ptr<Node> parseOr() {
    if (++depth_ > kMaxDepth) return fail("expression nested too deeply");
    auto l = parseAnd();
    while (l && (isKeyword("or") || isKeyword("xor"))) {
      Op op = peek().text == "or" ? Op::kOr : Op::kXor;
      size_t pos = peek().pos;
      ++i_;
      auto r = parseAnd();
      if (!r) return nullptr;
      l = binary(op, std::move(l), std::move(r), pos);
    }
    if (l && (isKeyword("implies"))) return fail("unsupported operator 'implies'");
    --depth_;
    return l;
  }

  std::unique_ptr<Node> parseAnd() {
    auto l = parseEquality();
    while (l && isKeyword("and")) {
      size_t pos = peek().pos;
      ++i_;
      auto r = parseEquality();
      if (!r) return nullptr;
      l = binary(Op::kAnd, std::move(l), std::move(r), pos);
    }
    if (l && (isKeyword("in") || isKeyword("contains")))
      return fail("unsupported operator '" + peek().text + "'");
    return l;
  }

  std::unique_ptr<Node> parseEquality() {
    auto l = parseUnion();
    while (l && (peek().kind == Tok::kEq || peek().kind == Tok::kNe)) {
      Op op = peek().kind == Tok::kEq ? Op::kEq : Op::kNe;
      size_t pos = peek().pos;
      ++i_;
      auto r = parseUnion();
      if (!r) return nullptr;
      l = binary(op, std::move(l), std::move(r), pos);
    }
    if (l && peek().kind == Tok::kOther)
      return fail("unsupported operator '" + peek().text + "' at " + posText());
    return l;
  }

  std::unique_ptr<Node> parseUnion() {
    auto l = parseTypeExpr();
    while (l && peek().kind == Tok::kPipe) {
      size_t pos = peek().pos;
      ++i_;
      auto r = parseTypeExpr();
      if (!r) return nullptr;
      l = binary(Op::kUnion, std::move(l), std::move(r), pos);
    }
    return l;
  }

  std::unique_ptr<Node> parseTypeExpr() {
    auto l = parsePostfix();
    while (l && (isKeyword("is") || isKeyword("as"))) {
      auto n = std::make_unique<Node>();
      n->op = peek().text == "is" ? Op::kIs : Op::kAs;
      n->pos = peek().pos;
      ++i_;
      if (!parseTypeSpecifier(n->typeName)) return nullptr;
      n->args.push_back(std::move(l));
      l = std::move(n);
    }
    if (l && peek().kind == Tok::kMinus) return fail("unsupported operator '-' at " + posText());
    return l;
  }

  bool parseTypeSpecifier(std::string& out) {
    if (peek().kind != Tok::kIdent) {
      fail("type name expected at " + posText());
      return false;
    }
    out = peek().text;
    ++i_;
    if (peek().kind == Tok::kDot && i_ + 1 < tokens_.size() &&
        tokens_[i_ + 1].kind == Tok::kIdent && (out == "FHIR" || out == "System")) {
      std::string ns = out;
      out = tokens_[i_ + 1].text;
      i_ += 2;
      if (ns == "System")
        out = std::string(systemTypeName("http://hl7.org/fhirpath/System." + out));
    }
    return true;
  }

  std::unique_ptr<Node> parsePostfix() {
    auto n = parseTerm();
    while (n) {
      if (peek().kind == Tok::kDot) {
        ++i_;
        if (peek().kind != Tok::kIdent) return fail("name expected after '.' at " + posText());
        auto m = parseInvocation();
        if (!m) return nullptr;
        m->base = std::move(n);
        n = std::move(m);
      } else if (peek().kind == Tok::kLBracket) {
        auto m = std::make_unique<Node>();
        m->op = Op::kIndex;
        m->pos = peek().pos;
        ++i_;
        auto idx = parseOr();
        if (!idx) return nullptr;
        if (peek().kind != Tok::kRBracket) return fail("']' expected at " + posText());
        ++i_;
        m->args.push_back(std::move(idx));
        m->base = std::move(n);
        n = std::move(m);
      } else {
        break;
      }
    }
    return n;
  }

  // identifier or function call (the current token is an identifier)
  std::unique_ptr<Node> parseInvocation() {
    auto n = std::make_unique<Node>();
    n->pos = peek().pos;
    n->name = peek().text;
    ++i_;
    if (peek().kind != Tok::kLParen) {
      n->op = Op::kIdent;
      return n;
    }
    n->op = Op::kCall;
    ++i_;
    if (peek().kind != Tok::kRParen) {
      while (true) {
        auto a = parseOr();
        if (!a) return nullptr;
        n->args.push_back(std::move(a));
        if (peek().kind == Tok::kComma) {
          ++i_;
          continue;
        }
        break;
      }
    }
    if (peek().kind != Tok::kRParen) return fail("')' expected at " + posText());
    ++i_;
    return n;
  }

  std::unique_ptr<Node> parseTerm() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kLParen: {
        ++i_;
        auto n = parseOr();
        if (!n) return nullptr;
        if (peek().kind != Tok::kRParen) return fail("')' expected at " + posText());
        ++i_;
        return n;
      }
      case Tok::kString: {
        auto n = std::make_unique<Node>();
        n->op = Op::kLiteral;
        n->pos = t.pos;
        n->literal = json::Value::makeString(t.text);
        n->valueType = "string";
        ++i_;
        return n;
      }
      case Tok::kMinus:
      case Tok::kNumber: {
        std::string text;
        if (t.kind == Tok::kMinus) {
          ++i_;
          if (peek().kind != Tok::kNumber) return fail("unsupported unary '-' at " + posText());
          text = "-";
        }
        text += peek().text;
        auto n = std::make_unique<Node>();
        n->op = Op::kLiteral;
        n->pos = peek().pos;
        n->literal = json::Value::makeNumber(text);
        n->valueType = text.find('.') == std::string::npos ? "integer" : "decimal";
        ++i_;
        return n;
      }
      case Tok::kThis: {
        auto n = std::make_unique<Node>();
        n->op = Op::kThis;
        n->pos = t.pos;
        ++i_;
        return n;
      }
      case Tok::kLBrace: {
        ++i_;
        if (peek().kind != Tok::kRBrace) return fail("'}' expected at " + posText());
        ++i_;
        auto n = std::make_unique<Node>();
        n->op = Op::kEmpty;
        return n;
      }
      case Tok::kIdent: {
        if (!t.quoted && (t.text == "true" || t.text == "false")) {
          auto n = std::make_unique<Node>();
          n->op = Op::kLiteral;
          n->pos = t.pos;
          n->literal = json::Value::makeBool(t.text == "true");
          n->valueType = "boolean";
          ++i_;
          return n;
        }
        return parseInvocation();
      }
      default:
        return fail("unexpected token at " + posText());
    }
  }

  std::vector<Token> tokens_;
  size_t i_ = 0;
  size_t depth_ = 0;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Compiler: resolves names against the model and checks the subset.

struct StaticType {
  std::vector<const TypeDef*> types;
  bool anyResource = false;  // resolve() result: some resource type, unknown statically

  void add(const TypeDef* t) {
    for (const TypeDef* x : types)
      if (x == t) return;
    types.push_back(t);
  }
  void merge(const StaticType& o) {
    for (const TypeDef* t : o.types) add(t);
    anyResource |= o.anyResource;
  }
};

class Compiler {
 public:
  explicit Compiler(const Model& model) : model_(model) { boolean_ = model.type("boolean"); }
  const std::string& error() const { return error_; }

  bool compile(Node& n, const StaticType& focus, StaticType& out, size_t depth = 0) {
    if (depth > kMaxDepth) return fail(n, "expression nested too deeply");
    switch (n.op) {
      case Op::kThis:
        out = focus;
        return true;
      case Op::kEmpty:
        return true;
      case Op::kLiteral:
        n.valueDef = model_.type(n.valueType);
        if (n.valueDef) out.add(n.valueDef);
        return true;
      case Op::kIdent:
        return compileIdent(n, focus, out, depth);
      case Op::kCall:
        return compileCall(n, focus, out, depth);
      case Op::kIndex: {
        StaticType in;
        if (!compile(*n.base, focus, in, depth + 1)) return false;
        const Node& idx = *n.args[0];
        if (idx.op != Op::kLiteral || !idx.literal.isNumber() ||
            idx.literal.text().find_first_not_of("0123456789") != std::string::npos)
          return fail(n, "index must be a non-negative integer literal");
        uint64_t v = 0;
        const std::string& t = idx.literal.text();
        auto r = std::from_chars(t.data(), t.data() + t.size(), v);
        if (r.ec != std::errc()) return fail(n, "index out of range");
        n.index = static_cast<size_t>(v);
        out = in;
        return true;
      }
      case Op::kUnion: {
        StaticType l, r;
        if (!compile(*n.args[0], focus, l, depth + 1)) return false;
        if (!compile(*n.args[1], focus, r, depth + 1)) return false;
        out = l;
        out.merge(r);
        return true;
      }
      case Op::kAnd:
      case Op::kOr:
      case Op::kXor:
      case Op::kEq:
      case Op::kNe: {
        StaticType l, r;
        if (!compile(*n.args[0], focus, l, depth + 1)) return false;
        if (!compile(*n.args[1], focus, r, depth + 1)) return false;
        return booleanResult(n, out);
      }
      case Op::kIs: {
        StaticType in;
        if (!compile(*n.args[0], focus, in, depth + 1)) return false;
        if (!checkType(n, n.typeName)) return false;
        return booleanResult(n, out);
      }
      case Op::kAs: {
        StaticType in;
        if (!compile(*n.args[0], focus, in, depth + 1)) return false;
        return narrow(n, in, n.typeName, out);
      }
      default:
        return fail(n, "unexpected node");
    }
  }

 private:
  bool fail(const Node& n, std::string msg) {
    if (error_.empty()) error_ = std::move(msg) + " (at " + std::to_string(n.pos) + ")";
    return false;
  }

  bool booleanResult(Node& n, StaticType& out) {
    n.valueType = "boolean";
    n.valueDef = boolean_;
    if (boolean_) out.add(boolean_);
    return true;
  }

  bool checkType(const Node& n, const std::string& name) {
    const TypeDef* t = model_.type(name);
    if (!t || t->kind == TypeKind::kBackbone) return fail(n, "unknown type '" + name + "'");
    return true;
  }

  // The static result of filtering `in` to type `name` (ofType / as).
  bool narrow(const Node& n, const StaticType& in, const std::string& name, StaticType& out) {
    if (!checkType(n, name)) return false;
    const TypeDef* target = model_.type(name);
    for (const TypeDef* t : in.types) {
      if (derives(model_, t, name))
        out.add(t);
      else if (derives(model_, target, t->name))
        out.add(target);
    }
    if (in.anyResource && target->kind == TypeKind::kResource) out.add(target);
    if (out.types.empty()) return fail(n, "'" + name + "' can never match the input types");
    return true;
  }

  bool isResourceTypeName(std::string_view name) const {
    const TypeDef* t = model_.type(name);
    return t && t->kind == TypeKind::kResource && !name.empty() && name[0] >= 'A' && name[0] <= 'Z';
  }

  bool compileIdent(Node& n, const StaticType& focus, StaticType& out, size_t depth) {
    StaticType in;
    if (n.base) {
      if (!compile(*n.base, focus, in, depth + 1)) return false;
    } else {
      if (isResourceTypeName(n.name)) {
        n.op = Op::kTypeFilter;
        n.typeName = n.name;
        return narrow(n, focus, n.name, out);
      }
      in = focus;
    }
    n.op = Op::kMember;
    if (in.anyResource)
      return fail(n, "navigation into a resolve() result is not supported ('" + n.name + "')");
    for (const TypeDef* t : in.types) {
      MemberStep step;
      if (!makeStep(model_, t, n.name, step)) continue;
      for (const JsonChoice& c : step.choices) {
        if (!c.def)
          return fail(n, "element '" + n.name + "' has unknown type " + std::string(c.type));
        out.add(c.def);
      }
      n.steps.push_back(std::move(step));
    }
    if (n.steps.empty()) {
      std::string types;
      for (const TypeDef* t : in.types) types += (types.empty() ? "" : ", ") + t->name;
      return fail(n, "no element '" + n.name + "' in " + (types.empty() ? "(nothing)" : types));
    }
    return true;
  }

  bool typeArgument(Node& n, std::string& out) {
    if (n.args.size() != 1) return fail(n, n.name + "() takes one type name");
    const Node& a = *n.args[0];
    if (a.op == Op::kIdent && !a.base) {
      out = a.name;
    } else if (a.op == Op::kIdent && a.base && a.base->op == Op::kIdent && !a.base->base &&
               (a.base->name == "FHIR" || a.base->name == "System")) {
      out = a.base->name == "System"
                ? std::string(systemTypeName("http://hl7.org/fhirpath/System." + a.name))
                : a.name;
    } else {
      return fail(n, n.name + "() takes a type name");
    }
    return true;
  }

  bool compileCall(Node& n, const StaticType& focus, StaticType& out, size_t depth) {
    StaticType in;
    if (n.base) {
      if (!compile(*n.base, focus, in, depth + 1)) return false;
    } else {
      in = focus;
    }
    const std::string& f = n.name;
    auto noArgs = [&]() {
      if (!n.args.empty()) return fail(n, f + "() takes no arguments");
      return true;
    };
    if (f == "where") {
      n.fn = Fn::kWhere;
      if (n.args.size() != 1) return fail(n, "where() takes one argument");
      StaticType crit;
      if (!compile(*n.args[0], in, crit, depth + 1)) return false;
      out = in;
      return true;
    }
    if (f == "exists") {
      n.fn = Fn::kExists;
      if (n.args.size() > 1) return fail(n, "exists() takes at most one argument");
      if (n.args.size() == 1) {
        StaticType crit;
        if (!compile(*n.args[0], in, crit, depth + 1)) return false;
      }
      return booleanResult(n, out);
    }
    if (f == "empty" || f == "not" || f == "hasValue") {
      n.fn = f == "empty" ? Fn::kEmpty : f == "not" ? Fn::kNot : Fn::kHasValue;
      return noArgs() && booleanResult(n, out);
    }
    if (f == "first" || f == "last") {
      n.fn = f == "first" ? Fn::kFirst : Fn::kLast;
      if (!noArgs()) return false;
      out = in;
      return true;
    }
    if (f == "ofType" || f == "as") {
      n.fn = f == "ofType" ? Fn::kOfType : Fn::kAs;
      if (!typeArgument(n, n.typeName)) return false;
      return narrow(n, in, n.typeName, out);
    }
    if (f == "is") {
      n.fn = Fn::kIs;
      if (!typeArgument(n, n.typeName) || !checkType(n, n.typeName)) return false;
      return booleanResult(n, out);
    }
    if (f == "resolve") {
      n.fn = Fn::kResolve;
      if (!noArgs()) return false;
      bool ok = in.anyResource;
      for (const TypeDef* t : in.types)
        ok |= derives(model_, t, "Reference") || derives(model_, t, "uri") ||
              derives(model_, t, "string");
      if (!ok) return fail(n, "resolve() needs references");
      out.anyResource = true;
      return true;
    }
    return fail(n, "unsupported function '" + f + "()'");
  }

  const Model& model_;
  const TypeDef* boolean_ = nullptr;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Evaluator

using Items = std::vector<PathItem>;

bool sameItem(const PathItem& a, const PathItem& b) {
  return a.node == b.node && a.extension == b.extension && a.type == b.type &&
         a.placeholder == b.placeholder;
}

bool toDouble(const std::string& s, double& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool itemsEqual(const PathItem& a, const PathItem& b) {
  if (!a.node || !b.node) return false;
  const json::Value& x = *a.node;
  const json::Value& y = *b.node;
  if (x.isPrimitive() && y.isPrimitive()) {
    if (x.kind() != y.kind()) return false;
    if (x.isNumber()) {
      double dx = 0, dy = 0;
      if (toDouble(x.text(), dx) && toDouble(y.text(), dy)) return dx == dy;
      return x.text() == y.text();
    }
    if (x.isBool()) return x.boolean() == y.boolean();
    return x.text() == y.text();
  }
  return x == y;
}

// FHIRPath singleton evaluation of a collection as a boolean; nullopt = empty / not a
// singleton.
std::optional<bool> truth(const Items& c) {
  if (c.size() != 1) return std::nullopt;
  const PathItem& i = c[0];
  if (i.node && i.node->isBool()) return i.node->boolean();
  return true;
}

class Evaluator {
 public:
  Evaluator(const Model& model, const json::Value& root) : model_(model), root_(root) {}

  void eval(const Node& n, const Items& focus, Items& out) const {
    switch (n.op) {
      case Op::kThis:
        out.insert(out.end(), focus.begin(), focus.end());
        return;
      case Op::kEmpty:
        return;
      case Op::kLiteral:
        out.push_back({&n.literal, nullptr, n.valueType, n.valueDef, false});
        return;
      case Op::kTypeFilter:
        for (const PathItem& i : focus)
          if (isOfType(model_, i, n.typeName)) out.push_back(i);
        return;
      case Op::kMember: {
        Items tmp;
        const Items& in = input(n, focus, tmp);
        for (const PathItem& i : in) member(n, i, out);
        return;
      }
      case Op::kCall:
        call(n, focus, out);
        return;
      case Op::kIndex: {
        Items tmp;
        const Items& in = input(n, focus, tmp);
        if (n.index < in.size()) out.push_back(in[n.index]);
        return;
      }
      case Op::kUnion: {
        Items l, r;
        eval(*n.args[0], focus, l);
        eval(*n.args[1], focus, r);
        size_t start = out.size();
        for (Items* side : {&l, &r}) {
          for (const PathItem& i : *side) {
            bool dup = false;
            for (size_t k = start; k < out.size() && !dup; ++k) dup = sameItem(out[k], i);
            if (!dup) out.push_back(i);
          }
        }
        return;
      }
      case Op::kAnd:
      case Op::kOr:
      case Op::kXor: {
        Items l, r;
        eval(*n.args[0], focus, l);
        eval(*n.args[1], focus, r);
        std::optional<bool> a = truth(l), b = truth(r);
        std::optional<bool> v;
        if (n.op == Op::kAnd) {
          if (a == false || b == false)
            v = false;
          else if (a == true && b == true)
            v = true;
        } else if (n.op == Op::kOr) {
          if (a == true || b == true)
            v = true;
          else if (a == false && b == false)
            v = false;
        } else if (a && b) {
          v = *a != *b;
        }
        if (v) pushBool(n, *v, out);
        return;
      }
      case Op::kEq:
      case Op::kNe: {
        Items l, r;
        eval(*n.args[0], focus, l);
        eval(*n.args[1], focus, r);
        if (l.empty() || r.empty()) return;
        bool eq = l.size() == r.size();
        for (size_t k = 0; eq && k < l.size(); ++k) eq = itemsEqual(l[k], r[k]);
        pushBool(n, n.op == Op::kEq ? eq : !eq, out);
        return;
      }
      case Op::kIs: {
        Items in;
        eval(*n.args[0], focus, in);
        if (in.size() == 1) pushBool(n, isOfType(model_, in[0], n.typeName), out);
        return;
      }
      case Op::kAs: {
        Items in;
        eval(*n.args[0], focus, in);
        for (const PathItem& i : in)
          if (isOfType(model_, i, n.typeName)) out.push_back(i);
        return;
      }
      default:
        return;
    }
  }

 private:
  const Items& input(const Node& n, const Items& focus, Items& tmp) const {
    if (!n.base) return focus;
    eval(*n.base, focus, tmp);
    return tmp;
  }

  void pushBool(const Node& n, bool v, Items& out) const {
    out.push_back({v ? &trueValue() : &falseValue(), nullptr, "boolean", n.valueDef, false});
  }

  void emit(const JsonChoice& c, const json::Value* val, const json::Value* ext, Items& out) const {
    if (val && val->isNull()) val = nullptr;
    if (ext && !ext->isObject()) ext = nullptr;
    if (!val && !ext) return;
    if (c.polymorphic) {
      if (!val || !val->isObject()) return;
      const TypeDef* d = model_.type(val->getString("resourceType"));
      if (!d || d->kind != TypeKind::kResource || d->abstract) return;
      out.push_back({val, nullptr, d->name, d, false});
      return;
    }
    if (!val && !c.primitive) return;
    out.push_back({val, c.primitive ? ext : nullptr, c.type, c.def, false});
  }

  void member(const Node& n, const PathItem& item, Items& out) const {
    if (item.placeholder || !item.node || !item.node->isObject()) return;
    const MemberStep* step = nullptr;
    for (const MemberStep& s : n.steps)
      if (s.parent == item.typeDef) {
        step = &s;
        break;
      }
    MemberStep dynamic;  // an item whose runtime type differs from the static ones
    if (!step) {
      if (!makeStep(model_, item.typeDef, n.name, dynamic)) return;
      step = &dynamic;
    }
    const json::Value& obj = *item.node;
    for (const JsonChoice& c : step->choices) {
      const json::Value* v = obj.find(c.jsonName);
      const json::Value* x = c.primitive ? obj.find(c.underscoreName) : nullptr;
      if (!v && !x) continue;
      if (v && v->isArray()) {
        const auto& vs = v->items();
        const auto* xs = x && x->isArray() ? &x->items() : nullptr;
        for (size_t k = 0; k < vs.size(); ++k)
          emit(c, &vs[k], xs && k < xs->size() ? &(*xs)[k] : nullptr, out);
        if (xs)
          for (size_t k = vs.size(); k < xs->size(); ++k) emit(c, nullptr, &(*xs)[k], out);
      } else if (!v && x && x->isArray()) {
        for (const json::Value& e : x->items()) emit(c, nullptr, &e, out);
      } else {
        emit(c, v, x && !x->isArray() ? x : nullptr, out);
      }
    }
  }

  void resolve(const PathItem& item, Items& out) const {
    if (item.placeholder) {
      out.push_back(item);
      return;
    }
    if (!item.node) return;
    std::string_view text;
    std::string_view typeUri;
    bool primitive = item.typeDef && item.typeDef->kind == TypeKind::kPrimitive;
    if (!primitive && item.node->isObject()) {  // Reference
      text = item.node->getString("reference");
      typeUri = item.node->getString("type");
    } else if (primitive && item.node->isString()) {  // canonical / uri
      text = item.node->text();
    } else {
      return;  // JSON of the wrong kind for the element's type
    }
    std::string_view type;
    ParsedReference ref;
    if (parseReference(model_, text, ref)) {
      if (ref.contained) {
        const json::Value* contained = root_.find("contained");
        if (!contained || !contained->isArray()) return;
        for (const json::Value& r : contained->items()) {
          if (!r.isObject() || r.getString("id") != ref.id) continue;
          const TypeDef* d = model_.type(r.getString("resourceType"));
          if (d && d->kind == TypeKind::kResource && !d->abstract)
            out.push_back({&r, nullptr, d->name, d, false});
          return;
        }
        return;
      }
      type = ref.type;
    }
    if (type.empty() && !typeUri.empty()) {
      size_t slash = typeUri.rfind('/');
      type = slash == std::string_view::npos ? typeUri : typeUri.substr(slash + 1);
    }
    if (type.empty()) return;
    const TypeDef* d = model_.type(type);
    if (!d || d->kind != TypeKind::kResource || d->abstract) return;
    out.push_back({item.node, nullptr, d->name, d, true});
  }

  void call(const Node& n, const Items& focus, Items& out) const {
    Items tmp;
    const Items& in = input(n, focus, tmp);
    switch (n.fn) {
      case Fn::kWhere: {
        Items one(1), r;
        for (const PathItem& i : in) {
          one[0] = i;
          r.clear();
          eval(*n.args[0], one, r);
          if (truth(r) == true) out.push_back(i);
        }
        return;
      }
      case Fn::kExists: {
        if (n.args.empty()) {
          pushBool(n, !in.empty(), out);
          return;
        }
        Items one(1), r;
        bool any = false;
        for (const PathItem& i : in) {
          one[0] = i;
          r.clear();
          eval(*n.args[0], one, r);
          if (truth(r) == true) {
            any = true;
            break;
          }
        }
        pushBool(n, any, out);
        return;
      }
      case Fn::kEmpty:
        pushBool(n, in.empty(), out);
        return;
      case Fn::kNot: {
        std::optional<bool> v = truth(in);
        if (v) pushBool(n, !*v, out);
        return;
      }
      case Fn::kHasValue:
        pushBool(n, in.size() == 1 && in[0].node && in[0].node->isPrimitive() && !in[0].placeholder,
                 out);
        return;
      case Fn::kFirst:
        if (!in.empty()) out.push_back(in.front());
        return;
      case Fn::kLast:
        if (!in.empty()) out.push_back(in.back());
        return;
      case Fn::kOfType:
      case Fn::kAs:
        for (const PathItem& i : in)
          if (isOfType(model_, i, n.typeName)) out.push_back(i);
        return;
      case Fn::kIs:
        if (in.size() == 1) pushBool(n, isOfType(model_, in[0], n.typeName), out);
        return;
      case Fn::kResolve:
        for (const PathItem& i : in) resolve(i, out);
        return;
      default:
        return;
    }
  }

  const Model& model_;
  const json::Value& root_;
};

void flattenUnion(std::unique_ptr<Node> n, std::vector<std::unique_ptr<Node>>& out) {
  if (n->op == Op::kUnion) {
    flattenUnion(std::move(n->args[0]), out);
    flattenUnion(std::move(n->args[1]), out);
  } else {
    out.push_back(std::move(n));
  }
}

// The identifier a branch starts from ("Patient" in "Patient.name.given"), or "".
std::string_view leftmostIdentifier(const Node& n) {
  const Node* p = &n;
  for (size_t guard = 0; guard < 10000; ++guard) {
    if (p->base) {
      p = p->base.get();
    } else if (p->op != Op::kCall && !p->args.empty()) {
      p = p->args[0].get();
    } else {
      break;
    }
  }
  return p->op == Op::kIdent ? std::string_view(p->name) : std::string_view();
}

}  // namespace

// ---------------------------------------------------------------------------------------------

bool isValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!isIdentChar(c) && c != '-' && c != '.') return false;
  return id.find('_') == std::string_view::npos;
}

bool parseReference(const Model& model, std::string_view text, ParsedReference& out) {
  out = ParsedReference();
  if (text.empty()) return false;
  if (text[0] == '#') {
    out.contained = true;
    out.id = text.substr(1);
    return true;
  }
  size_t colon = text.find(':');
  size_t slash = text.find('/');
  if (colon != std::string_view::npos && colon > 0 &&
      (slash == std::string_view::npos || colon < slash)) {
    bool scheme = isIdentStart(text[0]) && text[0] != '_';
    for (size_t k = 1; k < colon && scheme; ++k) {
      char c = text[k];
      scheme = isIdentChar(c) || c == '+' || c == '-' || c == '.';
    }
    out.absolute = scheme;
  }
  std::string_view rest = text;
  size_t bar = rest.find('|');  // canonical version suffix
  if (bar != std::string_view::npos) rest = rest.substr(0, bar);
  std::string_view version;
  constexpr std::string_view kHistory = "/_history/";
  size_t h = rest.rfind(kHistory);
  if (h != std::string_view::npos) {
    version = rest.substr(h + kHistory.size());
    rest = rest.substr(0, h);
  }
  size_t s2 = rest.rfind('/');
  if (s2 == std::string_view::npos) return true;
  std::string_view id = rest.substr(s2 + 1);
  std::string_view head = rest.substr(0, s2);
  size_t s1 = head.rfind('/');
  std::string_view type = s1 == std::string_view::npos ? head : head.substr(s1 + 1);
  std::string_view base = s1 == std::string_view::npos ? std::string_view() : head.substr(0, s1);
  if (!out.absolute && !base.empty()) return true;  // "a/b/Patient/1" is not a reference
  if (!isValidId(id) || !model.isResourceType(type)) return true;
  out.base = base;
  out.type = type;
  out.id = id;
  out.version = version;
  return true;
}

Expression::Expression() = default;
Expression::~Expression() = default;
Expression::Expression(const Expression&) = default;
Expression& Expression::operator=(const Expression&) = default;
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;

Result<Expression> Expression::compile(const Model& model, std::string_view text,
                                       std::string_view resourceType) {
  const TypeDef* context = model.type(resourceType);
  if (!context || context->kind != TypeKind::kResource)
    return Status::invalid("unknown resource type '" + std::string(resourceType) + "'");
  std::vector<Token> tokens;
  std::string error;
  if (!lex(text, tokens, error)) return Status::invalid(error);
  Parser parser(std::move(tokens));
  std::unique_ptr<Node> root = parser.parse();
  if (!root) return Status::invalid(parser.error());

  std::vector<std::unique_ptr<Node>> branches;
  flattenUnion(std::move(root), branches);
  Compiler compiler(model);
  std::unique_ptr<Node> kept;
  StaticType result;
  for (auto& b : branches) {
    std::string_view start = leftmostIdentifier(*b);
    const TypeDef* startType = start.empty() ? nullptr : model.type(start);
    if (startType && startType->kind == TypeKind::kResource && !derives(model, context, start))
      continue;  // a branch for another resource type
    StaticType focus;
    focus.add(context);
    StaticType st;
    if (!compiler.compile(*b, focus, st)) return Status::invalid(compiler.error());
    result.merge(st);
    if (!kept) {
      kept = std::move(b);
    } else {
      auto u = std::make_unique<Node>();
      u->op = Op::kUnion;
      u->args.push_back(std::move(kept));
      u->args.push_back(std::move(b));
      kept = std::move(u);
    }
  }
  Expression e;
  e.model_ = &model;
  if (kept) e.root_ = std::shared_ptr<const Node>(std::move(kept));
  for (const TypeDef* t : result.types) e.resultTypes_.push_back(t->name);
  if (result.anyResource) e.resultTypes_.push_back("Resource");
  return e;
}

void Expression::evaluate(const json::Value& resource, std::vector<PathItem>& out) const {
  if (!root_ || !model_ || !resource.isObject()) return;
  const TypeDef* d = model_->type(resource.getString("resourceType"));
  if (!d || d->kind != TypeKind::kResource || d->abstract) return;
  Items focus{{&resource, nullptr, d->name, d, false}};
  Evaluator(*model_, resource).eval(*root_, focus, out);
}

std::vector<PathItem> Expression::evaluate(const json::Value& resource) const {
  std::vector<PathItem> out;
  evaluate(resource, out);
  return out;
}

}  // namespace acp::search
