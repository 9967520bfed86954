// Fuzz target: the acute hospital's HL7 v2 messages (mappings/acute): parser and mapper, as
// the MLLP listener and POST /$ingest/hl7v2 run them. Contract: tests/fuzz/partner_fuzz.h.
#include "mappings/acute/acute_mapper.h"
#include "tests/fuzz/partner_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace acp;
  const auto& partner = fuzz::partnerOnce<mappings::acute::AcutePartner>([] {
    return mappings::acute::AcutePartner::create(fuzz::sourcePath("mappings/acute/conceptmaps"));
  });
  fuzz::mapAndCheck(partner, fuzz::bytes(data, size));
  return 0;
}
