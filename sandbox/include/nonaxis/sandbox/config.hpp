#pragma once
// Sandbox configuration: where state lives, which policies to load, and the resource
// limits. Filled from NONAXIS_SANDBOX_* environment variables, then CLI flags.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nonaxis::sandbox {

struct Limits {
  std::uint64_t cpu_seconds = 300;                                // RLIMIT_CPU (also capped by duration)
  std::uint64_t address_space_bytes = std::uint64_t{8} << 30;    // RLIMIT_AS
  std::uint64_t file_size_bytes = std::uint64_t{256} << 20;      // RLIMIT_FSIZE
  std::uint64_t processes = 512;                                 // RLIMIT_NPROC (per sandbox uid)
  std::uint64_t open_files = 256;                                // RLIMIT_NOFILE
  std::uint64_t tmpfs_bytes = std::uint64_t{64} << 20;           // size of /tmp and the workspace view
  std::size_t output_cap_bytes = std::size_t{1} << 20;           // per stream, stdout and stderr
  long long default_duration_seconds = 60;                       // when the token sets no max
};

struct SandboxConfig {
  std::filesystem::path state_dir = "/var/lib/nonaxis/sandbox";  // nonces/, records/, run/, events.jsonl
  std::filesystem::path profiles_dir;                            // holds seccomp/ and apparmor/
  std::string seccomp_profile = "default";                       // profiles_dir/seccomp/<name>.json
  std::string apparmor_profile = "nonaxis-sandbox-exec";         // loaded profile name for aa_change_onexec
  bool allow_degraded_mac = false;     // run without AppArmor and Landlock (reported, never silent)
  bool force_landlock = false;         // ignore AppArmor even if present (tests, comparisons)
  std::string uplink_netns;            // /run/netns/<name> to attach egress to; empty = no uplink
  std::filesystem::path hosts_file;    // trusted static name -> address map for allowed_hosts
  std::uint32_t sandbox_uid = 65534;   // outside uid/gid that uid 0 inside maps to
  std::uint32_t sandbox_gid = 65534;
  bool keep_workspace = false;
  std::chrono::seconds clock_skew{5};
  // A spent nonce is remembered until its token has been expired this long. Far more
  // than the skew, so a clock stepped back by less than an hour cannot revive a token.
  std::chrono::seconds nonce_grace{3600};
  std::chrono::seconds maintenance_interval{600};
  // Pre-created single-use network namespaces kept ready for runs without egress
  // hosts (0 = always create one at launch). NONAXIS_SANDBOX_NETNS_POOL.
  std::size_t netns_pool_size = 2;
  std::vector<std::string> env_allowlist = {"LANG", "LC_ALL", "TZ", "TERM"};
  Limits limits;

  std::filesystem::path nonce_dir() const { return state_dir / "nonces"; }
  std::filesystem::path record_dir() const { return state_dir / "records"; }
  std::filesystem::path run_dir() const { return state_dir / "run"; }
  std::filesystem::path seccomp_cache_dir() const { return state_dir / "seccomp-cache"; }
  std::filesystem::path netns_pool_dir() const { return state_dir / "netns-pool"; }
  std::filesystem::path event_log() const { return state_dir / "events.jsonl"; }
  std::filesystem::path seccomp_profile_path() const { return profiles_dir / "seccomp" / (seccomp_profile + ".json"); }
  std::filesystem::path apparmor_dir() const { return profiles_dir / "apparmor"; }
};

// Defaults overlaid with NONAXIS_SANDBOX_STATE_DIR, NONAXIS_SANDBOX_PROFILES,
// NONAXIS_SANDBOX_DEGRADE_MAC=1, NONAXIS_SANDBOX_FORCE_LANDLOCK=1,
// NONAXIS_SANDBOX_UPLINK_NETNS, NONAXIS_SANDBOX_HOSTS_FILE, NONAXIS_SANDBOX_UID/GID.
SandboxConfig config_from_env();

}  // namespace nonaxis::sandbox
