#include "state_keeper.hpp"

#include <set>

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/state.hpp"
#include "nonaxis/bus/state_files.hpp"
#include "nonaxis/bus/state_messages.hpp"
#include "yaml_json.hpp"

namespace nonaxis::arbiter {

using nlohmann::json;

namespace {

constexpr int kStateRiskTier = 2;  // memory_modify's tier

std::string clip(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

bool contains(const std::vector<std::string>& v, const char* x) {
  for (const auto& s : v) {
    if (s == x) return true;
  }
  return false;
}

// The policy's view of a change: which parts of the state it touches.
json proposal_context(const std::string& type, const json& patch) {
  const auto touched = bus::touched_fields(patch);
  static const std::set<std::string> kRoutine = {"active_objectives", "open_tasks", "last_decisions", "memory_tiers"};
  bool routine = true;
  for (const auto& f : touched) routine = routine && kRoutine.count(f) != 0;
  return {{"proposal",
           {{"source", type == "session_handoff" ? "handoff" : "proposal"},
            {"touches", touched},
            {"touches_constraints", contains(touched, "constraints")},
            {"touches_identity", contains(touched, "identity")},
            {"touches_approved_skills", contains(touched, "approved_skills")},
            {"touches_known_systems", contains(touched, "known_systems")},
            {"routine_only", routine},
            {"operation_count", patch.size()}}}};
}

// Ids of the constraints a patch addresses by index, for constraints_referenced.
json constraints_referenced(const json& patch, const std::optional<json>& base) {
  json out = json::array();
  if (!base) return out;
  const json& cs = (*base)["constraints"];
  for (const auto& op : patch) {
    const std::string path = op.value("path", std::string());
    if (path.rfind("/constraints/", 0) != 0) continue;
    const std::string rest = path.substr(13);
    const std::string idx = rest.substr(0, rest.find('/'));
    if (idx.empty() || idx.size() > 6 || idx.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::size_t i = std::stoul(idx);
    if (i < cs.size() && cs[i].contains("id")) out.push_back(cs[i]["id"]);
  }
  return out;
}

// What changed between the snapshot a handoff's session started from and the current one.
json drift_between(const json& from, const json& to) {
  json out = json::array();
  const json a = bus::state_body(from), b = bus::state_body(to);
  std::set<std::string> fields;
  for (const auto& [k, v] : a.items()) fields.insert(k);
  for (const auto& [k, v] : b.items()) fields.insert(k);
  for (const auto& f : fields) {
    const json va = a.value(f, json()), vb = b.value(f, json());
    if (va == vb) continue;
    out.push_back({{"field", f},
                   {"expected", "sha256:" + bus::sha256_hex(bus::canonical_dump(va))},
                   {"actual", "sha256:" + bus::sha256_hex(bus::canonical_dump(vb))},
                   {"resolution", "kept the current state; each change was approved and is in the ledger"}});
  }
  return out;
}

StateWrite pointer_write(const json& snapshot) {
  return {"", bus::kCurrentSnapshotFile,
          bus::canonical_dump({{"snapshot_id", snapshot["snapshot_id"]}, {"state_hash", snapshot["state_hash"]}}) + "\n", true};
}

StateWrite snapshot_write(const json& snapshot) {
  return {"snapshots", snapshot["snapshot_id"].get<std::string>() + ".json", bus::canonical_dump(snapshot) + "\n", false};
}

}  // namespace

StateKeeper::StateKeeper(const bus::Layout& layout, const Policy& policy, bus::Key arbiter_key, long long human_timeout_minutes)
    : layout_(layout), policy_(policy), arbiter_key_(std::move(arbiter_key)), human_timeout_minutes_(human_timeout_minutes) {
  // Our own files, but a snapshot that fails its checks stops the Arbiter rather
  // than being built upon.
  current_ = bus::StateFiles(layout).current_snapshot();
}

std::optional<Outcome> StateKeeper::seed(const std::string& path) {
  if (current_ || path.empty()) return std::nullopt;
  json body;
  try {
    const std::string text = bus::read_whole_file(path, bus::kMaxStateBytes);
    body = json::parse(text, nullptr, false);
    if (body.is_discarded()) body = yaml_to_json(YAML::Load(text));
  } catch (const std::exception& e) {
    throw bus::ConfigError(std::string("ARBITER_INITIAL_STATE: ") + e.what());
  }
  if (auto e = bus::check_state_body(body)) throw bus::ConfigError("ARBITER_INITIAL_STATE: " + *e);
  const json snap = bus::make_snapshot(body, nullptr, policy_.sha256());
  current_ = snap;
  Outcome o;
  o.decision = nullptr;
  const std::string sid = snap["snapshot_id"].get<std::string>();
  o.ledger_entry = {{"decision_id", bus::uuid_v4()},
                    {"timestamp", snap["timestamp"]},
                    {"statement", "Seeded the canonical state (snapshot " + sid + ") from the deployment's initial state"},
                    {"rationale", json::array({"No canonical state existed; ARBITER_INITIAL_STATE provided the genesis state",
                                               "State hash " + snap["state_hash"].get<std::string>()})},
                    {"constraints_referenced", json::array()},
                    {"artifacts", json::array()},
                    {"tags", json::array({"state:seed", "snapshot:" + sid, "always_include"})},
                    {"supersedes", nullptr}};
  o.events.push_back({"STATE_PATCHED", "arbiter", {{"snapshot_id", sid}}, {{"result", "seeded from ARBITER_INITIAL_STATE"}}});
  o.state_writes = {snapshot_write(snap), pointer_write(snap)};
  bus::log_info("state_seeded", {{"snapshot_id", sid}, {"state_hash", snap["state_hash"]}});
  return o;
}

Outcome StateKeeper::review(const json& message) { return decide(message, Verdict{}, nullptr); }

std::optional<Outcome> StateKeeper::rollback(const Rollback& order) {
  std::optional<json> target;
  try {
    target = bus::StateFiles(layout_).snapshot(order.to_snapshot_id);
  } catch (const std::exception&) {
  }
  if (!target || bus::check_snapshot(*target) || !current_) {
    bus::log_warn("rollback_refused", {{"rollback_id", order.id}, {"to", clip(order.to_snapshot_id, 64)}, {"reason", "unknown or invalid snapshot"}});
    return std::nullopt;
  }
  const json next = bus::make_snapshot(bus::state_body(*target), (*current_)["snapshot_id"], policy_.sha256());
  const std::string sid = next["snapshot_id"].get<std::string>();
  Outcome o;
  o.decision = nullptr;
  o.message_type = "state_rollback";
  o.rule_id = "human_rollback";
  o.ledger_entry = {{"decision_id", order.id},
                    {"timestamp", next["timestamp"]},
                    {"statement", clip("Rolled the canonical state back to snapshot " + order.to_snapshot_id + " by " + clip(order.by, 64), 200)},
                    {"rationale", json::array({clip("Reason given: " + order.reason, 400), "New snapshot " + sid + " replaces " +
                                                                                                 (*current_)["snapshot_id"].get<std::string>()})},
                    {"constraints_referenced", json::array()},
                    {"artifacts", json::array()},
                    {"tags", json::array({"state:rollback", "snapshot:" + sid, "always_include", "method:human_rollback"})},
                    {"supersedes", nullptr}};
  o.events.push_back({"ROLLED_BACK", "human", {{"snapshot_id", sid}},
                      {{"rollback_to_snapshot", order.to_snapshot_id}, {"result", "snapshot " + sid + " restores " + order.to_snapshot_id}}});
  o.state_writes = {snapshot_write(next), pointer_write(next)};
  current_ = next;
  return o;
}

Outcome StateKeeper::on_human_verdict(const json& message, const Escalation& esc, bool approve, const std::string& by,
                                      const std::string& reason) {
  Verdict v;
  v.decision = approve ? "approve" : "reject";
  v.method = "human_escalation";
  v.rule_id = "human_verdict";
  v.reasoning = std::string(approve ? "Approved" : "Denied") + " by " + clip(by, 64) + (reason.empty() ? "" : ": " + clip(reason, 300));
  v.rules_applied = json::array({{{"rule_id", "human_verdict"}, {"rule_name", "Human reviewer: " + clip(by, 64)}, {"matched", true}, {"result", v.decision}}});
  v.decided_by = by;
  return decide(message, v, &esc);
}

Outcome StateKeeper::on_human_timeout(const json& message, const Escalation& esc) {
  Verdict v{"reject", "timeout_escalation", "human_timeout",
            "No human answered the escalation within the configured timeout; rejected (fail closed)",
            json::array({{{"rule_id", "human_timeout"}, {"rule_name", "No human answer in time"}, {"matched", true}, {"result", "reject"}}}),
            "arbiter"};
  return decide(message, v, &esc);
}

Outcome StateKeeper::decide(const json& message, Verdict v, const Escalation* superseded) {
  const std::string type = message["type"].get<std::string>();
  const bus::StateChange change = bus::state_change_of(type, message["payload"]);
  json sc = {{"kind", type == "session_handoff" ? "handoff" : "proposal"},
             {"base_snapshot_id", change.base_snapshot_id},
             {"current_snapshot_id", current_ ? (*current_)["snapshot_id"] : json(nullptr)}};
  json drift = json::array();
  if (type == "session_handoff" && superseded == nullptr && current_ && (*current_)["snapshot_id"] != change.base_snapshot_id) {
    if (auto from = bus::StateFiles(layout_).snapshot(change.base_snapshot_id)) drift = drift_between(*from, *current_);
  }
  const auto fail = [&](const char* rule, const std::string& why) {
    Verdict r{"reject", v.method.empty() ? "deterministic" : v.method, rule, why,
              json::array({{{"rule_id", rule}, {"rule_name", rule}, {"matched", true}, {"result", "reject"}}}), v.decided_by};
    return build(message, r, superseded, sc, std::nullopt, drift);
  };
  if (v.decision == "reject") return build(message, v, superseded, sc, std::nullopt, drift);
  if (change.patch.empty()) {
    // A handoff that proposes nothing is recorded; there is nothing to approve.
    Verdict r{"approve", "deterministic", "handoff_recorded", "Handoff recorded; it proposes no state change",
              json::array({{{"rule_id", "handoff_recorded"}, {"rule_name", "Record a handoff"}, {"matched", true}, {"result", "approve"}}}),
              "arbiter"};
    return build(message, r, superseded, sc, std::nullopt, drift);
  }
  if (!current_) return fail("no_canonical_state", "The Arbiter has no canonical state to patch (ARBITER_INITIAL_STATE was never provided)");
  if ((*current_)["snapshot_id"] != change.base_snapshot_id) {
    sc["conflict"] = true;  // the HTTP API answers this with 409
    return fail("stale_base_snapshot", "Conflict: the change was written against snapshot " + change.base_snapshot_id +
                                           ", but the current snapshot is " + (*current_)["snapshot_id"].get<std::string>() +
                                           "; rebase on the current state and propose again");
  }
  const bus::PatchResult patched = bus::apply_state_patch(bus::state_body(*current_), change.patch);
  if (!patched.body) {
    sc["patch_error"] = patched.error;
    return fail("invalid_patch", "The patch cannot be applied: " + patched.error);
  }
  if (v.decision.empty()) {
    const PolicyOutcome po = policy_.evaluate_state(proposal_context(type, change.patch));
    v = Verdict{po.decision, "deterministic", po.rule_id, po.reasoning, po.rules_applied, "arbiter"};
  }
  std::optional<json> next;
  if (v.decision == "approve") {
    next = bus::make_snapshot(*patched.body, (*current_)["snapshot_id"], policy_.sha256());
    sc["new_snapshot_id"] = (*next)["snapshot_id"];
  }
  Outcome o = build(message, v, superseded, sc, next, drift);
  if (next) current_ = next;
  return o;
}

Outcome StateKeeper::build(const json& message, const Verdict& v, const Escalation* superseded, const json& sc,
                           std::optional<json> next, const json& drift) {
  const std::string id = message["id"].get<std::string>();
  const std::string type = message["type"].get<std::string>();
  const json& payload = message["payload"];
  const bus::StateChange change = bus::state_change_of(type, payload);
  const bool final = v.decision != "escalate";
  const std::string what = type == "session_handoff" ? "session handoff" : "state proposal";

  json dp = {{"review_request_id", id},
             {"assessment_id", std::string(bus::kNilUuid)},
             {"decision", v.decision},
             {"decision_method", v.method},
             {"reasoning", v.reasoning},
             {"policy_rules_applied", v.rules_applied},
             {"policy_hash", policy_.sha256()},
             {"risk_tier", kStateRiskTier},
             {"decided_by", v.decided_by},
             {"state_change", sc}};
  if (!final) {
    dp["escalation"] = {{"reason", clip(v.reasoning, 500)},
                        {"context_for_human", clip(what + ": " + change.rationale, 500)},
                        {"timeout_minutes", human_timeout_minutes_}};
  }
  Outcome o;
  o.request_id = id;
  o.final = final;
  o.decision = bus::make_envelope(bus::MessageType::kDecision, dp, bus::envelope_hash(message), arbiter_key_);
  o.message_type = type;
  o.rule_id = v.rule_id;
  o.submitted_at = message["timestamp"].get<std::string>();

  const std::string verb = v.decision == "approve" ? "Approved" : v.decision == "reject" ? "Rejected" : "Escalated";
  json tags = json::array({"request:" + id, "outcome:" + v.decision, "method:" + v.method,
                           type == "session_handoff" ? "state:handoff" : "state:proposal"});
  const auto touched = bus::touched_fields(change.patch);
  if (next) {
    tags.push_back("snapshot:" + (*next)["snapshot_id"].get<std::string>());
    // Constraint and identity changes matter to every later session.
    if (contains(touched, "constraints") || contains(touched, "identity")) tags.push_back("always_include");
  }
  o.ledger_entry = {{"decision_id", o.decision["id"]},
                    {"timestamp", o.decision["timestamp"]},
                    {"statement", clip(verb + " " + what + " " + id + " by rule " + v.rule_id, 200)},
                    {"rationale", json::array({clip(v.reasoning, 400), clip("Rationale given: " + change.rationale, 400),
                                               "Base snapshot " + change.base_snapshot_id})},
                    {"constraints_referenced", constraints_referenced(change.patch, current_)},
                    {"artifacts", json::array({{{"type", "policy"}, {"path", policy_.origin()}, {"hash", policy_.sha256()}}})},
                    {"tags", tags},
                    {"supersedes", superseded != nullptr ? json(superseded->decision_id) : json(nullptr)}};

  const json base = {{"action_type", type}, {"risk_tier", kStateRiskTier}};
  if (superseded == nullptr) {
    json p = base;
    if (!change.patch.empty()) p["state_patch"] = change.patch;
    o.events.push_back({"PROPOSED", "operator", json::object(), p});
    if (!drift.empty()) {
      o.events.push_back({"RECONCILED", "arbiter", {{"snapshot_id", sc["current_snapshot_id"]}},
                          {{"drift_detected", drift}, {"result", "handoff written against an earlier snapshot"}}});
    }
    if (type == "session_handoff") {
      o.state_writes.push_back({"handoffs", id + ".json", bus::canonical_dump(payload) + "\n", false});
      o.state_writes.push_back({"", bus::kLastHandoffFile, bus::canonical_dump({{"handoff_id", id}}) + "\n", true});
    }
  }
  json ep = base;
  ep["verdict"] = v.decision;
  ep["result"] = v.method;
  o.events.push_back({v.decision == "approve" ? "APPROVED" : v.decision == "reject" ? "REJECTED" : "ESCALATED",
                      v.method == "human_escalation" ? "human" : "arbiter", json::object(), ep});
  if (next) {
    const std::string sid = (*next)["snapshot_id"].get<std::string>();
    o.events.push_back({"STATE_PATCHED", "arbiter", {{"snapshot_id", sid}},
                        {{"state_patch", change.patch}, {"result", "snapshot " + sid + " replaces " + change.base_snapshot_id}}});
    o.state_writes.push_back(snapshot_write(*next));
    o.state_writes.push_back(pointer_write(*next));
  }
  return o;
}

}  // namespace nonaxis::arbiter
