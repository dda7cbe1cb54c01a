#include <gtest/gtest.h>

#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/messages.hpp"
#include "nonaxis/bus/tiers.hpp"

namespace nonaxis::bus {
namespace {

KeyRing op_keys() { return KeyRing::from_secret("OP", std::string(32, 'o')); }

Json request(const Json& payload, int tier = 2) {
  return make_envelope(MessageType::kReviewRequest, payload, kGenesisHash, op_keys().current(), {{"risk_tier", tier}});
}

TEST(Messages, ValidRequestRoundTripsItsContent) {
  const Json p = make_request_payload("exec_unfamiliar", {"#!/bin/sh\necho hi\n", false}, {"example.org"}, "ctx");
  const Json env = request(p);
  EXPECT_EQ(check_request(env), std::nullopt);
  EXPECT_EQ(request_content(env["payload"]).bytes, "#!/bin/sh\necho hi\n");
}

TEST(Messages, ContentHashIsRecomputedNotTrusted) {
  Json p = make_request_payload("exec_unfamiliar", {"ls", true}, {}, "");
  p["content_hash"] = content_hash_of("rm -rf /");
  EXPECT_NE(check_request(request(p)), std::nullopt);
}

TEST(Messages, UnknownFieldsTiersAndActionsAreRefused) {
  Json p = make_request_payload("exec_unfamiliar", {"ls", true}, {}, "");
  p["surprise"] = true;
  EXPECT_NE(check_request(request(p)), std::nullopt);
  EXPECT_NE(check_request(request(make_request_payload("exec_unfamiliar", {"ls", true}, {}, ""), 1)), std::nullopt);
  EXPECT_NE(check_request(request(make_request_payload("launch", {"ls", true}, {}, ""))), std::nullopt);
  EXPECT_NE(check_request(request(make_request_payload("exec_unfamiliar", {"ls", true}, {"bad host!"}, ""))), std::nullopt);
}

TEST(Messages, TiersFollowTheSpec) {
  for (const char* a : {"exec_unfamiliar", "outbound_network", "memory_modify"}) EXPECT_EQ(tier_of(a), 2) << a;
  for (const char* a : {"skill_install", "skill_update", "credential_access", "self_modify", "prompt_modify"}) EXPECT_EQ(tier_of(a), 3) << a;
  EXPECT_EQ(tier_of("read"), 0);
  EXPECT_EQ(tier_of("workspace_write"), 1);
  EXPECT_EQ(tier_of("nonsense"), std::nullopt);
}

}  // namespace
}  // namespace nonaxis::bus
