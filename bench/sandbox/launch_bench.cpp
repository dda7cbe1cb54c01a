// Issue 5 §7: launch overhead of `nonaxis-sandbox run` on /bin/true with every layer
// on, against plain fork/exec, bubblewrap (+ seccomp filter) and firejail, all in the
// same run; then what each layer costs on its own. Prints p50/p90 in milliseconds.
//
// usage: sandbox_launch_bench [iterations]   (needs root; uses a temp state dir)
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/keys.hpp"
#include "nonaxis/bus/token.hpp"
#include "nonaxis/sandbox/config.hpp"
#include "nonaxis/sandbox/content.hpp"
#include "nonaxis/sandbox/egress.hpp"
#include "nonaxis/sandbox/execution_record.hpp"
#include "nonaxis/sandbox/mac.hpp"
#include "nonaxis/sandbox/netns_pool.hpp"
#include "nonaxis/sandbox/nonce_store.hpp"
#include "nonaxis/sandbox/seccomp_policy.hpp"
#include "nonaxis/sandbox/token_gate.hpp"

namespace sb = nonaxis::sandbox;
namespace bus = nonaxis::bus;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kSecret = "bench-token-secret-0123456789abcdef0123456789";
const std::string kRecordKey = "bench-record-key-0123456789abcdef0123456789";

