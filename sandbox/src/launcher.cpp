#include "nonaxis/sandbox/launcher.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <system_error>

#include "nonaxis/sandbox/child_error.hpp"
#include "nonaxis/sandbox/durable_write.hpp"
#include "nonaxis/sandbox/fd_passing.hpp"
#include "nonaxis/sandbox/fs_view.hpp"
#include "nonaxis/sandbox/privileges.hpp"
#include "nonaxis/sandbox/stop_signals.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// Fixed descriptor numbers in the child after the shuffle.
constexpr int kContentFd = 3;
constexpr int kReportFd = 4;
constexpr int kGateFd = 5;  // the supervisor's final go-ahead, closed at exec

struct Pipe {
  UniqueFd r, w;
};
Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// The child's report channel: a socket, so that the seccomp listener descriptor can
// travel on it (SCM_RIGHTS); SEQPACKET keeps each fixed-size message whole, and the
// reader still sees EOF when the child's end closes at exec.
Pipe make_report_channel() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::system_error(errno, std::generic_category(), "socketpair");
  }
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Child side: sends `m` with descriptor `fd` attached. Async-signal-safe.
bool send_with_fd(int sock, const ChildMessage& m, int fd) {
  const iovec iov{const_cast<ChildMessage*>(&m), sizeof m};
  return send_with_fds(sock, &iov, 1, &fd, 1) == static_cast<ssize_t>(sizeof m);
}

// Supervisor side: one message, and the descriptor attached to it if any (CLOEXEC).
ssize_t recv_message(int sock, ChildMessage& m, UniqueFd& fd_out) {
  const iovec iov{&m, sizeof m};
  int fd = -1;
  std::size_t nfds = 0;
  const ssize_t n = recv_with_fds(sock, &iov, 1, &fd, 1, &nfds, nullptr);
  if (nfds == 1) fd_out.reset(fd);
  return n;
}

// The release message: the sealed content travels with it (SCM_RIGHTS), followed by
// the argument vector as NUL-terminated strings.
struct GoHeader {
  std::uint32_t magic = 0;
  std::uint32_t flags = 0;
  RlimitPlan rlimits{};
  std::uint32_t argc = 0;
  std::uint32_t blob_len = 0;
};
constexpr std::uint32_t kGoMagic = 0x474f2121;  // "GO!!"
constexpr std::uint32_t kGoShell = 1U << 0;         // exec /bin/sh on /proc/self/fd/3
constexpr std::uint32_t kGoKeepContent = 1U << 1;   // scripts: the interpreter reopens /dev/fd/3
// argv0 (a file name or a runner program name) and "sh /proc/self/fd/3" besides the args.
constexpr std::size_t kMaxArgv0Bytes = 4096;
constexpr std::size_t kGoBufBytes = sizeof(GoHeader) + kMaxArgBytes + kMaxArgv0Bytes + 64;

// Everything the child needs, prepared before clone so the child allocates nothing:
// the release message lands in go_buf and argv points into it.
struct ChildPlan {
  FsViewSpec fs;
  std::vector<std::string> envp_storage;
  std::vector<char*> envp;
  std::vector<char> go_buf;
  std::vector<char*> argv;   // capacity kMaxArgs + 4, filled from go_buf in the child
  const std::vector<sock_filter>* seccomp = nullptr;
  bool seccomp_notify = false;  // hand the listener to the supervisor before exec
  bool pooled_netns = false;    // inherited a pre-created network namespace
  MacChoice mac;
  std::vector<LandlockGrant> landlock_grants;  // points into fs.grants
  int sync_r = -1, report_w = -1, out_w = -1, err_w = -1;
};

// Async-signal-safe (vDSO): microseconds since `since_us`, for the phase report.
std::uint64_t now_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000U + static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
}

[[noreturn]] void child_fail(int report, const char* step, int err) {
  const ChildMessage m = child_error(step, err);
  (void)!::write(report, &m, sizeof m);
  ::_exit(code(Refusal::kConfinementFailed));
}

