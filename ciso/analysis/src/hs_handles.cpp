#include "hs_handles.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>

namespace nonaxis::ciso::detail {

void HsScratch::scan(const hs_database_t* db, std::uint64_t serial, std::string_view text, std::vector<int>& ids,
                     const char* what) {
  if (std::find(fitted_.begin(), fitted_.end(), serial) == fitted_.end()) {
    if (hs_alloc_scratch(db, &s_) != HS_SUCCESS) throw std::runtime_error(std::string(what) + ": no scratch");
    fitted_.push_back(serial);
  }
  auto on_match = [](unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) -> int {
    static_cast<std::vector<int>*>(ctx)->push_back(static_cast<int>(id));
    return 0;
  };
  // Content is bounded far below 4 GiB (Analyzer::kMaxContentBytes), so the length fits.
  if (hs_scan(db, text.data(), static_cast<unsigned>(text.size()), 0, s_, on_match, &ids) != HS_SUCCESS) {
    throw std::runtime_error(std::string(what) + ": scan failed");
  }
}

std::uint64_t HsScratch::next_serial() {
  static std::atomic<std::uint64_t> next{1};
  return next++;
}

}  // namespace nonaxis::ciso::detail
