#pragma once
// Configuration comes only from environment variables (docs/CONFIGURATION.md).
// An invalid value stops start-up with a ConfigError naming the variable.
#include <string>

namespace nonaxis::bus {

// Integer variable within [min, max]; `def` when unset or empty.
long long env_int(const char* name, long long def, long long min, long long max);
// String variable; `def` when unset or empty.
std::string env_str(const char* name, const std::string& def);

}  // namespace nonaxis::bus
