#pragma once
// Shell and Python share one identifier spelling: a letter or '_', then letters, digits, '_'.
#include <cctype>

namespace nonaxis::ciso::detail {

inline bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
inline bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

}  // namespace nonaxis::ciso::detail
