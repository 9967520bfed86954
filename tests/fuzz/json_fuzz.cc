// Fuzz target: the JSON reader (gateway/core/json.h), which reads every untrusted JSON body.
// Contract: any bytes give a value or a ParseError with an issue type and a code, never a
// crash; a value read writes back to text that reads to the same value.
#include "gateway/core/json.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace acp;
  json::Value v;
  json::ParseError err;
  if (!json::parse(fuzz::bytes(data, size), v, err)) {
    fuzz::check(!err.issueType.empty() && !err.code.empty(), "a refusal says why");
    return 0;
  }
  fuzz::checkJsonRoundTrip(v);
  return 0;
}
