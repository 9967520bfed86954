// ReplayGuard — remembers the "jti" of every client assertion accepted at POST /token, so
// that one signed assertion buys one token only (SMART backend services: "jti" never reused).
//
// firstUse() records (clientId, jti) and answers true the first time, false for every later
// call with the same pair — including two calls racing on different threads or processes
// (exactly one of them gets true). The record is kept at least until `expiresAtMs` (the
// assertion's exp plus the allowed clock skew): after that the assertion itself is refused as
// expired, so the record may be purged.
// Implementations:
//   MemoryReplayGuard   one process, forgotten at a restart (tests; a gateway without a store)
//   FunctionReplayGuard adapts a function — in the gateway, the store's ReplayLedger
//                       (store/replay_ledger.h: the used_assertions table, schema step 10),
//                       which survives restarts and is shared by processes on one database:
//     auth::FunctionReplayGuard guard(
//         [store, now](const std::string& c, const std::string& j, int64_t until) {
//           return store->firstUse(c, j, until, now()); });
//   (auth does not depend on store, nor store on auth: app/ joins them with those lines.)
// Thread-safety: all implementations are safe to call from any thread.
// Errors: a non-ok Result when the guard cannot tell (the store failed): the token endpoint
// then refuses the assertion (fail closed).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "gateway/core/status.h"

namespace acp::auth {

class ReplayGuard {
 public:
  virtual ~ReplayGuard() = default;
  virtual Result<bool> firstUse(const std::string& clientId, const std::string& jti,
                                int64_t expiresAtMs) = 0;
};

class MemoryReplayGuard : public ReplayGuard {
 public:
  // `nowMs` decides which records have expired (purged on each call).
  explicit MemoryReplayGuard(std::function<int64_t()> nowMs) : nowMs_(std::move(nowMs)) {}
  Result<bool> firstUse(const std::string& clientId, const std::string& jti,
                        int64_t expiresAtMs) override;
  size_t size() const;

 private:
  std::function<int64_t()> nowMs_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, int64_t> used_;  // -> expiresAtMs
};

class FunctionReplayGuard : public ReplayGuard {
 public:
  using Fn = std::function<Result<bool>(const std::string& clientId, const std::string& jti,
                                        int64_t expiresAtMs)>;
  explicit FunctionReplayGuard(Fn fn) : fn_(std::move(fn)) {}
  Result<bool> firstUse(const std::string& clientId, const std::string& jti,
                        int64_t expiresAtMs) override {
    return fn_(clientId, jti, expiresAtMs);
  }

 private:
  Fn fn_;
};

}  // namespace acp::auth