struct Stats {
  double p50, p90;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))]; };
  return {at(0.5), at(0.9)};
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// fork + exec + wait; stdout/stderr to /dev/null. Returns exit status or -1.
int spawn(const std::vector<std::string>& argv, const std::function<void()>& in_child = {}) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int dn = ::open("/dev/null", O_WRONLY);
    ::dup2(dn, 1);
    ::dup2(dn, 2);
    if (in_child) in_child();
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Idle time between two timed launches (--gap-ms, NONAXIS_BENCH_GAP_MS; default 0:
// back to back). Every row gets the same gap. With a gap, each launch is timed as an
// agent's action would be, with the machine's background work from the previous one
// (teardown, a supervisor's refill) done; back to back, a row also pays for that work.
int g_gap_ms = 0;

Stats time_n(int n, const std::function<bool()>& once, bool* ok) {
  std::vector<double> v;
  *ok = true;
  for (int i = 0; i < n; ++i) {
    if (g_gap_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(g_gap_ms));
    const auto t = Clock::now();
    if (!once()) *ok = false;
    v.push_back(ms_since(t));
  }
  return stats(v);
}

// Times `step` (returns 0 on success) in a fresh forked child with no_new_privs set,
// as a launch's child runs it.
Stats time_in_child(int n, const std::function<int()>& step, bool* ok) {
  std::vector<double> v;
  *ok = true;
  for (int i = 0; i < n && *ok; ++i) {
    int p[2];
    if (::pipe(p) != 0) {
      *ok = false;
      break;
    }
    if (::fork() == 0) {
      ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      const auto t = Clock::now();
      const int rc = step();
      const double ms = ms_since(t);
      (void)!::write(p[1], &ms, sizeof ms);
      ::_exit(rc == 0 ? 0 : 1);
    }
    double ms = 0;
    (void)!::read(p[0], &ms, sizeof ms);
    int st = 0;
    ::wait(&st);
    *ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    ::close(p[0]);
    ::close(p[1]);
    v.push_back(ms);
  }
  return *ok ? stats(v) : Stats{};
}

void row(const char* name, const Stats& s, bool ok, const char* note = "") {
  if (!ok) {
    std::printf("| %-58s | %8s | %8s | %s |\n", name, "n/a", "n/a", note);
  } else {
    std::printf("| %-58s | %8.2f | %8.2f | %s |\n", name, s.p50, s.p90, note);
  }
}

int clone_ns(std::uint64_t flags) {
  clone_args ca{};
  ca.flags = flags;
  ca.exit_signal = SIGCHLD;
  const long pid = ::syscall(SYS_clone3, &ca, sizeof ca);
  if (pid == 0) ::_exit(0);
  int st = 0;
  ::waitpid(static_cast<pid_t>(pid), &st, 0);
  return pid > 0 ? 0 : -1;
}

// A resident supervisor (`nonaxis-sandbox serve`) for the served rows; stopped with
// SIGTERM at scope exit.
class ServeProcess {
 public:
  ServeProcess(const std::string& bin, const std::string& socket, const std::string& state,
               const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {bin, "serve", "--socket", socket, "--state-dir", state};
    // NONAXIS_BENCH_SERVE_WORKERS: the supervisor's --workers (default: its own, 2).
    if (const char* w = std::getenv("NONAXIS_BENCH_SERVE_WORKERS")) argv.insert(argv.end(), {"--workers", w});
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      const int dn = ::open("/dev/null", O_WRONLY);
      ::dup2(dn, 1);
      ::dup2(dn, 2);
      std::vector<char*> a;
      for (const auto& x : argv) a.push_back(const_cast<char*>(x.c_str()));
      a.push_back(nullptr);
      ::execv(a[0], a.data());
      ::_exit(127);
    }
    // The socket file appears at bind, just before listen; a probing connection
    // would be taken as a request, so only the file is checked, then the workers get
    // time to prepare their children.
    for (int i = 0; i < 500 && !ready_; ++i) {
      struct stat st {};
      ready_ = ::stat(socket.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
      if (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ~ServeProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  bool ready() const { return ready_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100;
  if (const char* g = std::getenv("NONAXIS_BENCH_GAP_MS")) g_gap_ms = std::atoi(g);
  const std::string sandbox_bin = NONAXIS_SANDBOX_BIN;
  const std::filesystem::path dir = std::filesystem::path("/var/tmp") / ("nonaxis-bench-" + bus::uuid_v4().substr(0, 8));
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms(0711));
  ::setenv("ARBITER_TOKEN_SECRET", kSecret.c_str(), 1);
  ::setenv("GOVERNANCE_SIGNING_KEY_SANDBOX", kRecordKey.c_str(), 1);
  sb::SandboxConfig cfg = sb::config_from_env();
  cfg.profiles_dir = NONAXIS_PROFILES_DIR;
  const auto key = bus::KeyRing::from_secret("T", kSecret).current();
  const std::string true_hash = "sha256:" + sb::seal_content("/bin/true").sha256_hex;

  // Tokens are issued up front: issuing is the Arbiter's cost, not the sandbox's.
  std::vector<std::string> tokens;
  // NONAXIS_BENCH_BASELINE_BIN: an earlier build of nonaxis-sandbox, timed in the same
  // run, alternating launch by launch with this one (a before/after comparison).
  const char* baseline_bin = std::getenv("NONAXIS_BENCH_BASELINE_BIN");
  for (int i = 0; i < (baseline_bin != nullptr ? 6 : 5) * n + 10; ++i) {
    bus::TokenGrant g;
    g.action_type = "exec_unfamiliar";
    g.content_hash = true_hash;
    const auto p = dir / ("t" + std::to_string(i) + ".json");
    std::ofstream(p) << bus::issue_token(key, g, std::chrono::system_clock::now()).dump();
    tokens.push_back(p.string());
  }
  if (std::getenv("NONAXIS_BENCH_KEEP") != nullptr) {
    // Spare tokens for /bin/true, for tracing a launch by hand afterwards.
    for (int i = 0; i < 20; ++i) {
      bus::TokenGrant g;
      g.action_type = "exec_unfamiliar";
      g.content_hash = true_hash;
      std::ofstream(dir / ("spare-" + std::to_string(i) + ".json")) << bus::issue_token(key, g, std::chrono::system_clock::now()).dump();
    }
  }
  const auto bpf = sb::compile_seccomp_profile(cfg.seccomp_profile_path(), sb::DenyMode::kErrno);
  const auto bpf_file = dir / "seccomp.bpf";
  {
    std::ofstream out(bpf_file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bpf.program.data()),
              static_cast<std::streamsize>(bpf.program.size() * sizeof(sock_filter)));
  }

  std::printf("nonaxis sandbox launch benchmark: %d iterations each, /bin/true, milliseconds, %d ms idle between launches\n\n",
              n, g_gap_ms);
  std::printf("| %-58s | %8s | %8s | %s |\n", "launcher", "p50", "p90", "note");
  std::printf("|%s|%s|%s|---|\n", std::string(60, '-').c_str(), std::string(10, '-').c_str(),
              std::string(10, '-').c_str());
  bool ok = false;
  const Stats plain = time_n(n, [] { return spawn({"/bin/true"}) == 0; }, &ok);
  row("fork/exec /bin/true (baseline)", plain, ok);

  int ti = 0;
  // Warm-up (page cache, first netns) outside the measurement.
  spawn({sandbox_bin, "run", "--token", tokens[static_cast<std::size_t>(ti++)], "--file", "/bin/true", "--state-dir",
         (dir / "state").string()});
  auto launch = [&](const std::string& bin, const char* state) {
    return spawn({bin, "run", "--token", tokens[static_cast<std::size_t>(ti++)], "--file", "/bin/true",
                  "--state-dir", (dir / state).string()}) == 0;
  };
  Stats nx{}, nx_base{};
  bool base_ok = true;
  if (baseline_bin == nullptr) {
    nx = time_n(n, [&] { return launch(sandbox_bin, "state"); }, &ok);
  } else {
    launch(baseline_bin, "state-baseline");  // its own warm-up
    std::vector<double> a, b;
    ok = true;
    for (int i = 0; i < n; ++i) {
      auto t = Clock::now();
      ok = launch(sandbox_bin, "state") && ok;
      a.push_back(ms_since(t));
      t = Clock::now();
      base_ok = launch(baseline_bin, "state-baseline") && base_ok;
      b.push_back(ms_since(t));
    }
    nx = stats(a);
    nx_base = stats(b);
  }
  row("nonaxis-sandbox run (all layers, durable nonce + record)", nx, ok, "pre-created netns");
  const bool nx_ok = ok;
  if (baseline_bin != nullptr) {
    row("same, baseline build (NONAXIS_BENCH_BASELINE_BIN), alternating", nx_base, base_ok, baseline_bin);
  }
  // Through a resident supervisor: the client (the same binary, no key) hands the
  // token and content to a worker whose child was prepared before the request; and
  // the same supervisor launching every request afresh, which isolates what the
  // prepared child saves from what the resident process saves.
  auto served = [&](const char* label, const std::vector<std::string>& extra, const char* note, bool thin) {
    const std::string sock = (dir / (std::string("serve-") + (extra.empty() ? "p" : "f") + ".sock")).string();
    ServeProcess sp(sandbox_bin, sock, (dir / "state-serve").string(), extra);
    bool good = sp.ready();
    const auto once = [&] {
      const std::string& tok = tokens[static_cast<std::size_t>(ti++)];
      return spawn(thin ? std::vector<std::string>{NONAXIS_RUN_BIN, "--socket", sock, "--token", tok, "--file", "/bin/true"}
                        : std::vector<std::string>{sandbox_bin, "run", "--socket", sock, "--token", tok, "--file",
                                                   "/bin/true"}) == 0;
    };
    once();  // warm-up
    const Stats st = time_n(n, [&] {
      const auto t = Clock::now();
      const bool r = once();
      // NONAXIS_BENCH_TRACE=1: every served launch's time, in order (where the tail is).
      if (std::getenv("NONAXIS_BENCH_TRACE") != nullptr) std::fprintf(stderr, "%s %.2f\n", label, ms_since(t));
      return r;
    }, &ok);
    row(label, st, good && ok, note);
    return good && ok ? st : Stats{};
  };
  const Stats nx_served =
      served("nonaxis-sandbox run --socket (resident supervisor, prepared)", {}, "all layers, same gate", false);
  const Stats nx_thin = served("nonaxis-run (thin client, same supervisor)", {}, "no key, no crypto in the client", true);
  served("nonaxis-sandbox run --socket, serve --no-prepare", {"--no-prepare"}, "fresh launch per request", false);
  // The same without the namespace pool: every launch creates its network namespace.
  ::setenv("NONAXIS_SANDBOX_NETNS_POOL", "0", 1);
  const Stats nx_fresh = time_n(n, [&] {
    return spawn({sandbox_bin, "run", "--token", tokens[static_cast<std::size_t>(ti++)], "--file", "/bin/true",
                  "--state-dir", (dir / "state-fresh").string()}) == 0;
  }, &ok);
  row("nonaxis-sandbox run, netns created at launch (pool off)", nx_fresh, ok);
  ::unsetenv("NONAXIS_SANDBOX_NETNS_POOL");

  const std::vector<std::string> bwrap = {"/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                                          "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
                                          "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
                                          "--proc", "/proc", "--dev", "/dev", "--seccomp", "3", "/bin/true"};
  const bool have_bwrap = ::access("/usr/bin/bwrap", X_OK) == 0;
  Stats bw{};
  if (have_bwrap) {
    bw = time_n(n, [&] {
      return spawn(bwrap, [&] {
        const int fd = ::open(bpf_file.c_str(), O_RDONLY);
        ::dup2(fd, 3);
      }) == 0;
    }, &ok);
    row("bwrap --unshare-all --die-with-parent --new-session + seccomp", bw, ok);
  } else {
    row("bwrap --unshare-all --die-with-parent --new-session + seccomp", {}, false, "bubblewrap not installed");
  }
  const bool have_fj = ::access("/usr/bin/firejail", X_OK) == 0;
  if (have_fj) {
    const Stats fj = time_n(std::min(n, 30), [] {
      return spawn({"/usr/bin/firejail", "--noprofile", "--net=none", "--quiet", "/bin/true"}) == 0;
    }, &ok);
    row("firejail --noprofile --net=none", fj, ok, ok ? "" : "firejail fails on this machine");
  } else {
    row("firejail --noprofile --net=none", {}, false, "firejail not installed");
  }
  if (nx_ok) {
    std::printf("\nnonaxis overhead over fork/exec: p50 %.2f ms, p90 %.2f ms\n", nx.p50 - plain.p50, nx.p90 - plain.p90);
    for (const auto& [name, st] : {std::pair<const char*, Stats>{"served overhead over fork/exec:", nx_served},
                                   {"thin-client overhead:          ", nx_thin}}) {
      if (st.p50 > 0) std::printf("%s p50 %.2f ms, p90 %.2f ms\n", name, st.p50 - plain.p50, st.p90 - plain.p90);
    }
    if (have_bwrap) std::printf("bwrap overhead over fork/exec:   p50 %.2f ms, p90 %.2f ms\n", bw.p50 - plain.p50, bw.p90 - plain.p90);
  }

  // ---- what each layer costs on its own ----
  std::printf("\n| %-58s | %8s | %8s | %s |\n", "layer / step (in-process)", "p50", "p90", "note");
  std::printf("|%s|%s|%s|---|\n", std::string(60, '-').c_str(), std::string(10, '-').c_str(),
              std::string(10, '-').c_str());
  row("process start + exit of nonaxis-sandbox alone (--help)", time_n(n, [&] {
    return spawn({sandbox_bin, "--help"}) == 0;
  }, &ok), ok, "static libcrypto/libstdc++");
  row("seal content into memfd + SHA-256 (/bin/true)", time_n(n, [] { return sb::seal_content("/bin/true").size > 0; }, &ok), ok);
  {
    const auto ring = bus::KeyRing::from_secret("T", kSecret);
    bus::TokenGrant g;
    g.action_type = "exec_unfamiliar";
    g.content_hash = true_hash;
    const auto tok = bus::issue_token(key, g, std::chrono::system_clock::now());
    const std::string hex = true_hash.substr(7);
    row("token check (HMAC, expiry, scope, content hash)", time_n(n, [&] {
      return !sb::check_token(tok, ring, sb::Mode::kRun, hex, std::chrono::system_clock::now(), std::chrono::seconds(5)).refusal;
    }, &ok), ok);
  }
  {
    sb::NonceStore store(dir / "bench-nonces");
    const std::string exp = bus::rfc3339_seconds_offset(std::chrono::system_clock::now() + std::chrono::hours(1));
    row("spend nonce durably (O_TMPFILE, linkat, one dir fsync)", time_n(n, [&] {
      return store.spend(bus::uuid_v4(), "t", exp, std::chrono::system_clock::now()) == sb::SpendResult::kSpent;
    }, &ok), ok);
  }
  row("compile seccomp profile (JSON -> BPF), uncached", time_n(n, [&] { return !sb::compile_seccomp_profile(cfg.seccomp_profile_path()).program.empty(); }, &ok), ok);
  row("load seccomp BPF from the verified cache (what a launch does)", time_n(n, [&] {
    return !sb::compile_seccomp_profile_cached(cfg.seccomp_profile_path(), dir / "bench-seccomp-cache").program.empty();
  }, &ok), ok);
  const std::uint64_t base = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  row("clone3 + exit: no namespaces", time_n(n, [] { return clone_ns(0) == 0; }, &ok), ok);
  row("clone3 + exit: user,mount,pid,ipc,uts,cgroup", time_n(n, [&] { return clone_ns(base) == 0; }, &ok), ok);
  for (const auto& [flag, label] : {std::pair<std::uint64_t, const char*>{CLONE_NEWUSER, "clone3 + exit: user only"},
                                    {CLONE_NEWUSER | CLONE_NEWNS, "clone3 + exit: user+mount"},
                                    {CLONE_NEWUSER | CLONE_NEWPID, "clone3 + exit: user+pid"},
                                    {CLONE_NEWUSER | CLONE_NEWNET, "clone3 + exit: user+net"}}) {
    row(label, time_n(n, [flag = flag] { return clone_ns(flag) == 0; }, &ok), ok);
  }
  row("clone3 + exit: all seven (adds net)", time_n(n, [&] { return clone_ns(base | CLONE_NEWNET) == 0; }, &ok), ok);
  {
    // nftables: one batch into a fresh namespace (created by a helper thread).
    sb::EgressPlan plan;
    sb::plan_egress({"198.51.100.10:443"}, {}, plan);
    row("nftables table, one batch (fresh netns, 1 allowed host)", time_n(n, [&] {
      int nsfd = -1;
      std::thread t([&] {
        if (::unshare(CLONE_NEWNET) == 0) nsfd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      });
      t.join();
      if (nsfd < 0) return false;
      const auto start = Clock::now();
      const bool good = sb::install_egress_table(nsfd, plan).empty();
      (void)start;
      ::close(nsfd);
      return good;
    }, &ok), ok, "includes netns creation");
    row("netns creation alone (unshare in a thread)", time_n(n, [&] {
      int nsfd = -1;
      std::thread t([&] {
        if (::unshare(CLONE_NEWNET) == 0) nsfd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      });
      t.join();
      if (nsfd >= 0) ::close(nsfd);
      return nsfd >= 0;
    }, &ok), ok);
  }
  {
    const int abi = sb::landlock_abi_version();
    const Stats ll = time_in_child(n, [abi] { return abi > 0 ? sb::apply_landlock(abi, nullptr) : -1; }, &ok);
    row("Landlock ruleset + restrict_self", ll, ok);
  }
  {
    const auto notify = sb::compile_seccomp_profile(cfg.seccomp_profile_path(), sb::DenyMode::kNotify);
    const Stats sc = time_in_child(n, [&notify] {
      int listener = -1;
      return sb::install_seccomp(notify.program, &listener);
    }, &ok);
    row("install seccomp filter with listener (binary-tree layout)", sc, ok);
  }
  {
    const auto rk = bus::KeyRing::from_secret("S", kRecordKey).current();
    row("sign + append execution record durably (one fdatasync)", time_n(n, [&] {
      bus::Json payload = {{"execution_id", bus::uuid_v4()}, {"exit", {{"code", 0}}}};
      return !sb::sign_and_store_record(payload, rk, dir / "bench-records").is_null();
    }, &ok), ok);
  }
  // Pre-created namespaces are pinned by bind mounts: release them before deleting.
  sb::NetnsPool(dir / "state" / "netns-pool").drain();
  sb::NetnsPool(dir / "state-serve" / "netns-pool").drain();  // the --no-prepare supervisor's fresh launches
  if (baseline_bin != nullptr) sb::NetnsPool(dir / "state-baseline" / "netns-pool").drain();
  std::error_code ec;
  // NONAXIS_BENCH_KEEP=1 keeps the state directory: its records carry per-phase timings.
  if (std::getenv("NONAXIS_BENCH_KEEP") == nullptr) std::filesystem::remove_all(dir, ec);
  return 0;
}
