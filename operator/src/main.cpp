// nonaxis-operator: the agent-facing command line of the Operator client library.
#include <CLI/CLI.hpp>
#include <iostream>

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/cli.hpp"
#include "nonaxis/bus/config.hpp"
#include "nonaxis/bus/http_surface.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/state.hpp"
#include "nonaxis/operator/client.hpp"
#include "service.hpp"

namespace {

using namespace nonaxis;

// Documented in docs/OPERATOR.md.
constexpr int kExitApproved = 0;
constexpr int kExitRejected = 20;
constexpr int kExitEscalatedOrPending = 21;
constexpr int kExitNoState = 22;  // boot: no authoritative snapshot; tier 0 only

int exit_code_for(const std::string& decision) {
  if (decision == "approve") return kExitApproved;
  if (decision == "reject") return kExitRejected;
  return kExitEscalatedOrPending;
}

void print(const op::Result& r, bool as_json) {
  if (as_json) {
    std::cout << r.to_json().dump() << "\n";
    return;
  }
  std::cout << "request  " << (r.request_id.empty() ? "(none: tier 0)" : r.request_id) << "\n"
            << "decision " << r.decision << (r.decision_method.empty() ? "" : " (" + r.decision_method + ")") << "\n"
            << "reason   " << r.reasoning << "\n";
  for (const auto& f : r.findings) {
    std::cout << "finding  " << f.value("rule_id", std::string("?")) << " [" << f.value("severity", std::string("?"))
              << "] " << f.value("message", std::string()) << "\n";
  }
  if (!r.token.is_null()) std::cout << "token    " << r.token.dump() << "\n";
  if (!r.state_change.is_null()) std::cout << "state    " << r.state_change.dump() << "\n";
}

bus::HttpEndpoint operator_endpoint() { return bus::http_endpoint_from_env("OPERATOR_HTTP_HOST", "OPERATOR_HTTP_PORT", 8302); }

bus::Json read_json_file(const std::string& path, const char* what) {
  const bus::Json j = bus::Json::parse(bus::read_whole_file(path, bus::kMaxStateBytes), nullptr, false);
  if (j.is_discarded()) throw std::invalid_argument(std::string(what) + " " + path + " is not valid JSON");
  return j;
}

op::Client make_client() {
  const auto layout = bus::Layout::from_env();
  auto keys = bus::KeyRing::from_env(bus::kEnvKeyOperator);
  // As root, file requests as the Operator's own user: readers accept only its files.
  const auto run_as = bus::resolve_run_as(bus::Role::kOperator);
  bus::prepare_role_dirs(layout, bus::Role::kOperator, run_as);
  if (run_as) bus::drop_privileges(*run_as);
  return op::Client(layout, std::move(keys));
}

// The State API, when ARBITER_URL names one; else the filesystem bus.
void configure_api(op::Client& client) {
  if (auto ep = bus::http_endpoint_from_url_env("ARBITER_URL")) client.use_state_api(*ep);
}

// Waits for and prints the Arbiter's answer to a handoff or proposal.
int answer(op::Client& client, const std::string& id, double wait, bool as_json) {
  op::Result r;
  if (wait > 0) {
    if (auto d = client.poll_decision(id, std::chrono::milliseconds(static_cast<long long>(wait * 1000)))) r = client.status(id);
  }
  if (r.request_id.empty()) r = client.status(id);
  print(r, as_json);
  return exit_code_for(r.decision);
}

int serve() {
  const auto layout = bus::Layout::from_env();
  bus::KeyRing::from_env(bus::kEnvKeyOperator);  // refuse to start without a usable key
  const auto endpoint = operator_endpoint();
  const auto drain = bus::drain_timeout_from_env();
  const auto run_as = bus::resolve_run_as(bus::Role::kOperator);
  bus::prepare_role_dirs(layout, bus::Role::kOperator, run_as);
  if (run_as) bus::drop_privileges(*run_as);
  bus::wait_for_dirs({layout.decisions(), layout.tokens(), layout.state()}, bus::env_int("NONAXIS_PEER_WAIT_SECONDS", 30, 0, 3600));
  bus::StopSignal stop;
  bus::StopSignal::install_handlers(stop);
  bus::Heartbeat heartbeat;
  bus::HttpSurface surface(endpoint, [&] { return op::operator_readiness(layout, heartbeat); });
  surface.start("OPERATOR_HTTP_HOST", "OPERATOR_HTTP_PORT");
  op::Service service(layout);
  const int rc = service.run(stop, &surface, &heartbeat, drain);
  surface.stop();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  bus::set_log_component("operator");
  CLI::App app{"Nonaxis Operator: file governed actions and read their decisions"};
  app.require_subcommand(1);
  std::string action, file, command, context, id;
  std::vector<std::string> hosts;
  double wait = 30;
  bool json_out = false;
  auto* submit = app.add_subcommand("submit", "File an action for review");
  submit->add_option("--action", action, "Action type (e.g. exec_unfamiliar)")->required();
  auto* src = submit->add_option_group("content");
  src->add_option("--file", file, "Script file");
  src->add_option("--command", command, "Command line");
  src->require_option(1);
  submit->add_option("--host", hosts, "Declared outbound host (repeatable)");
  submit->add_option("--context", context, "Why the action is proposed (no raw user messages)");
  submit->add_option("--wait", wait, "Seconds to wait for a decision (0: do not wait)")->check(CLI::Range(0.0, 3600.0));
  submit->add_flag("--json", json_out, "Print one JSON object");
  auto* init = app.add_subcommand("init", "Create the Operator's directories (done by submit too)");
  auto* boot = app.add_subcommand("boot", "Print the session boot payload: snapshot, ledger, events, last handoff, checks");
  boot->add_flag("--json", json_out, "Print JSON (the only output format)");
  auto* handoff = app.add_subcommand("handoff", "End a session: file a session handoff for the Arbiter");
  std::string handoff_file, session, patch_file, base, rationale;
  std::vector<std::string> summary;
  handoff->add_option("--file", handoff_file, "Handoff JSON (session-handoff.schema.json; ids and timestamp filled in when absent)");
  handoff->add_option("--session", session, "Session id (with --summary, instead of --file)");
  handoff->add_option("--summary", summary, "One summary bullet (repeatable, 1-10)");
  handoff->add_option("--patch", patch_file, "RFC 6902 state updates to propose (JSON array)");
  handoff->add_option("--wait", wait, "Seconds to wait for the Arbiter's answer")->check(CLI::Range(0.0, 3600.0));
  handoff->add_flag("--json", json_out, "Print one JSON object");
  auto* propose = app.add_subcommand("propose", "Propose an RFC 6902 patch to the canonical state");
  propose->add_option("--patch", patch_file, "JSON array of RFC 6902 operations")->required();
  propose->add_option("--base", base, "Snapshot id the patch was written against")->required();
  propose->add_option("--rationale", rationale, "Why the state should change")->required();
  propose->add_option("--session", session, "Session id");
  propose->add_option("--wait", wait, "Seconds to wait for the Arbiter's answer")->check(CLI::Range(0.0, 3600.0));
  propose->add_flag("--json", json_out, "Print one JSON object");
  auto* report = app.add_subcommand("report", "Relay the sandbox's execution record of an approved request to the Arbiter");
  std::string record_file;
  report->add_option("ID", id, "Request id")->required();
  report->add_option("--record", record_file, "The execution record nonaxis-sandbox printed (JSON)")->required();
  auto* serve_cmd = app.add_subcommand("serve", "Run the Operator service (health and metrics surface)");
  auto* probe_cmd = app.add_subcommand("probe", "Exit 0 when the running Operator service answers /readyz with 200");
  bool live = false;
  probe_cmd->add_flag("--live", live, "Probe /livez instead of /readyz");
  auto* status = app.add_subcommand("status", "Show the decision for a request");
  status->add_option("ID", id, "Request id")->required();
  status->add_flag("--json", json_out, "Print one JSON object");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : bus::kExitUsage;
  }
  return bus::run_guarded("nonaxis-operator", [&]() -> int {
    if (*init) {
      make_client();
      return 0;
    }
    if (*serve_cmd) return serve();
    if (*probe_cmd) return bus::probe_http(operator_endpoint(), live ? "/livez" : "/readyz");
    if (*boot) {
      auto client = make_client();
      configure_api(client);
      const auto b = client.boot();
      std::cout << b.dump(2) << "\n";
      return b["snapshot"].is_null() ? kExitNoState : 0;
    }
    if (*handoff) {
      bus::Json h = bus::Json::object();
      if (!handoff_file.empty()) {
        h = read_json_file(handoff_file, "handoff file");
      } else if (session.empty() || summary.empty()) {
        throw std::invalid_argument("handoff needs --file, or --session with at least one --summary");
      }
      if (!session.empty()) h["session_id"] = session;
      if (!summary.empty()) h["session_summary"] = summary;
      if (!patch_file.empty()) h["state_updates_proposed"] = read_json_file(patch_file, "patch file");
      auto client = make_client();
      configure_api(client);
      return answer(client, client.submit_handoff(h), wait, json_out);
    }
    if (*report) {
      auto client = make_client();
      client.report_execution(id, read_json_file(record_file, "record file"));
      std::cout << "execution record filed for " << id << "\n";
      return 0;
    }
    if (*propose) {
      auto client = make_client();
      configure_api(client);
      return answer(client, client.propose_state_patch(base, read_json_file(patch_file, "patch file"), rationale, session), wait, json_out);
    }
    if (*status) {
      auto client = make_client();
      const auto r = client.status(id);
      print(r, json_out);
      return exit_code_for(r.decision);
    }
    op::Action a;
    a.action_type = action;
    a.outbound_hosts = hosts;
    a.context = context;
    if (!file.empty()) {
      a.content.bytes = bus::read_whole_file(file, bus::kMaxContentBytes);
    } else {
      a.content = {command, true};
    }
    auto client = make_client();
    const auto r = client.submit_and_wait(a, std::chrono::milliseconds(static_cast<long long>(wait * 1000)));
    print(r, json_out);
    return exit_code_for(r.decision);
  });
}
