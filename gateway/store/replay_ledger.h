// ReplayLedger — the client assertion ids ("jti") already used at POST /token, kept in the
// store so that a signed assertion is accepted once only, across restarts and by every
// gateway process sharing the database (auth/replay_guard.h explains the use; app/ adapts
// this interface to auth::ReplayGuard, so neither folder depends on the other).
//
// firstUse() inserts (clientId, jti) under a unique key: true when inserted, false when the
// pair is already there (a replay) — one insert-or-fail, so concurrent callers cannot both
// get true. Rows whose keepUntilMs is before nowMs are purged by the same call.
// Thread-safety: implementations are safe to call from any thread.
// Errors: a non-ok Result when the store fails (the caller must then refuse: fail closed).
#pragma once

#include <cstdint>
#include <string>

#include "gateway/core/status.h"

namespace acp::store {

class ReplayLedger {
 public:
  virtual ~ReplayLedger() = default;
  virtual Result<bool> firstUse(const std::string& clientId, const std::string& jti,
                                int64_t keepUntilMs, int64_t nowMs) = 0;
};

}  // namespace acp::store
