// Runs INSIDE the sandbox. Each probe attempts one escape (or, for positive
// controls, one thing that must keep working) and prints one line:
//   "BLOCKED <probe> <errno-name>"  the escape failed (exit 0)
//   "ESCAPED <probe> <detail>"      the escape worked   (exit 1)
//   "OK <probe> <detail>"           a positive control worked (exit 0)
//   "FAILED <probe> <detail>"       a positive control failed (exit 1)
// Built without sanitizers: it must run under the sandbox's rlimits and seccomp.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <string>

namespace {

int blocked_if(bool failed, const char* probe, int err) {
  if (failed) {
    std::printf("BLOCKED %s %s\n", probe, strerrorname_np(err) ? strerrorname_np(err) : "?");
    return 0;
  }
  std::printf("ESCAPED %s\n", probe);
  return 1;
}

int ok_if(bool ok, const char* probe, const std::string& detail) {
  std::printf("%s %s %s\n", ok ? "OK" : "FAILED", probe, detail.c_str());
  return ok ? 0 : 1;
}

long sys(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) { return ::syscall(nr, a, b, c, d, e); }

std::string status_field(const char* name) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return "";
  char line[256];
  std::string out;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    const std::string key = std::string(name) + ":";
    if (std::strncmp(line, key.c_str(), key.size()) == 0) {
      out = line + key.size();
      while (!out.empty() && (out.front() == ':' || out.front() == '\t' || out.front() == ' ')) out.erase(0, 1);
      while (!out.empty() && out.back() == '\n') out.pop_back();
    }
  }
  std::fclose(f);
  return out;
}

int connect_to(const char* ip, int port) {
  const bool v6 = std::strchr(ip, ':') != nullptr;
  const int s = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (s < 0) return -errno;
  timeval tv{3, 0};
  ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc;
  if (v6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET6, ip, &sa.sin6_addr);
    rc = ::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip, &sa.sin_addr);
    rc = ::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  const int err = errno;
  if (rc == 0) {
    const char req[] = "GET / HTTP/1.0\r\n\r\n";
    (void)!::write(s, req, sizeof req - 1);
    char buf[64] = {};
    const ssize_t n = ::read(s, buf, sizeof buf - 1);
    ::close(s);
    return n > 0 ? 0 : -EIO;
  }
  ::close(s);
  return -err;
}

