#pragma once
// Authentication of State API calls (docs/PROTOCOL.md#state-api). The caller signs
//   METHOD \n TARGET \n TIMESTAMP \n NONCE \n SHA-256(body)
// with its role key (HMAC-SHA256) and sends the role, key id, timestamp, nonce and
// signature as headers. The server bounds the clock skew and remembers every nonce
// for as long as its timestamp is acceptable, so a captured request cannot be replayed.
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/keys.hpp"

namespace nonaxis::bus {

inline constexpr const char* kHdrRole = "X-Nonaxis-Role";
inline constexpr const char* kHdrKeyId = "X-Nonaxis-Key-Id";
inline constexpr const char* kHdrTimestamp = "X-Nonaxis-Timestamp";
inline constexpr const char* kHdrNonce = "X-Nonaxis-Nonce";
inline constexpr const char* kHdrSignature = "X-Nonaxis-Signature";

std::string http_signing_bytes(const std::string& method, const std::string& target, const std::string& timestamp,
                               const std::string& nonce, const std::string& body);

// Headers for one call; `target` is the path with its query string.
std::vector<std::pair<std::string, std::string>> sign_http_request(Role role, const Key& key, const std::string& method,
                                                                   const std::string& target, const std::string& body,
                                                                   std::chrono::system_clock::time_point now);

class HttpAuthenticator {
 public:
  // `rings`: the roles allowed to call at all, with their keys.
  HttpAuthenticator(std::map<Role, const KeyRing*> rings, std::chrono::seconds max_skew);

  struct Result {
    bool ok = false;
    int status = 401;    // HTTP status when refused
    std::string reason;  // short code: missing_auth, unknown_role, unknown_key, bad_timestamp, stale, replay, bad_signature
    Role role = Role::kOperator;
  };
  using HeaderLookup = std::function<std::string(const char*)>;  // "" when absent
  Result verify(const std::string& method, const std::string& target, const HeaderLookup& header, const std::string& body,
                std::chrono::system_clock::time_point now);

 private:
  std::map<Role, const KeyRing*> rings_;
  std::chrono::seconds max_skew_;
  std::chrono::system_clock::time_point started_;
  std::mutex mu_;
  std::set<std::string> seen_;  // nonces whose timestamps are still acceptable
  std::multimap<std::chrono::system_clock::time_point, std::string> expiry_;  // when each may be forgotten
};

}  // namespace nonaxis::bus
