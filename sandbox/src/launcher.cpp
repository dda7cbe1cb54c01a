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
#include "nonaxis/sandbox/fs_view.hpp"
#include "nonaxis/sandbox/privileges.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// Fixed descriptor numbers in the child after the shuffle.
constexpr int kContentFd = 3;
constexpr int kReportFd = 4;

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

// One report message with room for one attached descriptor. No allocation, so the
// child may use it between clone and exec.
struct FdMessage {
  iovec iov;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  explicit FdMessage(ChildMessage& m) : iov{&m, sizeof m} {
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
  }
  FdMessage(const FdMessage&) = delete;
  FdMessage& operator=(const FdMessage&) = delete;
};

// Child side: sends `m` with descriptor `fd` attached. Async-signal-safe.
bool send_with_fd(int sock, const ChildMessage& m, int fd) {
  FdMessage msg(const_cast<ChildMessage&>(m));
  cmsghdr* c = CMSG_FIRSTHDR(&msg.mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return ::sendmsg(sock, &msg.mh, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof m);
}

// Supervisor side: one message, and the descriptor attached to it if any (CLOEXEC).
ssize_t recv_message(int sock, ChildMessage& m, UniqueFd& fd_out) {
  FdMessage msg(m);
  msghdr& mh = msg.mh;
  ssize_t n = 0;
  while ((n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); n > 0 && c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      fd_out.reset(fd);
    }
  }
  return n;
}

