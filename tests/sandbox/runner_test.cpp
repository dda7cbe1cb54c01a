// Runner mode: a long-lived server under the same confinement, reachable from the
// host only through the sandbox's forwarded loopback port. python3's http.server
// stands in for llama.cpp/vLLM (same shape: a loopback HTTP listener).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <fstream>
#include <thread>

#include "nonaxis/sandbox/content.hpp"
#include "nonaxis/sandbox/exit_codes.hpp"
#include "nonaxis/sandbox/session.hpp"
#include "privileged.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

std::uint16_t free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(s);
  return ntohs(sa.sin_port);
}

// GET / on 127.0.0.1:port; returns the status line or "" when unreachable.
std::string http_get(std::uint16_t port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{2, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    const char req[] = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    (void)!::write(s, req, sizeof req - 1);
    char buf[256] = {};
    const ssize_t n = ::read(s, buf, sizeof buf - 1);
    if (n > 0) out.assign(buf, static_cast<std::size_t>(n));
  }
  ::close(s);
  return out.substr(0, out.find('\r'));
}

std::vector<std::string> runner_cmd(std::uint16_t inner) {
  return {"python3", "-m", "http.server", "--bind", "127.0.0.1", std::to_string(inner)};
}

TEST(SandboxRunner, ServesOnlyThroughForwardedPort) {
  NONAXIS_REQUIRE_ROOT();
  testing::TempDir d;
  testing::set_test_keys();
  const std::uint16_t inner = free_port(), host = free_port();
  const auto cmd = runner_cmd(inner);
  const auto tok = testing::write_token(d.path(), testing::issue(content_hash_for_runner(cmd), {}, 60, "inference_runner"));
  std::vector<std::string> args = {"runner", "--json", "--token", tok.string(), "--port", std::to_string(inner),
                                   "--host-port", std::to_string(host), "--state-dir", (d.path() / "state").string(), "--"};
  args.insert(args.end(), cmd.begin(), cmd.end());
  testing::RunResult result;
  pid_t runner_pid = 0;
  std::thread t([&] { result = testing::run_sandbox(args); });
  // Wait (bounded) for the forwarded port to answer.
  std::string status;
  for (int i = 0; i < 100 && status.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = http_get(host);
  }
  EXPECT_EQ(status, "HTTP/1.0 200 OK");
  // The runner's own port is not on the host's loopback: only the forward is.
  EXPECT_EQ(http_get(inner), "");
  // Stop the runner the way an operator would: SIGTERM to nonaxis-sandbox.
  runner_pid = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmdline(e.path() / "cmdline");
    std::string c((std::istreambuf_iterator<char>(cmdline)), {});
    if (c.find(tok.string()) != std::string::npos && c.find("runner") != std::string::npos) runner_pid = std::stoi(name);
  }
  ASSERT_GT(runner_pid, 0);
  ::kill(runner_pid, SIGTERM);
  t.join();
  ASSERT_TRUE(result.doc.is_object()) << result.out_raw << result.err_raw;
  const auto& p = result.doc["record"]["payload"];
  EXPECT_EQ(p["mode"], "runner");
  EXPECT_EQ(p["action_type"], "inference_runner");
  EXPECT_TRUE(p["exit"]["stopped"].get<bool>());
  EXPECT_GE(p["runner"]["connections"].get<int>(), 1);
  EXPECT_EQ(p["runner"]["host_port"], host);
  EXPECT_NE(p["layers"]["active"].dump().find("seccomp"), std::string::npos);
}

TEST(SandboxRunner, ChangedArgumentsRefused) {
  NONAXIS_REQUIRE_ROOT();
  testing::TempDir d;
  testing::set_test_keys();
  const std::uint16_t inner = free_port();
  const auto approved = runner_cmd(inner);
  const auto tok = testing::write_token(d.path(), testing::issue(content_hash_for_runner(approved), {}, 5, "inference_runner"));
  std::vector<std::string> args = {"runner", "--json", "--token", tok.string(), "--port", std::to_string(inner),
                                   "--state-dir", (d.path() / "state").string(), "--",
                                   "python3", "-m", "http.server", "--bind", "0.0.0.0", std::to_string(inner)};
  const auto r = testing::run_sandbox(args);
  EXPECT_EQ(r.exit_code, code(Refusal::kContentMismatch)) << r.err_raw;
}

TEST(SandboxRunner, RunTokenCannotStartRunner) {
  NONAXIS_REQUIRE_ROOT();
  testing::TempDir d;
  testing::set_test_keys();
  const auto cmd = runner_cmd(free_port());
  const auto tok = testing::write_token(d.path(), testing::issue(content_hash_for_runner(cmd), {}, 5));
  std::vector<std::string> args = {"runner", "--json", "--token", tok.string(), "--port", "8000",
                                   "--state-dir", (d.path() / "state").string(), "--"};
  args.insert(args.end(), cmd.begin(), cmd.end());
  EXPECT_EQ(testing::run_sandbox(args).exit_code, code(Refusal::kScopeNotAllowed));
}

}  // namespace
}  // namespace nonaxis::sandbox
