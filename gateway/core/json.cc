#include "gateway/core/json.h"

#include <cstring>

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <memory>
#include <unordered_set>

namespace acp::json {

Value Value::makeString(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.text_ = std::move(s);
  return v;
}
Value Value::makeNumber(std::string raw) {
  Value v;
  v.kind_ = Kind::kNumber;
  v.text_ = std::move(raw);
  return v;
}
Value Value::makeBool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  v.text_ = b ? "true" : "false";
  return v;
}
Value Value::makeArray() {
  Value v;
  v.kind_ = Kind::kArray;
  return v;
}
Value Value::makeRaw(std::string jsonText) {
  Value v;
  v.kind_ = Kind::kRaw;
  v.text_ = std::move(jsonText);
  return v;
}
Value Value::makeObject() {
  Value v;
  v.kind_ = Kind::kObject;
  return v;
}

const Value* Value::find(std::string_view key) const {
  for (const auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}
Value* Value::find(std::string_view key) {
  for (auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}
const std::string& Value::getString(std::string_view key) const {
  static const std::string kEmpty;
  const Value* v = find(key);
  return v && v->isString() ? v->text_ : kEmpty;
}
Value& Value::set(std::string key, Value v) {
  if (kind_ == Kind::kNull) kind_ = Kind::kObject;
  for (auto& m : members_) {
    if (m.first == key) {
      m.second = std::move(v);
      return m.second;
    }
  }
  members_.emplace_back(std::move(key), std::move(v));
  return members_.back().second;
}
bool Value::erase(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      return true;
    }
  }
  return false;
}
bool Value::operator==(const Value& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return bool_ == o.bool_;
    case Kind::kNumber:
    case Kind::kString:
    case Kind::kRaw:
      return text_ == o.text_;
    case Kind::kArray:
      return items_ == o.items_;
    case Kind::kObject: {
      // Member order is not significant for equality.
      if (members_.size() != o.members_.size()) return false;
      for (const auto& m : members_) {
        const Value* other = o.find(m.first);
        if (!other || !(*other == m.second)) return false;
      }
      return true;
    }
  }
  return false;
}

namespace {

// SAX handler building a Value while enforcing the limits. Returning false stops the
// reader; `failure` then says why.
class Builder {
 public:
  Builder(const ParseLimits& limits, ParseError& failure) : limits_(limits), failure_(failure) {}

