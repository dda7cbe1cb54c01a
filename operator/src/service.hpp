#pragma once
// `nonaxis-operator serve`: the Operator as a long-running service. Agents still use
// the client library or the CLI to file actions; the service gives the deployment the
// same operational surface as the other daemons (/livez, /readyz, /metrics): how many
// of the Operator's messages are waiting for an answer, how old the oldest is, and
// the answers by message type and outcome.
#include <chrono>
#include <set>
#include <string>

#include "nonaxis/bus/dir_watcher.hpp"
#include "nonaxis/bus/http_surface.hpp"
#include "nonaxis/bus/layout.hpp"

namespace nonaxis::op {

class Service {
 public:
  explicit Service(bus::Layout layout);
  int run(const bus::StopSignal& stop, bus::HttpSurface* surface, bus::Heartbeat* heartbeat, std::chrono::seconds drain_timeout);

 private:
  void count_decision(const std::string& name);
  void update_gauges();

  bus::Layout layout_;
  std::set<std::string> counted_;
};

// Ready when pending-review/ is writable and the Arbiter's directories are readable.
std::optional<std::string> operator_readiness(const bus::Layout& layout, const bus::Heartbeat& hb);

}  // namespace nonaxis::op
