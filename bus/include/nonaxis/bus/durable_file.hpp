#pragma once
// Crash-safe creation of queue files. A file appears under its final name only
// complete and durable, and an existing file is never overwritten: a duplicate
// write is reported, not applied.
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace nonaxis::bus {

enum class WriteOutcome { kCreated, kAlreadyExists };

// temp file in the same directory -> write -> fdatasync -> renameat2(RENAME_NOREPLACE)
// -> fsync(directory). Throws IoError on failure; no partial file is ever visible.
WriteOutcome write_new_file(int dirfd, const std::string& name, std::string_view data, mode_t mode = 0640);

// Group commit of many files: every temp is written first, one syncfs() makes all of
// them durable together, then each is renamed (NOREPLACE) and each directory is
// fsynced once. Far cheaper than N separate write_new_file() calls under load.
class BatchWriter {
 public:
  void add(int dirfd, std::string name, std::string data, mode_t mode = 0640);
  bool empty() const { return items_.empty(); }
  // Outcome per added file, in order. Throws IoError; temps are removed on failure.
  std::vector<WriteOutcome> commit();

 private:
  struct Item {
    int dirfd;
    std::string name;
    std::string data;
    mode_t mode;
  };
  std::vector<Item> items_;
};

// Atomic but not flushed: temp -> write -> renameat2(RENAME_NOREPLACE). Only for
// files whose bytes are already durable elsewhere (a fsynced write-ahead journal)
// and are re-created from there after a crash.
WriteOutcome publish_new_file(int dirfd, const std::string& name, std::string_view data, mode_t mode = 0640);

// Removes leftover ".tmp-*" files of a crashed writer from a directory it owns.
void remove_stale_temps(int dirfd);

// True when `name` is one of our temporary names (readers ignore those).
bool is_temp_name(std::string_view name);

}  // namespace nonaxis::bus

namespace nonaxis::bus {
// Atomically replaces dir/name (temp, write, rename over). Used for small records
// whose newest version is all that matters, such as the ledger head. `durable`
// adds fdatasync of the file and fsync of the directory.
void replace_file(int dirfd, const std::string& name, std::string_view data, bool durable, mode_t mode = 0640);
}  // namespace nonaxis::bus
