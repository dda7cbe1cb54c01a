#pragma once
// The spent-nonce log (ADR-006: "token nonce log must persist across restarts").
// One file per spent nonce, <nonce>.spent, whose modification time is the token's
// expiry. The name is created with linkat(2), which fails if it exists, so two
// sandboxes racing on the same token cannot both win; one directory fsync makes it
// durable before anything executes.
#include <chrono>
#include <filesystem>
#include <string>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {

enum class SpendResult { kSpent, kReplayed, kExpired };

// spend() in two steps, so that its one fsync can overlap the launch's preparation.
// For kSpent, the mark's name exists (no other sandbox can claim the nonce) and the
// store's shared lock is held until commit() makes the name durable. Nothing may
// execute before commit() has returned.
struct SpendClaim {
  SpendResult result = SpendResult::kExpired;
  UniqueFd held_lock;
  UniqueFd dir;
  // Throws std::system_error if the mark could not be made durable (the caller must
  // then refuse to run). Releases the lock. Does nothing unless result is kSpent.
  void commit();
};

class NonceStore {
 public:
  // Creates `dir` (0700) if needed.
  explicit NonceStore(std::filesystem::path dir);

  // Marks `nonce` (a UUID) spent, for a token expiring at `expires_at` (RFC 3339).
  // Returns kReplayed if it was spent before, and kExpired (writing nothing) if `now`
  // is past the expiry plus `skew`: the expiry is checked again here, under the
  // store's shared lock, so a concurrent prune can never forget a nonce whose token
  // is still usable. Throws std::system_error if the mark could not be made durable:
  // the caller must then refuse to run, since an undurable mark would allow a replay
  // after a crash. Exactly one fsync (of the directory).
  SpendResult spend(const std::string& nonce, const std::string& token_id, const std::string& expires_at,
                    bus::SysTime now, std::chrono::seconds skew = std::chrono::seconds{5});

  // spend() without its fsync: the caller commits the claim before anything runs.
  SpendClaim claim(const std::string& nonce, const std::string& token_id, const std::string& expires_at,
                   bus::SysTime now, std::chrono::seconds skew = std::chrono::seconds{5});

  bool is_spent(const std::string& nonce) const;

  // Removes marks whose token expired more than `grace` before `now` (grace is at
  // least the skew spend() allows, so a removed nonce's token is refused as expired).
  // Holds the exclusive lock, so no spend() is between its expiry check and its mark.
  // Each removal is one atomic unlink: a crash at any point leaves every mark of an
  // unexpired token in place. Returns the number removed.
  std::size_t prune(bus::SysTime now, std::chrono::seconds grace);

  // prune() at most once per `interval` (stamp file .pruned), skipped if another
  // process holds the lock. For the routine call after each execution.
  std::size_t prune_if_due(bus::SysTime now, std::chrono::seconds grace, std::chrono::seconds interval);

 private:
  std::filesystem::path path_for(const std::string& nonce) const;
  UniqueFd lock(int how) const;
  std::filesystem::path dir_;
};

}  // namespace nonaxis::sandbox
