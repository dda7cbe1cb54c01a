#pragma once
// Pre-created network namespaces, each used by exactly one execution. Creating a
// network namespace takes the kernel's rtnl lock, which the asynchronous teardown of
// earlier namespaces holds across RCU grace periods; under load that wait dominated
// the launch. A helper left behind by an earlier launch therefore creates namespaces
// ahead of time (loopback up, the default-drop nftables table installed) and pins each
// one with a bind mount
// at <dir>/<uuid>.ns, offered by the marker <uuid>.free. A launch claims one by
// unlinking the marker (atomic, so never two executions in one namespace), and the
// helper later unmounts and removes claimed entries, so a namespace is never reused.
#include <cstddef>
#include <filesystem>

#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {

class NetnsPool {
 public:
  // Creates `dir` (0700) if needed.
  explicit NetnsPool(std::filesystem::path dir);

  // One pre-created namespace, or an invalid descriptor if the pool is empty. The
  // entry is checked to be a network namespace (nsfs, CLONE_NEWNET).
  UniqueFd claim();

  // Removes claimed and half-made entries, then creates namespaces until `target`
  // (at most 16) are ready. Skipped (returns 0) while another process holds the
  // pool's lock. Returns the number created. It moves the calling thread into each
  // namespace it makes, so only a disposable process calls it.
  std::size_t refill(std::size_t target);

  // The pool's lock if nobody else holds it (invalid otherwise). A launch takes it
  // and hands it to its post-run helper (same open file description), which refills
  // with refill_with_lock_held(): drain() then waits for that helper instead of
  // racing it, and two helpers never refill at once.
  UniqueFd try_lock();
  std::size_t refill_with_lock_held(std::size_t target);

  // Unmounts and removes every entry (waiting for a running refill): for removing a
  // state directory, and for tests. Returns the number removed.
  std::size_t drain();

  std::size_t ready_count() const;

 private:
  UniqueFd lock(int how) const;  // flock on <dir>/.lock; invalid if not taken
  std::filesystem::path dir_;
};

}  // namespace nonaxis::sandbox
