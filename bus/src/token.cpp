#include "nonaxis/bus/token.hpp"

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/ids.hpp"

namespace nonaxis::bus {

std::string token_canonical_string(const std::string& token_id, const std::string& nonce,
                                   const std::string& expires_at, const Json& scope) {
  return token_id + ":" + nonce + ":" + expires_at + ":" + python_sorted_dumps(scope);
}

std::string token_signature(std::string_view secret, const std::string& token_id, const std::string& nonce,
                            const std::string& expires_at, const Json& scope) {
  return hmac_sha256_hex(secret, token_canonical_string(token_id, nonce, expires_at, scope));
}

Json issue_token(const Key& key, const TokenGrant& grant, SysTime now) {
  Json scope = {{"action_type", grant.action_type},
                {"allowed_hosts", grant.allowed_hosts},
                {"content_hash", grant.content_hash}};
  if (!grant.allowed_paths.empty()) scope["allowed_paths"] = grant.allowed_paths;
  if (grant.max_duration_seconds) scope["max_duration_seconds"] = *grant.max_duration_seconds;
  const std::string token_id = uuid_v4();
  const std::string nonce = uuid_v4();
  const std::string expires_at = rfc3339_seconds_offset(now + grant.ttl);
  return Json{{"token_id", token_id},
              {"nonce", nonce},
              {"expires_at", expires_at},
              {"scope", scope},
              {"kid", key.kid},
              {"hmac_signature", token_signature(key.secret, token_id, nonce, expires_at, scope)}};
}

const char* to_string(TokenCheck c) {
  switch (c) {
    case TokenCheck::kOk: return "ok";
    case TokenCheck::kMalformed: return "token_malformed";
    case TokenCheck::kUnknownKid: return "token_unknown_kid";
    case TokenCheck::kBadSignature: return "token_bad_signature";
    case TokenCheck::kExpired: return "token_expired";
    case TokenCheck::kNotYetValid: return "token_not_yet_valid";
  }
  return "token_malformed";
}

namespace {

TokenVerdict bad(TokenCheck c, std::string detail) { return TokenVerdict{c, std::move(detail)}; }

bool is_string_array(const Json& j) {
  if (!j.is_array()) return false;
  for (const auto& v : j) {
    if (!v.is_string()) return false;
  }
  return true;
}

// Mirrors execution-token.schema.json plus the documented scope.action_type and kid.
std::optional<std::string> structure_error(const Json& t) {
  if (!t.is_object()) return "token is not a JSON object";
  for (const auto& [k, v] : t.items()) {
    if (k != "token_id" && k != "nonce" && k != "expires_at" && k != "scope" && k != "hmac_signature" && k != "kid") {
      return "unknown token field '" + k + "'";
    }
  }
  for (const char* f : {"token_id", "nonce", "expires_at", "hmac_signature", "kid"}) {
    if (!t.contains(f) || !t[f].is_string()) return std::string("token field '") + f + "' missing or not a string";
  }
  if (!is_uuid(t["token_id"].get_ref<const std::string&>())) return "token_id is not a UUID";
  if (!is_uuid(t["nonce"].get_ref<const std::string&>())) return "nonce is not a UUID";
  if (!is_sha256_hex(t["hmac_signature"].get_ref<const std::string&>())) return "hmac_signature is not 64 hex digits";
  if (!t.contains("scope") || !t["scope"].is_object()) return "scope missing or not an object";
  const Json& s = t["scope"];
  for (const auto& [k, v] : s.items()) {
    if (k == "content_hash" || k == "action_type") {
      if (!v.is_string()) return "scope." + k + " is not a string";
    } else if (k == "allowed_hosts" || k == "allowed_paths") {
      if (!is_string_array(v)) return "scope." + k + " is not an array of strings";
    } else if (k == "max_duration_seconds") {
      if (!v.is_number_integer() || v.get<long long>() < 1) return "scope.max_duration_seconds is not a positive integer";
    } else {
      return "unknown scope field '" + k + "'";
    }
  }
  if (!s.contains("content_hash") || !is_prefixed_sha256(s["content_hash"].get_ref<const std::string&>())) {
    return "scope.content_hash is not sha256:<64 hex>";
  }
  if (!s.contains("action_type")) return "scope.action_type missing";
  return std::nullopt;
}

}  // namespace

TokenVerdict verify_token(const Json& token, const KeyRing& ring, SysTime now, std::chrono::seconds skew) {
  if (auto err = structure_error(token)) return bad(TokenCheck::kMalformed, *err);
  const Key* key = ring.find(token["kid"].get_ref<const std::string&>());
  if (key == nullptr) return bad(TokenCheck::kUnknownKid, "token kid is not a known token key");
  const std::string expected = token_signature(key->secret, token["token_id"], token["nonce"], token["expires_at"],
                                               token["scope"]);
  if (!constant_time_equal(expected, token["hmac_signature"].get_ref<const std::string&>())) {
    return bad(TokenCheck::kBadSignature, "token HMAC does not verify");
  }
  const auto expires = parse_rfc3339(token["expires_at"].get_ref<const std::string&>());
  if (!expires) return bad(TokenCheck::kMalformed, "expires_at is not RFC 3339");
  if (now > *expires + skew) return bad(TokenCheck::kExpired, "token expired at " + token["expires_at"].get<std::string>());
  // A token whose lifetime exceeds anything the Arbiter issues was not minted by it.
  if (*expires - now > std::chrono::hours{24} + skew) return bad(TokenCheck::kNotYetValid, "token expiry is implausibly far away");
  return TokenVerdict{TokenCheck::kOk, {}};
}

}  // namespace nonaxis::bus
