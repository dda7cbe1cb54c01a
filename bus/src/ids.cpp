#include "nonaxis/bus/ids.hpp"

namespace nonaxis::bus {
namespace {
bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
}  // namespace

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_lower_hex(s[i])) return false;
  }
  return true;
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!is_lower_hex(c)) return false;
  }
  return true;
}

bool is_prefixed_sha256(std::string_view s) {
  return s.size() == 71 && s.substr(0, 7) == "sha256:" && is_sha256_hex(s.substr(7));
}

}  // namespace nonaxis::bus
