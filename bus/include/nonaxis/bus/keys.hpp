#pragma once
// Secrets come only from the environment, are checked before a daemon starts,
// and are never printed. A key is named on the wire only by its key id (kid).
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nonaxis::bus {

// Raised for any start-up configuration problem; the message names the variable.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::size_t kMinKeyBytes = 32;

// kid = "k-" + first 16 hex digits of SHA-256(key): stable, and reveals nothing useful.
std::string key_id(std::string_view key);

// Throws ConfigError if `key` is empty, a CHANGE-ME placeholder, or shorter than kMinKeyBytes.
void check_key_strength(std::string_view env_name, std::string_view key);

struct Key {
  std::string kid;
  std::string secret;
};

// The current key of one role plus, during a rotation overlap, the previous one
// (read from `<ENV>_PREVIOUS`). Signing always uses the current key.
class KeyRing {
 public:
  // Reads `env_name` (required) and `env_name`_PREVIOUS (optional). Throws ConfigError.
  static KeyRing from_env(const std::string& env_name);
  static KeyRing from_secret(std::string_view env_name, std::string secret);

  const Key& current() const { return keys_.front(); }
  // Key for `kid`, or nullptr when the kid is unknown.
  const Key* find(std::string_view kid) const;
  const std::vector<Key>& all() const { return keys_; }

 private:
  std::vector<Key> keys_;
};

// Environment variable names of the role keys and the token secret.
inline constexpr const char* kEnvKeyOperator = "GOVERNANCE_SIGNING_KEY_OPERATOR";
inline constexpr const char* kEnvKeyCiso = "GOVERNANCE_SIGNING_KEY_CISO";
inline constexpr const char* kEnvKeyArbiter = "GOVERNANCE_SIGNING_KEY_ARBITER";
inline constexpr const char* kEnvKeySandbox = "GOVERNANCE_SIGNING_KEY_SANDBOX";
inline constexpr const char* kEnvTokenSecret = "ARBITER_TOKEN_SECRET";

}  // namespace nonaxis::bus