int probe(const std::string& name, int argc, char** argv) {
  const char* p = name.c_str();
  // --- escape classes: each must be BLOCKED ---
  if (name == "read-host-file") return blocked_if(::open(argv[2], O_RDONLY) < 0, p, errno);
  if (name == "write-system") return blocked_if(::open("/usr/nonaxis-probe", O_WRONLY | O_CREAT, 0644) < 0, p, errno);
  if (name == "write-etc") return blocked_if(::open("/etc/passwd", O_WRONLY | O_APPEND) < 0, p, errno);
  if (name == "exec-from-workspace") {
    // Copy a system binary into the workspace and try to run it: W^X.
    int in = ::open("/bin/true", O_RDONLY), out = ::open("/work/copied-true", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char buf[65536];
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = ::read(in, buf, sizeof buf)) > 0) (void)!::write(out, buf, static_cast<size_t>(n));
    ::close(in);
    ::close(out);
    ::chmod("/work/copied-true", 0755);
    char* args[] = {const_cast<char*>("/work/copied-true"), nullptr};
    ::execv(args[0], args);
    return blocked_if(true, p, errno);
  }
  if (name == "ptrace") return blocked_if(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0, p, errno);
  if (name == "ptrace-attach") return blocked_if(::ptrace(PTRACE_ATTACH, 1, nullptr, nullptr) != 0, p, errno);
  if (name == "process-vm-readv") return blocked_if(sys(SYS_process_vm_readv, 1, 0, 0, 0, 0) != 0 && errno == EPERM, p, errno);
  if (name == "mount") return blocked_if(::mount("tmpfs", "/tmp", "tmpfs", 0, nullptr) != 0, p, errno);
  if (name == "unshare-user") return blocked_if(::unshare(CLONE_NEWUSER) != 0, p, errno);
  if (name == "unshare-net") return blocked_if(::unshare(CLONE_NEWNET) != 0, p, errno);
  if (name == "setns") return blocked_if(::setns(0, 0) != 0 && errno == EPERM, p, errno);
  if (name == "clone-newns") {
    const long rc = sys(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (rc == 0) ::_exit(0);
    return blocked_if(rc < 0, p, errno);
  }
  if (name == "io-uring") return blocked_if(sys(SYS_io_uring_setup, 8, 0) < 0 && errno == EPERM, p, errno);
  if (name == "bpf") return blocked_if(sys(SYS_bpf, 0, 0, 0) < 0 && errno == EPERM, p, errno);
  if (name == "userfaultfd") return blocked_if(sys(SYS_userfaultfd, 0) < 0 && errno == EPERM, p, errno);
  if (name == "perf-event-open") return blocked_if(sys(SYS_perf_event_open, 0, 0, -1, -1, 0) < 0 && errno == EPERM, p, errno);
  if (name == "keyctl") return blocked_if(sys(SYS_keyctl, 0, 0) < 0 && errno == EPERM, p, errno);
  if (name == "kexec") return blocked_if(sys(SYS_kexec_load, 0, 0, 0, 0) < 0 && errno == EPERM, p, errno);
  if (name == "init-module") return blocked_if(sys(SYS_init_module, 0, 0, 0) < 0 && errno == EPERM, p, errno);
  if (name == "open-by-handle") return blocked_if(sys(SYS_open_by_handle_at, 0, 0, 0) < 0 && errno == EPERM, p, errno);
  if (name == "af-alg") return blocked_if(::socket(38 /*AF_ALG*/, SOCK_SEQPACKET, 0) < 0, p, errno);
  if (name == "af-vsock") return blocked_if(::socket(40 /*AF_VSOCK*/, SOCK_STREAM, 0) < 0, p, errno);
  if (name == "af-packet") return blocked_if(::socket(AF_PACKET, SOCK_RAW, 0) < 0, p, errno);
  if (name == "tiocsti") {
    char c = 'x';
    return blocked_if(::ioctl(0, TIOCSTI, &c) != 0 && errno == EPERM, p, errno);
  }
  if (name == "tiocsti-high-bit") {
    char c = 'x';
    return blocked_if(sys(SYS_ioctl, 0, static_cast<long>(0x100000000UL | TIOCSTI), reinterpret_cast<long>(&c)) != 0 &&
                          errno == EPERM,
                      p, errno);
  }
  if (name == "tioclinux") return blocked_if(::ioctl(0, TIOCLINUX, nullptr) != 0 && errno == EPERM, p, errno);
  if (name == "foreign-arch") {
    // i386 getpid via int 0x80: the filter only knows x86_64, so this kills us.
    long ret;
    asm volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
    std::printf("ESCAPED %s returned %ld\n", p, ret);
    return 1;
  }
  if (name == "net-external") {
    const int rc = connect_to(argc > 2 ? argv[2] : "198.51.100.1", argc > 3 ? std::atoi(argv[3]) : 80);
    return blocked_if(rc != 0, p, -rc);
  }
  if (name == "host-signal") return blocked_if(::kill(std::atoi(argv[2]), 0) != 0, p, errno);
  if (name == "setuid-gain") {
    return blocked_if(::setresuid(1, 1, 1) != 0 || ::setresuid(0, 0, 0) != 0 ? true : false, p, errno);
  }
  // --- state checks: report the confinement the probe finds itself in ---
  if (name == "self-state") {
    DIR* d = ::opendir("/proc/self/fd");
    std::string fds;
    while (dirent* e = d ? ::readdir(d) : nullptr) {
      if (e->d_name[0] == '.') continue;
      const int fd = std::atoi(e->d_name);
      if (fd > 2 && fd != ::dirfd(d)) fds += std::string(e->d_name) + ",";
    }
    if (d) ::closedir(d);
    int procs = 0;
    if (DIR* pd = ::opendir("/proc")) {
      while (dirent* e = ::readdir(pd)) procs += (e->d_name[0] >= '0' && e->d_name[0] <= '9') ? 1 : 0;
      ::closedir(pd);
    }
    char host[64] = {};
    ::gethostname(host, sizeof host);
    rlimit cpu{}, as{}, fsize{}, nproc{}, nofile{};
    ::getrlimit(RLIMIT_CPU, &cpu);
    ::getrlimit(RLIMIT_AS, &as);
    ::getrlimit(RLIMIT_FSIZE, &fsize);
    ::getrlimit(RLIMIT_NPROC, &nproc);
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    const char* secret = std::getenv("ARBITER_TOKEN_SECRET");
    const char* sbkey = std::getenv("GOVERNANCE_SIGNING_KEY_SANDBOX");
    // Signal state the supervisor must not pass on: a blocked mask or ignored SIGPIPE.
    std::printf("SigBlk=%s\nSigIgn=%s\n", status_field("SigBlk").c_str(), status_field("SigIgn").c_str());
    std::printf("CapEff=%s\nCapBnd=%s\nCapPrm=%s\nNoNewPrivs=%s\nSeccomp=%s\n", status_field("CapEff").c_str(),
                status_field("CapBnd").c_str(), status_field("CapPrm").c_str(), status_field("NoNewPrivs").c_str(),
                status_field("Seccomp").c_str());
    std::printf("extra_fds=%s\nprocs=%d\nhostname=%s\npid=%d\nsid_is_pid=%d\ncwd_ok=%d\n", fds.c_str(), procs, host,
                ::getpid(), ::getsid(0) == ::getpid() ? 1 : 0, ::access("/work", W_OK) == 0 ? 1 : 0);
    std::printf("rlimit_cpu=%llu\nrlimit_as=%llu\nrlimit_fsize=%llu\nrlimit_nproc=%llu\nrlimit_nofile=%llu\n",
                static_cast<unsigned long long>(cpu.rlim_max), static_cast<unsigned long long>(as.rlim_max),
                static_cast<unsigned long long>(fsize.rlim_max), static_cast<unsigned long long>(nproc.rlim_max),
                static_cast<unsigned long long>(nofile.rlim_max));
    std::printf("secret_env=%d\nsandbox_key_env=%d\n", secret != nullptr ? 1 : 0, sbkey != nullptr ? 1 : 0);
    return 0;
  }
  // --- positive controls: each must be OK ---
  if (name == "write-workspace") {
    const int fd = ::open("/work/out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const bool ok = fd >= 0 && ::write(fd, "data\n", 5) == 5;
    if (fd >= 0) ::close(fd);
    const int t = ::open("/tmp/scratch", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    return ok_if(ok && t >= 0, p, ok ? "written" : std::strerror(errno));
  }
  if (name == "read-system-lib") {
    const int fd = ::open("/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY);
    char buf[4] = {};
    const bool ok = fd >= 0 && ::read(fd, buf, 4) == 4 && std::memcmp(buf, "\x7f" "ELF", 4) == 0;
    return ok_if(ok, p, ok ? "read ELF header" : std::strerror(errno));
  }
  if (name == "spawn-child") {
    const pid_t pid = ::fork();
    if (pid == 0) {
      char* args[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"), const_cast<char*>("exit 7"), nullptr};
      ::execv(args[0], args);
      ::_exit(99);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    return ok_if(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7, p, "child exit " + std::to_string(WEXITSTATUS(st)));
  }
  if (name == "net-allowed") {
    const int rc = connect_to(argv[2], std::atoi(argv[3]));
    return ok_if(rc == 0, p, rc == 0 ? "connected" : std::strerror(-rc));
  }
  if (name == "resolve-pinned") {
    // The allowed host's name resolves from the pinned /etc/hosts, without DNS.
    FILE* f = std::fopen("/etc/hosts", "r");
    char line[256];
    bool found = false;
    while (f && std::fgets(line, sizeof line, f)) found = found || std::strstr(line, argv[2]) != nullptr;
    if (f) std::fclose(f);
    return ok_if(found, p, found ? "pinned" : "absent");
  }
  if (name == "read-canary") {
    const int fd = ::open("/work/passwords.txt", O_RDONLY);
    char buf[16];
    const bool ok = fd >= 0 && ::read(fd, buf, sizeof buf) > 0;
    return ok_if(ok, p, "read canary");
  }
  if (name == "sleep-tree") {
    // A child that outlives us would write /work/late; the namespace kill prevents it.
    if (::fork() == 0) {
      ::sleep(2);
      const int fd = ::open("/work/late", O_WRONLY | O_CREAT, 0600);
      if (fd >= 0) ::close(fd);
      ::_exit(0);
    }
    ::sleep(30);
    return 0;
  }
  if (name == "flood") {
    static char buf[65536];
    std::memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 48; ++i) (void)!::write(1, buf, sizeof buf);  // 3 MiB
    return 0;
  }
  // allowed_paths: what a grant permits must work, what it does not must fail.
  if (name == "read-path") {
    const int fd = ::open(argv[2], O_RDONLY);
    char buf[16];
    const bool ok = fd >= 0 && ::read(fd, buf, sizeof buf) >= 0;
    return ok_if(ok, p, ok ? "read" : std::strerror(errno));
  }
  if (name == "write-path") {
    const int fd = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const bool ok = fd >= 0 && ::write(fd, "granted\n", 8) == 8;
    return ok_if(ok, p, ok ? "written" : std::strerror(errno));
  }
  if (name == "write-host-file") return blocked_if(::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600) < 0, p, errno);
  if (name == "exec-path") {
    char* args[] = {argv[2], nullptr};
    ::execv(argv[2], args);
    return blocked_if(true, p, errno);
  }
  if (name == "exit") return std::atoi(argv[2]);
  std::printf("FAILED unknown-probe %s\n", p);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  return probe(argv[1], argc, argv);
}
