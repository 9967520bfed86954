// ScopeSet — SMART on FHIR system scopes, v1 and v2 syntax, and what they allow.
//
// Accepted forms (anything else is ignored when parsing a grant, and refused when a client
// asks for it at POST /token):
//   v1: system/<Type|*>.<read|write|*>          read = read, vread, search, history
//                                               write = create, update, delete
//   v2: system/<Type|*>.<letters>               letters a subset of "cruds" in that order:
//                                               c create, r read/vread/history, u update,
//                                               d delete, s search
// v2 granular scopes with a query (system/Observation.rs?category=...) are not supported:
// they are ignored (never widened to the whole type).
// Operations map to interactions: $acp-summary needs Patient and CarePlan read;
// $ingest/<partner> needs write on the types it writes (checked as "*" write by the caller).
// Plain value; no thread-safety concerns.
#pragma once

#include <string>
#include <vector>

namespace acp::auth {

enum class Interaction { kCreate, kRead, kUpdate, kDelete, kSearch };

class ScopeSet {
 public:
  ScopeSet() = default;
  // Parses a space-separated scope string; unknown or malformed scopes are skipped and, when
  // `rejected` is given, appended to it.
  static ScopeSet parse(const std::string& scopes, std::vector<std::string>* rejected = nullptr);
  // Everything (the superuser of gateway.auth.mode=none).
  static ScopeSet all();

  bool allows(const std::string& type, Interaction interaction) const;
  // The scopes of `requested` that this set (a client's allowed scopes) covers, in the
  // requested syntax: what a token may be granted. Scopes this set does not cover are dropped.
  ScopeSet grant(const ScopeSet& requested) const;
  // Space-separated, in the order parsed (round-trips parse()).
  std::string toString() const;
  bool empty() const { return scopes_.empty(); }

 private:
  struct Scope {
    std::string text;   // as written
    std::string type;   // resource type or "*"
    unsigned bits = 0;  // 1 << Interaction
  };
  std::vector<Scope> scopes_;
};

}  // namespace acp::auth
