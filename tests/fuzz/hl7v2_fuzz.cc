// Fuzz target: the HL7 v2 parser (gateway/hl7v2/parser.h) and the ACK the gateway answers
// with (ack.h), for every message an MLLP connection or POST /$ingest/hl7v2 delivers.
// Contract: never a crash; a refused message has an error; the ACK built for any input —
// AR for a refusal, AA or AE for a parsed message with the parser's warnings — is itself a
// message the parser accepts, framable over MLLP, whose MSA-1 is the code sent.
#include <string>

#include "gateway/hl7v2/ack.h"
#include "gateway/hl7v2/parser.h"
#include "gateway/mllp/frame_reader.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void checkAck(const std::string& ack, const char* code) {
  using namespace acp;
  acp::fuzz::check(mllp::isFrameable(ack), "the ACK can be framed");
  hl7v2::ParseResult read = hl7v2::parse(ack);
  if (!read.ok()) {
    for (const auto& e : read.errors.items()) std::fprintf(stderr, "ACK: %s\n", e.message.c_str());
    std::fprintf(stderr, "%s\n", ack.c_str());
  }
  acp::fuzz::check(read.ok(), "the ACK parses");
  acp::fuzz::check(read.message.text("MSA", 1) == code, "MSA-1 is the code sent");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace acp;
  hl7v2::AckOptions options;
  options.timestamp = "20261123120000";
  hl7v2::ParseResult result = hl7v2::parse(fuzz::bytes(data, size));
  if (!result.ok()) {
    fuzz::check(result.errors.hasErrors(), "a refusal says why");
    checkAck(hl7v2::buildParseFailureAck(result, options), "AR");
    return 0;
  }
  checkAck(hl7v2::buildAck(result.message, hl7v2::AckCode::kAccept, result.errors, options), "AA");
  checkAck(hl7v2::buildAck(result.message, hl7v2::AckCode::kError, result.errors, options), "AE");
  // Every segment and field the parser reports can be read back without going out of range.
  for (size_t i = 0; i < result.message.segmentCount(); ++i) {
    auto seg = result.message.segment(i);
    (void)seg.text(1);
    (void)seg.text(3, 2, 2, 2);
  }
  return 0;
}
