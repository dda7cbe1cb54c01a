// nonaxis-sandbox: the only component besides the Arbiter that holds the token key.
// Runs exactly the approved content under kernel confinement, or refuses.
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <iostream>

#include "nonaxis/sandbox/exit_codes.hpp"
#include "nonaxis/sandbox/mac.hpp"
#include "nonaxis/sandbox/seccomp_policy.hpp"
#include "nonaxis/sandbox/serve.hpp"
#include "nonaxis/sandbox/session.hpp"

namespace {

using nonaxis::bus::Json;
namespace sb = nonaxis::sandbox;

void add_config_flags(CLI::App* c, sb::SandboxConfig& cfg, std::string& state, std::string& profiles) {
  c->add_option("--state-dir", state, "Spent nonces, records, events (default $NONAXIS_SANDBOX_STATE_DIR)");
  c->add_option("--profiles", profiles, "Directory holding seccomp/ and apparmor/");
  c->add_option("--uplink-netns", cfg.uplink_netns, "Network namespace (/run/netns/NAME) for allowed egress");
  c->add_option("--hosts-file", cfg.hosts_file, "Trusted static name->address map for allowed_hosts");
  c->add_flag("--degrade-mac", cfg.allow_degraded_mac, "Run without AppArmor/Landlock if neither exists (reported)");
  c->add_flag("--force-landlock", cfg.force_landlock, "Use Landlock even where AppArmor is available");
  c->add_flag("--keep-workspace", cfg.keep_workspace, "Keep the per-execution workspace (debugging)");
}

}  // namespace

