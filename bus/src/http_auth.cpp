#include "nonaxis/bus/http_auth.hpp"

#include <charconv>

#include "nonaxis/bus/crypto.hpp"

namespace nonaxis::bus {

namespace {
constexpr std::size_t kMaxRememberedNonces = 1'000'000;

bool is_hex(const std::string& s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
}  // namespace

std::string http_signing_bytes(const std::string& method, const std::string& target, const std::string& timestamp,
                               const std::string& nonce, const std::string& body) {
  return method + "\n" + target + "\n" + timestamp + "\n" + nonce + "\n" + sha256_hex(body);
}

std::vector<std::pair<std::string, std::string>> sign_http_request(Role role, const Key& key, const std::string& method,
                                                                   const std::string& target, const std::string& body,
                                                                   std::chrono::system_clock::time_point now) {
  const std::string ts = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  const std::string nonce = to_hex(random_bytes(16));
  return {{kHdrRole, to_string(role)},
          {kHdrKeyId, key.kid},
          {kHdrTimestamp, ts},
          {kHdrNonce, nonce},
          {kHdrSignature, hmac_sha256_hex(key.secret, http_signing_bytes(method, target, ts, nonce, body))}};
}

HttpAuthenticator::HttpAuthenticator(std::map<Role, const KeyRing*> rings, std::chrono::seconds max_skew)
    : rings_(std::move(rings)), max_skew_(max_skew), started_(std::chrono::system_clock::now()) {}

HttpAuthenticator::Result HttpAuthenticator::verify(const std::string& method, const std::string& target,
                                                    const HeaderLookup& header, const std::string& body,
                                                    std::chrono::system_clock::time_point now) {
  Result r;
  const std::string role_s = header(kHdrRole), kid = header(kHdrKeyId), ts_s = header(kHdrTimestamp),
                    nonce = header(kHdrNonce), sig = header(kHdrSignature);
  if (role_s.empty() || kid.empty() || ts_s.empty() || nonce.empty() || sig.empty()) {
    r.reason = "missing_auth";
    return r;
  }
  const auto role = role_from_string(role_s);
  if (!role || rings_.count(*role) == 0) {
    r.reason = "unknown_role";
    r.status = 403;
    return r;
  }
  const Key* key = rings_[*role]->find(kid);
  if (key == nullptr) {
    r.reason = "unknown_key";
    return r;
  }
  long long ts = 0;
  const auto [end, ec] = std::from_chars(ts_s.data(), ts_s.data() + ts_s.size(), ts);
  if (ec != std::errc() || end != ts_s.data() + ts_s.size() || !is_hex(nonce, 16, 64) || !is_hex(sig, 64, 64)) {
    r.reason = "bad_timestamp";
    r.status = 400;
    return r;
  }
  const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(ts));
  // Nonces from before this process started are unknown to it, so such requests are
  // refused outright: a replay across a restart is impossible, at the price of one
  // retry for a request signed in the second the server restarted.
  if (when > now + max_skew_ || when < now - max_skew_ || when + std::chrono::seconds(1) < started_) {
    r.reason = "stale";
    return r;
  }
  if (!constant_time_equal(hmac_sha256_hex(key->secret, http_signing_bytes(method, target, ts_s, nonce, body)), sig)) {
    r.reason = "bad_signature";
    return r;
  }
  std::lock_guard lk(mu_);
  while (!expiry_.empty() && expiry_.begin()->first < now) {
    seen_.erase(expiry_.begin()->second);
    expiry_.erase(expiry_.begin());
  }
  if (seen_.count(nonce) != 0) {
    r.reason = "replay";
    return r;
  }
  if (seen_.size() >= kMaxRememberedNonces) {
    r.reason = "busy";
    r.status = 503;
    return r;
  }
  seen_.insert(nonce);
  expiry_.emplace(when + max_skew_ + std::chrono::seconds(1), nonce);
  r.ok = true;
  r.status = 200;
  r.role = *role;
  return r;
}

}  // namespace nonaxis::bus
