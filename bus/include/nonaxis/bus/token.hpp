#pragma once
// ADR-006 execution tokens: issued by the Arbiter, verified by the sandbox.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/keys.hpp"

namespace nonaxis::bus {

inline constexpr std::chrono::seconds kDefaultTokenTtl{300};

struct TokenGrant {
  std::string action_type;
  std::string content_hash;  // "sha256:<hex>"
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_paths;
  std::optional<long long> max_duration_seconds;
  std::chrono::seconds ttl = kDefaultTokenTtl;
};

// "token_id:nonce:expires_at:scope_json" with scope_json in Python sort_keys form.
std::string token_canonical_string(const std::string& token_id, const std::string& nonce,
                                   const std::string& expires_at, const Json& scope);

// Hex HMAC-SHA256 of the canonical string under `secret`.
std::string token_signature(std::string_view secret, const std::string& token_id, const std::string& nonce,
                            const std::string& expires_at, const Json& scope);

// A fresh token: random token_id and nonce, expiry now+ttl, signed with `key`.
Json issue_token(const Key& key, const TokenGrant& grant, SysTime now);

enum class TokenCheck { kOk, kMalformed, kUnknownKid, kBadSignature, kExpired, kNotYetValid };
const char* to_string(TokenCheck c);

struct TokenVerdict {
  TokenCheck code = TokenCheck::kMalformed;
  std::string detail;
  bool ok() const { return code == TokenCheck::kOk; }
};

// Structure, kid, constant-time HMAC and expiry (with `skew` tolerance). Content
// hash and nonce checks belong to the executor, which alone knows both.
TokenVerdict verify_token(const Json& token, const KeyRing& ring, SysTime now,
                          std::chrono::seconds skew = std::chrono::seconds{5});

}  // namespace nonaxis::bus