// Child side: waits for the release message and checks it. Returns the content
// descriptor (CLOEXEC) and fills header and argv, or -1. EOF (the supervisor gave
// the prepared launch up) is -1 with errno 0. Allocates nothing.
int receive_go(ChildPlan& p, GoHeader& h) {
  const iovec iov{p.go_buf.data(), p.go_buf.size()};
  int fd = -1;
  std::size_t nfds = 0;
  int flags = 0;
  errno = 0;
  const ssize_t n = recv_with_fds(p.sync_r, &iov, 1, &fd, 1, &nfds, &flags);
  if (n < static_cast<ssize_t>(sizeof h) || (flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || nfds != 1) {
    if (n > 0) errno = EPROTO;
    return -1;
  }
  std::memcpy(&h, p.go_buf.data(), sizeof h);
  char* blob = p.go_buf.data() + sizeof h;
  if (h.magic != kGoMagic || h.argc == 0 || h.argc + 1 > p.argv.capacity() ||
      h.blob_len != static_cast<std::size_t>(n) - sizeof h || blob[h.blob_len - 1] != '\0') {
    errno = EPROTO;
    return -1;
  }
  p.argv.clear();
  for (std::size_t off = 0; off < h.blob_len && p.argv.size() < h.argc; off += std::strlen(blob + off) + 1) {
    p.argv.push_back(blob + off);
  }
  if (p.argv.size() != h.argc) {
    errno = EPROTO;
    return -1;
  }
  p.argv.push_back(nullptr);
  return fd;
}

// Runs in the new namespaces. Order matters: identity, mounts, loopback, MAC
// preparation, session, capabilities, no_new_privs, Landlock; then (release) limits,
// descriptors, seccomp; then (final gate) exec.
[[noreturn]] void child_main(ChildPlan& p) {
  const int report = p.report_w;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Three signals from the supervisor: 'm' once the id maps are written (the
  // filesystem view can then be built); the release message with the content; and
  // 'x' once the network namespace is ready and the spent nonce is durable. Before
  // the release a prepared child waits for a request; the one-shot CLI sends the
  // release at once and programs nftables while the child builds its mounts.
  char go = 0;
  if (::read(p.sync_r, &go, 1) != 1 || go != 'm') ::_exit(code(Refusal::kConfinementFailed));
  std::uint32_t layers = kLayerUserNs;
  // uid/gid 0 inside map to the unprivileged sandbox uid outside; drop the host's
  // supplementary groups (root's) before anything else.
  if (::setresgid(0, 0, 0) != 0) child_fail(report, "setresgid", errno);
  if (::setgroups(0, nullptr) != 0) child_fail(report, "setgroups", errno);
  if (::setresuid(0, 0, 0) != 0) child_fail(report, "setresuid", errno);
  if (::sethostname("nonaxis-sandbox", 15) != 0) child_fail(report, "sethostname", errno);
  const std::uint64_t fs_start = now_us();
  if (const char* step = build_fs_view(p.fs); step != nullptr) child_fail(report, step, errno);
  layers |= kLayerFsView;
  const std::uint64_t fs_us = now_us() - fs_start;
  // Everything that does not depend on the request is done before it arrives: a
  // prepared child then has only the limits, its descriptors and seccomp left.
  if (p.pooled_netns) {
    // A pre-created namespace belongs to the host's user namespace: we may not
    // configure it (nor may the content), and its loopback was brought up when it
    // was made. Reported only if it really is up.
    if (!loopback_is_up()) child_fail(report, "loopback-not-up", ENETDOWN);
  } else if (const int rc = bring_up_loopback(); rc != 0) {
    child_fail(report, "loopback-up", -rc);
  }
  layers |= kLayerLoopbackUp;
  if (p.mac.kind == MacKind::kAppArmor) {
    if (const int rc = apparmor_change_onexec(p.mac.apparmor_profile.c_str()); rc != 0) {
      child_fail(report, "aa_change_onexec", -rc);
    }
  }
  // New session, no controlling terminal: TIOCSTI has no terminal to inject into.
  if (::setsid() < 0) child_fail(report, "setsid", errno);
  layers |= kLayerSetsid;
  // Not CLOEXEC: if it lands on fd 0, dup2(0, 0) keeps it; otherwise close_range drops it.
  const int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull < 0) child_fail(report, "open-dev-null", errno);
  if (const int rc = drop_all_capabilities(); rc != 0) child_fail(report, "drop-capabilities", -rc);
  layers |= kLayerCapsDropped;
  if (const int rc = set_no_new_privs(); rc != 0) child_fail(report, "no_new_privs", -rc);
  layers |= kLayerNoNewPrivs;
  int landlock_abi = 0;
  if (p.mac.kind == MacKind::kLandlock) {
    if (const int rc = apply_landlock(p.mac.landlock_abi, &landlock_abi, p.landlock_grants.data(), p.landlock_grants.size());
        rc != 0) {
      child_fail(report, "landlock", -rc);
    }
    layers |= kLayerLandlock;
  } else if (p.mac.kind == MacKind::kAppArmor) {
    layers |= kLayerAppArmor;
  }
  ChildMessage ready;
  ready.kind = kMsgViewReady;
  if (::write(report, &ready, sizeof ready) != static_cast<ssize_t>(sizeof ready)) child_fail(report, "report-view", errno);

  GoHeader h;
  const int content = receive_go(p, h);
  if (content < 0) {
    if (errno == 0) ::_exit(code(Refusal::kConfinementFailed));  // given up before release
    child_fail(report, "receive-release", errno);
  }
  const std::uint64_t confine_start = now_us();
  if (const int rc = apply_rlimits(h.rlimits); rc != 0) child_fail(report, "rlimits", -rc);
  layers |= kLayerRlimits;

  // Descriptors: 0 /dev/null, 1-2 capture pipes, 3 content, 4 report, 5 the release
  // gate until exec; close the rest. Sources move above the target range first so
  // dup2 cannot clobber one another.
  const int hi_out = ::fcntl(p.out_w, F_DUPFD_CLOEXEC, 10);
  const int hi_err = ::fcntl(p.err_w, F_DUPFD_CLOEXEC, 10);
  const int hi_content = ::fcntl(content, F_DUPFD_CLOEXEC, 10);
  const int hi_report = ::fcntl(report, F_DUPFD_CLOEXEC, 10);
  const int hi_gate = ::fcntl(p.sync_r, F_DUPFD_CLOEXEC, 10);
  if (hi_out < 0 || hi_err < 0 || hi_content < 0 || hi_report < 0 || hi_gate < 0) child_fail(report, "dup-high", errno);
  if (::dup2(devnull, 0) < 0 || ::dup2(hi_out, 1) < 0 || ::dup2(hi_err, 2) < 0 ||
      ::dup2(hi_content, kContentFd) < 0 || ::dup3(hi_report, kReportFd, O_CLOEXEC) < 0 ||
      ::dup3(hi_gate, kGateFd, O_CLOEXEC) < 0) {
    child_fail(hi_report, "dup-fixed", errno);
  }
  if ((h.flags & kGoKeepContent) == 0 && ::fcntl(kContentFd, F_SETFD, FD_CLOEXEC) != 0) {
    child_fail(kReportFd, "cloexec", errno);
  }
  if (::close_range(kGateFd + 1, ~0U, 0) != 0) child_fail(kReportFd, "close_range", errno);
  layers |= kLayerFdsClosed | kLayerEnvCleared;

  int listener = -1;
  if (const int rc = install_seccomp(*p.seccomp, p.seccomp_notify ? &listener : nullptr); rc != 0) {
    child_fail(kReportFd, "seccomp", -rc);
  }
  layers |= kLayerSeccomp;
  if (p.seccomp_notify) {
    // The listener must not survive into the content: with it, the content could
    // answer its own denied calls. It goes to the supervisor and is closed here.
    ChildMessage lm;
    lm.kind = kMsgListener;
    if (!send_with_fd(kReportFd, lm, listener)) child_fail(kReportFd, "send-seccomp-listener", errno);
    ::close(listener);
  }
  // The last gate: the supervisor sends 'x' once the spent nonce is durable (its
  // fsync overlapped the steps above). Anything else, or EOF, and nothing runs.
  char x = 0;
  if (::read(kGateFd, &x, 1) != 1 || x != 'x') ::_exit(code(Refusal::kConfinementFailed));

  ChildMessage m;
  m.kind = kMsgLayers;
  m.layers = layers;
  m.landlock_abi = landlock_abi;
  m.fs_view_us = static_cast<std::uint32_t>(fs_us);
  m.confine_us = static_cast<std::uint32_t>(now_us() - confine_start);
  (void)!::write(kReportFd, &m, sizeof m);
  // The content starts with default signal handling whatever the supervisor uses:
  // an ignored SIGPIPE and a blocked mask would both survive exec.
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if ((h.flags & kGoShell) != 0) {
    ::execve("/bin/sh", p.argv.data(), p.envp.data());
  } else {
    ::syscall(SYS_execveat, kContentFd, "", p.argv.data(), p.envp.data(), AT_EMPTY_PATH);
  }
  const ChildMessage e = child_error("exec", errno);
  (void)!::write(kReportFd, &e, sizeof e);
  ::_exit(code(Refusal::kExecFailed));
}

// Parent side: the release message with the content descriptor attached.
bool send_go(int sock, const GoHeader& h, const std::string& blob, int content_fd) {
  const iovec iov[2] = {{const_cast<GoHeader*>(&h), sizeof h}, {const_cast<char*>(blob.data()), blob.size()}};
  return send_with_fds(sock, iov, 2, &content_fd, 1) == static_cast<ssize_t>(sizeof h + blob.size());
}

void write_id_map(int pid, const char* file, std::uint32_t outside) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  const std::string line = "0 " + std::to_string(outside) + " 1\n";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid() || ::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    throw std::system_error(errno, std::generic_category(), std::string("write ") + file);
  }
}

