#pragma once
// The approved content, copied once into a sealed memfd while it is hashed. The
// memfd is what gets executed, so the bytes that run are exactly the bytes whose
// SHA-256 was compared with the token: neither swapping the path nor rewriting the
// original file after the check changes what runs.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {

enum class ContentKind { kElf, kShebang, kShellScript };
const char* to_string(ContentKind k);

struct SealedContent {
  UniqueFd memfd;            // sealed against write, grow and shrink
  std::string sha256_hex;    // of the bytes in memfd
  std::size_t size = 0;
  ContentKind kind = ContentKind::kShellScript;
};

inline constexpr std::size_t kMaxContentBytes = std::size_t{256} << 20;

// Opens `path` as untrusted (O_NOFOLLOW, regular file, bounded), copies and hashes it.
// Throws UntrustedFileError.
SealedContent seal_content(const std::filesystem::path& path, std::size_t max_bytes = kMaxContentBytes);

// Same from an already-open descriptor (used for the runner binary).
SealedContent seal_content_fd(int fd, std::size_t max_bytes, const std::string& name);

// Runner content hash (docs/SANDBOX.md, "Runner content hash"):
//   sha256( "nonaxis-runner-v1\n" + <sha256 hex of binary> + "\n"
//           + for each argument after the program: <decimal byte length> ":" <bytes> "\n" )
std::string runner_content_hash(const std::string& binary_sha256_hex, const std::vector<std::string>& args);

}  // namespace nonaxis::sandbox
