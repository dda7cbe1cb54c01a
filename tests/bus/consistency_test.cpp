// Each boot consistency check passing and firing.
#include <gtest/gtest.h>

#include <map>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/consistency.hpp"
#include "nonaxis/bus/state.hpp"
#include "state_fixture.hpp"

namespace nonaxis::bus {
namespace {

Json body() {
  Json b = testing::sample_state_body();
  b["last_decisions"].push_back({{"decision_id", "d1"}, {"timestamp", "2026-01-01T00:00:00Z"}});
  return b;
}

struct World {
  std::map<std::string, Json> snapshots;
  std::vector<Json> ledger = {Json{{"decision_id", "d1"}, {"tags", Json::array()}}};
  std::optional<Json> handoff;
  Json current;

  World() { current = add(make_snapshot(body(), nullptr, std::string(64, 'a')), true); }
  Json add(Json s, bool recorded) {
    snapshots[s["snapshot_id"].get<std::string>()] = s;
    if (recorded) ledger.push_back({{"decision_id", "x"}, {"statement", "approved p"}, {"tags", {"snapshot:" + s["snapshot_id"].get<std::string>()}}});
    return s;
  }
  Json next(const std::function<void(Json&)>& edit, bool recorded) {
    Json b = state_body(current);
    edit(b);
    current = add(make_snapshot(b, current["snapshot_id"], std::string(64, 'a')), recorded);
    return current;
  }
  void hand_off_now() {
    handoff = Json{{"snapshot_id", current["snapshot_id"]}, {"task_queue", Json::array()}, {"unknowns", Json::array()}};
  }
  Json run() {
    BootFacts f;
    f.snapshot = &current;
    f.last_handoff = handoff ? &*handoff : nullptr;
    f.ledger = &ledger;
    f.now = parse_rfc3339("2026-06-01T00:00:00Z").value();
    f.load_snapshot = [this](const std::string& id) -> std::optional<Json> {
      auto it = snapshots.find(id);
      return it == snapshots.end() ? std::nullopt : std::optional(it->second);
    };
    return consistency_checks(f);
  }
};

TEST(Consistency, AllPassOnAConsistentState) {
  World w;
  w.hand_off_now();
  w.next([](Json& b) { b["open_tasks"][0]["status"] = "done"; }, true);
  const Json c = w.run();
  EXPECT_EQ(c["constraint_check"], "pass") << c.dump();
  EXPECT_EQ(c["dependency_check"], "pass") << c.dump();
  EXPECT_EQ(c["drift_check"], "pass") << c.dump();
}

TEST(Consistency, ConstraintCheckFiresOnDuplicatesAndExpiredConstraints) {
  World w;
  w.next([](Json& b) { b["constraints"].push_back({{"id", "c2"}, {"name", "n"}, {"active", true}, {"parameters", {{"expires_at", "2026-02-01T00:00:00Z"}}}}); }, true);
  EXPECT_EQ(w.run()["constraint_check"], "warning");
  w.next([](Json& b) { b["constraints"].push_back({{"id", "c1"}, {"name", "again"}, {"active", false}}); }, true);
  EXPECT_EQ(w.run()["constraint_check"], "error");
}

TEST(Consistency, DependencyCheckFiresOnMissingIds) {
  World w;
  w.next([](Json& b) { b["open_tasks"][0]["blocking"] = {"o-gone"}; }, true);
  EXPECT_EQ(w.run()["dependency_check"], "error");
  World w2;
  w2.next([](Json& b) { b["last_decisions"].push_back({{"decision_id", "d-unknown"}, {"timestamp", "2026-01-01T00:00:00Z"}}); }, true);
  EXPECT_EQ(w2.run()["dependency_check"], "error");
  World w3;
  w3.next([](Json&) {}, true);
  w3.snapshots.erase(w3.current["prev_snapshot_id"].get<std::string>());
  EXPECT_EQ(w3.run()["dependency_check"], "error");
}

TEST(Consistency, DriftCheckFiresOnUnrecordedAndForeignChanges) {
  World w;
  w.hand_off_now();
  w.next([](Json& b) { b["open_tasks"] = Json::array(); }, false);  // no ledger entry made it
  EXPECT_EQ(w.run()["drift_check"], "warning");
  World w2;
  w2.next([](Json&) {}, true);
  w2.handoff = Json{{"snapshot_id", "99999999-9999-4999-8999-999999999999"}, {"task_queue", Json::array()}, {"unknowns", Json::array()}};
  EXPECT_EQ(w2.run()["drift_check"], "error");  // the handoff's snapshot is no ancestor
  World w3;
  w3.hand_off_now();
  w3.next([](Json&) {}, true);
  w3.current["open_tasks"] = Json::array();  // edited behind the hash
  EXPECT_EQ(w3.run()["drift_check"], "error");
}

TEST(Consistency, NoSnapshotIsAnError) {
  BootFacts f;
  f.snapshot_problem = "unreachable";
  f.load_snapshot = [](const std::string&) { return std::optional<Json>(); };
  const Json c = consistency_checks(f);
  EXPECT_EQ(c["constraint_check"], "error");
  EXPECT_EQ(c["dependency_check"], "error");
  EXPECT_EQ(c["drift_check"], "error");
}

}  // namespace
}  // namespace nonaxis::bus
