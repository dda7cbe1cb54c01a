#include "nonaxis/sandbox/session.hpp"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <csignal>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/keys.hpp"
#include "nonaxis/sandbox/child_error.hpp"
#include "nonaxis/sandbox/content.hpp"
#include "nonaxis/sandbox/durable_write.hpp"
#include "nonaxis/sandbox/egress.hpp"
#include "nonaxis/sandbox/events.hpp"
#include "nonaxis/sandbox/execution_record.hpp"
#include "nonaxis/sandbox/launcher.hpp"
#include "nonaxis/sandbox/netns_pool.hpp"
#include "nonaxis/sandbox/nonce_store.hpp"
#include "nonaxis/sandbox/path_grants.hpp"
#include "nonaxis/sandbox/port_forward.hpp"
#include "nonaxis/sandbox/untrusted_file.hpp"

namespace nonaxis::sandbox {
namespace {

using Json = bus::Json;
using std::chrono::system_clock;

std::string sha256_of(const std::string& s) { return "sha256:" + bus::sha256_hex(s); }

// Where a run's network namespace came from, for the record.
constexpr const char* kNetnsFresh = "created for this execution";
constexpr const char* kNetnsPooled = "pre-created, single-use";
constexpr const char* kNetnsPrepared = "prepared for this execution before the request, single-use";

// The egress table of a run that reaches no host: default drop, counters.
std::string install_no_host_table(int netns_fd) { return install_egress_table(netns_fd, EgressPlan{}); }

Json layers_json(const LaunchResult& r, const MacChoice& mac, const CompiledSeccomp& sc, const SandboxConfig& c,
                 long long duration_s, bool egress_uplink, const std::vector<PathGrant>& grants,
                 const char* netns_origin) {
  Json paths = Json::array();
  for (const auto& g : grants) {
    paths.push_back({{"path", g.path}, {"access", g.writable ? "read-write" : "read-only"},
                     {"kind", g.is_dir ? "directory" : "file"}});
  }
  Json mac_j = {{"kind", (r.layers & kLayerAppArmor) != 0   ? "apparmor"
                         : (r.layers & kLayerLandlock) != 0 ? "landlock"
                                                            : "none"}};
  if ((r.layers & kLayerAppArmor) != 0) mac_j["profile"] = mac.apparmor_profile;
  if ((r.layers & kLayerLandlock) != 0) mac_j["abi"] = r.landlock_abi;
  if (mac.degraded) mac_j["degraded"] = true;
  return Json{{"active", layer_names(r.layers)},
              {"namespaces", {"user", "mount", "pid", "ipc", "uts", "net", "cgroup"}},
              {"filesystem", {{"root", "read-only minimal view"}, {"workspace", "/work (0700, fresh, noexec)"},
                              {"tmp", "tmpfs"}, {"allowed_paths", paths}}},
              {"seccomp", {{"profile", sc.name}, {"version", sc.version}, {"allowed_syscalls", sc.allowed_syscalls},
                           {"denials", sc.mode == DenyMode::kNotify ? "answered by the supervisor, recorded" : "in kernel"},
                           {"foreign_arch", "kill"}}},
              {"mac", mac_j},
              {"rlimits", {{"cpu_seconds", std::min<long long>(static_cast<long long>(c.limits.cpu_seconds), duration_s + 1)},
                           {"address_space_bytes", c.limits.address_space_bytes},
                           {"file_size_bytes", c.limits.file_size_bytes},
                           {"processes", c.limits.processes},
                           {"open_files", c.limits.open_files}}},
              {"timeout_seconds", duration_s},
              {"output_cap_bytes", c.limits.output_cap_bytes},
              {"egress", {{"nftables", true}, {"uplink", egress_uplink},
                          {"net_namespace", netns_origin}}},
              {"canaries", r.canary_names.size()}};
}

}  // namespace

MacChoice choose_mac(const SandboxConfig& c, std::string& refusal_detail) {
  MacChoice m;
  if (!c.force_landlock && apparmor_enabled()) {
    if (!apparmor_profile_loaded(c.apparmor_profile)) {
      const std::string err = load_apparmor_profiles(c.apparmor_dir().string(), false);
      if (!err.empty()) {
        refusal_detail = "AppArmor is enabled but profile " + c.apparmor_profile + " could not be loaded: " + err;
        return m;
      }
    }
    if (apparmor_profile_loaded(c.apparmor_profile)) {
      m.kind = MacKind::kAppArmor;
      m.apparmor_profile = c.apparmor_profile;
      return m;
    }
  }
  if (const int abi = landlock_abi_version(); abi > 0) {
    m.kind = MacKind::kLandlock;
    m.landlock_abi = abi;
    return m;
  }
  if (c.allow_degraded_mac) {
    m.kind = MacKind::kNone;
    m.degraded = true;
    m.detail = "no AppArmor and no Landlock; running degraded by explicit configuration";
    return m;
  }
  refusal_detail = "neither AppArmor nor Landlock is available and degrading is not configured";
  return m;
}

std::unique_ptr<PreparedLaunch> prepare_default_launch(const SandboxConfig& cfg, const CompiledSeccomp& seccomp,
                                                       const MacChoice& mac, LaunchResult& failure) {
  // The same view inputs run_session derives from a token without hosts, resolver or
  // allowed_paths; fits() checks them again before the child is used.
  LaunchRequest lr;
  lr.config = &cfg;
  lr.seccomp = &seccomp;
  lr.mac = mac;
  lr.exec_id = bus::uuid_v4();
  lr.etc_hosts = pinned_etc_hosts(EgressPlan{});
  lr.etc_resolv = resolv_conf(EgressPlan{});
  auto prepared = PreparedLaunch::start(lr, failure);
  if (!prepared) return prepared;
  if (const std::string e = prepared->setup_network_early([](int netns_fd, int) { return install_no_host_table(netns_fd); });
      !e.empty()) {
    failure = LaunchResult::refused(Refusal::kConfinementFailed, e);
    return nullptr;
  }
  return prepared;
}

void maintain_state(const SandboxConfig& cfg, bool force) {
  // After the record, off the path that decides whether content may run. Throttled:
  // the directory scan runs at most once per interval across all sandboxes.
  try {
    NonceStore store(cfg.nonce_dir());
    const auto now = system_clock::now();
    const std::size_t removed = force ? store.prune(now, cfg.nonce_grace)
                                      : store.prune_if_due(now, cfg.nonce_grace, cfg.maintenance_interval);
    if (force || removed > 0) republish_missing_records(cfg.record_dir());
  } catch (const std::exception&) {
    // Maintenance is retried next time; a failure here never affects a run.
  }
}

std::optional<std::string> resolve_runner_program(const std::string& program) {
  std::string candidate;
  if (program.find('/') != std::string::npos) {
    candidate = program;
  } else {
    for (const char* dir : {"/usr/local/bin/", "/usr/bin/", "/bin/"}) {
      if (::access((dir + program).c_str(), X_OK) == 0) {
        candidate = dir + program;
        break;
      }
    }
  }
  if (candidate.empty()) return std::nullopt;
  char buf[PATH_MAX];
  if (::realpath(candidate.c_str(), buf) == nullptr) return std::nullopt;
  return std::string(buf);
}

std::string content_hash_for_file(const std::string& path) { return "sha256:" + seal_content(path).sha256_hex; }

std::string content_hash_for_runner(const std::vector<std::string>& program_and_args) {
  const auto prog = resolve_runner_program(program_and_args.at(0));
  if (!prog) throw UntrustedFileError("runner program not found: " + program_and_args.at(0));
  const SealedContent c = seal_content(*prog);
  return "sha256:" + runner_content_hash(c.sha256_hex, {program_and_args.begin() + 1, program_and_args.end()});
}

SessionOutcome run_session(const SessionRequest& req) {
  const SandboxConfig& cfg = req.config;
  SessionOutcome out;
  // Per-phase wall time, reported in the record: what each step costs in production.
  Json timing = Json::object();
  auto lap = [&timing, t = std::chrono::steady_clock::now()](const char* phase) mutable {
    const auto now = std::chrono::steady_clock::now();
    timing[phase] = std::chrono::duration<double, std::milli>(now - t).count();
    t = now;
  };
  std::optional<EventSink> events;
  try {
    ensure_directory(cfg.state_dir, 0711);
    events.emplace(cfg.event_log(), req.echo_events);
  } catch (const std::exception& e) {
    events.emplace("", req.echo_events);
  }
  if (req.capture_events) events->capture_into(&out.events);
  std::string token_id;
  auto refuse = [&](Refusal r, const std::string& detail) {
    out.refusal = r;
    out.detail = detail;
    out.exit_code = code(r);
    Json ev = {{"reason", std::string(reason(r))},
               {"exit_code", code(r)},
               {"detail", detail},
               {"token_id", token_id},
               {"mode", req.mode == Mode::kRunner ? "runner" : "run"}};
    if (!req.requester.is_null()) ev["requester"] = req.requester;
    events->emit("sandbox.refused", ev);
    return out;
  };

  // Keys: the token key (verify only) and the sandbox's own record-signing key.
  std::optional<bus::KeyRing> token_ring, signing;
  try {
    token_ring = bus::KeyRing::from_env(bus::kEnvTokenSecret);
    signing = bus::KeyRing::from_env(bus::kEnvKeySandbox);
  } catch (const bus::ConfigError& e) {
    return refuse(Refusal::kConfig, e.what());
  }

  std::string detail;
  const auto token = req.token_fd >= 0 ? load_token_fd(req.token_fd, detail) : load_token_file(req.token_path, detail);
  if (!token) return refuse(Refusal::kTokenMalformed, detail);

  // Content, hashed from the bytes that will execute (sealed memfd).
  SealedContent content;
  std::string argv0 = "content";
  std::vector<std::string> args = req.args;
  std::string hash_hex;
  try {
    if (req.mode == Mode::kRun && req.content_fd >= 0) {
      check_untrusted_regular(req.content_fd, kMaxContentBytes, "content", nullptr);
      content = seal_content_fd(req.content_fd, kMaxContentBytes, "nonaxis-content");
      hash_hex = content.sha256_hex;
      if (!req.content_name.empty()) argv0 = req.content_name;
    } else if (req.mode == Mode::kRun) {
      content = seal_content(req.file_path);
      hash_hex = content.sha256_hex;
      argv0 = std::filesystem::path(req.file_path).filename().string();
    } else {
      if (req.args.empty()) return refuse(Refusal::kConfig, "runner needs -- PROGRAM [ARGS...]");
      const auto prog = resolve_runner_program(req.args[0]);
      if (!prog) return refuse(Refusal::kContentUnreadable, "runner program not found: " + req.args[0]);
      content = seal_content(*prog);
      argv0 = req.args[0];
      args.assign(req.args.begin() + 1, req.args.end());
      hash_hex = runner_content_hash(content.sha256_hex, args);
    }
  } catch (const UntrustedFileError& e) {
    return refuse(Refusal::kContentUnreadable, e.what());
  }

  lap("read_token_and_seal_content");
  const auto now = system_clock::now();
  GateOutcome gate = check_token(*token, *token_ring, req.mode, hash_hex, now, cfg.clock_skew);
  token_id = gate.scope.token_id;
  if (gate.refusal) return refuse(*gate.refusal, gate.detail);
  const TokenScope& scope = gate.scope;
  if (req.mode == Mode::kRunner && req.runner_port == 0) return refuse(Refusal::kConfig, "runner needs --port");
  // Checked before the nonce is spent, so an oversized request does not burn the token.
  if (const std::string e = check_argument_bounds(args); !e.empty()) return refuse(Refusal::kConfig, e);

  CompiledSeccomp seccomp;
  try {
    seccomp = req.seccomp != nullptr ? *req.seccomp
                                     : compile_seccomp_profile_cached(cfg.seccomp_profile_path(), cfg.seccomp_cache_dir());
  } catch (const std::exception& e) {
    return refuse(Refusal::kConfig, e.what());
  }
  lap("verify_token_and_load_seccomp");
  std::string mac_refusal;
  MacChoice mac = req.mac != nullptr ? *req.mac : choose_mac(cfg, mac_refusal);
  if (!mac_refusal.empty()) return refuse(Refusal::kMacUnavailable, mac_refusal);
  if (mac.degraded) events->emit("sandbox.degraded", {{"detail", mac.detail}, {"token_id", token_id}});

  // allowed_paths: checked here, then bound into the view and opened in the MAC layer.
  std::vector<PathGrant> grants;
  if (const std::string e = plan_path_grants(scope.allowed_paths, cfg.state_dir, grants); !e.empty()) {
    return refuse(Refusal::kScopeNotAllowed, e);
  }
  if (!grants.empty() && mac.kind == MacKind::kAppArmor) {
    // The fixed profile knows no host paths; a profile adding exactly these grants is
    // generated and loaded once per distinct grant set.
    std::string name;
    const std::string text = apparmor_profile_for_grants(mac.apparmor_profile, grants, name);
    if (!apparmor_profile_loaded(name)) {
      if (const std::string e = load_apparmor_profile_text(cfg.apparmor_dir().string(), name, text, cfg.state_dir.string());
          !e.empty() || !apparmor_profile_loaded(name)) {
        return refuse(Refusal::kMacUnavailable, "AppArmor profile for allowed_paths could not be loaded: " + e);
      }
    }
    mac.apparmor_profile = name;
  }

  EgressPlan egress;
  if (req.mode == Mode::kRun) {
    if (const std::string e = plan_egress(scope.allowed_hosts, cfg.hosts_file, egress); !e.empty()) {
      return refuse(Refusal::kHostUnresolvable, e);
    }
    if (!egress.hosts.empty() && cfg.uplink_netns.empty()) {
      return refuse(Refusal::kScopeNotAllowed, "token allows hosts but no uplink namespace is configured");
    }
  } else if (!scope.allowed_hosts.empty()) {
    // A runner's network is its loopback and the forwarded port, nothing else.
    return refuse(Refusal::kScopeNotAllowed, "an inference_runner token must not allow hosts");
  }

  // Duration: the token's max, else the default; a runner lives for the token's lifetime.
  long long duration_s = scope.max_duration_seconds.value_or(cfg.limits.default_duration_seconds);
  if (req.mode == Mode::kRunner) {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(scope.expires - now).count();
    duration_s = scope.max_duration_seconds ? std::min<long long>(*scope.max_duration_seconds, left) : left;
    if (duration_s <= 0) return refuse(Refusal::kTokenExpired, "token has no lifetime left for a runner");
  }

  LaunchRequest lr;
  lr.config = &cfg;
  lr.content = &content;
  lr.seccomp = &seccomp;
  lr.mac = mac;
  lr.argv0 = argv0;
  lr.args = args;
  lr.max_duration = std::chrono::seconds(duration_s);
  lr.etc_hosts = pinned_etc_hosts(egress);
  lr.etc_resolv = resolv_conf(egress);
  lr.path_grants = grants;
  lr.stop_fd = req.stop_fd;
  // A prepared child is used only when it is exactly the child this token would get
  // (fits) and it is alive with its view built (ready): the nonce is spent on it next,
  // so a child that failed before the request never costs a token.
  const bool use_prepared = req.prepared != nullptr && req.mode == Mode::kRun && egress.hosts.empty() &&
                            !egress.resolver && req.prepared->fits(lr) && req.prepared->ready(1000);

  lap("choose_mac_and_plan_egress");
  // Last gate: spend the nonce. After this the token can never run again. The mark's
  // fsync is committed by the launcher while the child builds its view, and before the
  // content may exec (LaunchRequest::make_nonce_durable).
  SpendClaim nonce_claim;
  try {
    NonceStore store(cfg.nonce_dir());
    // The clock is read again: the expiry is re-checked under the store's lock, so a
    // concurrent prune never forgets the nonce of a token that is still usable.
    nonce_claim = store.claim(scope.nonce, scope.token_id, scope.expires_at, system_clock::now(), cfg.clock_skew);
    switch (nonce_claim.result) {
      case SpendResult::kSpent: break;
      case SpendResult::kReplayed: return refuse(Refusal::kNonceReplayed, "token nonce was already used");
      case SpendResult::kExpired: return refuse(Refusal::kTokenExpired, "token expired before its nonce was spent");
    }
  } catch (const std::exception& e) {
    return refuse(Refusal::kNonceLogFailed, std::string("spent-nonce log: ") + e.what());
  }

  lap("claim_nonce");
  const std::string exec_id = use_prepared ? req.prepared->exec_id() : bus::uuid_v4();
  PortForwarder forwarder;
  if (req.mode == Mode::kRunner) {
    if (const std::string e = forwarder.listen(req.host_port); !e.empty()) {
      return refuse(Refusal::kConfinementFailed, "runner forward port: " + e);
    }
  }
  std::vector<RuleCounter> counters;
  UplinkLink link;
  // A run that reaches no host gets a pre-created namespace with exactly the table it
  // would otherwise get; the others (hosts, resolver, runners) get a new one.
  const bool poolable = !use_prepared && req.mode == Mode::kRun && egress.hosts.empty() && !egress.resolver &&
                        cfg.netns_pool_size > 0;
  std::optional<NetnsPool> pool;
  UniqueFd pooled_netns, pool_lock;
  if (poolable) {
    try {
      pool.emplace(cfg.netns_pool_dir());
      pooled_netns = pool->claim();
      pool_lock = pool->try_lock();  // held by the post-run helper while it refills
    } catch (const std::exception&) {
      // No pool: a namespace is created at launch instead.
    }
  }
  lr.exec_id = exec_id;
  lr.pooled_netns = pooled_netns.valid() ? pooled_netns.get() : -1;
  lr.make_nonce_durable = [&nonce_claim]() -> std::string {
    try {
      nonce_claim.commit();
      return "";
    } catch (const std::exception& e) {
      return std::string("spent-nonce log: ") + e.what();
    }
  };
  if (pool && pool_lock.valid()) {
    lr.post_run_keep_fd = pool_lock.get();
    lr.post_run_task = [&pool, size = cfg.netns_pool_size]() { pool->refill_with_lock_held(size); };
  }
  lr.setup_network = [&](int netns_fd, int) -> std::string {
    if (pooled_netns.valid()) {
      // Pre-created: its table must be there, complete and untouched (no packet
      // counted), or this namespace is not what the record will claim it is.
      const auto pre = read_egress_counters(netns_fd);
      bool v4 = false, v6 = false;
      for (const auto& c : pre) {
        if (c.packets != 0 || c.label.rfind("error", 0) == 0) return "pre-created netns is not pristine: " + c.label;
        v4 = v4 || c.label == "refused ipv4 out";
        v6 = v6 || c.label == "refused ipv6 out";
      }
      return v4 && v6 ? "" : "pre-created netns lacks its egress table";
    }
    if (!egress.hosts.empty() || egress.resolver) {
      if (std::string e = attach_uplink(netns_fd, cfg.uplink_netns, link); !e.empty()) return e;
    }
    return install_egress_table(netns_fd, egress);
  };
  if (req.mode == Mode::kRunner) {
    lr.on_running = [&](int netns_fd) -> std::string {
      forwarder.start(netns_fd, req.runner_port);
      events->emit("sandbox.runner_listening", {{"token_id", scope.token_id},
                                                {"execution_id", exec_id},
                                                {"host", "127.0.0.1"},
                                                {"host_port", forwarder.host_port()},
                                                {"runner_port", req.runner_port},
                                                {"until_seconds", duration_s}});
      return "";
    };
  }
  lr.on_exit = [&](int netns_fd) {
    forwarder.stop();
    counters = read_egress_counters(netns_fd);
  };
  const auto started_at = system_clock::now();
  LaunchResult r;
  if (use_prepared) {
    // Its namespace already holds the no-host table (prepare_default_launch).
    lr.setup_network = nullptr;
    lr.defer_teardown = req.defer_teardown;
    r = req.prepared->run(lr);
  } else {
    r = launch_and_supervise(lr);
  }
  const auto finished_at = system_clock::now();
  lap("launch_supervise_teardown");
  Json launch_phases = Json::object();
  for (const auto& [name, ms] : r.phases_ms) launch_phases[name] = ms;
  timing["launch_phases"] = launch_phases;
  timing["prepared_before_request"] = use_prepared;
  if (r.failure) {
    // The nonce is spent: a launch failure after the gate is not retried with the same token.
    return refuse(*r.failure, r.detail);
  }

  Json violations = Json::array();
  for (const auto& t : r.canary_touches) {
    violations.push_back({{"kind", "canary_touched"}, {"file", t.file}, {"access", t.what}});
  }
  if (r.timed_out) violations.push_back({{"kind", "timeout"}, {"limit_seconds", duration_s}});
  if (r.term_signal == SIGSYS) violations.push_back({{"kind", "seccomp_kill"}});
  for (const auto& d : r.seccomp_denied) {
    violations.push_back({{"kind", "seccomp_denied"}, {"syscall", d.syscall}, {"count", d.count}});
  }
  if (r.seccomp_denied_other > 0) {
    violations.push_back({{"kind", "seccomp_denied"}, {"syscall", "other"}, {"count", r.seccomp_denied_other}});
  }
  if (r.term_signal == SIGXCPU) violations.push_back({{"kind", "rlimit_cpu"}});
  if (r.term_signal == SIGXFSZ) violations.push_back({{"kind", "rlimit_file_size"}});
  if (r.out.truncated()) violations.push_back({{"kind", "output_truncated"}, {"stream", "stdout"}});
  if (r.err.truncated()) violations.push_back({{"kind", "output_truncated"}, {"stream", "stderr"}});
  Json counter_j = Json::array();
  for (const auto& c : counters) {
    counter_j.push_back({{"rule", c.label}, {"packets", c.packets}, {"bytes", c.bytes}});
    if (c.label.rfind("refused", 0) == 0 && c.packets > 0) {
      violations.push_back({{"kind", "egress_refused"}, {"rule", c.label}, {"packets", c.packets}});
    }
  }
  Json hosts_j = Json::array();
  for (const auto& h : egress.hosts) {
    Json hj = {{"host", h.name}, {"ipv4", h.ipv4}, {"ipv6", h.ipv6}};
    if (h.port) hj["port"] = *h.port;
    hosts_j.push_back(hj);
  }

  Json payload = {
      {"execution_id", exec_id},
      {"token_id", scope.token_id},
      {"action_type", scope.action_type},
      {"mode", req.mode == Mode::kRunner ? "runner" : "run"},
      {"content_hash", "sha256:" + hash_hex},
      {"content_kind", to_string(content.kind)},
      {"content_bytes", content.size},
      {"started_at", bus::rfc3339_micro(started_at)},
      {"finished_at", bus::rfc3339_micro(finished_at)},
      {"duration_ms", static_cast<double>(r.duration.count()) / 1000.0},
      {"exit", {{"code", r.exit_code},
                {"signal", r.term_signal},
                {"timed_out", r.timed_out},
                {"stopped", r.stopped}}},
      {"layers", layers_json(r, mac, seccomp, cfg, duration_s, !link.host_ifname.empty(), grants,
                             use_prepared ? kNetnsPrepared : pooled_netns.valid() ? kNetnsPooled : kNetnsFresh)},
      {"violations", violations},
      {"egress", {{"allowed_hosts", hosts_j},
                  {"resolver", egress.resolver ? Json(*egress.resolver) : Json(nullptr)},
                  {"counters", counter_j}}},
      {"output", {{"stdout_bytes", r.out.total},
                  {"stderr_bytes", r.err.total},
                  {"stdout_sha256", sha256_of(r.out.data)},
                  {"stderr_sha256", sha256_of(r.err.data)},
                  {"stdout_truncated", r.out.truncated()},
                  {"stderr_truncated", r.err.truncated()}}},
  };
  if (req.mode == Mode::kRunner) {
    payload["runner"] = {{"host", "127.0.0.1"},
                         {"host_port", forwarder.host_port()},
                         {"runner_port", req.runner_port},
                         {"connections", forwarder.connections()}};
  }
  for (const auto& t : r.canary_touches) {
    events->emit("sandbox.incident", {{"kind", "canary_touched"},
                                      {"file", t.file},
                                      {"access", t.what},
                                      {"token_id", scope.token_id},
                                      {"execution_id", exec_id}});
  }
  payload["timing_ms"] = timing;  // phases before the record; the record's own cost follows in the event
  try {
    out.record = sign_and_store_record(payload, signing->current(), cfg.record_dir());
    lap("sign_and_store_record");
  } catch (const std::exception& e) {
    // The program ran; failing to record it is reported loudly, and the exit code says so.
    events->emit("sandbox.record_failed", {{"execution_id", exec_id}, {"detail", e.what()}});
    out.record = Json{{"payload", payload}, {"unsigned", true}};
    out.exit_code = code(Refusal::kConfinementFailed);
    out.stdout_data = std::move(r.out.data);
    out.stderr_data = std::move(r.err.data);
    return out;
  }
  maintain_state(cfg);
  Json executed = {{"execution_id", exec_id},
                   {"token_id", scope.token_id},
                   {"exit_code", r.exit_code},
                   {"violations", violations.size()},
                   {"record_ms", timing["sign_and_store_record"]}};
  if (!req.requester.is_null()) executed["requester"] = req.requester;
  events->emit("sandbox.executed", executed);
  out.exit_code = r.exit_code;
  out.stdout_data = std::move(r.out.data);
  out.stderr_data = std::move(r.err.data);
  return out;
}

}  // namespace nonaxis::sandbox
