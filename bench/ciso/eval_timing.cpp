#include "eval_timing.hpp"

#include <re2/re2.h>
#include <re2/set.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace nonaxis::ciso::eval {
namespace {

using Clock = std::chrono::steady_clock;

double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

}  // namespace

SpeedReport measure_analyzer(const Analyzer& a, const std::vector<Sample>& samples, int repeats) {
  SpeedReport r;
  std::vector<double> small_latencies, small_cpu;
  std::vector<double> all_latencies, all_cpu;
  volatile int sink = 0;  // keeps the optimiser from discarding results
  for (const Sample& s : samples) {
    AnalysisInput in;
    in.content = s.content;
    in.is_command = s.is_command;
    const auto t0 = Clock::now();
    sink = sink + a.analyze(in)["risk_score"].get<int>();
    if (&s == &samples.front()) r.first_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }
  for (int rep = 0; rep < repeats; ++rep) {
    for (const Sample& s : samples) {
      AnalysisInput in;
      in.content = s.content;
      in.is_command = s.is_command;
      const double c0 = thread_cpu_ms();
      const auto t0 = Clock::now();
      const auto out = a.analyze(in);
      const auto t1 = Clock::now();
      const double cpu = thread_cpu_ms() - c0;
      sink = sink + out["risk_score"].get<int>();
      const double sec = std::chrono::duration<double>(t1 - t0).count();
      r.seconds += sec;
      r.bytes += s.content.size();
      ++r.requests;
      all_latencies.push_back(sec * 1000);
      all_cpu.push_back(cpu);
      if (s.content.size() < 16 * 1024) {
        small_latencies.push_back(sec * 1000);
        small_cpu.push_back(cpu);
      }
    }
  }
  r.mb_per_s = r.seconds > 0 ? static_cast<double>(r.bytes) / 1e6 / r.seconds : 0;
  r.p50_ms = percentile(all_latencies, 0.50);
  r.p99_ms = percentile(small_latencies, 0.99);
  r.cpu_p50_ms = percentile(all_cpu, 0.50);
  r.cpu_p99_ms = percentile(small_cpu, 0.99);
  r.max_ms = all_latencies.empty() ? 0 : *std::max_element(all_latencies.begin(), all_latencies.end());
  return r;
}

BulkReport measure_bulk(const Analyzer& a, const std::vector<Sample>& samples, std::size_t script_bytes, int repeats) {
  BulkReport r;
  std::vector<Sample> scripts;
  Sample cur;
  cur.is_command = false;
  for (const Sample& s : samples) {
    if (!cur.content.empty() && cur.content.size() + s.content.size() + 1 > script_bytes) {
      scripts.push_back(cur);
      cur.content.clear();
    }
    cur.content += s.content;
    cur.content += '\n';
  }
  if (!cur.content.empty()) scripts.push_back(cur);
  r.scripts = scripts.size();
  r.analyzer = measure_analyzer(a, scripts, repeats);

  // Baselines over exactly the same bytes, timed the same way.
  re2::RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(64 << 20);
  re2::RE2::Set set(o, re2::RE2::UNANCHORED);
  for (const RuleInfo& rule : a.rules()) set.Add("(?m:" + rule.pattern + ")", nullptr);
  set.Compile();
  std::size_t bytes = 0;
  double set_seconds = 0, memchr_seconds = 0;
  volatile std::size_t sink = 0;
  std::vector<int> hits;
  for (const Sample& s : scripts) set.Match(s.content, &hits);  // warm-up, as for the analyzer
  for (int rep = 0; rep < repeats; ++rep) {
    for (const Sample& s : scripts) {
      bytes += s.content.size();
      auto t0 = Clock::now();
      set.Match(s.content, &hits);
      auto t1 = Clock::now();
      sink = sink + hits.size();
      set_seconds += std::chrono::duration<double>(t1 - t0).count();
      t0 = Clock::now();
      std::size_t lines = 0;
      const char* p = s.content.data();
      const char* const end = p + s.content.size();
      while (const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
        ++lines;
        p = static_cast<const char*>(nl) + 1;
      }
      t1 = Clock::now();
      sink = sink + lines;
      memchr_seconds += std::chrono::duration<double>(t1 - t0).count();
    }
  }
  r.re2_set_mb_per_s = set_seconds > 0 ? static_cast<double>(bytes) / 1e6 / set_seconds : 0;
  r.memchr_mb_per_s = memchr_seconds > 0 ? static_cast<double>(bytes) / 1e6 / memchr_seconds : 0;
  return r;
}

ShellcheckReport measure_shellcheck(const std::vector<Sample>& samples) {
  namespace fs = std::filesystem;
  ShellcheckReport r;
  if (std::system("command -v shellcheck >/dev/null 2>&1") != 0) {
    r.note = "shellcheck not installed";
    return r;
  }
  char tmpl[] = "/tmp/nonaxis-ciso-eval-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  if (dir == nullptr) {
    r.note = "cannot create a temp dir";
    return r;
  }
  std::vector<std::string> batches;
  std::string batch;
  std::size_t in_batch = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const std::string path = std::string(dir) + "/s" + std::to_string(i) + ".sh";
    std::ofstream(path, std::ios::binary) << samples[i].content << '\n';
    r.bytes += samples[i].content.size();
    ++r.files;
    batch += " " + path;
    if (++in_batch == 200) {
      batches.push_back(batch);
      batch.clear();
      in_batch = 0;
    }
  }
  if (!batch.empty()) batches.push_back(batch);
  // One process per 200 files, so start-up cost is amortised as a real CI run would.
  const auto t0 = Clock::now();
  for (const std::string& b : batches) {
    const std::string cmd = "shellcheck --shell=bash --format=quiet" + b + " >/dev/null 2>&1";
    // A non-zero exit status reports lint findings, not failure; only -1 (no shell) is an error.
    if (std::system(cmd.c_str()) == -1) r.note = "could not start shellcheck";
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.mb_per_s = r.seconds > 0 ? static_cast<double>(r.bytes) / 1e6 / r.seconds : 0;
  r.ran = true;
  std::error_code ec;
  fs::remove_all(dir, ec);
  return r;
}

}  // namespace nonaxis::ciso::eval
