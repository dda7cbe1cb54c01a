#pragma once
// Reading files a peer wrote. Every file in a queue directory is untrusted: it is
// opened without following links, and accepted only as a single-link regular file
// of the expected owner and a bounded size.
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace nonaxis::bus {

inline constexpr std::size_t kMaxMessageBytes = 1u << 20;  // 1 MiB per bus message

struct ReadPolicy {
  std::size_t max_bytes = kMaxMessageBytes;
  std::optional<uid_t> owner;  // required owner; nullopt accepts any
};

struct ReadResult {
  enum class Status { kOk, kMissing, kRefused };
  Status status = Status::kMissing;
  std::string data;
  std::string reason;  // machine code when refused: symlink, not_regular, hardlinked, wrong_owner, oversized, io_error
  std::string detail;
  bool ok() const { return status == Status::kOk; }
};

ReadResult read_queue_file(int dirfd, const std::string& name, const ReadPolicy& policy);

// Names in a directory; hidden ones (temps, dotfiles) only when asked for.
std::vector<std::string> list_names(int dirfd, bool include_hidden = false);

// Owner uid of an open directory: files inside must belong to the same user.
uid_t owner_of(int dirfd);

}  // namespace nonaxis::bus
