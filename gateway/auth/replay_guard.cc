#include "gateway/auth/replay_guard.h"

namespace acp::auth {

Result<bool> MemoryReplayGuard::firstUse(const std::string& clientId, const std::string& jti,
                                         int64_t expiresAtMs) {
  int64_t now = nowMs_();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = used_.begin(); it != used_.end();) {
    it = it->second < now ? used_.erase(it) : std::next(it);
  }
  return used_.emplace(std::make_pair(clientId, jti), expiresAtMs).second;
}

size_t MemoryReplayGuard::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_.size();
}

}  // namespace acp::auth
