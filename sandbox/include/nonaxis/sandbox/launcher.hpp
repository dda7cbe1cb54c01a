#pragma once
// Starts approved content in a fresh set of namespaces with every confinement layer,
// then supervises it: captures output with caps, watches canaries, enforces the
// deadline by killing the whole pid namespace, and reports what was applied.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/sandbox/canaries.hpp"
#include "nonaxis/sandbox/config.hpp"
#include "nonaxis/sandbox/content.hpp"
#include "nonaxis/sandbox/exit_codes.hpp"
#include "nonaxis/sandbox/mac.hpp"
#include "nonaxis/sandbox/path_grants.hpp"
#include "nonaxis/sandbox/seccomp_policy.hpp"

namespace nonaxis::sandbox {

struct LaunchRequest {
  const SandboxConfig* config = nullptr;
  const SealedContent* content = nullptr;
  const CompiledSeccomp* seccomp = nullptr;
  MacChoice mac;
  std::string exec_id;                 // names the per-execution directory
  std::string argv0 = "content";
  std::vector<std::string> args;       // after argv0
  std::chrono::milliseconds max_duration{60000};
  std::string etc_hosts;               // pinned allowed hosts
  std::string etc_resolv;              // empty: no resolver inside
  std::vector<PathGrant> path_grants;  // the token's allowed_paths, checked
  int pooled_netns = -1;               // a claimed pre-created network namespace, or -1: a new one
  // Called with the child's network namespace before the child is released; returns
  // "" or an error (then nothing runs). Installs nftables and links.
  std::function<std::string(int netns_fd, int child_pid)> setup_network;
  // Makes the token's spent-nonce mark durable (its fsync), called while the child
  // builds its filesystem view; the child is released to exec only after it returned
  // "". An error kills the child, and the launch fails with kNonceLogFailed.
  std::function<std::string()> make_nonce_durable;
  // Called once the content is running (runner: start the port forwarder).
  std::function<std::string(int netns_fd)> on_running;
  // Called after the content exited, while the namespace can still be read (counters).
  std::function<void(int netns_fd)> on_exit;
  // Run in the post-run helper process (see launch_and_supervise), off the caller's
  // path; `post_run_keep_fd` stays open there (the netns pool's lock).
  std::function<void()> post_run_task;
  int post_run_keep_fd = -1;
};

struct StreamCapture {
  std::string data;            // at most the cap
  std::uint64_t total = 0;     // bytes the program wrote
  bool truncated() const { return total > data.size(); }
};

struct LaunchResult {
  std::optional<Refusal> failure;  // set when nothing ran (setup) or exec failed
  std::string detail;
  int exit_code = 0;               // program's code, 128+signal, or 124 on timeout
  int term_signal = 0;
  bool timed_out = false;
  bool stopped = false;            // the supervisor was asked to stop (SIGINT/SIGTERM)
  std::chrono::microseconds duration{0};
  std::uint32_t layers = 0;        // LayerBit set reported by the child
  int landlock_abi = 0;
  StreamCapture out;
  StreamCapture err;
  std::vector<CanaryTouch> canary_touches;
  std::vector<SeccompDenials::Entry> seccomp_denied;  // calls the profile denied, by name
  std::uint64_t seccomp_denied_other = 0;             // beyond SeccompDenials::kMaxDistinct names
  std::vector<std::string> canary_names;
  std::vector<std::pair<std::string, double>> phases_ms;  // where the launch time went
};

// The caller must ignore SIGPIPE (nonaxis-sandbox's main does).
LaunchResult launch_and_supervise(const LaunchRequest& req);

// Names of the LayerBits set in `layers`, for the record.
std::vector<std::string> layer_names(std::uint32_t layers);

}  // namespace nonaxis::sandbox
