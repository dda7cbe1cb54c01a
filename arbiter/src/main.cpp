// nonaxis-arbiter: deterministic policy, token issuance, the decision ledger and
// the human approvals console.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include <unistd.h>

#include "approvals.hpp"
#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/cli.hpp"
#include "nonaxis/bus/config.hpp"
#include "nonaxis/bus/dir_watcher.hpp"
#include "nonaxis/bus/ledger.hpp"
#include "nonaxis/bus/state_files.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/http_surface.hpp"
#include "service.hpp"
#include "state_api.hpp"
#include "verdict.hpp"

namespace {

using namespace nonaxis;

// As root, a role never runs as root: prepare its directories, then drop to its user.
void become_role(const bus::Layout& layout, bool prepare) {
  const auto run_as = bus::resolve_run_as(bus::Role::kArbiter);
  if (prepare) {
    bus::prepare_role_dirs(layout, bus::Role::kArbiter, run_as);
    for (const std::string& v : {arbiter::verdicts_dir(layout), arbiter::api_inbox_dir(layout)}) {
      if (::mkdir(v.c_str(), 0700) != 0 && errno != EEXIST) throw bus::IoError("mkdir " + v, errno);
      if (run_as && ::chown(v.c_str(), run_as->uid, run_as->gid) != 0) throw bus::IoError("chown " + v, errno);
    }
  }
  if (run_as) bus::drop_privileges(*run_as);
}

// Ready when every directory the Arbiter reads or writes is usable and its loop turns.
std::optional<std::string> readiness(const bus::Layout& layout, const bus::Heartbeat& hb) {
  for (const auto& d : {layout.pending_review(), layout.assessments()}) {
    if (::access(d.c_str(), R_OK | X_OK) != 0) return "cannot read " + d;
  }
  for (const auto& d : {layout.decisions(), layout.tokens(), layout.state(), layout.snapshots(), layout.handoffs()}) {
    if (::access(d.c_str(), W_OK | X_OK) != 0) return "cannot write " + d;
  }
  if (hb.stalled(std::chrono::seconds(10))) return std::string("the decision loop has not run for 10 s");
  return std::nullopt;
}

bus::HttpEndpoint arbiter_endpoint() { return bus::http_endpoint_from_env("ARBITER_HOST", "ARBITER_PORT", 8300); }

int serve() {
  const auto layout = bus::Layout::from_env();
  arbiter::Keys keys{bus::KeyRing::from_env(bus::kEnvKeyArbiter), bus::KeyRing::from_env(bus::kEnvKeyCiso),
                     bus::KeyRing::from_env(bus::kEnvKeyOperator), bus::KeyRing::from_env(bus::kEnvTokenSecret), std::nullopt};
  if (!bus::env_str(bus::kEnvKeySandbox, "").empty()) keys.sandbox = bus::KeyRing::from_env(bus::kEnvKeySandbox);
  for (const auto* ring : {&keys.arbiter, &keys.ciso, &keys.operator_}) {
    if (ring->current().secret == keys.token.current().secret) {
      throw bus::ConfigError(std::string(bus::kEnvTokenSecret) + " must differ from every bus signing key");
    }
  }
  const auto policy = arbiter::Policy::load_configured();
  arbiter::DeciderConfig dcfg;
  dcfg.token_ttl = std::chrono::seconds(bus::env_int("ARBITER_TOKEN_TTL_SECONDS", 300, 10, 86400));
  dcfg.max_duration_seconds = bus::env_int("ARBITER_MAX_DURATION_SECONDS", 60, 1, 86400);
  arbiter::ServiceConfig scfg;
  scfg.assessment_timeout = std::chrono::seconds(bus::env_int("ARBITER_ASSESSMENT_TIMEOUT_SECONDS", 60, 1, 86400));
  scfg.human_timeout = std::chrono::seconds(bus::env_int("ARBITER_HUMAN_TIMEOUT_SECONDS", 1800, 1, 7 * 86400));
  scfg.rescan_interval = std::chrono::seconds(bus::env_int("NONAXIS_RESCAN_SECONDS", 30, 1, 3600));
  scfg.drain_timeout = bus::drain_timeout_from_env();
  scfg.initial_state_path = bus::env_str("ARBITER_INITIAL_STATE", "");
  dcfg.human_timeout_minutes = (scfg.human_timeout.count() + 59) / 60;
  const auto endpoint = arbiter_endpoint();
  const auto skew = std::chrono::seconds(bus::env_int("ARBITER_API_MAX_SKEW_SECONDS", 30, 1, 600));
  become_role(layout, true);
  bus::wait_for_dirs({layout.pending_review(), layout.assessments()}, bus::env_int("NONAXIS_PEER_WAIT_SECONDS", 30, 0, 3600));
  bus::StopSignal stop;
  bus::StopSignal::install_handlers(stop);
  arbiter::Service service(layout, keys, policy, dcfg, scfg);
  bus::Heartbeat heartbeat;
  bus::HttpSurface surface(endpoint, [&] { return readiness(layout, heartbeat); });
  arbiter::StateApi api(layout, keys, skew);
  api.install(surface);
  surface.start("ARBITER_HOST", "ARBITER_PORT");
  bus::log_info("arbiter_starting", {{"policy", policy.origin()}, {"policy_sha256", policy.sha256()}});
  const int rc = service.run(stop, &surface, &heartbeat);
  surface.stop();
  return rc;
}

int verify_ledger(bool as_json) {
  const auto layout = bus::Layout::from_env();
  const auto ring = bus::KeyRing::from_env(bus::kEnvKeyArbiter);
  const std::string text = bus::read_whole_file(layout.ledger_file(), std::size_t{1} << 34);
  std::string head;
  try {
    head = bus::read_whole_file(layout.ledger_head_file(), 4096);
  } catch (const bus::IoError& e) {
    if (e.code() != ENOENT) throw;
  }
  const auto r = bus::verify_ledger(text, ring, head);
  if (as_json) {
    std::cout << nlohmann::json{{"ok", r.ok}, {"entries", r.entries}, {"first_bad_line", r.first_bad_line}, {"reason", r.reason}}.dump() << "\n";
  } else if (r.ok) {
    std::cout << "ledger OK: " << r.entries << " entries, chain head " << r.last_chain_hash << "\n";
  } else {
    std::cout << "ledger BROKEN at line " << r.first_bad_line << ": " << r.reason << "\n";
  }
  return r.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  bus::set_log_component("arbiter");
  CLI::App app{"Nonaxis Arbiter: deterministic policy, execution tokens, decision ledger"};
  app.require_subcommand(1);
  auto* serve_cmd = app.add_subcommand("serve", "Run the Arbiter daemon");
  bool json_out = false;
  auto* verify_cmd = app.add_subcommand("verify-ledger", "Verify the decision ledger's chain and signatures");
  verify_cmd->add_flag("--json", json_out, "Print the result as JSON");
  auto* probe_cmd = app.add_subcommand("probe", "Exit 0 when the running Arbiter answers /readyz with 200 (healthchecks)");
  bool live = false;
  probe_cmd->add_flag("--live", live, "Probe /livez instead of /readyz");
  auto* state_cmd = app.add_subcommand("state", "Human operations on the canonical state");
  state_cmd->require_subcommand(1);
  auto* rollback_cmd = state_cmd->add_subcommand("rollback", "Roll the canonical state back to an earlier snapshot");
  std::string to_snapshot;
  rollback_cmd->add_option("--to", to_snapshot, "Snapshot id to restore")->required();
  auto* approvals = app.add_subcommand("approvals", "Human review of escalated requests");
  approvals->require_subcommand(1);
  auto* list_cmd = approvals->add_subcommand("list", "List escalations waiting for a human");
  list_cmd->add_flag("--json", json_out, "Print JSON");
  std::string id, by, reason;
  int wait = 10;
  auto add_answer = [&](const char* name, const char* help) {
    auto* c = approvals->add_subcommand(name, help);
    c->add_option("ID", id, "Request id")->required();
    c->add_option("--by", by, "Name of the human reviewer")->required();
    c->add_option("--reason", reason, "Reason for the record");
    c->add_option("--wait", wait, "Seconds to wait for the final decision")->check(CLI::Range(0, 600));
    c->add_flag("--json", json_out, "Print JSON");
    return c;
  };
  rollback_cmd->add_option("--by", by, "Name of the human ordering it")->required();
  rollback_cmd->add_option("--reason", reason, "Reason for the record")->required();
  auto* approve_cmd = add_answer("approve", "Approve an escalated request");
  auto* deny_cmd = add_answer("deny", "Deny an escalated request");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : bus::kExitUsage;
  }
  return bus::run_guarded("nonaxis-arbiter", [&]() -> int {
    if (*serve_cmd) return serve();
    if (*verify_cmd) return verify_ledger(json_out);
    if (*probe_cmd) return bus::probe_http(arbiter_endpoint(), live ? "/livez" : "/readyz");
    const auto layout = bus::Layout::from_env();
    if (*list_cmd) {
      become_role(layout, false);
      return arbiter::approvals_list(layout, json_out);
    }
    if (by.empty() || by.size() > 128) throw bus::ConfigError("--by must name the reviewer (1-128 characters)");
    if (*rollback_cmd) {
      const auto key = bus::KeyRing::from_env(bus::kEnvKeyArbiter);
      become_role(layout, false);
      if (!bus::StateFiles(layout).snapshot(to_snapshot)) throw std::invalid_argument("no snapshot " + to_snapshot + " in state/snapshots");
      const std::string order = arbiter::write_rollback(layout, to_snapshot, by, reason, key.current());
      std::cout << "Rollback order " << order << " filed; the Arbiter applies it and records it in the ledger.\n";
      return 0;
    }
    const auto key = bus::KeyRing::from_env(bus::kEnvKeyArbiter);
    become_role(layout, false);
    const bool approve = approve_cmd->parsed();
    if (!approve && !deny_cmd->parsed()) return bus::kExitUsage;
    return arbiter::approvals_answer(layout, key.current(), id, approve, by, reason, wait, json_out);
  });
}
