// json::Value — the gateway's in-memory JSON tree, and the hardened JSON reader and writer.
//
// Why not a RapidJSON DOM: FHIR decimals must keep their exact text ("1.50" stays "1.50"),
// untrusted input needs a depth limit and duplicate-key rejection before any tree exists
// (../shared/reference/security.md), and objects keep member order. Numbers are therefore
// kept as their raw JSON text. Parsing runs RapidJSON's SAX reader with
// kParseNumbersAsStringsFlag | kParseValidateEncodingFlag and never comments, NaN or Inf.
// Thread-safety: values are plain data; concurrent reads are safe, writes are not.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/core/status.h"

namespace acp::json {

// kRaw holds already-serialised JSON text (an object), spliced verbatim by write(): the
// response path uses it to embed stored resources without parsing them. Only write() and
// operator== understand it; never hand a tree containing kRaw to the validator or XML writer.
enum class Kind : unsigned char { kNull, kBool, kNumber, kString, kArray, kObject, kRaw };

class Value {
 public:
  using Member = std::pair<std::string, Value>;

  Value() = default;  // null
  static Value makeString(std::string s);
  static Value makeNumber(std::string raw);  // raw must be valid JSON number text
  static Value makeBool(bool b);
  static Value makeArray();
  static Value makeObject();
  static Value makeRaw(std::string jsonText);

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::kNull; }
  bool isBool() const { return kind_ == Kind::kBool; }
  bool isNumber() const { return kind_ == Kind::kNumber; }
  bool isString() const { return kind_ == Kind::kString; }
  bool isArray() const { return kind_ == Kind::kArray; }
  bool isObject() const { return kind_ == Kind::kObject; }
  bool isPrimitive() const {
    return kind_ != Kind::kArray && kind_ != Kind::kObject && kind_ != Kind::kRaw;
  }

  // String text, or the raw text of a number; "true"/"false" for booleans; "" for null.
  const std::string& text() const { return text_; }
  bool boolean() const { return bool_; }

  std::vector<Value>& items() { return items_; }
  const std::vector<Value>& items() const { return items_; }
  std::vector<Member>& members() { return members_; }
  const std::vector<Member>& members() const { return members_; }

  // Object access; nullptr when absent or when this is not an object.
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  // String member's text, or "" when absent / not a string.
  const std::string& getString(std::string_view key) const;
  // Replaces an existing member or appends a new one; returns the stored value.
  Value& set(std::string key, Value v);
  bool erase(std::string_view key);
  void push(Value v) { items_.push_back(std::move(v)); }

  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }

 private:
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

struct ParseLimits {
  size_t maxDepth = 64;          // nesting of arrays/objects
  size_t maxNumberLength = 64;   // characters in one number token
  size_t maxStringLength = 16 * 1024 * 1024;
};

// Why a parse failed: the OperationOutcome issue type ("structure", "value", "too-long"),
// a message with the byte offset, and a stable error code.
struct ParseError {
  std::string issueType;
  std::string message;
  std::string code;
};

// Parses untrusted JSON text. Duplicate keys, invalid UTF-8, trailing content, nesting
// deeper than maxDepth, over-long numbers and comments/NaN are all rejected.
// On failure returns false and fills `error`.
bool parse(std::string_view text, Value& out, ParseError& error, const ParseLimits& limits = {});

// Serialises; `pretty` indents by two spaces. Numbers are written as their raw text.
std::string write(const Value& v, bool pretty = false);
void writeTo(const Value& v, std::string& out, bool pretty = false);

// Escapes a string as a JSON string literal including the quotes.
std::string quote(std::string_view s);

}  // namespace acp::json
