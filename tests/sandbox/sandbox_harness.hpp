#pragma once
#include "scratch_dir.hpp"
// Shared helpers for the sandbox tests: temp state dirs, token issuing, and running
// the real nonaxis-sandbox binary (its CLI is the contract under test).
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/keys.hpp"
#include "nonaxis/bus/token.hpp"
#include "nonaxis/sandbox/netns_pool.hpp"

namespace nonaxis::sandbox::testing {

inline const std::string kTokenSecret = "sandbox-test-token-secret-0123456789abcdef";
inline const std::string kSandboxKey = "sandbox-test-record-key-0123456789abcdefgh";

inline bus::Key token_key() { return bus::KeyRing::from_secret("T", kTokenSecret).current(); }

// A fresh directory the sandbox uid can traverse (0711), removed at scope exit.
class TempDir {
 public:
  TempDir() : dir_("nonaxis-sbx", 0711) {}
  // A state directory here may hold pre-created network namespaces, pinned by bind
  // mounts that a plain recursive delete cannot remove: drain them first (this waits
  // for a refill still running in the background).
  ~TempDir() {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir_.path(), ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it.depth() > 2) it.disable_recursion_pending();
      if (it->path().filename() == "netns-pool" && it->is_directory()) NetnsPool(it->path()).drain();
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return dir_.path(); }

 private:
  nonaxis::testing::ScratchDir dir_;
};

inline void set_test_keys() {
  ::setenv("ARBITER_TOKEN_SECRET", kTokenSecret.c_str(), 1);
  ::setenv("GOVERNANCE_SIGNING_KEY_SANDBOX", kSandboxKey.c_str(), 1);
}

inline void write_file(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

inline std::filesystem::path write_token(const std::filesystem::path& dir, const bus::Json& token) {
  static int n = 0;
  const auto p = dir / ("token-" + std::to_string(++n) + ".json");
  write_file(p, token.dump());
  return p;
}

inline bus::Json issue(const std::string& content_hash, std::vector<std::string> hosts = {},
                       std::optional<long long> max_duration = std::nullopt,
                       const std::string& action = "exec_unfamiliar",
                       std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
  bus::TokenGrant g;
  g.action_type = action;
  g.content_hash = content_hash;
  g.allowed_hosts = std::move(hosts);
  g.max_duration_seconds = max_duration;
  return bus::issue_token(token_key(), g, now);
}

struct RunResult {
  int exit_code = -1;
  bus::Json doc;        // parsed --json output (null if none)
  std::string out_raw;  // stdout as printed
  std::string err_raw;  // stderr (events)
};

// Runs `bin` with `args` and extra environment; captures both streams.
inline RunResult run_program(const std::string& bin, const std::vector<std::string>& args,
                             const std::vector<std::string>& extra_env = {}) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    for (const auto& e : extra_env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  RunResult r;
  bool o = true, e = true;
  char buf[65536];
  while (o || e) {
    pollfd fds[2] = {{o ? out[0] : -1, POLLIN, 0}, {e ? err[0] : -1, POLLIN, 0}};
    ::poll(fds, 2, -1);
    if (fds[0].revents != 0) {
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) o = false; else r.out_raw.append(buf, static_cast<std::size_t>(n));
    }
    if (fds[1].revents != 0) {
      const ssize_t n = ::read(err[0], buf, sizeof buf);
      if (n <= 0) e = false; else r.err_raw.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(out[0]);
  ::close(err[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  try {
    r.doc = bus::Json::parse(r.out_raw);
  } catch (...) {
  }
  return r;
}

// A `nonaxis-sandbox serve` process for a test: started with `flags` and `env`, its
// output in <dir>/serve.log; SIGTERM and reaped at scope exit.
class Supervisor {
 public:
  Supervisor(const std::filesystem::path& dir, const std::vector<std::string>& flags,
             const std::vector<std::string>& env = {});
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  const std::string& socket() const { return socket_; }
  bool started() const { return started_; }
  pid_t pid() const { return pid_; }
  // Sends SIGTERM and waits (at most 20 s); returns the exit status.
  int stop();

 private:
  std::string socket_;
  pid_t pid_ = -1;
  bool started_ = false;
};

// NONAXIS_TEST_SANDBOX_SERVE=1 (set by CMake for the "sandbox.served." copy of the
// confinement suite): ProbeRun sends every run through a resident
// supervisor started with the run's config flags and environment.
inline bool served_mode() {
  const char* v = std::getenv("NONAXIS_TEST_SANDBOX_SERVE");
  return v != nullptr && std::string(v) == "1";
}

// Runs nonaxis-sandbox with `args` and extra environment; captures both streams.
inline RunResult run_sandbox(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
  return run_program(NONAXIS_SANDBOX_BIN, args, extra_env);
}

// Fixture-free helper: run `probe_args` of the probe binary under a fresh token.
struct ProbeRun {
  TempDir dir;
  std::filesystem::path state() const { return dir.path() / "state"; }
  RunResult run(const std::vector<std::string>& probe_args, std::vector<std::string> hosts = {},
                std::optional<long long> max_duration = std::nullopt, std::vector<std::string> extra_flags = {},
                std::vector<std::string> env = {}) {
    set_test_keys();
    const std::string probe = NONAXIS_PROBE_BIN;
    const std::string hash = "sha256:" + file_sha256(probe);
    const auto tok = write_token(dir.path(), issue(hash, std::move(hosts), max_duration));
    std::vector<std::string> args = {"run", "--json", "--token", tok.string(), "--file", probe};
    std::vector<std::string> config = {"--state-dir", state().string()};
    config.insert(config.end(), extra_flags.begin(), extra_flags.end());
    if (served_mode()) {
      if (!supervisor || supervisor_config != config || supervisor_env != env) {
        supervisor.reset();
        supervisor = std::make_unique<Supervisor>(dir.path(), config, env);
        supervisor_config = config;
        supervisor_env = env;
      }
      args.insert(args.end(), {"--socket", supervisor->socket()});
    } else {
      args.insert(args.end(), config.begin(), config.end());
    }
    args.push_back("--");
    args.insert(args.end(), probe_args.begin(), probe_args.end());
    return run_sandbox(args, served_mode() ? std::vector<std::string>{} : env);
  }
  static std::string file_sha256(const std::string& path);
  // Served mode: the supervisor answers before its worker removes the execution
  // directory; this waits (at most 5 s) until `path` is gone.
  static bool eventually_gone(const std::filesystem::path& path);

  std::unique_ptr<Supervisor> supervisor;  // destroyed before `dir`
  std::vector<std::string> supervisor_config, supervisor_env;
};

}  // namespace nonaxis::sandbox::testing
