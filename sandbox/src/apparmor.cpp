#include <sys/apparmor.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nonaxis/sandbox/mac.hpp"

namespace nonaxis::sandbox {

const char* to_string(MacKind k) {
  switch (k) {
    case MacKind::kAppArmor: return "apparmor";
    case MacKind::kLandlock: return "landlock";
    case MacKind::kNone: return "none";
  }
  return "none";
}

bool apparmor_enabled() { return aa_is_enabled() == 1; }

bool apparmor_profile_loaded(const std::string& profile) {
  if (!apparmor_enabled()) return false;
  // Lines read "<name> (enforce)" or "<name> (complain)".
  std::ifstream in("/sys/kernel/security/apparmor/profiles");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(profile + " (", 0) == 0) return true;
  }
  return false;
}

namespace {

std::string find_parser() {
  for (const char* p : {"/usr/sbin/apparmor_parser", "/sbin/apparmor_parser", "/usr/bin/apparmor_parser"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

// apparmor_parser -r [-C] -I dir file, with a fixed argv and no shell: the profile
// path is the only variable part. Returns "" or an error.
std::string run_parser(const std::string& parser, const std::string& dir, const std::string& file, bool complain) {
  std::vector<std::string> args = {parser, "-r", "-I", dir};
  if (complain) args.emplace_back("-C");
  args.push_back(file);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "apparmor_parser failed for " + file;
  return "";
}

}  // namespace

std::string load_apparmor_profiles(const std::string& dir, bool complain) {
  const std::string parser = find_parser();
  if (parser.empty()) return "apparmor_parser not found";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename().string().rfind("nonaxis", 0) == 0) files.push_back(e.path());
  }
  if (files.empty()) return "no nonaxis* profiles in " + dir;
  for (const auto& f : files) {
    if (std::string err = run_parser(parser, dir, f, complain); !err.empty()) return err;
  }
  return "";
}

std::string load_apparmor_profile_text(const std::string& include_dir, const std::string& name, const std::string& text,
                                       const std::string& scratch_dir) {
  const std::string parser = find_parser();
  if (parser.empty()) return "apparmor_parser not found";
  const std::string file = scratch_dir + "/" + name;
  {
    std::ofstream out(file, std::ios::trunc);
    out << text;
    if (!out) return "cannot write " + file;
  }
  std::string err = run_parser(parser, include_dir, file, false);
  std::error_code ec;
  std::filesystem::remove(file, ec);
  return err;
}

int apparmor_change_onexec(const char* profile) { return aa_change_onexec(profile) == 0 ? 0 : -errno; }

}  // namespace nonaxis::sandbox
