// The Arbiter's canonical state: seeding, policy review of proposals and handoffs,
// stale bases, human verdicts, and crash-safe publication through the commit log.
#include <gtest/gtest.h>

#include <fstream>

#include "commit_log.hpp"
#include "fixtures.hpp"
#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/boot.hpp"
#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/state.hpp"
#include "nonaxis/bus/state_files.hpp"
#include "nonaxis/bus/state_messages.hpp"
#include "scratch_dir.hpp"
#include "state_keeper.hpp"

namespace nonaxis::arbiter {
namespace {

using namespace testing;
using nlohmann::json;

const char* kInitial = R"({"identity": {"agent_id": "a", "role": "r"},
  "active_objectives": [], "constraints": [{"id": "c1", "name": "Peace Mode", "active": true}],
  "known_systems": [], "approved_skills": [], "open_tasks": [{"id": "t1", "title": "x", "status": "pending"}],
  "last_decisions": []})";

class StateKeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bus::prepare_role_dirs(layout, bus::Role::kArbiter, std::nullopt);
    std::ofstream(init) << kInitial;
  }
  json proposal(const std::string& base, const json& patch) {
    return bus::make_envelope(bus::MessageType::kStateProposal, bus::make_proposal_payload(base, patch, "because", "s1"),
                              bus::kGenesisHash, op_keys().current());
  }
  json handoff(const std::string& base, const json& patch) {
    const std::string id = bus::uuid_v4();
    json h = {{"handoff_id", id}, {"session_id", "s1"}, {"timestamp", bus::rfc3339_micro(std::chrono::system_clock::now())},
              {"snapshot_id", base}, {"session_summary", {"done"}}, {"assumptions_made", json::array()},
              {"unknowns", json::array()}, {"task_queue", json::array()}, {"state_updates_proposed", patch}};
    return bus::make_envelope(bus::MessageType::kHandoff, h, bus::kGenesisHash, op_keys().current(), json::object(), id);
  }
  std::string current_id(const StateKeeper& k) { return (*k.current())["snapshot_id"].get<std::string>(); }
  static const json& payload(const Outcome& o) { return o.decision["payload"]; }
  static bool has_event(const Outcome& o, const std::string& type) {
    for (const auto& e : o.events) {
      if (e.event_type == type) return true;
    }
    return false;
  }

  nonaxis::testing::ScratchDir scratch{"nonaxis-state"};
  bus::Layout layout{scratch.str()};
  std::string init = scratch.str() + "/init.json";
  Policy policy = Policy::load_configured();
  const json routine = json::parse(R"([{"op": "replace", "path": "/open_tasks/0/status", "value": "done"}])");
  const json constraint = json::parse(R"([{"op": "replace", "path": "/constraints/0/active", "value": false}])");
};

TEST_F(StateKeeperTest, SeedsOnceFromTheDeploymentsFileAndNeverInventsState) {
  {
    StateKeeper k(layout, policy, arbiter_keys().current(), 30);
    EXPECT_FALSE(k.seed(""));  // nothing configured: no state
    EXPECT_FALSE(k.current());
    auto o = k.seed(init);
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->decision.is_null());
    EXPECT_TRUE(has_event(*o, "STATE_PATCHED"));
    CommitLog log(layout, arbiter_keys().current());
    log.commit({std::move(*o)});
  }
  StateKeeper again(layout, policy, arbiter_keys().current(), 30);
  ASSERT_TRUE(again.current());
  EXPECT_FALSE(again.seed(init));  // state exists: the file is not read again
  EXPECT_EQ(bus::StateFiles(layout).current_snapshot()->at("snapshot_id"), again.current()->at("snapshot_id"));
  std::ofstream(init) << R"({"identity": {}})";
  StateKeeper fresh(bus::Layout{scratch.str() + "/none"}, policy, arbiter_keys().current(), 30);
  EXPECT_THROW(fresh.seed(init), bus::ConfigError);
}

