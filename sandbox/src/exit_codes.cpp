#include "nonaxis/sandbox/exit_codes.hpp"

namespace nonaxis::sandbox {

std::string_view reason(Refusal r) {
  switch (r) {
    case Refusal::kTokenMalformed: return "token_malformed";
    case Refusal::kTokenUnknownKid: return "token_unknown_kid";
    case Refusal::kTokenBadSignature: return "token_bad_signature";
    case Refusal::kTokenExpired: return "token_expired";
    case Refusal::kTokenNotYetValid: return "token_not_yet_valid";
    case Refusal::kContentMismatch: return "content_hash_mismatch";
    case Refusal::kNonceReplayed: return "nonce_replayed";
    case Refusal::kScopeNotAllowed: return "scope_not_allowed";
    case Refusal::kMacUnavailable: return "mac_unavailable";
    case Refusal::kNonceLogFailed: return "nonce_log_failed";
    case Refusal::kContentUnreadable: return "content_unreadable";
    case Refusal::kHostUnresolvable: return "host_unresolvable";
    case Refusal::kSupervisorUnavailable: return "supervisor_unavailable";
    case Refusal::kTimeout: return "timeout";
    case Refusal::kConfig: return "config_error";
    case Refusal::kConfinementFailed: return "confinement_failed";
    case Refusal::kExecFailed: return "exec_failed";
  }
  return "unknown";
}

std::optional<Refusal> refusal_from_code(int c) {
  const auto r = static_cast<Refusal>(c);
  if (reason(r) == "unknown") return std::nullopt;
  return r;
}

}  // namespace nonaxis::sandbox