std::vector<std::string> build_env(const SandboxConfig& c) {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/work", "TMPDIR=/tmp", "PWD=/work",
                                  "USER=root"};
  for (const auto& name : c.env_allowlist) {
    if (const char* v = std::getenv(name.c_str())) env.push_back(name + "=" + v);
  }
  return env;
}

void append_capped(StreamCapture& s, const char* data, std::size_t n, std::size_t cap) {
  s.total += n;
  if (s.data.size() < cap) s.data.append(data, std::min(n, cap - s.data.size()));
}

// Reads what is available; returns false at EOF.
bool pump(int fd, StreamCapture& s, std::size_t cap) {
  std::array<char, 16384> buf;  // filled by read()
  const ssize_t n = ::read(fd, buf.data(), buf.size());
  if (n > 0) {
    append_capped(s, buf.data(), static_cast<std::size_t>(n), cap);
    return true;
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

// One forked process, left behind when the launch returns, that (1) holds the last
// references in `release_fds` and closes them, and (2) runs `task` (refilling the
// netns pool), both off the caller's path. The descriptors are those whose last
// close is slow: the canaries' inotify descriptor waits out an SRCU grace period
// (about 12 ms), and the child's mount namespace unmounts its tree behind an
// expedited RCU grace period. The gate pipe makes sure the helper's closes are the
// last ones: it waits for EOF, which comes only after this process has closed its
// own copies. It keeps no other descriptor, so the caller's output pipes reach EOF
// when the caller exits. (Removing the execution directory here too was measured
// and dropped: back to back, the next launch's workspace creation waited on the
// helper's ext4 unlinks and lost more than the caller saved.)
void spawn_post_run_helper(std::vector<int> release_fds, int keep_fd, const std::function<void()>& task) {
  int gate[2] = {-1, -1};
  if (::pipe2(gate, O_CLOEXEC) != 0) gate[0] = gate[1] = -1;
  std::vector<int> keep = release_fds;
  keep.push_back(keep_fd);
  keep.push_back(gate[0]);
  std::sort(keep.begin(), keep.end());  // before fork: the child only makes syscalls
  const pid_t pid = gate[0] >= 0 ? ::fork() : -1;
  if (pid == 0) {
    unsigned from = 0;
    for (const int k : keep) {
      if (k < 0) continue;
      if (static_cast<unsigned>(k) > from) ::close_range(from, static_cast<unsigned>(k) - 1, 0);
      from = static_cast<unsigned>(k) + 1;
    }
    ::close_range(from, ~0U, 0);
    ::setsid();
    char c = 0;
    while (::read(gate[0], &c, 1) < 0 && errno == EINTR) {
    }
    for (const int fd : release_fds) {
      if (fd >= 0) ::close(fd);
    }
    if (task) {
      try {
        task();
      } catch (...) {
      }
    }
    ::_exit(0);
  }
  // Without a helper, these closes are the last ones and pay the waits themselves.
  for (const int fd : release_fds) {
    if (fd >= 0) ::close(fd);
  }
  if (gate[1] >= 0) ::close(gate[1]);
  if (gate[0] >= 0) ::close(gate[0]);
}

}  // namespace

std::vector<std::string> layer_names(std::uint32_t layers) {
  static const std::pair<std::uint32_t, const char*> kNames[] = {
      {kLayerUserNs, "namespaces"},        {kLayerFsView, "filesystem_view"},   {kLayerNoNewPrivs, "no_new_privs"},
      {kLayerCapsDropped, "capabilities_dropped"}, {kLayerSetsid, "setsid"},   {kLayerFdsClosed, "descriptors_closed"},
      {kLayerEnvCleared, "environment_cleared"},   {kLayerSeccomp, "seccomp"}, {kLayerLandlock, "landlock"},
      {kLayerAppArmor, "apparmor"},        {kLayerRlimits, "rlimits"},           {kLayerLoopbackUp, "loopback"}};
  std::vector<std::string> out;
  for (const auto& [bit, name] : kNames) {
    if ((layers & bit) != 0) out.emplace_back(name);
  }
  return out;
}

struct PreparedLaunch::State {
  // Declared first, destroyed last: the execution directory outlives every descriptor.
  struct Cleanup {
    std::filesystem::path dir;
    bool keep = false;
    ~Cleanup() {
      std::error_code ec;
      if (!keep && !dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  } cleanup;
  std::string exec_id;
  // What the child was built from, for fits().
  FsViewSpec view;
  MacChoice mac;
  std::vector<sock_filter> seccomp_program;
  DenyMode seccomp_mode = DenyMode::kErrno;
  bool pooled_netns = false;
  std::uint32_t uid = 0, gid = 0;  // the id maps written
  bool keep_workspace = false;
  std::optional<CanarySet> canaries;
  std::vector<std::string> canary_names;
  Pipe sync, report, out, err;
  UniqueFd sigfd, pidfd, netns, child_mntns;
  sigset_t old_set{};
  bool mask_blocked = false;
  int pid = -1;
  bool reaped = false;
  bool ran = false;
  bool network_ready = false;
  bool view_ready = false;  // the child's kMsgViewReady was read by ready()
  std::vector<std::pair<std::string, double>> phases;

  void restore_mask() {
    if (mask_blocked) ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
    mask_blocked = false;
  }
  void kill_child() const {
    if (pidfd.valid()) ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
  }
  int reap() {
    int status = 0;
    if (pid > 0 && !reaped) {
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      reaped = true;
    }
    return status;
  }
};

PreparedLaunch::PreparedLaunch(std::unique_ptr<State> s) : s_(std::move(s)) {}

PreparedLaunch::~PreparedLaunch() {
  if (!s_) return;
  if (!s_->reaped && s_->pid > 0) {
    s_->kill_child();
    s_->reap();
  }
  s_->restore_mask();
}

const std::string& PreparedLaunch::exec_id() const { return s_->exec_id; }

bool PreparedLaunch::fits(const LaunchRequest& req) const {
  const State& s = *s_;
  const SandboxConfig& cfg = *req.config;
  return !s.ran && !s.pooled_netns && req.pooled_netns < 0 && req.path_grants.empty() && s.view.grants.empty() &&
         cfg.sandbox_uid == s.uid && cfg.sandbox_gid == s.gid && cfg.keep_workspace == s.keep_workspace &&
         req.etc_hosts == s.view.etc_hosts && req.etc_resolv == s.view.etc_resolv &&
         cfg.limits.tmpfs_bytes == s.view.tmp_bytes && req.mac.kind == s.mac.kind &&
         req.mac.apparmor_profile == s.mac.apparmor_profile && req.mac.landlock_abi == s.mac.landlock_abi &&
         req.seccomp->mode == s.seccomp_mode && req.seccomp->program.size() == s.seccomp_program.size() &&
         std::equal(s.seccomp_program.begin(), s.seccomp_program.end(), req.seccomp->program.begin(),
                    [](const sock_filter& a, const sock_filter& b) {
                      return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
                    });
}

std::unique_ptr<PreparedLaunch> PreparedLaunch::start(const LaunchRequest& req, LaunchResult& failure) {
  const SandboxConfig& cfg = *req.config;
  auto fail = [&failure](Refusal r, std::string detail) {
    failure = LaunchResult::refused(r, std::move(detail));
    return std::unique_ptr<PreparedLaunch>();
  };
  auto st = std::make_unique<State>();
  State& s = *st;
  auto phase_start = Clock::now();
  auto phase = [&s, &phase_start](const char* name) {
    const auto now = Clock::now();
    s.phases.emplace_back(name, std::chrono::duration<double, std::milli>(now - phase_start).count());
    phase_start = now;
  };

  // Per-execution directory: root-owned 0711 parent, the new root's mount point, and
  // the 0700 workspace owned by the sandbox uid.
  s.exec_id = req.exec_id;
  const std::filesystem::path exec_dir = cfg.run_dir() / req.exec_id;
  const std::filesystem::path root_dir = exec_dir / "root";
  const std::filesystem::path work_dir = exec_dir / "work";
  s.cleanup.keep = cfg.keep_workspace;
  try {
    ensure_directory(cfg.run_dir(), 0711);
    if (::mkdir(exec_dir.c_str(), 0711) != 0) throw std::system_error(errno, std::generic_category(), "create workspace");
    s.cleanup.dir = exec_dir;  // ours from here on
    if (::mkdir(root_dir.c_str(), 0755) != 0 || ::mkdir(work_dir.c_str(), 0700) != 0 ||
        ::chown(work_dir.c_str(), cfg.sandbox_uid, cfg.sandbox_gid) != 0) {
      throw std::system_error(errno, std::generic_category(), "create workspace");
    }
    ::chmod(exec_dir.c_str(), 0711);  // umask may have narrowed it
  } catch (const std::exception& e) {
    return fail(Refusal::kConfinementFailed, e.what());
  }
  try {
    s.canaries.emplace(work_dir.string(), cfg.sandbox_uid, cfg.sandbox_gid);
    s.canary_names = s.canaries->names();
  } catch (const std::exception& e) {
    return fail(Refusal::kConfinementFailed, std::string("canaries: ") + e.what());
  }
  phase("workspace_and_canaries");

  ChildPlan plan;
  plan.fs.new_root = root_dir.string();
  plan.fs.workspace = work_dir.string();
  plan.fs.etc_hosts = req.etc_hosts;
  plan.fs.etc_resolv = req.etc_resolv;
  plan.fs.tmp_bytes = cfg.limits.tmpfs_bytes;
  plan.fs.grants = req.path_grants;
  for (const auto& g : plan.fs.grants) plan.landlock_grants.push_back({g.path.c_str(), g.writable, g.is_dir});
  plan.mac = req.mac;
  plan.seccomp = &req.seccomp->program;
  plan.seccomp_notify = req.seccomp->mode == DenyMode::kNotify;
  plan.pooled_netns = req.pooled_netns >= 0;
  plan.envp_storage = build_env(cfg);
  for (auto& e : plan.envp_storage) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  plan.go_buf.resize(kGoBufBytes);
  plan.argv.reserve(kMaxArgs + 4);
  s.view = plan.fs;
  s.mac = req.mac;
  s.seccomp_program = req.seccomp->program;
  s.seccomp_mode = req.seccomp->mode;
  s.pooled_netns = plan.pooled_netns;
  s.uid = cfg.sandbox_uid;
  s.gid = cfg.sandbox_gid;
  s.keep_workspace = cfg.keep_workspace;

  try {
    s.sync = make_report_channel();  // SEQPACKET: the release message arrives whole, with the content
    s.report = make_report_channel();
    s.out = make_pipe();
    s.err = make_pipe();
  } catch (const std::exception& e) {
    return fail(Refusal::kConfinementFailed, e.what());
  }
  plan.sync_r = s.sync.r.get();
  plan.report_w = s.report.w.get();
  plan.out_w = s.out.w.get();
  plan.err_w = s.err.w.get();

  // SIGINT/SIGTERM stop the content cleanly (and still produce a record).
  s.sigfd = block_stop_signals(&s.old_set);
  s.mask_blocked = true;

  // A pre-created namespace: the child inherits it from the thread that clones, so
  // this thread enters it for the clone and returns to its own right after.
  const bool pooled = req.pooled_netns >= 0;
  UniqueFd own_netns;
  if (pooled) {
    own_netns.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!own_netns.valid() || ::setns(req.pooled_netns, CLONE_NEWNET) != 0) {
      return fail(Refusal::kConfinementFailed, std::string("enter pre-created netns: ") + std::strerror(errno));
    }
  }
  int pidfd_raw = -1;
  clone_args ca{};
  ca.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_PIDFD |
             (pooled ? 0ULL : static_cast<std::uint64_t>(CLONE_NEWNET));
  ca.pidfd = reinterpret_cast<std::uint64_t>(&pidfd_raw);
  ca.exit_signal = SIGCHLD;
  const long cpid = ::syscall(SYS_clone3, &ca, sizeof ca);
  if (cpid == 0) {
    ::sigprocmask(SIG_SETMASK, &s.old_set, nullptr);
    child_main(plan);
  }
  const int clone_errno = errno;
  if (pooled && ::setns(own_netns.get(), CLONE_NEWNET) != 0) {
    // The supervisor must not go on inside the sandbox's network.
    if (cpid > 0) ::kill(static_cast<pid_t>(cpid), SIGKILL);
    std::abort();
  }
  if (cpid < 0) return fail(Refusal::kConfinementFailed, std::string("clone3: ") + std::strerror(clone_errno));
  s.pid = static_cast<int>(cpid);
  s.pidfd.reset(pidfd_raw);
  phase("clone");
  s.sync.r.reset();
  s.report.w.reset();
  s.out.w.reset();
  s.err.w.reset();

  try {
    // Held until the post-run helper: the child's exit then leaves the namespace's
    // unmounting (and its RCU grace period) to the helper instead of the exit the
    // supervisor waits for.
    s.child_mntns.reset(::open(("/proc/" + std::to_string(s.pid) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
    write_id_map(s.pid, "uid_map", cfg.sandbox_uid);
    write_id_map(s.pid, "gid_map", cfg.sandbox_gid);
    if (::write(s.sync.w.get(), "m", 1) != 1) throw std::system_error(errno, std::generic_category(), "release child");
    phase("id_maps");
    s.netns.reset(pooled ? ::fcntl(req.pooled_netns, F_DUPFD_CLOEXEC, 0)
                         : ::open(("/proc/" + std::to_string(s.pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
    if (!s.netns.valid()) throw std::system_error(errno, std::generic_category(), "open child netns");
  } catch (const std::exception& e) {
    PreparedLaunch doomed(std::move(st));  // kills and reaps the child, restores the mask
    return fail(Refusal::kConfinementFailed, e.what());
  }
  return std::unique_ptr<PreparedLaunch>(new PreparedLaunch(std::move(st)));
}

bool PreparedLaunch::ready(int timeout_ms) {
  State& s = *s_;
  if (s.ran || s.reaped) return false;
  if (!s.view_ready) {
    pollfd p{s.report.r.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    ChildMessage msg;
    UniqueFd ignored;
    const ssize_t n = recv_message(s.report.r.get(), msg, ignored);
    if (n != static_cast<ssize_t>(sizeof msg) || msg.kind != kMsgViewReady) {
      // The child failed (or died) while building its view: it can never run.
      s.kill_child();
      s.reap();
      return false;
    }
    s.view_ready = true;
  }
  // Still alive: a child killed from outside after its report is not ready either.
  pollfd p{s.pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

std::string PreparedLaunch::setup_network_early(const std::function<std::string(int, int)>& setup) {
  State& s = *s_;
  if (s.ran || s.network_ready) return "network already set up";
  std::string e;
  try {
    e = setup(s.netns.get(), s.pid);
  } catch (const std::exception& ex) {
    e = ex.what();
  }
  s.network_ready = e.empty();
  return e;
}

LaunchResult PreparedLaunch::run(const LaunchRequest& req) {
  State& s = *s_;
  const SandboxConfig& cfg = *req.config;
  LaunchResult res;
  res.phases_ms = std::move(s.phases);
  res.canary_names = s.canary_names;
  auto fail = [&res, &s](Refusal r, std::string detail) {
    s.kill_child();
    s.reap();
    s.restore_mask();
    res.failure = r;
    res.detail = std::move(detail);
    res.exit_code = code(r);
    return res;
  };
  if (s.ran) return fail(Refusal::kConfinementFailed, "a prepared launch runs once");
  s.ran = true;
  auto phase_start = Clock::now();
  auto phase = [&res, &phase_start](const char* name) {
    const auto now = Clock::now();
    res.phases_ms.emplace_back(name, std::chrono::duration<double, std::milli>(now - phase_start).count());
    phase_start = now;
  };

  // The release message: how to exec, the limits, the argument vector.
  GoHeader h;
  h.magic = kGoMagic;
  const ContentKind kind = req.content->kind;
  h.flags = (kind == ContentKind::kShellScript ? kGoShell : 0U) | (kind != ContentKind::kElf ? kGoKeepContent : 0U);
  const auto duration_s = std::chrono::duration_cast<std::chrono::seconds>(req.max_duration).count() + 1;
  h.rlimits = RlimitPlan{std::min<std::uint64_t>(cfg.limits.cpu_seconds, static_cast<std::uint64_t>(duration_s)),
                         cfg.limits.address_space_bytes, cfg.limits.file_size_bytes, cfg.limits.processes,
                         cfg.limits.open_files};
  if (const std::string e = check_argument_bounds(req.args); !e.empty()) return fail(Refusal::kConfig, e);
  std::vector<std::string> argv;
  if ((h.flags & kGoShell) != 0) {
    argv = {"sh", "/proc/self/fd/3"};
  } else {
    argv = {req.argv0.substr(0, kMaxArgv0Bytes - 1)};
  }
  argv.insert(argv.end(), req.args.begin(), req.args.end());
  std::string blob;
  for (const auto& a : argv) {
    blob.append(a.c_str());  // an embedded NUL ends the argument, as exec would
    blob.push_back('\0');
  }
  h.argc = static_cast<std::uint32_t>(argv.size());
  h.blob_len = static_cast<std::uint32_t>(blob.size());

  // The content goes first: the child confines itself (limits, descriptors, seccomp)
  // while the network is set up and the spent nonce's fsync runs; it may exec only
  // after the final 'x', which follows both.
  const auto start = Clock::now();
  auto child_report = [&s]() {
    ChildMessage msg;
    UniqueFd ignored;
    ssize_t n = recv_message(s.report.r.get(), msg, ignored);
    if (n == static_cast<ssize_t>(sizeof msg) && msg.kind == kMsgViewReady) n = recv_message(s.report.r.get(), msg, ignored);
    return n == static_cast<ssize_t>(sizeof msg) && msg.kind == kMsgError ? std::string(msg.step) + ": " + std::strerror(msg.err)
                                                                          : std::string("child died before its release");
  };
  if (!send_go(s.sync.w.get(), h, blob, req.content->memfd.get())) {
    return fail(Refusal::kConfinementFailed, child_report());  // the child died building its view
  }
  if (req.setup_network && !s.network_ready) {
    std::string e;
    try {
      e = req.setup_network(s.netns.get(), s.pid);
    } catch (const std::exception& ex) {
      e = ex.what();
    }
    if (!e.empty()) return fail(Refusal::kConfinementFailed, e);
    phase("network_setup");
  }
  if (req.make_nonce_durable) {
    if (std::string e = req.make_nonce_durable(); !e.empty()) return fail(Refusal::kNonceLogFailed, e);
    phase("nonce_fsync (overlaps the child's confinement)");
  }
  if (::send(s.sync.w.get(), "x", 1, MSG_NOSIGNAL) != 1) return fail(Refusal::kConfinementFailed, child_report());
  s.sync.w.reset();

  // The view report (unless ready() read it), the layer report, then EOF (exec
  // succeeded) or an error message. With DenyMode::kNotify, the seccomp listener
  // arrives before the layers.
  const bool seccomp_notify = s.seccomp_mode == DenyMode::kNotify;
  ChildMessage msg;
  UniqueFd listener;
  ssize_t n = recv_message(s.report.r.get(), msg, listener);
  if (n == static_cast<ssize_t>(sizeof msg) && msg.kind == kMsgViewReady) n = recv_message(s.report.r.get(), msg, listener);
  if (n == static_cast<ssize_t>(sizeof msg) && msg.kind == kMsgListener) {
    if (!listener.valid()) n = -1;
    if (n > 0) n = recv_message(s.report.r.get(), msg, listener);
  }
  if (seccomp_notify && !listener.valid() && n > 0 && msg.kind == kMsgLayers) {
    n = -1;  // a filter whose denials nobody answers would not be the reported layer
    msg.kind = 0;
  }
  if (n == static_cast<ssize_t>(sizeof msg) && msg.kind == kMsgLayers) {
    res.layers = msg.layers;
    res.landlock_abi = msg.landlock_abi;
    res.phases_ms.emplace_back("child_fs_view (overlaps the network setup)", msg.fs_view_us / 1000.0);
    res.phases_ms.emplace_back("child_confine_before_exec", msg.confine_us / 1000.0);
    UniqueFd ignored;
    n = recv_message(s.report.r.get(), msg, ignored);
  }
  if (n != 0) {
    const bool is_exec = n == static_cast<ssize_t>(sizeof msg) && std::strcmp(msg.step, "exec") == 0;
    std::string detail = n == static_cast<ssize_t>(sizeof msg)
                             ? std::string(msg.step) + ": " + std::strerror(msg.err)
                             : std::string("child died during setup");
    return fail(is_exec ? Refusal::kExecFailed : Refusal::kConfinementFailed, detail);
  }

  phase("until_exec");
  if (req.on_running) {
    if (std::string e = req.on_running(s.netns.get()); !e.empty()) return fail(Refusal::kConfinementFailed, e);
  }

  // Supervision loop: output, canaries, stop signals or the stop descriptor, seccomp
  // denials, deadline.
  SeccompDenials denials(req.seccomp->deny_errno);
  const auto deadline = start + req.max_duration;
  const std::size_t cap = cfg.limits.output_cap_bytes;
  bool out_open = true, err_open = true, exited = false, stop_open = req.stop_fd >= 0;
  ::fcntl(s.out.r.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(s.err.r.get(), F_SETFL, O_NONBLOCK);
  auto stop = [&]() {
    res.stopped = true;
    s.kill_child();
  };
  while (!exited || out_open || err_open) {
    std::array<pollfd, 7> fds{};
    fds[0] = {out_open ? s.out.r.get() : -1, POLLIN, 0};
    fds[1] = {err_open ? s.err.r.get() : -1, POLLIN, 0};
    fds[2] = {exited ? -1 : s.pidfd.get(), POLLIN, 0};
    fds[3] = {s.canaries->fd(), POLLIN, 0};
    fds[4] = {s.sigfd.valid() && !exited ? s.sigfd.get() : -1, POLLIN, 0};
    fds[5] = {listener.valid() ? listener.get() : -1, POLLIN, 0};
    fds[6] = {stop_open && !exited ? req.stop_fd : -1, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    const int timeout = exited ? 1000 : static_cast<int>(std::max<long long>(0, std::min<long long>(left, 1000)));
    const int pr = ::poll(fds.data(), fds.size(), timeout);
    if (pr < 0 && errno != EINTR) break;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) out_open = pump(s.out.r.get(), res.out, cap);
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) err_open = pump(s.err.r.get(), res.err, cap);
    if ((fds[3].revents & POLLIN) != 0) s.canaries->drain();
    if ((fds[4].revents & POLLIN) != 0) {
      signalfd_siginfo si{};
      (void)!::read(s.sigfd.get(), &si, sizeof si);
      stop();
    }
    if ((fds[6].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      stop_open = false;
      stop();
    }
    if ((fds[5].revents & POLLIN) != 0) {
      if (!denials.answer_one(listener.get())) listener.reset();
    } else if ((fds[5].revents & (POLLHUP | POLLERR)) != 0) {
      listener.reset();  // every process under the filter is gone
    }
    if ((fds[2].revents & POLLIN) != 0) exited = true;
    if (!exited && Clock::now() >= deadline) {
      // pid 1 of the namespace dies, and the kernel kills every process in it.
      res.timed_out = true;
      s.kill_child();
    }
    if (exited && pr == 0) break;  // writers vanished with the namespace; nothing left
  }
  const int status = s.reap();
  phase("content_run_and_namespace_teardown");
  res.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  s.canaries->drain();
  res.canary_touches = s.canaries->touches();
  res.seccomp_denied = denials.entries();
  res.seccomp_denied_other = denials.other();
  if (req.on_exit) req.on_exit(s.netns.get());
  s.restore_mask();
  phase("read_counters");
  if (!req.defer_teardown) {
    spawn_post_run_helper({s.canaries->release_fd(), s.child_mntns.release()}, req.post_run_keep_fd, req.post_run_task);
    phase("post_run_helper");
  }

  if (WIFEXITED(status)) {
    res.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res.term_signal = WTERMSIG(status);
    res.exit_code = 128 + res.term_signal;
  }
  if (res.timed_out) res.exit_code = code(Refusal::kTimeout);
  return res;
}

std::string check_argument_bounds(const std::vector<std::string>& args) {
  std::size_t bytes = 0;
  for (const auto& a : args) bytes += a.size() + 1;
  if (args.size() > kMaxArgs) return "more than " + std::to_string(kMaxArgs) + " arguments";
  if (bytes > kMaxArgBytes) return "arguments larger than " + std::to_string(kMaxArgBytes) + " bytes";
  return "";
}

LaunchResult launch_and_supervise(const LaunchRequest& req) {
  LaunchResult failure;
  const auto prepared = PreparedLaunch::start(req, failure);
  if (!prepared) return failure;
  return prepared->run(req);
}

}  // namespace nonaxis::sandbox
