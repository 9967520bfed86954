// Fuzz target: the hospice JSON export (mappings/hospice): parser and mapper, as
// POST /$ingest/hospice runs them. Contract: tests/fuzz/partner_fuzz.h.
#include "mappings/hospice/hospice_mapper.h"
#include "tests/fuzz/partner_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace acp;
  const auto& partner = fuzz::partnerOnce<mappings::hospice::HospicePartner>([] {
    return mappings::hospice::HospicePartner::create(fuzz::sourcePath("mappings/hospice/conceptmaps"));
  });
  fuzz::mapAndCheck(partner, fuzz::bytes(data, size));
  return 0;
}
