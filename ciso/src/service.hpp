#pragma once
// The CISO daemon: assesses every request the Operator files, once. Its progress is
// the set of assessments it has written (deterministic names, NOREPLACE), so a
// restart resumes exactly where it stopped and never touches the Operator's files.
#include <chrono>
#include <set>
#include <string>

#include "nonaxis/bus/dead_letter.hpp"
#include "nonaxis/bus/dir_watcher.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/http_surface.hpp"
#include "nonaxis/bus/inbox.hpp"
#include "nonaxis/bus/keys.hpp"
#include "nonaxis/bus/layout.hpp"
#include "nonaxis/ciso/analyzer.hpp"

namespace nonaxis::ciso {

class Service {
 public:
  Service(const bus::Layout& layout, const bus::KeyRing& ciso_keys, const bus::KeyRing& operator_keys,
          const Analyzer& analyzer, std::chrono::seconds rescan_interval);
  // Runs until `stop` fires, then drains (see docs/CONFIGURATION.md). `surface` (may
  // be null) is told when draining starts; `heartbeat` beats every loop.
  int run(const bus::StopSignal& stop, bus::HttpSurface* surface = nullptr, bus::Heartbeat* heartbeat = nullptr,
          std::chrono::seconds drain_timeout = std::chrono::seconds(20));

 private:
  void consider(const std::string& name);
  void flush();
  void rescan();
  void update_queue_gauges();

  bus::Layout layout_;
  const bus::KeyRing& ciso_keys_;
  const Analyzer& analyzer_;
  std::chrono::seconds rescan_interval_;
  bus::DeadLetter dead_;
  bus::Inbox requests_;
  bus::UniqueFd out_dir_;
  std::set<std::string> done_;
  std::set<std::string> in_batch_;
  std::vector<std::pair<std::string, std::string>> batch_metrics_;  // (request type, recommendation) per batched item
  bus::BatchWriter batch_;
};

// Runs the analyzer on a verified request envelope; never throws.
nlohmann::json assess_request(const Analyzer& analyzer, const nlohmann::json& request, bool explain = false);

}  // namespace nonaxis::ciso