// Everything the child needs, prepared before clone so the child allocates little.
struct ChildPlan {
  FsViewSpec fs;
  std::vector<std::string> argv_storage;
  std::vector<std::string> envp_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  bool run_with_shell = false;
  bool keep_content_open = false;  // scripts: the interpreter reopens /dev/fd/3
  RlimitPlan rlimits{};
  const std::vector<sock_filter>* seccomp = nullptr;
  bool seccomp_notify = false;  // hand the listener to the supervisor before exec
  bool pooled_netns = false;    // inherited a pre-created network namespace
  MacChoice mac;
  std::vector<LandlockGrant> landlock_grants;  // points into fs.grants
  int sync_r = -1, report_w = -1, out_w = -1, err_w = -1, content = -1;
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

// Runs in the new namespaces. Order matters: identity, mounts, MAC preparation,
// limits, session, descriptors, capabilities, no_new_privs, Landlock, seccomp, exec.
[[noreturn]] void child_main(ChildPlan& p) {
  const int report = p.report_w;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Two release points from the supervisor: 'm' once the id maps are written (the
  // filesystem view can then be built), 'g' once the network namespace is ready. The
  // supervisor programs nftables while the child builds its mounts.
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
  if (::read(p.sync_r, &go, 1) != 1 || go != 'g') ::_exit(code(Refusal::kConfinementFailed));
  const std::uint64_t confine_start = now_us();
  ::close(p.sync_r);
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
  if (const int rc = apply_rlimits(p.rlimits); rc != 0) child_fail(report, "rlimits", -rc);
  layers |= kLayerRlimits;
  // New session, no controlling terminal: TIOCSTI has no terminal to inject into.
  if (::setsid() < 0) child_fail(report, "setsid", errno);
  layers |= kLayerSetsid;

  // Descriptors: 0 /dev/null, 1-2 capture pipes, 3 content, 4 report; close the rest.
  // Not CLOEXEC: if it lands on fd 0, dup2(0, 0) keeps it; otherwise close_range drops it.
  const int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull < 0) child_fail(report, "open-dev-null", errno);
  // Move sources above the target range first so dup2 cannot clobber one another.
  const int hi_out = ::fcntl(p.out_w, F_DUPFD_CLOEXEC, 10);
  const int hi_err = ::fcntl(p.err_w, F_DUPFD_CLOEXEC, 10);
  const int hi_content = ::fcntl(p.content, F_DUPFD_CLOEXEC, 10);
  const int hi_report = ::fcntl(report, F_DUPFD_CLOEXEC, 10);
  if (hi_out < 0 || hi_err < 0 || hi_content < 0 || hi_report < 0) child_fail(report, "dup-high", errno);
  if (::dup2(devnull, 0) < 0 || ::dup2(hi_out, 1) < 0 || ::dup2(hi_err, 2) < 0 ||
      ::dup2(hi_content, kContentFd) < 0 || ::dup3(hi_report, kReportFd, O_CLOEXEC) < 0) {
    child_fail(hi_report, "dup-fixed", errno);
  }
  if (!p.keep_content_open && ::fcntl(kContentFd, F_SETFD, FD_CLOEXEC) != 0) child_fail(kReportFd, "cloexec", errno);
  if (::close_range(kReportFd + 1, ~0U, 0) != 0) child_fail(kReportFd, "close_range", errno);
  layers |= kLayerFdsClosed | kLayerEnvCleared;

  if (const int rc = drop_all_capabilities(); rc != 0) child_fail(kReportFd, "drop-capabilities", -rc);
  layers |= kLayerCapsDropped;
  if (const int rc = set_no_new_privs(); rc != 0) child_fail(kReportFd, "no_new_privs", -rc);
  layers |= kLayerNoNewPrivs;
  int landlock_abi = 0;
  if (p.mac.kind == MacKind::kLandlock) {
    if (const int rc = apply_landlock(p.mac.landlock_abi, &landlock_abi, p.landlock_grants.data(), p.landlock_grants.size());
        rc != 0) {
      child_fail(kReportFd, "landlock", -rc);
    }
    layers |= kLayerLandlock;
  } else if (p.mac.kind == MacKind::kAppArmor) {
    layers |= kLayerAppArmor;
  }
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

  ChildMessage m;
  m.kind = kMsgLayers;
  m.layers = layers;
  m.landlock_abi = landlock_abi;
  m.fs_view_us = static_cast<std::uint32_t>(fs_us);
  m.confine_us = static_cast<std::uint32_t>(now_us() - confine_start);
  (void)!::write(kReportFd, &m, sizeof m);
  if (p.run_with_shell) {
    ::execve("/bin/sh", p.argv.data(), p.envp.data());
  } else {
    ::syscall(SYS_execveat, kContentFd, "", p.argv.data(), p.envp.data(), AT_EMPTY_PATH);
  }
  const ChildMessage e = child_error("exec", errno);
  (void)!::write(kReportFd, &e, sizeof e);
  ::_exit(code(Refusal::kExecFailed));
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

LaunchResult launch_and_supervise(const LaunchRequest& req) {
  const SandboxConfig& cfg = *req.config;
  LaunchResult res;
  auto fail = [&res](Refusal r, std::string detail) {
    res.failure = r;
    res.detail = std::move(detail);
    res.exit_code = code(r);
    return res;
  };

  // Per-execution directory: root-owned 0711 parent, the new root's mount point, and
  // the 0700 workspace owned by the sandbox uid.
  auto phase_start = Clock::now();
  auto phase = [&res, &phase_start](const char* name) {
    const auto now = Clock::now();
    res.phases_ms.emplace_back(name, std::chrono::duration<double, std::milli>(now - phase_start).count());
    phase_start = now;
  };
  const std::filesystem::path exec_dir = cfg.run_dir() / req.exec_id;
  const std::filesystem::path root_dir = exec_dir / "root";
  const std::filesystem::path work_dir = exec_dir / "work";
  struct Cleanup {
    std::filesystem::path dir;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (!keep) std::filesystem::remove_all(dir, ec);
    }
  } cleanup{exec_dir, cfg.keep_workspace};
  try {
    ensure_directory(cfg.run_dir(), 0711);
    if (::mkdir(exec_dir.c_str(), 0711) != 0 || ::mkdir(root_dir.c_str(), 0755) != 0 ||
        ::mkdir(work_dir.c_str(), 0700) != 0 || ::chown(work_dir.c_str(), cfg.sandbox_uid, cfg.sandbox_gid) != 0) {
      throw std::system_error(errno, std::generic_category(), "create workspace");
    }
    ::chmod(exec_dir.c_str(), 0711);  // umask may have narrowed it
  } catch (const std::exception& e) {
    return fail(Refusal::kConfinementFailed, e.what());
  }

  std::optional<CanarySet> canaries;
  try {
    canaries.emplace(work_dir.string(), cfg.sandbox_uid, cfg.sandbox_gid);
    res.canary_names = canaries->names();
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
  const auto duration_s = std::chrono::duration_cast<std::chrono::seconds>(req.max_duration).count() + 1;
  plan.rlimits = RlimitPlan{std::min<std::uint64_t>(cfg.limits.cpu_seconds, static_cast<std::uint64_t>(duration_s)),
                            cfg.limits.address_space_bytes, cfg.limits.file_size_bytes, cfg.limits.processes,
                            cfg.limits.open_files};
  const ContentKind kind = req.content->kind;
  plan.run_with_shell = kind == ContentKind::kShellScript;
  plan.keep_content_open = kind != ContentKind::kElf;
  if (plan.run_with_shell) {
    plan.argv_storage = {"sh", "/proc/self/fd/3"};
  } else {
    plan.argv_storage = {req.argv0};
  }
  plan.argv_storage.insert(plan.argv_storage.end(), req.args.begin(), req.args.end());
  plan.envp_storage = build_env(cfg);
  for (auto& a : plan.argv_storage) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  for (auto& e : plan.envp_storage) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);

  Pipe sync, report, out, err;
  try {
    sync = make_pipe();
    report = make_report_channel();
    out = make_pipe();
    err = make_pipe();
  } catch (const std::exception& e) {
    return fail(Refusal::kConfinementFailed, e.what());
  }
  plan.sync_r = sync.r.get();
  plan.report_w = report.w.get();
  plan.out_w = out.w.get();
  plan.err_w = err.w.get();
  plan.content = req.content->memfd.get();

  // SIGINT/SIGTERM stop the content cleanly (and still produce a record).
  sigset_t stop_set;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGTERM);
  sigset_t old_set;
  ::sigprocmask(SIG_BLOCK, &stop_set, &old_set);
  UniqueFd sigfd(::signalfd(-1, &stop_set, SFD_CLOEXEC | SFD_NONBLOCK));

