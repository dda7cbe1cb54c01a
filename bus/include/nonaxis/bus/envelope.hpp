#pragma once
// The spec's bus envelope {id, timestamp, chain_hash, type, source, payload},
// plus a detached HMAC signature made with the sender role's key.
#include <optional>
#include <string>
#include <string_view>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/keys.hpp"

namespace nonaxis::bus {

enum class Role { kOperator, kCiso, kArbiter, kSandbox };
const char* to_string(Role r);
std::optional<Role> role_from_string(std::string_view s);

// Message types on the bus and the only role allowed to send each.
enum class MessageType {
  kReviewRequest,   // operator -> ciso, arbiter (tier 2/3)
  kAuditRequest,    // operator -> ciso, arbiter (tier 1, audited after the fact)
  kHandoff,         // operator -> arbiter
  kStateProposal,   // operator -> arbiter
  kAssessment,      // ciso -> arbiter
  kDecision,        // arbiter -> operator
  kExecutionRecord  // sandbox -> arbiter
};
const char* to_string(MessageType t);
std::optional<MessageType> message_type_from_string(std::string_view s);
Role sender_of(MessageType t);

// Builds and signs an envelope. `extra` fields (e.g. risk_tier) sit at top level.
// `id` is fresh unless given (a handoff's envelope carries its handoff_id).
Json make_envelope(MessageType type, const Json& payload, std::string_view chain_hash, const Key& key,
                   const Json& extra = Json::object(), std::string_view id = {});

// Bytes covered by the signature: canonical form of the envelope without "signature".
std::string signing_bytes(const Json& envelope);

// SHA-256 of the canonical form of a whole signed envelope; the next message's chain_hash.
std::string envelope_hash(const Json& envelope);

struct EnvelopeCheck {
  bool ok = false;
  std::string reason;  // short machine code, e.g. "bad_signature"
  std::string detail;  // one human sentence
};

// Checks envelope shape, the type/source pairing, `expected` type (if given) and the
// signature against `ring` (the sender role's keys). Does not check the payload.
EnvelopeCheck verify_envelope(const Json& envelope, const KeyRing& ring, std::optional<MessageType> expected = {});

}  // namespace nonaxis::bus
