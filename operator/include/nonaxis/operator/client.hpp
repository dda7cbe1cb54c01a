#pragma once
// The Operator's client library: how an agent asks for permission. It files review
// requests (the only thing the Operator may write), reads decisions and tokens
// (read-only to it), and checks a token against the content before handing both to
// the sandbox, which alone can verify the token's HMAC.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/group_commit.hpp"
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
  bus::Json risk_score;  // null when not assessed
  bus::Json to_json() const;
};

class Client {
 public:
  Client(bus::Layout layout, bus::KeyRing operator_keys);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Session start, read from the Arbiter's state directory (read-only to the
  // Operator): {snapshot, ledger (last 30 + always_include), recent_events (last 20),
  // last_handoff}. Snapshots, handoffs and consistency checks arrive with the
  // session-state work; until then snapshot and last_handoff are null.
  bus::Json boot();

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
  std::optional<bus::Json> read_decision(const std::string& request_id, bool final);

  bus::Layout layout_;
  bus::KeyRing keys_;
  // Shared by every thread that submits through this client (group commit).
  std::once_flag submitter_once_;
  std::unique_ptr<bus::GroupCommitter> submitter_;
  // One decisions/ watch shared by every waiting thread (see decision_watch.hpp).
  std::once_flag watch_once_;
  std::unique_ptr<DecisionWatch> watch_;
};

}  // namespace nonaxis::op
