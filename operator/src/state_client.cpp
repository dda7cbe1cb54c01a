// The session-state half of the Operator client: boot, handoffs, state proposals.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include "api_client.hpp"
#include "nonaxis/bus/boot.hpp"
#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/inbox.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/state_messages.hpp"
#include "nonaxis/operator/client.hpp"

namespace nonaxis::op {

using bus::Json;

void Client::use_state_api(bus::HttpEndpoint endpoint) { api_ = std::move(endpoint); }

Json Client::boot() {
  Json b;
  if (api_) {
    const ApiReply r = call_state_api(*api_, keys_.current(), "GET", "/v1/boot");
    if (r.status == 200 && r.body.is_object() && r.body.contains("snapshot")) {
      b = r.body;
    } else {
      const std::string why = r.status == 0 ? r.error : "the Arbiter answered " + std::to_string(r.status);
      bus::log_warn("boot_failed", {{"reason", why}});
      b = {{"snapshot", nullptr}, {"ledger", Json::array()}, {"recent_events", Json::array()}, {"last_handoff", nullptr},
           {"consistency_checks",
            {{"constraint_check", "error"}, {"dependency_check", "error"}, {"drift_check", "error"},
             {"details", Json::array({{{"check", "boot"}, {"status", "error"}, {"detail", why}}})}}}};
    }
  } else {
    b = bus::build_boot(layout_, std::chrono::system_clock::now());
  }
  tier0_only_ = b["snapshot"].is_null();
  b["allowed_tiers"] = tier0_only_ ? Json::array({0}) : Json::array({0, 1, 2, 3});
  remember_boot_outcome();
  return b;
}

// Durable, so that a crash right after a failed boot cannot reopen tiers 1-3. Best
// effort where the private directory is missing or unwritable: this client still obeys
// the outcome in memory, and the Arbiter decides every filed request regardless.
void Client::remember_boot_outcome() {
  try {
    bus::UniqueFd dir = bus::open_dir(layout_.private_dir(bus::Role::kOperator));
    if (tier0_only_) {
      bus::replace_file(dir.get(), kTier0OnlyMarker, "the last boot found no authoritative state: tier 0 only\n", true, 0600);
    } else if (::unlinkat(dir.get(), kTier0OnlyMarker, 0) == 0) {
      (void)::fsync(dir.get());
    }
  } catch (const std::exception& e) {
    bus::log_warn("boot_outcome_not_kept", {{"reason", e.what()}});
  }
}

void Client::file_state_message(bus::MessageType type, const Json& payload, const std::string& id) {
  // A handoff's own id names it everywhere, so the envelope carries the same id.
  const Json env = bus::make_envelope(type, payload, bus::kGenesisHash, keys_.current(), Json::object(), id);
  const auto kind = type == bus::MessageType::kHandoff ? bus::Kind::kHandoff : bus::Kind::kProposal;
  if (api_) {
    const ApiReply r = call_state_api(*api_, keys_.current(), "POST", kind == bus::Kind::kHandoff ? "/v1/handoff" : "/v1/proposals",
                                      bus::canonical_dump(env));
    if (r.status == 202) return;
    std::string why = r.status == 0 ? r.error : "the Arbiter answered " + std::to_string(r.status);
    if (r.body.is_object() && r.body.contains("detail")) why += ": " + r.body["detail"].get<std::string>();
    throw std::runtime_error(why);
  }
  if (submitter().write(bus::queue_name(id, kind), bus::canonical_dump(env) + "\n") != bus::WriteOutcome::kCreated) {
    throw std::runtime_error("message id collision; nothing was filed");
  }
}

std::string Client::submit_handoff(Json h) {
  if (!h.is_object()) throw std::invalid_argument("a handoff must be a JSON object");
  if (!h.contains("handoff_id")) h["handoff_id"] = bus::uuid_v4();
  if (!h.contains("timestamp")) h["timestamp"] = bus::rfc3339_micro(std::chrono::system_clock::now());
  if (!h.contains("state_updates_proposed")) h["state_updates_proposed"] = Json::array();
  for (const char* k : {"assumptions_made", "unknowns", "task_queue"}) {
    if (!h.contains(k)) h[k] = Json::array();
  }
  if (!h.contains("snapshot_id")) {
    const Json b = boot();
    if (b["snapshot"].is_null()) throw std::runtime_error("no snapshot to hand off from: the Arbiter has no canonical state");
    h["snapshot_id"] = b["snapshot"]["snapshot_id"];
  }
  if (auto e = bus::check_handoff(h)) throw std::invalid_argument("invalid handoff: " + *e);
  const std::string id = h["handoff_id"].get<std::string>();
  file_state_message(bus::MessageType::kHandoff, h, id);
  return id;
}

void Client::report_execution(const std::string& request_id, const Json& record) {
  if (!bus::is_uuid(request_id)) throw std::invalid_argument("request id must be a UUID");
  const Json* env = &record;
  for (const char* wrapper : {"execution_record", "record"}) {
    if (record.is_object() && record.contains(wrapper) && record[wrapper].is_object()) env = &record[wrapper];
  }
  if (!env->is_object() || env->value("type", std::string()) != "execution_record" || !env->contains("payload")) {
    throw std::invalid_argument("not a sandbox execution record");
  }
  if (submitter().write(bus::queue_name(request_id, bus::Kind::kExecution), bus::canonical_dump(*env) + "\n") !=
      bus::WriteOutcome::kCreated) {
    throw std::runtime_error("an execution record for this request was already filed");
  }
}

std::string Client::propose_state_patch(const std::string& base, const Json& patch, const std::string& rationale,
                                        const std::string& session_id) {
  const Json p = bus::make_proposal_payload(base, patch, rationale, session_id);
  if (auto e = bus::check_state_proposal(p)) throw std::invalid_argument("invalid proposal: " + *e);
  const std::string id = bus::uuid_v4();
  file_state_message(bus::MessageType::kStateProposal, p, id);
  return id;
}

}  // namespace nonaxis::op
