#pragma once
// The spent-nonce log (ADR-006: "token nonce log must persist across restarts").
// One file per spent nonce, created with link(2) so that two sandboxes racing on
// the same token cannot both win, and made durable before anything executes.
#include <filesystem>
#include <string>

#include "nonaxis/bus/clock.hpp"

namespace nonaxis::sandbox {

enum class SpendResult { kSpent, kReplayed };

class NonceStore {
 public:
  // Creates `dir` (0700) if needed.
  explicit NonceStore(std::filesystem::path dir);

  // Marks `nonce` (a UUID) spent. Returns kReplayed if it was spent before. Throws
  // std::system_error if the mark could not be made durable: the caller must then
  // refuse to run, since an undurable mark would allow a replay after a crash.
  SpendResult spend(const std::string& nonce, const std::string& token_id, const std::string& expires_at,
                    bus::SysTime now);

  bool is_spent(const std::string& nonce) const;

  // Removes marks whose token expired more than `grace` before `now`: such a token
  // is refused as expired anyway, so its nonce no longer needs remembering.
  std::size_t prune(bus::SysTime now, std::chrono::seconds grace);

 private:
  std::filesystem::path path_for(const std::string& nonce) const;
  std::filesystem::path dir_;
};

}  // namespace nonaxis::sandbox
