#pragma once
// Crash-safe file writes for the sandbox's own state, on top of bus/durable_file.hpp:
// write a temp file, fsync it, rename it into place, fsync the directory.
#include <filesystem>
#include <string_view>

namespace nonaxis::sandbox {

// Replaces `path` atomically with `data`. Throws std::system_error.
void write_file_durably(const std::filesystem::path& path, std::string_view data, unsigned mode = 0600);

// Creates `path` exclusively with `data` and makes both file and directory entry
// durable. Returns false (and writes nothing) if `path` already exists. Throws
// std::system_error on any other failure. O_EXCL makes the check-and-set atomic
// across concurrent sandboxes.
bool create_file_exclusive_durably(const std::filesystem::path& path, std::string_view data, unsigned mode = 0600);

// fsync of a directory, so a rename or creation in it survives a crash.
void fsync_directory(const std::filesystem::path& dir);

// mkdir -p with `mode` for the directories created; throws std::system_error.
void ensure_directory(const std::filesystem::path& dir, unsigned mode);

}  // namespace nonaxis::sandbox
