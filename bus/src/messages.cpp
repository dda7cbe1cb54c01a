#include "nonaxis/bus/messages.hpp"

#include <algorithm>
#include <set>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/tiers.hpp"

namespace nonaxis::bus {
namespace {

using Err = std::optional<std::string>;

bool is_enum(const Json& v, std::initializer_list<const char*> allowed) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return s == a; });
}

Err only_fields(const Json& obj, const std::set<std::string>& allowed, const std::string& where) {
  for (const auto& [k, v] : obj.items()) {
    if (allowed.count(k) == 0) return "unknown field '" + where + k + "'";
  }
  return std::nullopt;
}

Err string_array(const Json& obj, const char* key, std::size_t max_items, std::size_t max_len) {
  if (!obj.contains(key)) return std::nullopt;
  const Json& a = obj[key];
  if (!a.is_array()) return std::string(key) + " is not an array";
  if (a.size() > max_items) return std::string(key) + " has too many items";
  for (const auto& v : a) {
    if (!v.is_string() || v.get_ref<const std::string&>().size() > max_len) return std::string(key) + " holds a non-string or over-long item";
  }
  return std::nullopt;
}

Err array_of_objects(const Json& obj, const char* key) {
  if (!obj.contains(key) || !obj[key].is_array()) return std::string("checklist.") + key + " missing or not an array";
  for (const auto& v : obj[key]) {
    if (!v.is_object()) return std::string("checklist.") + key + " holds a non-object";
  }
  return std::nullopt;
}

const std::set<std::string> kEnvelopeFields = {"id", "timestamp", "chain_hash", "type", "source", "payload", "signature"};

}  // namespace

std::string content_hash_of(std::string_view bytes) { return "sha256:" + sha256_hex(bytes); }

bool is_valid_host(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == ':' || c == '[' || c == ']';
  });
}

Json make_request_payload(const std::string& action_type, const ActionContent& content,
                          const std::vector<std::string>& outbound_hosts, const std::string& context) {
  Json p = {{"action_type", action_type}, {"content_hash", content_hash_of(content.bytes)}};
  if (content.is_command) {
    p["command"] = content.bytes;
  } else {
    p["code"] = base64_encode(content.bytes);
  }
  p["outbound_hosts"] = outbound_hosts;
  if (!context.empty()) p["context"] = context;
  return p;
}

ActionContent request_content(const Json& payload) {
  if (payload.contains("command")) return ActionContent{payload["command"].get<std::string>(), true};
  return ActionContent{base64_decode(payload["code"].get<std::string>()).value_or(std::string()), false};
}

Err check_request(const Json& env) {
  std::set<std::string> top = kEnvelopeFields;
  top.insert("risk_tier");
  if (auto e = only_fields(env, top, "")) return e;
  if (!env.contains("risk_tier") || !env["risk_tier"].is_number_integer()) return "risk_tier missing or not an integer";
  const auto tier = env["risk_tier"].get<long long>();
  const bool audit = env["type"] == "audit_request";
  if (audit ? tier != 1 : (tier < 2 || tier > 3)) return "risk_tier " + std::to_string(tier) + " is not valid for " + env["type"].get<std::string>();
  const Json& p = env["payload"];
  if (auto e = only_fields(p, {"action_type", "content_hash", "code", "command", "diff", "permissions_requested",
                               "outbound_hosts", "skill_metadata", "context"}, "payload.")) {
    return e;
  }
  if (!p.contains("action_type") || !p["action_type"].is_string()) return "payload.action_type missing";
  const auto at = tier_of(p["action_type"].get<std::string>());
  if (!at) return "payload.action_type '" + p["action_type"].get<std::string>() + "' is not a known action type";
  if (!audit && *at < 2) return "action type is tier " + std::to_string(*at) + " and needs no review request";
  if (!p.contains("content_hash") || !p["content_hash"].is_string() || !is_prefixed_sha256(p["content_hash"].get<std::string>())) {
    return "payload.content_hash must be sha256:<64 hex>";
  }
  const bool has_code = p.contains("code"), has_cmd = p.contains("command");
  if (has_code == has_cmd) return "payload must hold exactly one of code or command";
  std::string bytes;
  if (has_cmd) {
    if (!p["command"].is_string()) return "payload.command is not a string";
    bytes = p["command"].get<std::string>();
  } else {
    if (!p["code"].is_string()) return "payload.code is not a string";
    auto d = base64_decode(p["code"].get<std::string>());
    if (!d) return "payload.code is not valid base64";
    bytes = std::move(*d);
  }
  if (bytes.size() > kMaxContentBytes) return "content exceeds " + std::to_string(kMaxContentBytes) + " bytes";
  // The hash is recomputed, never trusted: it is what a token will be bound to.
  if (content_hash_of(bytes) != p["content_hash"].get<std::string>()) return "payload.content_hash does not match the content";
  if (auto e = string_array(p, "outbound_hosts", kMaxHosts, 253)) return e;
  if (p.contains("outbound_hosts")) {
    for (const auto& h : p["outbound_hosts"]) {
      if (!is_valid_host(h.get<std::string>())) return "payload.outbound_hosts holds an invalid host name";
    }
  }
  if (auto e = string_array(p, "permissions_requested", 7, 32)) return e;
  if (p.contains("permissions_requested")) {
    for (const auto& v : p["permissions_requested"]) {
      if (!is_enum(v, {"exec", "network", "filesystem", "browser", "messaging", "credential", "self_modify"})) return "payload.permissions_requested holds an unknown permission";
    }
  }
  if (p.contains("context") && (!p["context"].is_string() || p["context"].get<std::string>().size() > kMaxContextBytes)) {
    return "payload.context is not a string of at most " + std::to_string(kMaxContextBytes) + " bytes";
  }
  if (p.contains("diff") && !p["diff"].is_string()) return "payload.diff is not a string";
  if (p.contains("skill_metadata") && !p["skill_metadata"].is_object()) return "payload.skill_metadata is not an object";
  return std::nullopt;
}

