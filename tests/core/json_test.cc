#include "gateway/core/json.h"

#include <gtest/gtest.h>

namespace acp::json {
namespace {

bool parses(const std::string& text, ParseError* errOut = nullptr, ParseLimits limits = {}) {
  Value v;
  ParseError err;
  bool ok = parse(text, v, err, limits);
  if (errOut) *errOut = err;
  return ok;
}

TEST(Json, KeepsDecimalTextAndMemberOrder) {
  Value v;
  ParseError err;
  ASSERT_TRUE(parse(R"({"b":1.50,"a":[true,null,"x"],"c":1e3})", v, err));
  EXPECT_EQ(v.members()[0].first, "b");
  EXPECT_EQ(v.find("b")->text(), "1.50");
  EXPECT_TRUE(v.find("b")->isNumber());
  EXPECT_EQ(write(v), R"({"b":1.50,"a":[true,null,"x"],"c":1e3})");
}

TEST(Json, RejectsDuplicateKeys) {
  ParseError err;
  EXPECT_FALSE(parses(R"({"a":1,"a":2})", &err));
  EXPECT_EQ(err.issueType, "structure");
  EXPECT_EQ(err.code, "parse.json.duplicate-key");
}

TEST(Json, RejectsDuplicateKeysInLargeObjects) {
  std::string s = "{";
  for (int i = 0; i < 100; ++i) s += "\"k" + std::to_string(i) + "\":1,";
  s += "\"k57\":2}";
  ParseError err;
  EXPECT_FALSE(parses(s, &err));
  EXPECT_EQ(err.code, "parse.json.duplicate-key");
}

TEST(Json, RejectsDeepNesting) {
  std::string s(65, '[');
  s += std::string(65, ']');
  ParseError err;
  EXPECT_FALSE(parses(s, &err));
  EXPECT_EQ(err.issueType, "too-long");
  std::string ok(64, '[');
  ok += std::string(64, ']');
  EXPECT_TRUE(parses(ok));
}

TEST(Json, DeepNestingDoesNotOverflowTheStack) {
  std::string s(200000, '[');
  ParseError err;
  EXPECT_FALSE(parses(s, &err));
}

TEST(Json, RejectsInvalidUtf8TrailingGarbageCommentsAndNaN) {
  ParseError err;
  EXPECT_FALSE(parses("{\"a\":\"\xff\"}", &err));
  EXPECT_EQ(err.code, "parse.json.encoding");
  EXPECT_FALSE(parses("{\"a\":1} x", &err));
  EXPECT_EQ(err.code, "parse.json.trailing-content");
  EXPECT_FALSE(parses("{\"a\":1 /* c */}", &err));
  EXPECT_FALSE(parses("{\"a\":NaN}", &err));
  EXPECT_FALSE(parses("", &err));
}

// Found by fuzzing (tests/fuzz/json_fuzz.cc): a lone surrogate escape was taken and became
// bytes that are not UTF-8, which the writer then sent out and the reader itself refused.
TEST(Json, RejectsLoneSurrogateEscapesAndKeepsPairs) {
  ParseError err;
  for (const char* lone : {R"({"a":"\udc00"})", R"({"a":"x\ude00y"})", R"({"\udfff":1})",
                           R"({"a":"\ud800"})", R"({"a":"\ud800x"})"}) {
    EXPECT_FALSE(parses(lone, &err)) << lone;
    EXPECT_EQ(err.code, "parse.json.encoding") << lone;
  }
  Value v;
  ASSERT_TRUE(parse(R"({"a":"\ud83d\ude00 \ud7ff \ue000"})", v, err)) << err.message;
  EXPECT_EQ(v.getString("a"), "\xf0\x9f\x98\x80 \xed\x9f\xbf \xee\x80\x80");
  Value again;
  EXPECT_TRUE(parse(write(v), again, err));
}

TEST(Json, RejectsOverlongNumbers) {
  ParseError err;
  EXPECT_FALSE(parses("{\"a\":" + std::string(65, '1') + "}", &err));
  EXPECT_EQ(err.issueType, "value");
  EXPECT_TRUE(parses("{\"a\":" + std::string(64, '1') + "}"));
}

TEST(Json, EscapesOnWrite) {
  Value v = Value::makeObject();
  v.set("s", Value::makeString("a\"b\\c\n</script>"));
  Value back;
  ParseError err;
  ASSERT_TRUE(parse(write(v), back, err));
  EXPECT_EQ(back.getString("s"), "a\"b\\c\n</script>");
}

TEST(Json, EqualityIgnoresMemberOrder) {
  Value a, b;
  ParseError err;
  ASSERT_TRUE(parse(R"({"x":1,"y":[1,2]})", a, err));
  ASSERT_TRUE(parse(R"({"y":[1,2],"x":1})", b, err));
  EXPECT_EQ(a, b);
  ASSERT_TRUE(parse(R"({"y":[2,1],"x":1})", b, err));
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace acp::json
