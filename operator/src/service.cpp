#include "service.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/inbox.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/messages.hpp"
#include "nonaxis/bus/metrics.hpp"
#include "nonaxis/bus/queue_gauges.hpp"
#include "nonaxis/bus/queue_reader.hpp"

namespace nonaxis::op {

using bus::Json;
using bus::Metrics;

namespace {

const char* type_of(bus::Kind k) {
  switch (k) {
    case bus::Kind::kProposal:
      return "state_proposal";
    case bus::Kind::kHandoff:
      return "session_handoff";
    default:
      return "request";
  }
}

bool exists(int dirfd, const std::string& name) {
  struct stat st {};
  return ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

}  // namespace

std::optional<std::string> operator_readiness(const bus::Layout& layout, const bus::Heartbeat& hb) {
  if (::access(layout.pending_review().c_str(), W_OK | X_OK) != 0) return "cannot write " + layout.pending_review();
  for (const auto& d : {layout.decisions(), layout.tokens(), layout.state()}) {
    if (::access(d.c_str(), R_OK | X_OK) != 0) return "cannot read " + d + " (is the Arbiter running?)";
  }
  if (hb.stalled(std::chrono::seconds(10))) return std::string("the service loop has not run for 10 s");
  return std::nullopt;
}

Service::Service(bus::Layout layout) : layout_(std::move(layout)) {
  auto& m = Metrics::global();
  m.describe("nonaxis_requests_total", Metrics::Type::kCounter, "Answers to the Operator's messages seen, by message type and outcome");
  m.describe("nonaxis_queue_depth", Metrics::Type::kGauge, "The Operator's messages without a final answer");
  m.describe("nonaxis_queue_oldest_age_seconds", Metrics::Type::kGauge, "Age of the oldest message without a final answer");
}

void Service::count_decision(const std::string& name) {
  if (counted_.count(name) != 0 || name.size() < 41) return;
  const std::string id = name.substr(0, 36);
  bus::UniqueFd dir = bus::open_dir(layout_.decisions());
  const auto r = bus::read_queue_file(dir.get(), name, {bus::kMaxMessageBytes, bus::owner_of(dir.get())});
  if (!r.ok()) return;
  const Json d = Json::parse(r.data, nullptr, false);
  if (!d.is_object() || bus::check_decision(d)) return;
  bus::UniqueFd pending = bus::open_dir(layout_.pending_review());
  std::string type = "request";
  for (const bus::Kind k : {bus::Kind::kProposal, bus::Kind::kHandoff}) {
    if (exists(pending.get(), bus::queue_name(id, k))) type = type_of(k);
  }
  counted_.insert(name);
  Metrics::global().add("nonaxis_requests_total", {{"type", type}, {"outcome", d["payload"]["decision"].get<std::string>()}});
}

void Service::update_gauges() {
  bus::UniqueFd pending = bus::open_dir(layout_.pending_review());
  bus::UniqueFd decisions = bus::open_dir(layout_.decisions());
  bus::publish_queue_gauges(pending.get(), "pending-review", [&decisions](const std::string& n) {
    const auto qn = bus::parse_queue_name(n);
    return qn && !exists(decisions.get(), qn->id + ".json");
  });
}

int Service::run(const bus::StopSignal& stop, bus::HttpSurface* surface, bus::Heartbeat* heartbeat, std::chrono::seconds drain_timeout) {
  bus::DirWatcher watcher({layout_.decisions()});
  {
    bus::UniqueFd dir = bus::open_dir(layout_.decisions());
    for (const auto& n : bus::list_names(dir.get())) count_decision(n);
  }
  update_gauges();
  auto last = std::chrono::steady_clock::now();
  bus::log_info("operator_ready", {{"base", layout_.base}});
  for (;;) {
    if (heartbeat != nullptr) heartbeat->beat();
    const auto b = watcher.wait(std::chrono::milliseconds(1000), &stop);
    if (b.stop) break;
    for (const auto& [dir, name] : b.names) count_decision(name);
    if (std::chrono::steady_clock::now() - last >= std::chrono::seconds(5)) {
      update_gauges();
      last = std::chrono::steady_clock::now();
    }
  }
  // Nothing of the Operator's is in flight here: submissions are synchronous in the
  // processes that make them. Stop answering ready, then exit.
  if (surface != nullptr) surface->set_draining();
  bus::arm_drain_deadline(drain_timeout);
  bus::log_info("operator_stopped", {});
  return 0;
}

}  // namespace nonaxis::op
