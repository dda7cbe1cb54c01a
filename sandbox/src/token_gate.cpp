#include "nonaxis/sandbox/token_gate.hpp"

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/token.hpp"
#include "nonaxis/sandbox/untrusted_file.hpp"

namespace nonaxis::sandbox {
namespace {

Refusal refusal_for(bus::TokenCheck c) {
  switch (c) {
    case bus::TokenCheck::kUnknownKid: return Refusal::kTokenUnknownKid;
    case bus::TokenCheck::kBadSignature: return Refusal::kTokenBadSignature;
    case bus::TokenCheck::kExpired: return Refusal::kTokenExpired;
    case bus::TokenCheck::kNotYetValid: return Refusal::kTokenNotYetValid;
    case bus::TokenCheck::kOk:
    case bus::TokenCheck::kMalformed: break;
  }
  return Refusal::kTokenMalformed;
}

std::vector<std::string> strings(const bus::Json& scope, const char* key) {
  std::vector<std::string> out;
  if (scope.contains(key)) {
    for (const auto& v : scope[key]) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

namespace {

template <typename Read>
std::optional<bus::Json> parse_token(const Read& read, std::string& detail) {
  try {
    return bus::Json::parse(read());
  } catch (const UntrustedFileError& e) {
    detail = e.what();
  } catch (const bus::Json::exception&) {
    detail = "token file is not valid JSON";
  }
  return std::nullopt;
}

}  // namespace

std::optional<bus::Json> load_token_file(const std::string& path, std::string& detail) {
  return parse_token([&] { return read_untrusted_file(path, kMaxTokenBytes); }, detail);
}

std::optional<bus::Json> load_token_fd(int fd, std::string& detail) {
  return parse_token([&] { return read_untrusted_fd(fd, kMaxTokenBytes, "token"); }, detail);
}

GateOutcome check_token(const bus::Json& token, const bus::KeyRing& ring, Mode mode,
                        const std::string& actual_content_sha256_hex, bus::SysTime now, std::chrono::seconds skew) {
  GateOutcome out;
  const bus::TokenVerdict verdict = bus::verify_token(token, ring, now, skew);
  if (token.is_object()) {
    // Identification only, for the refusal event; nothing here is trusted yet.
    if (token.contains("token_id") && token["token_id"].is_string()) out.scope.token_id = token["token_id"];
  }
  if (!verdict.ok()) {
    out.refusal = refusal_for(verdict.code);
    out.detail = verdict.detail;
    return out;
  }
  const bus::Json& scope = token["scope"];
  TokenScope& s = out.scope;
  s.nonce = token["nonce"];
  s.expires_at = token["expires_at"];
  s.expires = *bus::parse_rfc3339(s.expires_at);
  s.action_type = scope["action_type"];
  s.content_hash = scope["content_hash"];
  s.allowed_hosts = strings(scope, "allowed_hosts");
  s.allowed_paths = strings(scope, "allowed_paths");
  if (scope.contains("max_duration_seconds")) s.max_duration_seconds = scope["max_duration_seconds"].get<long long>();

  // A runner token must not launch one-shot content and vice versa: the Arbiter
  // approved one kind of action, and the hash forms differ.
  const bool is_runner = s.action_type == kRunnerActionType;
  if ((mode == Mode::kRunner) != is_runner) {
    out.refusal = Refusal::kScopeNotAllowed;
    out.detail = mode == Mode::kRunner ? "runner mode needs action_type inference_runner"
                                       : "an inference_runner token cannot be used with run";
    return out;
  }
  const std::string expected = "sha256:" + actual_content_sha256_hex;
  if (!bus::constant_time_equal(expected, s.content_hash)) {
    out.refusal = Refusal::kContentMismatch;
    out.detail = "content SHA-256 does not match the token's content_hash";
    return out;
  }
  return out;
}

}  // namespace nonaxis::sandbox
