// Fuzz target: the community trust XML export (mappings/community): the streaming XML parser
// with its schema checks, and the mapper, as POST /$ingest/community runs them.
// Contract: tests/fuzz/partner_fuzz.h.
#include "mappings/community/community_mapper.h"
#include "tests/fuzz/partner_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace acp;
  const auto& partner = fuzz::partnerOnce<mappings::community::CommunityPartner>([] {
    return mappings::community::CommunityPartner::create(fuzz::sourcePath("mappings/community"));
  });
  fuzz::mapAndCheck(partner, fuzz::bytes(data, size));
  return 0;
}
