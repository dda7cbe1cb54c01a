#include "eval_metrics.hpp"

#include <cmath>
#include <cstdio>

namespace nonaxis::ciso::eval {

Interval wilson(std::size_t successes, std::size_t trials) {
  Interval i;
  i.successes = successes;
  i.trials = trials;
  if (trials == 0) return i;
  const double z = 1.96;
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double denom = 1 + z * z / n;
  const double centre = (p + z * z / (2 * n)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom;
  i.value = p;
  i.low = std::max(0.0, centre - half);
  i.high = std::min(1.0, centre + half);
  return i;
}

std::string format(const Interval& i) {
  if (i.trials == 0) return "n/a (n=0)";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%5.1f%% [%5.1f, %5.1f] (%zu/%zu)", i.value * 100, i.low * 100, i.high * 100,
                i.successes, i.trials);
  return buf;
}

}  // namespace nonaxis::ciso::eval
