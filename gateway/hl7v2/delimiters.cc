#include "gateway/hl7v2/delimiters.h"

namespace acp::hl7v2 {

std::string Delimiters::encodingCharacters() const {
  std::string s{component, repetition, escape, subcomponent};
  if (truncation != '\0') s += truncation;
  return s;
}

bool Delimiters::isAllowed(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u < 0x21 || u > 0x7E) return false;
  bool alnum = (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z');
  return !alnum;
}

Result<Delimiters> Delimiters::fromMsh(char field, std::string_view msh2) {
  if (!isAllowed(field)) {
    return Status::invalid(
        "MSH-1 (field separator) must be a printable ASCII punctuation "
        "character");
  }
  if (msh2.size() < 4 || msh2.size() > 5) {
    return Status::invalid("MSH-2 (encoding characters) must be 4 characters, e.g. ^~\\&; got " +
                           std::to_string(msh2.size()));
  }
  for (char c : msh2) {
    if (!isAllowed(c)) {
      return Status::invalid(
          "MSH-2 (encoding characters) may hold only printable ASCII "
          "punctuation");
    }
  }
  char all[6] = {field, msh2[0], msh2[1], msh2[2], msh2[3], msh2.size() == 5 ? msh2[4] : '\0'};
  size_t n = msh2.size() + 1;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (all[i] == all[j]) {
        return Status::invalid(
            "MSH-1 and MSH-2 must declare five different delimiter "
            "characters");
      }
    }
  }
  Delimiters d;
  d.field = field;
  d.component = msh2[0];
  d.repetition = msh2[1];
  d.escape = msh2[2];
  d.subcomponent = msh2[3];
  d.truncation = msh2.size() == 5 ? msh2[4] : '\0';
  return d;
}

}  // namespace acp::hl7v2
