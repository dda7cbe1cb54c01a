#pragma once
// Hyperscan handles shared by the analyzer's databases (the literal set and the pattern
// prefilter): an owning database pointer, and the per-scan memory.
#include <hs/hs.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace nonaxis::ciso::detail {

// Hyperscan matches bytes; RE2 matches UTF-8 code points with Unicode case folding. The two
// agree on what a pattern can match only where text (and pattern) are ASCII.
inline bool ascii_only(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

struct HsDatabaseDeleter {
  void operator()(hs_database_t* d) const { hs_free_database(d); }
};
using HsDatabase = std::unique_ptr<hs_database_t, HsDatabaseDeleter>;

// Hyperscan's per-scan memory. One per thread, reused across calls and databases: it grows
// to fit each database it is used with. Fitting validates the whole database (a checksum),
// so it is done once per database, keyed by a serial that is never reused (unlike an
// address).
class HsScratch {
 public:
  HsScratch() = default;
  HsScratch(const HsScratch&) = delete;
  HsScratch& operator=(const HsScratch&) = delete;
  ~HsScratch() { hs_free_scratch(s_); }

  // Scans `text` with `db` (identified by `serial`), appending the id of every match
  // Hyperscan reports to `ids`. Throws std::runtime_error, naming `what`, when the scratch
  // cannot be fitted or the scan fails, so an analysis fails closed.
  void scan(const hs_database_t* db, std::uint64_t serial, std::string_view text, std::vector<int>& ids,
            const char* what);

  // A fresh serial for a new database.
  static std::uint64_t next_serial();

 private:
  hs_scratch_t* s_ = nullptr;
  std::vector<std::uint64_t> fitted_;
};

}  // namespace nonaxis::ciso::detail
