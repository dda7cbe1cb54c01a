#include "nonaxis/bus/state.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/ids.hpp"

namespace nonaxis::bus {

namespace {

enum class T { kStr, kBool, kInt, kObj, kStrArray, kDateTime, kHash };

struct Field {
  const char* name;
  T type;
  bool required;
  std::vector<std::string> allowed = {};  // enum, when not empty
  long long min = 0, max = 0;             // integer range, when min < max
};

struct ArraySpec {
  const char* name;
  std::vector<Field> item;
  std::size_t max_items;
};

const std::vector<Field> kIdentity = {{"agent_id", T::kStr, true}, {"role", T::kStr, true}, {"description", T::kStr, false}};
const std::vector<Field> kTierItem = {{"key", T::kStr, false}, {"expires_at", T::kDateTime, false}};

const std::vector<ArraySpec> kArrays = {
    {"active_objectives",
     {{"id", T::kStr, true},
      {"statement", T::kStr, true},
      {"status", T::kStr, true, {"active", "blocked", "completed", "abandoned"}},
      {"blocking_reason", T::kStr, false},
      {"priority", T::kInt, false, {}, 1, 5}},
     1000},
    {"constraints",
     {{"id", T::kStr, true}, {"name", T::kStr, true}, {"description", T::kStr, false}, {"active", T::kBool, true},
      {"parameters", T::kObj, false}},
     1000},
    {"known_systems",
     {{"id", T::kStr, true}, {"name", T::kStr, true}, {"type", T::kStr, true}, {"address", T::kStr, false},
      {"notes", T::kStr, false}},
     1000},
    {"approved_skills",
     {{"name", T::kStr, true}, {"version", T::kStr, true}, {"approved_at", T::kDateTime, true},
      {"content_hash", T::kHash, false}},
     1000},
    {"open_tasks",
     {{"id", T::kStr, true},
      {"title", T::kStr, true},
      {"status", T::kStr, true, {"pending", "in_progress", "blocked", "done"}},
      {"next_step", T::kStr, false},
      {"blocking", T::kStrArray, false},
      {"created_at", T::kDateTime, false}},
     1000},
    {"last_decisions", {{"decision_id", T::kStr, true}, {"statement", T::kStr, false}, {"timestamp", T::kDateTime, true}}, 30},
};

std::optional<std::string> check_value(const Json& v, const Field& f, const std::string& where) {
  const std::string at = where + "." + f.name;
  switch (f.type) {
    case T::kStr:
      if (!v.is_string()) return at + " must be a string";
      if (!f.allowed.empty() && std::find(f.allowed.begin(), f.allowed.end(), v.get<std::string>()) == f.allowed.end()) {
        return at + " has a value outside its enumeration";
      }
      return std::nullopt;
    case T::kBool:
      return v.is_boolean() ? std::nullopt : std::optional(at + " must be a boolean");
    case T::kInt:
      if (!v.is_number_integer()) return at + " must be an integer";
      if (f.min < f.max && (v.get<long long>() < f.min || v.get<long long>() > f.max)) return at + " is out of range";
      return std::nullopt;
    case T::kObj:
      return v.is_object() ? std::nullopt : std::optional(at + " must be an object");
    case T::kStrArray:
      if (!v.is_array()) return at + " must be an array";
      for (const auto& s : v) {
        if (!s.is_string()) return at + " must hold strings only";
      }
      return std::nullopt;
    case T::kDateTime:
      return v.is_string() && parse_rfc3339(v.get<std::string>()) ? std::nullopt
                                                                     : std::optional(at + " must be an RFC 3339 date-time");
    case T::kHash:
      return v.is_string() && is_sha256_hex(v.get<std::string>()) ? std::nullopt
                                                                   : std::optional(at + " must be 64 lowercase hex digits");
  }
  return std::nullopt;
}

// Item objects are open (the schema allows extra properties there); known ones are typed.
std::optional<std::string> check_object(const Json& obj, const std::vector<Field>& fields, const std::string& where) {
  if (!obj.is_object()) return where + " must be an object";
  for (const auto& f : fields) {
    if (!obj.contains(f.name)) {
      if (f.required) return where + " lacks required field '" + f.name + "'";
      continue;
    }
    if (auto e = check_value(obj[f.name], f, where)) return e;
  }
  return std::nullopt;
}

std::optional<std::string> check_memory_tiers(const Json& m) {
  if (!m.is_object()) return std::string("memory_tiers must be an object");
  if (m.contains("pinned")) {
    if (auto e = check_value(m["pinned"], {"pinned", T::kStrArray, false}, "memory_tiers")) return e;
  }
  for (const char* tier : {"active", "ephemeral"}) {
    if (!m.contains(tier)) continue;
    if (!m[tier].is_array()) return std::string("memory_tiers.") + tier + " must be an array";
    for (std::size_t i = 0; i < m[tier].size(); ++i) {
      if (auto e = check_object(m[tier][i], kTierItem, std::string("memory_tiers.") + tier + "[" + std::to_string(i) + "]")) return e;
    }
  }
  return std::nullopt;
}

bool is_meta(const std::string& k) {
  return std::any_of(std::begin(kSnapshotMetaFields), std::end(kSnapshotMetaFields), [&](const char* m) { return k == m; });
}

// "/constraints/3/name" -> "constraints" (JSON Pointer escapes decoded).
std::string top_field(const std::string& pointer) {
  if (pointer.empty() || pointer[0] != '/') return {};
  const std::size_t end = pointer.find('/', 1);
  std::string seg = pointer.substr(1, end == std::string::npos ? std::string::npos : end - 1);
  std::string out;
  for (std::size_t i = 0; i < seg.size(); ++i) {
    if (seg[i] == '~' && i + 1 < seg.size()) {
      out += seg[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += seg[i];
    }
  }
  return out;
}

std::string describe_op(std::size_t i, const Json& op) {
  return "operation " + std::to_string(i + 1) + " (" + op["op"].get<std::string>() + " " + op["path"].get<std::string>() + ")";
}

}  // namespace

std::optional<std::string> check_state_body(const Json& body) {
  if (!body.is_object()) return std::string("state must be a JSON object");
  std::set<std::string> known = {"identity", "memory_tiers"};
  for (const auto& a : kArrays) known.insert(a.name);
  for (const auto& [k, v] : body.items()) {
    if (is_meta(k)) return "field '" + k + "' is managed by the Arbiter";
    if (known.count(k) == 0) return "unknown field '" + k + "'";
  }
  if (!body.contains("identity")) return std::string("state lacks required field 'identity'");
  if (auto e = check_object(body["identity"], kIdentity, "identity")) return e;
  for (const auto& a : kArrays) {
    if (!body.contains(a.name)) return std::string("state lacks required field '") + a.name + "'";
    const Json& arr = body[a.name];
    if (!arr.is_array()) return std::string(a.name) + " must be an array";
    if (arr.size() > a.max_items) return std::string(a.name) + " has more than " + std::to_string(a.max_items) + " items";
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (auto e = check_object(arr[i], a.item, std::string(a.name) + "[" + std::to_string(i) + "]")) return e;
    }
  }
  if (body.contains("memory_tiers")) {
    if (auto e = check_memory_tiers(body["memory_tiers"])) return e;
  }
  if (canonical_dump(body).size() > kMaxStateBytes) return std::string("state is larger than 1 MiB");
  return std::nullopt;
}

std::optional<std::string> check_snapshot(const Json& s) {
  if (!s.is_object()) return std::string("snapshot must be a JSON object");
  if (!s.contains("version") || s["version"] != 1) return std::string("snapshot version must be 1");
  if (!s.contains("snapshot_id") || !s["snapshot_id"].is_string() || !is_uuid(s["snapshot_id"].get<std::string>())) {
    return std::string("snapshot_id must be a UUID");
  }
  if (!s.contains("prev_snapshot_id") ||
      !(s["prev_snapshot_id"].is_null() || (s["prev_snapshot_id"].is_string() && is_uuid(s["prev_snapshot_id"].get<std::string>())))) {
    return std::string("prev_snapshot_id must be a UUID or null");
  }
  for (const char* h : {"state_hash", "arbiter_policy_hash"}) {
    if (!s.contains(h) || !s[h].is_string() || !is_sha256_hex(s[h].get<std::string>())) {
      return std::string(h) + " must be 64 lowercase hex digits";
    }
  }
  if (!s.contains("timestamp") || !s["timestamp"].is_string() || !parse_rfc3339(s["timestamp"].get<std::string>())) {
    return std::string("timestamp must be an RFC 3339 date-time");
  }
  const Json body = state_body(s);
  if (auto e = check_state_body(body)) return e;
  if (state_hash(body) != s["state_hash"]) return std::string("state_hash does not match the snapshot's content");
  return std::nullopt;
}

Json state_body(const Json& snapshot) {
  Json body = Json::object();
  for (const auto& [k, v] : snapshot.items()) {
    if (!is_meta(k)) body[k] = v;
  }
  return body;
}

std::string state_hash(const Json& body) { return sha256_hex(canonical_dump(body)); }

Json make_snapshot(const Json& body, const Json& prev_snapshot_id, const std::string& policy_hash) {
  Json s = body;
  s["version"] = 1;
  s["snapshot_id"] = uuid_v4();
  s["prev_snapshot_id"] = prev_snapshot_id;
  s["state_hash"] = state_hash(body);
  s["arbiter_policy_hash"] = policy_hash;
  s["timestamp"] = rfc3339_micro(std::chrono::system_clock::now());
  return s;
}

std::optional<std::string> check_patch_shape(const Json& ops) {
  static const std::set<std::string> kOps = {"add", "remove", "replace", "move", "copy", "test"};
  if (!ops.is_array()) return std::string("a patch must be a JSON array of operations");
  if (ops.empty()) return std::string("a patch needs at least one operation");
  if (ops.size() > kMaxPatchOps) return "a patch may hold at most " + std::to_string(kMaxPatchOps) + " operations";
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Json& op = ops[i];
    const std::string at = "operation " + std::to_string(i + 1);
    if (!op.is_object() || !op.contains("op") || !op["op"].is_string() || kOps.count(op["op"].get<std::string>()) == 0) {
      return at + ": 'op' must be one of add, remove, replace, move, copy, test";
    }
    if (!op.contains("path") || !op["path"].is_string()) return at + ": 'path' must be a string";
    const std::string kind = op["op"].get<std::string>();
    const bool needs_value = kind == "add" || kind == "replace" || kind == "test";
    const bool needs_from = kind == "move" || kind == "copy";
    if (needs_value && !op.contains("value")) return at + ": '" + kind + "' needs a 'value'";
    if (needs_from && (!op.contains("from") || !op["from"].is_string())) return at + ": '" + kind + "' needs a 'from' path";
    for (const auto& [k, v] : op.items()) {
      if (k != "op" && k != "path" && k != "value" && k != "from") return at + ": unknown member '" + k + "'";
    }
    for (const char* p : {"path", "from"}) {
      if (!op.contains(p)) continue;
      const std::string field = top_field(op[p].get<std::string>());
      if (field.empty()) return at + ": '" + p + "' must point inside the state (not at its root)";
      if (is_meta(field)) return at + ": /" + field + " is managed by the Arbiter and cannot be patched";
    }
  }
  return std::nullopt;
}

PatchResult apply_state_patch(const Json& body, const Json& ops) {
  PatchResult r;
  if (auto e = check_patch_shape(ops)) {
    r.error = *e;
    return r;
  }
  Json cur = body;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    try {
      cur = cur.patch(Json::array({ops[i]}));
    } catch (const Json::exception& e) {
      // nlohmann's messages are of the form "[json.exception.out_of_range.403] key 'x' not found".
      std::string msg = e.what();
      if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
      r.error = describe_op(i, ops[i]) + ": " + msg;
      return r;
    }
  }
  if (auto e = check_state_body(cur)) {
    r.error = "the patched state is invalid: " + *e;
    return r;
  }
  r.body = std::move(cur);
  return r;
}

std::vector<std::string> touched_fields(const Json& ops) {
  std::set<std::string> out;
  for (const auto& op : ops) {
    if (!op.is_object()) continue;
    for (const char* p : {"path", "from"}) {
      if (op.contains(p) && op[p].is_string()) out.insert(top_field(op[p].get<std::string>()));
    }
  }
  out.erase("");
  return {out.begin(), out.end()};
}

}  // namespace nonaxis::bus
