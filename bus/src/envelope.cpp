#include "nonaxis/bus/envelope.hpp"

#include <array>
#include <utility>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/ids.hpp"

namespace nonaxis::bus {
namespace {

constexpr std::array<std::pair<Role, const char*>, 4> kRoles{{
    {Role::kOperator, "operator"}, {Role::kCiso, "ciso"}, {Role::kArbiter, "arbiter"}, {Role::kSandbox, "sandbox"}}};

struct TypeInfo {
  MessageType type;
  const char* name;
  Role sender;
};
constexpr std::array<TypeInfo, 7> kTypes{{
    {MessageType::kReviewRequest, "review_request", Role::kOperator},
    {MessageType::kAuditRequest, "audit_request", Role::kOperator},
    {MessageType::kHandoff, "session_handoff", Role::kOperator},
    {MessageType::kStateProposal, "state_proposal", Role::kOperator},
    {MessageType::kAssessment, "assessment", Role::kCiso},
    {MessageType::kDecision, "decision", Role::kArbiter},
    {MessageType::kExecutionRecord, "execution_record", Role::kSandbox},
}};

EnvelopeCheck fail(std::string reason, std::string detail) { return {false, std::move(reason), std::move(detail)}; }

}  // namespace

const char* to_string(Role r) {
  for (const auto& [role, name] : kRoles) {
    if (role == r) return name;
  }
  return "unknown";
}

std::optional<Role> role_from_string(std::string_view s) {
  for (const auto& [role, name] : kRoles) {
    if (s == name) return role;
  }
  return std::nullopt;
}

const char* to_string(MessageType t) {
  for (const auto& info : kTypes) {
    if (info.type == t) return info.name;
  }
  return "unknown";
}

std::optional<MessageType> message_type_from_string(std::string_view s) {
  for (const auto& info : kTypes) {
    if (s == info.name) return info.type;
  }
  return std::nullopt;
}

Role sender_of(MessageType t) {
  for (const auto& info : kTypes) {
    if (info.type == t) return info.sender;
  }
  return Role::kOperator;
}

std::string signing_bytes(const Json& envelope) {
  Json copy = envelope;
  copy.erase("signature");
  return canonical_dump(copy);
}

std::string envelope_hash(const Json& envelope) { return sha256_hex(canonical_dump(envelope)); }

Json make_envelope(MessageType type, const Json& payload, std::string_view chain_hash, const Key& key,
                   const Json& extra, std::string_view id) {
  Json env = extra.is_object() ? extra : Json::object();
  env["id"] = id.empty() ? uuid_v4() : std::string(id);
  env["timestamp"] = rfc3339_micro(std::chrono::system_clock::now());
  env["chain_hash"] = std::string(chain_hash);
  env["type"] = to_string(type);
  env["source"] = to_string(sender_of(type));
  env["payload"] = payload;
  env["signature"] = Json{{"alg", "HMAC-SHA256"}, {"kid", key.kid}, {"value", ""}};
  env["signature"]["value"] = hmac_sha256_hex(key.secret, signing_bytes(env));
  return env;
}

EnvelopeCheck verify_envelope(const Json& env, const KeyRing& ring, std::optional<MessageType> expected) {
  if (!env.is_object()) return fail("malformed", "message is not a JSON object");
  for (const char* f : {"id", "timestamp", "chain_hash", "type", "source"}) {
    if (!env.contains(f) || !env[f].is_string()) return fail("malformed", std::string("field '") + f + "' missing or not a string");
  }
  if (!env.contains("payload") || !env["payload"].is_object()) return fail("malformed", "payload missing or not an object");
  if (!is_uuid(env["id"].get_ref<const std::string&>())) return fail("malformed", "id is not a lowercase UUID");
  if (!parse_rfc3339(env["timestamp"].get_ref<const std::string&>())) return fail("malformed", "timestamp is not RFC 3339");
  if (!is_sha256_hex(env["chain_hash"].get_ref<const std::string&>())) return fail("malformed", "chain_hash is not 64 hex digits");
  const auto type = message_type_from_string(env["type"].get_ref<const std::string&>());
  if (!type) return fail("unknown_type", "message type '" + env["type"].get<std::string>() + "' is not a bus type");
  if (expected && *type != *expected) {
    return fail("unexpected_type", std::string("expected a ") + to_string(*expected) + ", got " + to_string(*type));
  }
  if (env["source"].get_ref<const std::string&>() != to_string(sender_of(*type))) {
    return fail("wrong_source", std::string(to_string(*type)) + " must come from " + to_string(sender_of(*type)));
  }
  if (!env.contains("signature") || !env["signature"].is_object()) return fail("unsigned", "signature missing");
  const Json& sig = env["signature"];
  if (!sig.contains("alg") || sig["alg"] != "HMAC-SHA256" || !sig.contains("kid") || !sig["kid"].is_string() ||
      !sig.contains("value") || !sig["value"].is_string() || sig.size() != 3) {
    return fail("unsigned", "signature must be {alg: HMAC-SHA256, kid, value}");
  }
  const Key* key = ring.find(sig["kid"].get_ref<const std::string&>());
  if (key == nullptr) return fail("unknown_kid", "signature key id is not a known key of the sender role");
  const std::string expect = hmac_sha256_hex(key->secret, signing_bytes(env));
  if (!constant_time_equal(expect, sig["value"].get_ref<const std::string&>())) {
    return fail("bad_signature", "HMAC does not verify under the sender role's key");
  }
  return {true, {}, {}};
}

}  // namespace nonaxis::bus
