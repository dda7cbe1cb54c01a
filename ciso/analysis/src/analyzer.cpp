// Public entry points. Everything below analyze() may throw; analyze() itself never does.
#include "nonaxis/ciso/analyzer.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "assessment_builder.hpp"
#include "rule.hpp"
#include "scanner.hpp"

namespace nonaxis::ciso {

Analyzer::Analyzer(std::shared_ptr<const detail::RuleSet> rules) : rules_(std::move(rules)) {}

Analyzer Analyzer::load(const std::string& rules_dir) {
  std::vector<std::pair<std::string, std::string>> files;
  if (rules_dir.empty()) {
    files = detail::embedded_rule_files();
  } else {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(rules_dir, ec)) throw std::runtime_error("CISO rules: not a directory: " + rules_dir);
    for (const auto& entry : fs::directory_iterator(rules_dir)) {
      const auto ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
      std::ifstream f(entry.path(), std::ios::binary);
      if (!f) throw std::runtime_error("CISO rules: cannot read " + entry.path().string());
      std::ostringstream ss;
      ss << f.rdbuf();
      files.emplace_back(entry.path().filename().string(), ss.str());
    }
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) throw std::runtime_error("CISO rules: no rule files found" + (rules_dir.empty() ? "" : " in " + rules_dir));
  return Analyzer(detail::compile_rules(files));
}

nlohmann::json Analyzer::analyze(const AnalysisInput& in, bool explain) const {
  nlohmann::json out = analyze_unchecked(in, explain);
  if (!explain) out.erase("explanation");  // the fail-closed payload always carries one
  return out;
}

nlohmann::json Analyzer::analyze_unchecked(const AnalysisInput& in, bool explain) const {
  try {
    if (in.content.size() > kMaxContentBytes) {
      return detail::fail_closed_assessment("content is " + std::to_string(in.content.size()) + " bytes; limit is " +
                                            std::to_string(kMaxContentBytes));
    }
    if (in.context.size() > kMaxContextBytes) {
      return detail::fail_closed_assessment("context exceeds " + std::to_string(kMaxContextBytes) + " bytes");
    }
    if (in.content.find('\0') != std::string::npos) {
      return detail::fail_closed_assessment("content contains NUL bytes (binary payloads are not analysed)");
    }
    detail::Evidence ev;
    detail::Scanner scanner(*rules_, ev);
    scanner.scan_content(in.content, in.is_command);
    scanner.flag_undocumented(in.declared_hosts);
    if (!in.context.empty()) scanner.scan_context(in.context);
    scanner.finish();
    return detail::build_assessment({ev, in.content, in.context, in.declared_hosts, in.action_type, explain});
  } catch (const std::exception& e) {
    return detail::fail_closed_assessment(e.what());
  } catch (...) {
    return detail::fail_closed_assessment("unknown internal error");
  }
}

bool Analyzer::uses_build_time_prefilter() const {
  return std::all_of(rules_->by_scope.begin(), rules_->by_scope.end(),
                     [](const detail::RuleSet::ScopeSet& s) { return s.rule_of.empty() || s.patterns != nullptr; });
}

std::vector<RuleInfo> Analyzer::rules() const {
  std::vector<RuleInfo> out;
  for (const auto& r : rules_->rules) {
    RuleInfo i{r.id, r.category, detail::to_string(r.severity), r.description, {}, r.pattern_text, r.positive, r.negative};
    for (auto s : r.scopes) i.scopes.emplace_back(detail::to_string(s));
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace nonaxis::ciso

namespace nonaxis::ciso {
nlohmann::json Analyzer::fail_closed(const std::string& reason) { return detail::fail_closed_assessment(reason); }
}  // namespace nonaxis::ciso
