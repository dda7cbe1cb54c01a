// Loads rule YAML, validates every field, and compiles patterns. A bad rule is a startup
// error with the file and rule id in the message, never a silently skipped rule.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "embedded_prefilter.hpp"
#include "rule.hpp"

namespace nonaxis::ciso::detail {
namespace {

const std::set<std::string>& known_categories() {
  static const std::set<std::string> k = {
      "reverse_shell",   "download_exec",  "credential_access", "persistence",   "privilege_escalation",
      "destructive",     "crypto_miner",   "defense_evasion",   "exfiltration",  "obfuscation",
      "prompt_injection", "network",       "collection",        "impact",        "discovery",
      "execution"};
  return k;
}

[[noreturn]] void fail(const std::string& where, const std::string& msg) {
  throw std::runtime_error("CISO rules: " + where + ": " + msg);
}

Severity parse_severity(const std::string& s, const std::string& where) {
  if (s == "low") return Severity::Low;
  if (s == "medium") return Severity::Medium;
  if (s == "high") return Severity::High;
  if (s == "critical") return Severity::Critical;
  fail(where, "severity must be low|medium|high|critical, got '" + s + "'");
}

Level parse_level(const std::string& s, const std::string& where) {
  if (s == "none") return Level::None;
  if (s == "low") return Level::Low;
  if (s == "medium") return Level::Medium;
  if (s == "high") return Level::High;
  fail(where, "risk level must be none|low|medium|high, got '" + s + "'");
}

Scope parse_scope(const std::string& s, const std::string& where) {
  for (std::size_t i = 0; i < kScopeCount; ++i) {
    if (s == to_string(static_cast<Scope>(i))) return static_cast<Scope>(i);
  }
  fail(where, "unknown scope '" + s + "'");
}

// Default weight per severity; a rule may override it with `weight`.
int default_weight(Severity s) {
  switch (s) {
    case Severity::Low: return 15;
    case Severity::Medium: return 40;
    case Severity::High: return 65;
    case Severity::Critical: return 95;
  }
  return 15;
}

// Category decides which checklist risk a finding raises unless the rule says otherwise.
Level severity_level(Severity s) {
  switch (s) {
    case Severity::Low: return Level::None;
    case Severity::Medium: return Level::Medium;
    case Severity::High:
    case Severity::Critical: return Level::High;
  }
  return Level::None;
}

std::vector<std::string> string_list(const YAML::Node& n, const std::string& where) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) {
    out.push_back(n.as<std::string>());
    return out;
  }
  if (!n.IsSequence()) fail(where, "expected a string or a list of strings");
  for (const auto& e : n) out.push_back(e.as<std::string>());
  return out;
}

re2::RE2::Options re2_options() {
  re2::RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(64 << 20);
  return o;
}

// A batch holds many documents, one per line: `^`/`$` must match at each document's edges.
// \A and \z would not, so rules may not use them (rejected at load).
std::string multiline(const std::string& pattern) { return "(?m:" + pattern + ")"; }

Rule parse_rule(const YAML::Node& n, const std::string& file) {
  Rule r;
  if (!n.IsMap()) fail(file, "each rule must be a map");
  if (!n["id"]) fail(file, "rule without id");
  r.id = n["id"].as<std::string>();
  const std::string where = file + ": rule " + r.id;
  for (const char* key : {"category", "severity", "description", "pattern", "scope", "examples"}) {
    if (!n[key]) fail(where, std::string("missing '") + key + "'");
  }
  r.category = n["category"].as<std::string>();
  if (known_categories().count(r.category) == 0) fail(where, "unknown category '" + r.category + "'");
  r.severity = parse_severity(n["severity"].as<std::string>(), where);
  r.description = n["description"].as<std::string>();
  r.weight = n["weight"] ? n["weight"].as<int>() : default_weight(r.severity);
  if (r.weight < 0 || r.weight > 100) fail(where, "weight must be 0..100");
  for (const auto& s : string_list(n["scope"], where)) r.scopes.push_back(parse_scope(s, where));
  if (r.scopes.empty()) fail(where, "scope is empty");

  r.pattern_text = n["pattern"].as<std::string>();
  if (r.pattern_text.find("\\A") != std::string::npos || r.pattern_text.find("\\z") != std::string::npos) {
    fail(where, "use ^ and $ instead of \\A and \\z (documents are matched in batches)");
  }
  r.pattern = std::make_unique<re2::RE2>(r.pattern_text, re2_options());
  if (!r.pattern->ok()) fail(where, "bad pattern: " + r.pattern->error());
  r.scan = std::make_unique<re2::RE2>(multiline(r.pattern_text), re2_options());
  if (!r.scan->ok()) fail(where, "bad pattern: " + r.scan->error());
  if (n["unless"]) {
    r.unless = std::make_unique<re2::RE2>(n["unless"].as<std::string>(), re2_options());
    if (!r.unless->ok()) fail(where, "bad unless pattern: " + r.unless->error());
  }

  if (r.category == "credential_access" || r.category == "exfiltration" || r.category == "reverse_shell" ||
      r.category == "collection") {
    r.exfiltration = severity_level(r.severity);
  }
  if (r.category == "privilege_escalation") r.privilege_escalation = severity_level(r.severity);
  r.obfuscation = r.category == "obfuscation";
  r.prompt_injection = r.category == "prompt_injection";
  r.vuln_pattern = !r.prompt_injection && r.category != "network";
  if (const auto e = n["effects"]) {
    if (e["exfiltration"]) r.exfiltration = parse_level(e["exfiltration"].as<std::string>(), where);
    if (e["privilege_escalation"]) {
      r.privilege_escalation = parse_level(e["privilege_escalation"].as<std::string>(), where);
    }
    if (e["obfuscation"]) r.obfuscation = e["obfuscation"].as<bool>();
    if (e["known_vuln_pattern"]) r.vuln_pattern = e["known_vuln_pattern"].as<bool>();
  }

  const YAML::Node ex = n["examples"];
  r.positive = string_list(ex["positive"], where);
  r.negative = string_list(ex["negative"], where);
  if (r.positive.empty() || r.negative.empty()) {
    fail(where, "needs at least one positive and one negative example");
  }
  return r;
}

