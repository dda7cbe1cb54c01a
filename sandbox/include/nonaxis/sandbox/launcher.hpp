#pragma once
// Starts approved content in a fresh set of namespaces with every confinement layer,
// then supervises it: captures output with caps, watches canaries, enforces the
// deadline by killing the whole pid namespace, and reports what was applied.
//
// A launch has two halves. PreparedLaunch::start clones the child into its namespaces
// and has it build its filesystem view: nothing there depends on the token beyond the
// view's inputs. PreparedLaunch::run hands the child the sealed content, its arguments
// and limits, releases it to confine itself and exec, and supervises. The one-shot CLI
// runs both halves back to back (launch_and_supervise); the resident supervisor
// (serve.hpp) runs the first half before a request arrives.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
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

// Bounds of what PreparedLaunch::run hands the child in one message: the argument
// vector (after argv0), as NUL-terminated strings. Larger requests are refused.
inline constexpr std::size_t kMaxArgBytes = 64 * 1024;
inline constexpr std::size_t kMaxArgs = 4096;

struct LaunchRequest {
  // Used by PreparedLaunch::start (the child's namespaces and view): config, seccomp,
  // mac, exec_id, etc_hosts, etc_resolv, path_grants, pooled_netns. The rest is used
  // by PreparedLaunch::run.
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
  // Readable or hung up: stop the content as SIGINT/SIGTERM would (the resident
  // supervisor passes the client's connection). -1: none.
  int stop_fd = -1;
  // Keep the slow last closes (canaries' inotify, the child's mount namespace) and the
  // execution directory's removal until the PreparedLaunch is destroyed, instead of
  // forking the post-run helper: the resident supervisor's worker answers its client
  // first and exits after. post_run_task is then not run.
  bool defer_teardown = false;
};

struct StreamCapture {
  std::string data;            // at most the cap
  std::uint64_t total = 0;     // bytes the program wrote
  bool truncated() const { return total > data.size(); }
};

struct LaunchResult {
  // A launch that ran nothing: the refusal, its detail and its exit code.
  static LaunchResult refused(Refusal r, std::string detail) {
    LaunchResult res;
    res.failure = r;
    res.detail = std::move(detail);
    res.exit_code = code(r);
    return res;
  }
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

// A child cloned into fresh namespaces whose filesystem view is built (or being
// built), waiting for its content. Single use. Destroying it without run() kills the
// child and removes the execution directory.
class PreparedLaunch {
 public:
  // Starts the first half. On failure returns nullptr and fills `failure`.
  static std::unique_ptr<PreparedLaunch> start(const LaunchRequest& req, LaunchResult& failure);
  ~PreparedLaunch();
  PreparedLaunch(const PreparedLaunch&) = delete;
  PreparedLaunch& operator=(const PreparedLaunch&) = delete;

  // True when `req` would have built exactly this child: the same view inputs, MAC,
  // seccomp program and a namespace of its own (not a pooled one).
  bool fits(const LaunchRequest& req) const;
  const std::string& exec_id() const;
  // True when the child has built its view and is waiting, alive, for run(). Waits at
  // most `timeout_ms` for the view. A resident supervisor checks this before it
  // spends a token's nonce on this child.
  bool ready(int timeout_ms);
  // Runs `setup` (nftables, links) on the child's network namespace now, before the
  // request: run() then skips its own setup_network.
  std::string setup_network_early(const std::function<std::string(int netns_fd, int child_pid)>& setup);
  // The second half. Call once.
  LaunchResult run(const LaunchRequest& req);

 private:
  struct State;
  explicit PreparedLaunch(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

// "" when `args` fit in one release message (kMaxArgs, kMaxArgBytes), else why not.
std::string check_argument_bounds(const std::vector<std::string>& args);

// Both halves back to back. The caller must ignore SIGPIPE (nonaxis-sandbox's main does).
LaunchResult launch_and_supervise(const LaunchRequest& req);

// Names of the LayerBits set in `layers`, for the record.
std::vector<std::string> layer_names(std::uint32_t layers);

}  // namespace nonaxis::sandbox
