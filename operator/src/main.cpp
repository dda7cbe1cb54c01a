// nonaxis-operator: the agent-facing command line of the Operator client library.
#include <CLI/CLI.hpp>
#include <iostream>

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/cli.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/operator/client.hpp"

namespace {

using namespace nonaxis;

// Documented in docs/OPERATOR.md.
constexpr int kExitApproved = 0;
constexpr int kExitRejected = 20;
constexpr int kExitEscalatedOrPending = 21;

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
  auto* boot = app.add_subcommand("boot", "Print the session boot payload (ledger and event tails)");
  boot->add_flag("--json", json_out, "Print JSON (the only output format)");
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
    if (*boot) {
      auto client = make_client();
      std::cout << client.boot().dump(2) << "\n";
      return 0;
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
