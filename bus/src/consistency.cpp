#include "nonaxis/bus/consistency.hpp"

#include <map>
#include <set>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/state.hpp"

namespace nonaxis::bus {

namespace {

constexpr std::size_t kMaxChainWalk = 10000;

// Collects findings of one check; its status is the worst finding's.
class Check {
 public:
  Check(std::string name, Json& details) : name_(std::move(name)), details_(details) {}
  void warn(const std::string& d) { add("warning", d); }
  void error(const std::string& d) { add("error", d); }
  void note(const std::string& d) { details_.push_back({{"check", name_}, {"status", "pass"}, {"detail", d}}); }
  std::string status() const { return status_; }

 private:
  void add(const std::string& s, const std::string& d) {
    details_.push_back({{"check", name_}, {"status", s}, {"detail", d}});
    if (s == "error" || status_ == "pass") status_ = s;
  }
  std::string name_;
  Json& details_;
  std::string status_ = "pass";
};

std::string str(const Json& o, const char* k) { return o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string(); }

void constraint_check(const BootFacts& f, Check& c) {
  if (f.snapshot == nullptr) {
    c.error("no authoritative snapshot: " + f.snapshot_problem);
    return;
  }
  std::set<std::string> ids;
  for (const auto& k : (*f.snapshot)["constraints"]) {
    const std::string id = str(k, "id");
    if (!ids.insert(id).second) c.error("constraint id '" + id + "' appears more than once");
    if (!k["active"].get<bool>()) continue;
    const Json* params = k.contains("parameters") ? &k["parameters"] : nullptr;
    if (params != nullptr && params->contains("expires_at")) {
      const auto exp = (*params)["expires_at"].is_string() ? parse_rfc3339((*params)["expires_at"].get<std::string>()) : std::nullopt;
      if (!exp) {
        c.warn("constraint '" + id + "' has an unreadable parameters.expires_at");
      } else if (*exp < f.now) {
        c.warn("constraint '" + id + "' expired at " + (*params)["expires_at"].get<std::string>() + " but is still active");
      }
    }
  }
  c.note(std::to_string(ids.size()) + " constraints checked");
}

void unique_ids(const Json& arr, const char* name, Check& c, std::set<std::string>& into) {
  for (const auto& item : arr) {
    if (!into.insert(str(item, "id")).second) c.error(std::string(name) + " id '" + str(item, "id") + "' is not unique");
  }
}

void dependency_check(const BootFacts& f, Check& c) {
  if (f.snapshot == nullptr) {
    c.error("no authoritative snapshot to check");
    return;
  }
  const Json& s = *f.snapshot;
  std::set<std::string> work_ids, system_ids;
  unique_ids(s["active_objectives"], "objective", c, work_ids);
  unique_ids(s["open_tasks"], "task", c, work_ids);
  unique_ids(s["known_systems"], "known system", c, system_ids);
  for (const auto& t : s["open_tasks"]) {
    if (!t.contains("blocking")) continue;
    for (const auto& b : t["blocking"]) {
      if (work_ids.count(b.get<std::string>()) == 0) {
        c.error("task '" + str(t, "id") + "' refers to '" + b.get<std::string>() + "', which is neither a task nor an objective");
      }
    }
  }
  std::set<std::string> decided;
  if (f.ledger != nullptr) {
    for (const auto& e : *f.ledger) decided.insert(str(e, "decision_id"));
  }
  for (const auto& d : s["last_decisions"]) {
    if (decided.count(str(d, "decision_id")) == 0) c.error("last_decisions names '" + str(d, "decision_id") + "', which is not in the ledger");
  }
  if (!s["prev_snapshot_id"].is_null() && !f.load_snapshot(s["prev_snapshot_id"].get<std::string>())) {
    c.error("the previous snapshot " + s["prev_snapshot_id"].get<std::string>() + " does not exist");
  }
  if (f.last_handoff != nullptr) {
    const Json& h = *f.last_handoff;
    if (!f.load_snapshot(str(h, "snapshot_id"))) c.error("the last handoff's snapshot " + str(h, "snapshot_id") + " does not exist");
    std::set<std::string> known = work_ids;
    for (const auto& t : h["task_queue"]) known.insert(str(t, "id"));
    for (const auto& u : h["unknowns"]) {
      if (!u.contains("blocking")) continue;
      for (const auto& b : u["blocking"]) {
        if (known.count(b.get<std::string>()) == 0) c.warn("the last handoff's unknown '" + str(u, "question").substr(0, 80) + "' blocks '" + b.get<std::string>() + "', which does not exist");
      }
    }
  }
  c.note(std::to_string(work_ids.size()) + " objectives and tasks, " + std::to_string(s["last_decisions"].size()) + " decision references checked");
}

void drift_check(const BootFacts& f, Check& c) {
  if (f.snapshot == nullptr) {
    c.error("cannot compare: " + f.snapshot_problem);
    return;
  }
  if (f.last_handoff == nullptr) {
    c.note("no earlier handoff to compare with");
    return;
  }
  const std::string from = str(*f.last_handoff, "snapshot_id");
  // Reasons the Arbiter recorded: the ledger entry that created each snapshot.
  std::map<std::string, std::string> reasons;
  if (f.ledger != nullptr) {
    for (const auto& e : *f.ledger) {
      if (!e.contains("tags") || !e["tags"].is_array()) continue;
      for (const auto& t : e["tags"]) {
        if (t.is_string() && t.get<std::string>().rfind("snapshot:", 0) == 0) reasons[t.get<std::string>().substr(9)] = str(e, "statement");
      }
    }
  }
  std::string id = (*f.snapshot)["snapshot_id"].get<std::string>();
  Json cur = *f.snapshot;
  std::size_t steps = 0;
  while (id != from) {
    if (++steps > kMaxChainWalk) {
      c.error("snapshot chain too long to walk back to the handoff's snapshot " + from);
      return;
    }
    if (auto e = check_snapshot(cur)) {
      c.error("snapshot " + id + " was changed outside the Arbiter: " + *e);
      return;
    }
    auto r = reasons.find(id);
    if (r == reasons.end()) {
      c.warn("state changed in snapshot " + id + " without a recorded reason");
    } else {
      c.note("changed in snapshot " + id + ": " + r->second);
    }
    if (cur["prev_snapshot_id"].is_null()) {
      c.error("the last handoff's snapshot " + from + " is not an ancestor of the current snapshot");
      return;
    }
    id = cur["prev_snapshot_id"].get<std::string>();
    auto prev = f.load_snapshot(id);
    if (!prev) {
      c.error("snapshot " + id + " in the chain is missing");
      return;
    }
    cur = std::move(*prev);
  }
  if (steps == 0) c.note("unchanged since the last handoff");
}

}  // namespace

Json consistency_checks(const BootFacts& f) {
  Json details = Json::array();
  Check constraints("constraint_check", details), deps("dependency_check", details), drift("drift_check", details);
  constraint_check(f, constraints);
  dependency_check(f, deps);
  drift_check(f, drift);
  return {{"constraint_check", constraints.status()},
          {"dependency_check", deps.status()},
          {"drift_check", drift.status()},
          {"details", details}};
}

}  // namespace nonaxis::bus
