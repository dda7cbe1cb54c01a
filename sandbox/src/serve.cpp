#include "nonaxis/sandbox/serve.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <map>

#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/keys.hpp"
#include "nonaxis/sandbox/durable_write.hpp"
#include "nonaxis/sandbox/events.hpp"
#include "nonaxis/sandbox/frame_io.hpp"
#include "nonaxis/sandbox/stop_signals.hpp"

namespace nonaxis::sandbox {
namespace {

using Clock = std::chrono::steady_clock;
using Json = bus::Json;

// A worker that dies this soon after it started, with a failure, is not respawned at
// once: a broken host (no namespaces, full disk) must not become a fork loop.
constexpr auto kQuickFailure = std::chrono::seconds(1);
constexpr int kRequestTimeoutSeconds = 5;
// A replacement for a worker that took a request is forked this much later while
// another prepared worker is still idle: preparing a child costs about as much CPU as
// the request itself, and on a small machine the two would slow each other down.
// With no idle worker left, the replacement is forked at once.
constexpr auto kRefillDelay = std::chrono::milliseconds(25);

// Binds the listening socket 0600 first (umask), then widens it to the configured
// mode: there is no moment at which someone else may connect too early.
UniqueFd bind_listener(const ServeOptions& o) {
  const sockaddr_un addr = unix_socket_address(o.socket_path);
  struct stat st {};
  if (::lstat(o.socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw std::runtime_error(o.socket_path + " exists and is not a socket");
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.valid() && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      throw std::runtime_error("another supervisor is listening on " + o.socket_path);
    }
    ::unlink(o.socket_path.c_str());  // a stale socket from a supervisor that died
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) throw std::system_error(errno, std::generic_category(), "socket");
  const mode_t old_umask = ::umask(0177);
  const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old_umask);
  if (rc != 0) throw std::system_error(bind_errno, std::generic_category(), "bind " + o.socket_path);
  if (o.socket_group && ::chown(o.socket_path.c_str(), static_cast<uid_t>(-1), *o.socket_group) != 0) {
    throw std::system_error(errno, std::generic_category(), "chown " + o.socket_path);
  }
  if (::chmod(o.socket_path.c_str(), o.socket_mode & 0660) != 0) {
    throw std::system_error(errno, std::generic_category(), "chmod " + o.socket_path);
  }
  if (::listen(fd.get(), 128) != 0) throw std::system_error(errno, std::generic_category(), "listen");
  return fd;
}

Json peer_of(int conn) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return Json(nullptr);
  return Json{{"uid", cred.uid}, {"gid", cred.gid}, {"pid", cred.pid}};
}

Json outcome_json(const SessionOutcome& o) {
  Json j = {{"exit_code", o.exit_code}, {"record", o.record}, {"events", o.events}};
  j["refusal"] = o.refusal ? Json{{"code", code(*o.refusal)}, {"reason", std::string(reason(*o.refusal))},
                                  {"detail", o.detail}}
                           : Json(nullptr);
  return j;
}

// Reads and checks one request; answers it with run_session.
SessionOutcome handle_request(int conn, const SandboxConfig& cfg, const CompiledSeccomp& seccomp, const MacChoice& mac,
                              PreparedLaunch* prepared, const EventSink& events) {
  const Json requester = peer_of(conn);
  const timeval tv{kRequestTimeoutSeconds, 0};
  ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::vector<UniqueFd> fds;
  std::string err;
  const auto frame = recv_frame(conn, kMaxRequestFrameBytes, &fds, err);
  auto protocol_error = [&](const std::string& detail) {
    events.emit("sandbox.refused", {{"reason", std::string(reason(Refusal::kConfig))},
                                    {"exit_code", code(Refusal::kConfig)},
                                    {"detail", "request: " + detail},
                                    {"requester", requester}});
    return refused_outcome(Refusal::kConfig, "request: " + detail);
  };
  if (!frame) return protocol_error(err.empty() ? "connection closed before a request" : err);
  Json doc;
  try {
    doc = Json::parse(*frame);
  } catch (const Json::exception&) {
    return protocol_error("not JSON");
  }
  if (!doc.is_object()) return protocol_error("not a JSON object");
  for (const auto& [k, v] : doc.items()) {
    if (k != "v" && k != "mode" && k != "name" && k != "args") return protocol_error("unknown field " + k);
  }
  if (!doc.contains("v") || doc["v"] != kServeProtocolVersion) return protocol_error("unsupported protocol version");
  if (!doc.contains("mode") || doc["mode"] != "run") {
    return protocol_error("the resident supervisor answers mode \"run\" only; start runners with the one-shot CLI");
  }
  if (fds.size() != 2) return protocol_error("expected 2 descriptors (token, content), got " + std::to_string(fds.size()));
  SessionRequest req;
  req.mode = Mode::kRun;
  req.config = cfg;
  req.echo_events = false;
  req.capture_events = true;
  req.requester = requester;
  req.token_fd = fds[0].get();
  req.content_fd = fds[1].get();
  try {
    if (doc.contains("name")) req.content_name = doc["name"].get<std::string>();
    if (doc.contains("args")) req.args = doc["args"].get<std::vector<std::string>>();
  } catch (const Json::exception&) {
    return protocol_error("name must be a string and args an array of strings");
  }
  if (req.content_name.empty() || req.content_name.find('/') != std::string::npos || req.content_name.size() > 255) {
    req.content_name = "content";
  }
  req.prepared = prepared;
  req.seccomp = &seccomp;
  req.mac = &mac;
  req.stop_fd = conn;
  req.defer_teardown = true;
  return run_session(req);
}

