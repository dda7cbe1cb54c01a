#include "nonaxis/bus/boot.hpp"

#include "nonaxis/bus/consistency.hpp"
#include "nonaxis/bus/state_files.hpp"

namespace nonaxis::bus {

namespace {

bool always_include(const Json& entry) {
  if (!entry.contains("tags") || !entry["tags"].is_array()) return false;
  for (const auto& t : entry["tags"]) {
    if (t == "always_include") return true;
  }
  return false;
}

}  // namespace

Json build_boot(const Layout& layout, std::chrono::system_clock::time_point now) {
  const StateFiles files(layout);
  const auto ledger = read_jsonl(layout.ledger_file());
  Json entries = Json::array();
  const std::size_t recent_from = ledger.size() > kBootLedgerEntries ? ledger.size() - kBootLedgerEntries : 0;
  for (std::size_t i = 0; i < ledger.size(); ++i) {
    if (i >= recent_from || always_include(ledger[i])) entries.push_back(ledger[i]);
  }
  const auto events = read_jsonl(layout.events_file());
  Json recent = Json::array();
  for (std::size_t i = events.size() > kBootEvents ? events.size() - kBootEvents : 0; i < events.size(); ++i) {
    recent.push_back(events[i]);
  }

  BootFacts facts;
  facts.ledger = &ledger;
  facts.now = now;
  facts.load_snapshot = [&files](const std::string& id) -> std::optional<Json> {
    try {
      return files.snapshot(id);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  std::optional<Json> snapshot, handoff;
  try {
    snapshot = files.current_snapshot();
    if (!snapshot) facts.snapshot_problem = "the Arbiter has no canonical state yet (set ARBITER_INITIAL_STATE)";
  } catch (const std::exception& e) {
    facts.snapshot_problem = e.what();
  }
  Json handoff_problem = nullptr;
  try {
    handoff = files.last_handoff();
  } catch (const std::exception& e) {
    handoff_problem = e.what();
  }
  facts.snapshot = snapshot ? &*snapshot : nullptr;
  facts.last_handoff = handoff ? &*handoff : nullptr;
  Json checks = consistency_checks(facts);
  if (!handoff_problem.is_null()) {
    checks["dependency_check"] = "error";
    checks["details"].push_back({{"check", "dependency_check"}, {"status", "error"}, {"detail", handoff_problem}});
  }
  return {{"snapshot", snapshot ? *snapshot : Json(nullptr)},
          {"ledger", entries},
          {"recent_events", recent},
          {"last_handoff", handoff ? *handoff : Json(nullptr)},
          {"consistency_checks", checks}};
}

}  // namespace nonaxis::bus