TEST_F(StateKeeperTest, RoutineChangesAreApprovedIntoTheNextSnapshot) {
  StateKeeper k(layout, policy, arbiter_keys().current(), 30);
  CommitLog log(layout, arbiter_keys().current());
  log.commit({*k.seed(init)});
  const std::string base = current_id(k);
  Outcome o = k.review(proposal(base, routine));
  EXPECT_EQ(payload(o)["decision"], "approve");
  EXPECT_EQ(payload(o)["state_change"]["new_snapshot_id"], current_id(k));
  EXPECT_TRUE(has_event(o, "STATE_PATCHED"));
  log.commit({std::move(o)});
  const auto snap = bus::StateFiles(layout).current_snapshot();
  EXPECT_EQ((*snap)["prev_snapshot_id"], base);
  EXPECT_EQ((*snap)["open_tasks"][0]["status"], "done");
  // The same base again is stale now (409-equivalent).
  const Outcome stale = k.review(proposal(base, routine));
  EXPECT_EQ(payload(stale)["decision"], "reject");
  EXPECT_TRUE(payload(stale)["state_change"]["conflict"].get<bool>());
}

TEST_F(StateKeeperTest, ConstraintChangesEscalateAndTheHumanAnswerIsRechecked) {
  StateKeeper k(layout, policy, arbiter_keys().current(), 30);
  CommitLog log(layout, arbiter_keys().current());
  log.commit({*k.seed(init)});
  const json msg = proposal(current_id(k), constraint);
  Outcome esc = k.review(msg);
  EXPECT_EQ(payload(esc)["decision"], "escalate");
  EXPECT_FALSE(esc.final);
  Escalation e{esc.decision["id"].get<std::string>(), std::string(bus::kNilUuid), nullptr};
  Outcome yes = k.on_human_verdict(msg, e, true, "alice", "ok");
  EXPECT_EQ(payload(yes)["decision"], "approve");
  EXPECT_EQ(payload(yes)["decision_method"], "human_escalation");
  EXPECT_FALSE((*k.current())["constraints"][0]["active"].get<bool>());
  // A second escalated change on the old base: by the time the human says yes it is stale.
  Outcome late = k.on_human_verdict(msg, e, true, "alice", "ok");
  EXPECT_EQ(payload(late)["decision"], "reject");
  Outcome no = k.on_human_timeout(proposal(current_id(k), constraint), e);
  EXPECT_EQ(payload(no)["decision"], "reject");
  EXPECT_EQ(payload(no)["decision_method"], "timeout_escalation");
}

TEST_F(StateKeeperTest, HandoffsAreStoredAndDriftIsReconciled) {
  StateKeeper k(layout, policy, arbiter_keys().current(), 30);
  CommitLog log(layout, arbiter_keys().current());
  log.commit({*k.seed(init)});
  const std::string genesis = current_id(k);
  log.commit({k.review(proposal(genesis, routine))});
  const json h = handoff(genesis, json::array());
  Outcome o = k.review(h);
  EXPECT_EQ(payload(o)["decision"], "approve");
  EXPECT_TRUE(has_event(o, "RECONCILED"));
  log.commit({std::move(o)});
  const auto stored = bus::StateFiles(layout).last_handoff();
  ASSERT_TRUE(stored);
  EXPECT_EQ((*stored)["handoff_id"], h["id"]);
  const json boot = bus::build_boot(layout, std::chrono::system_clock::now());
  EXPECT_EQ(boot["last_handoff"]["handoff_id"], h["id"]);
  EXPECT_EQ(boot["consistency_checks"]["drift_check"], "pass") << boot["consistency_checks"].dump();
}

TEST_F(StateKeeperTest, InvalidPatchesAreRejectedNamingTheOperation) {
  StateKeeper k(layout, policy, arbiter_keys().current(), 30);
  k.seed(init);
  const Outcome o = k.review(proposal(current_id(k), json::parse(R"([{"op": "remove", "path": "/open_tasks/3"}])")));
  EXPECT_EQ(payload(o)["decision"], "reject");
  EXPECT_NE(payload(o)["reasoning"].get<std::string>().find("operation 1 (remove /open_tasks/3)"), std::string::npos);
}

TEST_F(StateKeeperTest, APolicyWithoutStateRulesSendsEveryChangeToAHuman) {
  const Policy bare = Policy::parse("rules: [{id: a, condition: always, decision: escalate}]", "test");
  StateKeeper k(layout, bare, arbiter_keys().current(), 30);
  k.seed(init);
  EXPECT_EQ(payload(k.review(proposal(current_id(k), routine)))["decision"], "escalate");
  EXPECT_THROW(Policy::parse("rules: [{id: a, condition: always, decision: escalate}]\nstate_rule: []", "t"), std::runtime_error);
}

}  // namespace
}  // namespace nonaxis::arbiter
