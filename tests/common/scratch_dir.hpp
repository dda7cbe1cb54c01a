#pragma once
// A fresh private directory under the temp dir, removed at scope exit. One helper
// for every test that needs scratch space; failure to create one fails loudly.
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

namespace nonaxis::testing {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix = "nonaxis-test", mode_t mode = 0700) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = tmpl;
    if (::chmod(path_.c_str(), mode) != 0) throw std::system_error(errno, std::generic_category(), "chmod");
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace nonaxis::testing
