#include "nonaxis/bus/state_messages.hpp"

#include <set>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/state.hpp"

namespace nonaxis::bus {

namespace {

constexpr std::size_t kMaxItems = 200;
constexpr std::size_t kMaxText = 4000;

bool short_string(const Json& v, std::size_t max = kMaxText) { return v.is_string() && v.get<std::string>().size() <= max; }

std::optional<std::string> only_fields(const Json& obj, const std::set<std::string>& allowed, const std::string& where) {
  for (const auto& [k, v] : obj.items()) {
    if (allowed.count(k) == 0) return where + ": unknown field '" + k + "'";
  }
  return std::nullopt;
}

// An array of objects, each with `required` string fields; every known field is checked by `each`.
template <typename Each>
std::optional<std::string> check_items(const Json& p, const char* name, bool required, Each each) {
  if (!p.contains(name)) return required ? std::optional(std::string("handoff lacks '") + name + "'") : std::nullopt;
  const Json& a = p[name];
  if (!a.is_array()) return std::string(name) + " must be an array";
  if (a.size() > kMaxItems) return std::string(name) + " has too many items";
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string at = std::string(name) + "[" + std::to_string(i) + "]";
    if (auto e = each(a[i], at)) return e;
  }
  return std::nullopt;
}

std::optional<std::string> require_strings(const Json& o, std::initializer_list<const char*> req,
                                           std::initializer_list<const char*> opt, const std::string& at) {
  if (!o.is_object()) return at + " must be an object";
  for (const char* k : req) {
    if (!o.contains(k) || !short_string(o[k])) return at + "." + k + " must be a string (at most 4000 bytes)";
  }
  for (const char* k : opt) {
    if (o.contains(k) && !short_string(o[k])) return at + "." + k + " must be a string (at most 4000 bytes)";
  }
  return std::nullopt;
}

std::optional<std::string> check_enum(const Json& o, const char* k, std::initializer_list<const char*> values, const std::string& at) {
  if (!o.contains(k)) return std::nullopt;
  for (const char* v : values) {
    if (o[k] == v) return std::nullopt;
  }
  return at + "." + k + " has a value outside its enumeration";
}

std::optional<std::string> check_string_array(const Json& o, const char* k, const std::string& at) {
  if (!o.contains(k)) return std::nullopt;
  if (!o[k].is_array() || o[k].size() > kMaxItems) return at + "." + k + " must be an array of strings";
  for (const auto& s : o[k]) {
    if (!short_string(s, 256)) return at + "." + k + " must be an array of strings";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_handoff(const Json& p) {
  if (!p.is_object()) return std::string("handoff payload must be an object");
  if (auto e = only_fields(p, {"handoff_id", "session_id", "timestamp", "snapshot_id", "session_summary", "assumptions_made",
                               "unknowns", "task_queue", "state_updates_proposed", "risks_noted", "events_emitted"},
                           "handoff")) {
    return e;
  }
  for (const char* k : {"handoff_id", "snapshot_id"}) {
    if (!p.contains(k) || !p[k].is_string() || !is_uuid(p[k].get<std::string>())) return std::string(k) + " must be a UUID";
  }
  if (!p.contains("session_id") || !short_string(p["session_id"], 128) || p["session_id"].get<std::string>().empty()) {
    return std::string("session_id must be a non-empty string (at most 128 bytes)");
  }
  if (!p.contains("timestamp") || !p["timestamp"].is_string() || !parse_rfc3339(p["timestamp"].get<std::string>())) {
    return std::string("timestamp must be an RFC 3339 date-time");
  }
  if (!p.contains("session_summary") || !p["session_summary"].is_array() || p["session_summary"].empty() ||
      p["session_summary"].size() > 10) {
    return std::string("session_summary must hold 1 to 10 strings");
  }
  for (const auto& s : p["session_summary"]) {
    if (!short_string(s)) return std::string("session_summary must hold strings (at most 4000 bytes each)");
  }
  if (auto e = check_items(p, "assumptions_made", true, [](const Json& o, const std::string& at) {
        if (auto err = require_strings(o, {"statement"}, {"source"}, at)) return err;
        return check_enum(o, "confidence", {"low", "medium", "high"}, at);
      })) {
    return e;
  }
  if (auto e = check_items(p, "unknowns", true, [](const Json& o, const std::string& at) {
        if (auto err = require_strings(o, {"question"}, {"suggested_resolution"}, at)) return err;
        return check_string_array(o, "blocking", at);
      })) {
    return e;
  }
  if (auto e = check_items(p, "task_queue", true, [](const Json& o, const std::string& at) -> std::optional<std::string> {
        if (auto err = require_strings(o, {"id", "next_step"}, {"title"}, at)) return err;
        if (auto err = check_string_array(o, "blocking", at)) return err;
        if (o.contains("estimated_minutes") && !o["estimated_minutes"].is_number_integer()) return at + ".estimated_minutes must be an integer";
        return std::nullopt;
      })) {
    return e;
  }
  if (auto e = check_items(p, "risks_noted", false, [](const Json& o, const std::string& at) -> std::optional<std::string> {
        if (auto err = require_strings(o, {"description"}, {"mitigation"}, at)) return err;
        if (!o.contains("severity")) return at + " lacks 'severity'";
        return check_enum(o, "severity", {"low", "medium", "high", "critical"}, at);
      })) {
    return e;
  }
  if (auto e = check_string_array(p, "events_emitted", "handoff")) return e;
  if (!p.contains("state_updates_proposed") || !p["state_updates_proposed"].is_array()) {
    return std::string("state_updates_proposed must be an array of RFC 6902 operations");
  }
  if (!p["state_updates_proposed"].empty()) {
    if (auto e = check_patch_shape(p["state_updates_proposed"])) return "state_updates_proposed: " + *e;
  }
  return std::nullopt;
}

std::optional<std::string> check_state_proposal(const Json& p) {
  if (!p.is_object()) return std::string("proposal payload must be an object");
  if (auto e = only_fields(p, {"base_snapshot_id", "patch", "rationale", "session_id"}, "proposal")) return e;
  if (!p.contains("base_snapshot_id") || !p["base_snapshot_id"].is_string() || !is_uuid(p["base_snapshot_id"].get<std::string>())) {
    return std::string("base_snapshot_id must be a UUID");
  }
  if (!p.contains("rationale") || !short_string(p["rationale"], kMaxRationaleBytes) || p["rationale"].get<std::string>().empty()) {
    return std::string("rationale must be a non-empty string (at most 2000 bytes)");
  }
  if (p.contains("session_id") && !short_string(p["session_id"], 128)) return std::string("session_id must be a string (at most 128 bytes)");
  if (!p.contains("patch")) return std::string("proposal lacks 'patch'");
  return check_patch_shape(p["patch"]);
}

Json make_proposal_payload(const std::string& base_snapshot_id, const Json& patch, const std::string& rationale,
                           const std::string& session_id) {
  Json p = {{"base_snapshot_id", base_snapshot_id}, {"patch", patch}, {"rationale", rationale}};
  if (!session_id.empty()) p["session_id"] = session_id;
  return p;
}

StateChange state_change_of(const std::string& type, const Json& payload) {
  StateChange c;
  if (type == "session_handoff") {
    c.base_snapshot_id = payload["snapshot_id"].get<std::string>();
    c.patch = payload["state_updates_proposed"];
    c.rationale = "Session " + payload["session_id"].get<std::string>() + " handoff";
  } else {
    c.base_snapshot_id = payload["base_snapshot_id"].get<std::string>();
    c.patch = payload["patch"];
    c.rationale = payload["rationale"].get<std::string>();
  }
  return c;
}

}  // namespace nonaxis::bus
