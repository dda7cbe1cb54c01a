#pragma once
// The resident supervisor: `nonaxis-sandbox serve` keeps workers, each holding one
// child already cloned into its namespaces with its filesystem view and egress table
// built, and answers `nonaxis-sandbox run --socket` requests on a local socket. It is
// the same gate and the same confinement as the one-shot CLI (run_session), minus a
// process start and the namespace set-up on the request's path. Only the supervisor
// holds the keys; its clients need none. docs/SANDBOX.md, "Resident supervisor".
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "nonaxis/sandbox/config.hpp"
#include "nonaxis/sandbox/session.hpp"

namespace nonaxis::sandbox {

inline constexpr int kServeProtocolVersion = 1;
inline constexpr std::size_t kMaxRequestFrameBytes = std::size_t{1} << 20;

struct ServeOptions {
  std::string socket_path;
  unsigned workers = 2;              // idle workers kept ready, each with one prepared child
  unsigned max_processes = 32;       // idle plus busy workers: the bound on concurrent requests
  mode_t socket_mode = 0600;         // who may connect: the socket file's rights
  std::optional<gid_t> socket_group;
  bool prepare = true;               // false: every request gets a fresh launch (comparisons)
};

// Runs until SIGINT/SIGTERM. Refuses to start (non-zero, message on stderr) without
// valid keys, a usable MAC layer (or configured degrading), a compilable seccomp
// profile, or the socket. Returns the exit code.
int serve(const ServeOptions& opts, const SandboxConfig& cfg);

// A group given by name or number, for --socket-group.
std::optional<gid_t> group_id(const std::string& name_or_gid);

struct ClientRequest {
  std::string socket_path;
  std::string token_path;
  std::string file_path;
  std::vector<std::string> args;
};

// `run --socket`: opens the token and the content as untrusted files, sends their
// descriptors to the supervisor and returns its answer. SIGINT/SIGTERM ask the
// supervisor to stop the content (its record still comes back).
SessionOutcome run_via_supervisor(const ClientRequest& req);

}  // namespace nonaxis::sandbox
