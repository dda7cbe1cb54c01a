#include "nonaxis/bus/queue_gauges.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>

#include "nonaxis/bus/metrics.hpp"
#include "nonaxis/bus/queue_reader.hpp"

namespace nonaxis::bus {

void publish_queue_gauges(int dirfd, const std::string& queue, const std::function<bool(const std::string&)>& waiting) {
  const auto now = std::chrono::system_clock::now();
  std::size_t depth = 0;
  auto oldest = now;
  for (const auto& n : list_names(dirfd)) {
    if (!waiting(n)) continue;
    ++depth;
    struct stat st {};
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      oldest = std::min(oldest, std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec)));
    }
  }
  auto& m = Metrics::global();
  m.set("nonaxis_queue_depth", {{"queue", queue}}, static_cast<double>(depth));
  m.set("nonaxis_queue_oldest_age_seconds", {{"queue", queue}}, std::chrono::duration<double>(now - oldest).count());
}

}  // namespace nonaxis::bus
