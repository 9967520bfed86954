#include "gateway/app/process_memory.h"

#include <malloc.h>

#include <cstdlib>

namespace acp::app {

void limitMallocArenas() {
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) return;
  mallopt(M_ARENA_MAX, 2);
}

void releaseFreedMemory() { malloc_trim(0); }

}  // namespace acp::app
