#pragma once
// Everything that must hold before a byte of content runs (issue 5 §1): the token
// verifies, fits the mode, pins exactly this content, and its nonce is fresh.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/keys.hpp"
#include "nonaxis/sandbox/exit_codes.hpp"

namespace nonaxis::sandbox {

inline constexpr std::size_t kMaxTokenBytes = 64 * 1024;
inline constexpr std::string_view kRunnerActionType = "inference_runner";

enum class Mode { kRun, kRunner };

// The parts of a verified token the launcher needs.
struct TokenScope {
  std::string token_id;
  std::string nonce;
  std::string expires_at;
  std::string action_type;
  std::string content_hash;  // "sha256:<hex>"
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_paths;
  std::optional<long long> max_duration_seconds;
  bus::SysTime expires{};
};

struct GateOutcome {
  std::optional<Refusal> refusal;  // empty when the token may be used
  std::string detail;              // one sentence, never a secret
  TokenScope scope;                // filled as far as the token could be parsed
};

// Signature, kid, expiry, mode and content hash. Does NOT spend the nonce: that is
// the last step before launch (NonceStore::spend), so a refusal found later (e.g. no
// MAC layer) does not burn a valid token.
GateOutcome check_token(const bus::Json& token, const bus::KeyRing& ring, Mode mode,
                        const std::string& actual_content_sha256_hex, bus::SysTime now, std::chrono::seconds skew);

// Parses the token file (bounded, O_NOFOLLOW). Returns nullopt and fills `detail`
// when it is unreadable or not JSON.
std::optional<bus::Json> load_token_file(const std::string& path, std::string& detail);
// The same from a descriptor a resident-supervisor client sent.
std::optional<bus::Json> load_token_fd(int fd, std::string& detail);

}  // namespace nonaxis::sandbox