  // A pre-created namespace: the child inherits it from the thread that clones, so
  // this thread enters it for the clone and returns to its own right after.
  const bool pooled = req.pooled_netns >= 0;
  UniqueFd own_netns;
  if (pooled) {
    own_netns.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!own_netns.valid() || ::setns(req.pooled_netns, CLONE_NEWNET) != 0) {
      ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
      return fail(Refusal::kConfinementFailed, std::string("enter pre-created netns: ") + std::strerror(errno));
    }
  }
  int pidfd_raw = -1;
  clone_args ca{};
  ca.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_PIDFD |
             (pooled ? 0ULL : static_cast<std::uint64_t>(CLONE_NEWNET));
  ca.pidfd = reinterpret_cast<std::uint64_t>(&pidfd_raw);
  ca.exit_signal = SIGCHLD;
  const auto start = Clock::now();
  const long cpid = ::syscall(SYS_clone3, &ca, sizeof ca);
  if (cpid == 0) {
    ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
    child_main(plan);
  }
  const int clone_errno = errno;
  if (pooled && ::setns(own_netns.get(), CLONE_NEWNET) != 0) {
    // The supervisor must not go on inside the sandbox's network.
    if (cpid > 0) ::kill(static_cast<pid_t>(cpid), SIGKILL);
    std::abort();
  }
  if (cpid < 0) {
    ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
    return fail(Refusal::kConfinementFailed, std::string("clone3: ") + std::strerror(clone_errno));
  }
  const int pid = static_cast<int>(cpid);
  UniqueFd pidfd(pidfd_raw);
  phase("clone");
  sync.r.reset();
  report.w.reset();
  out.w.reset();
  err.w.reset();
  auto reap = [&]() {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  };
  auto kill_child = [&]() { ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0); };

  UniqueFd netns, child_mntns;
  std::string setup_error;
  try {
    // Held until the post-run helper: the child's exit then leaves the namespace's
    // unmounting (and its RCU grace period) to the helper instead of the exit the
    // supervisor waits for.
    child_mntns.reset(::open(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
    write_id_map(pid, "uid_map", cfg.sandbox_uid);
    write_id_map(pid, "gid_map", cfg.sandbox_gid);
    if (::write(sync.w.get(), "m", 1) != 1) throw std::system_error(errno, std::generic_category(), "release child");
    phase("id_maps");
    netns.reset(pooled ? ::fcntl(req.pooled_netns, F_DUPFD_CLOEXEC, 0)
                       : ::open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns.valid()) throw std::system_error(errno, std::generic_category(), "open child netns");
    if (req.setup_network) setup_error = req.setup_network(netns.get(), pid);
  } catch (const std::exception& e) {
    setup_error = e.what();
  }
  if (!setup_error.empty()) {
    kill_child();
    reap();
    ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
    return fail(Refusal::kConfinementFailed, setup_error);
  }
  phase("network_setup");
  // The spent-nonce fsync overlaps the child's mount work; the content cannot start
  // before it is done.
  if (req.make_nonce_durable) {
    if (std::string e = req.make_nonce_durable(); !e.empty()) {
      kill_child();
      reap();
      ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
      return fail(Refusal::kNonceLogFailed, e);
    }
    phase("nonce_fsync (overlaps the child's filesystem view)");
  }
  (void)!::write(sync.w.get(), "g", 1);
  sync.w.reset();

  // The layer report, then EOF (exec succeeded) or an error message.
  // With DenyMode::kNotify, the seccomp listener arrives first.
  ChildMessage msg;
  UniqueFd listener;
  ssize_t n = recv_message(report.r.get(), msg, listener);
  if (n == static_cast<ssize_t>(sizeof msg) && msg.kind == kMsgListener) {
    if (!listener.valid()) n = -1;
    if (n > 0) n = recv_message(report.r.get(), msg, listener);
  }
  if (plan.seccomp_notify && !listener.valid() && n > 0 && msg.kind == kMsgLayers) {
    n = -1;  // a filter whose denials nobody answers would not be the reported layer
    msg.kind = 0;
  }
  if (n == static_cast<ssize_t>(sizeof msg) && msg.kind == kMsgLayers) {
    res.layers = msg.layers;
    res.landlock_abi = msg.landlock_abi;
    res.phases_ms.emplace_back("child_fs_view (overlaps the network setup)", msg.fs_view_us / 1000.0);
    res.phases_ms.emplace_back("child_confine_before_exec", msg.confine_us / 1000.0);
    UniqueFd ignored;
    n = recv_message(report.r.get(), msg, ignored);
  }
  if (n != 0) {
    const bool is_exec = n == static_cast<ssize_t>(sizeof msg) && std::strcmp(msg.step, "exec") == 0;
    std::string detail = n == static_cast<ssize_t>(sizeof msg)
                             ? std::string(msg.step) + ": " + std::strerror(msg.err)
                             : std::string("child died during setup");
    kill_child();
    reap();
    ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
    return fail(is_exec ? Refusal::kExecFailed : Refusal::kConfinementFailed, detail);
  }

  phase("until_exec");
  if (req.on_running) {
    if (std::string e = req.on_running(netns.get()); !e.empty()) {
      kill_child();
      reap();
      ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
      return fail(Refusal::kConfinementFailed, e);
    }
  }

  // Supervision loop: output, canaries, stop signals, seccomp denials, deadline.
  SeccompDenials denials(req.seccomp->deny_errno);
  const auto deadline = start + req.max_duration;
  const std::size_t cap = cfg.limits.output_cap_bytes;
  bool out_open = true, err_open = true, exited = false;
  ::fcntl(out.r.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err.r.get(), F_SETFL, O_NONBLOCK);
  while (!exited || out_open || err_open) {
    std::array<pollfd, 6> fds{};
    fds[0] = {out_open ? out.r.get() : -1, POLLIN, 0};
    fds[1] = {err_open ? err.r.get() : -1, POLLIN, 0};
    fds[2] = {exited ? -1 : pidfd.get(), POLLIN, 0};
    fds[3] = {canaries->fd(), POLLIN, 0};
    fds[4] = {sigfd.valid() && !exited ? sigfd.get() : -1, POLLIN, 0};
    fds[5] = {listener.valid() ? listener.get() : -1, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    const int timeout = exited ? 1000 : static_cast<int>(std::max<long long>(0, std::min<long long>(left, 1000)));
    const int pr = ::poll(fds.data(), fds.size(), timeout);
    if (pr < 0 && errno != EINTR) break;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) out_open = pump(out.r.get(), res.out, cap);
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) err_open = pump(err.r.get(), res.err, cap);
    if ((fds[3].revents & POLLIN) != 0) canaries->drain();
    if ((fds[4].revents & POLLIN) != 0) {
      signalfd_siginfo si{};
      (void)!::read(sigfd.get(), &si, sizeof si);
      res.stopped = true;
      kill_child();
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
      kill_child();
    }
    if (exited && pr == 0) break;  // writers vanished with the namespace; nothing left
  }
  const int status = reap();
  phase("content_run_and_namespace_teardown");
  res.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  canaries->drain();
  res.canary_touches = canaries->touches();
  res.seccomp_denied = denials.entries();
  res.seccomp_denied_other = denials.other();
  if (req.on_exit) req.on_exit(netns.get());
  ::sigprocmask(SIG_SETMASK, &old_set, nullptr);
  phase("read_counters");
  spawn_post_run_helper({canaries->release_fd(), child_mntns.release()}, req.post_run_keep_fd, req.post_run_task);
  phase("post_run_helper");

  if (WIFEXITED(status)) {
    res.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res.term_signal = WTERMSIG(status);
    res.exit_code = 128 + res.term_signal;
  }
  if (res.timed_out) res.exit_code = code(Refusal::kTimeout);
  return res;
}

}  // namespace nonaxis::sandbox
