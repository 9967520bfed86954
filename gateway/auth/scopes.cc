#include "gateway/auth/scopes.h"

#include <cstddef>
#include <utility>

namespace acp::auth {

namespace {

constexpr unsigned bit(Interaction i) { return 1u << static_cast<unsigned>(i); }

constexpr unsigned kRead = bit(Interaction::kRead) | bit(Interaction::kSearch);
constexpr unsigned kWrite =
    bit(Interaction::kCreate) | bit(Interaction::kUpdate) | bit(Interaction::kDelete);
constexpr unsigned kAll = kRead | kWrite;
// v2 letters in their required order; letter i stands for Interaction i.
constexpr char kLetters[] = "cruds";

bool validType(const std::string& t) {
  if (t == "*") return true;
  if (t.empty() || t.size() > 64 || t[0] < 'A' || t[0] > 'Z') return false;
  for (char c : t) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

// The interaction bits of a v2 letter string, or 0 when it is not one (empty, out of order,
// repeated or unknown letters).
unsigned v2Bits(const std::string& s) {
  unsigned bits = 0;
  size_t next = 0;  // letters must come in kLetters order, each at most once
  for (char c : s) {
    size_t at = next;
    while (at < 5 && kLetters[at] != c) ++at;
    if (at == 5) return 0;
    bits |= 1u << at;
    next = at + 1;
  }
  return bits;
}

std::string v2Text(unsigned bits) {
  std::string out;
  for (unsigned i = 0; i < 5; ++i) {
    if (bits & (1u << i)) out += kLetters[i];
  }
  return out;
}

std::string render(const std::string& type, unsigned bits, bool v2) {
  std::string suffix;
  if (!v2 && bits == kRead) {
    suffix = "read";
  } else if (!v2 && bits == kWrite) {
    suffix = "write";
  } else if (!v2 && bits == kAll) {
    suffix = "*";
  } else {
    suffix = v2Text(bits);
  }
  return "system/" + type + "." + suffix;
}

}  // namespace

void ScopeSet::add(Scope scope) {
  for (const auto& s : scopes_) {
    if (s.text == scope.text) return;
  }
  scopes_.push_back(std::move(scope));
}

ScopeSet ScopeSet::parse(const std::string& scopes, std::vector<std::string>* rejected) {
  ScopeSet out;
  size_t i = 0;
  while (i < scopes.size()) {
    if (scopes[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = scopes.find(' ', i);
    if (end == std::string::npos) end = scopes.size();
    std::string text = scopes.substr(i, end - i);
    i = end;

    Scope s;
    s.text = text;
    bool ok = false;
    const std::string prefix = "system/";
    size_t dot = text.rfind('.');
    if (text.compare(0, prefix.size(), prefix) == 0 && dot != std::string::npos &&
        dot > prefix.size()) {
      s.type = text.substr(prefix.size(), dot - prefix.size());
      std::string what = text.substr(dot + 1);
      if (validType(s.type)) {
        if (what == "read") {
          s.bits = kRead;
        } else if (what == "write") {
          s.bits = kWrite;
        } else if (what == "*") {
          s.bits = kAll;
        } else {
          s.bits = v2Bits(what);
          s.v2 = true;
        }
        ok = s.bits != 0;
      }
    }
    if (ok) {
      out.add(std::move(s));
    } else if (rejected) {
      rejected->push_back(text);
    }
  }
  return out;
}

ScopeSet ScopeSet::all() { return parse("system/*.*"); }

bool ScopeSet::allows(const std::string& type, Interaction interaction) const {
  for (const auto& s : scopes_) {
    if ((s.bits & bit(interaction)) && (s.type == "*" || s.type == type)) return true;
  }
  return false;
}

ScopeSet ScopeSet::grant(const ScopeSet& requested) const {
  ScopeSet out;
  for (const auto& r : requested.scopes_) {
    // Covered whole: every interaction it names is allowed for its type (for "*", by
    // scopes of this set that are themselves for every type).
    unsigned covered = 0;
    for (const auto& a : scopes_) {
      if (a.type == "*" || a.type == r.type) covered |= a.bits & r.bits;
    }
    if (covered == r.bits) {
      out.add(r);
      continue;
    }
    // Narrowed: the part of each allowed scope inside the requested one, merged per type
    // in the order this set names them.
    std::vector<std::pair<std::string, unsigned>> parts;
    for (const auto& a : scopes_) {
      std::string type;
      if (r.type == "*") {
        type = a.type;
      } else if (a.type == "*" || a.type == r.type) {
        type = r.type;
      } else {
        continue;
      }
      unsigned bits = a.bits & r.bits;
      if (bits == 0) continue;
      bool merged = false;
      for (auto& p : parts) {
        if (p.first == type) {
          p.second |= bits;
          merged = true;
        }
      }
      if (!merged) parts.emplace_back(type, bits);
    }
    for (const auto& [type, bits] : parts) {
      Scope s;
      s.type = type;
      s.bits = bits;
      // v1 can say read, write and * only; anything else is written in v2 letters.
      s.v2 = r.v2 || !(bits == kRead || bits == kWrite || bits == kAll);
      s.text = render(type, bits, s.v2);
      out.add(std::move(s));
    }
  }
  return out;
}

std::string ScopeSet::toString() const {
  std::string out;
  for (const auto& s : scopes_) {
    if (!out.empty()) out += ' ';
    out += s.text;
  }
  return out;
}

}  // namespace acp::auth
