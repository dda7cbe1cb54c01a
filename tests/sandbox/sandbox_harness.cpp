#include "sandbox_harness.hpp"

#include <signal.h>

#include <iterator>
#include <thread>

#include "nonaxis/sandbox/content.hpp"

namespace nonaxis::sandbox::testing {

std::string ProbeRun::file_sha256(const std::string& path) { return seal_content(path).sha256_hex; }

bool ProbeRun::eventually_gone(const std::filesystem::path& path) {
  for (int i = 0; i < 500; ++i) {
    if (!std::filesystem::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return !std::filesystem::exists(path);
}

Supervisor::Supervisor(const std::filesystem::path& dir, const std::vector<std::string>& flags,
                       const std::vector<std::string>& env) {
  static int n = 0;
  socket_ = (dir / ("serve-" + std::to_string(++n) + ".sock")).string();
  const std::string log = (dir / "serve.log").string();
  set_test_keys();
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<std::string> args = {NONAXIS_SANDBOX_BIN, "serve", "--socket", socket_};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  // The supervisor logs serve_started once its socket listens.
  for (int i = 0; i < 1000 && pid_ > 0; ++i) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("\"sandbox.serve_started\"") != std::string::npos && text.find(socket_) != std::string::npos) {
      started_ = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int Supervisor::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int st = 0;
  for (int i = 0; i < 2000; ++i) {
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return st;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
  return st;
}

Supervisor::~Supervisor() { stop(); }

}  // namespace nonaxis::sandbox::testing
