#pragma once
// The Arbiter daemon: notices requests, assessments and human verdicts, decides,
// enforces both escalation timeouts, and commits each wake-up's decisions as one
// group (see CommitLog).
#include <chrono>
#include <map>
#include <set>
#include <string>

#include "commit_log.hpp"
#include "decider.hpp"
#include "nonaxis/bus/inbox.hpp"
#include "nonaxis/bus/dir_watcher.hpp"
#include "nonaxis/bus/layout.hpp"

namespace nonaxis::arbiter {

struct ServiceConfig {
  std::chrono::seconds assessment_timeout{60};
  std::chrono::seconds human_timeout{1800};
  std::chrono::seconds rescan_interval{30};
  std::size_t max_batch = 512;
};

struct Keys {
  bus::KeyRing arbiter, ciso, operator_, token;
};

class Service {
 public:
  Service(const bus::Layout& layout, const Keys& keys, const Policy& policy, DeciderConfig dcfg, ServiceConfig scfg);
  // Runs until `stop` fires; returns the process exit code.
  int run(const bus::StopSignal& stop);

 private:
  void rescan();
  void on_request(const std::string& name);
  void on_assessment(const std::string& name);
  void on_verdict(const std::string& name);
  void check_timeouts();
  void flush();
  void load_decided();
  const nlohmann::json* request_for(const std::string& id);

  bus::Layout layout_;
  const Keys& keys_;
  Decider decider_;
  ServiceConfig cfg_;
  bus::DeadLetter dead_;
  bus::Inbox requests_;
  bus::Inbox assessments_;
  std::string verdicts_dir_;
  bus::UniqueFd verdicts_fd_;
  CommitLog log_;

  struct Pending {
    nlohmann::json request;
    std::chrono::system_clock::time_point since;
  };
  struct Escalated {
    Escalation esc;
    std::chrono::system_clock::time_point since;
  };
  std::set<std::string> final_;
  std::map<std::string, Escalated> escalated_;
  std::map<std::string, Pending> pending_;
  std::vector<Outcome> batch_;
  std::set<std::string> in_batch_;
  std::map<std::string, nlohmann::json> batch_assessments_;  // assessment payloads of the pending batch
};

}  // namespace nonaxis::arbiter
