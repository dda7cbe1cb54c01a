#pragma once
// Exit codes of nonaxis-sandbox. A program that ran exits with its own code (or
// 128+signal); everything the sandbox itself refuses gets one documented code, so a
// caller can tell a refusal from the program's own failure without parsing text.
// docs/SANDBOX.md lists the same table.
#include <optional>
#include <string_view>

namespace nonaxis::sandbox {

enum class Refusal : int {
  kTokenMalformed = 110,      // token file unreadable, not JSON, or wrong structure
  kTokenUnknownKid = 111,     // kid names no key the sandbox holds
  kTokenBadSignature = 112,   // HMAC does not verify (forged or altered)
  kTokenExpired = 113,        // past expires_at plus the allowed clock skew
  kTokenNotYetValid = 114,    // expiry implausibly far in the future
  kContentMismatch = 115,     // SHA-256 of the content differs from scope.content_hash
  kNonceReplayed = 116,       // the nonce was spent before (also across restarts)
  kScopeNotAllowed = 117,     // action_type does not fit the mode, or a scope field cannot be enforced
  kMacUnavailable = 118,      // neither AppArmor nor Landlock, and degrading was not configured
  kNonceLogFailed = 119,      // the spent-nonce record could not be made durable
  kContentUnreadable = 120,   // content is not a regular file, a symlink, or too large
  kHostUnresolvable = 121,    // an allowed host could not be resolved on the trusted side
  kSupervisorUnavailable = 122,  // run --socket: the resident supervisor could not be reached, or gave no answer
  kTimeout = 124,             // the program ran past max_duration_seconds and was killed
  kConfig = 125,              // usage or configuration error (missing key, bad flag)
  kConfinementFailed = 126,   // a confinement layer could not be applied; nothing ran
  kExecFailed = 127,          // the content could not be executed
};

constexpr int code(Refusal r) { return static_cast<int>(r); }

// Short machine-readable reason, used in events and the execution record.
std::string_view reason(Refusal r);

// The refusal whose code is `c`, if any (a resident supervisor's answer names it).
std::optional<Refusal> refusal_from_code(int c);

}  // namespace nonaxis::sandbox
