#pragma once
// An append-only JSONL file with a single writer. Lines are written whole and made
// durable with one fdatasync per batch (group commit). A torn last line left by a
// crash was never acknowledged, so opening the log cuts it off and reports it.
#include <string>
#include <vector>

#include "nonaxis/bus/fd.hpp"

namespace nonaxis::bus {

class AppendLog {
 public:
  // Opens (creating with `mode`) and repairs a torn tail. `lines_out` receives the
  // complete existing lines, so the owner can rebuild its in-memory index.
  AppendLog(const std::string& path, std::vector<std::string>* lines_out, mode_t mode = 0640);

  // Appends complete lines (without their trailing '\n'); not yet durable.
  void append(const std::vector<std::string>& lines);
  // fdatasync: everything appended so far is durable when this returns.
  void sync();
  // Durably empties the log (for a journal whose records are all applied).
  void truncate();

  std::size_t torn_bytes_removed() const { return torn_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  UniqueFd fd_;
  std::size_t torn_ = 0;
};

// Reads a JSONL file completely (bounded by `max_bytes`); throws IoError.
std::string read_whole_file(const std::string& path, std::size_t max_bytes);

// Splits text into lines; a final line without '\n' is returned in `tail`.
std::vector<std::string> split_lines(const std::string& text, std::string* tail = nullptr);

}  // namespace nonaxis::bus