void answer(int conn, const SessionOutcome& o) {
  // The client may be gone (it was stopped); the record is on disk regardless.
  if (send_frame(conn, outcome_json(o).dump(-1, ' ', false, Json::error_handler_t::replace)).empty() &&
      send_frame(conn, o.stdout_data).empty()) {
    (void)send_frame(conn, o.stderr_data);
  }
}

// One worker: prepare a child, wait for one request, answer it, exit. Exiting is the
// teardown (the child's namespaces, canaries, execution directory), after the answer.
[[noreturn]] void worker_main(int listen_fd, int taken_fd, const ServeOptions& o, const SandboxConfig& cfg,
                              const CompiledSeccomp& seccomp, const MacChoice& mac) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
  int rc = 0;
  {
    const EventSink events(cfg.event_log(), false);
    const UniqueFd sigfd = block_stop_signals(nullptr);
    std::unique_ptr<PreparedLaunch> prepared;
    if (o.prepare) {
      LaunchResult failure;
      prepared = prepare_default_launch(cfg, seccomp, mac, failure);
      if (!prepared) {
        // Requests still run, each with a fresh launch; the operator learns why.
        events.emit("sandbox.prepare_failed", {{"detail", failure.detail}});
        rc = 1;
      }
    }
    for (;;) {
      pollfd fds[2] = {{listen_fd, POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
      if ((fds[1].revents & POLLIN) != 0) break;
      if ((fds[0].revents & POLLIN) == 0) continue;
      const UniqueFd conn(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn.valid()) continue;  // another worker took it
      // Tell the supervisor at once, so that a replacement prepares its child while
      // this request runs (and while this worker's teardown waits out its RCU and
      // SRCU grace periods after the answer).
      const pid_t self = ::getpid();
      (void)!::write(taken_fd, &self, sizeof self);
      answer(conn.get(), handle_request(conn.get(), cfg, seccomp, mac, prepared.get(), events));
      rc = 0;  // it served: not a failure, whatever its preparation did
      break;
    }
  }
  ::_exit(rc);
}

}  // namespace

std::optional<gid_t> group_id(const std::string& name_or_gid) {
  if (name_or_gid.empty()) return std::nullopt;
  if (name_or_gid.find_first_not_of("0123456789") == std::string::npos && name_or_gid.size() < 10) {
    return static_cast<gid_t>(std::stoul(name_or_gid));
  }
  const group* g = ::getgrnam(name_or_gid.c_str());
  if (g == nullptr) return std::nullopt;
  return g->gr_gid;
}

