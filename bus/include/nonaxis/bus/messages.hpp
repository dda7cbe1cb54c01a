#pragma once
// Payload rules for each bus message, checked by every receiver after the envelope
// signature and before acting. Checks are structural and bounded (no regex engine),
// and mirror the spec's schemas; docs/PROTOCOL.md lists where they are stricter.
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"

namespace nonaxis::bus {

inline constexpr std::size_t kMaxContentBytes = 512 * 1024;  // raw script/command bytes
inline constexpr std::size_t kMaxContextBytes = 4096;
inline constexpr std::size_t kMaxHosts = 64;

struct ActionContent {
  std::string bytes;        // the exact bytes a token will be bound to
  bool is_command = false;  // a command line (payload.command) rather than a file (payload.code)
};

// Builds a review/audit request payload; content_hash = "sha256:" + SHA-256(bytes).
Json make_request_payload(const std::string& action_type, const ActionContent& content,
                          const std::vector<std::string>& outbound_hosts, const std::string& context);

// "sha256:<hex>" of content bytes: what the token's scope.content_hash pins.
std::string content_hash_of(std::string_view bytes);

// Error text, or nullopt when the message is acceptable.
std::optional<std::string> check_request(const Json& envelope);  // review_request or audit_request
std::optional<std::string> check_assessment(const Json& envelope);
std::optional<std::string> check_decision(const Json& envelope);
// The fields of a sandbox execution record the Arbiter relies on (docs/SANDBOX.md):
// token_id, content_hash, exit.{code, timed_out}; the rest is carried as is.
std::optional<std::string> check_execution_record(const Json& payload);

// The content of a request that passed check_request (code is base64-decoded).
ActionContent request_content(const Json& payload);

// Host names and literal IPs only: letters, digits, '.', '-', ':' and '[', ']'.
bool is_valid_host(std::string_view host);

}  // namespace nonaxis::bus
