#include "nonaxis/bus/config.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "nonaxis/bus/keys.hpp"

namespace nonaxis::bus {

long long env_int(const char* name, long long def, long long min, long long max) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  long long out = 0;
  const auto r = std::from_chars(v, v + std::strlen(v), out);
  if (r.ec != std::errc{} || r.ptr != v + std::strlen(v) || out < min || out > max) {
    throw ConfigError(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", got '" + v + "'");
  }
  return out;
}

std::string env_str(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return (v == nullptr || *v == '\0') ? def : std::string(v);
}

}  // namespace nonaxis::bus