int serve(const ServeOptions& o, const SandboxConfig& cfg) {
  auto refuse_start = [](Refusal r, const std::string& why) {
    std::cerr << "nonaxis-sandbox serve: " << why << "\n";
    return code(r);
  };
  if (o.workers == 0 || o.workers > 64) return refuse_start(Refusal::kConfig, "--workers must be 1 to 64");
  if (o.max_processes < o.workers || o.max_processes > 1024) {
    return refuse_start(Refusal::kConfig, "--max-concurrent must be at least --workers and at most 1024");
  }
  try {
    // The keys are read for every request, as the CLI does; a supervisor that could
    // never verify a token does not start.
    (void)bus::KeyRing::from_env(bus::kEnvTokenSecret);
    (void)bus::KeyRing::from_env(bus::kEnvKeySandbox);
  } catch (const bus::ConfigError& e) {
    return refuse_start(Refusal::kConfig, e.what());
  }
  CompiledSeccomp seccomp;
  try {
    ensure_directory(cfg.state_dir, 0711);
    seccomp = compile_seccomp_profile_cached(cfg.seccomp_profile_path(), cfg.seccomp_cache_dir());
  } catch (const std::exception& e) {
    return refuse_start(Refusal::kConfig, e.what());
  }
  std::string mac_refusal;
  const MacChoice mac = choose_mac(cfg, mac_refusal);
  if (!mac_refusal.empty()) return refuse_start(Refusal::kMacUnavailable, mac_refusal);
  // Workers report on this pipe (their pid, one atomic write) when they take a
  // request; the supervisor then keeps `workers` idle ones ready, up to
  // `max_processes` in all.
  int taken[2] = {-1, -1};
  if (::pipe2(taken, O_CLOEXEC | O_NONBLOCK) != 0) return refuse_start(Refusal::kConfig, "pipe2 failed");
  const UniqueFd taken_r(taken[0]), taken_w(taken[1]);
  UniqueFd listener;
  try {
    listener = bind_listener(o);
  } catch (const std::exception& e) {
    return refuse_start(Refusal::kConfig, e.what());
  }
  const EventSink events(cfg.event_log(), true);
  UniqueFd sigfd = block_stop_signals(nullptr, true);
  events.emit("sandbox.serve_started", {{"socket", o.socket_path}, {"workers", o.workers}, {"max_concurrent", o.max_processes},
                                        {"prepare", o.prepare}});

  struct Worker {
    Clock::time_point started;
    bool busy = false;
  };
  std::map<pid_t, Worker> workers;
  auto idle_count = [&workers] {
    std::size_t n = 0;
    for (const auto& [pid, w] : workers) n += w.busy ? 0 : 1;
    return n;
  };
  bool stopping = false;
  auto backoff_until = Clock::now();  // after quick failures
  auto refill_at = Clock::now();      // kRefillDelay after a request was taken
  auto may_spawn = [&] {
    const auto now = Clock::now();
    return !stopping && idle_count() < o.workers && workers.size() < o.max_processes && now >= backoff_until &&
           (idle_count() == 0 || now >= refill_at);
  };
  while (!stopping || !workers.empty()) {
    while (may_spawn()) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        sigfd.reset();
        worker_main(listener.get(), taken_w.get(), o, cfg, seccomp, mac);
      }
      if (pid < 0) {
        backoff_until = Clock::now() + kQuickFailure;
        break;
      }
      workers.emplace(pid, Worker{Clock::now(), false});
    }
    const auto wake = std::max(backoff_until, idle_count() == 0 ? backoff_until : refill_at);
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count();
    pollfd p[2] = {{sigfd.get(), POLLIN, 0}, {taken_r.get(), POLLIN, 0}};
    const bool short_of_workers = !stopping && idle_count() < o.workers && workers.size() < o.max_processes;
    ::poll(p, 2, short_of_workers ? static_cast<int>(std::max<long long>(1, wait_ms)) : -1);
    pid_t busy_pid = 0;
    while (::read(taken_r.get(), &busy_pid, sizeof busy_pid) == static_cast<ssize_t>(sizeof busy_pid)) {
      if (const auto it = workers.find(busy_pid); it != workers.end()) it->second.busy = true;
      refill_at = Clock::now() + kRefillDelay;
    }
    signalfd_siginfo si{};
    while (::read(sigfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      if ((si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) && !stopping) {
        stopping = true;
        for (const auto& [pid, w] : workers) ::kill(pid, SIGTERM);
      }
    }
    int status = 0;
    pid_t pid = 0;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      const auto it = workers.find(pid);
      if (it == workers.end()) continue;
      const bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
      if (failed && Clock::now() - it->second.started < kQuickFailure) {
        events.emit("sandbox.worker_failed", {{"pid", pid}, {"status", status}});
        backoff_until = Clock::now() + kQuickFailure;
      }
      workers.erase(it);
    }
  }
  ::unlink(o.socket_path.c_str());
  events.emit("sandbox.serve_stopped", {{"socket", o.socket_path}});
  return 0;
}

}  // namespace nonaxis::sandbox
