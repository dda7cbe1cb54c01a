#pragma once
// Shared helpers for the CISO tests: one analyzer per process, and short accessors.
#include <ostream>
#include <string>
#include <vector>

#include "nonaxis/ciso/analyzer.hpp"

namespace nonaxis::ciso::testing {

inline const Analyzer& analyzer() {
  static const Analyzer a = Analyzer::load();
  return a;
}

inline nlohmann::json run(const std::string& content, bool is_command, std::vector<std::string> hosts = {},
                          std::string context = {}) {
  AnalysisInput in;
  in.content = content;
  in.is_command = is_command;
  in.declared_hosts = std::move(hosts);
  in.context = std::move(context);
  return analyzer().analyze(in, true);
}

// A one-line example is a bare command; anything else is a file.
inline bool example_is_command(const std::string& ex) {
  return ex.find('\n') == std::string::npos && ex.rfind("#!", 0) != 0;
}

inline bool has_rule(const nlohmann::json& a, const std::string& id) {
  for (const auto& f : a["findings"]) {
    if (f["rule_id"] == id) return true;
  }
  return false;
}

inline std::string rule_ids(const nlohmann::json& a) {
  std::string s;
  for (const auto& f : a["findings"]) s += f["rule_id"].get<std::string>() + " ";
  return s;
}

}  // namespace nonaxis::ciso::testing

namespace nonaxis::ciso {
// Readable parameter names in gtest output instead of byte dumps.
inline void PrintTo(const RuleInfo& r, std::ostream* os) { *os << r.id; }
}  // namespace nonaxis::ciso
