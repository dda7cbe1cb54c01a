#pragma once
// A rule is data (profiles/ciso/*.yaml) compiled into RE2 patterns. Matching is linear-time:
// one prefilter pass over a slice of documents (match_batch.hpp) finds which rules can match
// there; only those are run.
#include <re2/filtered_re2.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "literal_set.hpp"
#include "pattern_prefilter.hpp"

namespace nonaxis::ciso::detail {

// Where a rule's pattern is applied. Each scope is a different rendering of the content.
enum class Scope : std::size_t {
  Command = 0,  // one simple command, wrappers (sudo, env, nohup...) stripped, quotes removed, redirects as ">path"
  Pipeline,     // a whole pipeline: "cmd1 args | cmd2 args"
  Argv0,        // the program path as written, prefixed with "sudo " when elevated
  Text,         // the raw text of a script or decoded layer (any language)
  Python,       // Python source with adjacent string literals joined
  Context,      // the operator-supplied free text
  Fact,         // structural facts the analyzer derives ("decoded-payload base64 suspicious", ...)
};
inline constexpr std::size_t kScopeCount = 7;

enum class Severity { Low, Medium, High, Critical };
enum class Level { None, Low, Medium, High };

const char* to_string(Severity s);
const char* to_string(Level l);
const char* to_string(Scope s);

struct Rule {
  std::string id;
  std::string category;
  std::string description;
  Severity severity = Severity::Low;
  int weight = 0;  // contribution to the risk score before combination, 0..100
  std::vector<Scope> scopes;
  std::string pattern_text;
  std::unique_ptr<re2::RE2> pattern;  // matched against one document
  std::unique_ptr<re2::RE2> scan;     // the pattern in multi-line mode, to search a batch of documents
  std::unique_ptr<re2::RE2> unless;  // suppresses a match when it also matches the document
  Level exfiltration = Level::None;
  Level privilege_escalation = Level::None;
  bool obfuscation = false;
  bool prompt_injection = false;
  bool vuln_pattern = true;  // listed in checklist.known_vuln_patterns
  std::vector<std::string> positive;
  std::vector<std::string> negative;
};

struct RuleSet {
  std::vector<Rule> rules;
  // Per scope, the prefilters of the rules in that scope. `patterns`, when present, serves
  // ASCII slices (pattern_prefilter.hpp); its pattern index is the filter index. Otherwise
  // (other text, rules without a build-time database): `filter` knows, for each rule, which
  // literals (atoms) text must contain for the rule to match; `literals` finds those literals
  // (case-insensitively: FilteredRE2 lowercases them), and `atoms` finds the same with RE2's
  // Unicode case folding for the rare text where that differs (LiteralSet::exact_for). A
  // rule whose literals are absent from a slice of documents cannot match any document in
  // it; the others are searched with their `scan` pattern and each hit is confirmed on its
  // own document.
  struct ScopeSet {
    std::unique_ptr<re2::FilteredRE2> filter;
    std::unique_ptr<LiteralSet> literals;  // null when no rule of the scope has a usable literal
    std::unique_ptr<re2::RE2::Set> atoms;  // null exactly when `literals` is
    std::unique_ptr<PatternPrefilter> patterns;  // null: the literal pass only
    std::vector<std::size_t> rule_of;      // filter index -> rules index
  };
  std::array<ScopeSet, kScopeCount> by_scope;
};

// Parses and compiles rules from YAML documents (name, text). Throws std::runtime_error.
std::shared_ptr<const RuleSet> compile_rules(const std::vector<std::pair<std::string, std::string>>& files);

// The patterns the pattern prefilter of `scope` is compiled from, in filter index order (the
// multi-line `scan` form, as they run on a slice).
std::vector<std::string> prefilter_patterns(const RuleSet& set, Scope scope);

// The profiles/ciso/*.yaml files compiled into the library (generated at build time).
std::vector<std::pair<std::string, std::string>> embedded_rule_files();

}  // namespace nonaxis::ciso::detail
