#pragma once
// Public API of the CISO static analyzer: content in, assessment payload out.
// The daemon (ciso/src) wraps the payload in an envelope and adds review_request_id.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nonaxis::ciso {

struct AnalysisInput {
  std::string content;                      // raw bytes of the script or command (already base64-decoded)
  std::string action_type;                  // exec_unfamiliar, outbound_network, skill_install, ... (may be empty)
  std::vector<std::string> declared_hosts;  // the request's declared outbound_hosts
  std::string context;                      // operator-supplied free text; scanned for prompt injection
  bool is_command = false;                  // true: a bare command line; false: a file (sh/bash/python by shebang/content)
};

// Read-only view of one loaded rule, so tests and tools can run each rule's examples.
struct RuleInfo {
  std::string id;
  std::string category;
  std::string severity;  // low | medium | high | critical
  std::string description;
  std::vector<std::string> scopes;
  std::string pattern;  // RE2 syntax, as written in the YAML
  std::vector<std::string> positive_examples;
  std::vector<std::string> negative_examples;
};

namespace detail {
struct RuleSet;
}

class Analyzer {
 public:
  // Loads the built-in rules (profiles/ciso/*.yaml embedded at build time), or, if rules_dir
  // is non-empty, the YAML files in that directory. Throws std::runtime_error on bad rules.
  static Analyzer load(const std::string& rules_dir = "");

  // Returns the assessment payload minus review_request_id. Never throws: on any internal
  // error or exceeded budget it returns a fail-closed payload (risk_score 100, "reject").
  nlohmann::json analyze(const AnalysisInput& in, bool explain = false) const;

  std::vector<RuleInfo> rules() const;

  // True when every scope matches ASCII text through the prefilter databases compiled at
  // build time; false means the slower literal pass with the same results (rules from a
  // directory that differ from the embedded ones, another Hyperscan, or a CPU without the
  // build's instruction set). The daemon logs it at start so a slow host can be explained.
  bool uses_build_time_prefilter() const;

  // The fail-closed payload (risk 100, reject) for an analysis that could not run.
  static nlohmann::json fail_closed(const std::string& reason);

  // Bounds that make analysis cost predictable. Larger content fails closed.
  static constexpr std::size_t kMaxContentBytes = 1024 * 1024;
  static constexpr std::size_t kMaxContextBytes = 64 * 1024;

 private:
  explicit Analyzer(std::shared_ptr<const detail::RuleSet> rules);
  nlohmann::json analyze_unchecked(const AnalysisInput& in, bool explain) const;
  std::shared_ptr<const detail::RuleSet> rules_;
};

}  // namespace nonaxis::ciso
