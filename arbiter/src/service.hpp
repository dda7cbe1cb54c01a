#pragma once
// The Arbiter daemon: notices requests, assessments, state messages (proposals and
// handoffs, from pending-review/ or the State API's inbox) and human verdicts,
// decides, enforces both escalation timeouts, and commits each wake-up's decisions
// as one group (see CommitLog).
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "commit_log.hpp"
#include "decider.hpp"
#include "nonaxis/bus/dir_watcher.hpp"
#include "nonaxis/bus/http_surface.hpp"
#include "nonaxis/bus/inbox.hpp"
#include "nonaxis/bus/layout.hpp"
#include "state_keeper.hpp"

namespace nonaxis::arbiter {

struct ServiceConfig {
  std::chrono::seconds assessment_timeout{60};
  std::chrono::seconds human_timeout{1800};
  std::chrono::seconds rescan_interval{30};
  std::chrono::seconds drain_timeout{20};
  std::size_t max_batch = 512;
  std::string initial_state_path;  // ARBITER_INITIAL_STATE
};

struct Keys {
  bus::KeyRing arbiter, ciso, operator_, token;
  std::optional<bus::KeyRing> sandbox;  // verifies relayed execution records; optional
};

// Where the State API leaves accepted messages for the service loop (Arbiter-private).
std::string api_inbox_dir(const bus::Layout& layout);

class Service {
 public:
  Service(const bus::Layout& layout, const Keys& keys, const Policy& policy, DeciderConfig dcfg, ServiceConfig scfg);
  // Runs until `stop` fires, then drains; returns the process exit code. `surface`
  // (may be null) is told when draining starts; `heartbeat` beats every loop.
  int run(const bus::StopSignal& stop, bus::HttpSurface* surface, bus::Heartbeat* heartbeat);

 private:
  enum Dir : std::size_t { kPending = 0, kAssessments = 1, kVerdicts = 2, kApiInbox = 3 };
  void rescan();
  void on_queue_file(Dir dir, const std::string& name);
  void on_request(const std::string& id);
  void on_state_message(Dir dir, const bus::QueueName& qn);
  void on_assessment(const std::string& name);
  void on_verdict(const std::string& name);
  void on_rollback(const std::string& name);
  void on_execution(const std::string& request_id);
  void check_timeouts();
  void flush();
  void load_decided();
  void update_gauges();
  bool busy(const std::string& id) const;
  const nlohmann::json* request_for(const std::string& id);
  std::optional<nlohmann::json> find_state_message(const std::string& id);
  bus::Inbox& state_inbox(Dir dir, bus::Kind kind);

  bus::Layout layout_;
  const Keys& keys_;
  Decider decider_;
  ServiceConfig cfg_;
  bus::DeadLetter dead_;
  bus::Inbox requests_;
  bus::Inbox assessments_;
  bus::Inbox proposals_, handoffs_, api_proposals_, api_handoffs_;
  std::unique_ptr<bus::Inbox> executions_;  // null without the sandbox's key
  std::string verdicts_dir_;
  bus::UniqueFd verdicts_fd_;
  CommitLog log_;
  StateKeeper state_;

  struct Pending {
    nlohmann::json request;
    std::chrono::system_clock::time_point since;
  };
  struct Escalated {
    Escalation esc;
    std::chrono::system_clock::time_point since;
    nlohmann::json state_message;  // set for a state change; null for a request
  };
  std::set<std::string> final_;
  std::map<std::string, Escalated> escalated_;
  std::map<std::string, Pending> pending_;
  std::vector<Outcome> batch_;
  std::set<std::string> in_batch_;
  std::map<std::string, nlohmann::json> batch_assessments_;  // assessment payloads of the pending batch
  std::map<std::string, nlohmann::json> batch_state_messages_;  // state messages of the pending batch
  std::set<std::string> one_offs_seen_;  // rollback orders and execution records already handled
};

}  // namespace nonaxis::arbiter
