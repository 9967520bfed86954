// Hostile input: random bytes and mutated spec examples never crash, never throw, and always
// give either a usable message or an error with an ACK that parses back.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "gateway/hl7v2/ack.h"
#include "gateway/hl7v2/parser.h"
#include "tests/hl7v2/samples.h"

namespace acp::hl7v2 {
namespace {

// Reads every part of every segment the way a mapper would (at most 50 of each level, and
// one past the end).
size_t touchEverything(const Message& m) {
  auto cap = [](int n) { return n < 50 ? n : 50; };
  size_t bytes = 0;
  for (size_t i = 0; i < m.segmentCount(); ++i) {
    Segment s = m.segment(i);
    for (int f = 0; f <= s.fieldCount() + 1; ++f) {
      int reps = cap(s.repetitionCount(f));
      for (int r = 1; r <= reps + 1; ++r) {
        int comps = cap(s.componentCount(f, r));
        for (int c = 1; c <= comps + 1; ++c) {
          int subs = cap(s.subcomponentCount(f, r, c));
          for (int k = 1; k <= subs + 1; ++k) bytes += s.text(f, r, c, k).size();
        }
      }
    }
  }
  return bytes;
}

void checkOutcome(const ParseResult& r) {
  if (r.ok()) {
    EXPECT_FALSE(r.message.empty());
    EXPECT_EQ(r.message.segment(0).id(), "MSH");
    touchEverything(r.message);
  } else {
    EXPECT_TRUE(r.message.empty());
    AckOptions o;
    o.timestamp = "20260101000000";
    o.controlId = "K";
    std::string ack = buildParseFailureAck(r, o);
    ParseResult back = parse(ack);
    EXPECT_TRUE(back.ok()) << (back.errors.empty() ? "" : back.errors[0].message) << "\n" << ack;
    EXPECT_EQ(back.message.text("MSA", 1), "AR");
  }
}

TEST(Robustness, RandomBytes) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 300);
  for (int i = 0; i < 2000; ++i) {
    std::string s(static_cast<size_t>(length(rng)), '\0');
    for (char& c : s) c = static_cast<char>(byte(rng));
    if (i % 2 == 0) s = "MSH|^~\\&|" + s;  // get past the first check half of the time
    checkOutcome(parse(s));
  }
}

TEST(Robustness, MutatedExamples) {
  std::mt19937 rng(987);
  static const char kAlphabet[] = "|^~\\&\r\nXFSTRE.br0123456789AZ \xC3\xA9\xE9\x00\x01\"";
  const std::string alphabet(kAlphabet, sizeof(kAlphabet) - 1);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  size_t parsedOk = 0;
  for (const auto* sample : {&testing::kAdmit, &testing::kDischarge, &testing::kRespect}) {
    const std::string base = testing::join(*sample);
    std::uniform_int_distribution<size_t> where(0, base.size() - 1);
    for (int i = 0; i < 1500; ++i) {
      std::string s = base;
      int edits = 1 + i % 8;
      for (int e = 0; e < edits; ++e) {
        size_t at = where(rng) % s.size();
        switch ((i + e) % 3) {
          case 0:
            s[at] = alphabet[pick(rng)];
            break;
          case 1:
            s.insert(at, 1, alphabet[pick(rng)]);
            break;
          default:
            s.erase(at, 1 + at % 5);
            break;
        }
        if (s.empty()) s = "x";
      }
      ParseResult r = parse(s);
      parsedOk += r.ok();
      checkOutcome(r);
    }
  }
  EXPECT_GT(parsedOk, 0u);  // the mutations leave many messages readable
}

TEST(Robustness, TruncatedAtEveryByte) {
  const std::string base = testing::join(testing::kAdmit);
  for (size_t n = 0; n <= base.size(); ++n) checkOutcome(parse(base.substr(0, n)));
}

TEST(Robustness, PathologicalShapes) {
  const std::string msh = "MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.4\r";
  // Many delimiters in one field, deep nesting, long escapes, lone escape characters.
  checkOutcome(parse(msh + "NTE|" + std::string(60000, '^') + "\r"));
  checkOutcome(parse(msh + "NTE|" + std::string(60000, '~') + "\r"));
  checkOutcome(parse(msh + "NTE|" + std::string(60000, '\\') + "\r"));
  checkOutcome(parse(msh + "NTE|\\X" + std::string(60000, 'A') + "\\\r"));
  checkOutcome(parse(msh + std::string(100000, '\r')));
  checkOutcome(parse(msh + std::string(100000, ' ')));
  checkOutcome(parse(std::string(100000, '\n') + msh));
  ParseResult r = parse(msh + "NTE|" + std::string(60000, '^') + "\r");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message.first("NTE").componentCount(1), 60001);
  EXPECT_EQ(r.message.text("NTE", 1, 1, 60001), "");
}

}  // namespace
}  // namespace acp::hl7v2
