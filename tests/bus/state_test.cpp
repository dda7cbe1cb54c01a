// Canonical state: the body's schema checks, snapshots, and RFC 6902 patches
// applied with nlohmann/json (failures name the operation).
#include <gtest/gtest.h>

#include "nonaxis/bus/state.hpp"
#include "nonaxis/bus/state_messages.hpp"
#include "state_fixture.hpp"

namespace nonaxis::bus {
namespace {

Json body() {
  Json b = testing::sample_state_body();
  return b;
}

TEST(StateBody, AcceptsAValidBody) { EXPECT_EQ(check_state_body(body()), std::nullopt); }

TEST(StateBody, RefusesMissingUnknownMetaAndMistypedFields) {
  Json b = body();
  b.erase("constraints");
  EXPECT_NE(check_state_body(b)->find("constraints"), std::string::npos);
  b = body();
  b["surprise"] = 1;
  EXPECT_NE(check_state_body(b)->find("unknown field 'surprise'"), std::string::npos);
  b = body();
  b["snapshot_id"] = "x";
  EXPECT_NE(check_state_body(b)->find("managed by the Arbiter"), std::string::npos);
  b = body();
  b["open_tasks"][0]["status"] = "someday";
  EXPECT_NE(check_state_body(b)->find("open_tasks[0].status"), std::string::npos);
  b = body();
  b["constraints"][0]["active"] = "yes";
  EXPECT_NE(check_state_body(b)->find("constraints[0].active"), std::string::npos);
  b = body();
  b["active_objectives"][0]["priority"] = 9;
  EXPECT_NE(check_state_body(b)->find("priority"), std::string::npos);
  b = body();
  for (int i = 0; i < 31; ++i) b["last_decisions"].push_back({{"decision_id", "d"}, {"timestamp", "2026-01-01T00:00:00Z"}});
  EXPECT_NE(check_state_body(b)->find("last_decisions"), std::string::npos);
}

TEST(Snapshot, IsLinkedHashedAndChecked) {
  const Json s = make_snapshot(body(), nullptr, std::string(64, 'a'));
  EXPECT_EQ(check_snapshot(s), std::nullopt);
  EXPECT_EQ(s["state_hash"], state_hash(body()));
  EXPECT_EQ(state_body(s), body());
  const Json next = make_snapshot(body(), s["snapshot_id"], std::string(64, 'a'));
  EXPECT_EQ(next["prev_snapshot_id"], s["snapshot_id"]);
  EXPECT_NE(next["snapshot_id"], s["snapshot_id"]);
  Json edited = s;
  edited["open_tasks"] = Json::array();
  EXPECT_NE(check_snapshot(edited)->find("state_hash"), std::string::npos);
}

TEST(StatePatch, AppliesOperations) {
  const auto r = apply_state_patch(body(), Json::parse(R"([
    {"op": "replace", "path": "/open_tasks/0/status", "value": "done"},
    {"op": "add", "path": "/known_systems/-", "value": {"id": "k", "name": "db", "type": "postgres"}},
    {"op": "test", "path": "/identity/agent_id", "value": "a"}])"));
  ASSERT_TRUE(r.body) << r.error;
  EXPECT_EQ((*r.body)["open_tasks"][0]["status"], "done");
  EXPECT_EQ((*r.body)["known_systems"].size(), 1u);
}

TEST(StatePatch, NamesTheFailingOperation) {
  auto r = apply_state_patch(body(), Json::parse(R"([
    {"op": "replace", "path": "/open_tasks/0/status", "value": "done"},
    {"op": "remove", "path": "/open_tasks/4"}])"));
  EXPECT_FALSE(r.body);
  EXPECT_EQ(r.error.rfind("operation 2 (remove /open_tasks/4)", 0), 0u) << r.error;
  r = apply_state_patch(body(), Json::parse(R"([{"op": "test", "path": "/identity/agent_id", "value": "b"}])"));
  EXPECT_EQ(r.error.rfind("operation 1 (test /identity/agent_id)", 0), 0u) << r.error;
  r = apply_state_patch(body(), Json::parse(R"([{"op": "move", "from": "/nope", "path": "/open_tasks/0"}])"));
  EXPECT_EQ(r.error.rfind("operation 1 (move /open_tasks/0)", 0), 0u) << r.error;
}

TEST(StatePatch, RefusesResultsThatBreakTheSchemaAndMetaOrMalformedOperations) {
  EXPECT_NE(apply_state_patch(body(), Json::parse(R"([{"op": "remove", "path": "/identity"}])")).error.find("patched state is invalid"),
            std::string::npos);
  EXPECT_NE(apply_state_patch(body(), Json::parse(R"([{"op": "replace", "path": "/state_hash", "value": "x"}])")).error.find("managed by the Arbiter"),
            std::string::npos);
  EXPECT_NE(apply_state_patch(body(), Json::parse(R"([{"op": "jump", "path": "/x"}])")).error.find("operation 1"), std::string::npos);
  EXPECT_NE(apply_state_patch(body(), Json::parse(R"([{"op": "add", "path": "/open_tasks/-"}])")).error.find("needs a 'value'"),
            std::string::npos);
  EXPECT_NE(apply_state_patch(body(), Json::parse(R"([{"op": "replace", "path": "", "value": {}}])")).error.find("root"), std::string::npos);
  EXPECT_NE(apply_state_patch(body(), Json::array()).error.find("at least one"), std::string::npos);
  EXPECT_NE(apply_state_patch(body(), Json::object()).error.find("array"), std::string::npos);
}

TEST(StatePatch, ReportsTouchedFields) {
  const auto t = touched_fields(Json::parse(R"([{"op": "move", "from": "/constraints/0", "path": "/open_tasks/-"},
                                                {"op": "replace", "path": "/a~1b/x", "value": 1}])"));
  EXPECT_EQ(t, (std::vector<std::string>{"a/b", "constraints", "open_tasks"}));
}

TEST(StateMessages, ChecksHandoffsAndProposals) {
  const Json h = Json::parse(R"({"handoff_id": "11111111-1111-4111-8111-111111111111", "session_id": "s",
    "timestamp": "2026-01-01T00:00:00Z", "snapshot_id": "22222222-2222-4222-8222-222222222222",
    "session_summary": ["did things"], "assumptions_made": [{"statement": "x", "confidence": "high"}],
    "unknowns": [], "task_queue": [{"id": "t", "next_step": "n"}], "state_updates_proposed": []})");
  EXPECT_EQ(check_handoff(h), std::nullopt);
  Json bad = h;
  bad["session_summary"] = Json::array();
  EXPECT_TRUE(check_handoff(bad));
  bad = h;
  bad["extra"] = 1;
  EXPECT_NE(check_handoff(bad)->find("unknown field"), std::string::npos);
  bad = h;
  bad["assumptions_made"][0]["confidence"] = "certain";
  EXPECT_TRUE(check_handoff(bad));
  bad = h;
  bad["state_updates_proposed"] = Json::parse(R"([{"op": "replace"}])");
  EXPECT_NE(check_handoff(bad)->find("state_updates_proposed"), std::string::npos);
  const Json p = make_proposal_payload("22222222-2222-4222-8222-222222222222", Json::parse(R"([{"op": "remove", "path": "/open_tasks/0"}])"), "why", "");
  EXPECT_EQ(check_state_proposal(p), std::nullopt);
  Json q = p;
  q["rationale"] = "";
  EXPECT_TRUE(check_state_proposal(q));
  q = p;
  q["base_snapshot_id"] = "latest";
  EXPECT_TRUE(check_state_proposal(q));
}

}  // namespace
}  // namespace nonaxis::bus
