// nonaxis-run: the thin client of the resident supervisor (`nonaxis-sandbox serve`).
// Same arguments and output as `nonaxis-sandbox run --socket`, in a binary that holds
// no key and carries no crypto, no policy and no confinement code: it opens the token
// and the content as untrusted files and passes their descriptors on. It exists
// because it starts in about half the time of the full binary (docs/SANDBOX.md).
#include <csignal>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "nonaxis/sandbox/exit_codes.hpp"
#include "nonaxis/sandbox/serve.hpp"

namespace sb = nonaxis::sandbox;

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"nonaxis-run: run approved content through the resident nonaxis-sandbox supervisor"};
  sb::ClientRequest req;
  bool json = false;
  if (const char* s = std::getenv("NONAXIS_SANDBOX_SOCKET"); s != nullptr) req.socket_path = s;
  app.add_option("--socket", req.socket_path, "The supervisor's socket (default $NONAXIS_SANDBOX_SOCKET)");
  app.add_option("--token", req.token_path, "Execution token (JSON)")->required();
  app.add_option("--file", req.file_path, "Content to run (ELF, #! script, or sh script)")->required();
  app.add_flag("--json", json, "Print one JSON document: record, exit code, captured output");
  app.add_option("args", req.args, "Arguments after --");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : sb::code(sb::Refusal::kConfig);
  }
  if (req.socket_path.empty()) {
    std::fputs("nonaxis-run: --socket or $NONAXIS_SANDBOX_SOCKET is required\n", stderr);
    return sb::code(sb::Refusal::kConfig);
  }
  return sb::print_outcome(sb::run_via_supervisor(req), json);
}
