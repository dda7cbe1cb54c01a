// nonaxis_ciso_eval: accuracy of the CISO analyzer on the labelled corpus (tuning and held-out
// halves, per category, Wilson 95% intervals), plus throughput, p99 latency and ShellCheck.
// A sample is flagged when its risk score is 50 or more (the policy's escalation threshold).
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include "eval_corpus.hpp"
#include "eval_metrics.hpp"
#include "eval_timing.hpp"
#include "nonaxis/ciso/analyzer.hpp"

namespace {

using namespace nonaxis::ciso;
using namespace nonaxis::ciso::eval;

constexpr int kFlagThreshold = 50;

struct Options {
  std::string corpus;  // required: bench/ciso-eval passes the shared corpus
  std::string cases;
  std::string rules;
  std::string show_errors;  // "", tuning, held-out, all
  std::string json_out;
  int repeats = 5;
  bool shellcheck = true;
};

void usage() {
  std::cerr << "usage: nonaxis_ciso_eval [--corpus DIR] [--cases DIR] [--rules DIR] [--repeats N]\n"
               "                         [--show-errors tuning|held-out|all] [--no-shellcheck] [--json FILE]\n";
}

struct Result {
  const Sample* sample;
  int score;
  bool flagged;
  nlohmann::json findings;
};

void add(Counts& c, const Result& r) {
  const bool mal = r.sample->label == "malicious";
  if (mal && r.flagged) ++c.tp;
  if (mal && !r.flagged) ++c.fn;
  if (!mal && r.flagged) ++c.fp;
  if (!mal && !r.flagged) ++c.tn;
}

nlohmann::json to_json(const Interval& i) {
  return {{"value", i.value}, {"low", i.low}, {"high", i.high}, {"successes", i.successes}, {"trials", i.trials}};
}

nlohmann::json counts_json(const Counts& c) {
  return {{"recall", to_json(c.recall())}, {"fpr", to_json(c.fpr())}, {"precision", to_json(c.precision())}};
}

void print_counts(const char* name, const Counts& c) {
  std::printf("  %-10s recall %s\n", name, format(c.recall()).c_str());
  std::printf("  %-10s FPR    %s\n", "", format(c.fpr()).c_str());
  std::printf("  %-10s prec.  %s\n", "", format(c.precision()).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--corpus") o.corpus = next();
    else if (a == "--cases") o.cases = next();
    else if (a == "--rules") o.rules = next();
    else if (a == "--show-errors") o.show_errors = next();
    else if (a == "--json") o.json_out = next();
    else if (a == "--repeats") o.repeats = std::max(1, std::atoi(next().c_str()));
    else if (a == "--no-shellcheck") o.shellcheck = false;
    else {
      usage();
      return 2;
    }
  }

  const Analyzer analyzer = Analyzer::load(o.rules);
  std::vector<Sample> corpus = load_jsonl_dir(o.corpus, "ciso-dev");
  std::vector<Sample> cases;
  if (!o.cases.empty()) cases = load_jsonl_dir(o.cases, "hard-cases");

  auto run = [&](const std::vector<Sample>& samples) {
    std::vector<Result> out;
    for (const Sample& s : samples) {
      AnalysisInput in;
      in.content = s.content;
      in.is_command = s.is_command;
      const auto a = analyzer.analyze(in);
      const int score = a["risk_score"].get<int>();
      out.push_back({&s, score, score >= kFlagThreshold, a["findings"]});
    }
    return out;
  };
  const std::vector<Result> results = run(corpus);
  const std::vector<Result> case_results = run(cases);

  // Discovery commands are context-dependent on their own; they are scored separately.
  Counts all, tuning, held, discovery_all, discovery_held;
  std::map<std::string, Counts> per_cat, per_cat_held;
  for (const Result& r : results) {
    const bool discovery = r.sample->category == "discovery";
    Counts& bucket = discovery ? discovery_all : all;
    add(bucket, r);
    if (discovery) {
      if (r.sample->held_out) add(discovery_held, r);
    } else {
      add(r.sample->held_out ? held : tuning, r);
    }
    add(per_cat[r.sample->category], r);
    if (r.sample->held_out) add(per_cat_held[r.sample->category], r);
  }
  Counts hard;
  for (const Result& r : case_results) add(hard, r);

  std::printf("CISO evaluation  (flagged = risk_score >= %d; 95%% Wilson intervals)\n", kFlagThreshold);
  std::printf("corpus: %s (%zu samples), hard cases: %zu, rules: %zu\n\n", o.corpus.c_str(), corpus.size(),
              cases.size(), analyzer.rules().size());
  std::printf("Overall, excluding discovery (split by SHA-256 of sample id):\n");
  print_counts("tuning", tuning);
  print_counts("held-out", held);
  print_counts("all", all);
  std::printf("\nDiscovery (scored separately; flagged rate):\n");
  std::printf("  all        %s\n", format(discovery_all.recall()).c_str());
  std::printf("  held-out   %s\n", format(discovery_held.recall()).c_str());
  std::printf("\nPer category (all | held-out):\n");
  for (const auto& [cat, c] : per_cat) {
    const Counts& h = per_cat_held[cat];
    const bool benign = c.tp + c.fn == 0;
    std::printf("  %-22s %s %s | %s\n", cat.c_str(), benign ? "FPR   " : "recall",
                format(benign ? c.fpr() : c.recall()).c_str(), format(benign ? h.fpr() : h.recall()).c_str());
  }
  if (!cases.empty()) {
    std::printf("\nHard cases (tests/ciso/cases, written by hand, not from the corpus):\n");
    print_counts("cases", hard);
  }

  SpeedReport speed = measure_analyzer(analyzer, corpus, o.repeats);
  std::printf("\nSpeed (single thread, 1 untimed warm-up pass then %d timed passes; end to end: the payload JSON\n"
              "is built for every request; wall time, and in [] this thread's CPU time):\n", o.repeats);
  // Which rule prefilter ran: a `--rules` directory that differs from the embedded rules, or a
  // CPU without the build's instruction set, runs the slower literal pass (same results).
  std::printf("  rule prefilter: %s\n", analyzer.uses_build_time_prefilter() ? "build-time Hyperscan databases"
                                                                              : "literal pass (no build-time database for these rules)");
  std::printf("  per request  %.1f MB/s (%.0f requests/s, mean %.0f bytes), p50 %.3f ms [%.3f], p99 %.3f ms [%.3f] (<16 KB),\n"
              "               max %.3f ms, first request (cold) %.3f ms\n",
              speed.mb_per_s, speed.seconds > 0 ? static_cast<double>(speed.requests) / speed.seconds : 0,
              speed.requests > 0 ? static_cast<double>(speed.bytes) / static_cast<double>(speed.requests) : 0,
              speed.p50_ms, speed.cpu_p50_ms, speed.p99_ms, speed.cpu_p99_ms, speed.max_ms, speed.first_ms);
  const BulkReport bulk = measure_bulk(analyzer, corpus, 16 * 1024, o.repeats);
  std::printf("  16 KB scripts (the same corpus bytes joined into %zu scripts of <= 16 KB):\n", bulk.scripts);
  std::printf("    analyzer       %.1f MB/s, p50 %.3f ms [%.3f], p99 %.3f ms [%.3f] per script, first (cold) %.3f ms\n",
              bulk.analyzer.mb_per_s, bulk.analyzer.p50_ms, bulk.analyzer.cpu_p50_ms, bulk.analyzer.p99_ms,
              bulk.analyzer.cpu_p99_ms, bulk.analyzer.first_ms);
  std::printf("    baseline       RE2::Set of all %zu rule patterns alone: %.1f MB/s; memchr line count: %.0f MB/s\n",
              analyzer.rules().size(), bulk.re2_set_mb_per_s, bulk.memchr_mb_per_s);
  ShellcheckReport sc;
  if (o.shellcheck) {
    sc = measure_shellcheck(corpus);
    if (sc.ran) {
      std::printf("  shellcheck %.3f MB/s on the same %zu files (%.2f s, batches of 200 files)\n", sc.mb_per_s, sc.files,
                  sc.seconds);
      std::printf("  ratio      analyzer is %.0fx ShellCheck's throughput per request, %.0fx on 16 KB scripts\n",
                  sc.mb_per_s > 0 ? speed.mb_per_s / sc.mb_per_s : 0, sc.mb_per_s > 0 ? bulk.analyzer.mb_per_s / sc.mb_per_s : 0);
    } else {
      std::printf("  shellcheck not measured: %s\n", sc.note.c_str());
    }
  }

  if (!o.show_errors.empty()) {
    std::printf("\nMisclassified (%s):\n", o.show_errors.c_str());
    for (const auto* set : {&results, &case_results}) {
      for (const Result& r : *set) {
        const bool wrong = r.flagged != (r.sample->label == "malicious");
        const bool in_half = o.show_errors == "all" || (o.show_errors == "held-out") == r.sample->held_out;
        if (!wrong || !in_half) continue;
        std::string rules;
        for (const auto& f : r.findings) rules += f["rule_id"].get<std::string>() + " ";
        std::printf("- [%s %s score %d] %s\n    %s\n    rules: %s\n", r.sample->label.c_str(),
                    r.sample->category.c_str(), r.score, r.sample->id.c_str(),
                    r.sample->content.substr(0, 300).c_str(), rules.c_str());
      }
    }
  }

  if (!o.json_out.empty()) {
    nlohmann::json j = {{"threshold", kFlagThreshold},
                        {"tuning", counts_json(tuning)},
                        {"held_out", counts_json(held)},
                        {"all", counts_json(all)},
                        {"discovery_flagged", to_json(discovery_all.recall())},
                        {"hard_cases", counts_json(hard)},
                        {"speed", {{"mb_per_s", speed.mb_per_s}, {"p50_ms", speed.p50_ms}, {"p99_ms", speed.p99_ms},
                                   {"max_ms", speed.max_ms}, {"cpu_p50_ms", speed.cpu_p50_ms},
                                   {"cpu_p99_ms", speed.cpu_p99_ms}, {"first_ms", speed.first_ms},
                                   {"requests", speed.requests}}},
                        {"bulk_16k", {{"mb_per_s", bulk.analyzer.mb_per_s}, {"p50_ms", bulk.analyzer.p50_ms},
                                      {"p99_ms", bulk.analyzer.p99_ms}, {"cpu_p99_ms", bulk.analyzer.cpu_p99_ms},
                                      {"first_ms", bulk.analyzer.first_ms}, {"scripts", bulk.scripts},
                                      {"re2_set_mb_per_s", bulk.re2_set_mb_per_s},
                                      {"memchr_mb_per_s", bulk.memchr_mb_per_s}}},
                        {"shellcheck", {{"ran", sc.ran}, {"mb_per_s", sc.mb_per_s}, {"seconds", sc.seconds}}}};
    for (const auto& [cat, c] : per_cat) j["per_category"][cat] = counts_json(c);
    std::FILE* f = std::fopen(o.json_out.c_str(), "w");
    if (f != nullptr) {
      std::fputs(j.dump(2).c_str(), f);
      std::fclose(f);
    }
  }
  return 0;
}
