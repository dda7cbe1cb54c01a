// nonaxis-ciso: static security analysis of the actions the Operator proposes.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/cli.hpp"
#include "nonaxis/bus/config.hpp"
#include "nonaxis/bus/http_surface.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/messages.hpp"
#include "service.hpp"

namespace {

using namespace nonaxis;

bus::HttpEndpoint ciso_endpoint() { return bus::http_endpoint_from_env("CISO_HTTP_HOST", "CISO_HTTP_PORT", 8301); }

int serve() {
  const auto layout = bus::Layout::from_env();
  const auto ciso_keys = bus::KeyRing::from_env(bus::kEnvKeyCiso);
  const auto operator_keys = bus::KeyRing::from_env(bus::kEnvKeyOperator);
  const auto rescan = std::chrono::seconds(bus::env_int("NONAXIS_RESCAN_SECONDS", 30, 1, 3600));
  const auto analyzer = ciso::Analyzer::load(bus::env_str("CISO_RULES_DIR", ""));
  bus::log_info("ciso_rules_loaded", {{"rules", analyzer.rules().size()},
                                      {"prefilter", analyzer.uses_build_time_prefilter() ? "build-time" : "literal"}});
  const auto endpoint = ciso_endpoint();
  const auto drain = bus::drain_timeout_from_env();
  const auto run_as = bus::resolve_run_as(bus::Role::kCiso);
  bus::prepare_role_dirs(layout, bus::Role::kCiso, run_as);
  if (run_as) bus::drop_privileges(*run_as);
  bus::wait_for_dirs({layout.pending_review()}, bus::env_int("NONAXIS_PEER_WAIT_SECONDS", 30, 0, 3600));
  bus::StopSignal stop;
  bus::StopSignal::install_handlers(stop);
  ciso::Service service(layout, ciso_keys, operator_keys, analyzer, rescan);
  bus::Heartbeat heartbeat;
  bus::HttpSurface surface(endpoint, [&]() -> std::optional<std::string> {
    if (::access(layout.pending_review().c_str(), R_OK | X_OK) != 0) return "cannot read " + layout.pending_review();
    if (::access(layout.assessments().c_str(), W_OK | X_OK) != 0) return "cannot write " + layout.assessments();
    if (heartbeat.stalled(std::chrono::seconds(10))) return std::string("the assessment loop has not run for 10 s");
    return std::nullopt;
  });
  surface.start("CISO_HTTP_HOST", "CISO_HTTP_PORT");
  const int rc = service.run(stop, &surface, &heartbeat, drain);
  surface.stop();
  return rc;
}

int analyze(const std::string& file, const std::string& command, const std::string& action,
            const std::vector<std::string>& hosts, const std::string& context, bool explain) {
  bus::ActionContent content;
  if (!file.empty()) {
    content.bytes = bus::read_whole_file(file, bus::kMaxContentBytes);
  } else {
    content.bytes = command;
    content.is_command = true;
  }
  const auto analyzer = ciso::Analyzer::load(bus::env_str("CISO_RULES_DIR", ""));
  const nlohmann::json request = {{"payload", bus::make_request_payload(action, content, hosts, context)}};
  std::cout << ciso::assess_request(analyzer, request, explain).dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bus::set_log_component("ciso");
  CLI::App app{"Nonaxis CISO: static analysis of proposed agent actions"};
  app.require_subcommand(1);
  auto* serve_cmd = app.add_subcommand("serve", "Run the CISO daemon");
  auto* probe_cmd = app.add_subcommand("probe", "Exit 0 when the running CISO answers /readyz with 200 (healthchecks)");
  bool live = false;
  probe_cmd->add_flag("--live", live, "Probe /livez instead of /readyz");
  auto* analyze_cmd = app.add_subcommand("analyze", "Analyse content and print the assessment payload (touches no queue)");
  std::string file, command, action = "exec_unfamiliar", context;
  std::vector<std::string> hosts;
  bool json_out = false, explain = false;
  auto* src = analyze_cmd->add_option_group("content");
  src->add_option("--file", file, "Script file to analyse");
  src->add_option("--command", command, "Command line to analyse");
  src->require_option(1);
  analyze_cmd->add_option("--action", action, "Action type");
  analyze_cmd->add_option("--host", hosts, "Declared outbound host (repeatable)");
  analyze_cmd->add_option("--context", context, "Operator-supplied context");
  analyze_cmd->add_flag("--json", json_out, "Print JSON (the only output format)");
  analyze_cmd->add_flag("--explain", explain, "Show how each finding contributed to the score");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : bus::kExitUsage;
  }
  return bus::run_guarded("nonaxis-ciso", [&]() -> int {
    if (*serve_cmd) return serve();
    if (*probe_cmd) return bus::probe_http(ciso_endpoint(), live ? "/livez" : "/readyz");
    return analyze(file, command, action, hosts, context, explain);
  });
}
