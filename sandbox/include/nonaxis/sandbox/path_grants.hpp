#pragma once
// scope.allowed_paths (execution-token schema: "Optional allowlist of filesystem
// paths"): host paths the approved content may reach, each at its own absolute path
// inside the sandbox's view. Entry syntax, decided here because the schema leaves it
// open, least privilege first:
//   "/abs/path" or "ro:/abs/path"   read-only (read files, list directories)
//   "rw:/abs/path"                  read-write (create, write, delete beneath it)
// Never executable: only the hashed content and the system directories run (W^X).
// Enforced three ways: a bind mount (read-only or not, always nosuid,nodev,noexec),
// Landlock rules or a per-grant-set AppArmor profile, and the sandbox uid's own file
// permissions on the host (uid 0 inside is the unprivileged sandbox uid outside).
#include <filesystem>
#include <string>
#include <vector>

namespace nonaxis::sandbox {

inline constexpr std::size_t kMaxPathGrants = 16;

struct PathGrant {
  std::string path;       // absolute, normalised, no symlink on the way
  bool writable = false;
  bool is_dir = true;     // else a regular file
};

// Parses and checks the token's entries on the trusted side: absolute, normalised,
// only [A-Za-z0-9._+@,-] in names (nothing AppArmor or a mount option could read as
// syntax), no symlink anywhere on the host path, an existing directory or regular
// file, not "/", not under /proc, /dev, /sys, /work or /tmp (the sandbox's own
// mounts), never overlapping `state_dir` (nonces, records, keys of other runs), and
// not writable under the executable system directories. Sorted so that a parent is
// mounted before a grant beneath it. Returns "" or the reason for refusing.
std::string plan_path_grants(const std::vector<std::string>& entries, const std::filesystem::path& state_dir,
                             std::vector<PathGrant>& out);

// AppArmor: the text of a profile that adds `grants` to the base rules in
// <apparmor_dir>/nonaxis.d/sandbox-exec-rules, and its name ("<base>-p<16 hex>",
// named by the grants so that equal grant sets share one loaded profile).
std::string apparmor_profile_for_grants(const std::string& base_name, const std::vector<PathGrant>& grants,
                                        std::string& name_out);

}  // namespace nonaxis::sandbox
