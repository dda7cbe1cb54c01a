#include "text_position.hpp"

#include <algorithm>
#include <cstring>

namespace nonaxis::ciso::detail {

LineIndex::LineIndex(std::string_view text) : size_(text.size()) {
  starts_.push_back(0);
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p != end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (nl == nullptr) break;
    p = static_cast<const char*>(nl) + 1;
    starts_.push_back(static_cast<std::size_t>(p - text.data()));
  }
}

Position LineIndex::at(std::size_t offset) const {
  offset = std::min(offset, size_);
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  const auto line = static_cast<std::size_t>(it - starts_.begin());
  return {line, offset - starts_[line - 1] + 1};
}

}  // namespace nonaxis::ciso::detail