  bool Null() { return add(Value()); }
  bool Bool(bool b) { return add(Value::makeBool(b)); }
  bool Int(int) { return unexpected(); }
  bool Uint(unsigned) { return unexpected(); }
  bool Int64(int64_t) { return unexpected(); }
  bool Uint64(uint64_t) { return unexpected(); }
  bool Double(double) { return unexpected(); }
  bool RawNumber(const char* s, rapidjson::SizeType len, bool) {
    if (len > limits_.maxNumberLength) {
      return fail("value", "number token longer than " + std::to_string(limits_.maxNumberLength) +
                               " characters", "parse.json.number-too-long");
    }
    return add(Value::makeNumber(std::string(s, len)));
  }
  bool String(const char* s, rapidjson::SizeType len, bool) {
    if (len > limits_.maxStringLength)
      return fail("too-long", "string value too long", "parse.json.string-too-long");
    if (holdsSurrogate(s, len)) return loneSurrogate();
    return add(Value::makeString(std::string(s, len)));
  }
  bool StartObject() { return open(Value::makeObject()); }
  bool Key(const char* s, rapidjson::SizeType len, bool) {
    if (holdsSurrogate(s, len)) return loneSurrogate();
    Frame& f = stack_.back();
    std::string key(s, len);
    bool dup = false;
    if (f.keys) {
      dup = !f.keys->insert(key).second;
    } else {
      for (const auto& m : f.value.members())
        if (m.first == key) dup = true;
      if (!dup && f.value.members().size() >= 16) {
        f.keys = std::make_unique<std::unordered_set<std::string>>();
        for (const auto& m : f.value.members()) f.keys->insert(m.first);
        f.keys->insert(key);
      }
    }
    if (dup) return fail("structure", "duplicate key \"" + key + "\"", "parse.json.duplicate-key");
    f.pendingKey = std::move(key);
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(Value::makeArray()); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  Value result;

 private:
  struct Frame {
    Value value;
    std::string pendingKey;
    std::unique_ptr<std::unordered_set<std::string>> keys;
  };

  bool unexpected() { return fail("structure", "unexpected number form", "parse.json.number"); }
  // A decoded string holding a UTF-16 surrogate (U+D800..U+DFFF, UTF-8 ED A0..ED BF): only a
  // \u escape can make one, as the raw bytes were checked as UTF-8. rapidjson 1.1.0 joins a
  // high surrogate escape with the low one after it and refuses a lone high one, but takes a
  // lone low one (\uDC00) and writes it as bytes that are not UTF-8 — text that would then be
  // stored and served as such. Found by the fuzz target tests/fuzz/json_fuzz.cc.
  static bool holdsSurrogate(const char* s, size_t len) {
    for (const char* p = s; (p = static_cast<const char*>(memchr(p, 0xED, s + len - p))) &&
                            p + 1 < s + len;
         ++p)
      if (static_cast<unsigned char>(p[1]) >= 0xA0) return true;
    return false;
  }
  bool loneSurrogate() {
    return fail("structure", "a \\u escape names a lone UTF-16 surrogate", "parse.json.encoding");
  }
  bool fail(std::string type, std::string message, std::string code) {
    failure_ = {std::move(type), std::move(message), std::move(code)};
    return false;
  }
  bool add(Value v) {
    if (stack_.empty()) {
      result = std::move(v);
      return true;
    }
    Frame& f = stack_.back();
    if (f.value.isArray())
      f.value.push(std::move(v));
    else
      f.value.members().emplace_back(std::move(f.pendingKey), std::move(v));
    return true;
  }
  bool open(Value v) {
    if (stack_.size() >= limits_.maxDepth) {
      return fail("too-long", "nesting deeper than " + std::to_string(limits_.maxDepth),
                  "parse.json.too-deep");
    }
    stack_.push_back(Frame{std::move(v), {}, nullptr});
    return true;
  }
  bool close() {
    Value v = std::move(stack_.back().value);
    stack_.pop_back();
    return add(std::move(v));
  }

  const ParseLimits& limits_;
  ParseError& failure_;
  std::vector<Frame> stack_;
};

template <typename Writer>
void emit(const Value& v, Writer& w) {
  switch (v.kind()) {
    case Kind::kNull:
      w.Null();
      break;
    case Kind::kBool:
      w.Bool(v.boolean());
      break;
    case Kind::kNumber:
      w.RawValue(v.text().data(), v.text().size(), rapidjson::kNumberType);
      break;
    case Kind::kString:
      w.String(v.text().data(), static_cast<rapidjson::SizeType>(v.text().size()));
      break;
    case Kind::kRaw:
      w.RawValue(v.text().data(), v.text().size(), rapidjson::kObjectType);
      break;
    case Kind::kArray:
      w.StartArray();
      for (const auto& i : v.items()) emit(i, w);
      w.EndArray();
      break;
    case Kind::kObject:
      w.StartObject();
      for (const auto& m : v.members()) {
        w.Key(m.first.data(), static_cast<rapidjson::SizeType>(m.first.size()));
        emit(m.second, w);
      }
      w.EndObject();
      break;
  }
}

}  // namespace

bool parse(std::string_view text, Value& out, ParseError& error, const ParseLimits& limits) {
  constexpr unsigned kFlags = rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseIterativeFlag;
  error = {};
  Builder builder(limits, error);
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
  rapidjson::Reader reader;
  rapidjson::ParseResult r = reader.Parse<kFlags>(is, builder);
  if (r.IsError()) {
    if (error.code.empty()) {
      rapidjson::ParseErrorCode c = r.Code();
      error.issueType = "structure";
      error.code = c == rapidjson::kParseErrorStringInvalidEncoding ||
                           c == rapidjson::kParseErrorStringUnicodeSurrogateInvalid
                       ? "parse.json.encoding"
                   : c == rapidjson::kParseErrorDocumentRootNotSingular
                       ? "parse.json.trailing-content"
                       : "parse.json.syntax";
      error.message = std::string("invalid JSON at byte ") + std::to_string(r.Offset()) + ": " +
                      rapidjson::GetParseError_En(c);
    } else {
      error.message += " (at byte " + std::to_string(r.Offset()) + ")";
    }
    return false;
  }
  out = std::move(builder.result);
  return true;
}

void writeTo(const Value& v, std::string& out, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    emit(v, w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    emit(v, w);
  }
  out.append(buf.GetString(), buf.GetSize());
}

std::string write(const Value& v, bool pretty) {
  std::string s;
  writeTo(v, s, pretty);
  return s;
}

std::string quote(std::string_view s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace acp::json
