#include "nonaxis/operator/client.hpp"

#include <sys/stat.h>

#include <memory>

#include "decision_watch.hpp"

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/dir_watcher.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/queue_reader.hpp"
#include "nonaxis/bus/tiers.hpp"

namespace nonaxis::op {

using bus::Json;

Json Result::to_json() const {
  return Json{{"request_id", request_id.empty() ? Json(nullptr) : Json(request_id)},
              {"decision", decision},
              {"decision_method", decision_method},
              {"reasoning", reasoning},
              {"risk_tier", risk_tier},
              {"risk_score", risk_score},
              {"policy_rules_applied", policy_rules_applied},
              {"findings", findings},
              {"token", token},
              {"state_change", state_change}};
}

Client::Client(bus::Layout layout, bus::KeyRing operator_keys) : layout_(std::move(layout)), keys_(std::move(operator_keys)) {
  // A failed boot of an earlier client (another process) still holds until a boot succeeds.
  struct stat st {};
  const std::string marker = layout_.private_dir(bus::Role::kOperator) + "/" + kTier0OnlyMarker;
  tier0_only_ = ::lstat(marker.c_str(), &st) == 0;
}
Client::~Client() = default;

bus::GroupCommitter& Client::submitter() {
  std::call_once(submitter_once_, [&] { submitter_ = std::make_unique<bus::GroupCommitter>(layout_.pending_review()); });
  return *submitter_;
}

Result Client::submit_review(const Action& a) {
  const auto tier = bus::tier_of(a.action_type);
  if (!tier) throw std::invalid_argument("unknown action type '" + a.action_type + "'");
  Result r;
  r.risk_tier = *tier;
  if (*tier == 0) {
    r.decision = "approve";
    r.decision_method = "tier0";
    r.reasoning = "Tier 0 (read/search) runs without review";
    return r;
  }
  if (tier0_only_) {
    r.decision = "reject";
    r.decision_method = "fail_closed";
    r.reasoning = "The last boot found no authoritative state (Arbiter unreachable or unseeded): only tier 0 actions are allowed";
    return r;
  }
  if (a.content.bytes.size() > bus::kMaxContentBytes) throw std::invalid_argument("content is larger than the bus accepts");
  for (const auto& h : a.outbound_hosts) {
    if (!bus::is_valid_host(h)) throw std::invalid_argument("invalid host name '" + h + "'");
  }
  const auto type = *tier == 1 ? bus::MessageType::kAuditRequest : bus::MessageType::kReviewRequest;
  // Each request is the genesis of its own causal chain (docs/PROTOCOL.md).
  const Json env = bus::make_envelope(type, bus::make_request_payload(a.action_type, a.content, a.outbound_hosts, a.context),
                                      bus::kGenesisHash, keys_.current(), Json{{"risk_tier", *tier}});
  r.request_id = env["id"].get<std::string>();
  if (submitter().write(r.request_id + ".json", bus::canonical_dump(env) + "\n") != bus::WriteOutcome::kCreated) {
    throw std::runtime_error("request id collision; nothing was filed");
  }
  if (*tier == 1) {
    r.decision = "approve";
    r.decision_method = "tier1_audit";
    r.reasoning = "Tier 1 runs now and is audited afterwards; audit request filed";
  } else {
    r.decision = "pending";
  }
  return r;
}

std::optional<Json> Client::read_decision(const std::string& id, bool final) {
  bus::UniqueFd dir = bus::open_dir(layout_.decisions());
  const std::string name = id + (final ? ".json" : ".escalation.json");
  const auto rr = bus::read_queue_file(dir.get(), name, {bus::kMaxMessageBytes, bus::owner_of(dir.get())});
  if (!rr.ok()) return std::nullopt;
  Json env = Json::parse(rr.data, nullptr, false);
  if (!env.is_object() || !env.contains("payload") || !env["payload"].is_object() || bus::check_decision(env) ||
      env["payload"]["review_request_id"] != id) {
    throw std::runtime_error("decision file for " + id + " is malformed");
  }
  return env;
}

std::optional<Json> Client::poll_decision(const std::string& id, std::chrono::milliseconds timeout) {
  if (!bus::is_uuid(id)) throw std::invalid_argument("request id must be a UUID");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::call_once(watch_once_, [&] { watch_ = std::make_unique<DecisionWatch>(layout_.decisions()); });
  DecisionWatch::Interest interest(*watch_, id);  // before the first look: no event is missed
  for (;;) {
    if (auto d = read_decision(id, true)) return d;
    if (auto e = read_decision(id, false)) return e;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    // A missed event is never fatal: look again at least once a second.
    interest.wait_until(std::min(deadline, now + std::chrono::seconds(1)));
  }
}

std::optional<Json> Client::get_token(const std::string& id) {
  if (!bus::is_uuid(id)) throw std::invalid_argument("request id must be a UUID");
  bus::UniqueFd dir = bus::open_dir(layout_.tokens());
  const auto rr = bus::read_queue_file(dir.get(), id + ".json", {64 * 1024, bus::owner_of(dir.get())});
  if (!rr.ok()) return std::nullopt;
  Json t = Json::parse(rr.data, nullptr, false);
  if (!t.is_object()) return std::nullopt;
  return t;
}

bool Client::apply_token(const Json& token, const std::string& content, std::string* why) const {
  auto fail = [&](const std::string& w) {
    if (why != nullptr) *why = w;
    return false;
  };
  if (!token.is_object() || !token.contains("scope") || !token["scope"].is_object() || !token.contains("expires_at") ||
      !token["expires_at"].is_string()) {
    return fail("token is malformed");
  }
  if (token["scope"].value("content_hash", std::string()) != bus::content_hash_of(content)) {
    return fail("token was issued for different content");
  }
  const auto exp = bus::parse_rfc3339(token["expires_at"].get<std::string>());
  if (!exp || *exp < std::chrono::system_clock::now()) return fail("token has expired");
  return true;
}

Result Client::from_decision(const std::string& id, const Json& d) {
  const Json& p = d["payload"];
  Result r;
  r.request_id = id;
  r.decision = p["decision"].get<std::string>();
  r.decision_method = p["decision_method"].get<std::string>();
  r.reasoning = p["reasoning"].get<std::string>();
  r.risk_tier = p.value("risk_tier", 0);
  r.policy_rules_applied = p.value("policy_rules_applied", Json::array());
  r.findings = p.value("findings", Json::array());
  r.risk_score = p.value("risk_score", Json());
  r.state_change = p.value("state_change", Json());
  if (r.decision == "approve") {
    if (auto t = get_token(id)) r.token = *t;
  }
  return r;
}

Result Client::status(const std::string& id) {
  if (!bus::is_uuid(id)) throw std::invalid_argument("request id must be a UUID");
  if (auto d = read_decision(id, true)) return from_decision(id, *d);
  if (auto e = read_decision(id, false)) return from_decision(id, *e);
  Result r;
  r.request_id = id;
  r.decision = "pending";
  r.reasoning = "No decision yet";
  return r;
}

Result Client::submit_and_wait(const Action& a, std::chrono::milliseconds timeout) {
  Result r = submit_review(a);
  if (r.decision != "pending") return r;
  if (auto d = poll_decision(r.request_id, timeout)) return from_decision(r.request_id, *d);
  r.reasoning = "No decision within the wait; ask again with `status`";
  return r;
}

}  // namespace nonaxis::op