int main(int argc, char** argv) {
  // Launch latency: on first use OpenSSL 3 parses openssl.cnf, loads its error
  // strings and registers every cipher and digest name (about 1.2 ms), and its
  // default CTR-DRBG fetches AES just to produce a UUID (about 0.9 ms). The sandbox
  // needs only SHA-256, HMAC-SHA-256 and random bytes: HASH-DRBG over SHA-256 (also
  // SP 800-90A) reuses the digest already fetched. An explicit OPENSSL_CONF (e.g. a
  // FIPS setup) is honoured, and then its DRBG choice too.
  const char* openssl_conf = std::getenv("OPENSSL_CONF");
  const bool default_conf = openssl_conf == nullptr || *openssl_conf == '\0';
  OPENSSL_init_crypto((default_conf ? OPENSSL_INIT_NO_LOAD_CONFIG : 0) | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
                          OPENSSL_INIT_NO_ADD_ALL_DIGESTS | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS,
                      nullptr);
  if (default_conf) (void)RAND_set_DRBG_type(nullptr, "HASH-DRBG", nullptr, nullptr, "SHA256");
  // A child that dies during setup closes its end of the release pipe; the write to it
  // must fail with EPIPE, not kill the supervisor before it can report the refusal.
  ::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"nonaxis-sandbox: token-gated execution under kernel confinement"};
  app.require_subcommand(1);
  sb::SessionRequest req;
  req.config = sb::config_from_env();
  std::string state, profiles;
  bool json = false;
  std::string socket_path;
  if (const char* s = std::getenv("NONAXIS_SANDBOX_SOCKET"); s != nullptr) socket_path = s;

  auto* run = app.add_subcommand("run", "Run approved content once");
  run->add_option("--token", req.token_path, "Execution token (JSON)")->required();
  run->add_option("--file", req.file_path, "Content to run (ELF, #! script, or sh script)")->required();
  run->add_flag("--json", json, "Print one JSON document: record, exit code, captured output");
  run->add_option("args", req.args, "Arguments after --");
  run->add_option("--socket", socket_path,
                  "Ask the resident supervisor listening here (default $NONAXIS_SANDBOX_SOCKET); needs no key");
  add_config_flags(run, req.config, state, profiles);

  auto* serve = app.add_subcommand("serve", "Resident supervisor: answer `run --socket` requests with prepared children");
  sb::ServeOptions serve_opts;
  std::string socket_mode = "0600", socket_group;
  bool no_prepare = false;
  serve->add_option("--socket", serve_opts.socket_path, "Socket to listen on")->required();
  serve->add_option("--workers", serve_opts.workers, "Idle workers kept ready, each with one prepared child (default 2)");
  serve->add_option("--max-concurrent", serve_opts.max_processes, "Requests served at once, at most (default 32)");
  serve->add_option("--socket-mode", socket_mode, "Rights of the socket file, octal, at most 0660 (default 0600)");
  serve->add_option("--socket-group", socket_group, "Group of the socket file (name or gid)");
  serve->add_flag("--no-prepare", no_prepare, "Launch every request afresh (for comparisons)");
  add_config_flags(serve, req.config, state, profiles);

  auto* runner = app.add_subcommand("runner", "Launch a long-lived inference runner for the token's lifetime");
  runner->add_option("--token", req.token_path, "Execution token (action_type inference_runner)")->required();
  runner->add_option("--port", req.runner_port, "Port the runner listens on inside its namespace")->required();
  runner->add_option("--host-port", req.host_port, "Host loopback port to forward (default: pick one)");
  runner->add_flag("--json", json, "Print one JSON document at the end");
  runner->add_option("program", req.args, "-- PROGRAM ARGS...")->required();
  add_config_flags(runner, req.config, state, profiles);

  auto* hash = app.add_subcommand("hash", "Print the content_hash a token must carry");
  std::string hash_file;
  std::vector<std::string> hash_runner;
  hash->add_option("--file", hash_file, "Content for run");
  hash->add_option("program", hash_runner, "-- PROGRAM ARGS for runner");

  auto* load = app.add_subcommand("load-apparmor", "Load profiles/apparmor/nonaxis* into the kernel");
  bool complain = false;
  load->add_flag("--complain", complain, "Load in complain mode instead of enforce");
  load->add_option("--profiles", profiles, "Directory holding apparmor/");

  auto* check = app.add_subcommand("check-profiles", "Compile the seccomp profile and report the MAC layer");
  check->add_option("--profiles", profiles, "Directory holding seccomp/ and apparmor/");

  auto* maintain = app.add_subcommand(
      "maintain", "Forget spent nonces of long-expired tokens; restore missing record copies (also runs after executions)");
  maintain->add_option("--state-dir", state, "State directory (default $NONAXIS_SANDBOX_STATE_DIR)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : sb::code(sb::Refusal::kConfig);
  }
  if (!state.empty()) req.config.state_dir = state;
  if (!profiles.empty()) req.config.profiles_dir = profiles;

  try {
    if (*run && !socket_path.empty()) {
      return sb::print_outcome(sb::run_via_supervisor({socket_path, req.token_path, req.file_path, req.args}), json);
    }
    if (*serve) {
      serve_opts.prepare = !no_prepare;
      std::size_t used = 0;
      serve_opts.socket_mode = static_cast<mode_t>(std::stoul(socket_mode, &used, 8));
      if (used != socket_mode.size() || (serve_opts.socket_mode & ~0660U) != 0) {
        std::cerr << "nonaxis-sandbox: --socket-mode must be octal and within 0660\n";
        return sb::code(sb::Refusal::kConfig);
      }
      if (!socket_group.empty()) {
        const auto gid = sb::group_id(socket_group);
        if (!gid) {
          std::cerr << "nonaxis-sandbox: unknown group " << socket_group << "\n";
          return sb::code(sb::Refusal::kConfig);
        }
        serve_opts.socket_group = *gid;
      }
      return sb::serve(serve_opts, req.config);
    }
    if (*run || *runner) {
      req.mode = *run ? sb::Mode::kRun : sb::Mode::kRunner;
      return sb::print_outcome(sb::run_session(req), json);
    }
    if (*hash) {
      if (!hash_file.empty()) {
        std::cout << sb::content_hash_for_file(hash_file) << "\n";
      } else if (!hash_runner.empty()) {
        std::cout << sb::content_hash_for_runner(hash_runner) << "\n";
      } else {
        std::cerr << "hash needs --file or -- PROGRAM ARGS\n";
        return sb::code(sb::Refusal::kConfig);
      }
      return 0;
    }
    if (*load) {
      const std::string err = sb::load_apparmor_profiles(req.config.apparmor_dir().string(), complain);
      if (!err.empty()) {
        std::cerr << "nonaxis-sandbox: " << err << "\n";
        return sb::code(sb::Refusal::kMacUnavailable);
      }
      return 0;
    }
    if (*maintain) {
      sb::maintain_state(req.config, true);
      return 0;
    }
    if (*check) {
      const auto sc = sb::compile_seccomp_profile(req.config.seccomp_profile_path());
      Json j = {{"seccomp", {{"profile", sc.name}, {"version", sc.version}, {"allowed_syscalls", sc.allowed_syscalls},
                             {"must_deny_on_this_arch", sc.denied_by_name}, {"bpf_instructions", sc.program.size()}}},
                {"apparmor_enabled", sb::apparmor_enabled()},
                {"apparmor_profile_loaded", sb::apparmor_profile_loaded(req.config.apparmor_profile)},
                {"landlock_abi", sb::landlock_abi_version()}};
      std::cout << j.dump(1) << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "nonaxis-sandbox: " << e.what() << "\n";
    return sb::code(sb::Refusal::kConfig);
  }
  return sb::code(sb::Refusal::kConfig);
}
