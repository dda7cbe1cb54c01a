#include <gtest/gtest.h>

#include "decider.hpp"
#include "fixtures.hpp"
#include "nonaxis/bus/token.hpp"

namespace nonaxis::arbiter {
namespace {

using namespace testing;
using nlohmann::json;

class DeciderTest : public ::testing::Test {
 protected:
  Policy policy = Policy::load_configured();
  Decider d{policy, arbiter_keys().current(), token_keys().current(), DeciderConfig{}};
};

TEST_F(DeciderTest, LowRiskIsApprovedWithAScopedVerifiableToken) {
  const json req = request();
  const json a = assessment(req, 5);
  const Outcome o = d.on_assessment(req, a);
  EXPECT_TRUE(o.final);
  EXPECT_EQ(o.decision["payload"]["decision"], "approve");
  ASSERT_TRUE(o.token);
  EXPECT_TRUE(bus::verify_token(*o.token, token_keys(), std::chrono::system_clock::now()).ok());
  EXPECT_EQ((*o.token)["scope"]["content_hash"], req["payload"]["content_hash"]);
  EXPECT_EQ((*o.token)["scope"]["allowed_hosts"], json::array({"example.org"}));
  EXPECT_EQ(o.decision["payload"]["token"], *o.token);
  EXPECT_TRUE(bus::verify_envelope(o.decision, arbiter_keys(), bus::MessageType::kDecision).ok);
  EXPECT_EQ(o.decision["chain_hash"], bus::envelope_hash(a)) << "a decision chains to its assessment";
  std::vector<std::string> types;
  for (const auto& e : o.events) types.push_back(e.event_type);
  EXPECT_EQ(types, (std::vector<std::string>{"PROPOSED", "REVIEWED", "APPROVED"}));
  EXPECT_LE(o.ledger_entry["statement"].get<std::string>().size(), 200u);
}

TEST_F(DeciderTest, HighRiskIsRejectedWithoutToken) {
  const json req = request();
  const Outcome o = d.on_assessment(req, assessment(req, 95, "reject"));
  EXPECT_EQ(o.decision["payload"]["decision"], "reject");
  EXPECT_FALSE(o.token);
  EXPECT_FALSE(o.decision["payload"].contains("token"));
  EXPECT_EQ(o.decision["payload"]["findings"][0]["rule_id"], "R1");
}

TEST_F(DeciderTest, TheArbiterRecomputesTheTier) {
  // A tier-3 action filed as tier 2 is still treated as tier 3 and escalated.
  const json req = request("credential_access", 2);
  const Outcome o = d.on_assessment(req, assessment(req, 0));
  EXPECT_EQ(o.decision["payload"]["decision"], "escalate");
  EXPECT_EQ(o.decision["payload"]["risk_tier"], 3);
  EXPECT_FALSE(o.final);
}

TEST_F(DeciderTest, AuditRequestsNeverGetTokens) {
  const json req = request("workspace_write", 1, "audit_request");
  const Outcome ok = d.on_assessment(req, assessment(req, 0));
  EXPECT_EQ(ok.decision["payload"]["decision"], "approve");
  EXPECT_FALSE(ok.token);
  const Outcome bad = d.on_assessment(req, assessment(req, 99, "reject"));
  EXPECT_EQ(bad.decision["payload"]["decision"], "escalate");
}

TEST_F(DeciderTest, TimeoutsFailClosed) {
  const json req = request();
  const Outcome esc = d.on_assessment_timeout(req);
  EXPECT_EQ(esc.decision["payload"]["decision"], "escalate");
  EXPECT_EQ(esc.decision["payload"]["decision_method"], "timeout_escalation");
  EXPECT_EQ(esc.decision["payload"]["assessment_id"], std::string(bus::kNilUuid));
  Escalation e{esc.decision["id"].get<std::string>(), std::string(bus::kNilUuid), nullptr};
  const Outcome rej = d.on_human_timeout(req, e);
  EXPECT_EQ(rej.decision["payload"]["decision"], "reject");
  EXPECT_EQ(rej.ledger_entry["supersedes"], e.decision_id);
}

TEST_F(DeciderTest, HumanApprovalIssuesTheToken) {
  const json req = request("skill_install", 3);
  const Outcome esc = d.on_assessment(req, assessment(req, 0));
  Escalation e{esc.decision["id"].get<std::string>(), assessment(req, 0)["id"].get<std::string>(), nullptr};
  const Outcome ok = d.on_human_verdict(req, e, true, "alice", "fine");
  EXPECT_EQ(ok.decision["payload"]["decision_method"], "human_escalation");
  EXPECT_TRUE(ok.token);
  EXPECT_EQ(ok.events.back().source, "human");
}

}  // namespace
}  // namespace nonaxis::arbiter
