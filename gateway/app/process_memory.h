#pragma once
// The process's own memory habits (glibc malloc), set once by main().
//
// glibc gives each thread that allocates while another holds an arena an arena of its own, up
// to 8 per core; the gateway's ~25 threads (HTTP, MLLP, audit, store) then keep freed memory
// in up to 16 arenas, each grown to its own high-water mark. Measured on the 100 000-child
// bench database (docs/performance.md): peak RSS 107–113 MB with glibc's default, 82 MB with
// two arenas and the start-up heap returned, reads no slower.

namespace acp::app {

// Caps malloc's arenas at 2 unless MALLOC_ARENA_MAX is set in the environment (which glibc
// has already applied, and which then wins). Call before any thread starts.
void limitMallocArenas();

// Returns the heap freed since start-up (the FHIR definitions are parsed into a tree of ~12 MB
// that is dropped once the model is built) to the kernel: malloc_trim(0). Call once the
// gateway has started.
void releaseFreedMemory();

}  // namespace acp::app
