#pragma once
// Confusion counts and Wilson score intervals for recall, false-positive rate and precision.
#include <cstddef>
#include <string>

namespace nonaxis::ciso::eval {

struct Interval {
  double value = 0;  // point estimate (successes / trials), 0 when trials == 0
  double low = 0;
  double high = 0;
  std::size_t successes = 0;
  std::size_t trials = 0;
};

// Wilson score interval at 95% (z = 1.96).
Interval wilson(std::size_t successes, std::size_t trials);

struct Counts {
  std::size_t tp = 0;  // malicious, flagged
  std::size_t fn = 0;  // malicious, not flagged
  std::size_t fp = 0;  // benign, flagged
  std::size_t tn = 0;  // benign, not flagged

  Interval recall() const { return wilson(tp, tp + fn); }
  Interval fpr() const { return wilson(fp, fp + tn); }
  Interval precision() const { return wilson(tp, tp + fp); }
};

// "97.3% [94.1, 98.8] (n=110)"
std::string format(const Interval& i);

}  // namespace nonaxis::ciso::eval
