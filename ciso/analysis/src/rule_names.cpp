// Names of rule enums as they appear in YAML and in the assessment payload.
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

}  // namespace nonaxis::ciso::detail
