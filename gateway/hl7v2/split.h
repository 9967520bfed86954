// Splitting helpers shared by the parser and Message (internal to gateway/hl7v2).
// All work on views and never allocate. Thread-safety: stateless.
#pragma once

#include <cstring>
#include <string_view>

#include "gateway/hl7v2/delimiters.h"

namespace acp::hl7v2::detail {

// The n-th (1-based) piece of `s` split on `delim`; empty when there is no such piece.
inline std::string_view piece(std::string_view s, char delim, int n) {
  if (n < 1) return {};
  const char* p = s.data();
  const char* end = p + s.size();
  for (; n > 1; --n) {
    const void* hit = p < end ? std::memchr(p, delim, static_cast<size_t>(end - p)) : nullptr;
    if (hit == nullptr) return {};
    p = static_cast<const char*>(hit) + 1;
  }
  const void* hit = p < end ? std::memchr(p, delim, static_cast<size_t>(end - p)) : nullptr;
  const char* stop = hit ? static_cast<const char*>(hit) : end;
  return std::string_view(p, static_cast<size_t>(stop - p));
}

// Number of pieces of `s` split on `delim`; 0 for an empty `s`.
inline int pieceCount(std::string_view s, char delim) {
  if (s.empty()) return 0;
  int n = 1;
  for (char c : s) n += c == delim;
  return n;
}

// Descends from a field to a repetition, component and subcomponent; a number <= 0 stops the
// descent and returns the piece reached so far.
inline std::string_view navigate(std::string_view field, const Delimiters& d, int repetition,
                                 int component, int subcomponent) {
  if (repetition <= 0) return field;
  std::string_view r = piece(field, d.repetition, repetition);
  if (component <= 0) return r;
  std::string_view c = piece(r, d.component, component);
  if (subcomponent <= 0) return c;
  return piece(c, d.subcomponent, subcomponent);
}

}  // namespace acp::hl7v2::detail
