#include "eval_corpus.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace nonaxis::ciso::eval {

bool in_held_out_half(const std::string& id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), digest);
  return (digest[0] & 1u) != 0;
}

std::vector<Sample> load_jsonl_dir(const std::string& dir, const std::string& source) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".jsonl") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw std::runtime_error("no .jsonl files in " + dir);
  std::vector<Sample> out;
  for (const auto& p : files) {
    std::ifstream f(p);
    std::string line;
    std::size_t n = 0;
    while (std::getline(f, line)) {
      ++n;
      if (line.empty()) continue;
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) throw std::runtime_error(p.string() + ":" + std::to_string(n) + ": invalid JSON");
      Sample s;
      s.id = j.at("id").get<std::string>();
      s.label = j.at("label").get<std::string>();
      s.category = j.value("category", source == "hard-cases" ? "hard_case" : "uncategorised");
      s.content = j.at("content").get<std::string>();
      // Corpus lines are shell command lines (lang "sh"); hard cases may be whole files. The
      // same rule as the test suite's: one line without a shebang is a command.
      s.is_command = j.value("is_command", s.content.rfind("#!", 0) != 0 && s.content.find('\n') == std::string::npos);
      s.source = source;
      s.held_out = in_held_out_half(s.id);
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace nonaxis::ciso::eval
