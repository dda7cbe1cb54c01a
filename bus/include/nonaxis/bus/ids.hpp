#pragma once
// Identifier syntax. Queue file names are derived from ids, so an id that is not
// well-formed never becomes a path.
#include <string_view>

namespace nonaxis::bus {

// Lowercase canonical UUID text: 8-4-4-4-12 hex digits.
bool is_uuid(std::string_view s);

// 64 lowercase hex digits.
bool is_sha256_hex(std::string_view s);

// "sha256:" followed by 64 lowercase hex digits.
bool is_prefixed_sha256(std::string_view s);

inline constexpr std::string_view kNilUuid = "00000000-0000-0000-0000-000000000000";
inline constexpr std::string_view kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

}  // namespace nonaxis::bus
