#include "text_position.hpp"

#include <algorithm>

namespace nonaxis::ciso::detail {

LineIndex::LineIndex(std::string_view text) : size_(text.size()) {
  starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts_.push_back(i + 1);
  }
}

Position LineIndex::at(std::size_t offset) const {
  offset = std::min(offset, size_);
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  const auto line = static_cast<std::size_t>(it - starts_.begin());
  return {line, offset - starts_[line - 1] + 1};
}

}  // namespace nonaxis::ciso::detail
