#pragma once
// The queue-depth and oldest-item-age gauges every daemon exposes on /metrics.
#include <functional>
#include <string>

namespace nonaxis::bus {

// Counts the files in `dirfd` for which `waiting(name)` holds, and sets
// nonaxis_queue_depth{queue} and nonaxis_queue_oldest_age_seconds{queue} (by mtime).
void publish_queue_gauges(int dirfd, const std::string& queue, const std::function<bool(const std::string&)>& waiting);

}  // namespace nonaxis::bus
