#include "nonaxis/bus/keys.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "nonaxis/bus/crypto.hpp"

namespace nonaxis::bus {

std::string key_id(std::string_view key) { return "k-" + sha256_hex(key).substr(0, 16); }

void check_key_strength(std::string_view env_name, std::string_view key) {
  const std::string name(env_name);
  if (key.empty()) throw ConfigError(name + " is missing or empty; refusing to start");
  std::string upper(key.substr(0, std::min<std::size_t>(key.size(), 9)));
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "CHANGE-ME" || upper == "CHANGEME-" || key.find("CHANGE-ME") != std::string_view::npos) {
    throw ConfigError(name + " holds a default CHANGE-ME placeholder; refusing to start");
  }
  if (key.size() < kMinKeyBytes) {
    throw ConfigError(name + " is shorter than " + std::to_string(kMinKeyBytes) + " bytes; refusing to start");
  }
}

KeyRing KeyRing::from_secret(std::string_view env_name, std::string secret) {
  check_key_strength(env_name, secret);
  KeyRing ring;
  ring.keys_.push_back(Key{key_id(secret), std::move(secret)});
  return ring;
}

KeyRing KeyRing::from_env(const std::string& env_name) {
  const char* cur = std::getenv(env_name.c_str());
  KeyRing ring = from_secret(env_name, cur != nullptr ? std::string(cur) : std::string());
  const std::string prev_name = env_name + "_PREVIOUS";
  if (const char* prev = std::getenv(prev_name.c_str()); prev != nullptr && *prev != '\0') {
    check_key_strength(prev_name, prev);
    ring.keys_.push_back(Key{key_id(prev), std::string(prev)});
  }
  return ring;
}

const Key* KeyRing::find(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (constant_time_equal(k.kid, kid)) return &k;
  }
  return nullptr;
}

}  // namespace nonaxis::bus
