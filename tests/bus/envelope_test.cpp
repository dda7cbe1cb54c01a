#include <gtest/gtest.h>

#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/ids.hpp"

namespace nonaxis::bus {
namespace {

class Envelope : public ::testing::Test {
 protected:
  KeyRing op = KeyRing::from_secret("OP", std::string(32, 'o'));
  KeyRing ciso = KeyRing::from_secret("CISO", std::string(32, 'c'));
  Json env = make_envelope(MessageType::kReviewRequest, {{"action_type", "exec_unfamiliar"}}, kGenesisHash, op.current(),
                           {{"risk_tier", 2}});
};

TEST_F(Envelope, HasTheSpecFieldsAndVerifies) {
  for (const char* f : {"id", "timestamp", "chain_hash", "type", "source", "payload", "signature"}) EXPECT_TRUE(env.contains(f)) << f;
  EXPECT_TRUE(is_uuid(env["id"].get<std::string>()));
  EXPECT_EQ(env["source"], "operator");
  EXPECT_TRUE(verify_envelope(env, op).ok);
}

TEST_F(Envelope, AnyChangeBreaksTheSignature) {
  env["payload"]["action_type"] = "outbound_network";
  EXPECT_EQ(verify_envelope(env, op).reason, "bad_signature");
}

TEST_F(Envelope, ChangingTheTierBreaksTheSignature) {
  env["risk_tier"] = 3;
  EXPECT_EQ(verify_envelope(env, op).reason, "bad_signature");
}

TEST_F(Envelope, ForgeryWithAnotherRolesKeyIsRefused) {
  const Json forged = make_envelope(MessageType::kReviewRequest, Json::object(), kGenesisHash, ciso.current());
  EXPECT_EQ(verify_envelope(forged, op).reason, "unknown_kid");
}

TEST_F(Envelope, SourceMustMatchType) {
  env["source"] = "arbiter";
  EXPECT_EQ(verify_envelope(env, op).reason, "wrong_source");
}

TEST_F(Envelope, UnknownTypeAndMissingFieldsAreRefused) {
  Json e = env;
  e["type"] = "launch_missiles";
  EXPECT_EQ(verify_envelope(e, op).reason, "unknown_type");
  e = env;
  e.erase("chain_hash");
  EXPECT_EQ(verify_envelope(e, op).reason, "malformed");
  e = env;
  e.erase("signature");
  EXPECT_EQ(verify_envelope(e, op).reason, "unsigned");
  EXPECT_EQ(verify_envelope(Json::array(), op).reason, "malformed");
}

TEST_F(Envelope, ExpectedTypeIsEnforced) {
  EXPECT_EQ(verify_envelope(env, op, MessageType::kAssessment).reason, "unexpected_type");
}

}  // namespace
}  // namespace nonaxis::bus
