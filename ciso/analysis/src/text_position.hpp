#pragma once
// Byte offset -> 1-based line and column, for findings.
#include <cstddef>
#include <string_view>
#include <vector>

namespace nonaxis::ciso::detail {

struct Position {
  std::size_t line = 1;
  std::size_t column = 1;
};

class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  Position at(std::size_t offset) const;

 private:
  std::vector<std::size_t> starts_;
  std::size_t size_;
};

}  // namespace nonaxis::ciso::detail
