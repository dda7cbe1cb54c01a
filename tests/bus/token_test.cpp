#include <gtest/gtest.h>

#include "nonaxis/bus/token.hpp"

namespace nonaxis::bus {
namespace {

using namespace std::chrono_literals;

const Json kVectorScope = Json::parse(
    R"({"action_type": "exec_unfamiliar", "allowed_hosts": ["api.github.com"], "content_hash": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})");

// ADR-006 test vector, byte for byte.
TEST(TokenTest, ReproducesAdr006CanonicalStringAndHmac) {
  const std::string canonical = token_canonical_string("11111111-1111-1111-1111-111111111111",
                                                       "22222222-2222-2222-2222-222222222222",
                                                       "2026-02-14T18:00:00+00:00", kVectorScope);
  EXPECT_EQ(canonical,
            "11111111-1111-1111-1111-111111111111:22222222-2222-2222-2222-222222222222:2026-02-14T18:00:00+00:00:"
            "{\"action_type\": \"exec_unfamiliar\", \"allowed_hosts\": [\"api.github.com\"], \"content_hash\": "
            "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}");
  EXPECT_EQ(token_signature("test_hmac_secret", "11111111-1111-1111-1111-111111111111",
                            "22222222-2222-2222-2222-222222222222", "2026-02-14T18:00:00+00:00", kVectorScope),
            "13d08030e37fa1610d9ae3172ee342b460dd01e9371a4664bd1d86ae998690a9");
}

class IssuedToken : public ::testing::Test {
 protected:
  KeyRing ring = KeyRing::from_secret("T", std::string(40, 'k'));
  TokenGrant grant{"exec_unfamiliar", "sha256:" + std::string(64, 'b'), {"example.org"}, {}, 30, 300s};
  SysTime now = std::chrono::system_clock::now();
  Json token = issue_token(ring.current(), grant, now);
};

TEST_F(IssuedToken, VerifiesAndCarriesTheGrant) {
  EXPECT_TRUE(verify_token(token, ring, now).ok());
  EXPECT_EQ(token["scope"]["content_hash"], grant.content_hash);
  EXPECT_EQ(token["scope"]["max_duration_seconds"], 30);
  EXPECT_EQ(token["kid"], ring.current().kid);
}

TEST_F(IssuedToken, RejectsTamperedScope) {
  token["scope"]["allowed_hosts"].push_back("evil.example");
  EXPECT_EQ(verify_token(token, ring, now).code, TokenCheck::kBadSignature);
}

TEST_F(IssuedToken, RejectsOtherKey) {
  const KeyRing other = KeyRing::from_secret("T", std::string(40, 'z'));
  EXPECT_EQ(verify_token(token, other, now).code, TokenCheck::kUnknownKid);
  token["kid"] = other.current().kid;
  EXPECT_EQ(verify_token(token, other, now).code, TokenCheck::kBadSignature);
}

TEST_F(IssuedToken, RejectsExpired) {
  EXPECT_EQ(verify_token(token, ring, now + 306s).code, TokenCheck::kExpired);
  EXPECT_TRUE(verify_token(token, ring, now + 303s).ok());  // within the 5 s skew
}

TEST_F(IssuedToken, RejectsUnknownFields) {
  token["extra"] = 1;
  EXPECT_EQ(verify_token(token, ring, now).code, TokenCheck::kMalformed);
}

}  // namespace
}  // namespace nonaxis::bus
