#pragma once
// Reading files the Operator controls (token, content): never through a symlink,
// only regular files, and never more than a stated bound.
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {

class UntrustedFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Opens `path` O_RDONLY|O_NOFOLLOW|O_CLOEXEC and checks (on the descriptor) that it
// is a regular file of at most `max_bytes`. Throws UntrustedFileError.
UniqueFd open_untrusted_regular(const std::filesystem::path& path, std::size_t max_bytes, std::size_t* size_out);

// The same checks on a descriptor someone else opened (the resident supervisor's
// clients send theirs): a regular file of at most `max_bytes`. `name` is for errors.
void check_untrusted_regular(int fd, std::size_t max_bytes, const std::string& name, std::size_t* size_out);

// Whole contents of a small untrusted file, read from the checked descriptor.
std::string read_untrusted_file(const std::filesystem::path& path, std::size_t max_bytes);
std::string read_untrusted_fd(int fd, std::size_t max_bytes, const std::string& name);

}  // namespace nonaxis::sandbox
