#pragma once
// Mandatory access control for the content: AppArmor when the kernel has it (profile
// from profiles/apparmor/, entered at exec with aa_change_onexec), otherwise a
// Landlock ruleset. The choice is made by the trusted supervisor and reported.
#include <cstddef>
#include <string>

namespace nonaxis::sandbox {

enum class MacKind { kAppArmor, kLandlock, kNone };
const char* to_string(MacKind k);

struct MacChoice {
  MacKind kind = MacKind::kNone;
  std::string apparmor_profile;  // for kAppArmor
  int landlock_abi = 0;          // best ABI the kernel offers, for kLandlock
  bool degraded = false;         // kNone by explicit configuration
  std::string detail;
};

// Landlock ABI version offered by the running kernel, 0 if none.
int landlock_abi_version();

// True when AppArmor is enabled and `profile` is loaded (either mode).
bool apparmor_profile_loaded(const std::string& profile);
bool apparmor_enabled();

// Loads every profile file in `dir` with apparmor_parser -r (enforce mode) or -C
// (complain). Returns "" or an error sentence.
std::string load_apparmor_profiles(const std::string& dir, bool complain);

// Loads one generated profile `text` named `name` in enforce mode (apparmor_parser -r,
// includes resolved in `include_dir`), through a file in `scratch_dir`.
std::string load_apparmor_profile_text(const std::string& include_dir, const std::string& name, const std::string& text,
                                       const std::string& scratch_dir);

// A path the Landlock ruleset opens to the content beyond the fixed view (a token's
// allowed_paths); plain C types, since the ruleset is built between clone and exec.
struct LandlockGrant {
  const char* path;
  bool writable;
  bool is_dir;
};

// Child side. Creates the ruleset (read-only system paths, read-write workspace and
// /tmp, nothing else) and restricts the calling thread. Returns 0 or -errno; sets
// *abi_used to the ABI enforced. Must run after pivot_root and no_new_privs.
int apply_landlock(int abi, int* abi_used, const LandlockGrant* grants = nullptr, std::size_t n_grants = 0);

// Child side: asks AppArmor to switch to `profile` at the next exec. Returns 0 or -errno.
int apparmor_change_onexec(const char* profile);

}  // namespace nonaxis::sandbox