Err check_assessment(const Json& env) {
  if (auto e = only_fields(env, kEnvelopeFields, "")) return e;
  const Json& p = env["payload"];
  if (!p.contains("review_request_id") || !p["review_request_id"].is_string() || !is_uuid(p["review_request_id"].get<std::string>())) {
    return "payload.review_request_id missing or not a UUID";
  }
  if (!p.contains("risk_score") || !p["risk_score"].is_number()) return "payload.risk_score missing or not a number";
  const double score = p["risk_score"].get<double>();
  if (!(score >= 0.0 && score <= 100.0)) return "payload.risk_score outside 0..100";
  if (!p.contains("recommendation") || !is_enum(p["recommendation"], {"approve", "reject", "escalate"})) return "payload.recommendation invalid";
  if (!p.contains("checklist") || !p["checklist"].is_object()) return "payload.checklist missing";
  const Json& c = p["checklist"];
  for (const char* k : {"outbound_connections", "filesystem_writes", "known_vuln_patterns", "prompt_injection_vectors"}) {
    if (auto e = array_of_objects(c, k)) return e;
  }
  if (!c.contains("permission_requests") || !c["permission_requests"].is_array()) return "checklist.permission_requests missing";
  if (!c.contains("obfuscation_detected") || !c["obfuscation_detected"].is_boolean()) return "checklist.obfuscation_detected missing";
  for (const char* k : {"data_exfiltration_risk", "privilege_escalation_risk"}) {
    if (!c.contains(k) || !is_enum(c[k], {"none", "low", "medium", "high"})) return std::string("checklist.") + k + " invalid";
  }
  return std::nullopt;
}

Err check_decision(const Json& env) {
  const Json& p = env["payload"];
  for (const char* k : {"review_request_id", "assessment_id"}) {
    if (!p.contains(k) || !p[k].is_string() || !is_uuid(p[k].get<std::string>())) return std::string("payload.") + k + " invalid";
  }
  if (!p.contains("decision") || !is_enum(p["decision"], {"approve", "reject", "escalate"})) return "payload.decision invalid";
  if (!p.contains("decision_method") || !is_enum(p["decision_method"], {"deterministic", "human_escalation", "timeout_escalation"})) {
    return "payload.decision_method invalid";
  }
  if (!p.contains("reasoning") || !p["reasoning"].is_string()) return "payload.reasoning missing";
  return std::nullopt;
}

Err check_execution_record(const Json& p) {
  if (!p.contains("token_id") || !p["token_id"].is_string() || p["token_id"].get<std::string>().size() > 128) {
    return "payload.token_id invalid";
  }
  if (!p.contains("content_hash") || !p["content_hash"].is_string() || !is_prefixed_sha256(p["content_hash"].get<std::string>())) {
    return "payload.content_hash invalid";
  }
  if (!p.contains("exit") || !p["exit"].is_object() || !p["exit"].contains("code") || !p["exit"]["code"].is_number_integer() ||
      !p["exit"].contains("timed_out") || !p["exit"]["timed_out"].is_boolean()) {
    return "payload.exit invalid";
  }
  return std::nullopt;
}

}  // namespace nonaxis::bus
