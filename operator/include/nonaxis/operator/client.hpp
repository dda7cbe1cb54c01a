#pragma once
// The Operator's client library: how an agent asks for permission. It files review
// requests (the only thing the Operator may write), reads decisions and tokens
// (read-only to it), and checks a token against the content before handing both to
// the sandbox, which alone can verify the token's HMAC.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/group_commit.hpp"
#include "nonaxis/bus/http_surface.hpp"
#include "nonaxis/bus/keys.hpp"
#include "nonaxis/bus/layout.hpp"
#include "nonaxis/bus/messages.hpp"

namespace nonaxis::op {

class DecisionWatch;

struct Action {
  std::string action_type;
  bus::ActionContent content;
  std::vector<std::string> outbound_hosts;
  std::string context;
};

// What the CLI prints: the governance answer for one request.
struct Result {
  std::string request_id;  // empty for tier 0 (nothing is filed)
  std::string decision;    // approve | reject | escalate | pending
  std::string decision_method;
  std::string reasoning;
  int risk_tier = 0;
  bus::Json policy_rules_applied = bus::Json::array();
  bus::Json token;  // null unless approved
  bus::Json findings = bus::Json::array();
  bus::Json risk_score;    // null when not assessed
  bus::Json state_change;  // null unless this answers a handoff or state proposal
  bus::Json to_json() const;
};

class Client {
 public:
  Client(bus::Layout layout, bus::KeyRing operator_keys);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Calls the Arbiter's State API at `endpoint` for boot (instead of reading the
  // read-only state/ directory) and sends handoffs and proposals through it.
  void use_state_api(bus::HttpEndpoint endpoint);

  // Session start: {snapshot, ledger (last 30 + always_include), recent_events (last
  // 20), last_handoff, consistency_checks, allowed_tiers}. From the State API when
  // configured, else from state/. When no trustworthy snapshot comes back (the Arbiter
  // is unreachable, or has no state), snapshot is null and, fail closed, this client
  // then allows tier 0 actions only, until a later boot succeeds. The answer is also
  // kept in the Operator's private directory (kTier0OnlyMarker), so every later
  // client, such as the next `nonaxis-operator submit` process, obeys it too.
  bus::Json boot();
  static constexpr const char* kTier0OnlyMarker = "session.tier0-only";

  // Session end: files a session-handoff.schema.json payload (handoff_id, timestamp
  // and snapshot_id are filled in when absent). Returns the handoff id; the Arbiter's
  // answer arrives like any decision (poll_decision / status).
  std::string submit_handoff(bus::Json handoff);
  // Relays the sandbox's signed execution record of request `request_id` to the
  // Arbiter (pending-review/<id>.execution.json), which records an EXECUTED event.
  // Accepts the bare envelope or the sandbox's {"execution_record": ...} /
  // --json {"record": ...} output. The Operator cannot forge one: it lacks the key.
  void report_execution(const std::string& request_id, const bus::Json& record);

  // Files an RFC 6902 patch against snapshot `base_snapshot_id`. Returns the proposal id.
  std::string propose_state_patch(const std::string& base_snapshot_id, const bus::Json& patch, const std::string& rationale,
                                  const std::string& session_id = {});

  // Tier 0 actions need no request: returns an approved Result without filing.
  // Tier 1 files an audit request and returns at once; tiers 2-3 file a review request.
  // Returns the Result so far (decision "pending" for filed tier 2-3 requests).
  Result submit_review(const Action& action);

  // Final decision, else the escalation notice, else nullopt after `timeout`.
  std::optional<bus::Json> poll_decision(const std::string& request_id, std::chrono::milliseconds timeout);

  // The execution token of an approved request, if one was issued.
  std::optional<bus::Json> get_token(const std::string& request_id);

  // Structure, expiry and content-hash check. The HMAC and the nonce are checked by
  // the sandbox at execution time; the Operator never holds the token key.
  bool apply_token(const bus::Json& token, const std::string& content, std::string* why = nullptr) const;

  // submit_review + poll_decision + get_token. Returns once decided or escalated,
  // or with decision "pending" when `timeout` passes first.
  Result submit_and_wait(const Action& action, std::chrono::milliseconds timeout);

  // Current answer for a filed request.
  Result status(const std::string& request_id);

 private:
  Result from_decision(const std::string& request_id, const bus::Json& decision);
  void file_state_message(bus::MessageType type, const bus::Json& payload, const std::string& id);
  void remember_boot_outcome();
  bus::GroupCommitter& submitter();
  std::optional<bus::Json> read_decision(const std::string& request_id, bool final);

  bus::Layout layout_;
  bus::KeyRing keys_;
  std::optional<bus::HttpEndpoint> api_;
  // Set by a boot that found no trustworthy state: only tier 0 may proceed.
  std::atomic<bool> tier0_only_{false};
  // Shared by every thread that submits through this client (group commit).
  std::once_flag submitter_once_;
  std::unique_ptr<bus::GroupCommitter> submitter_;
  // One decisions/ watch shared by every waiting thread (see decision_watch.hpp).
  std::once_flag watch_once_;
  std::unique_ptr<DecisionWatch> watch_;
};

}  // namespace nonaxis::op
