// Matching: one RE2::Set pass per (scope, document) finds candidates; only candidates run
// their individual RE2 to locate the match and to apply `unless`. Both are linear-time.
#include "rule.hpp"

namespace nonaxis::ciso::detail {

const char* to_string(Severity s) {
  switch (s) {
    case Severity::Low: return "low";
    case Severity::Medium: return "medium";
    case Severity::High: return "high";
    case Severity::Critical: return "critical";
  }
  return "low";
}

const char* to_string(Level l) {
  switch (l) {
    case Level::None: return "none";
    case Level::Low: return "low";
    case Level::Medium: return "medium";
    case Level::High: return "high";
  }
  return "none";
}

const char* to_string(Scope s) {
  switch (s) {
    case Scope::Command: return "command";
    case Scope::Pipeline: return "pipeline";
    case Scope::Argv0: return "argv0";
    case Scope::Text: return "text";
    case Scope::Python: return "python";
    case Scope::Context: return "context";
    case Scope::Fact: return "fact";
  }
  return "text";
}

void RuleSet::match(Scope scope, std::string_view doc, std::vector<RuleHit>& hits) const {
  const ScopeIndex& idx = index[static_cast<std::size_t>(scope)];
  if (!idx.set || doc.empty()) return;
  const re2::StringPiece text(doc.data(), doc.size());
  std::vector<int> matched;
  if (!idx.set->Match(text, &matched)) return;
  for (int m : matched) {
    const Rule& rule = rules[idx.rule_of[static_cast<std::size_t>(m)]];
    re2::StringPiece where;
    if (!rule.pattern->Match(text, 0, text.size(), re2::RE2::UNANCHORED, &where, 1)) continue;
    if (rule.unless && re2::RE2::PartialMatch(text, *rule.unless)) continue;
    hits.push_back({&rule, static_cast<std::size_t>(where.data() - text.data())});
  }
}

}  // namespace nonaxis::ciso::detail
