#pragma once
// Labelled samples for the evaluation, and the deterministic tuning/held-out split.
#include <string>
#include <vector>

namespace nonaxis::ciso::eval {

struct Sample {
  std::string id;
  std::string label;     // malicious | benign
  std::string category;  // corpus category (or "hard_case" for tests/ciso/cases)
  std::string content;
  std::string source;    // "ciso-dev" or "hard-cases"
  bool is_command = true;
  bool held_out = false;  // second half of the split: never looked at while tuning rules
};

// Reads every *.jsonl under `dir` ({id,label,category,content}); `source` tags the samples.
std::vector<Sample> load_jsonl_dir(const std::string& dir, const std::string& source);

// SHA-256(id): even first byte -> tuning half, odd -> held-out half.
bool in_held_out_half(const std::string& id);

}  // namespace nonaxis::ciso::eval
