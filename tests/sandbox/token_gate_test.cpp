// Token enforcement logic (issue 5 §1), in-process: every refusal has its own code.
#include <gtest/gtest.h>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/sandbox/token_gate.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

using testing::issue;
using testing::token_key;

const std::string kHex = bus::sha256_hex("approved content");
const std::string kHash = "sha256:" + kHex;
const auto kRing = bus::KeyRing::from_secret("T", testing::kTokenSecret);
constexpr std::chrono::seconds kSkew{5};

TEST(SandboxTokenGate, AcceptsValidToken) {
  const auto t = issue(kHash, {"example.test"}, 10);
  const auto g = check_token(t, kRing, Mode::kRun, kHex, std::chrono::system_clock::now(), kSkew);
  ASSERT_FALSE(g.refusal) << g.detail;
  EXPECT_EQ(g.scope.allowed_hosts, std::vector<std::string>{"example.test"});
  EXPECT_EQ(g.scope.max_duration_seconds, 10);
}

TEST(SandboxTokenGate, ForgedSignatureRefused) {
  auto t = issue(kHash);
  t["scope"]["content_hash"] = "sha256:" + bus::sha256_hex("other content");  // altered after signing
  const auto g = check_token(t, kRing, Mode::kRun, bus::sha256_hex("other content"), std::chrono::system_clock::now(), kSkew);
  ASSERT_TRUE(g.refusal);
  EXPECT_EQ(*g.refusal, Refusal::kTokenBadSignature);
}

TEST(SandboxTokenGate, WrongKeySameKidRefusedAsBadSignature) {
  bus::Key forger{token_key().kid, "an-attacker-guessed-secret-0123456789abcdef"};
  bus::TokenGrant gr;
  gr.action_type = "exec_unfamiliar";
  gr.content_hash = kHash;
  const auto t = bus::issue_token(forger, gr, std::chrono::system_clock::now());
  const auto g = check_token(t, kRing, Mode::kRun, kHex, std::chrono::system_clock::now(), kSkew);
  ASSERT_TRUE(g.refusal);
  EXPECT_EQ(*g.refusal, Refusal::kTokenBadSignature);
}

TEST(SandboxTokenGate, UnknownKidRefused) {
  auto other = bus::KeyRing::from_secret("O", "a-different-token-secret-0123456789abcdef").current();
  bus::TokenGrant gr;
  gr.action_type = "exec_unfamiliar";
  gr.content_hash = kHash;
  const auto t = bus::issue_token(other, gr, std::chrono::system_clock::now());
  const auto g = check_token(t, kRing, Mode::kRun, kHex, std::chrono::system_clock::now(), kSkew);
  ASSERT_TRUE(g.refusal);
  EXPECT_EQ(*g.refusal, Refusal::kTokenUnknownKid);
}

TEST(SandboxTokenGate, ExpiredRefusedBeyondSkewOnly) {
  const auto issued = std::chrono::system_clock::now() - std::chrono::hours(1);
  const auto t = issue(kHash, {}, std::nullopt, "exec_unfamiliar", issued);  // ttl 300 s, long past
  const auto g = check_token(t, kRing, Mode::kRun, kHex, std::chrono::system_clock::now(), kSkew);
  ASSERT_TRUE(g.refusal);
  EXPECT_EQ(*g.refusal, Refusal::kTokenExpired);
  // Within the skew of expiry it is still accepted.
  const auto at_expiry = *bus::parse_rfc3339(t["expires_at"].get<std::string>()) + std::chrono::seconds(3);
  EXPECT_FALSE(check_token(t, kRing, Mode::kRun, kHex, at_expiry, kSkew).refusal);
}

TEST(SandboxTokenGate, ContentSwapRefused) {
  const auto t = issue(kHash);
  const auto g = check_token(t, kRing, Mode::kRun, bus::sha256_hex("swapped content"), std::chrono::system_clock::now(), kSkew);
  ASSERT_TRUE(g.refusal);
  EXPECT_EQ(*g.refusal, Refusal::kContentMismatch);
}

TEST(SandboxTokenGate, ModeMustMatchActionType) {
  const auto runner = issue(kHash, {}, std::nullopt, "inference_runner");
  EXPECT_EQ(*check_token(runner, kRing, Mode::kRun, kHex, std::chrono::system_clock::now(), kSkew).refusal,
            Refusal::kScopeNotAllowed);
  const auto plain = issue(kHash);
  EXPECT_EQ(*check_token(plain, kRing, Mode::kRunner, kHex, std::chrono::system_clock::now(), kSkew).refusal,
            Refusal::kScopeNotAllowed);
}

TEST(SandboxTokenGate, MalformedRefused) {
  EXPECT_EQ(*check_token(bus::Json::array(), kRing, Mode::kRun, kHex, std::chrono::system_clock::now(), kSkew).refusal,
            Refusal::kTokenMalformed);
  auto t = issue(kHash);
  t.erase("nonce");
  EXPECT_EQ(*check_token(t, kRing, Mode::kRun, kHex, std::chrono::system_clock::now(), kSkew).refusal,
            Refusal::kTokenMalformed);
}

TEST(SandboxTokenGate, RefusalCodesAreDistinct) {
  std::set<int> codes;
  std::set<std::string_view> reasons;
  for (Refusal r : {Refusal::kTokenMalformed, Refusal::kTokenUnknownKid, Refusal::kTokenBadSignature,
                    Refusal::kTokenExpired, Refusal::kTokenNotYetValid, Refusal::kContentMismatch,
                    Refusal::kNonceReplayed, Refusal::kScopeNotAllowed, Refusal::kMacUnavailable,
                    Refusal::kNonceLogFailed, Refusal::kContentUnreadable, Refusal::kHostUnresolvable,
                    Refusal::kTimeout, Refusal::kConfig, Refusal::kConfinementFailed, Refusal::kExecFailed}) {
    EXPECT_TRUE(codes.insert(code(r)).second);
    EXPECT_TRUE(reasons.insert(reason(r)).second);
  }
}

}  // namespace
}  // namespace nonaxis::sandbox