// Two bytes keeps program names such as nc, su and rm as literals, so rules anchored on them
// are filtered too (at three, 13 of 121 rules had no literal and ran on every slice); single
// bytes would be present in nearly every slice and filter nothing.
constexpr int kMinAtomLength = 2;

void build_prefilter(RuleSet& set, Scope scope, const std::vector<EmbeddedPrefilter>& embedded) {
  auto& idx = set.by_scope[static_cast<std::size_t>(scope)];
  idx.filter = std::make_unique<re2::FilteredRE2>(kMinAtomLength);
  for (std::size_t i = 0; i < set.rules.size(); ++i) {
    const Rule& r = set.rules[i];
    if (std::find(r.scopes.begin(), r.scopes.end(), scope) == r.scopes.end()) continue;
    int id = 0;
    if (idx.filter->Add(r.pattern_text, re2_options(), &id) != re2::RE2::NoError) fail("rule " + r.id, "bad pattern");
    idx.rule_of.push_back(i);
  }
  if (idx.rule_of.empty()) {
    idx.filter.reset();
    return;
  }
  const std::string key = PatternPrefilter::key(prefilter_patterns(set, scope));
  for (const EmbeddedPrefilter& e : embedded) {
    if (e.key != key) continue;
    idx.patterns = PatternPrefilter::load(e.database, e.always);
    break;
  }
  std::vector<std::string> atoms;
  idx.filter->Compile(&atoms);
  if (atoms.empty()) return;
  // Literal, case-insensitive: the atoms are lowercased, the text is not.
  re2::RE2::Options o = re2_options();
  o.set_literal(true);
  o.set_case_sensitive(false);
  idx.atoms = std::make_unique<re2::RE2::Set>(o, re2::RE2::UNANCHORED);
  for (const std::string& a : atoms) {
    if (idx.atoms->Add(a, nullptr) < 0) fail(to_string(scope), "bad literal '" + a + "'");
  }
  if (!idx.atoms->Compile()) fail(to_string(scope), "literal set does not fit the RE2 memory budget");
  idx.literals = std::make_unique<LiteralSet>(atoms);
}

}  // namespace

std::shared_ptr<const RuleSet> compile_rules(const std::vector<std::pair<std::string, std::string>>& files) {
  auto set = std::make_shared<RuleSet>();
  std::set<std::string> ids;
  for (const auto& [name, text] : files) {
    YAML::Node doc;
    try {
      doc = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      fail(name, std::string("YAML error: ") + e.what());
    }
    if (!doc["rules"] || !doc["rules"].IsSequence()) fail(name, "top level must have a 'rules' list");
    for (const auto& n : doc["rules"]) {
      Rule r;
      try {
        r = parse_rule(n, name);
      } catch (const YAML::Exception& e) {
        fail(name, std::string("YAML error: ") + e.what());
      }
      if (!ids.insert(r.id).second) fail(name, "duplicate rule id " + r.id);
      set->rules.push_back(std::move(r));
    }
  }
  if (set->rules.empty()) throw std::runtime_error("CISO rules: no rules loaded");

  const std::vector<EmbeddedPrefilter> embedded = embedded_prefilters();
  for (std::size_t s = 0; s < kScopeCount; ++s) build_prefilter(*set, static_cast<Scope>(s), embedded);
  return set;
}

std::vector<std::string> prefilter_patterns(const RuleSet& set, Scope scope) {
  std::vector<std::string> out;
  for (const std::size_t r : set.by_scope[static_cast<std::size_t>(scope)].rule_of) {
    out.push_back(set.rules[r].scan->pattern());
  }
  return out;
}

}  // namespace nonaxis::ciso::detail
