#pragma once
// Speed: analyzer throughput and per-request latency, and ShellCheck on the same files.
#include <cstddef>
#include <string>
#include <vector>

#include "eval_corpus.hpp"
#include "nonaxis/ciso/analyzer.hpp"

namespace nonaxis::ciso::eval {

struct SpeedReport {
  std::size_t requests = 0;
  std::size_t bytes = 0;
  double seconds = 0;
  double mb_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;        // over requests whose content is under 16 KB
  double max_ms = 0;
  // The same percentiles in this thread's CPU time: on a shared machine wall time also
  // counts the time other processes held the core.
  double cpu_p50_ms = 0;
  double cpu_p99_ms = 0;
  double first_ms = 0;      // the very first request, before the untimed warm-up pass (cold caches)
};

struct ShellcheckReport {
  bool ran = false;
  std::string note;
  std::size_t files = 0;
  std::size_t bytes = 0;
  double seconds = 0;
  double mb_per_s = 0;
};

// Bulk: the same corpus bytes joined into scripts of at most `script_bytes` (whole samples,
// one per line), analysed as files. Per-byte cost without the fixed cost of a tiny request.
struct BulkReport {
  SpeedReport analyzer;
  std::size_t scripts = 0;
  double re2_set_mb_per_s = 0;  // baseline: one RE2::Set of every rule pattern over the same scripts
  double memchr_mb_per_s = 0;   // baseline: counting lines with memchr over the same scripts
};

// One untimed pass first (RE2 builds its DFA states lazily, so a fresh process is slower;
// that cold cost is reported as first_ms), then `repeats` timed passes.
SpeedReport measure_analyzer(const Analyzer& a, const std::vector<Sample>& samples, int repeats);
BulkReport measure_bulk(const Analyzer& a, const std::vector<Sample>& samples, std::size_t script_bytes, int repeats);
ShellcheckReport measure_shellcheck(const std::vector<Sample>& samples);

}  // namespace nonaxis::ciso::eval
