#pragma once
// The filesystem the content sees (built in the child's own mount namespace): a
// read-only tmpfs root holding read-only binds of the system directories, a
// generated /etc, a few device nodes, a private /proc, a tmpfs /tmp, and the fresh
// per-execution workspace at /work. Nothing else of the host is reachable.
#include <string>
#include <vector>

#include "nonaxis/sandbox/path_grants.hpp"

namespace nonaxis::sandbox {

struct FsViewSpec {
  std::string new_root;        // host path of an empty directory to build the view on
  std::string workspace;       // host path of the per-execution workspace (0700)
  std::string etc_hosts;       // contents of /etc/hosts (pinned allowed hosts)
  std::string etc_resolv;      // contents of /etc/resolv.conf; empty = no file (no DNS)
  unsigned long long tmp_bytes = 64ULL << 20;
  std::vector<PathGrant> grants;  // a token's allowed_paths, each at its own path
};

// Runs in the child. Returns nullptr on success or the name of the failed step
// (errno set). Leaves the process chrooted (pivot_root) with cwd /work.
const char* build_fs_view(const FsViewSpec& spec);

// Host system directories bound read-only (or re-created as symlinks when the host
// has merged-/usr symlinks).
const std::vector<std::string>& system_dirs();

}  // namespace nonaxis::sandbox
