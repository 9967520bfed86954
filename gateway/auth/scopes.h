// ScopeSet — SMART on FHIR system scopes, v1 and v2 syntax, and what they allow.
//
// Accepted forms (anything else is ignored when parsing a grant, and refused when a client
// asks for it at POST /token):
//   v1: system/<Type|*>.<read|write|*>          read = read, vread, search, history
//                                               write = create, update, delete
//   v2: system/<Type|*>.<letters>               letters a subset of "cruds" in that order:
//                                               c create, r read/vread/history, u update,
//                                               d delete, s search
// <Type> is a resource type name by its syntax ([A-Z][A-Za-z]{0,63}); whether the gateway
// serves it is the caller's business. Only system/ scopes exist here: patient/ and user/
// scopes, launch scopes and offline_access are not supported (refused like any other).
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
  // `rejected` is given, appended to it. A scope written twice is kept once.
  static ScopeSet parse(const std::string& scopes, std::vector<std::string>* rejected = nullptr);
  // Everything (the superuser of gateway.auth.mode=none): "system/*.*".
  static ScopeSet all();

  bool allows(const std::string& type, Interaction interaction) const;
  // What a token may be granted when a client allowed this set asks for `requested`: each
  // requested scope this set covers, as written; a requested scope it covers only in part is
  // narrowed to the part it covers (system/*.read asked by a client allowed
  // system/CarePlan.rs and system/Patient.read gives system/CarePlan.read and
  // system/Patient.read), written in the requested scope's syntax when that can say it (v1
  // says only read, write and *), else in v2 letters. Requested scopes it does not touch are
  // dropped. Never more than requested, never more than this set allows.
  ScopeSet grant(const ScopeSet& requested) const;
  // Space-separated, in the order parsed (round-trips parse()).
  std::string toString() const;
  bool empty() const { return scopes_.empty(); }

 private:
  struct Scope {
    std::string text;   // as written
    std::string type;   // resource type or "*"
    unsigned bits = 0;  // 1 << Interaction
    bool v2 = false;    // written in v2 letters
  };
  void add(Scope scope);
  std::vector<Scope> scopes_;
};

}  // namespace acp::auth
