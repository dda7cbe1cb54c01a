#pragma once
// RFC 3339 UTC timestamps, the only time format on the bus.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace nonaxis::bus {

using SysTime = std::chrono::system_clock::time_point;

// "2026-02-14T18:00:00.123456Z" (microseconds, for ordering within a second).
std::string rfc3339_micro(SysTime t);

// "2026-02-14T18:00:00+00:00": the form ADR-006 signs for token expiry.
std::string rfc3339_seconds_offset(SysTime t);

// Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+00:00|±HH:MM)". Returns nullopt on anything else.
std::optional<SysTime> parse_rfc3339(std::string_view s);

}  // namespace nonaxis::bus
